//! Microsoft Entra ID's provisioning sequence against the app, through its axum
//! router: Test Connection, create with the Enterprise extension and a hire
//! date, Entra's PATCH deviations, filters, group membership, deactivation,
//! delete, and creates past the seat limit, also racing.

use axum::body::Body;
use axum::Router;
use http_body_util::BodyExt;
use scimitar_example_existing_app::db::{Db, Organization};
use scimitar_example_existing_app::router;
use serde_json::{json, Value};
use tower::ServiceExt;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

struct App {
    router: Router,
    db: Db,
    key: String,
    _dir: tempfile::TempDir,
}

fn app(seats: i64) -> App {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("app.db");
    let db = Db::open(path.to_str().expect("UTF-8 path")).expect("database");
    let acme = Organization {
        id: "acme".into(),
        name: "Acme".into(),
        seats: Some(seats),
    };
    db.add_organization(&acme).expect("organization");
    let key = db.issue_api_key("acme", "entra-id").expect("API key");
    App {
        router: router(db.clone()),
        db,
        key,
        _dir: dir,
    }
}

impl App {
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        send(&self.router, &self.key, method, path, body).await
    }
}

async fn send(
    router: &Router,
    key: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/scim+json")
        .body(body.map_or_else(Body::empty, |body| Body::from(body.to_string())))
        .expect("request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn entra_user(user_name: &str) -> Value {
    json!({
        "schemas": [USER, ENTERPRISE],
        "externalId": format!("ext-{user_name}"),
        "userName": user_name,
        "active": true,
        "displayName": "Barbara Jensen",
        "emails": [{"primary": true, "type": "work", "value": user_name}],
        "name": {"formatted": "Barbara Jensen", "familyName": "Jensen", "givenName": "Barbara"},
        ENTERPRISE: {"department": "Sales", "costCenter": "2027-01-04T09:00:00Z"}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_provisions_the_app() {
    let app = app(3);
    // Test Connection.
    let (status, list) = app
        .call(
            "GET",
            "/scim/v2/Users?filter=userName+eq+%22nobody%22",
            None,
        )
        .await;
    assert_eq!(
        (status, list["totalResults"].clone()),
        (200, json!(0)),
        "{list}"
    );

    let (status, boss) = app
        .call(
            "POST",
            "/scim/v2/Users",
            Some(entra_user("boss@acme.example")),
        )
        .await;
    assert_eq!(status, 201, "{boss}");
    let (status, bjensen) = app
        .call(
            "POST",
            "/scim/v2/Users",
            Some(entra_user("bjensen@acme.example")),
        )
        .await;
    assert_eq!(status, 201, "{bjensen}");
    let id = bjensen["id"].as_str().expect("id").to_owned();
    assert_eq!(bjensen[ENTERPRISE]["costCenter"], "2027-01-04T09:00:00Z");

    // The app sees the person in its own table, in its own columns.
    let (status, own) = send(&app.router, &app.key, "GET", "/api/people", None).await;
    assert_eq!(status, 200);
    assert_eq!(own["people"][1]["firstName"], "Barbara", "{own}");
    assert_eq!(own["people"][1]["department"], "Sales", "{own}");

    // Entra's PATCH: capitalised ops, "False" as a string, the manager as an id.
    let patch = json!({"schemas": [PATCH], "Operations": [
        {"op": "Replace", "path": "active", "value": "False"},
        {"op": "Add", "path": format!("{ENTERPRISE}:manager"), "value": boss["id"]},
        {"op": "Replace", "path": "name.givenName", "value": "Babs"}
    ]});
    let (status, patched) = app
        .call("PATCH", &format!("/scim/v2/Users/{id}"), Some(patch))
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["active"], false);
    assert_eq!(patched[ENTERPRISE]["manager"]["value"], boss["id"]);
    assert_eq!(patched["name"]["givenName"], "Babs");

    // userName ignores case.
    let (_, found) = app
        .call(
            "GET",
            "/scim/v2/Users?filter=userName+eq+%22BJENSEN@ACME.EXAMPLE%22",
            None,
        )
        .await;
    assert_eq!(found["totalResults"], 1, "{found}");
    assert_eq!(found["Resources"][0]["id"], id.as_str());

    // A group, and Entra's member PATCHes.
    let (status, team) = app
        .call(
            "POST",
            "/scim/v2/Groups",
            Some(json!({"schemas": [GROUP], "displayName": "Sales"})),
        )
        .await;
    assert_eq!(status, 201, "{team}");
    let team_url = format!("/scim/v2/Groups/{}", team["id"].as_str().expect("id"));
    let add = json!({"schemas": [PATCH], "Operations": [
        {"op": "Add", "path": "members", "value": [{"value": id}, {"value": boss["id"]}]}]});
    let (status, _) = app.call("PATCH", &team_url, Some(add)).await;
    assert!(status == 200 || status == 204, "{status}");
    let remove = json!({"schemas": [PATCH], "Operations": [
        {"op": "Remove", "path": format!("members[value eq \"{}\"]", boss["id"].as_str().expect("id"))}]});
    let (status, _) = app.call("PATCH", &team_url, Some(remove)).await;
    assert!(status == 200 || status == 204, "{status}");
    let (_, read) = app.call("GET", &team_url, None).await;
    assert_eq!(read["members"].as_array().map(Vec::len), Some(1), "{read}");
    assert_eq!(read["members"][0]["display"], "Barbara Jensen");

    // A third user takes the last seat; a fourth is refused with the app's reason.
    let (status, _) = app
        .call(
            "POST",
            "/scim/v2/Users",
            Some(entra_user("third@acme.example")),
        )
        .await;
    assert_eq!(status, 201);
    let (status, refused) = app
        .call(
            "POST",
            "/scim/v2/Users",
            Some(entra_user("fourth@acme.example")),
        )
        .await;
    assert_eq!(status, 403, "{refused}");
    assert!(
        refused["detail"]
            .as_str()
            .is_some_and(|d| d.contains("seats")),
        "{refused}"
    );

    // Delete: gone from the group too, and a seat is free again.
    let (status, _) = app
        .call("DELETE", &format!("/scim/v2/Users/{id}"), None)
        .await;
    assert_eq!(status, 204);
    let (_, read) = app.call("GET", &team_url, None).await;
    assert!(read.get("members").is_none(), "{read}");
    let (status, _) = app
        .call(
            "POST",
            "/scim/v2/Users",
            Some(entra_user("fourth@acme.example")),
        )
        .await;
    assert_eq!(status, 201);

    // Every change left an audit row, by the API key's label.
    let audit = app.db.audit("acme").expect("audit");
    let actions: Vec<&str> = audit.iter().map(|row| row.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "user.created",
            "user.created",
            "user.updated",
            "group.created",
            "group.updated",
            "group.updated",
            "user.created",
            "user.deleted",
            "user.created"
        ],
    );
    assert!(audit.iter().all(|row| row.actor == "entra-id"));

    // A revoked key is refused.
    app.db.revoke_api_key("acme", "entra-id").expect("revoke");
    let (status, _) = app.call("GET", "/scim/v2/Users", None).await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_creates_take_exactly_the_free_seats() {
    let app = app(5);
    let creates = (0..20).map(|n| {
        let (router, key) = (app.router.clone(), app.key.clone());
        tokio::spawn(async move {
            send(
                &router,
                &key,
                "POST",
                "/scim/v2/Users",
                Some(entra_user(&format!("u{n}@acme.example"))),
            )
            .await
            .0
        })
    });
    let statuses: Vec<u16> = futures_util::future::join_all(creates)
        .await
        .into_iter()
        .map(|joined| joined.expect("task"))
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 403).count(),
        15,
        "{statuses:?}"
    );
    let (_, list) = app.call("GET", "/scim/v2/Users", None).await;
    assert_eq!(list["totalResults"], 5);
}
