//! Drives the app over HTTP as an identity provider and a user of the app would.

use actix_web::dev::{Service, ServiceResponse};
use actix_web::{test, App};
use scimitar_example_embedded::tables::{AppointmentStatus, Delivery, Message};
use scimitar_example_embedded::{EmbeddedApp, ENTERPRISE_USER};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).expect("a UTC time formats")
}

/// A user as Entra ID creates it, starting work at `hire_date`.
fn new_hire(user_name: &str, hire_date: OffsetDateTime) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE_USER],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7a3c1b2d9e10",
        "userName": user_name,
        "active": true,
        "displayName": "Adele Vance",
        "emails": [{"primary": true, "type": "work", "value": user_name}],
        "name": {"givenName": "Adele", "familyName": "Vance"},
        ENTERPRISE_USER: {"department": "Sales", "costCenter": rfc3339(hire_date)}
    })
}

/// Sends a request (`TestRequest::to_request()`); returns the status and the JSON body.
async fn call<S, R>(service: &S, request: R) -> (u16, Value)
where
    S: Service<R, Response = ServiceResponse, Error = actix_web::Error>,
{
    let response = test::call_service(service, request).await;
    let status = response.status().as_u16();
    let body = test::read_body(response).await;
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (status, json)
}

fn scim(request: test::TestRequest, token: &str) -> test::TestRequest {
    request
        .insert_header(("Authorization", format!("Bearer {token}")))
        .insert_header(("Content-Type", "application/scim+json"))
}

#[actix_web::test]
async fn a_leaver_s_appointments_are_cancelled_and_a_new_hire_is_not_welcomed_early() {
    let (app, token) = EmbeddedApp::new().await.expect("the app starts");
    let service = test::init_service(App::new().configure(|config| app.configure(config))).await;
    let now = OffsetDateTime::now_utc();
    let hire_date = now + Duration::days(30);

    // Entra ID creates Adele ahead of her first day.
    let create = scim(test::TestRequest::post().uri("/scim/v2/Users"), &token)
        .set_payload(new_hire("adele.vance@contoso.com", hire_date).to_string());
    let (status, adele) = call(&service, create.to_request()).await;
    assert_eq!(status, 201, "{adele}");
    let adele_id = adele["id"].as_str().expect("an id").to_owned();
    app.sync().await.expect("events apply");

    // The welcome is scheduled for the hire date, and nothing goes out before it.
    let welcome = app.tables().notifications();
    assert!(
        matches!(welcome.as_slice(), [n] if matches!(n.message, Message::Welcome { .. })
            && n.send_at == hire_date
            && n.state == Delivery::Pending),
        "{welcome:?}"
    );
    assert!(app.tables().send_due(now).is_empty());
    assert!(app
        .tables()
        .send_due(hire_date - Duration::seconds(1))
        .is_empty());

    // She books a meeting with a guest from outside.
    let starts_at = now + Duration::days(7);
    let booking = test::TestRequest::post()
        .uri("/appointments")
        .set_json(json!({
            "host": adele_id,
            "guests": ["guest@fabrikam.com"],
            "startsAt": rfc3339(starts_at),
        }));
    let (status, appointment) = call(&service, booking.to_request()).await;
    assert_eq!(status, 201, "{appointment}");
    let appointment_id = appointment["id"].as_u64().expect("an id");

    // The offer falls through: Entra ID deletes her.
    let delete = scim(
        test::TestRequest::delete().uri(&format!("/scim/v2/Users/{adele_id}")),
        &token,
    );
    let (status, _) = call(&service, delete.to_request()).await;
    assert_eq!(status, 204);
    app.sync().await.expect("events apply");

    let appointment = app.tables().appointment(appointment_id).expect("kept");
    assert!(matches!(
        appointment.status,
        AppointmentStatus::Cancelled(_)
    ));
    let (status, shown) = call(
        &service,
        test::TestRequest::get()
            .uri(&format!("/appointments/{appointment_id}"))
            .to_request(),
    )
    .await;
    assert_eq!(
        (status, &shown["status"]["state"]),
        (200, &json!("cancelled"))
    );

    // The guest is told at once; the welcome never goes out, even after the hire date.
    let sent = app.tables().send_due(hire_date + Duration::days(1));
    let recipients: Vec<&str> = sent.iter().map(|n| n.to.as_str()).collect();
    assert_eq!(recipients, ["guest@fabrikam.com"]);
    assert!(matches!(
        &sent[0].message,
        Message::AppointmentCancelled { appointment, .. } if *appointment == appointment_id
    ));
    assert!(app.tables().account(&adele_id).is_none());
}
