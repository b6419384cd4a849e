//! `ApplyOptions::external_members`: member operations become a delta without
//! reading the member list.

mod common;

use common::*;
use scimitar_patch::{Member, OperationError};
use scimitar_schema::ScimType;
use serde_json::json;

fn bare_group() -> serde_json::Value {
    json!({"schemas": [GROUP_URN], "id": "g1", "displayName": "Tour Guides"})
}

fn ids(members: &[Member]) -> Vec<&str> {
    members.iter().map(|member| member.value.as_str()).collect()
}

#[test]
fn add_and_remove_become_a_delta() {
    let patched = patch_external(
        &bare_group(),
        json!([
            {"op": "Add", "path": "members", "value": [{"$ref": null, "value": "a"}, {"value": "b", "display": "B", "type": "User"}]},
            {"op": "remove", "path": "members[value eq \"c\"]"},
            {"op": "remove", "path": "members[value eq \"d\" or value eq \"e\"]"},
            {"op": "Remove", "path": "members", "value": [{"value": "f"}]},
            {"op": "add", "path": "members", "value": [{"value": "a"}]},
            {"op": "add", "value": {"members": [{"value": "g"}]}}
        ]),
    )
    .unwrap();
    assert_eq!(
        patched.resource,
        bare_group(),
        "members are not written into the resource"
    );
    let changes = &patched.changes;
    assert_eq!(ids(&changes.members_added), ["a", "b", "g"]);
    assert_eq!(
        changes.members_added[1],
        Member {
            value: "b".into(),
            display: Some("B".into()),
            type_: Some("User".into())
        }
    );
    assert_eq!(changes.members_removed, ["c", "d", "e", "f"]);
    assert!(!changes.members_replaced);
    assert!(changes.attributes.is_empty());
    assert!(!changes.is_empty());
}

#[test]
fn add_then_remove_nets_out() {
    let patched = patch_external(
        &bare_group(),
        json!([
            {"op": "add", "path": "members", "value": [{"value": "a"}]},
            {"op": "remove", "path": "members[value eq \"a\"]"},
            {"op": "remove", "path": "members[value eq \"b\"]"},
            {"op": "add", "path": "members", "value": [{"value": "b"}]}
        ]),
    )
    .unwrap();
    assert!(patched.changes.members_added.iter().all(|m| m.value != "a"));
    assert_eq!(patched.changes.members_removed, ["a"]);
    assert_eq!(ids(&patched.changes.members_added), ["b"]);
}

#[test]
fn replace_and_remove_all_set_replaced() {
    let patched = patch_external(
        &bare_group(),
        json!([
            {"op": "replace", "path": "members", "value": [{"value": "x"}, {"value": "y"}]},
            {"op": "remove", "path": "members[value eq \"y\"]"},
            {"op": "replace", "path": "displayName", "value": "Guides"}
        ]),
    )
    .unwrap();
    assert!(patched.changes.members_replaced);
    assert_eq!(ids(&patched.changes.members_added), ["x"]);
    assert!(patched.changes.members_removed.is_empty());
    assert_eq!(
        patched.changes.changed("displayName").unwrap().new,
        Some(json!("Guides"))
    );

    let cleared =
        patch_external(&bare_group(), json!([{"op": "remove", "path": "members"}])).unwrap();
    assert!(cleared.changes.members_replaced);
    assert!(cleared.changes.members_added.is_empty());
    let pathless = patch_external(
        &bare_group(),
        json!([{"op": "replace", "value": {"members": []}}]),
    )
    .unwrap();
    assert!(pathless.changes.members_replaced && pathless.changes.members_added.is_empty());
}

#[test]
fn filters_needing_the_member_list_are_refused() {
    for path in [
        "members[display eq \"Babs\"]",
        "members[value eq \"a\" and type eq \"User\"]",
        "members[value eq \"a\"].display",
        "members.value",
    ] {
        let error =
            patch_external(&bare_group(), json!([{"op": "remove", "path": path}])).unwrap_err();
        assert!(
            matches!(error.reason(), Some(OperationError::MembersNeedList { .. })),
            "{path}: {error}"
        );
        assert_eq!(error.scim_type(), ScimType::InvalidFilter);
    }
    let error = patch_external(
        &bare_group(),
        json!([{"op": "replace", "path": "members[value eq \"a\"].display", "value": "x"}]),
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("cannot be applied without reading the member list"),
        "{error}"
    );
}

#[test]
fn members_need_an_id() {
    for value in [
        json!([{"display": "no id"}]),
        json!([{"value": "", "display": "x"}]),
        json!(["a"]),
    ] {
        let error = patch_external(
            &bare_group(),
            json!([{"op": "add", "path": "members", "value": value}]),
        )
        .unwrap_err();
        assert_eq!(
            error.scim_type(),
            ScimType::InvalidValue,
            "{value}: {error}"
        );
    }
    // An element holding nothing at all is unassigned, and dropped.
    let patched = patch_external(
        &bare_group(),
        json!([{"op": "add", "path": "members", "value": [{"value": ""}]}]),
    )
    .unwrap();
    assert!(patched.changes.is_empty());
}

#[test]
fn a_stray_members_key_is_left_alone() {
    let mut group = bare_group();
    group["members"] = json!([{"value": "old"}]);
    let patched = patch_external(
        &group,
        json!([{"op": "add", "path": "members", "value": [{"value": "new"}]}]),
    )
    .unwrap();
    assert_eq!(patched.resource, group);
    assert_eq!(ids(&patched.changes.members_added), ["new"]);
}
