//! What Okta sends (identity-providers.md): path-less deactivate, group rename with
//! the group's id in the value, members added and removed in one PATCH, and a full
//! push replacing the members.

mod common;

use common::*;
use scimitar_schema::{Policy, ScimType};
use serde_json::json;

fn okta_user() -> serde_json::Value {
    json!({
        "schemas": [USER_URN],
        "id": "23a35c27-23d3-4c03-b4c5-6443c09e7173",
        "userName": "test.user@okta.local",
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "active": true
    })
}

#[test]
fn deactivate_and_reactivate_without_path() {
    let off = patch(
        "User",
        &okta_user(),
        json!([{"op": "replace", "value": {"active": false}}]),
    );
    assert_eq!(off.resource["active"], json!(false));
    assert!(off.changes.deactivated());
    assert_eq!(off.changes.attributes.len(), 1);
    let on = patch(
        "User",
        &off.resource,
        json!([{"op": "replace", "value": {"active": true}}]),
    );
    assert!(on.changes.reactivated());
    assert_eq!(on.resource, okta_user());
    // This is plain RFC 7644: strict accepts it too.
    assert_eq!(
        patch_strict(
            "User",
            &okta_user(),
            json!([{"op": "replace", "value": {"active": false}}])
        )
        .resource,
        off.resource
    );
}

#[test]
fn group_rename_with_id_in_value() {
    let group = json!({"schemas": [GROUP_URN], "id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b", "displayName": "Test SCIMv2", "members": []});
    let patched = patch(
        "Group",
        &group,
        json!([{"op": "replace", "value": {"id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b", "displayName": "Test SCIMv2 renamed"}}]),
    );
    assert_eq!(patched.resource["displayName"], "Test SCIMv2 renamed");
    assert_eq!(
        patched.resource["id"],
        "abf4dd94-a4c0-4f67-89c9-76b03340cb9b"
    );
    assert_eq!(patched.changes.attributes.len(), 1);

    // Another id is not silently ignored.
    let error = patch_error(
        &Policy::compatible(),
        "Group",
        &group,
        json!([{"op": "replace", "value": {"id": "other", "displayName": "x"}}]),
    );
    assert_eq!(error.scim_type(), ScimType::Mutability);
    // Strictly, read-only attributes in a value are refused.
    let error = patch_error(
        &Policy::strict(),
        "Group",
        &group,
        json!([{"op": "replace", "value": {"id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b", "displayName": "x"}}]),
    );
    assert_eq!(error.scim_type(), ScimType::Mutability);
    assert_eq!(
        error.to_string(),
        "operation 1 (replace, no path): `id` is read-only; clients cannot change it"
    );
}

#[test]
fn members_removed_and_added_in_one_patch() {
    let patched = patch_strict(
        "Group",
        &group(),
        json!([
            {"op": "remove", "path": "members[value eq \"902c246b-6245-4190-8e05-00816be7344a\"]"},
            {"op": "add", "path": "members", "value": [
                {"value": "23a35c27-23d3-4c03-b4c5-6443c09e7173", "display": "test.user@okta.local"}
            ]}
        ]),
    );
    assert_eq!(
        patched.resource["members"],
        json!([
            {"value": "2819c223-7f76-453a-919d-413861904646", "display": "Babs Jensen"},
            {"value": "23a35c27-23d3-4c03-b4c5-6443c09e7173", "display": "test.user@okta.local"}
        ])
    );
    assert_eq!(
        patched.changes.members_removed,
        ["902c246b-6245-4190-8e05-00816be7344a"]
    );
    assert_eq!(
        patched.changes.members_added[0].display.as_deref(),
        Some("test.user@okta.local")
    );
}

#[test]
fn full_push_replaces_members() {
    let patched = patch_strict(
        "Group",
        &group(),
        json!([{"op": "replace", "path": "members", "value": [
            {"value": "23a35c27-23d3-4c03-b4c5-6443c09e7173", "display": "test.user@okta.local"},
            {"value": "2819c223-7f76-453a-919d-413861904646", "display": "Babs Jensen"}
        ]}]),
    );
    assert_eq!(
        member_ids(&patched.resource),
        [
            "23a35c27-23d3-4c03-b4c5-6443c09e7173",
            "2819c223-7f76-453a-919d-413861904646"
        ]
    );
    assert_eq!(
        patched.changes.members_removed,
        ["902c246b-6245-4190-8e05-00816be7344a"]
    );
    assert_eq!(patched.changes.members_added.len(), 1);
    // An empty push empties the group.
    let emptied = patch_strict(
        "Group",
        &group(),
        json!([{"op": "replace", "path": "members", "value": []}]),
    );
    assert!(emptied.resource.get("members").is_none());
    assert_eq!(emptied.changes.members_removed.len(), 2);
}
