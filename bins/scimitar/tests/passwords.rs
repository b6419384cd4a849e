//! User passwords reach the database only as argon2id hashes, whatever the request
//! that carries them.

mod common;

use common::{expect, Database, USER};
use serde_json::json;

/// Every byte of the SQLite database (main file, WAL, shared memory).
fn database_bytes(url: &str) -> Vec<u8> {
    let path = std::path::Path::new(url.trim_start_matches("sqlite://"));
    let dir = path.parent().expect("database directory");
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read the database directory") {
        let entry = entry.expect("directory entry");
        bytes.extend(std::fs::read(entry.path()).expect("read a database file"));
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[test]
fn passwords_are_stored_only_as_argon2id_hashes() {
    let database = Database::sqlite();
    let (_, token) = database.tenant();
    let server = database.serve();
    let client = server.client(&token);
    let sent = [
        "Create-Pl41n-Secret",
        "Put-Pl41n-Secret",
        "PatchPath-Pl41n-Secret",
        "PatchPathless-Pl41n-Secret",
        "Bulk-Pl41n-Secret",
    ];

    let created = expect(
        &client.post(
            "/Users",
            &json!({"schemas": [USER], "userName": "okta.user", "password": sent[0]}),
        ),
        201,
    )
    .clone();
    assert!(created.get("password").is_none(), "{created}");
    let path = format!("/Users/{}", created["id"].as_str().expect("id"));
    expect(
        &client.put(
            &path,
            &json!({"schemas": [USER], "userName": "okta.user", "Password": sent[1]}),
        ),
        200,
    );
    let patch = |operation| {
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
               "Operations": [operation]})
    };
    expect(
        &client.patch(
            &path,
            &patch(json!({"op": "replace", "path": "password", "value": sent[2]})),
        ),
        200,
    );
    expect(
        &client.patch(
            &path,
            &patch(json!({"op": "replace", "value": {"password": sent[3], "active": true}})),
        ),
        200,
    );
    let bulk = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [{"method": "POST", "path": "/Users", "bulkId": "b1",
                        "data": {"schemas": [USER], "userName": "bulk.user", "password": sent[4]}}]
    });
    let reply = expect(&client.post("/Bulk", &bulk), 200).clone();
    assert_eq!(reply["Operations"][0]["status"], "201", "{reply}");
    server.kill();

    let stored = database_bytes(&database.url);
    for password in sent {
        assert!(
            !contains(&stored, password),
            "{password} is in the database"
        );
    }
    // The documents are binary JSON on SQLite (JSONB): the hash is there as its
    // text, not as a `"password":"..."` member.
    assert!(
        contains(&stored, "$argon2id$v=19$"),
        "no argon2id password hash in the database"
    );
}
