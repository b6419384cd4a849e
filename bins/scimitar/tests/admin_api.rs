//! The admin API through real server processes: admin tokens from the CLI,
//! changes made on one server effective on another within a second, and the
//! live log stream.

mod common;

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use common::{expect, Client, Database, USER};
use serde_json::json;

/// Polls `path` with `client` until it answers `status`; fails after `within`.
fn answers_within(client: &Client, path: &str, status: u16, within: Duration) {
    let started = Instant::now();
    loop {
        let reply = client.get(path);
        if reply.status == status {
            return;
        }
        assert!(
            started.elapsed() < within,
            "{path}: still {} after {within:?}, wanted {status}: {}",
            reply.status,
            reply.text
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn admin_tokens_are_issued_listed_and_revoked_from_the_cli() {
    let database = Database::sqlite();
    let reader = database.admin_token("read-only");
    let listed = database.cli(&["admin-token", "list"]);
    let id = reader
        .strip_prefix("scimadm_")
        .and_then(|rest| rest.split('_').next())
        .expect("token id");
    let line = listed.lines().find(|line| line.starts_with(id));
    assert!(
        line.is_some_and(|line| line.contains("read-only\ttest\tactive")),
        "{listed}"
    );
    assert!(!listed.contains(&reader), "the list shows no secret");
    let server = database.serve();
    let admin = |token: &str| Client {
        base: format!("{}/admin/v1", server.origin()),
        token: token.to_owned(),
    };
    expect(&admin(&reader).get("/tenants"), 200);
    let refused = admin(&reader).post("/tenants", &json!({"id": "nope"}));
    assert_eq!(refused.status, 403, "{}", refused.text);
    database.cli(&["admin-token", "revoke", id]);
    // Nothing is cached: the revocation holds at once.
    assert_eq!(admin(&reader).get("/tenants").status, 401);
    assert!(database
        .cli(&["admin-token", "list"])
        .lines()
        .any(|line| line.starts_with(id) && line.contains("revoked")));
}

fn changes_through_one_server_reach_another(database: Database) {
    let admin_token = database.admin_token("admin");
    let (tenant, token) = database.tenant();
    let (first, second) = (database.serve(), database.serve());
    let admin = Client {
        base: format!("{}/admin/v1", first.origin()),
        token: admin_token,
    };
    let (here, there) = (first.client(&token), second.client(&token));
    for client in [&here, &there] {
        expect(&client.get("/Users"), 200);
    }
    // Every server caches the verified token for 60 s; the directory version
    // ends that within a second (250 ms by design, the rest is slack).
    let within = Duration::from_secs(2);
    let tenant_path = format!("/tenants/{tenant}");

    expect(
        &admin.send("PATCH", &tenant_path, Some(&json!({"enabled": false}))),
        200,
    );
    assert_eq!(here.get("/Users").status, 403, "at once where it was made");
    answers_within(&there, "/Users", 403, within);
    expect(
        &admin.send("PATCH", &tenant_path, Some(&json!({"enabled": true}))),
        200,
    );
    answers_within(&there, "/Users", 200, within);

    let settings = json!({"rateLimit": {"perSecond": 1, "burst": 1}});
    expect(
        &admin.send("PUT", &format!("{tenant_path}/settings"), Some(&settings)),
        200,
    );
    let started = Instant::now();
    while there.get("/Users").status != 429 {
        assert!(started.elapsed() < within, "the rate limit did not arrive");
    }
    expect(
        &admin.send("PUT", &format!("{tenant_path}/settings"), Some(&json!({}))),
        200,
    );
    answers_within(&there, "/Users", 200, within);

    let id = token.split('_').nth(1).expect("token id");
    let revoked = admin.send("DELETE", &format!("{tenant_path}/tokens/{id}"), None);
    assert_eq!(revoked.status, 204, "{}", revoked.text);
    assert_eq!(here.get("/Users").status, 401, "at once where it was made");
    answers_within(&there, "/Users", 401, within);
}

#[test]
fn changes_through_one_server_reach_another_on_sqlite() {
    changes_through_one_server_reach_another(Database::sqlite());
}

#[test]
fn changes_through_one_server_reach_another_on_postgres() {
    let Some(database) = Database::postgres() else {
        return;
    };
    changes_through_one_server_reach_another(database);
}

#[test]
fn the_log_streams_new_entries_as_server_sent_events() {
    let database = Database::sqlite();
    let reader = database.admin_token("read-only");
    let (tenant, token) = database.tenant();
    let server = database.serve();
    let scim = server.client(&token);
    expect(
        &scim.post("/Users", &json!({"schemas": [USER], "userName": "before"})),
        201,
    );
    // The log is written just after the response: wait for that entry, so
    // that the stream opens after it.
    let admin = Client {
        base: format!("{}/admin/v1", server.origin()),
        token: reader.clone(),
    };
    let started = Instant::now();
    while admin.get(&format!("/tenants/{tenant}/log")).body["entries"]
        .as_array()
        .is_none_or(Vec::is_empty)
    {
        assert!(started.elapsed() < Duration::from_secs(10), "no log entry");
        std::thread::sleep(Duration::from_millis(20));
    }
    let stream = ureq::get(&format!(
        "{}/admin/v1/tenants/{tenant}/log/stream?operation=create",
        server.origin()
    ))
    .set("Authorization", &format!("Bearer {reader}"))
    .timeout(Duration::from_secs(20))
    .call()
    .expect("the stream");
    assert_eq!(stream.content_type(), "text/event-stream");
    let mut lines = BufReader::new(stream.into_reader()).lines();
    // Entries written after the stream opened arrive; older ones and other
    // operations do not.
    expect(&scim.get("/Users"), 200);
    expect(
        &scim.post(
            "/Users",
            &json!({"schemas": [USER], "userName": "streamed"}),
        ),
        201,
    );
    let data = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| line.strip_prefix("data: ").map(str::to_owned))
        .expect("an event");
    let entry: serde_json::Value = serde_json::from_str(&data).expect("JSON");
    assert_eq!(entry["operation"], "create", "{entry}");
    assert!(
        entry["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("streamed")),
        "{entry}"
    );
}

#[test]
fn a_webhook_added_while_servers_run_delivers_within_a_second() {
    use common::receiver::Receiver;

    let database = Database::sqlite();
    let admin = database.admin_token("admin");
    let (tenant, token) = database.tenant();
    // Default pacing: tenants' settings are read again every 10 s at the latest.
    let (first, second) = (database.serve(), database.serve());
    let receiver = Receiver::start();
    let api = Client {
        base: format!("{}/admin/v1", second.origin()),
        token: admin,
    };
    let added = api.post(
        &format!("/tenants/{tenant}/webhooks"),
        &json!({"id": "app", "url": receiver.url}),
    );
    assert_eq!(added.status, 201, "{}", added.text);
    // The servers notice the settings change by the directory version (250 ms),
    // not the 10 s refresh.
    std::thread::sleep(Duration::from_millis(1000));
    let started = Instant::now();
    expect(
        &first
            .client(&token)
            .post("/Users", &json!({"schemas": [USER], "userName": "hooked"})),
        201,
    );
    receiver.wait_until("the delivery", |deliveries| !deliveries.is_empty());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "delivered after {:?}",
        started.elapsed()
    );
}
