//! `/Me` (RFC 7644 §3.11) over real HTTP: an alias of `/Users/{id}` for tokens bound
//! to a user, 501 for every other credential.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{Reply, Server};
use actix_web::{test as actix_test, App};
use scimitar_server::{issue_token, issue_user_token, ScimService};
use scimitar_store::provisioning_log::{LogQuery, MemoryLog, ProvisioningLog};
use scimitar_store::{MemoryStore, TenantStore};
use serde_json::{json, Value};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A token of `tenant` bound to `user`, issued straight through the tenant store
/// (no existence check: that is the CLI's).
fn bound_token(server: &Server, tenant: &str, user: &str) -> String {
    let tenants = Arc::clone(server.service.tenants());
    actix_web::rt::System::new()
        .block_on(async move { issue_user_token(&*tenants, tenant, "me", user).await })
        .unwrap()
        .token
}

/// A request with `token` to `path` under `/scim/v2`.
fn send(server: &Server, token: &str, method: &str, path: &str, body: Option<Value>) -> Reply {
    server
        .request(method, &format!("{}{path}", server.base()))
        .bearer(token)
        .send(body)
}

fn user_url(server: &Server, id: &str) -> String {
    format!("{}/Users/{id}", server.base())
}

fn rename(display_name: &str) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "path": "displayName", "value": display_name}]})
}

#[test]
fn unbound_tokens_get_501_on_every_method() {
    let server = Server::start();
    for method in ["GET", "PUT", "PATCH", "DELETE", "POST"] {
        let body = (method != "GET" && method != "DELETE").then(|| json!({"schemas": [USER]}));
        let reply = send(&server, &server.token, method, "/Me", body);
        reply.assert_error(501, None);
        assert!(
            reply.body["detail"]
                .as_str()
                .is_some_and(|detail| detail.contains("not bound to a user")),
            "{method}: {}",
            reply.text
        );
        assert_eq!(reply.header("location"), None, "{method}");
    }
    // Authentication comes first.
    server
        .request("GET", &format!("{}/Me", server.base()))
        .send(None)
        .assert_error(401, None);
}

#[test]
fn get_me_is_get_users_id_with_its_location() {
    let server = Server::start();
    let created = server.post(
        "/Users",
        json!({"schemas": [USER], "userName": "bjensen", "displayName": "Babs",
               "name": {"givenName": "Barbara", "familyName": "Jensen"}}),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["id"].as_str().unwrap();
    let token = bound_token(&server, "acme", id);

    let me = send(&server, &token, "GET", "/Me", None);
    assert_eq!(me.status, 200, "{}", me.text);
    let direct = server.get(&format!("/Users/{id}"));
    assert_eq!(me.body, direct.body, "/Me is the user's resource");
    assert_eq!(me.body["meta"]["location"], user_url(&server, id));
    assert_eq!(me.header("location"), Some(user_url(&server, id).as_str()));
    assert_eq!(
        me.header("etag"),
        me.body["meta"]["version"].as_str(),
        "{}",
        me.text
    );

    // Projections, as on /Users/{id}.
    let only = send(&server, &token, "GET", "/Me?attributes=userName", None);
    assert_eq!(only.status, 200, "{}", only.text);
    assert_eq!(only.body["userName"], "bjensen");
    assert_eq!(only.body["id"], id);
    assert!(only.body.get("displayName").is_none(), "{}", only.text);
    assert_eq!(
        only.body,
        server.get(&format!("/Users/{id}?attributes=userName")).body
    );
    let without = send(&server, &token, "GET", "/Me?excludedAttributes=name", None);
    assert_eq!(without.status, 200, "{}", without.text);
    assert!(without.body.get("name").is_none(), "{}", without.text);
    assert_eq!(without.body["displayName"], "Babs");
    send(&server, &token, "GET", "/Me?attributes=name..x", None).assert_error(400, None);

    // If-None-Match, as on /Users/{id}.
    let version = me.body["meta"]["version"].as_str().unwrap();
    let unchanged = server
        .request("GET", &format!("{}/Me", server.base()))
        .bearer(&token)
        .header("If-None-Match", version)
        .send(None);
    assert_eq!(unchanged.status, 304, "{}", unchanged.text);
    assert_eq!(
        unchanged.header("location"),
        Some(user_url(&server, id).as_str())
    );

    // The token still provisions like any other.
    assert_eq!(send(&server, &token, "GET", "/Users", None).status, 200);
    // Nothing lives below /Me.
    send(&server, &token, "GET", "/Me/groups", None).assert_error(404, None);
}

#[test]
fn put_and_patch_me_change_the_user_with_preconditions() {
    let server = Server::start();
    let user = server.create_user("alice");
    let id = user["id"].as_str().unwrap();
    let version = user["meta"]["version"].as_str().unwrap().to_owned();
    let token = bound_token(&server, "acme", id);

    // PATCH with a stale If-Match: 412, nothing changed.
    let patched = send(&server, &token, "PATCH", "/Me", Some(rename("First")));
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.body["displayName"], "First");
    assert_eq!(patched.body["meta"]["location"], user_url(&server, id));
    assert_eq!(
        patched.header("location"),
        Some(user_url(&server, id).as_str())
    );
    let stale = server
        .request("PATCH", &format!("{}/Me", server.base()))
        .bearer(&token)
        .header("If-Match", &version)
        .send(Some(rename("Stale")));
    stale.assert_error(412, None);
    assert_eq!(
        stale.header("location"),
        Some(user_url(&server, id).as_str())
    );
    assert_eq!(
        server.get(&format!("/Users/{id}")).body["displayName"],
        "First"
    );
    let current = patched.body["meta"]["version"].as_str().unwrap();
    let fresh = server
        .request(
            "PATCH",
            &format!("{}/Me?attributes=displayName", server.base()),
        )
        .bearer(&token)
        .header("If-Match", current)
        .send(Some(rename("Second")));
    assert_eq!(fresh.status, 200, "{}", fresh.text);
    assert_eq!(fresh.body["displayName"], "Second");
    assert!(fresh.body.get("userName").is_none(), "{}", fresh.text);

    // PUT replaces, as on /Users/{id}.
    let replaced = send(
        &server,
        &token,
        "PUT",
        "/Me",
        Some(json!({"schemas": [USER], "userName": "alice", "title": "Engineer"})),
    );
    assert_eq!(replaced.status, 200, "{}", replaced.text);
    assert_eq!(replaced.body["id"], id);
    assert_eq!(replaced.body["title"], "Engineer");
    assert!(
        replaced.body.get("displayName").is_none(),
        "{}",
        replaced.text
    );
    assert_eq!(
        server.get(&format!("/Users/{id}")).body["title"],
        "Engineer"
    );
    // Bad bodies are the same errors too.
    send(
        &server,
        &token,
        "PATCH",
        "/Me",
        Some(json!({"schemas": [PATCH_OP], "Operations": []})),
    )
    .assert_error(400, Some("invalidValue"));
}

#[test]
fn post_me_is_501_and_a_deleted_user_is_404() {
    let server = Server::start();
    let user = server.create_user("carol");
    let id = user["id"].as_str().unwrap();
    let token = bound_token(&server, "acme", id);

    let post = send(
        &server,
        &token,
        "POST",
        "/Me",
        Some(json!({"schemas": [USER]})),
    );
    post.assert_error(501, None);
    assert!(
        post.body["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("POST /Me")),
        "{}",
        post.text
    );

    let deleted = send(&server, &token, "DELETE", "/Me", None);
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    assert_eq!(
        deleted.header("location"),
        Some(user_url(&server, id).as_str())
    );
    server.get(&format!("/Users/{id}")).assert_error(404, None);
    for method in ["GET", "PATCH", "DELETE"] {
        let body = (method == "PATCH").then(|| rename("Ghost"));
        let gone = send(&server, &token, method, "/Me", body);
        gone.assert_error(404, None);
        assert!(
            gone.body["detail"]
                .as_str()
                .is_some_and(|detail| detail.contains("bound to")),
            "{method}: {}",
            gone.text
        );
    }
}

#[test]
fn a_binding_never_reaches_another_tenants_user() {
    let server = Server::start();
    let user = server.create_user("dave");
    let id = user["id"].as_str().unwrap();
    // A token of tenant `other` bound (wrongly) to an id of tenant `acme`.
    let token = bound_token(&server, "other", id);
    send(&server, &token, "GET", "/Me", None).assert_error(404, None);
    send(&server, &token, "PATCH", "/Me", Some(rename("Mallory"))).assert_error(404, None);
    send(&server, &token, "DELETE", "/Me", None).assert_error(404, None);
    let still = server.get(&format!("/Users/{id}"));
    assert_eq!(still.status, 200, "{}", still.text);
    assert!(still.body.get("displayName").is_none(), "{}", still.text);

    // On its tenant URL, a bound token reaches its user with that URL's location.
    let mine = server.create_user("erin");
    let mine_id = mine["id"].as_str().unwrap();
    let token = bound_token(&server, "acme", mine_id);
    let url = format!("{}/tenants/acme/scim/v2/Me", server.origin);
    let reply = server.request("GET", &url).bearer(&token).send(None);
    assert_eq!(reply.status, 200, "{}", reply.text);
    let location = format!("{}/tenants/acme/scim/v2/Users/{mine_id}", server.origin);
    assert_eq!(reply.body["meta"]["location"], location);
    assert_eq!(reply.header("location"), Some(location.as_str()));
}

#[test]
fn jwts_are_never_bound() {
    use jsonwebtoken::{encode, EncodingKey, Header};

    let server = Server::start();
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600;
    // Even a JWT whose subject names a user does not make /Me that user.
    let jwt = encode(
        &Header::default(),
        &json!({"iss": "test-idp", "aud": "scimitar", "exp": exp, "sub": "someone"}),
        &EncodingKey::from_secret(crate::common::JWT_SECRET.as_bytes()),
    )
    .unwrap();
    let url = format!("{}/tenants/jwt-co/scim/v2/Me", server.origin);
    server
        .request("GET", &url)
        .bearer(&jwt)
        .send(None)
        .assert_error(501, None);
}

#[actix_web::test]
async fn the_provisioning_log_names_the_users_resource() {
    let store = MemoryStore::new();
    store
        .create_tenant("acme", "Acme", json!({}))
        .await
        .unwrap();
    let admin = issue_token(&store, "acme", "entra").await.unwrap().token;
    let log = Arc::new(MemoryLog::default());
    let service = ScimService::new(store).provisioning_log(Arc::clone(&log));
    let app = actix_test::init_service(App::new().service(service.scope("/scim/v2"))).await;

    let create = actix_test::TestRequest::post()
        .uri("/scim/v2/Users")
        .insert_header(("Authorization", format!("Bearer {admin}")))
        .insert_header(("Content-Type", "application/scim+json"))
        .set_payload(json!({"schemas": [USER], "userName": "frank"}).to_string())
        .to_request();
    let created: Value = actix_test::call_and_read_body_json(&app, create).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let token = issue_user_token(&**service.tenants(), "acme", "frank's app", &id)
        .await
        .unwrap()
        .token;
    let patch = actix_test::TestRequest::patch()
        .uri("/scim/v2/Me")
        .insert_header(("Authorization", format!("Bearer {token}")))
        .insert_header(("Content-Type", "application/scim+json"))
        .set_payload(rename("Frank").to_string())
        .to_request();
    let response = actix_test::call_service(&app, patch).await;
    assert_eq!(response.status(), 200);

    // The log is written after the response, in the background.
    let deadline = Instant::now() + Duration::from_secs(10);
    let entry = loop {
        let entries = log.recent("acme", &LogQuery::default()).await.unwrap();
        if let Some(entry) = entries.into_iter().find(|e| e.method == "PATCH") {
            break entry;
        }
        assert!(Instant::now() < deadline, "no log entry for PATCH /Me");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(entry.resource_type.as_deref(), Some("Users"));
    assert_eq!(entry.resource_id.as_deref(), Some(id.as_str()));
    assert_eq!(entry.operation, "patch replace:displayName");
    assert_eq!(entry.token_label.as_deref(), Some("frank's app"));
}
