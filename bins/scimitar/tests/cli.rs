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
fn tokens_rotate_and_revoke_and_tenants_disable() {
    let database = Database::sqlite();
    let (tenant, first) = database.tenant();
    let second = database.cli(&["token", "issue", &tenant, "--label", "rotation"]);
    let second = second.trim();
    assert_eq!(second.lines().count(), 1, "the token alone on stdout");
    let listed = database.cli(&["token", "list", &tenant]);
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(!listed.contains(second), "token list must not show secrets");

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
