//! RFC 7644 over real HTTP on a `MemoryStore`: CRUD, lists, preconditions, media
//! types, errors, bulk and cursor paging.

use std::collections::HashSet;

use crate::common::Server;
use serde_json::{json, Value};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

#[test]
fn discovery_endpoints() {
    let server = Server::start();
    let config = server.get("/ServiceProviderConfig");
    assert_eq!(config.status, 200);
    assert_eq!(
        config.header("content-type"),
        Some("application/scim+json; charset=utf-8")
    );
    assert_eq!(config.body["bulk"]["maxOperations"], 1000);
    assert_eq!(config.body["filter"]["maxResults"], 1000);
    assert_eq!(config.body["pagination"]["cursor"], true);

    let schemas = server.get("/Schemas");
    let ids: Vec<&str> = schemas.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|schema| schema["id"].as_str())
        .collect();
    for id in [USER, GROUP, ENTERPRISE] {
        assert!(ids.contains(&id), "{ids:?}");
    }
    let user_schema = server.get(&format!("/Schemas/{USER}"));
    assert_eq!(user_schema.status, 200);
    assert_eq!(user_schema.body["id"], USER);
    server.get("/Schemas/urn:nope").assert_error(404, None);

    let types = server.get("/ResourceTypes");
    assert_eq!(types.body["totalResults"], 2);
    assert_eq!(server.get("/ResourceTypes/User").body["endpoint"], "/Users");
    server
        .get("/ResourceTypes?filter=name+eq+%22User%22")
        .assert_error(403, None);
    server
        .delete("/ServiceProviderConfig")
        .assert_error(405, None);
}

#[test]
fn user_crud_with_etags() {
    let server = Server::start();
    let created = server.post(
        "/Users",
        json!({
            "schemas": [USER, ENTERPRISE],
            "userName": "bjensen@example.com",
            "externalId": "bjensen",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "password": "t1meMa$heen",
            "meta": {"resourceType": "User"},
            ENTERPRISE: {"employeeNumber": "701984"}
        }),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let version = created.body["meta"]["version"].as_str().unwrap().to_owned();
    assert_eq!(created.header("etag"), Some(version.as_str()));
    let location = format!("{}/Users/{id}", server.base());
    assert_eq!(created.header("location"), Some(location.as_str()));
    assert_eq!(created.body["meta"]["location"], location);
    assert!(created.body.get("password").is_none(), "{}", created.text);
    assert_eq!(created.body[ENTERPRISE]["employeeNumber"], "701984");

    let read = server.get(&format!("/Users/{id}"));
    assert_eq!(read.status, 200);
    assert_eq!(read.body["userName"], "bjensen@example.com");
    assert_eq!(read.header("etag"), Some(version.as_str()));

    let not_modified = server
        .request("GET", &location)
        .bearer(&server.token)
        .header("If-None-Match", &version)
        .send(None);
    assert_eq!(not_modified.status, 304);

    let stale = server
        .request("PUT", &location)
        .bearer(&server.token)
        .header("If-Match", "W/\"999\"")
        .send(Some(
            json!({"schemas": [USER], "userName": "bjensen@example.com", "active": false}),
        ));
    stale.assert_error(412, None);

    let replaced = server
        .request("PUT", &location)
        .bearer(&server.token)
        .header("If-Match", &version)
        .send(Some(json!({"schemas": [USER], "id": id, "userName": "bjensen@example.com", "active": false})));
    assert_eq!(replaced.status, 200, "{}", replaced.text);
    assert_eq!(replaced.body["active"], false);
    assert_ne!(replaced.header("etag"), Some(version.as_str()));

    let projected = server.get(&format!("/Users/{id}?attributes=userName"));
    assert_eq!(projected.body["userName"], "bjensen@example.com");

    let current = replaced.header("etag").unwrap().to_owned();
    let deactivate = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "displayName", "value": "Babs"}]});
    server
        .request("PATCH", &location)
        .bearer(&server.token)
        .header("If-Match", &version)
        .send(Some(deactivate.clone()))
        .assert_error(412, None);
    let patched = server
        .request("PATCH", &format!("{location}?attributes=displayName"))
        .bearer(&server.token)
        .header("If-Match", &current)
        .send(Some(deactivate));
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.body["displayName"], "Babs");
    assert_eq!(patched.body["id"], id.as_str());
    assert!(patched.body.get("userName").is_none(), "{}", patched.text);
    server
        .request("DELETE", &location)
        .bearer(&server.token)
        .header("If-Match", &current)
        .send(None)
        .assert_error(412, None);

    assert_eq!(server.delete(&format!("/Users/{id}")).status, 204);
    server.get(&format!("/Users/{id}")).assert_error(404, None);
    server
        .delete(&format!("/Users/{id}"))
        .assert_error(404, None);
}

#[test]
fn duplicate_user_name_is_409_uniqueness_ignoring_case() {
    let server = Server::start();
    server.create_user("Alice");
    let reply = server.post(
        "/Users",
        json!({"schemas": [USER], "userName": "alice", "displayName": "Other"}),
    );
    reply.assert_error(409, Some("uniqueness"));
}

#[test]
fn lists_page_and_clamp() {
    let server = Server::start();
    for n in 0..7 {
        server.create_user(&format!("user{n}"));
    }
    let empty = server.get(&format!(
        "/Users?filter=userName+eq+%22{}%22",
        "4f1c7c3e-nobody"
    ));
    assert_eq!(empty.status, 200);
    assert_eq!(empty.body["totalResults"], 0);
    assert_eq!(empty.body["Resources"], json!([]));

    let page = server.get("/Users?startIndex=3&count=2");
    assert_eq!(page.body["totalResults"], 7);
    assert_eq!(page.body["startIndex"], 3);
    assert_eq!(page.body["itemsPerPage"], 2);
    assert_eq!(page.body["Resources"][0]["userName"], "user2");

    let totals_only = server.get("/Users?count=0");
    assert_eq!(totals_only.body["totalResults"], 7);
    assert_eq!(totals_only.body["Resources"], json!([]));
    let negative = server.get("/Users?count=-3&startIndex=-1");
    assert_eq!(negative.body["Resources"], json!([]));
    assert_eq!(negative.body["startIndex"], 1);

    let sorted = server.get("/Users?sortBy=userName&sortOrder=descending&count=1");
    assert_eq!(sorted.body["Resources"][0]["userName"], "user6");

    let filtered = server.get("/Users?filter=userName+eq+%22USER3%22");
    assert_eq!(filtered.body["totalResults"], 1);
    assert_eq!(
        filtered.body["Resources"][0]["meta"]["location"],
        format!(
            "{}/Users/{}",
            server.base(),
            filtered.body["Resources"][0]["id"].as_str().unwrap()
        )
    );

    let searched = server.post(
        "/Users/.search",
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
               "filter": "userName sw \"user\"", "startIndex": 2, "count": 3}),
    );
    assert_eq!(searched.status, 200, "{}", searched.text);
    assert_eq!(searched.body["totalResults"], 7);
    assert_eq!(searched.body["itemsPerPage"], 3);
}

#[test]
fn count_is_capped_at_max_results() {
    let server = Server::with_limits(scimitar_protocol::Limits {
        max_results: 3,
        ..Default::default()
    });
    for n in 0..5 {
        server.create_user(&format!("u{n}"));
    }
    let page = server.get("/Users?count=50");
    assert_eq!(page.body["totalResults"], 5);
    assert_eq!(page.body["itemsPerPage"], 3);
    assert_eq!(
        server.get("/ServiceProviderConfig").body["filter"]["maxResults"],
        3
    );
}

#[test]
fn root_search_spans_resource_types() {
    let server = Server::start();
    server.create_user("carol");
    let group = server.post(
        "/Groups",
        json!({"schemas": [GROUP], "displayName": "Admins"}),
    );
    assert_eq!(group.status, 201, "{}", group.text);
    let all = server.post("/.search", json!({"startIndex": 1, "count": 10}));
    assert_eq!(all.status, 200, "{}", all.text);
    assert_eq!(all.body["totalResults"], 2);
    let second = server.post("/.search", json!({"startIndex": 2, "count": 10}));
    assert_eq!(second.body["Resources"][0]["displayName"], "Admins");
    let users = server.post("/.search", json!({"filter": "userName eq \"carol\""}));
    assert_eq!(users.body["totalResults"], 1, "{}", users.text);
}

#[test]
fn every_error_is_a_scim_error() {
    let server = Server::start();
    server.get("/Nothing").assert_error(404, None);
    server.get("/Users/no-such-id").assert_error(404, None);
    server.get("/Users/a/b/c").assert_error(404, None);
    server.delete("/Users").assert_error(405, None);
    server
        .call("PATCH", "/Bulk", Some(json!({})))
        .assert_error(405, None);
    server
        .get("/Users?filter=userName+eq")
        .assert_error(400, Some("invalidFilter"));
    server
        .get("/Users?count=ten")
        .assert_error(400, Some("invalidValue"));
    server
        .get("/Users?sortOrder=sideways")
        .assert_error(400, Some("invalidValue"));
    server
        .get("/Users?cursor=garbage")
        .assert_error(400, Some("invalidCursor"));
    server
        .get("/Users?attributes=user+name")
        .assert_error(400, Some("invalidValue"));

    let url = format!("{}/Users", server.base());
    server
        .request("POST", &url)
        .bearer(&server.token)
        .header("Content-Type", "text/plain")
        .send_raw("{}")
        .assert_error(415, None);
    server
        .request("POST", &url)
        .bearer(&server.token)
        .header("Content-Type", "application/json")
        .send_raw("{not json")
        .assert_error(400, Some("invalidSyntax"));
    server
        .request("POST", &url)
        .bearer(&server.token)
        .send_raw("")
        .assert_error(400, Some("invalidSyntax"));
    // No content type at all, leniently read as JSON.
    let lenient = server
        .request("POST", &url)
        .bearer(&server.token)
        .send_raw(&json!({"schemas": [USER], "userName": "lenient"}).to_string());
    assert_eq!(lenient.status, 201, "{}", lenient.text);
    server
        .call("PATCH", "/Users/x", Some(json!({"Operations": "nope"})))
        .assert_error(400, Some("invalidSyntax"));
    server.get("/Me").assert_error(501, None);

    // The head: too long a URL, too many header bytes, a query that does not decode.
    let long = format!("/Users?filter=userName+eq+%22{}%22", "a".repeat(9000));
    let reply = server.get(&long);
    reply.assert_error(414, None);
    assert!(
        reply.body["detail"].as_str().unwrap().contains("8192"),
        "{}",
        reply.text
    );
    server
        .request("GET", &url)
        .bearer(&server.token)
        .header("X-Padding", &"p".repeat(20_000))
        .send(None)
        .assert_error(431, None);
    server
        .get("/Users?filter=%ZZ")
        .assert_error(400, Some("invalidFilter"));
    server
        .get("/Users?filter=userName%20eq%20%22%FF%22")
        .assert_error(400, Some("invalidValue"));
}

#[test]
fn oversized_bodies_are_413() {
    let server = Server::with_limits(scimitar_protocol::Limits {
        max_payload_size: 1024,
        ..Default::default()
    });
    let big = json!({"schemas": [USER], "userName": "x", "displayName": "y".repeat(4096)});
    server.post("/Users", big).assert_error(413, None);
    assert_eq!(
        server.get("/ServiceProviderConfig").body["bulk"]["maxPayloadSize"],
        1024
    );
}

#[test]
fn bulk_resolves_references_in_any_order() {
    let server = Server::start();
    let reply = server.post(
        "/Bulk",
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "Operations": [
                {"method": "POST", "path": "/Groups", "bulkId": "g",
                 "data": {"schemas": [GROUP], "displayName": "Tour Guides",
                          "members": [{"type": "User", "value": "bulkId:u"}]}},
                {"method": "POST", "path": "/Users", "bulkId": "u",
                 "data": {"schemas": [USER], "userName": "alice"}},
                {"method": "PUT", "path": "/Users/bulkId:u",
                 "data": {"schemas": [USER], "userName": "alice", "displayName": "Alice"}},
                {"method": "DELETE", "path": "/Users/bulkId:missing"}
            ]
        }),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    let operations = reply.body["Operations"].as_array().unwrap();
    assert_eq!(operations.len(), 4);
    assert_eq!(operations[0]["status"], "201", "{}", reply.text);
    assert_eq!(operations[1]["status"], "201");
    assert_eq!(operations[2]["status"], "200");
    assert_eq!(operations[3]["status"], "409");
    assert_eq!(operations[3]["response"]["scimType"], "invalidValue");
    let user_id = operations[1]["location"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    let group_location = operations[0]["location"].as_str().unwrap();
    let group_id = group_location.rsplit('/').next().unwrap();
    let group = server.get(&format!("/Groups/{group_id}"));
    assert_eq!(group.body["members"][0]["value"], user_id, "{}", group.text);
    assert_eq!(
        server.get(&format!("/Users/{user_id}")).body["displayName"],
        "Alice"
    );
}

#[test]
fn bulk_creates_in_a_run_keep_each_outcome_and_bulk_id() {
    let server = Server::start();
    let post = |bulk_id: &str, user_name: &str| {
        json!({"method": "POST", "path": "/Users", "bulkId": bulk_id,
               "data": {"schemas": [USER], "userName": user_name}})
    };
    // A run of creates (sent to the store in one call), one of them a
    // duplicate and one invalid, then an operation on a user the run made.
    let reply = server.post(
        "/Bulk",
        json!({"Operations": [
            post("a", "ann"),
            post("b", "ANN"),
            {"method": "POST", "path": "/Users", "bulkId": "c",
             "data": {"schemas": [USER], "displayName": "no userName"}},
            post("d", "dan"),
            {"method": "PATCH", "path": "/Users/bulkId:d",
             "data": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                      "Operations": [{"op": "replace", "path": "title", "value": "Lead"}]}},
        ]}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    let operations = reply.body["Operations"].as_array().unwrap();
    let statuses: Vec<&str> = operations
        .iter()
        .map(|op| op["status"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        statuses,
        ["201", "409", "400", "201", "200"],
        "{}",
        reply.text
    );
    assert_eq!(operations[1]["response"]["scimType"], "uniqueness");
    let bulk_ids: Vec<&str> = operations
        .iter()
        .map(|op| op["bulkId"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(bulk_ids, ["a", "b", "c", "d", ""]);
    let dan = operations[3]["location"].as_str().unwrap();
    assert!(dan.ends_with(
        operations[4]["location"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
    ));
    let dan_id = dan.rsplit('/').next().unwrap();
    assert_eq!(
        server.get(&format!("/Users/{dan_id}")).body["title"],
        "Lead"
    );
    assert_eq!(server.get("/Users").body["totalResults"], 2);
}

#[test]
fn bulk_stops_after_fail_on_errors_and_enforces_max_operations() {
    let server = Server::with_limits(scimitar_protocol::Limits {
        max_bulk_operations: 3,
        ..Default::default()
    });
    let op = |user_name: &str, title: &str| {
        json!({"method": "POST", "path": "/Users", "bulkId": title,
               "data": {"schemas": [USER], "userName": user_name, "title": title}})
    };
    let reply = server.post(
        "/Bulk",
        json!({"failOnErrors": 1, "Operations": [op("a", "1"), op("a", "2"), op("b", "3")]}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    let statuses: Vec<&Value> = reply.body["Operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|op| &op["status"])
        .collect();
    assert_eq!(statuses, [&json!("201"), &json!("409")]);
    assert_eq!(server.get("/Users").body["totalResults"], 1);

    server
        .post(
            "/Bulk",
            json!({"Operations": [op("c", "4"), op("d", "5"), op("e", "6"), op("f", "7")]}),
        )
        .assert_error(413, None);
}

#[test]
fn cursor_paging_visits_1000_users_once() {
    let server = Server::start();
    let operations: Vec<Value> = (0..1000)
        .map(|n| {
            json!({"method": "POST", "path": "/Users", "bulkId": format!("b{n}"),
                   "data": {"schemas": [USER], "userName": format!("user{n:04}")}})
        })
        .collect();
    let reply = server.post("/Bulk", json!({"Operations": operations}));
    assert_eq!(
        reply.status,
        200,
        "{}",
        &reply.text[..reply.text.len().min(500)]
    );
    let mut seen = HashSet::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let page = server.get(&format!("/Users?cursor={cursor}&count=128"));
        assert_eq!(page.status, 200, "{}", page.text);
        assert_eq!(page.body["totalResults"], 1000);
        assert!(page.body.get("startIndex").is_none());
        for user in page.body["Resources"].as_array().unwrap() {
            assert!(
                seen.insert(user["id"].as_str().unwrap().to_owned()),
                "repeat"
            );
        }
        pages += 1;
        match page.body["nextCursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
        assert!(pages < 20, "paging does not end");
    }
    assert_eq!(seen.len(), 1000);
    assert_eq!(pages, 8);
}

#[test]
fn forwarded_headers_from_strangers_do_not_reach_urls() {
    let server = Server::start();
    let member = server.create_user("forwarded");
    let group = json!({"schemas": [GROUP], "displayName": "Forwarded",
        "members": [{"value": member["id"]}]});
    let created = server
        .request("POST", &format!("{}/Groups", server.base()))
        .bearer(&server.token)
        .header("X-Forwarded-Host", "evil.example")
        .header("X-Forwarded-Proto", "gopher")
        .header("Forwarded", "host=evil.example;proto=gopher")
        .send(Some(group));
    assert_eq!(created.status, 201, "{}", created.text);
    let urls = [
        created.header("location").unwrap_or_default().to_owned(),
        created.body["meta"]["location"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        created.body["members"][0]["$ref"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    ];
    for url in urls {
        assert!(url.starts_with(&server.base()), "{url}");
    }
}

#[test]
fn cursors_are_sealed_to_their_tenant_and_query() {
    let server = Server::start();
    for name in ["c1", "c2", "c3"] {
        server.create_user(name);
    }
    let first = server.get("/Users?cursor&count=1&filter=userName+sw+%22c%22");
    assert_eq!(first.status, 200, "{}", first.text);
    let cursor = first.body["nextCursor"]
        .as_str()
        .expect("a next cursor")
        .to_owned();
    // Opaque: no JSON, no hex of a row number.
    assert!(
        !cursor.contains('{') && !cursor.chars().all(|c| c.is_ascii_hexdigit()),
        "{cursor}"
    );
    let next = server.get(&format!(
        "/Users?cursor={cursor}&count=1&filter=userName+sw+%22c%22"
    ));
    assert_eq!(next.status, 200, "{}", next.text);
    assert_eq!(next.body["Resources"][0]["userName"], "c2");

    // Another query, another resource type, another tenant.
    server
        .get(&format!("/Users?cursor={cursor}&count=1"))
        .assert_error(400, Some("invalidCursor"));
    server
        .get(&format!(
            "/Users?cursor={cursor}&count=1&filter=userName+sw+%22c%22&sortBy=userName"
        ))
        .assert_error(400, Some("invalidCursor"));
    server
        .get(&format!(
            "/Groups?cursor={cursor}&count=1&filter=displayName+sw+%22c%22"
        ))
        .assert_error(400, Some("invalidCursor"));
    server
        .request(
            "GET",
            &format!(
                "{}/Users?cursor={cursor}&count=1&filter=userName+sw+%22c%22",
                server.base()
            ),
        )
        .bearer(&server.other_token)
        .send(None)
        .assert_error(400, Some("invalidCursor"));
}

#[test]
fn cursors_expire() {
    let server = Server::with_limits(scimitar_protocol::Limits {
        cursor_timeout_seconds: 1,
        ..Default::default()
    });
    for name in ["e1", "e2"] {
        server.create_user(name);
    }
    let first = server.get("/Users?cursor&count=1");
    assert!(first.body["nextCursor"].is_string(), "{}", first.text);
    let cursor = first.body["nextCursor"].as_str().unwrap().to_owned();
    assert_eq!(
        server.get("/ServiceProviderConfig").body["pagination"]["cursorTimeout"],
        1
    );
    std::thread::sleep(std::time::Duration::from_millis(2_100));
    server
        .get(&format!("/Users?cursor={cursor}&count=1"))
        .assert_error(400, Some("expiredCursor"));
}

#[test]
fn a_failed_create_is_logged_with_what_it_named() {
    let server = Server::start();
    server.create_user("taken@example.com");
    let again =
        json!({"schemas": [USER], "userName": "Taken@example.com", "externalId": "entra-42"});
    server
        .post("/Users", again)
        .assert_error(409, Some("uniqueness"));
    std::thread::sleep(std::time::Duration::from_millis(400)); // the log writer batches
    let entries = actix_web::rt::System::new().block_on(async {
        use scimitar_store::provisioning_log::{LogQuery, ProvisioningLog};
        server
            .log
            .recent("acme", &LogQuery::default())
            .await
            .unwrap()
    });
    let failed = entries
        .iter()
        .find(|entry| entry.status == 409)
        .expect("the failed create is logged");
    let detail = failed.detail.as_deref().unwrap_or_default();
    assert!(
        detail.contains(r#"userName "Taken@example.com""#)
            && detail.contains(r#"externalId "entra-42""#),
        "{detail}"
    );
    assert_eq!(failed.operation, "create");
}
