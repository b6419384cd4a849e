//! `GET /metrics`: off unless enabled, behind an admin token,
//! and counting what the server did.

mod common;

use common::{expect, Client, Database, USER};
use serde_json::json;

#[test]
fn metrics_are_off_unless_enabled() {
    let database = Database::sqlite();
    let server = database.serve();
    let reply = Client {
        base: server.origin(),
        token: String::new(),
    }
    .get("/metrics");
    assert_eq!(reply.status, 404, "{}", reply.text);
}

#[test]
fn metrics_count_requests_refusals_and_the_pool_for_the_admin() {
    let database = Database::sqlite();
    let admin = database.admin_token("read-only");
    let (tenant, token) = database.tenant();
    let server = database.serve_with(&["--metrics"]);
    let scim = server.client(&token);
    let user = json!({"schemas": [USER], "userName": "metered"});
    expect(&scim.post("/Users", &user), 201);
    expect(&scim.get("/Users?count=1"), 200);
    let stranger = server.client("scim_0000000000000000_nope");
    assert_eq!(stranger.get("/Users").status, 401);

    let operator = |token: &str| {
        Client {
            base: server.origin(),
            token: token.to_owned(),
        }
        .get("/metrics")
    };
    assert_eq!(
        operator(&token).status,
        401,
        "a SCIM token is not the admin's"
    );
    let reply = operator(&admin);
    assert_eq!(reply.status, 200, "{}", reply.text);
    let text = reply.text;
    let created = format!(
        "scimitar_requests_total{{tenant=\"{tenant}\",method=\"POST\",resource=\"Users\",status=\"201\"}} 1"
    );
    assert!(text.contains(&created), "{text}");
    assert!(
        text.contains(
            "scimitar_request_duration_seconds_count{method=\"GET\",resource=\"Users\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains("scimitar_auth_refusals_total{reason=\"malformed\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("scimitar_db_pool_max_connections 8"),
        "{text}"
    );
    let total = |name: &str| -> f64 {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|value| value.parse().ok())
            .unwrap_or(-1.0)
    };
    assert!(
        total("scimitar_db_pool_checkouts_total") >= 2.0,
        "every request checked a connection out: {text}"
    );
    assert!(
        total("scimitar_db_pool_wait_seconds_total") >= 0.0,
        "{text}"
    );
    assert!(total("scimitar_db_pool_timeouts_total") == 0.0, "{text}");
    assert!(
        total("scimitar_webhook_dead_letters_total") == 0.0,
        "{text}"
    );
    assert!(
        !text.contains(&token) && !text.contains(&admin),
        "no secret is shown"
    );
}

#[test]
fn metrics_count_webhook_delivery_attempts() {
    use common::receiver::Receiver;

    let database = Database::sqlite();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("scimitar.toml");
    std::fs::write(
        &config,
        "[metrics]\nenabled = true\n[webhooks]\npoll_interval_ms = 20\nretry_initial_ms = 20\n\
         retry_max_ms = 100\nrefresh_ms = 100\n",
    )
    .expect("write the config");
    let (tenant, token) = database.tenant();
    let receiver = Receiver::start();
    receiver.set_failing(true);
    database.cli(&["webhook", "add", &tenant, &receiver.url, "--secret", "s"]);
    let server = database.serve_with(&["--config", config.to_str().expect("path")]);
    let user = json!({"schemas": [USER], "userName": "hooked"});
    expect(&server.client(&token).post("/Users", &user), 201);
    receiver.wait_until("failed attempts", |d| d.len() >= 2);
    receiver.set_failing(false);
    receiver.wait_until("the delivery", |d| d.iter().any(|d| d.status == 200));

    // A scraper holds a read-only admin token.
    let scraper = database.admin_token("read-only");
    let scrape = || {
        Client {
            base: server.origin(),
            token: scraper.clone(),
        }
        .get("/metrics")
        .text
    };
    let count = |text: &str, result: &str| -> u64 {
        let prefix = format!("scimitar_webhook_delivery_attempts_total{{result=\"{result}\"}} ");
        text.lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .and_then(|n| n.parse().ok())
            .unwrap_or_default()
    };
    // The attempt is counted once the receiver's answer is read: just after it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut text = scrape();
    while count(&text, "delivered") == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
        text = scrape();
    }
    assert!(count(&text, "failed") >= 2, "{text}");
    assert_eq!(count(&text, "delivered"), 1, "{text}");
    // Delivered: nothing waits for the webhook any more.
    let backlog =
        format!("scimitar_webhook_pending_events{{tenant=\"{tenant}\",webhook=\"hook-1\"}} ");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !text.contains(&format!("{backlog}0")) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
        text = scrape();
    }
    assert!(text.contains(&format!("{backlog}0")), "{text}");
}
