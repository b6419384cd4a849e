//! Properties over random operation sequences: no panic, a failed PATCH changes
//! nothing, the report is empty exactly when the resource is unchanged, and a
//! patched resource still validates against the schema.

mod common;

use common::*;
use proptest::prelude::*;
use scimitar_patch::{apply, apply_with, ApplyOptions};
use scimitar_schema::messages::{PatchOpKind, PatchOperation, PatchRequest};
use scimitar_schema::{Mode, Policy, Registry};
use serde_json::{json, Value};

fn op_kind() -> impl Strategy<Value = PatchOpKind> {
    prop_oneof![
        Just(PatchOpKind::Add),
        Just(PatchOpKind::Replace),
        Just(PatchOpKind::Remove)
    ]
}

fn path() -> impl Strategy<Value = Option<String>> {
    const PATHS: [&str; 27] = [
        "title",
        "userName",
        "active",
        "name",
        "name.givenName",
        "NAME.familyname",
        "emails",
        "emails.type",
        "emails[type eq \"work\"]",
        "emails[type eq \"work\"].value",
        "emails[type eq \"home\" or primary eq true].primary",
        "phoneNumbers[value eq \"555-555-5555\"]",
        "addresses[type eq \"work\"].streetAddress",
        "groups",
        "id",
        "meta.created",
        "password",
        "members",
        "members[value eq \"a\"]",
        "x509Certificates",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        "nope",
        "emails[type eq",
        "",
    ];
    prop_oneof![
        1 => Just(None),
        8 => proptest::sample::select(&PATHS[..]).prop_map(|path| Some(path.to_string())),
        1 => "[a-zA-Z.\\[\\]\" :]{0,20}".prop_map(Some),
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(json!("")),
        Just(json!("True")),
        Just(json!("false")),
        Just(json!(true)),
        Just(json!(false)),
        Just(json!(42)),
        Just(json!(1.5)),
        Just(json!("2011-05-13T04:42:34Z")),
        "[a-z@.]{1,12}".prop_map(Value::String),
    ]
}

fn element() -> impl Strategy<Value = Value> {
    (
        scalar(),
        proptest::sample::select(&["work", "home", "other"][..]),
        any::<bool>(),
    )
        .prop_map(
            |(value, kind, primary)| json!({"value": value, "type": kind, "primary": primary}),
        )
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = || prop_oneof![scalar(), element()];
    prop_oneof![
        3 => leaf(),
        2 => proptest::collection::vec(element(), 0..3).prop_map(Value::Array),
        2 => proptest::collection::btree_map(
            proptest::sample::select(&[
                "title", "nickName", "active", "emails", "name", "name.givenName", "id", "meta",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
                "givenName", "value", "displayName", "members",
            ][..]),
            leaf(),
            0..4,
        )
        .prop_map(|map| Value::Object(map.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
    ]
}

/// Operations that are well-formed for the User or Group schema: the right kind of
/// value for each path, with arbitrary text, ids and booleans in them.
fn typed_operation() -> impl Strategy<Value = PatchOperation> {
    const PATHS: [&str; 19] = [
        "title",
        "displayName",
        "active",
        "name",
        "name.givenName",
        "emails",
        "emails[type eq \"work\"].value",
        "emails[type eq \"home\"]",
        "emails.type",
        "phoneNumbers[type eq \"work\"].primary",
        "addresses[type eq \"work\"].streetAddress",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        "members",
        "members[value eq \"ID\"]",
        "members[value eq \"ID\"].display",
        "", // path-less
        "x509Certificates",
    ];
    (
        op_kind(),
        proptest::sample::select(&PATHS[..]),
        "[a-zA-Z@.]{0,8}",
        proptest::sample::select(&["2819c223-7f76-453a-919d-413861904646", "902c246b-6245-4190-8e05-00816be7344a", "a", "b"][..]),
        any::<bool>(),
        proptest::sample::select(&["work", "home", "other"][..]),
    )
        .prop_map(|(op, path, text, id, flag, kind)| {
            let path = path.replace("ID", id);
            let value = match path.as_str() {
                "active" => json!(flag),
                "name" => json!({"givenName": text, "familyName": "Jensen"}),
                "emails" => json!([{"value": format!("{text}@example.com"), "type": kind, "primary": flag}]),
                "emails[type eq \"home\"]" => json!({"value": text, "primary": flag}),
                "emails.type" => json!(kind),
                "phoneNumbers[type eq \"work\"].primary" => json!(flag),
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User" => json!({"department": text, "manager": {"value": id}}),
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager" if flag => json!(id),
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager" => json!({"value": id}),
                "members" => json!([{"value": id, "display": text}]),
                "" if flag => json!({"title": text, "active": flag, "name.givenName": text, "members": [{"value": id}]}),
                "" => json!({"displayName": text, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": text}}),
                "x509Certificates" => json!([{"value": "TWFu"}]),
                _ => json!(text),
            };
            let path = (!path.is_empty()).then_some(path);
            let value = (op != PatchOpKind::Remove || (flag && path.as_deref() == Some("members"))).then_some(value);
            PatchOperation { op, path, value }
        })
}

fn operations() -> impl Strategy<Value = Vec<PatchOperation>> {
    let noise = (op_kind(), path(), proptest::option::of(value()))
        .prop_map(|(op, path, value)| PatchOperation { op, path, value });
    proptest::collection::vec(prop_oneof![4 => typed_operation(), 1 => noise], 1..6)
}

fn policy() -> impl Strategy<Value = Policy> {
    prop_oneof![Just(Policy::compatible()), Just(Policy::strict())]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_patches_keep_the_invariants(ops in operations(), policy in policy(), resource_type in proptest::sample::select(&["User", "Group"][..])) {
        let registry = Registry::builtin();
        let resource = if resource_type == "User" { bjensen() } else { group() };
        let before = resource.clone();
        let request = PatchRequest::new(ops);
        match apply(&registry, resource_type, &resource, &request, &policy) {
            Ok(patched) => {
                prop_assert_eq!(patched.changes.is_empty(), patched.resource == before,
                    "report {:?} for {}", patched.changes, patched.resource);
                let valid = registry.validate(resource_type, &patched.resource, Mode::Response, &Policy::compatible());
                prop_assert!(valid.is_ok(), "{:?} for {}", valid, patched.resource);
                let again = apply(&registry, resource_type, &resource, &request, &policy);
                prop_assert_eq!(again.ok(), Some(patched), "deterministic");
            }
            Err(error) => {
                prop_assert!(error.status() == 400);
                prop_assert!(!error.to_string().is_empty());
            }
        }
        prop_assert_eq!(resource, before);
    }

    #[test]
    fn external_members_never_touch_the_resource_members(ops in operations()) {
        let registry = Registry::builtin();
        let resource = group();
        let request = PatchRequest::new(ops);
        let options = ApplyOptions { external_members: true };
        if let Ok(patched) = apply_with(&registry, "Group", &resource, &request, &Policy::compatible(), &options) {
            prop_assert_eq!(&patched.resource["members"], &resource["members"]);
            prop_assert!(patched.changes.attributes.iter().all(|change| change.path != "members"));
            let mut ids: Vec<&str> = patched.changes.members_added.iter().map(|m| m.value.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            prop_assert_eq!(ids.len(), patched.changes.members_added.len(), "added once each");
        }
    }
}
