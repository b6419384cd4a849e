//! What Microsoft Entra ID sends (identity-providers.md): the tutorial's request
//! bodies in the default mode, the `aadOptscim062020` mode, and the known-issues
//! page's before/after pairs. Each deviation is also checked to be refused by the
//! strict policy, so that the policy switch is what accepts it.

mod common;

use common::*;
use scimitar_schema::{Policy, ScimType};
use serde_json::json;

#[test]
fn disable_user_with_string_boolean() {
    for op in ["Replace", "Add", "replace"] {
        let patched = patch(
            "User",
            &entra_user(),
            json!([{"op": op, "path": "active", "value": "False"}]),
        );
        assert_eq!(patched.resource["active"], json!(false), "{op}");
        assert!(patched.changes.deactivated());
    }
    let patched = patch(
        "User",
        &json!({"schemas": [USER_URN], "userName": "u", "active": false}),
        json!([{"op": "Replace", "path": "active", "value": "True"}]),
    );
    assert!(patched.changes.reactivated());
    let error = patch_error(
        &Policy::strict(),
        "User",
        &entra_user(),
        json!([{"op": "Replace", "path": "active", "value": "False"}]),
    );
    assert_eq!(error.scim_type(), ScimType::InvalidValue);
}

#[test]
fn update_user_single_and_multi_valued_properties() {
    let patched = patch(
        "User",
        &entra_user(),
        json!([
            {"op": "Replace", "path": "userName", "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"},
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
            {"op": "Replace", "path": "displayName", "value": "Updated User"},
            {"op": "Add", "path": "externalId", "value": "c0ffee"},
            {"op": "Replace", "path": format!("{ENTERPRISE}:employeeNumber"), "value": "1002"}
        ]),
    );
    let user = &patched.resource;
    assert_eq!(
        user["userName"],
        "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"
    );
    assert_eq!(
        user["emails"],
        json!([{"primary": true, "type": "work", "value": "updatedEmail@microsoft.com"}])
    );
    assert_eq!(
        user["name"],
        json!({"familyName": "updatedFamilyName", "givenName": "givenName"})
    );
    assert_eq!(user[ENTERPRISE]["employeeNumber"], "1002");
    let paths: Vec<&str> = patched
        .changes
        .attributes
        .iter()
        .map(|c| c.path.as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "externalId",
            "userName",
            "displayName",
            "emails",
            "name.familyName",
            &format!("{ENTERPRISE}:employeeNumber"),
        ]
    );
}

#[test]
fn replace_missing_work_email_creates_it() {
    let user = json!({"schemas": [USER_URN], "id": "1", "userName": "u",
        "emails": [{"type": "home", "value": "home@example.com", "primary": true}]});
    let patched = patch(
        "User",
        &user,
        json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "work@example.com"}]),
    );
    assert_eq!(
        patched.resource["emails"],
        json!([
            {"type": "home", "value": "home@example.com", "primary": true},
            {"type": "work", "value": "work@example.com"}
        ])
    );
    // With several equality terms, each becomes a field of the new element.
    let patched = patch(
        "User",
        &json!({"schemas": [USER_URN], "userName": "u"}),
        json!([{"op": "Add", "path": "emails[type eq \"work\" and primary eq true].value", "value": "w@example.com"}]),
    );
    assert_eq!(
        patched.resource["emails"],
        json!([{"type": "work", "primary": true, "value": "w@example.com"}])
    );
    let error = patch_error(
        &Policy::strict(),
        "User",
        &user,
        json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "work@example.com"}]),
    );
    assert_eq!(error.scim_type(), ScimType::NoTarget);
    // A filter that is not made of `eq` terms cannot seed an element.
    let error = patch_error(
        &Policy::compatible(),
        "User",
        &user,
        json!([{"op": "Replace", "path": "emails[type ne \"home\"].value", "value": "x@example.com"}]),
    );
    assert_eq!(error.scim_type(), ScimType::NoTarget);
}

#[test]
fn manager_as_bare_id_changed_and_cleared() {
    let path = format!("{ENTERPRISE}:manager");
    let set = patch(
        "User",
        &entra_user(),
        json!([{"op": "Add", "path": path, "value": "26118915"}]),
    );
    assert_eq!(
        set.resource[ENTERPRISE]["manager"],
        json!({"value": "26118915"})
    );
    let change = set
        .changes
        .changed(&format!("{ENTERPRISE}:manager.value"))
        .unwrap();
    assert_eq!(
        (change.old.clone(), change.new.clone()),
        (None, Some(json!("26118915")))
    );

    // A new id replaces the whole manager: no stale displayName survives.
    let mut with_name = set.resource.clone();
    with_name[ENTERPRISE]["manager"]["displayName"] = json!("John Smith");
    let changed = patch(
        "User",
        &with_name,
        json!([{"op": "Replace", "path": path, "value": "b1c2"}]),
    );
    assert_eq!(
        changed.resource[ENTERPRISE]["manager"],
        json!({"value": "b1c2"})
    );
    let changed = patch(
        "User",
        &with_name,
        json!([{"op": "replace", "path": path, "value": {"value": "b1c2"}}]),
    );
    assert_eq!(
        changed.resource[ENTERPRISE]["manager"],
        json!({"value": "b1c2"})
    );

    for clear in [
        json!(""),
        json!(null),
        json!({"value": ""}),
        json!({"value": null}),
    ] {
        let cleared = patch(
            "User",
            &set.resource,
            json!([{"op": "Replace", "path": path, "value": clear}]),
        );
        assert!(
            cleared.resource[ENTERPRISE].get("manager").is_none(),
            "{clear}"
        );
        assert_eq!(cleared.resource[ENTERPRISE]["department"], "Sales");
    }
    let removed = patch(
        "User",
        &set.resource,
        json!([{"op": "Remove", "path": path}]),
    );
    assert!(removed.resource[ENTERPRISE].get("manager").is_none());
    let removed = patch(
        "User",
        &set.resource,
        json!([{"op": "Remove", "path": path, "value": [{"value": "26118915"}]}]),
    );
    assert!(removed.resource[ENTERPRISE].get("manager").is_none());

    let error = patch_error(
        &Policy::strict(),
        "User",
        &entra_user(),
        json!([{"op": "add", "path": path, "value": "26118915"}]),
    );
    assert_eq!(error.scim_type(), ScimType::InvalidValue);
    let error = patch_error(
        &Policy::strict(),
        "User",
        &set.resource,
        json!([{"op": "replace", "path": path, "value": null}]),
    );
    assert_eq!(error.scim_type(), ScimType::InvalidValue);
}

#[test]
fn manager_on_a_user_without_enterprise_data_lists_the_schema() {
    let user = json!({"schemas": [USER_URN], "id": "1", "userName": "u"});
    let patched = patch(
        "User",
        &user,
        json!([{"op": "Add", "path": format!("{ENTERPRISE}:manager"), "value": "m1"}]),
    );
    assert_eq!(patched.resource["schemas"], json!([USER_URN, ENTERPRISE]));
    let cleared = patch(
        "User",
        &patched.resource,
        json!([{"op": "Replace", "path": format!("{ENTERPRISE}:manager"), "value": ""}]),
    );
    assert_eq!(
        cleared.resource, user,
        "the extension's last attribute gone, its URN goes too"
    );
}

#[test]
fn group_members_add_and_remove_with_value_list() {
    let group = json!({"schemas": [GROUP_URN], "id": "g1", "displayName": "Group1DisplayName"});
    let added = patch(
        "Group",
        &group,
        json!([{"op": "Add", "path": "members", "value": [
            {"$ref": null, "value": "f648f8d5ea4e4cd38e9c"},
            {"$ref": null, "value": "a71d80b5b8f945e6b1f0"},
            {"$ref": null, "value": "c4aa0b4e4a0d4d1a8a4b"}
        ]}]),
    );
    assert_eq!(
        member_ids(&added.resource),
        [
            "f648f8d5ea4e4cd38e9c",
            "a71d80b5b8f945e6b1f0",
            "c4aa0b4e4a0d4d1a8a4b"
        ]
    );
    assert!(
        added.resource["members"][0].get("$ref").is_none(),
        "null means unassigned"
    );
    assert_eq!(added.changes.members_added.len(), 3);

    let removed = patch(
        "Group",
        &added.resource,
        json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": "a71d80b5b8f945e6b1f0"}]}]),
    );
    assert_eq!(
        member_ids(&removed.resource),
        ["f648f8d5ea4e4cd38e9c", "c4aa0b4e4a0d4d1a8a4b"]
    );
    assert_eq!(removed.changes.members_removed, ["a71d80b5b8f945e6b1f0"]);
    // Removing a member that is not there is not an error (retries must succeed).
    let again = patch(
        "Group",
        &removed.resource,
        json!([{"op": "Remove", "path": "members", "value": [{"value": "a71d80b5b8f945e6b1f0"}]}]),
    );
    assert!(again.changes.is_empty());

    let error = patch_error(
        &Policy::strict(),
        "Group",
        &added.resource,
        json!([{"op": "Remove", "path": "members", "value": [{"value": "a71d80b5b8f945e6b1f0"}]}]),
    );
    assert_eq!(error.scim_type(), ScimType::InvalidValue);
    assert!(
        error
            .to_string()
            .contains("patch_members_remove_value_list"),
        "{error}"
    );
}

#[test]
fn group_rename() {
    let group = json!({"schemas": [GROUP_URN], "id": "g1", "displayName": "Group1DisplayName"});
    let patched = patch(
        "Group",
        &group,
        json!([{"op": "Replace", "path": "displayName", "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}]),
    );
    assert_eq!(
        patched.resource["displayName"],
        "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"
    );
    let change = patched.changes.changed("displayName").unwrap();
    assert_eq!(change.old, Some(json!("Group1DisplayName")));
}

/// With `aadOptscim062020`: lower-case ops, real booleans, path-less values whose
/// keys are attribute paths.
#[test]
fn flag_mode_pathless_replace_with_path_keys() {
    let patched = patch(
        "User",
        &entra_user(),
        json!([{"op": "replace", "value": {
            "displayName": "Babs Jensen",
            "name.givenName": "Barbara",
            "name.familyName": "Jensen",
            "emails[type eq \"work\"].value": "babs@example.com",
            format!("{ENTERPRISE}:department"): "Tour Operations",
            "active": false
        }}]),
    );
    let user = &patched.resource;
    assert_eq!(
        user["name"],
        json!({"familyName": "Jensen", "givenName": "Barbara"})
    );
    assert_eq!(user["emails"][0]["value"], "babs@example.com");
    assert_eq!(user[ENTERPRISE]["department"], "Tour Operations");
    assert_eq!(user["active"], json!(false));
    assert!(
        user.get("name.givenName").is_none(),
        "paths are never stored as literal keys"
    );
    let keys = user.as_object().unwrap().keys();
    assert!(keys
        .filter(|key| !key.starts_with("urn:"))
        .all(|key| !key.contains('.')));
    assert!(patched.changes.deactivated());

    // Strictly such keys are not attributes.
    let error = patch_error(
        &Policy::strict(),
        "User",
        &entra_user(),
        json!([{"op": "replace", "value": {"name.givenName": "Barbara"}}]),
    );
    assert_eq!(error.scim_type(), ScimType::InvalidSyntax);
}

#[test]
fn flag_mode_pathless_add_with_dotted_keys() {
    let user = json!({"schemas": [USER_URN], "id": "1", "userName": "u"});
    let patched = patch(
        "User",
        &user,
        json!([{"op": "add", "value": {
            "name.givenName": "Barbara",
            "name.familyName": "Jensen",
            format!("{ENTERPRISE}:employeeNumber"): "701984",
            "nickName": "Babs"
        }}]),
    );
    assert_eq!(
        patched.resource,
        json!({"schemas": [USER_URN, ENTERPRISE], "id": "1", "userName": "u",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            ENTERPRISE: {"employeeNumber": "701984"},
            "nickName": "Babs"})
    );
}

#[test]
fn flag_mode_members_remove_by_filter() {
    let patched = patch(
        "Group",
        &group(),
        json!([{"op": "remove", "path": "members[value eq \"2819c223-7f76-453a-919d-413861904646\"]"}]),
    );
    assert_eq!(
        member_ids(&patched.resource),
        ["902c246b-6245-4190-8e05-00816be7344a"]
    );
}

/// The known-issues page: each "before" (default mode) and "after"
/// (`aadOptscim062020`) request gives the same resource.
#[test]
fn known_issues_before_and_after_agree() {
    let pairs = [
        (
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
            json!([{"op": "replace", "path": "active", "value": false}]),
        ),
        (
            json!([{"op": "Add", "path": "nickName", "value": "Babs"}]),
            json!([{"op": "add", "value": {"nickName": "Babs"}}]),
        ),
        (
            json!([
                {"op": "Replace", "path": "displayName", "value": "Babs J"},
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "babs@example.com"},
                {"op": "Replace", "path": "name.givenName", "value": "Barbara"},
                {"op": "Replace", "path": format!("{ENTERPRISE}:department"), "value": "Tours"}
            ]),
            json!([{"op": "replace", "value": {
                "displayName": "Babs J",
                "emails[type eq \"work\"].value": "babs@example.com",
                "name.givenName": "Barbara",
                format!("{ENTERPRISE}:department"): "Tours"
            }}]),
        ),
    ];
    for (before, after) in pairs {
        let old = patch("User", &entra_user(), before.clone());
        let new = patch("User", &entra_user(), after.clone());
        assert_eq!(old.resource, new.resource, "{before} vs {after}");
        assert_eq!(old.changes, new.changes);
        assert!(!old.changes.is_empty());
    }
    let before = patch(
        "Group",
        &group(),
        json!([{"op": "Remove", "path": "members", "value": [{"value": "2819c223-7f76-453a-919d-413861904646"}]}]),
    );
    let after = patch(
        "Group",
        &group(),
        json!([{"op": "remove", "path": "members[value eq \"2819c223-7f76-453a-919d-413861904646\"]"}]),
    );
    assert_eq!(before.resource, after.resource);
    assert_eq!(
        before.changes.members_removed,
        ["2819c223-7f76-453a-919d-413861904646"]
    );
}

#[test]
fn custom_extension_data_is_ignored_or_refused_by_policy() {
    let operations = json!([
        {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:costCode", "value": "x"},
        {"op": "Replace", "path": "title", "value": "Guide"}
    ]);
    let patched = patch("User", &entra_user(), operations.clone());
    assert_eq!(patched.resource["title"], "Guide");
    assert_eq!(patched.changes.attributes.len(), 1);
    let error = patch_error(&Policy::strict(), "User", &entra_user(), operations);
    assert_eq!(error.scim_type(), ScimType::InvalidPath);
}

#[test]
fn string_booleans_inside_values() {
    let patched = patch(
        "User",
        &entra_user(),
        json!([
            {"op": "Replace", "value": {"active": "False"}},
            {"op": "Add", "path": "roles", "value": [{"primary": "True", "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}]}
        ]),
    );
    assert_eq!(patched.resource["active"], json!(false));
    assert_eq!(
        patched.resource["roles"],
        json!([{"primary": true, "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}])
    );
    let error = patch_error(
        &Policy::strict(),
        "User",
        &entra_user(),
        json!([{"op": "replace", "value": {"active": "False"}}]),
    );
    assert_eq!(error.scim_type(), ScimType::InvalidValue);
}
