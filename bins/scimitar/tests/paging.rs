//! Cursor paging (RFC 9865) through 1,000 users on SQLite and PostgreSQL: every
//! user exactly once.

mod common;

use std::collections::HashSet;

use common::{expect, form, Database, USER};
use serde_json::{json, Value};

fn pages_through_1000_users(database: Database) {
    let (_, token) = database.tenant();
    let server = database.serve();
    let client = server.client(&token);
    let operations: Vec<Value> = (0..1000)
        .map(|n| {
            json!({"method": "POST", "path": "/Users", "bulkId": format!("u{n}"),
                   "data": {"schemas": [USER], "userName": format!("page-{n:04}")}})
        })
        .collect();
    let bulk = client.post("/Bulk", &json!({"Operations": operations}));
    let results = expect(&bulk, 200)["Operations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        results.iter().all(|op| op["status"] == "201"),
        "a bulk create failed"
    );

    // Pages alternate between two servers: the cursor key is the database's.
    let second = database.serve();
    let second_client = second.client(&token);
    let mut seen = HashSet::new();
    let mut cursor = String::new();
    for turn in 0..20 {
        let client = if turn % 2 == 0 {
            &client
        } else {
            &second_client
        };
        let page = client.get(&format!(
            "/Users?cursor={}&count=150&sortBy=userName",
            form(&cursor)
        ));
        let page = expect(&page, 200);
        assert_eq!(page["totalResults"], 1000);
        for user in page["Resources"].as_array().into_iter().flatten() {
            let id = user["id"].as_str().expect("id").to_owned();
            assert!(seen.insert(id), "a user came twice");
        }
        match page["nextCursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 1000);
}

#[test]
fn cursor_paging_on_sqlite() {
    pages_through_1000_users(Database::sqlite());
}

#[test]
fn cursor_paging_on_postgres() {
    let Some(database) = Database::postgres() else {
        return;
    };
    pages_through_1000_users(database);
}
