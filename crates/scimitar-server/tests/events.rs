//! What an embedder wires up over its own store (here a `MemoryStore`): webhooks
//! with an in-memory outbox, the provisioning log, and per-tenant rate limits,
//! through a real HTTP server.

#[path = "../../../bins/scimitar/tests/common/receiver.rs"]
#[allow(dead_code)]
mod receiver;

use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use actix_web::{App, HttpServer};
use scimitar_server::webhook::{verify, WebhookOptions, Webhooks};
use scimitar_server::{issue_token, ScimService};
use scimitar_store::hooks::{Backoff, DispatchOptions, MemoryOutbox};
use scimitar_store::provisioning_log::{LogQuery, MemoryLog, ProvisioningLog};
use scimitar_store::{MemoryStore, TenantStore};
use serde_json::{json, Value};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

struct Running {
    base: String,
    token: String,
    slow_token: String,
    log: Arc<MemoryLog>,
}

/// Serves tenants `acme` (one webhook to `hook_url`) and `slow` (1 request per
/// second, bursts of 2) until the test process ends.
fn start(hook_url: String) -> Running {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let store = MemoryStore::new();
            let hooks = json!({"webhooks": [{"id": "app", "url": hook_url, "secret": "k"}]});
            store.create_tenant("acme", "Acme", hooks).await.unwrap();
            let limit = json!({"rateLimit": {"perSecond": 1, "burst": 2}});
            store.create_tenant("slow", "Slow", limit).await.unwrap();
            let token = issue_token(&store, "acme", "entra").await.unwrap().token;
            let slow = issue_token(&store, "slow", "okta").await.unwrap().token;
            let log = Arc::new(MemoryLog::default());
            let service = ScimService::new(store).provisioning_log(Arc::clone(&log));
            let options = WebhookOptions {
                dispatch: DispatchOptions {
                    poll_interval: Duration::from_millis(10),
                    backoff: Backoff {
                        initial: Duration::from_millis(10),
                        max: Duration::from_millis(50),
                    },
                    ..DispatchOptions::default()
                },
                refresh: Duration::from_millis(50),
                ..WebhookOptions::default()
            };
            let outbox = Arc::new(MemoryOutbox::new());
            let _webhooks = Webhooks::with_outbox(
                Arc::clone(service.store()),
                Arc::clone(service.tenants()),
                outbox,
            )
            .options(options)
            .spawn();
            let app_service = service.clone();
            let server = HttpServer::new(move || App::new().service(app_service.scope("/scim/v2")))
                .workers(1)
                .bind(("127.0.0.1", 0))
                .unwrap();
            let port = server.addrs()[0].port();
            sender
                .send(Running {
                    base: format!("http://127.0.0.1:{port}/scim/v2"),
                    token,
                    slow_token: slow,
                    log,
                })
                .unwrap();
            server.run().await.unwrap();
        });
    });
    receiver.recv().unwrap()
}

fn call(
    running: &Running,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let request = ureq::request(method, &format!("{}{path}", running.base))
        .set("Authorization", &format!("Bearer {token}"))
        .set("User-Agent", "Microsoft.Identity.Provisioning");
    let result = match body {
        Some(body) => request
            .set("Content-Type", "application/scim+json")
            .send_string(&body.to_string()),
        None => request.call(),
    };
    let response = match result {
        Ok(response) | Err(ureq::Error::Status(_, response)) => response,
        Err(error) => panic!("{error}"),
    };
    let status = response.status();
    (status, response.into_json().unwrap_or(Value::Null))
}

#[test]
fn an_embedder_gets_webhooks_the_log_and_tenant_rate_limits() {
    let hook = receiver::Receiver::start();
    let running = start(hook.url.clone());
    let token = running.token.clone();

    let (status, user) = call(
        &running,
        &token,
        "POST",
        "/Users",
        Some(json!({"schemas": [USER], "userName": "bjensen", "password": "hunter2"})),
    );
    assert_eq!(status, 201);
    let id = user["id"].as_str().unwrap().to_owned();
    let deactivate = json!({"schemas": [PATCH_OP],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
    assert_eq!(
        call(
            &running,
            &token,
            "PATCH",
            &format!("/Users/{id}"),
            Some(deactivate)
        )
        .0,
        200
    );
    assert_eq!(
        call(&running, &token, "DELETE", &format!("/Users/{id}"), None).0,
        204
    );
    assert_eq!(
        call(&running, &token, "DELETE", &format!("/Users/{id}"), None).0,
        404
    );

    hook.wait_until("three events", |deliveries| deliveries.len() >= 3);
    let deliveries = hook.deliveries();
    let types: Vec<String> = deliveries
        .iter()
        .map(|d| {
            assert!(verify(
                "k",
                &d.message_id,
                &d.timestamp,
                d.body.as_bytes(),
                &d.signature
            ));
            assert!(!d.body.contains("hunter2"), "{}", d.body);
            let body: Value = serde_json::from_str(&d.body).unwrap();
            assert_eq!(body["resourceId"], id.as_str());
            body["type"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(types, ["user.created", "user.deactivated", "user.deleted"]);

    // Tenant `slow`: a burst of 2, then 429 with a SCIM body.
    let replies: Vec<(u16, Value)> = (0..6)
        .map(|_| call(&running, &running.slow_token, "GET", "/Users", None))
        .collect();
    assert_eq!((replies[0].0, replies[1].0), (200, 200));
    let throttled = replies.iter().find(|(status, _)| *status == 429);
    let throttled = throttled.map(|(_, body)| body["status"].clone());
    assert_eq!(throttled, Some(json!("429")), "{replies:?}");

    // The log is written after the responses, in the background.
    let entries = (0..500)
        .find_map(|_| {
            let entries = actix_web::rt::System::new()
                .block_on(running.log.recent("acme", &LogQuery::default()))
                .unwrap();
            if entries.len() >= 4 {
                return Some(entries);
            }
            thread::sleep(Duration::from_millis(10));
            None
        })
        .expect("four log entries");
    let operations: Vec<(&str, u16)> = entries
        .iter()
        .map(|e| (e.operation.as_str(), e.status))
        .collect();
    assert_eq!(
        operations,
        [
            ("delete", 404),
            ("delete", 204),
            ("patch replace:active", 200),
            ("create", 201)
        ]
    );
    let failure = &entries[0];
    assert_eq!(failure.resource_id.as_deref(), Some(id.as_str()));
    assert_eq!(failure.token_label.as_deref(), Some("entra"));
    assert_eq!(
        failure.user_agent.as_deref(),
        Some("Microsoft.Identity.Provisioning")
    );
    assert!(
        failure
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("not found")),
        "{failure:?}"
    );
    assert_eq!(
        entries[3].resource_id.as_deref(),
        Some(id.as_str()),
        "a create logs the new id"
    );
}
