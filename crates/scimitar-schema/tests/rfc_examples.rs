//! The RFC 7643 §8 examples: they validate, shape and convert to typed views
//! without losing or changing anything.

use scimitar_schema::{urn, Group, Mode, Policy, Projection, Registry, User};
use serde_json::Value;

/// (resource type, file name, contents)
const EXAMPLES: [(&str, &str, &str); 4] = [
    (
        "User",
        "8.1",
        include_str!("fixtures/rfc7643_8_1_minimal_user.json"),
    ),
    (
        "User",
        "8.2",
        include_str!("fixtures/rfc7643_8_2_full_user.json"),
    ),
    (
        "User",
        "8.3",
        include_str!("fixtures/rfc7643_8_3_enterprise_user.json"),
    ),
    (
        "Group",
        "8.4",
        include_str!("fixtures/rfc7643_8_4_group.json"),
    ),
];

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[test]
fn examples_validate_unchanged_as_responses() {
    let registry = Registry::builtin();
    for (resource_type, section, text) in EXAMPLES {
        let example = parse(text);
        for policy in [Policy::strict(), Policy::compatible()] {
            let cleaned = registry
                .validate(resource_type, &example, Mode::Response, &policy)
                .unwrap_or_else(|error| panic!("§{section}: {error}"));
            assert_eq!(cleaned, example, "§{section}");
            let printed = serde_json::to_string(&cleaned).unwrap();
            assert_eq!(parse(&printed), example, "§{section}");
        }
    }
}

#[test]
fn examples_as_client_bodies_lose_only_read_only_attributes() {
    let registry = Registry::builtin();
    for (resource_type, section, text) in EXAMPLES {
        let example = parse(text);
        let cleaned = registry
            .validate(resource_type, &example, Mode::Create, &Policy::strict())
            .unwrap_or_else(|error| panic!("§{section}: {error}"));
        let mut expected = example.clone();
        let object = expected.as_object_mut().unwrap();
        for read_only in ["id", "meta", "groups"] {
            object.remove(read_only);
        }
        if let Some(manager) = object
            .get_mut(urn::ENTERPRISE_USER)
            .and_then(|data| data.get_mut("manager"))
            .and_then(Value::as_object_mut)
        {
            manager.remove("displayName");
        }
        assert_eq!(cleaned, expected, "§{section}");
    }
}

#[test]
fn examples_shape_without_password_by_default() {
    let registry = Registry::builtin();
    for (resource_type, section, text) in EXAMPLES {
        let example = parse(text);
        let shaped = registry.project(resource_type, &example, &Projection::default());
        let mut expected = example.clone();
        expected.as_object_mut().unwrap().remove("password");
        assert_eq!(shaped, expected, "§{section}");
    }
}

#[test]
fn examples_round_trip_through_typed_views() {
    for (resource_type, section, text) in EXAMPLES {
        let example = parse(text);
        let back = if resource_type == "User" {
            let user = User::from_value(example.clone()).unwrap();
            assert_eq!(user.user_name, "bjensen@example.com");
            assert!(user.extra.is_empty(), "§{section}: {:?}", user.extra);
            user.to_value()
        } else {
            let group = Group::from_value(example.clone()).unwrap();
            assert_eq!(group.members.len(), 2);
            assert!(group.extra.is_empty());
            group.to_value()
        };
        assert_eq!(back, example, "§{section}");
    }
}

#[test]
fn enterprise_view_reads_the_extension() {
    let user = User::from_value(parse(EXAMPLES[2].2)).unwrap();
    let enterprise = user.enterprise.unwrap();
    assert_eq!(enterprise.employee_number.as_deref(), Some("701984"));
    let manager = enterprise.manager.unwrap();
    assert_eq!(manager.display_name.as_deref(), Some("John Smith"));
    assert_eq!(
        manager.ref_.as_deref(),
        Some("../Users/26118915-6090-4610-87e4-49d8ca9f808d")
    );
    assert!(user
        .addresses
        .iter()
        .any(|address| address.primary == Some(true)));
}
