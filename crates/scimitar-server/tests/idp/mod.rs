//! The request sequences of Microsoft Entra ID's provisioning tutorial and Okta's
//! SCIM 2.0 test flow, with the blocking client they run on. Shared with the
//! binary's tests, which run them on SQLite and PostgreSQL.

#![allow(dead_code)]

use std::time::Duration;

use serde_json::{json, Value};

pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A blocking SCIM client.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub token: String,
}

/// A response, whatever its status.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub text: String,
}

impl Client {
    pub fn send(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        self.send_with(method, path, body, &[])
    }

    pub fn send_with(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = ureq::request(method, &format!("{}{path}", self.base))
            .timeout(Duration::from_secs(60))
            .set("Authorization", &format!("Bearer {}", self.token))
            .set("Accept", "application/scim+json");
        for (name, value) in headers {
            request = request.set(name, value);
        }
        let result = match body {
            Some(body) => request
                .set("Content-Type", "application/scim+json; charset=utf-8")
                .send_string(&body.to_string()),
            None => request.call(),
        };
        let response = match result {
            Ok(response) | Err(ureq::Error::Status(_, response)) => response,
            Err(error) => panic!("{method} {path}: {error}"),
        };
        let status = response.status();
        let text = response.into_string().unwrap_or_default();
        Reply {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None)
    }

    pub fn post(&self, path: &str, body: &Value) -> Reply {
        self.send("POST", path, Some(body))
    }

    pub fn put(&self, path: &str, body: &Value) -> Reply {
        self.send("PUT", path, Some(body))
    }

    pub fn patch(&self, path: &str, body: &Value) -> Reply {
        self.send("PATCH", path, Some(body))
    }

    pub fn delete(&self, path: &str) -> Reply {
        self.send("DELETE", path, None)
    }
}

/// Asserts `reply` has `status`, showing the body otherwise.
#[track_caller]
pub fn expect(reply: &Reply, status: u16) -> &Value {
    assert_eq!(reply.status, status, "{}", reply.text);
    &reply.body
}

/// Asserts `reply` is a SCIM error of `status`.
#[track_caller]
pub fn expect_error(reply: &Reply, status: u16) {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert_eq!(
        reply.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    assert_eq!(reply.body["status"], status.to_string());
    assert!(reply.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
}

/// Percent-encodes a query parameter value as a form would (`+` for spaces).
pub fn form(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b' ' => out.push('+'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

fn user_filter(client: &Client, filter: &str) -> Value {
    let reply = client.get(&format!("/Users?filter={}", form(filter)));
    expect(&reply, 200).clone()
}

pub fn entra_flow(client: &Client) {
    // Test Connection: a random userName matches nothing, with 200.
    let probe = uuid::Uuid::new_v4();
    let empty = user_filter(client, &format!("userName eq \"{probe}\""));
    assert_eq!(empty["totalResults"], 0);
    assert_eq!(empty["Resources"], json!([]));
    let groups = client.get(&format!(
        "/Groups?excludedAttributes=members&filter={}",
        form(&format!("displayName eq \"{probe}\""))
    ));
    assert_eq!(expect(&groups, 200)["totalResults"], 0);

    // Create, as the tutorial sends it.
    let user_name = format!("Test_User_{}@testuser.com", uuid::Uuid::new_v4().simple());
    let body = json!({
        "schemas": [USER, ENTERPRISE],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": user_name,
        "active": true,
        "addresses": [{"primary": true, "type": "work", "country": "Germany"}],
        "displayName": "Test User",
        "emails": [{"primary": true, "type": "work", "value": "Test_User@testuser.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": [],
        ENTERPRISE: {"department": "Sales", "employeeNumber": "123"}
    });
    let created = client.post("/Users", &body);
    let user = expect(&created, 201).clone();
    let id = user["id"].as_str().expect("id").to_owned();
    assert_eq!(user["userName"], user_name);
    assert_eq!(user["emails"], body["emails"]);
    assert_eq!(user["name"], body["name"]);
    assert_eq!(user[ENTERPRISE]["department"], "Sales");
    assert_eq!(user["meta"]["resourceType"], "User");
    expect_error(
        &client.post(
            "/Users",
            &json!({"schemas": [USER], "userName": user_name, "displayName": "dup"}),
        ),
        409,
    );

    // Matching.
    let by_name = user_filter(client, &format!("userName eq \"{user_name}\""));
    assert_eq!(by_name["totalResults"], 1);
    assert_eq!(by_name["Resources"][0]["id"], id);
    let by_external = user_filter(
        client,
        "externalId eq \"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\"",
    );
    assert_eq!(by_external["Resources"][0]["id"], id);

    // PATCH, default mode: capitalised ops, string booleans, filtered paths.
    let manager = expect(
        &client.post(
            "/Users",
            &json!({"schemas": [USER], "userName": format!("mgr-{}", uuid::Uuid::new_v4())}),
        ),
        201,
    )["id"]
        .as_str()
        .expect("manager id")
        .to_owned();
    let patched = client.patch(
        &format!("/Users/{id}"),
        &json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
            {"op": "Add", "path": format!("{ENTERPRISE}:manager"), "value": manager},
            {"op": "Replace", "path": format!("{ENTERPRISE}:employeeNumber"), "value": "456"}
        ]}),
    );
    let patched = expect(&patched, 200);
    assert_eq!(patched["emails"][0]["value"], "updatedEmail@microsoft.com");
    assert_eq!(patched["name"]["familyName"], "updatedFamilyName");
    assert_eq!(patched[ENTERPRISE]["manager"]["value"], manager.as_str());
    assert_eq!(patched[ENTERPRISE]["employeeNumber"], "456");

    // Clear the manager as Entra's validation workflow does.
    let cleared = client.patch(
        &format!("/Users/{id}"),
        &json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "Replace", "path": format!("{ENTERPRISE}:manager"), "value": ""}
        ]}),
    );
    assert!(
        expect(&cleared, 200)[ENTERPRISE].get("manager").is_none(),
        "{}",
        cleared.text
    );

    // Groups: create with the extra schema, add two members, remove one by value list.
    let group = client.post(
        "/Groups",
        &json!({
            "schemas": [GROUP, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "displayName",
            "meta": {"resourceType": "Group"}
        }),
    );
    let group_id = expect(&group, 201)["id"]
        .as_str()
        .expect("group id")
        .to_owned();
    let add = client.patch(
        &format!("/Groups/{group_id}"),
        &json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "Add", "path": "members", "value": [{"$ref": null, "value": id}, {"$ref": null, "value": manager}]}
        ]}),
    );
    expect(&add, 204);
    let members = |client: &Client| -> Vec<String> {
        let group = client.get(&format!("/Groups/{group_id}"));
        expect(&group, 200)["members"]
            .as_array()
            .map(|members| {
                members
                    .iter()
                    .filter_map(|m| m["value"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(members(client), [id.as_str(), manager.as_str()]);
    let remove = client.patch(
        &format!("/Groups/{group_id}"),
        &json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "Remove", "path": "members", "value": [{"value": id}]}
        ]}),
    );
    expect(&remove, 204);
    assert_eq!(members(client), [manager.as_str()]);
    let listed = client.get(&format!(
        "/Groups?excludedAttributes=members&filter={}",
        form("displayName eq \"displayName\"")
    ));
    let listed = expect(&listed, 200);
    assert_eq!(listed["totalResults"], 1);
    assert!(listed["Resources"][0].get("members").is_none(), "{listed}");

    // Deactivate with a string boolean: still readable and filterable.
    let deactivated = client.patch(
        &format!("/Users/{id}"),
        &json!({"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}),
    );
    assert_eq!(expect(&deactivated, 200)["active"], false);
    let inactive = user_filter(
        client,
        &format!("userName eq \"{user_name}\" and active eq false"),
    );
    assert_eq!(inactive["totalResults"], 1);

    // Paging echoes startIndex.
    let page = client.get("/Users?startIndex=2&count=5");
    assert_eq!(expect(&page, 200)["startIndex"], 2);

    // Delete.
    assert_eq!(client.delete(&format!("/Users/{id}")).status, 204);
    expect_error(&client.get(&format!("/Users/{id}")), 404);
    assert_eq!(client.delete(&format!("/Groups/{group_id}")).status, 204);
}

pub fn okta_flow(client: &Client) {
    let user_name = format!("okta.{}@example.com", uuid::Uuid::new_v4().simple());
    let matched = client.get(&format!(
        "/Users?filter={}&startIndex=1&count=100",
        form(&format!("userName eq \"{user_name}\""))
    ));
    assert_eq!(expect(&matched, 200)["totalResults"], 0);

    let body = json!({
        "schemas": [USER],
        "userName": user_name,
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": true, "value": user_name, "type": "work"}],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": true
    });
    let created = client.post("/Users", &body);
    let user = expect(&created, 201).clone();
    assert!(user.get("password").is_none(), "password returned: {user}");
    let id = user["id"].as_str().expect("id").to_owned();
    let shouted =
        json!({"schemas": [USER], "userName": user_name.to_uppercase(), "displayName": "Other"});
    expect_error(&client.post("/Users", &shouted), 409);
    let case_insensitive = user_filter(
        client,
        &format!("userName eq \"{}\"", user_name.to_uppercase()),
    );
    assert_eq!(case_insensitive["totalResults"], 1);

    // Update: GET, then PUT the full object back.
    let mut full = expect(&client.get(&format!("/Users/{id}")), 200).clone();
    assert!(full.get("password").is_none());
    full["name"]["familyName"] = json!("Changed");
    let replaced = client.put(&format!("/Users/{id}"), &full);
    assert_eq!(expect(&replaced, 200)["name"]["familyName"], "Changed");

    // Path-less deactivate, then reactivate by PUT.
    let deactivated = client.patch(
        &format!("/Users/{id}"),
        &json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": false}}]}),
    );
    assert_eq!(expect(&deactivated, 200)["active"], false);
    let mut active = expect(&client.get(&format!("/Users/{id}")), 200).clone();
    active["active"] = json!(true);
    assert_eq!(
        expect(&client.put(&format!("/Users/{id}"), &active), 200)["active"],
        true
    );

    // Group push.
    let second = expect(
        &client.post(
            "/Users",
            &json!({"schemas": [USER], "userName": format!("second-{}", uuid::Uuid::new_v4())}),
        ),
        201,
    )["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let group = client.post(
        "/Groups",
        &json!({"schemas": [GROUP], "displayName": "Test SCIMv2", "members": []}),
    );
    let group_id = expect(&group, 201)["id"]
        .as_str()
        .expect("group id")
        .to_owned();
    let renamed = client.patch(
        &format!("/Groups/{group_id}"),
        &json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "replace", "value": {"id": group_id, "displayName": "Renamed SCIMv2"}}
        ]}),
    );
    // Group PATCHes answer 204 (as Entra ID and Okta document), so the
    // rename is read back.
    expect(&renamed, 204);
    let group = client.get(&format!("/Groups/{group_id}"));
    assert_eq!(expect(&group, 200)["displayName"], "Renamed SCIMv2");
    let added = client.patch(
        &format!("/Groups/{group_id}"),
        &json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "add", "path": "members", "value": [{"value": id, "display": user_name}]}
        ]}),
    );
    expect(&added, 204);
    let mixed = client.patch(
        &format!("/Groups/{group_id}"),
        &json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "remove", "path": format!("members[value eq \"{id}\"]")},
            {"op": "add", "path": "members", "value": [{"value": second, "display": "second"}]}
        ]}),
    );
    expect(&mixed, 204);
    let group = client.get(&format!("/Groups/{group_id}"));
    let values: Vec<&str> = expect(&group, 200)["members"]
        .as_array()
        .map(|members| members.iter().filter_map(|m| m["value"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(values, [second.as_str()]);
    let pushed = client.patch(
        &format!("/Groups/{group_id}"),
        &json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "replace", "path": "members", "value": [{"value": id}]}
        ]}),
    );
    expect(&pushed, 204);
    let group = client.get(&format!("/Groups/{group_id}"));
    assert_eq!(expect(&group, 200)["members"][0]["value"], id.as_str());
    assert_eq!(client.delete(&format!("/Groups/{group_id}")).status, 204);

    // Errors Okta's SPEC test checks.
    expect_error(&client.get("/Users/010101010101010101"), 404);
    let unauthenticated = Client {
        base: client.base.clone(),
        token: String::new(),
    };
    let reply = ureq::get(&format!("{}/Users", unauthenticated.base))
        .set("Authorization", "non-token")
        .call();
    match reply {
        Err(ureq::Error::Status(401, response)) => {
            let body: Value = serde_json::from_str(&response.into_string().unwrap_or_default())
                .unwrap_or_default();
            assert_eq!(body["status"], "401");
            assert_eq!(
                body["schemas"][0],
                "urn:ietf:params:scim:api:messages:2.0:Error"
            );
        }
        other => panic!("expected 401, got {other:?}"),
    }
}
