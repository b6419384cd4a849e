//! The administration commands and the first start, on the real binary.

mod common;

use std::process::Command;

use common::{expect, expect_error, Database, Server};

#[test]
fn first_start_creates_default_tenant_and_prints_a_working_token_once() {
    let database = Database::sqlite();
    let server = database.serve();
    let token = server.first_token.clone().expect("a first-start token");
    assert!(token.starts_with("scim_"), "{token}");
    assert!(server.base.ends_with("/scim/v2"), "{}", server.base);
    let client = server.client(&token);
    assert_eq!(expect(&client.get("/Users"), 200)["totalResults"], 0);
    drop(server);
    let again = database.serve();
    assert_eq!(again.first_token, None);
    let tenants = database.cli(&["tenant", "list"]);
    assert!(tenants.starts_with("default\tenabled"), "{tenants}");
}

#[test]
fn a_failed_bind_costs_no_first_start_token() {
    let database = Database::sqlite();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let address = taken.local_addr().expect("its address").to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let token_file = dir.path().join("first-token");
    let output = Command::new(env!("CARGO_BIN_EXE_scimitar"))
        .args([
            "serve",
            "--listen",
            &address,
            "--database-url",
            &database.url,
        ])
        .arg("--first-token-file")
        .arg(&token_file)
        .output()
        .expect("run scimitar serve");
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("scim_"), "{stdout}");
    assert!(std::fs::read_to_string(&token_file)
        .unwrap_or_default()
        .is_empty());
    // Nothing was created, so the next start that binds makes the tenant and token.
    assert_eq!(database.cli(&["tenant", "list"]), "");
    drop(taken);
    let server = database.serve();
    assert!(server.first_token.is_some());
}

#[test]
fn tokens_rotate_and_revoke_and_tenants_disable() {
    let database = Database::sqlite();
    let (tenant, first) = database.tenant();
    let second = database.cli(&["token", "issue", &tenant, "--label", "rotation"]);
    let second = second.trim();
    assert_eq!(second.lines().count(), 1, "the token alone on stdout");
    let listed = database.cli(&["token", "list", &tenant]);
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(
        !listed.contains("expires"),
        "no expiry column without one: {listed}"
    );
    assert!(!listed.contains(second), "token list must not show secrets");

    let expiring = database.cli(&[
        "token",
        "issue",
        &tenant,
        "--label",
        "q",
        "--expires-in-days",
        "90",
    ]);
    let expiring_id = expiring
        .trim()
        .split('_')
        .nth(1)
        .expect("token id")
        .to_owned();
    let listed = database.cli(&["token", "list", &tenant]);
    assert!(
        listed
            .lines()
            .any(|line| line.starts_with(&expiring_id) && line.contains("\texpires ")),
        "{listed}"
    );
    database.cli(&["token", "revoke", &expiring_id]);
    let first_id = first.split('_').nth(1).expect("token id");
    database.cli(&["token", "revoke", first_id]);
    assert!(database
        .cli(&["token", "list", &tenant])
        .contains("revoked"));

    let server = database.serve();
    expect_error(&server.client(&first).get("/Users"), 401);
    expect(&server.client(second).get("/Users"), 200);
    drop(server);

    database.cli(&["tenant", "disable", &tenant]);
    let server = database.serve();
    expect_error(&server.client(second).get("/Users"), 403);
    drop(server);
    database.cli(&["tenant", "enable", &tenant]);
    let server = database.serve();
    expect(&server.client(second).get("/Users"), 200);
    // A token is good on its own tenant's URL only.
    let tenant_base = server
        .base
        .replace("/scim/v2", &format!("/tenants/{tenant}/scim/v2"));
    let mut on_url = server.client(second);
    on_url.base = tenant_base;
    expect(&on_url.get("/Users"), 200);
    on_url.base = server.base.replace("/scim/v2", "/tenants/default/scim/v2");
    expect_error(&on_url.get("/Users"), 403);
}

#[test]
fn tokens_bound_to_a_user_reach_it_at_me() {
    let database = Database::sqlite();
    let (tenant, provisioning) = database.tenant();
    let (other_tenant, _) = database.tenant();
    let server = database.serve();
    let client = server.client(&provisioning);
    let user = expect(
        &client.post(
            "/Users",
            &serde_json::json!({"schemas": [common::USER], "userName": "bjensen"}),
        ),
        201,
    )
    .clone();
    let id = user["id"].as_str().expect("user id");

    // Only an existing user of the token's own tenant can be bound.
    let refuse = |tenant: &str, user: &str| {
        let output = Command::new(env!("CARGO_BIN_EXE_scimitar"))
            .arg("--database-url")
            .arg(&database.url)
            .args(["token", "issue", tenant, "--user", user])
            .env("RUST_LOG", "warn")
            .output()
            .expect("run scimitar token issue");
        assert_eq!(output.status.code(), Some(1), "{output:?}");
        assert!(output.stdout.is_empty(), "no token printed: {output:?}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let stderr = refuse(&tenant, "no-such-user");
    assert!(
        stderr.contains(&format!("tenant {tenant} has no User with id no-such-user")),
        "{stderr}"
    );
    let stderr = refuse(&other_tenant, id);
    assert!(stderr.contains("has no User with id"), "{stderr}");
    assert_eq!(
        database
            .cli(&["token", "list", &other_tenant])
            .lines()
            .count(),
        1,
        "nothing was issued"
    );

    let bound = database.cli(&["token", "issue", &tenant, "--label", "app", "--user", id]);
    let bound = bound.trim();
    assert_eq!(bound.lines().count(), 1, "the token alone on stdout");
    let listed = database.cli(&["token", "list", &tenant]);
    let bound_id = bound.split('_').nth(1).expect("token id");
    let line = listed
        .lines()
        .find(|line| line.starts_with(bound_id))
        .unwrap_or_else(|| panic!("{listed}"));
    assert!(line.ends_with(&format!("\tuser {id}")), "{line}");
    let provisioning_id = provisioning.split('_').nth(1).expect("token id");
    assert!(
        listed.lines().any(|line| line.starts_with(provisioning_id)
            && line.split('\t').count() == 4
            && line.contains("\tlast used ")),
        "an unbound token's line is as before: {listed}"
    );

    let me = server.client(bound).get("/Me");
    assert_eq!(expect(&me, 200)["id"], id);
    assert_eq!(
        me.body["meta"]["location"],
        format!("{}/Users/{id}", server.base)
    );
    expect_error(&client.get("/Me"), 501);
    expect(&server.client(bound).delete("/Me"), 204);
    expect_error(&server.client(bound).get("/Me"), 404);
}

#[test]
fn health_and_readiness_need_no_token() {
    let database = Database::sqlite();
    let server: Server = database.serve();
    let origin = server.base.trim_end_matches("/scim/v2").to_owned();
    for probe in ["/healthz", "/readyz"] {
        let response = ureq::get(&format!("{origin}{probe}")).call().expect(probe);
        assert_eq!(response.status(), 200);
    }
    // Outside the SCIM scopes, errors are SCIM errors too.
    let client = common::Client {
        base: origin,
        token: String::new(),
    };
    expect_error(&client.get("/scim/v3/Users"), 404);
}

#[test]
fn readiness_fails_while_a_migration_is_missing() {
    let database = Database::sqlite();
    let server: Server = database.serve();
    let origin = server.base.trim_end_matches("/scim/v2").to_owned();
    let ready = || match ureq::get(&format!("{origin}/readyz")).call() {
        Ok(response) | Err(ureq::Error::Status(_, response)) => (
            response.status(),
            response.into_string().unwrap_or_default(),
        ),
        Err(error) => panic!("/readyz: {error}"),
    };
    assert_eq!(ready().0, 200);
    // Someone reverts the newest migration's record (Python's sqlite3, not ours).
    let path = database.url.trim_start_matches("sqlite://").to_owned();
    let reverted = Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys; c = sqlite3.connect(sys.argv[1]); \
             c.execute('DELETE FROM __diesel_schema_migrations WHERE version = \
             (SELECT MAX(version) FROM __diesel_schema_migrations)'); c.commit()",
            &path,
        ])
        .status()
        .expect("run python3");
    assert!(reverted.success());
    let (status, body) = ready();
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains("1 database migration(s) not applied"),
        "{body}"
    );
}

#[test]
fn filter_command_parenthesises_or_points_at_the_error() {
    let run = |expression: &str| {
        Command::new(env!("CARGO_BIN_EXE_scimitar"))
            .args(["filter", expression])
            .output()
            .expect("run scimitar filter")
    };
    let ok = run(r#"userName eq "bjensen" and active eq true or title pr"#);
    assert!(ok.status.success());
    assert_eq!(
        String::from_utf8_lossy(&ok.stdout).trim(),
        r#"((userName eq "bjensen" and active eq true) or title pr)"#
    );
    let bad = run(r#"userName = "bjensen""#);
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("position 9"), "{stderr}");
    assert!(
        stderr.contains("userName = \"bjensen\"\n         ^"),
        "{stderr}"
    );
}

#[test]
fn migrate_reports_the_backend() {
    let database = Database::sqlite();
    assert!(database.cli(&["migrate"]).contains("sqlite"));
}

#[test]
fn tenant_ids_are_slugs() {
    let database = Database::sqlite();
    let refused = database.cli_error(&["tenant", "add", "Acme Corp"]);
    assert!(
        refused.contains("not a slug") && refused.contains("`acme-corp`"),
        "{refused}"
    );
    database.cli(&["tenant", "add", "acme-corp"]);
}

#[test]
fn tenant_remove_erases_everything_of_the_tenant() {
    let database = Database::sqlite();
    let (doomed, doomed_token) = database.tenant();
    let (kept, kept_token) = database.tenant();
    database.cli(&["webhook", "add", &doomed, "https://example.com/hook"]);
    let server = database.serve();
    for token in [&doomed_token, &kept_token] {
        let client = server.client(token);
        expect(
            &client.post(
                "/Users",
                &serde_json::json!({"schemas": [common::USER], "userName": "bjensen"}),
            ),
            201,
        );
    }
    std::thread::sleep(std::time::Duration::from_millis(300)); // the log writer

    // Without --yes and without a terminal: refused, and nothing changes.
    let refused = database.cli_error(&["tenant", "remove", &doomed]);
    assert!(refused.contains("--yes"), "{refused}");
    assert!(database.cli(&["tenant", "list"]).contains(&doomed));

    database.cli(&["tenant", "remove", &doomed, "--yes"]);
    assert!(!database.cli(&["tenant", "list"]).contains(&doomed));
    let gone = database.cli_error(&["log", &doomed]);
    assert!(gone.contains("not found"), "{gone}");
    // Nothing of it is left in any table (read with Python's sqlite3, not ours).
    let rows = |table: &str, column: &str| -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE {column} = ?");
        database.sqlite_value(&sql, &doomed).parse().unwrap_or(-1)
    };
    for table in [
        "resources",
        "resource_counts",
        "events",
        "tokens",
        "provisioning_log",
        "outbox_consumers",
        "archived_resources",
    ] {
        assert_eq!(
            rows(table, "tenant_id"),
            0,
            "{table} keeps rows of {doomed}"
        );
    }
    assert_eq!(rows("tenants", "id"), 0);
    // The other tenant is whole.
    let client = server.client(&kept_token);
    assert_eq!(expect(&client.get("/Users"), 200)["totalResults"], 1);
    assert!(database.cli(&["log", &kept]).contains("create"));
}

#[test]
fn admin_commands_refuse_a_database_that_does_not_exist() {
    let database = Database::sqlite_path();
    let path = std::path::PathBuf::from(database.url.trim_start_matches("sqlite://"));
    for args in [
        &["tenant", "list"][..],
        &["token", "issue", "default"],
        &["log", "default"],
    ] {
        let refused = database.cli_error(args);
        assert!(
            refused.contains("there is no database at"),
            "{args:?}: {refused}"
        );
        assert!(!path.exists(), "{args:?} created {}", path.display());
    }
    database.cli(&["migrate"]);
    assert!(path.exists());
    assert_eq!(database.cli(&["tenant", "list"]), "");
}

/// Polls `path` with `client` until it answers `status`, for at most `within`;
/// returns how long it took.
fn answers_within(
    client: &common::Client,
    path: &str,
    status: u16,
    within: std::time::Duration,
) -> std::time::Duration {
    let started = std::time::Instant::now();
    loop {
        let reply = client.get(path);
        if reply.status == status {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "still {} after {within:?}, wanted {status}: {}",
            reply.status,
            reply.text
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn changes_reach_running_servers_within_a_second(database: Database) {
    let (tenant, token) = database.tenant();
    // Two servers with the default 60 s token cache, each holding the token: the
    // CLI tells neither of them.
    let (first, second) = (database.serve(), database.serve());
    let (first_client, second_client) = (first.client(&token), second.client(&token));
    for client in [&first_client, &second_client] {
        expect(&client.get("/Users"), 200);
    }
    // The mechanism's bound is 250 ms (how often a server reads the directory
    // version); the rest is slack for a loaded test machine, far below the 60 s
    // token cache this replaced.
    let within = std::time::Duration::from_secs(2);

    database.cli(&["tenant", "disable", &tenant]);
    for client in [&first_client, &second_client] {
        answers_within(client, "/Users", 403, within);
    }
    let refused = first_client.get("/Users");
    assert!(
        refused.body["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("disabled")),
        "{}",
        refused.text
    );
    database.cli(&["tenant", "enable", &tenant]);
    answers_within(&second_client, "/Users", 200, within);

    database.cli(&["tenant", "settings", &tenant, "--rate-limit", "1"]);
    let limited = std::time::Instant::now();
    loop {
        if second_client.get("/Users").status == 429 {
            break;
        }
        assert!(limited.elapsed() < within, "the rate limit did not arrive");
    }

    let id = token.split('_').nth(1).expect("token id");
    database.cli(&["token", "revoke", id]);
    for client in [&first_client, &second_client] {
        answers_within(client, "/Users", 401, within);
    }
}

#[test]
fn changes_reach_running_servers_within_a_second_on_sqlite() {
    changes_reach_running_servers_within_a_second(Database::sqlite());
}

#[test]
fn changes_reach_running_servers_within_a_second_on_postgres() {
    let Some(database) = Database::postgres() else {
        return;
    };
    changes_reach_running_servers_within_a_second(database);
}
