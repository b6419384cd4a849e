//! PATCH throughput on the requests identity providers send most: a user update,
//! a deactivation, and member changes on a large group (members in the resource and
//! stored apart).

// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use scimitar_patch::{apply, apply_with, ApplyOptions};
use scimitar_schema::messages::PatchRequest;
use scimitar_schema::{Policy, Registry};
use serde_json::{json, Value};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn request(operations: Value) -> PatchRequest {
    serde_json::from_value(json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": operations
    }))
    .expect("valid request")
}

fn user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "id": "48af03ac28ad4fb88478",
        "externalId": "0a21f0f2",
        "userName": "Test_User_ab6490ee",
        "active": true,
        "displayName": "Test User",
        "emails": [{"primary": true, "type": "work", "value": "test@example.com"}],
        "name": {"familyName": "familyName", "givenName": "givenName"},
        ENTERPRISE: {"employeeNumber": "1001", "department": "Sales"}
    })
}

fn group(size: usize) -> Value {
    let members: Vec<Value> = (0..size)
        .map(|i| json!({"value": format!("member-{i:06}"), "display": format!("User {i}")}))
        .collect();
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g", "displayName": "Big", "members": members})
}

fn benches(c: &mut Criterion) {
    let registry = Registry::builtin();
    let policy = Policy::compatible();
    let user = user();
    let entra_update = request(json!([
        {"op": "Replace", "path": "displayName", "value": "Updated"},
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@example.com"},
        {"op": "Replace", "path": "name.familyName", "value": "Jensen"},
        {"op": "Add", "path": format!("{ENTERPRISE}:manager"), "value": "26118915"}
    ]));
    c.bench_function("user: Entra 4-op update", |b| {
        b.iter(|| apply(&registry, "User", black_box(&user), &entra_update, &policy))
    });
    let deactivate = request(json!([{"op": "replace", "value": {"active": false}}]));
    c.bench_function("user: Okta deactivate", |b| {
        b.iter(|| apply(&registry, "User", black_box(&user), &deactivate, &policy))
    });

    let big = group(2_000);
    let add_one = request(
        json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": "new-member"}]}]),
    );
    c.bench_function("group 2000 in resource: add 1 member", |b| {
        b.iter(|| apply(&registry, "Group", black_box(&big), &add_one, &policy))
    });
    let remove_one =
        request(json!([{"op": "remove", "path": "members[value eq \"member-001000\"]"}]));
    c.bench_function("group 2000 in resource: remove 1 member by filter", |b| {
        b.iter(|| apply(&registry, "Group", black_box(&big), &remove_one, &policy))
    });

    let bare = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g", "displayName": "Big"});
    let external = ApplyOptions {
        external_members: true,
    };
    let mixed = request(json!([
        {"op": "remove", "path": "members[value eq \"member-001000\"]"},
        {"op": "add", "path": "members", "value": [{"value": "new-member", "display": "New"}]}
    ]));
    c.bench_function("group, members apart: remove 1 + add 1", |b| {
        b.iter(|| {
            apply_with(
                &registry,
                "Group",
                black_box(&bare),
                &mixed,
                &policy,
                &external,
            )
        })
    });
}

criterion_group!(patch, benches);
criterion_main!(patch);
