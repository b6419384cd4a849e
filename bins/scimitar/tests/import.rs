//! `scimitar import`: a first sync from CSV or JSON lines, on SQLite and
//! PostgreSQL, with every create rule applied and failures named by line.

mod common;

use common::{expect, Database, ENTERPRISE, USER};
use serde_json::json;

/// Imports into a new tenant of `database`; returns the tenant.
fn imports_users_and_names_the_failures(database: &Database) -> String {
    let (tenant, token) = database.tenant();
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("users.csv");
    let mut text = String::from("userName,givenName,familyName,email,active,department\n");
    for i in 0..1200 {
        text.push_str(&format!(
            "u{i}@contoso.com,Given{i},Family{i},u{i}@contoso.com,true,Sales\n"
        ));
    }
    // Line 1202: a userName taken earlier in the file; 1203: no userName.
    text.push_str("U7@Contoso.com,Again,Seven,,true,\n,Nobody,,,,\n");
    std::fs::write(&csv, text).expect("write the CSV");
    let failed = database.cli_error(&[
        "import",
        &tenant,
        csv.to_str().expect("path"),
        "--batch",
        "100",
    ]);
    assert!(
        failed.contains("users.csv:1202: userName is already in use"),
        "{failed}"
    );
    assert!(
        failed.contains("users.csv:1203: attribute `userName` is required"),
        "{failed}"
    );
    assert!(
        failed.contains("2 of 1202 users were not imported"),
        "{failed}"
    );

    let jsonl = dir.path().join("more.jsonl");
    let users: Vec<String> = (0..300)
        .map(|i| {
            json!({"schemas": [USER, ENTERPRISE], "userName": format!("j{i}@contoso.com"),
                   ENTERPRISE: {"department": "Support"}})
            .to_string()
        })
        .collect();
    std::fs::write(&jsonl, users.join("\n")).expect("write the JSON lines");
    let done = database.cli(&[
        "import",
        &tenant,
        jsonl.to_str().expect("path"),
        "--parallel",
        "3",
    ]);
    assert!(
        done.contains("imported 300 users") && done.contains("0 failed"),
        "{done}"
    );

    // What arrived is what a SCIM client sees, as if each had been POSTed.
    let server = database.serve();
    let client = server.client(&token);
    let all = client.get("/Users?count=1");
    assert_eq!(expect(&all, 200)["totalResults"], 1500);
    let found = client.get("/Users?filter=userName%20eq%20%22u1199@contoso.com%22");
    let user = &expect(&found, 200)["Resources"][0];
    assert_eq!(user["name"]["familyName"], "Family1199");
    assert_eq!(user["emails"][0]["value"], "u1199@contoso.com");
    assert_eq!(user[ENTERPRISE]["department"], "Sales");
    tenant
}

#[test]
fn imports_users_and_names_the_failures_on_sqlite() {
    let database = Database::sqlite();
    let tenant = imports_users_and_names_the_failures(&database);
    // Each user has its event, as a SCIM create would leave; failures none.
    let events = database.sqlite_value("SELECT count(*) FROM events WHERE tenant_id = ?", &tenant);
    assert_eq!(events, "1500");
}

#[test]
fn imports_users_and_names_the_failures_on_postgres() {
    let Some(database) = Database::postgres() else {
        return;
    };
    imports_users_and_names_the_failures(&database);
}
