//! The rules of RFC 7644 §3.5.2 beyond the RFC's own examples: mutability, types,
//! primary values, case, extensions, atomicity and the change report.

mod common;

use common::*;
use scimitar_patch::{apply, PatchError};
use scimitar_schema::messages::{PatchOpKind, PatchOperation, PatchRequest};
use scimitar_schema::{Policy, Registry, ScimType};
use serde_json::{json, Value};

fn strict_error(resource_type: &str, resource: &Value, operations: Value) -> PatchError {
    patch_error(&Policy::strict(), resource_type, resource, operations)
}

#[test]
fn read_only_targets_are_refused() {
    for path in [
        "id",
        "meta.lastModified",
        "groups",
        "meta",
        &format!("{ENTERPRISE}:manager.displayName"),
    ] {
        for op in ["add", "replace", "remove"] {
            let error = patch_error(
                &Policy::compatible(),
                "User",
                &bjensen(),
                json!([{"op": op, "path": path, "value": "x"}]),
            );
            assert_eq!(
                error.scim_type(),
                ScimType::Mutability,
                "{op} {path}: {error}"
            );
        }
    }
}

#[test]
fn read_only_values_inside_a_value_follow_the_policy() {
    let value = json!({"value": "m2", "displayName": "Someone"});
    let patched = patch(
        "User",
        &entra_user(),
        json!([{"op": "add", "path": format!("{ENTERPRISE}:manager"), "value": value}]),
    );
    assert_eq!(
        patched.resource[ENTERPRISE]["manager"],
        json!({"value": "m2"})
    );
    let error = strict_error(
        "User",
        &entra_user(),
        json!([{"op": "add", "path": format!("{ENTERPRISE}:manager"), "value": value}]),
    );
    assert_eq!(error.scim_type(), ScimType::Mutability);
    let patched = patch(
        "User",
        &bjensen(),
        json!([{"op": "replace", "value": {"meta": {"version": "x"}, "groups": [], "title": "Boss"}}]),
    );
    assert_eq!(patched.resource["meta"], bjensen()["meta"]);
    assert_eq!(patched.changes.attributes.len(), 1);
}

#[test]
fn immutable_sub_attributes_can_be_set_once() {
    // A member's `value`, `$ref` and `type` are immutable (RFC 7643 §8.7.1);
    // `display` too after the errata.
    let error = strict_error(
        "Group",
        &group(),
        json!([{"op": "replace", "path": "members[value eq \"2819c223-7f76-453a-919d-413861904646\"].value", "value": "other"}]),
    );
    assert_eq!(error.scim_type(), ScimType::Mutability);
    assert_eq!(
        error.to_string(),
        "operation 1 (replace \"members[value eq \\\"2819c223-7f76-453a-919d-413861904646\\\"].value\"): `members.value` is immutable; it is already set and cannot be changed"
    );
    let patched = patch_strict(
        "Group",
        &group(),
        json!([{"op": "add", "path": "members[value eq \"2819c223-7f76-453a-919d-413861904646\"].type", "value": "User"}]),
    );
    assert_eq!(patched.resource["members"][0]["type"], "User");
    // Setting the same value again (ignoring case, as `caseExact` is false) is fine.
    let same = patch_strict(
        "Group",
        &patched.resource,
        json!([{"op": "replace", "path": "members[value eq \"2819c223-7f76-453a-919d-413861904646\"].type", "value": "USER"}]),
    );
    assert_eq!(same.resource, patched.resource);
}

#[test]
fn immutable_attributes_in_a_custom_schema() {
    let mut registry = Registry::builtin();
    registry
        .load_schema_json(
            r#"{"id": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "attributes": [
                {"name": "employeeNumber", "type": "string", "mutability": "immutable"},
                {"name": "hired", "type": "dateTime"},
                {"name": "level", "type": "integer"},
                {"name": "badge", "type": "binary"},
                {"name": "score", "type": "decimal"},
                {"name": "costCenter", "type": "string", "required": true}
            ]}"#,
        )
        .unwrap();
    let run = |resource: &Value, operations: Value| {
        apply(
            &registry,
            "User",
            resource,
            &request(operations),
            &Policy::strict(),
        )
    };
    let user = json!({"schemas": [USER_URN], "userName": "u"});
    let set = run(
        &user,
        json!([{"op": "add", "path": format!("{ENTERPRISE}:employeeNumber"), "value": "1"}]),
    )
    .unwrap();
    assert_eq!(set.resource[ENTERPRISE]["employeeNumber"], "1");
    for operations in [
        json!([{"op": "replace", "path": format!("{ENTERPRISE}:employeeNumber"), "value": "2"}]),
        json!([{"op": "remove", "path": format!("{ENTERPRISE}:employeeNumber")}]),
        json!([{"op": "remove", "path": ENTERPRISE}]),
    ] {
        let error = run(&set.resource, operations.clone()).unwrap_err();
        assert_eq!(error.scim_type(), ScimType::Mutability, "{operations}");
    }
    assert!(run(
        &set.resource,
        json!([{"op": "replace", "path": format!("{ENTERPRISE}:employeeNumber"), "value": "1"}])
    )
    .unwrap()
    .changes
    .is_empty());

    let typed = run(
        &user,
        json!([{"op": "add", "value": {ENTERPRISE: {"hired": "2020-02-29T09:00:00Z", "level": 3, "badge": "TWFu", "score": 1.5}}}]),
    )
    .unwrap();
    assert_eq!(typed.resource[ENTERPRISE]["level"], 3);
    for (name, bad) in [
        ("hired", json!("2021-02-29T09:00:00Z")),
        ("hired", json!(5)),
        ("level", json!(1.5)),
        ("level", json!("3")),
        ("badge", json!("not base64!")),
        ("score", json!("1.5")),
        ("employeeNumber", json!(7)),
        ("employeeNumber", json!(["a"])),
    ] {
        let error = run(
            &user,
            json!([{"op": "add", "path": format!("{ENTERPRISE}:{name}"), "value": bad}]),
        )
        .unwrap_err();
        assert_eq!(
            error.scim_type(),
            ScimType::InvalidValue,
            "{name} = {bad}: {error}"
        );
        assert!(error.to_string().contains(name), "{error}");
    }
    let with_cost_center = run(
        &user,
        json!([{"op": "add", "path": format!("{ENTERPRISE}:costCenter"), "value": "4130"}]),
    )
    .unwrap();
    let error = run(
        &with_cost_center.resource,
        json!([{"op": "remove", "path": format!("{ENTERPRISE}:costCenter")}]),
    )
    .unwrap_err();
    assert_eq!(error.scim_type(), ScimType::Mutability);
}

#[test]
fn primary_moves_to_the_written_value() {
    let patched = patch_strict(
        "User",
        &bjensen(),
        json!([{"op": "add", "path": "emails", "value": [{"value": "new@example.com", "type": "other", "primary": true}]}]),
    );
    let emails = patched.resource["emails"].as_array().unwrap();
    let primaries: Vec<&str> = emails
        .iter()
        .filter(|e| e["primary"] == json!(true))
        .map(|e| e["value"].as_str().unwrap())
        .collect();
    assert_eq!(primaries, ["new@example.com"]);
    assert_eq!(emails[0]["primary"], json!(false));

    let patched = patch(
        "User",
        &bjensen(),
        json!([{"op": "Replace", "path": "emails[type eq \"home\"].primary", "value": "True"}]),
    );
    assert_eq!(patched.resource["emails"][1]["primary"], json!(true));
    assert_eq!(patched.resource["emails"][0]["primary"], json!(false));

    let error = strict_error(
        "User",
        &bjensen(),
        json!([{"op": "add", "path": "emails", "value": [
            {"value": "a@example.com", "primary": true}, {"value": "b@example.com", "primary": true}
        ]}]),
    );
    assert_eq!(error.scim_type(), ScimType::InvalidValue);
    let error = strict_error(
        "User",
        &bjensen(),
        json!([{"op": "replace", "path": "emails.primary", "value": true}]),
    );
    assert_eq!(error.scim_type(), ScimType::InvalidValue);
}

#[test]
fn add_to_multi_valued_skips_duplicates() {
    let patched = patch_strict(
        "User",
        &bjensen(),
        json!([{"op": "add", "path": "emails", "value": [
            {"value": "BJensen@Example.com", "type": "WORK", "primary": true},
            {"value": "babs@jensen.org", "type": "home"},
            {"value": "third@example.com", "type": "other"}
        ]}]),
    );
    assert_eq!(patched.resource["emails"].as_array().unwrap().len(), 3);
    // One value instead of an array is one element (§3.5.2.1 "a new value is added").
    let patched = patch_strict(
        "User",
        &bjensen(),
        json!([{"op": "add", "path": "phoneNumbers", "value": {"value": "555-555-3333", "type": "fax"}}]),
    );
    assert_eq!(patched.resource["phoneNumbers"][2]["type"], "fax");
}

#[test]
fn remove_value_list_for_any_multi_valued_attribute() {
    let patched = patch(
        "User",
        &bjensen(),
        json!([{"op": "remove", "path": "phoneNumbers", "value": [{"value": "555-555-4444"}]}]),
    );
    assert_eq!(
        patched.resource["phoneNumbers"],
        json!([{"value": "555-555-5555", "type": "work"}])
    );
}

#[test]
fn complex_values_merge_and_clear() {
    let patched = patch_strict(
        "User",
        &bjensen(),
        json!([
            {"op": "replace", "path": "name", "value": {"givenName": "Babs", "middleName": null}},
            {"op": "add", "path": "name", "value": {"honorificSuffix": "IV"}}
        ]),
    );
    assert_eq!(
        patched.resource["name"],
        json!({
            "formatted": "Ms. Barbara J Jensen, III",
            "familyName": "Jensen",
            "givenName": "Babs",
            "honorificPrefix": "Ms.",
            "honorificSuffix": "IV"
        })
    );
    let paths: Vec<&str> = patched
        .changes
        .attributes
        .iter()
        .map(|c| c.path.as_str())
        .collect();
    assert_eq!(
        paths,
        ["name.givenName", "name.middleName", "name.honorificSuffix"]
    );
    assert_eq!(
        patched.changes.changed("name.middleName").unwrap().new,
        None
    );

    // Removing every sub-attribute leaves the attribute unassigned.
    let user = json!({"schemas": [USER_URN], "userName": "u", "name": {"givenName": "A"}});
    let patched = patch_strict(
        "User",
        &user,
        json!([{"op": "remove", "path": "name.givenName"}]),
    );
    assert_eq!(
        patched.resource,
        json!({"schemas": [USER_URN], "userName": "u"})
    );
}

#[test]
fn empty_values_clear_or_are_stored_by_policy() {
    let compatible = patch(
        "User",
        &bjensen(),
        json!([{"op": "replace", "path": "title", "value": ""}]),
    );
    assert!(compatible.resource.get("title").is_none());
    let strict = patch_strict(
        "User",
        &bjensen(),
        json!([{"op": "replace", "path": "title", "value": ""}]),
    );
    assert_eq!(strict.resource["title"], "");
    let error = strict_error(
        "User",
        &bjensen(),
        json!([{"op": "replace", "path": "title", "value": null}]),
    );
    assert_eq!(error.scim_type(), ScimType::InvalidValue);
    let cleared = patch(
        "User",
        &bjensen(),
        json!([{"op": "replace", "path": "emails[type eq \"home\"]", "value": null}]),
    );
    assert_eq!(cleared.resource["emails"].as_array().unwrap().len(), 1);
    // Clearing what matches nothing is not an error.
    let nothing = patch(
        "User",
        &bjensen(),
        json!([{"op": "replace", "path": "emails[type eq \"other\"].value", "value": ""}]),
    );
    assert!(nothing.changes.is_empty());
    let error = patch_error(
        &Policy::compatible(),
        "User",
        &bjensen(),
        json!([{"op": "replace", "path": "userName", "value": ""}]),
    );
    // Empty is missing, and missing is an invalid value here, not a removal.
    assert_eq!(error.scim_type(), ScimType::InvalidValue);
}

#[test]
fn names_ignore_case_and_keep_the_stored_spelling() {
    let user = json!({"schemas": [USER_URN], "USERNAME": "u", "Name": {"GIVENNAME": "A"}, "emails": [{"Value": "a@x", "TYPE": "work"}]});
    let patched = patch_strict(
        "User",
        &user,
        json!([
            {"op": "replace", "path": "userName", "value": "v"},
            {"op": "replace", "path": "NAME.givenname", "value": "B"},
            {"op": "replace", "path": "EMAILS[type eq \"WORK\"].VALUE", "value": "b@x"},
            {"op": "add", "path": "NickName", "value": "n"}
        ]),
    );
    assert_eq!(
        patched.resource,
        json!({"schemas": [USER_URN], "USERNAME": "v", "Name": {"GIVENNAME": "B"}, "emails": [{"Value": "b@x", "TYPE": "work"}], "nickName": "n"})
    );
    let paths: Vec<&str> = patched
        .changes
        .attributes
        .iter()
        .map(|c| c.path.as_str())
        .collect();
    assert_eq!(paths, ["userName", "name.givenName", "emails", "nickName"]);
}

#[test]
fn extension_urn_as_path_and_as_key() {
    let user = json!({"schemas": [USER_URN], "userName": "u"});
    let added = patch_strict(
        "User",
        &user,
        json!([{"op": "add", "path": ENTERPRISE, "value": {"department": "Tours", "manager": {"value": "m"}}}]),
    );
    assert_eq!(added.resource["schemas"], json!([USER_URN, ENTERPRISE]));
    assert_eq!(
        added.resource[ENTERPRISE],
        json!({"department": "Tours", "manager": {"value": "m"}})
    );
    let via_key = patch_strict(
        "User",
        &user,
        json!([{"op": "add", "value": {ENTERPRISE: {"department": "Tours", "manager": {"value": "m"}}}}]),
    );
    assert_eq!(via_key.resource, added.resource);
    let urn_lowercase = ENTERPRISE.to_lowercase();
    let removed = patch_strict(
        "User",
        &added.resource,
        json!([{"op": "remove", "path": urn_lowercase}]),
    );
    assert_eq!(removed.resource, user);
    let paths: Vec<&str> = removed
        .changes
        .attributes
        .iter()
        .map(|c| c.path.as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "schemas".to_string(),
            format!("{ENTERPRISE}:department"),
            format!("{ENTERPRISE}:manager.value")
        ]
    );
    // The URN stays listed while data remains.
    let partly = patch_strict(
        "User",
        &added.resource,
        json!([{"op": "remove", "path": format!("{ENTERPRISE}:department")}]),
    );
    assert_eq!(partly.resource["schemas"], json!([USER_URN, ENTERPRISE]));
}

#[test]
fn passwords_are_written_but_not_reported() {
    let patched = patch_strict(
        "User",
        &bjensen(),
        json!([{"op": "replace", "path": "password", "value": "t1meMa$heen"}]),
    );
    assert_eq!(patched.resource["password"], "t1meMa$heen");
    let change = patched.changes.changed("password").unwrap();
    assert_eq!(
        (change.old.clone(), change.new.clone()),
        (None, Some(Value::Null))
    );
}

#[test]
fn request_level_errors() {
    let registry = Registry::builtin();
    let policy = Policy::compatible();
    let operation = PatchOperation {
        op: PatchOpKind::Replace,
        path: Some("title".into()),
        value: Some(json!("x")),
    };
    let mut wrong = PatchRequest::new(vec![operation]);
    wrong.schemas = vec!["urn:ietf:params:scim:api:messages:2.0:BulkRequest".into()];
    let error = apply(&registry, "User", &bjensen(), &wrong, &policy).unwrap_err();
    assert_eq!(error, PatchError::NotPatchOp);
    let empty = PatchRequest::new(vec![]);
    assert_eq!(
        apply(&registry, "User", &bjensen(), &empty, &policy).unwrap_err(),
        PatchError::NoOperations
    );
    let fine = request(json!([{"op": "replace", "path": "title", "value": "x"}]));
    assert!(matches!(
        apply(&registry, "Device", &bjensen(), &fine, &policy).unwrap_err(),
        PatchError::UnknownResourceType(name) if name == "Device"
    ));
    assert_eq!(
        apply(&registry, "User", &json!([]), &fine, &policy).unwrap_err(),
        PatchError::ResourceNotAnObject
    );
    assert_eq!(
        PatchError::NoOperations.scim_type(),
        ScimType::InvalidSyntax
    );
}

#[test]
fn operation_errors() {
    let cases = [
        (
            json!({"op": "add", "path": "title"}),
            ScimType::InvalidValue,
            "add needs a \"value\"",
        ),
        (
            json!({"op": "add", "path": "title[value eq \"x\"]", "value": "y"}),
            ScimType::InvalidPath,
            "single-valued",
        ),
        (
            json!({"op": "add", "path": "emails[type eq]", "value": "y"}),
            ScimType::InvalidPath,
            "invalid path",
        ),
        (
            json!({"op": "add", "path": "nope", "value": "y"}),
            ScimType::InvalidPath,
            "not an attribute of resource type User",
        ),
        (
            json!({"op": "add", "value": "y"}),
            ScimType::InvalidValue,
            "an object of attributes",
        ),
        (
            json!({"op": "add", "value": {"nope": 1}}),
            ScimType::InvalidSyntax,
            "`nope`",
        ),
        (
            json!({"op": "add", "path": "name", "value": "y"}),
            ScimType::InvalidValue,
            "an object of sub-attributes",
        ),
        (
            json!({"op": "add", "path": "emails", "value": [[1]]}),
            ScimType::InvalidValue,
            "nested array",
        ),
    ];
    for (operation, scim_type, message) in cases {
        let error = strict_error(
            "User",
            &bjensen(),
            json!([{"op": "replace", "path": "title", "value": "ok"}, operation]),
        );
        assert_eq!(error.scim_type(), scim_type, "{operation}: {error}");
        assert!(error.to_string().starts_with("operation 2 ("), "{error}");
        assert!(error.to_string().contains(message), "{operation}: {error}");
    }
}

#[test]
fn a_failed_patch_changes_nothing() {
    let user = bjensen();
    let before = user.clone();
    let error = patch_error(
        &Policy::compatible(),
        "User",
        &user,
        json!([
            {"op": "replace", "path": "title", "value": "Changed"},
            {"op": "remove", "path": "emails"},
            {"op": "remove", "path": "userName"}
        ]),
    );
    assert_eq!(error.scim_type(), ScimType::Mutability);
    match error {
        PatchError::Operation {
            position, op, path, ..
        } => {
            assert_eq!(
                (position, op, path.as_deref()),
                (3, PatchOpKind::Remove, Some("userName"))
            );
        }
        other => panic!("unexpected {other}"),
    }
    assert_eq!(user, before);
}

#[test]
fn sub_attribute_without_filter_applies_to_every_value() {
    let patched = patch_strict(
        "User",
        &bjensen(),
        json!([{"op": "remove", "path": "emails.type"}]),
    );
    assert_eq!(
        patched.resource["emails"],
        json!([{"value": "bjensen@example.com", "primary": true}, {"value": "babs@jensen.org"}])
    );
    let user = json!({"schemas": [USER_URN], "userName": "u"});
    let patched = patch_strict(
        "User",
        &user,
        json!([{"op": "add", "path": "emails.value", "value": "a@example.com"}]),
    );
    assert_eq!(
        patched.resource["emails"],
        json!([{"value": "a@example.com"}])
    );
}

#[test]
fn a_patch_that_changes_nothing_reports_nothing() {
    let patched = patch_strict(
        "User",
        &bjensen(),
        json!([
            {"op": "replace", "path": "title", "value": "Other"},
            {"op": "replace", "path": "title", "value": "Tour Guide"},
            {"op": "remove", "path": "x509Certificates"},
            {"op": "add", "path": "emails", "value": []}
        ]),
    );
    assert_eq!(patched.resource, bjensen());
    assert!(patched.changes.is_empty());
}

#[test]
fn a_required_extension_cannot_be_removed() {
    let mut registry = Registry::builtin();
    let mut user_type = registry.resource_type("User").unwrap().clone();
    user_type.schema_extensions[0].required = true;
    registry.add_resource_type(user_type).unwrap();
    let operations = request(json!([{"op": "remove", "path": ENTERPRISE}]));
    let error = apply(
        &registry,
        "User",
        &bjensen(),
        &operations,
        &Policy::strict(),
    )
    .unwrap_err();
    assert_eq!(error.scim_type(), ScimType::Mutability);
    let optional = apply(
        &Registry::builtin(),
        "User",
        &bjensen(),
        &operations,
        &Policy::strict(),
    )
    .unwrap();
    assert!(optional.resource.get(ENTERPRISE).is_none());
}

#[test]
fn required_strings_cannot_become_blank() {
    // Empty is missing: `""` or whitespace in `userName` or a group's
    // `displayName` is invalidValue in every policy, with a path or without.
    for policy in [Policy::strict(), Policy::compatible()] {
        for value in ["", "   ", "\t"] {
            for (resource_type, resource, attribute) in [
                ("User", bjensen(), "userName"),
                ("Group", group(), "displayName"),
            ] {
                for operations in [
                    json!([{"op": "replace", "path": attribute, "value": value}]),
                    json!([{"op": "add", "path": attribute, "value": value}]),
                    json!([{"op": "replace", "value": {attribute: value}}]),
                ] {
                    let error = patch_error(&policy, resource_type, &resource, operations.clone());
                    assert_eq!(
                        error.scim_type(),
                        ScimType::InvalidValue,
                        "{operations}: {error}"
                    );
                    assert!(
                        error.to_string().contains("must not be empty or blank"),
                        "{error}"
                    );
                }
            }
        }
    }
    // An optional string is still cleared by `""` (Entra ID's way).
    let patched = patch(
        "User",
        &bjensen(),
        json!([{"op": "replace", "path": "title", "value": ""}]),
    );
    assert!(patched.resource.get("title").is_none());
}
