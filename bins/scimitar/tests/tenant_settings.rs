//! Tenant settings, the provisioning log and the admin API through the real
//! server, on SQLite and PostgreSQL.

mod common;

use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use common::{expect, expect_error, Database, ENTERPRISE, GROUP, PATCH_OP, USER};
use serde_json::{json, Value};

const ACME: &str = "urn:example:params:scim:schemas:extension:acme:2.0:User";

/// Settings changes apply to the next request (no credential cache).
fn config(dir: &tempfile::TempDir) -> PathBuf {
    let path = dir.path().join("scimitar.toml");
    std::fs::write(&path, "[limits]\ntoken_cache_seconds = 0\n").expect("write the config");
    path
}

fn settings_apply_over_http(database: Database) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(&dir);
    let (tenant, token) = database.tenant();
    let (limited, limited_token) = database.tenant();
    let schema = dir.path().join("acme.json");
    std::fs::write(
        &schema,
        json!({"id": ACME, "name": "Acme", "attributes": [
            {"name": "badge", "type": "integer", "multiValued": false}]})
        .to_string(),
    )
    .expect("write the schema");
    let shown = database.cli(&[
        "tenant",
        "settings",
        &tenant,
        "--schema-override",
        schema.to_str().expect("path"),
    ]);
    assert!(shown.contains(ACME), "{shown}");
    database.cli(&["tenant", "settings", &limited, "--rate-limit", "1"]);
    let server = database.serve_with(&["--config", config.to_str().expect("path")]);
    let client = server.client(&token);

    // Schema overrides: the tenant's /Schemas, and values of the new type.
    let schemas = client.get("/Schemas");
    let ids: Vec<&str> = expect(&schemas, 200)["Resources"]
        .as_array()
        .expect("schemas")
        .iter()
        .filter_map(|schema| schema["id"].as_str())
        .collect();
    assert!(ids.contains(&ACME), "{ids:?}");
    let user = json!({"schemas": [USER, ACME], "userName": "badged", ACME: {"badge": 7}});
    let created = client.post("/Users", &user);
    assert_eq!(expect(&created, 201)[ACME]["badge"], 7);

    // A repeated create is 409 by default; with a retry window, the same token's
    // replay answers 201 with the first one's resource.
    let boss = json!({"schemas": [USER], "userName": "boss", "displayName": "The Boss"});
    let first = client.post("/Users", &boss);
    let boss_id = expect(&first, 201)["id"].as_str().expect("id").to_owned();
    let again = client.post("/Users", &boss);
    expect_error(&again, 409);
    assert_eq!(again.body["scimType"], "uniqueness");
    database.cli(&[
        "tenant",
        "settings",
        &tenant,
        "--create-retry-window",
        "120",
    ]);
    let again = client.post("/Users", &boss);
    assert_eq!(expect(&again, 201)["id"], boss_id.as_str());

    // The manager, set as Entra ID does, comes back with displayName and $ref.
    let report_id = expect(&created, 201)["id"].as_str().expect("id").to_owned();
    let patch = json!({"schemas": [PATCH_OP], "Operations": [{"op": "Add",
        "path": format!("{ENTERPRISE}:manager"), "value": boss_id}]});
    expect(
        &client.send("PATCH", &format!("/Users/{report_id}"), Some(&patch)),
        200,
    );
    let read = client.get(&format!("/Users/{report_id}"));
    let manager = &expect(&read, 200)[ENTERPRISE]["manager"];
    assert_eq!(manager["value"], boss_id.as_str());
    assert_eq!(manager["displayName"], "The Boss");
    assert_eq!(
        manager["$ref"],
        format!("{}/Users/{boss_id}", server.base).as_str()
    );

    // Derived teams make Groups read-only.
    database.cli(&["tenant", "settings", &tenant, "--teams", "department"]);
    let group = json!({"schemas": [GROUP], "displayName": "Sales"});
    let refused = client.post("/Groups", &group);
    expect_error(&refused, 400);
    assert_eq!(refused.body["scimType"], "mutability");
    database.cli(&["tenant", "settings", &tenant, "--teams", "groups"]);
    expect(&client.post("/Groups", &group), 201);

    // Archive deletion: gone from SCIM.
    database.cli(&["tenant", "settings", &tenant, "--deletion", "archive"]);
    let delete = client.send("DELETE", &format!("/Users/{report_id}"), None);
    assert_eq!(delete.status, 204, "{}", delete.text);
    expect_error(&client.get(&format!("/Users/{report_id}")), 404);

    // The rate-limited tenant: a burst of 2, then 429 with Retry-After.
    let limited_client = server.client(&limited_token);
    let statuses: Vec<u16> = (0..4)
        .map(|_| limited_client.get("/Users?count=0").status)
        .collect();
    assert!(statuses.contains(&429), "{statuses:?}");
    let throttled = ureq::get(&format!("{}/Users", server.base))
        .set("Authorization", &format!("Bearer {limited_token}"))
        .call();
    match throttled {
        Err(ureq::Error::Status(429, response)) => {
            let retry_after: u64 = response
                .header("Retry-After")
                .and_then(|value| value.parse().ok())
                .expect("Retry-After seconds");
            assert!(retry_after >= 1);
            let body: Value = response.into_json().expect("a SCIM error body");
            assert_eq!(body["status"], "429");
        }
        other => panic!("expected 429, got {other:?}"),
    }
    // Other tenants are not limited.
    assert!((0..4).all(|_| client.get("/Users?count=0").status == 200));
}

#[test]
fn settings_apply_over_http_on_sqlite() {
    settings_apply_over_http(Database::sqlite());
}

#[test]
fn settings_apply_over_http_on_postgres() {
    let Some(database) = Database::postgres() else {
        return;
    };
    settings_apply_over_http(database);
}

/// Runs `scimitar log` until its output satisfies `done` (entries are written
/// after the response, in the background).
fn log_until(database: &Database, args: &[&str], done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let output = database.cli(args);
        if done(&output) || Instant::now() > deadline {
            return output;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

fn requests_are_logged_for_the_admin(database: Database) {
    let dir = tempfile::tempdir().expect("tempdir");
    let admin = database.admin_token("read-only");
    let config = config(&dir);
    let (tenant, token) = database.tenant();
    let server = database.serve_with(&["--config", config.to_str().expect("path")]);
    let client = server.client(&token);
    let user =
        |external: &str| json!({"schemas": [USER], "userName": "dup", "externalId": external});
    let created = client.post("/Users", &user("1"));
    let id = expect(&created, 201)["id"].as_str().expect("id").to_owned();
    expect_error(&client.post("/Users", &user("2")), 409);
    expect_error(&client.get("/Users?filter=nickName+zz+%22x%22"), 400);
    let patch = json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "Replace", "path": "active", "value": "False"},
        {"op": "replace", "value": {"password": "hunter2"}}]});
    expect(
        &client.send("PATCH", &format!("/Users/{id}"), Some(&patch)),
        200,
    );

    let errors = log_until(&database, &["log", &tenant, "--errors"], |out| {
        out.contains("uniqueness") && out.contains("invalidFilter")
    });
    assert!(errors.starts_with("TIME\tSTATUS"), "{errors}");
    assert!(
        errors.contains("409 uniqueness\tPOST create\tUsers\ttest"),
        "{errors}"
    );
    assert!(errors.contains("userName is already in use"), "{errors}");
    assert!(!errors.contains("PATCH"), "only failures: {errors}");
    let all = log_until(&database, &["log", &tenant, "--limit", "10"], |out| {
        out.contains("PATCH")
    });
    assert!(
        all.contains(&format!(
            "200\tPATCH patch replace:active replace:(password)\tUsers/{id}"
        )),
        "{all}"
    );
    assert!(
        all.contains(&format!("201\tPOST create\tUsers/{id}")),
        "{all}"
    );
    let secret = token.rsplit('_').next().expect("secret");
    assert!(!all.contains(secret) && !all.contains("hunter2"), "{all}");

    // The admin API: the same entries, to the admin token only.
    let url = format!(
        "{}/admin/v1/tenants/{tenant}/log?outcome=failure&limit=5",
        server.origin()
    );
    let refused = ureq::get(&url)
        .set("Authorization", &format!("Bearer {token}"))
        .call();
    assert!(
        matches!(refused, Err(ureq::Error::Status(401, _))),
        "SCIM tokens are refused"
    );
    let body: Value = ureq::get(&url)
        .set("Authorization", &format!("Bearer {admin}"))
        .call()
        .expect("the admin log")
        .into_json()
        .expect("JSON");
    let entries = body["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 2, "{body}");
    assert_eq!(entries[0]["scimType"], "invalidFilter");
    assert_eq!(entries[1]["status"], 409);
    assert_eq!(entries[1]["tokenLabel"], "test");
    assert!(entries[1]["userAgent"]
        .as_str()
        .is_some_and(|a| a.contains("ureq")));
}

#[test]
fn requests_are_logged_for_the_admin_on_sqlite() {
    requests_are_logged_for_the_admin(Database::sqlite());
}

#[test]
fn requests_are_logged_for_the_admin_on_postgres() {
    let Some(database) = Database::postgres() else {
        return;
    };
    requests_are_logged_for_the_admin(database);
}

#[test]
fn settings_shown_and_sent_back_keep_their_secrets() {
    let database = Database::sqlite();
    let (tenant, _) = database.tenant();
    let added = database.cli(&["webhook", "add", &tenant, "https://app.example/hook"]);
    let secret = added
        .lines()
        .find_map(|line| line.strip_prefix("signing secret (shown only this once): "))
        .expect("a generated secret")
        .to_owned();
    let shown = database.cli(&["tenant", "settings", &tenant]);
    assert!(
        !shown.contains(&secret) && shown.contains("<hidden>"),
        "{shown}"
    );
    // The printed settings, fed back unchanged.
    let again = database.cli(&["tenant", "settings", &tenant, "--set-json", &shown]);
    assert_eq!(again, shown);
    let stored = database.sqlite_value("SELECT settings FROM tenants WHERE id = ?", &tenant);
    assert!(
        stored.contains(&secret) && !stored.contains("<hidden>"),
        "{stored}"
    );
}

#[test]
fn misspelt_or_wrong_settings_are_refused_naming_the_field() {
    let database = Database::sqlite();
    let (tenant, _) = database.tenant();
    let before = database.cli(&["tenant", "settings", &tenant]);
    for (json, says) in [
        (
            r#"{"ratelimit": {"perSecond": 5}}"#,
            "`ratelimit` is not a tenant setting; the settings are policy, teams",
        ),
        (
            r#"{"deletion": "shred"}"#,
            "`deletion`: unknown variant `shred`",
        ),
        (
            r#"{"webhooks": [{"id": "a", "url": "https://x.example", "secret": "<hidden>"}]}"#,
            "webhook `a` is new",
        ),
        (
            r#"{"createRetryWindowSeconds": 99999}"#,
            "`createRetryWindowSeconds`: must be at most 3600",
        ),
    ] {
        let refused = database.cli_error(&["tenant", "settings", &tenant, "--set-json", json]);
        assert!(refused.contains(says), "{json}: {refused}");
    }
    let refused = database.cli_error(&["webhook", "add", &tenant, "ftp://x.example/hook"]);
    assert!(refused.contains("`webhooks[0].url`"), "{refused}");
    assert_eq!(database.cli(&["tenant", "settings", &tenant]), before);
}
