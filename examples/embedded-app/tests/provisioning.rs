//! Drives the app over HTTP as an identity provider and a user of the app would.

use std::time::{Duration as StdDuration, Instant};

use actix_web::dev::{Service, ServiceResponse};
use actix_web::{test, App};
use scimitar_example_embedded::tables::{AppointmentStatus, Delivery, Message};
use scimitar_example_embedded::{EmbeddedApp, ENTERPRISE_USER};
use scimitar_store::hooks::{DispatchOptions, RunningDispatcher};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// Starts the app's hook, polling the outbox often so that tests wait little.
fn start_sync(app: &EmbeddedApp) -> RunningDispatcher {
    let options = DispatchOptions {
        poll_interval: StdDuration::from_millis(5),
        ..DispatchOptions::default()
    };
    app.dispatcher().options(options).spawn()
}

/// Waits until the hook has handled every event so far.
async fn caught_up(app: &EmbeddedApp) {
    // A generous bound, so that a hook that never catches up fails the test
    // rather than hanging it; a slow machine only waits longer.
    let deadline = Instant::now() + StdDuration::from_secs(60);
    while !app.caught_up().await.expect("the outbox reads") {
        assert!(Instant::now() < deadline, "the hook did not catch up");
        actix_web::rt::time::sleep(StdDuration::from_millis(5)).await;
    }
}

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
    let sync = start_sync(&app);
    let now = OffsetDateTime::now_utc();
    let hire_date = now + Duration::days(30);

    // Entra ID creates Adele ahead of her first day.
    let create = scim(test::TestRequest::post().uri("/scim/v2/Users"), &token)
        .set_payload(new_hire("adele.vance@contoso.com", hire_date).to_string());
    let (status, adele) = call(&service, create.to_request()).await;
    assert_eq!(status, 201, "{adele}");
    let adele_id = adele["id"].as_str().expect("an id").to_owned();
    caught_up(&app).await;

    // The welcome is scheduled for the hire date, and nothing goes out before it.
    let welcome = app.tables().notifications();
    assert!(
        matches!(welcome.as_slice(), [n] if matches!(n.message, Message::Welcome { .. })
            && n.send_at == hire_date
            && n.delivery == Delivery::Pending),
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
    caught_up(&app).await;

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
    sync.stop().await;
}

#[actix_web::test]
async fn entra_s_deactivation_cancels_appointments_and_keeps_the_account() {
    let (app, token) = EmbeddedApp::new().await.expect("the app starts");
    let service = test::init_service(App::new().configure(|config| app.configure(config))).await;
    let sync = start_sync(&app);
    let now = OffsetDateTime::now_utc();

    let create = scim(test::TestRequest::post().uri("/scim/v2/Users"), &token)
        .set_payload(new_hire("megan.bowen@contoso.com", now - Duration::days(400)).to_string());
    let (status, megan) = call(&service, create.to_request()).await;
    assert_eq!(status, 201, "{megan}");
    let megan_id = megan["id"].as_str().expect("an id").to_owned();
    caught_up(&app).await;
    let book = |starts_at| {
        test::TestRequest::post()
            .uri("/appointments")
            .set_json(
                json!({"host": megan_id, "guests": ["a@fabrikam.com", "b@fabrikam.com"],
                             "startsAt": rfc3339(starts_at)}),
            )
            .to_request()
    };
    let (status, appointment) = call(&service, book(now + Duration::days(2))).await;
    assert_eq!(status, 201, "{appointment}");

    // Entra ID disables the account: capitalised op, boolean as a string.
    let disable = scim(
        test::TestRequest::patch().uri(&format!("/scim/v2/Users/{megan_id}")),
        &token,
    )
    .set_payload(
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Replace", "path": "active", "value": "False"}]
        })
        .to_string(),
    );
    let (status, body) = call(&service, disable.to_request()).await;
    assert_eq!((status, &body["active"]), (200, &json!(false)));
    caught_up(&app).await;

    let id = appointment["id"].as_u64().expect("an id");
    let cancelled = app.tables().appointment(id).map(|a| a.status);
    assert!(matches!(cancelled, Some(AppointmentStatus::Cancelled(_))));
    let account = app.tables().account(&megan_id).expect("kept");
    assert!(!account.active);
    // Both guests are told (and her unsent welcome is withdrawn).
    let told: Vec<String> = app
        .tables()
        .notifications()
        .into_iter()
        .filter(|n| matches!(n.message, Message::AppointmentCancelled { .. }))
        .map(|n| n.to)
        .collect();
    assert_eq!(told, ["a@fabrikam.com", "b@fabrikam.com"]);
    // A deactivated host cannot book.
    let (status, _) = call(&service, book(now + Duration::days(3))).await;
    assert_eq!(status, 409);
    sync.stop().await;
}

#[actix_web::test]
async fn a_new_hire_is_welcomed_on_the_hire_date_and_the_date_must_be_one() {
    let (app, token) = EmbeddedApp::new().await.expect("the app starts");
    let service = test::init_service(App::new().configure(|config| app.configure(config))).await;
    let sync = start_sync(&app);
    let hire_date = OffsetDateTime::now_utc() + Duration::days(10);

    let create = scim(test::TestRequest::post().uri("/scim/v2/Users"), &token)
        .set_payload(new_hire("alex.wilber@contoso.com", hire_date).to_string());
    let (status, alex) = call(&service, create.to_request()).await;
    assert_eq!(status, 201, "{alex}");
    caught_up(&app).await;
    assert!(app
        .tables()
        .send_due(hire_date - Duration::seconds(1))
        .is_empty());
    let sent = app.tables().send_due(hire_date);
    assert!(
        matches!(sent.as_slice(), [n] if n.to == "alex.wilber@contoso.com"
            && matches!(n.message, Message::Welcome { .. })),
        "{sent:?}"
    );

    // costCenter is a dateTime here: a cost-center code is refused.
    let mut wrong = new_hire("lee.gu@contoso.com", hire_date);
    wrong[ENTERPRISE_USER]["costCenter"] = json!("CC-4100");
    let create = scim(test::TestRequest::post().uri("/scim/v2/Users"), &token)
        .set_payload(wrong.to_string());
    let (status, error) = call(&service, create.to_request()).await;
    assert_eq!(
        (status, &error["scimType"]),
        (400, &json!("invalidValue")),
        "{error}"
    );
    sync.stop().await;
}
