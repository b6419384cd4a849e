//! What a group PATCH answers: 204 and the new `ETag` by default, 200 and the
//! group with `patch_answer = "resource"` in the settings file.

mod common;

use common::{expect, Database, GROUP, PATCH_OP, USER};
use serde_json::{json, Value};

/// A group with one member, and the PATCH that adds a second.
fn group_and_member_add(client: &common::Client) -> (String, Value) {
    let user = |name: &str| {
        let created = client.post("/Users", &json!({"schemas": [USER], "userName": name}));
        expect(&created, 201)["id"].as_str().expect("id").to_owned()
    };
    let (first, second) = (user("first"), user("second"));
    let group = json!({"schemas": [GROUP], "displayName": "Sales", "members": [{"value": first}]});
    let group = expect(&client.post("/Groups", &group), 201)["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let add = json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": second}]}]});
    (group, add)
}

#[test]
fn group_patches_answer_204_unless_the_settings_ask_for_the_group() {
    let database = Database::sqlite();
    let (_, token) = database.tenant();
    let server = database.serve();
    let client = server.client(&token);
    let (group, add) = group_and_member_add(&client);
    let patched = client.patch(&format!("/Groups/{group}"), &add);
    assert_eq!(patched.status, 204, "{}", patched.text);

    let database = Database::sqlite();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("scimitar.toml");
    std::fs::write(&config, "patch_answer = \"resource\"\n").expect("write the config");
    let (_, token) = database.tenant();
    let server = database.serve_with(&["--config", config.to_str().expect("path")]);
    let client = server.client(&token);
    let (group, add) = group_and_member_add(&client);
    let patched = client.patch(&format!("/Groups/{group}"), &add);
    let patched = expect(&patched, 200);
    assert_eq!(patched["displayName"], "Sales");
    assert_eq!(patched["members"].as_array().map(Vec::len), Some(2));
}
