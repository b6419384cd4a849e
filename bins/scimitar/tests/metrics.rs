//! `GET /metrics`: off unless enabled, behind the admin token when one is set,
//! and counting what the server did.

mod common;

use common::{expect, Client, Database, USER};
use serde_json::json;

fn admin_token(database: &Database) -> (String, String) {
    let issued = database.cli(&["admin", "token", "issue"]);
    let mut lines = issued.lines();
    let token = lines.next().expect("a token").to_owned();
    let hash = lines.next().expect("a hash").to_owned();
    (token, hash)
}

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
    let (admin, hash) = admin_token(&database);
    let (tenant, token) = database.tenant();
    let server = database.serve_with(&["--metrics", "--admin-token-hash", &hash]);
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
    assert!(
        !text.contains(&token) && !text.contains(&admin),
        "no secret is shown"
    );
}
