//! Webhooks through the real server: deliveries survive restarts and failing
//! endpoints, arrive in order and signed, and two servers on one PostgreSQL
//! database deliver each event once.

mod common;

use std::collections::HashSet;
use std::path::PathBuf;
use std::thread;
use std::time::Duration;

use common::receiver::{Delivery, Receiver};
use common::{expect, Client, Database, USER};
use scimitar_server::webhook::verify;
use serde_json::{json, Value};

const SECRET: &str = "s3cret";

/// Fast delivery pacing, so that tests wait milliseconds rather than seconds.
fn fast_config(dir: &tempfile::TempDir) -> PathBuf {
    let path = dir.path().join("scimitar.toml");
    std::fs::write(
        &path,
        "[webhooks]\npoll_interval_ms = 20\nretry_initial_ms = 20\nretry_max_ms = 100\n\
         timeout_ms = 2000\nlease_ms = 3000\nrefresh_ms = 100\n",
    )
    .expect("write the config");
    path
}

fn create_users(client: &Client, prefix: &str, count: usize) -> Vec<String> {
    (0..count)
        .map(|n| {
            let body = json!({"schemas": [USER], "userName": format!("{prefix}-{n}")});
            let reply = client.post("/Users", &body);
            expect(&reply, 201)["id"].as_str().expect("id").to_owned()
        })
        .collect()
}

fn body_of(delivery: &Delivery) -> Value {
    serde_json::from_str(&delivery.body).expect("a JSON body")
}

/// Checks the successful deliveries: each event once, in order, signed, and
/// about exactly the users `created`.
fn assert_delivered_once_in_order(delivered: &[Delivery], tenant: &str, created: &[String]) {
    let ids: Vec<u64> = delivered.iter().map(|d| d.event_id).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "in order, once: {ids:?}"
    );
    for delivery in delivered {
        assert!(
            verify(
                SECRET,
                &delivery.message_id,
                &delivery.timestamp,
                delivery.body.as_bytes(),
                &delivery.signature
            ),
            "signature of {}",
            delivery.body
        );
        assert_eq!(
            delivery.message_id,
            format!("evt_{tenant}_{}", delivery.event_id)
        );
        let sent: u64 = delivery.timestamp.parse().expect("a Unix time");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs();
        assert!(sent <= now && now - sent < 300, "{sent} vs {now}");
        let body = body_of(delivery);
        assert_eq!(body["id"], delivery.event_id);
        assert_eq!(body["tenant"], tenant);
        assert_eq!(body["type"], "user.created");
        assert_eq!(body["resourceType"], "User");
        assert!(body["data"].get("password").is_none());
    }
    let users: HashSet<String> = delivered
        .iter()
        .filter_map(|d| body_of(d)["resourceId"].as_str().map(str::to_owned))
        .collect();
    let expected: HashSet<String> = created.iter().cloned().collect();
    assert_eq!(users, expected);
}

fn deliveries_survive_restarts_and_failures(database: Database) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = fast_config(&dir);
    let config = config.to_str().expect("path");
    let (tenant, token) = database.tenant();
    let receiver = Receiver::start();
    receiver.set_failing(true);
    database.cli(&["webhook", "add", &tenant, &receiver.url, "--secret", SECRET]);

    let server = database.serve_with(&["--config", config]);
    let mut created = create_users(&server.client(&token), "before", 3);
    receiver.wait_until("failed attempts", |d| d.len() >= 2);
    server.kill(); // the events are written, none delivered

    let restarted = database.serve_with(&["--config", config]);
    receiver.wait_until("more failed attempts", |d| d.len() >= 4);
    receiver.set_failing(false);
    created.extend(create_users(&restarted.client(&token), "after", 2));
    receiver.wait_until("every event", |d| {
        d.iter().filter(|d| d.status == 200).count() >= created.len()
    });
    thread::sleep(Duration::from_millis(200)); // time for a wrong extra delivery
    let delivered = receiver.delivered();
    assert_eq!(delivered.len(), created.len(), "{delivered:#?}");
    assert_delivered_once_in_order(&delivered, &tenant, &created);
    let failed_first = receiver.deliveries().first().map(|d| d.event_id);
    assert_eq!(
        failed_first,
        delivered.first().map(|d| d.event_id),
        "the failing event is retried, never skipped"
    );
    database.cli(&["webhook", "remove", &tenant, "hook-1"]);
}

#[test]
fn deliveries_survive_restarts_and_failures_on_sqlite() {
    deliveries_survive_restarts_and_failures(Database::sqlite());
}

#[test]
fn deliveries_survive_restarts_and_failures_on_postgres() {
    let Some(database) = Database::postgres() else {
        return;
    };
    deliveries_survive_restarts_and_failures(database);
}

#[test]
fn two_servers_on_one_postgres_deliver_each_event_once() {
    let Some(database) = Database::postgres() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let config = fast_config(&dir);
    let config = config.to_str().expect("path");
    let (tenant, token) = database.tenant();
    let receiver = Receiver::start();
    database.cli(&["webhook", "add", &tenant, &receiver.url, "--secret", SECRET]);
    let servers = [
        database.serve_with(&["--config", config]),
        database.serve_with(&["--config", config]),
    ];
    let mut created = Vec::new();
    for round in 0..5 {
        for (n, server) in servers.iter().enumerate() {
            created.extend(create_users(
                &server.client(&token),
                &format!("s{n}-r{round}"),
                2,
            ));
        }
    }
    receiver.wait_until("every event", |d| d.len() >= created.len());
    thread::sleep(Duration::from_millis(300)); // time for a wrong extra delivery
    let deliveries = receiver.deliveries();
    assert!(deliveries.iter().all(|d| d.status == 200));
    assert_eq!(
        deliveries.len(),
        created.len(),
        "no event twice: {deliveries:#?}"
    );
    assert_delivered_once_in_order(&deliveries, &tenant, &created);
    database.cli(&["webhook", "remove", &tenant, "hook-1"]);
}

#[test]
fn webhook_commands_keep_secrets_out_of_listings() {
    let database = Database::sqlite();
    let (tenant, _) = database.tenant();
    let added = database.cli(&["webhook", "add", &tenant, "https://example.com/hook"]);
    let secret = added
        .lines()
        .find_map(|line| line.strip_prefix("signing secret (shown only this once): "))
        .expect("a generated secret")
        .to_owned();
    assert!(
        secret.starts_with("whsec_") && secret.len() == 50,
        "{secret}"
    );
    let listed = database.cli(&["webhook", "list", &tenant]);
    assert!(
        listed.contains("hook-1\tenabled\thttps://example.com/hook"),
        "{listed}"
    );
    let settings = database.cli(&["tenant", "settings", &tenant]);
    assert!(
        !listed.contains(&secret) && !settings.contains(&secret),
        "{settings}"
    );
    database.cli(&["webhook", "remove", &tenant, "hook-1"]);
    assert_eq!(database.cli(&["webhook", "list", &tenant]), "");
}

/// `webhook remove` forgets the webhook's outbox consumer (rule O6): its
/// checkpoint no longer holds back the pruning of the tenant's events.
fn removed_webhooks_stop_holding_pruning_back(database: Database) {
    use scimitar_diesel::DieselStore;
    use scimitar_schema::{Policy, Registry};
    use scimitar_server::webhook::webhook_consumer;
    use scimitar_store::hooks::OutboxStore;
    use scimitar_store::{EventStore, Scope, Store};

    let (tenant, _) = database.tenant();
    database.cli(&["webhook", "add", &tenant, "https://example.com/hook"]);
    let store = DieselStore::open(&database.url).expect("open the database");
    let (registry, policy) = (Registry::builtin(), Policy::compatible());
    let scope = Scope::new(&tenant, &registry, &policy);
    actix_web::rt::System::new().block_on(async {
        let user = json!({"schemas": [USER], "userName": "pruned"});
        store.create(&scope, "User", user).await.expect("create");
        // The webhook's dispatcher took the lease and delivered nothing yet.
        let consumer = webhook_consumer("hook-1");
        let lease = store.try_lease(&tenant, &consumer, "test", Duration::ZERO);
        assert_eq!(lease.await.expect("lease"), Some(0));
        assert_eq!(store.prune_events(&tenant, u64::MAX).await.ok(), Some(0));
    });
    database.cli(&["webhook", "remove", &tenant, "hook-1"]);
    actix_web::rt::System::new().block_on(async {
        assert_eq!(
            store.prune_events(&tenant, u64::MAX).await.ok(),
            Some(1),
            "the removed webhook still holds pruning back"
        );
        let events = store.events(&scope, 0, 10).await.expect("events");
        assert!(events.is_empty(), "{events:?}");
    });
}

#[test]
fn removed_webhooks_stop_holding_pruning_back_on_sqlite() {
    removed_webhooks_stop_holding_pruning_back(Database::sqlite());
}

#[test]
fn removed_webhooks_stop_holding_pruning_back_on_postgres() {
    let Some(database) = Database::postgres() else {
        return;
    };
    removed_webhooks_stop_holding_pruning_back(database);
}

#[test]
fn a_new_webhook_starts_at_the_end_unless_told_to_replay() {
    let database = Database::sqlite();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = fast_config(&dir);
    let config = config.to_str().expect("path");
    let (tenant, token) = database.tenant();
    let server = database.serve_with(&["--config", config]);
    let client = server.client(&token);
    let before = create_users(&client, "earlier", 2);

    let fresh = Receiver::start();
    let replaying = Receiver::start();
    database.cli(&["webhook", "add", &tenant, &fresh.url, "--secret", SECRET]);
    database.cli(&[
        "webhook",
        "add",
        &tenant,
        &replaying.url,
        "--secret",
        SECRET,
        "--replay",
    ]);
    let after = create_users(&client, "later", 2);
    fresh.wait_until("the new events", |d| d.len() >= after.len());
    let all: Vec<String> = before.iter().chain(&after).cloned().collect();
    replaying.wait_until("every event", |d| d.len() >= all.len());
    thread::sleep(Duration::from_millis(300)); // time for a wrong extra delivery
    assert_delivered_once_in_order(&fresh.delivered(), &tenant, &after);
    assert_delivered_once_in_order(&replaying.delivered(), &tenant, &all);
}
