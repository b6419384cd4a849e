//! The admin API, `/admin/v1`: every route, with good and bad input, over the
//! memory store, SQLite and PostgreSQL (`SCIMITAR_TEST_POSTGRES_URL`). Each
//! refusal is checked for its status and for leaving everything as it was.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{init_service, TestRequest};
use actix_web::App;
use scimitar_diesel::DieselStore;
use scimitar_server::admin::{issue_admin_token, AdminApi, AdminScope};
use scimitar_server::ScimService;
use scimitar_store::hooks::OutboxStore;
use scimitar_store::provisioning_log::ProvisioningLog;
use scimitar_store::state::StateStore;
use scimitar_store::{DirectoryStore, MemoryStore, TenantStore};
use serde_json::{json, Value};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

struct Reply {
    status: u16,
    content_type: String,
    body: Value,
}

async fn call<S, B>(app: &S, request: actix_http::Request) -> Reply
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let response = app.call(request).await.unwrap_or_else(|e| panic!("{e}"));
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = actix_web::body::to_bytes(response.into_body())
        .await
        .unwrap_or_default();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        content_type,
        body,
    }
}

fn request(method: &str, uri: &str, token: &str, body: Option<Value>) -> actix_http::Request {
    let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap_or_default();
    let mut request = TestRequest::default().method(method).uri(uri);
    if !token.is_empty() {
        request = request.insert_header(("Authorization", format!("Bearer {token}")));
    }
    match body {
        Some(body) => request.set_json(body).to_request(),
        None => request.to_request(),
    }
}

/// Checks a refusal: its status, and that it is a problem document.
fn refused(reply: &Reply, status: u16) -> &Value {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(
        reply.content_type, "application/problem+json",
        "{}",
        reply.body
    );
    assert_eq!(reply.body["status"], status, "{}", reply.body);
    assert!(reply.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    &reply.body
}

fn ok(reply: &Reply, status: u16) -> &Value {
    assert_eq!(reply.status, status, "{}", reply.body);
    &reply.body
}

async fn drive<S>(store: S)
where
    S: DirectoryStore + OutboxStore + TenantStore + ProvisioningLog + StateStore + 'static,
{
    let admin = issue_admin_token(&store, "ops", AdminScope::Admin)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .token;
    let reader = issue_admin_token(&store, "dashboard", AdminScope::ReadOnly)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (reader, reader_id) = (reader.token, reader.record.id);
    let service = ScimService::new(store);
    let log = Arc::clone(service.store());
    let service = service.provisioning_log(Arc::clone(&log));
    let api = AdminApi::new(service.clone(), Arc::clone(&log));
    let app = init_service(
        App::new()
            .service(api.scope("/admin/v1"))
            .service(service.tenant_scope("/tenants/{tenant}/scim/v2")),
    )
    .await;
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let acme = format!("acme-{}", &suffix[..12]);
    let other = format!("other-{}", &suffix[..12]);
    let base = "/admin/v1";
    let tenant_uri = format!("{base}/tenants/{acme}");

    // Nothing without an admin token; SCIM tokens and forgeries are strangers.
    for token in ["", "scimadm_0011223344556677_00", "scim_x", "not a token"] {
        let reply = call(
            &app,
            request("GET", &format!("{base}/tenants"), token, None),
        )
        .await;
        refused(&reply, 401);
    }
    let reply = call(
        &app,
        request(
            "POST",
            &format!("{base}/tenants"),
            "",
            Some(json!({"id": acme})),
        ),
    )
    .await;
    refused(&reply, 401);

    // The OpenAPI document names every route, and needs no token.
    let document = call(
        &app,
        request("GET", &format!("{base}/openapi.json"), "", None),
    )
    .await;
    let document = ok(&document, 200);
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().cloned().unwrap_or_default();
    for path in [
        "/tenants",
        "/tenants/{tenant}",
        "/tenants/{tenant}/tokens",
        "/tenants/{tenant}/tokens/{token}",
        "/tenants/{tenant}/settings",
        "/tenants/{tenant}/webhooks",
        "/tenants/{tenant}/webhooks/{webhook}",
        "/tenants/{tenant}/webhooks/{webhook}/rotate-secret",
        "/tenants/{tenant}/webhooks/{webhook}/health",
        "/tenants/{tenant}/webhooks/{webhook}/test",
        "/tenants/{tenant}/webhooks/{webhook}/dead-letters",
        "/tenants/{tenant}/webhooks/{webhook}/dead-letters/{seq}",
        "/tenants/{tenant}/webhooks/{webhook}/dead-letters/{seq}/retry",
        "/tenants/{tenant}/log",
        "/tenants/{tenant}/log/stream",
        "/tenants/{tenant}/users",
        "/tenants/{tenant}/users/{id}",
        "/tenants/{tenant}/groups",
        "/tenants/{tenant}/groups/{id}",
        "/admin-tokens",
        "/admin-tokens/{token}",
        "/presets",
        "/whoami",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }

    let whoami = call(
        &app,
        request("GET", &format!("{base}/whoami"), &reader, None),
    )
    .await;
    assert_eq!(ok(&whoami, 200)["scope"], "read-only");

    // Tenants: bad ids and unknown fields are 400 naming the field; a read-only
    // token cannot create; a taken id is 409.
    let tenants = format!("{base}/tenants");
    let bad_id = call(
        &app,
        request("POST", &tenants, &admin, Some(json!({"id": "Acme Corp"}))),
    )
    .await;
    assert_eq!(refused(&bad_id, 400)["errors"][0]["field"], "id");
    let unknown = call(
        &app,
        request(
            "POST",
            &tenants,
            &admin,
            Some(json!({"id": acme, "colour": "red"})),
        ),
    )
    .await;
    assert_eq!(refused(&unknown, 400)["errors"][0]["field"], "colour");
    let read_only = call(
        &app,
        request("POST", &tenants, &reader, Some(json!({"id": acme}))),
    )
    .await;
    refused(&read_only, 403);
    let missing = call(&app, request("GET", &tenant_uri, &admin, None)).await;
    refused(&missing, 404);
    let created = call(
        &app,
        request(
            "POST",
            &tenants,
            &admin,
            Some(json!({"id": acme, "displayName": "Acme"})),
        ),
    )
    .await;
    let created = ok(&created, 201);
    assert_eq!(
        created["scimUrl"],
        format!("http://localhost:8080/tenants/{acme}/scim/v2")
    );
    assert_eq!(created["enabled"], true);
    let again = call(
        &app,
        request("POST", &tenants, &admin, Some(json!({"id": acme}))),
    )
    .await;
    refused(&again, 409);
    let second = call(
        &app,
        request("POST", &tenants, &admin, Some(json!({"id": other}))),
    )
    .await;
    ok(&second, 201);

    // Paging by cursor reaches every tenant once, ours included.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = call(
            &app,
            request(
                "GET",
                &format!("{tenants}?limit=1&cursor={cursor}"),
                &reader,
                None,
            ),
        )
        .await;
        let page = ok(&page, 200).clone();
        let ids: Vec<String> = page["tenants"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|t| t["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        assert!(ids.len() <= 1);
        seen.extend(ids);
        match page["nextCursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert!(seen.windows(2).all(|pair| pair[0] < pair[1]), "{seen:?}");
    assert!(seen.contains(&acme) && seen.contains(&other), "{seen:?}");

    // Rename, disable; bad changes change nothing.
    let empty_name = call(
        &app,
        request(
            "PATCH",
            &tenant_uri,
            &admin,
            Some(json!({"displayName": " "})),
        ),
    )
    .await;
    assert_eq!(
        refused(&empty_name, 400)["errors"][0]["field"],
        "displayName"
    );
    let ghost = call(
        &app,
        request(
            "PATCH",
            &format!("{tenants}/ghost-{suffix}"),
            &admin,
            Some(json!({"enabled": false})),
        ),
    )
    .await;
    refused(&ghost, 404);
    let renamed = call(
        &app,
        request(
            "PATCH",
            &tenant_uri,
            &admin,
            Some(json!({"displayName": "Acme Europe", "enabled": false})),
        ),
    )
    .await;
    let renamed = ok(&renamed, 200);
    assert_eq!(
        (
            renamed["displayName"].as_str(),
            renamed["enabled"].as_bool()
        ),
        (Some("Acme Europe"), Some(false))
    );

    // SCIM tokens: issued once, listed without their secret, tenant-bound.
    let tokens = format!("{tenant_uri}/tokens");
    let no_label = call(
        &app,
        request("POST", &tokens, &admin, Some(json!({"label": ""}))),
    )
    .await;
    assert_eq!(refused(&no_label, 400)["errors"][0]["field"], "label");
    let by_reader = call(
        &app,
        request("POST", &tokens, &reader, Some(json!({"label": "entra"}))),
    )
    .await;
    refused(&by_reader, 403);
    let issued = call(
        &app,
        request("POST", &tokens, &admin, Some(json!({"label": "entra"}))),
    )
    .await;
    let issued = ok(&issued, 201).clone();
    let scim_token = issued["token"].as_str().unwrap_or_default().to_owned();
    let token_id = issued["record"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(scim_token.starts_with("scim_"), "{issued}");
    // An expiring token says when; an expiry out of bounds is refused.
    for days in [0, 3651] {
        let refused_days = call(
            &app,
            request(
                "POST",
                &tokens,
                &admin,
                Some(json!({"label": "x", "expiresInDays": days})),
            ),
        )
        .await;
        assert_eq!(
            refused(&refused_days, 400)["errors"][0]["field"],
            "expiresInDays"
        );
    }
    let expiring = call(
        &app,
        request(
            "POST",
            &tokens,
            &admin,
            Some(json!({"label": "quarterly", "expiresInDays": 90})),
        ),
    )
    .await;
    let expiring = ok(&expiring, 201).clone();
    assert!(expiring["record"]["expiresAt"].is_string(), "{expiring}");
    assert!(issued["record"]["expiresAt"].is_null(), "{issued}");
    let expiring_id = expiring["record"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    ok(
        &call(
            &app,
            request("DELETE", &format!("{tokens}/{expiring_id}"), &admin, None),
        )
        .await,
        204,
    );
    let listed = call(&app, request("GET", &tokens, &reader, None)).await;
    let listed = ok(&listed, 200);
    assert_eq!(listed[0]["id"], token_id.as_str());
    assert_eq!(listed[0]["label"], "entra");
    assert!(!listed.to_string().contains(&scim_token[20..]), "no secret");
    let scim = |method: &str, path: &str, body: Option<Value>| {
        request(
            method,
            &format!("/tenants/{acme}/scim/v2{path}"),
            &scim_token,
            body,
        )
    };
    // The tenant is disabled: its token is refused with 403.
    refused_scim(&call(&app, scim("GET", "/Users", None)).await, 403);
    let enabled = call(
        &app,
        request("PATCH", &tenant_uri, &admin, Some(json!({"enabled": true}))),
    )
    .await;
    ok(&enabled, 200);
    let user = json!({"schemas": [USER], "userName": "bjensen", "externalId": "e1"});
    let bjensen = call(&app, scim("POST", "/Users", Some(user.clone()))).await;
    let bjensen_id = ok(&bjensen, 201)["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    refused_scim(&call(&app, scim("POST", "/Users", Some(user))).await, 409);

    // Another tenant's token is not this tenant's to revoke.
    let other_token = call(
        &app,
        request(
            "POST",
            &format!("{tenants}/{other}/tokens"),
            &admin,
            Some(json!({"label": "okta"})),
        ),
    )
    .await;
    let other_token = ok(&other_token, 201)["record"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let cross = call(
        &app,
        request("DELETE", &format!("{tokens}/{other_token}"), &admin, None),
    )
    .await;
    refused(&cross, 404);
    let other_list = call(
        &app,
        request("GET", &format!("{tenants}/{other}/tokens"), &admin, None),
    )
    .await;
    assert!(ok(&other_list, 200)[0]["revokedAt"].is_null());

    // Settings: strict, field-level errors, nothing changed by a refusal.
    let settings = format!("{tenant_uri}/settings");
    let before = call(&app, request("GET", &settings, &reader, None)).await;
    let before = ok(&before, 200).clone();
    for (body, field) in [
        (json!({"deletion": "shred"}), None),
        (json!({"bogus": 1}), Some("bogus")),
        (
            json!({"rateLimit": {"perSecond": 0, "burst": 0}}),
            Some("rateLimit"),
        ),
        (
            json!({"teams": {"mode": "department", "separator": ""}}),
            Some("teams.separator"),
        ),
    ] {
        let reply = call(&app, request("PUT", &settings, &admin, Some(body.clone()))).await;
        let problem = refused(&reply, 400);
        if let Some(field) = field {
            assert_eq!(problem["errors"][0]["field"], field, "{body}");
        }
    }
    let by_reader = call(&app, request("PUT", &settings, &reader, Some(json!({})))).await;
    refused(&by_reader, 403);
    let huge = json!({"schemaOverrides": [{"id": "x", "description": "x".repeat(300_000)}]});
    let too_big = call(&app, request("PUT", &settings, &admin, Some(huge))).await;
    refused(&too_big, 413);
    let after = call(&app, request("GET", &settings, &reader, None)).await;
    assert_eq!(ok(&after, 200), &before, "refusals changed nothing");

    // The hire-date preset makes costCenter a dateTime.
    let presets = call(
        &app,
        request("GET", &format!("{base}/presets"), &reader, None),
    )
    .await;
    let preset = ok(&presets, 200)[0].clone();
    assert_eq!(preset["name"], "hire-date-in-cost-center");
    let put = call(
        &app,
        request(
            "PUT",
            &settings,
            &admin,
            Some(json!({"schemaOverrides": [preset["schemaOverride"]], "deletion": "archive"})),
        ),
    )
    .await;
    assert_eq!(ok(&put, 200)["deletion"], "archive");
    let hired = |user_name: &str, cost_center: &str| {
        json!({"schemas": [USER, ENTERPRISE], "userName": user_name,
               ENTERPRISE: {"costCenter": cost_center, "department": "Sales"}})
    };
    let good = call(
        &app,
        scim(
            "POST",
            "/Users",
            Some(hired("hired", "2027-03-01T09:00:00Z")),
        ),
    )
    .await;
    ok(&good, 201);
    refused_scim(
        &call(
            &app,
            scim("POST", "/Users", Some(hired("bad-date", "next week"))),
        )
        .await,
        400,
    );

    // Team mode: department teams appear in the directory at once.
    let department = call(
        &app,
        request(
            "PUT",
            &settings,
            &admin,
            Some(json!({"teams": {"mode": "department"},
                        "schemaOverrides": [preset["schemaOverride"]]})),
        ),
    )
    .await;
    ok(&department, 200);
    let teams = call(
        &app,
        request(
            "GET",
            &format!("{tenant_uri}/groups?filter=displayName%20eq%20%22Sales%22"),
            &reader,
            None,
        ),
    )
    .await;
    assert_eq!(ok(&teams, 200)["totalResults"], 1, "{}", teams.body);

    // Webhooks.
    let hooks = format!("{tenant_uri}/webhooks");
    let bad_url = call(
        &app,
        request(
            "POST",
            &hooks,
            &admin,
            Some(json!({"url": "ftp://example.com"})),
        ),
    )
    .await;
    assert!(refused(&bad_url, 400)["errors"][0]["field"]
        .as_str()
        .is_some_and(|f| f.ends_with("url")));
    let added = call(
        &app,
        request(
            "POST",
            &hooks,
            &admin,
            Some(json!({"id": "app", "url": "https://hooks.example.com/scim"})),
        ),
    )
    .await;
    let added = ok(&added, 201).clone();
    let first_secret = added["secret"].as_str().unwrap_or_default().to_owned();
    assert!(first_secret.starts_with("whsec_"), "{added}");
    let twice = call(
        &app,
        request(
            "POST",
            &hooks,
            &admin,
            Some(json!({"id": "app", "url": "https://hooks.example.com/x"})),
        ),
    )
    .await;
    refused(&twice, 400);
    let listed = call(&app, request("GET", &hooks, &reader, None)).await;
    let listed = ok(&listed, 200);
    assert_eq!(listed[0]["id"], "app");
    assert!(!listed.to_string().contains(&first_secret));
    let paused = call(
        &app,
        request(
            "PATCH",
            &format!("{hooks}/app"),
            &admin,
            Some(json!({"enabled": false})),
        ),
    )
    .await;
    assert_eq!(ok(&paused, 200)["enabled"], false);
    let bad_change = call(
        &app,
        request(
            "PATCH",
            &format!("{hooks}/app"),
            &admin,
            Some(json!({"url": "nope"})),
        ),
    )
    .await;
    refused(&bad_change, 400);
    let rotated = call(
        &app,
        request("POST", &format!("{hooks}/app/rotate-secret"), &admin, None),
    )
    .await;
    let rotated = ok(&rotated, 200)["secret"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(rotated.starts_with("whsec_") && rotated != first_secret);
    let unchanged = call(&app, request("GET", &hooks, &reader, None)).await;
    assert_eq!(
        ok(&unchanged, 200)[0]["url"],
        "https://hooks.example.com/scim"
    );
    let by_reader = call(
        &app,
        request("DELETE", &format!("{hooks}/app"), &reader, None),
    )
    .await;
    refused(&by_reader, 403);
    ok(
        &call(
            &app,
            request("DELETE", &format!("{hooks}/app"), &admin, None),
        )
        .await,
        204,
    );
    refused(
        &call(
            &app,
            request("DELETE", &format!("{hooks}/app"), &admin, None),
        )
        .await,
        404,
    );

    // The log: filters, cursors, bad parameters.
    let log_uri = format!("{tenant_uri}/log");
    let failures = wait_for(
        &app,
        &format!("{log_uri}?outcome=failure"),
        &reader,
        |body| body["entries"].as_array().is_some_and(|e| e.len() >= 3),
    )
    .await;
    assert!(failures["entries"]
        .as_array()
        .is_some_and(|e| e.iter().all(|e| e["status"].as_u64() >= Some(400))));
    let by_name = wait_for(
        &app,
        &format!("{log_uri}?subject=BJENSEN"),
        &reader,
        |body| body["entries"].as_array().is_some_and(|e| e.len() >= 2),
    )
    .await;
    let statuses: Vec<u64> = by_name["entries"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["status"].as_u64()).collect())
        .unwrap_or_default();
    assert!(
        statuses.contains(&201) && statuses.contains(&409),
        "{by_name}"
    );
    let first = call(
        &app,
        request("GET", &format!("{log_uri}?limit=1"), &reader, None),
    )
    .await;
    let first = ok(&first, 200).clone();
    let cursor = first["nextCursor"].as_str().unwrap_or_default().to_owned();
    assert!(!cursor.is_empty(), "{first}");
    let next = call(
        &app,
        request(
            "GET",
            &format!("{log_uri}?limit=1&cursor={cursor}"),
            &reader,
            None,
        ),
    )
    .await;
    let next = ok(&next, 200);
    assert!(next["entries"][0]["seq"].as_u64() < first["entries"][0]["seq"].as_u64());
    let creates = call(
        &app,
        request(
            "GET",
            &format!("{log_uri}?operation=create&client=entra"),
            &reader,
            None,
        ),
    )
    .await;
    assert!(ok(&creates, 200)["entries"]
        .as_array()
        .is_some_and(|e| !e.is_empty() && e.iter().all(|e| e["operation"] == "create")));
    for query in [
        "outcome=maybe",
        "since=yesterday",
        "cursor=abc",
        "colour=red",
    ] {
        let reply = call(
            &app,
            request("GET", &format!("{log_uri}?{query}"), &reader, None),
        )
        .await;
        refused(&reply, 400);
    }

    // The directory: SCIM filters, one resource, bad filters.
    let users = format!("{tenant_uri}/users");
    let found = call(
        &app,
        request(
            "GET",
            &format!("{users}?filter=userName%20eq%20%22BJensen%22"),
            &reader,
            None,
        ),
    )
    .await;
    let found = ok(&found, 200);
    assert_eq!(found["totalResults"], 1);
    assert_eq!(found["resources"][0]["id"], bjensen_id.as_str());
    let one = call(
        &app,
        request("GET", &format!("{users}/{bjensen_id}"), &reader, None),
    )
    .await;
    assert_eq!(ok(&one, 200)["userName"], "bjensen");
    refused(
        &call(
            &app,
            request("GET", &format!("{users}/ghost"), &reader, None),
        )
        .await,
        404,
    );
    let bad_filter = call(
        &app,
        request(
            "GET",
            &format!("{users}?filter=userName%20zz%20%22x%22"),
            &reader,
            None,
        ),
    )
    .await;
    assert_eq!(refused(&bad_filter, 400)["errors"][0]["field"], "filter");
    // The other tenant's directory does not hold this tenant's users.
    let elsewhere = call(
        &app,
        request(
            "GET",
            &format!("{tenants}/{other}/users/{bjensen_id}"),
            &reader,
            None,
        ),
    )
    .await;
    refused(&elsewhere, 404);

    // Revoking the SCIM token refuses the next SCIM call.
    let revoked = call(
        &app,
        request("DELETE", &format!("{tokens}/{token_id}"), &admin, None),
    )
    .await;
    ok(&revoked, 204);
    refused_scim(&call(&app, scim("GET", "/Users", None)).await, 401);

    // Admin tokens: listed, and revoked by an admin only.
    let admin_tokens = format!("{base}/admin-tokens");
    let listed = call(&app, request("GET", &admin_tokens, &reader, None)).await;
    assert!(ok(&listed, 200)
        .as_array()
        .is_some_and(|tokens| tokens.iter().any(|t| t["id"] == reader_id.as_str())));
    let self_revoke = call(
        &app,
        request(
            "DELETE",
            &format!("{admin_tokens}/{reader_id}"),
            &reader,
            None,
        ),
    )
    .await;
    refused(&self_revoke, 403);
    let revoke = call(
        &app,
        request(
            "DELETE",
            &format!("{admin_tokens}/{reader_id}"),
            &admin,
            None,
        ),
    )
    .await;
    ok(&revoke, 204);
    refused(
        &call(&app, request("GET", &tenants, &reader, None)).await,
        401,
    );

    // Unknown routes are problems too.
    refused(
        &call(
            &app,
            request("GET", &format!("{base}/nothing"), &admin, None),
        )
        .await,
        404,
    );

    // Deleting a tenant erases it; the other tenant stays.
    ok(
        &call(&app, request("DELETE", &tenant_uri, &admin, None)).await,
        204,
    );
    refused(
        &call(&app, request("GET", &tenant_uri, &admin, None)).await,
        404,
    );
    refused(
        &call(&app, request("GET", &log_uri, &admin, None)).await,
        404,
    );
    ok(
        &call(
            &app,
            request("GET", &format!("{tenants}/{other}"), &admin, None),
        )
        .await,
        200,
    );
    ok(
        &call(
            &app,
            request("DELETE", &format!("{tenants}/{other}"), &admin, None),
        )
        .await,
        204,
    );
}

/// A SCIM refusal (a SCIM error, not a problem document).
fn refused_scim(reply: &Reply, status: u16) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.body["status"], status.to_string(), "{}", reply.body);
}

/// Polls `uri` until `done` (the log is written off the request path).
async fn wait_for<S, B>(app: &S, uri: &str, token: &str, done: impl Fn(&Value) -> bool) -> Value
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = call(app, request("GET", uri, token, None)).await;
        let body = ok(&reply, 200).clone();
        if done(&body) || Instant::now() > deadline {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn every_route_over_the_memory_store() {
    drive(MemoryStore::new()).await;
}

#[actix_web::test]
async fn every_route_over_sqlite() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let url = format!("sqlite://{}", dir.path().join("admin.db").display());
    drive(DieselStore::open(&url).unwrap_or_else(|e| panic!("{e}"))).await;
}

#[actix_web::test]
async fn every_route_over_postgres() {
    let Some(url) = scimitar_store::testkit::postgres_url("every_route_over_postgres") else {
        return;
    };
    drive(DieselStore::open(&url).unwrap_or_else(|e| panic!("{e}"))).await;
}

/// A webhook receiver answering every request with the status set last, and
/// counting what it received.
struct Receiver {
    url: String,
    status: Arc<std::sync::atomic::AtomicU16>,
    received: Arc<std::sync::atomic::AtomicUsize>,
}

impl Receiver {
    fn start(status: u16) -> Receiver {
        use std::io::{BufRead, BufReader, Read, Write};
        use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let url = format!(
            "http://{}/hook",
            listener
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_default()
        );
        let status = Arc::new(AtomicU16::new(status));
        let received = Arc::new(AtomicUsize::new(0));
        let (answer, count) = (Arc::clone(&status), Arc::clone(&received));
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let mut reader = BufReader::new(&stream);
                let mut length = 0;
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                    if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                    line.clear();
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                count.fetch_add(1, Ordering::SeqCst);
                let status = answer.load(Ordering::SeqCst);
                let text = if status < 300 {
                    "ok"
                } else {
                    "receiver says no"
                };
                let reply = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                    text.len()
                );
                let _ = (&stream).write_all(reply.as_bytes());
            }
        });
        Receiver {
            url,
            status,
            received,
        }
    }

    fn answer(&self, status: u16) {
        self.status
            .store(status, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Webhook health, the test event and dead letters, with a real receiver and
/// the delivery supervisor running.
async fn webhooks_report_their_health<S>(store: S)
where
    S: DirectoryStore + OutboxStore + TenantStore + ProvisioningLog + StateStore + 'static,
{
    use scimitar_server::webhook::{WebhookOptions, Webhooks};
    use scimitar_store::hooks::{Backoff, DispatchOptions};

    let admin = issue_admin_token(&store, "ops", AdminScope::Admin)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .token;
    let tenant = format!("hooks-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    store
        .create_tenant(&tenant, "Hooks", json!({}))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let scim_token = scimitar_server::issue_token(&store, &tenant, "entra")
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .token;
    let service = ScimService::new(store);
    let store = Arc::clone(service.store());
    let api = AdminApi::new(service.clone(), Arc::clone(&store));
    let app = init_service(
        App::new()
            .service(api.scope("/admin/v1"))
            .service(service.tenant_scope("/tenants/{tenant}/scim/v2")),
    )
    .await;
    let receiver = Receiver::start(500);
    let hooks = format!("/admin/v1/tenants/{tenant}/webhooks");
    let added = call(
        &app,
        request(
            "POST",
            &hooks,
            &admin,
            Some(json!({"id": "app", "url": receiver.url})),
        ),
    )
    .await;
    ok(&added, 201);

    // The test event reports what the receiver answered, and counts in health.
    let test = call(
        &app,
        request("POST", &format!("{hooks}/app/test"), &admin, None),
    )
    .await;
    let test = ok(&test, 200);
    assert_eq!(test["delivered"], false, "{test}");
    assert_eq!(test["status"], 500);
    assert_eq!(test["detail"], "receiver says no");
    let unknown = call(
        &app,
        request("POST", &format!("{hooks}/nope/test"), &admin, None),
    )
    .await;
    refused(&unknown, 404);

    // A user is created; the receiver keeps failing; after 2 attempts the event
    // is set aside.
    let options = WebhookOptions {
        dispatch: DispatchOptions {
            poll_interval: Duration::from_millis(10),
            backoff: Backoff {
                initial: Duration::from_millis(10),
                max: Duration::from_millis(20),
            },
            ..DispatchOptions::default()
        },
        refresh: Duration::from_millis(20),
        max_attempts: 2,
        ..WebhookOptions::default()
    };
    let running = Webhooks::new(Arc::clone(&store), Arc::clone(&store))
        .options(options)
        .spawn();
    let user = json!({"schemas": [USER], "userName": "hooked"});
    let created = call(
        &app,
        request(
            "POST",
            &format!("/tenants/{tenant}/scim/v2/Users"),
            &scim_token,
            Some(user),
        ),
    )
    .await;
    ok(&created, 201);
    let letters = wait_for(&app, &format!("{hooks}/app/dead-letters"), &admin, |body| {
        body.as_array().is_some_and(|letters| !letters.is_empty())
    })
    .await;
    let letter = letters[0].clone();
    assert_eq!(letter["attempts"], 2, "{letter}");
    assert_eq!(letter["status"], 500);
    assert_eq!(letter["event"]["type"], "user.created");
    let seq = letter["seq"].as_u64().unwrap_or_default();
    let health = wait_for(&app, &format!("{hooks}/app/health"), &admin, |body| {
        body["pending"] == 0
    })
    .await;
    assert_eq!(health["deadLetters"], 1, "{health}");
    assert_eq!(health["lastErrorStatus"], 500);
    assert_eq!(health["lastErrorDetail"], "receiver says no");
    assert!(
        health["consecutiveFailures"].as_u64() >= Some(3),
        "{health}"
    );
    running.stop().await;

    // Retried while the receiver still fails: kept. Then it recovers.
    let retry = format!("{hooks}/app/dead-letters/{seq}/retry");
    let again = call(&app, request("POST", &retry, &admin, None)).await;
    assert_eq!(ok(&again, 200)["delivered"], false);
    receiver.answer(204);
    let before = receiver.received.load(std::sync::atomic::Ordering::SeqCst);
    let delivered = call(&app, request("POST", &retry, &admin, None)).await;
    let delivered = ok(&delivered, 200);
    assert_eq!(
        (
            delivered["delivered"].as_bool(),
            delivered["status"].as_u64()
        ),
        (Some(true), Some(204))
    );
    assert_eq!(
        receiver.received.load(std::sync::atomic::Ordering::SeqCst),
        before + 1
    );
    let letters = call(
        &app,
        request("GET", &format!("{hooks}/app/dead-letters"), &admin, None),
    )
    .await;
    assert_eq!(ok(&letters, 200).as_array().map(Vec::len), Some(0));
    refused(
        &call(&app, request("POST", &retry, &admin, None)).await,
        404,
    );
    let health = call(
        &app,
        request("GET", &format!("{hooks}/app/health"), &admin, None),
    )
    .await;
    let health = ok(&health, 200);
    assert!(health["lastSuccess"].is_string(), "{health}");
    assert_eq!(health["consecutiveFailures"], 0);

    // Discarding; removing the webhook forgets its health.
    let discard = call(
        &app,
        request(
            "DELETE",
            &format!("{hooks}/app/dead-letters/{seq}"),
            &admin,
            None,
        ),
    )
    .await;
    refused(&discard, 404);
    ok(
        &call(
            &app,
            request("DELETE", &format!("{hooks}/app"), &admin, None),
        )
        .await,
        204,
    );
    let documents = store
        .states(&tenant, "webhook:app")
        .await
        .unwrap_or_default();
    assert!(documents.is_empty(), "{documents:?}");
}

#[actix_web::test]
async fn webhooks_report_their_health_over_the_memory_store() {
    webhooks_report_their_health(MemoryStore::new()).await;
}

#[actix_web::test]
async fn webhooks_report_their_health_over_sqlite() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let url = format!("sqlite://{}", dir.path().join("hooks.db").display());
    webhooks_report_their_health(DieselStore::open(&url).unwrap_or_else(|e| panic!("{e}"))).await;
}

#[actix_web::test]
async fn webhooks_report_their_health_over_postgres() {
    let Some(url) =
        scimitar_store::testkit::postgres_url("webhooks_report_their_health_over_postgres")
    else {
        return;
    };
    webhooks_report_their_health(DieselStore::open(&url).unwrap_or_else(|e| panic!("{e}"))).await;
}
