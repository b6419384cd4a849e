//! Every PATCH example of RFC 7644 §3.5.2.1–§3.5.2.3, with the resource it must give.

mod common;

use common::*;
use scimitar_schema::ScimType;
use serde_json::{json, Value};

const BABS: &str = "2819c223-7f76-453a-919d-413861904646";
const MANDY: &str = "902c246b-6245-4190-8e05-00816be7344a";
const JAMES: &str = "08e1d05d-121c-4561-8b96-473d93df9210";

fn babs_member() -> Value {
    json!({
        "display": "Babs Jensen",
        "$ref": format!("https://example.com/v2/Users/{BABS}"),
        "value": BABS
    })
}

fn james_member() -> Value {
    json!({
        "display": "James Smith",
        "$ref": format!("https://example.com/v2/Users/{JAMES}"),
        "value": JAMES
    })
}

fn empty_group() -> Value {
    json!({"schemas": [GROUP_URN], "id": "acbf3ae7", "displayName": "Tour Guides"})
}

/// §3.5.2.1: "add a member to a group".
#[test]
fn add_member_to_group() {
    let patched = patch(
        "Group",
        &empty_group(),
        json!([{"op": "add", "path": "members", "value": [babs_member()]}]),
    );
    assert_eq!(
        patched.resource,
        json!({"schemas": [GROUP_URN], "id": "acbf3ae7", "displayName": "Tour Guides", "members": [babs_member()]})
    );
    assert_eq!(patched.changes.members_added.len(), 1);
    assert_eq!(patched.changes.members_added[0].value, BABS);
    assert_eq!(
        patched.changes.members_added[0].display.as_deref(),
        Some("Babs Jensen")
    );
    // Adding the same member again changes nothing (§3.5.2.1: "no changes SHOULD be made").
    let again = patch(
        "Group",
        &patched.resource,
        json!([{"op": "add", "path": "members", "value": [babs_member()]}]),
    );
    assert_eq!(again.resource, patched.resource);
    assert!(again.changes.is_empty());
}

/// §3.5.2.1: path-less add of several attributes, with `nickname` in another case
/// than the schema's `nickName`.
#[test]
fn add_without_path() {
    let user = json!({"schemas": [USER_URN], "id": "1", "userName": "bjensen",
        "emails": [{"value": "bjensen@example.com", "type": "work"}]});
    let patched = patch_strict(
        "User",
        &user,
        json!([{"op": "add", "value": {
            "emails": [{"value": "babs@jensen.org", "type": "home"}],
            "nickname": "Babs"
        }}]),
    );
    assert_eq!(
        patched.resource,
        json!({"schemas": [USER_URN], "id": "1", "userName": "bjensen",
            "emails": [
                {"value": "bjensen@example.com", "type": "work"},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "nickName": "Babs"})
    );
    let emails = patched.changes.changed("emails").expect("emails changed");
    assert_eq!(emails.old, Some(user["emails"].clone()));
    assert_eq!(
        patched.changes.changed("nickName").unwrap().new,
        Some(json!("Babs"))
    );
}

/// §3.5.2.2: "remove a single member from a group".
#[test]
fn remove_single_member() {
    let patched = patch_strict(
        "Group",
        &group(),
        json!([{"op": "remove", "path": format!("members[value eq \"{BABS}\"]")}]),
    );
    assert_eq!(member_ids(&patched.resource), [MANDY]);
    assert_eq!(patched.changes.members_removed, [BABS]);
    assert!(patched.changes.members_added.is_empty());
}

/// §3.5.2.2: "remove all members of a group": the attribute becomes unassigned.
#[test]
fn remove_all_members() {
    let patched = patch_strict(
        "Group",
        &group(),
        json!([{"op": "remove", "path": "members"}]),
    );
    assert_eq!(
        patched.resource,
        json!({"schemas": [GROUP_URN], "id": "acbf3ae7-8463-4692-b4fd-9b4da3f908ce", "displayName": "Tour Guides"})
    );
    assert_eq!(patched.changes.members_removed, [BABS, MANDY]);
}

/// §3.5.2.2: remove the complex values matched by a filter on sub-attributes.
#[test]
fn remove_emails_matching_filter() {
    let patched = patch_strict(
        "User",
        &bjensen(),
        json!([{"op": "remove", "path": "emails[type eq \"work\" and value ew \"example.com\"]"}]),
    );
    assert_eq!(
        patched.resource["emails"],
        json!([{"value": "babs@jensen.org", "type": "home"}])
    );
    // RFC 7644 §3.12: a filter that yields no match is `noTarget`.
    let error = patch_error(
        &scimitar_schema::Policy::strict(),
        "User",
        &patched.resource,
        json!([{"op": "remove", "path": "emails[type eq \"work\" and value ew \"example.com\"]"}]),
    );
    assert_eq!(error.scim_type(), ScimType::NoTarget);
    assert_eq!(
        error.to_string(),
        "operation 1 (remove \"emails[type eq \\\"work\\\" and value ew \\\"example.com\\\"]\"): no value of emails matches the filter"
    );
}

/// §3.5.2.2: replace all members by removing them one by one and adding new ones
/// (note the RFC's `eq\"` without a space).
#[test]
fn remove_members_then_add() {
    let patched = patch_strict(
        "Group",
        &group(),
        json!([
            {"op": "remove", "path": format!("members[value eq\"{BABS}\"]")},
            {"op": "remove", "path": format!("members[value eq\"{MANDY}\"]")},
            {"op": "add", "path": "members", "value": [james_member(), babs_member()]}
        ]),
    );
    assert_eq!(member_ids(&patched.resource), [JAMES, BABS]);
    assert_eq!(patched.resource["members"][1], babs_member());
    let added: Vec<&str> = patched
        .changes
        .members_added
        .iter()
        .map(|m| m.value.as_str())
        .collect();
    assert_eq!(added, [JAMES]);
    assert_eq!(patched.changes.members_removed, [MANDY]);
}

/// §3.5.2.2: remove all members, then add the new list.
#[test]
fn remove_all_then_add() {
    let patched = patch_strict(
        "Group",
        &group(),
        json!([
            {"op": "remove", "path": "members"},
            {"op": "add", "path": "members", "value": [babs_member(), james_member()]}
        ]),
    );
    assert_eq!(
        patched.resource["members"],
        json!([babs_member(), james_member()])
    );
}

/// §3.5.2.3: "replace all of the members of a group".
#[test]
fn replace_all_members() {
    let patched = patch_strict(
        "Group",
        &group(),
        json!([{"op": "replace", "path": "members", "value": [babs_member(), james_member()]}]),
    );
    assert_eq!(
        patched.resource["members"],
        json!([babs_member(), james_member()])
    );
    assert_eq!(patched.changes.members_removed, [MANDY]);
    assert_eq!(patched.changes.members_added[0].value, JAMES);
    assert!(
        !patched.changes.members_replaced,
        "the delta is exact when members are in the resource"
    );
}

/// §3.5.2.3: replace a user's work address; sub-attributes of the matched value
/// are replaced, and it becomes the only primary address.
#[test]
fn replace_work_address() {
    let mut user = bjensen();
    user["addresses"][1]["primary"] = json!(true);
    user["addresses"][0]["primary"] = json!(false);
    let new_address = json!({
        "type": "work",
        "streetAddress": "911 Universal City Plaza",
        "locality": "Hollywood",
        "region": "CA",
        "postalCode": "91608",
        "country": "US",
        "formatted": "911 Universal City Plaza\nHollywood, CA 91608 US",
        "primary": true
    });
    let patched = patch_strict(
        "User",
        &user,
        json!([{"op": "replace", "path": "addresses[type eq \"work\"]", "value": new_address}]),
    );
    assert_eq!(patched.resource["addresses"][0], new_address);
    assert_eq!(patched.resource["addresses"][1]["primary"], json!(false));
    assert_eq!(
        patched.resource["addresses"][1]["streetAddress"],
        "456 Hollywood Blvd"
    );
}

/// §3.5.2.3: replace one sub-attribute of the matched value.
#[test]
fn replace_work_street() {
    let patched = patch_strict(
        "User",
        &bjensen(),
        json!([{"op": "replace", "path": "addresses[type eq \"work\"].streetAddress", "value": "1010 Broadway Ave"}]),
    );
    let mut expected = bjensen();
    expected["addresses"][0]["streetAddress"] = json!("1010 Broadway Ave");
    assert_eq!(patched.resource, expected);
    let change = patched.changes.changed("addresses").unwrap();
    assert_eq!(
        change.new.as_ref().unwrap()[0]["streetAddress"],
        "1010 Broadway Ave"
    );
    assert_eq!(patched.changes.attributes.len(), 1);
}

/// §3.5.2.3: path-less replace of several attributes: multi-valued ones are
/// replaced whole.
#[test]
fn replace_without_path() {
    let patched = patch_strict(
        "User",
        &bjensen(),
        json!([{"op": "replace", "value": {
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "nickname": "Babs"
        }}]),
    );
    // bjensen already has exactly these: nothing changes.
    assert_eq!(patched.resource, bjensen());
    assert!(patched.changes.is_empty());

    let patched = patch_strict(
        "User",
        &bjensen(),
        json!([{"op": "replace", "value": {
            "emails": [{"value": "babs@jensen.org", "type": "home", "primary": true}],
            "nickname": "Barbie"
        }}]),
    );
    assert_eq!(
        patched.resource["emails"],
        json!([{"value": "babs@jensen.org", "type": "home", "primary": true}])
    );
    assert_eq!(patched.resource["nickName"], "Barbie");
    let paths: Vec<&str> = patched
        .changes
        .attributes
        .iter()
        .map(|c| c.path.as_str())
        .collect();
    assert_eq!(paths, ["nickName", "emails"]);
}

/// §3.5.2: the example paths all resolve, and `members[...].displayName` names no
/// attribute of the Group schema: skipped when unknown attributes are ignored,
/// `invalidPath` when rejected.
#[test]
fn example_paths() {
    let patched = patch(
        "Group",
        &group(),
        json!([{"op": "replace", "path": format!("members[value eq \"{BABS}\"].displayName"), "value": "x"}]),
    );
    assert!(patched.changes.is_empty());
    let error = patch_error(
        &scimitar_schema::Policy::strict(),
        "Group",
        &group(),
        json!([{"op": "replace", "path": format!("members[value eq \"{BABS}\"].displayName"), "value": "x"}]),
    );
    assert_eq!(error.scim_type(), ScimType::InvalidPath);
    let patched = patch_strict(
        "User",
        &bjensen(),
        json!([
            {"op": "replace", "path": "name.familyName", "value": "Jensen-Smith"},
            {"op": "remove", "path": "addresses[type eq \"work\"]"}
        ]),
    );
    assert_eq!(patched.resource["name"]["familyName"], "Jensen-Smith");
    assert_eq!(patched.resource["addresses"].as_array().unwrap().len(), 1);
    assert_eq!(
        patched.changes.changed("name.familyName").unwrap().old,
        Some(json!("Jensen"))
    );
}

/// §3.5.2.2: remove without a path is `noTarget`.
#[test]
fn remove_without_path() {
    let error = patch_error(
        &scimitar_schema::Policy::strict(),
        "User",
        &bjensen(),
        json!([{"op": "remove"}]),
    );
    assert_eq!(error.scim_type(), ScimType::NoTarget);
}

/// §3.5.2.2: removing a required attribute fails with `mutability`.
#[test]
fn remove_required() {
    let error = patch_error(
        &scimitar_schema::Policy::strict(),
        "User",
        &bjensen(),
        json!([{"op": "remove", "path": "userName"}]),
    );
    assert_eq!(error.scim_type(), ScimType::Mutability);
    assert_eq!(
        error.to_string(),
        "operation 1 (remove \"userName\"): `userName` is required; it cannot be removed"
    );
}

/// §3.5.2.3: replace with a filter that matches nothing is `noTarget` (strict).
#[test]
fn replace_no_match_is_no_target() {
    let error = patch_error(
        &scimitar_schema::Policy::strict(),
        "User",
        &bjensen(),
        json!([{"op": "replace", "path": "emails[type eq \"other\"].value", "value": "x@example.com"}]),
    );
    assert_eq!(error.scim_type(), ScimType::NoTarget);
}
