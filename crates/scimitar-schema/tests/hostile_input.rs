//! Arbitrary JSON never makes validation or projection panic, and validation is
//! idempotent: a cleaned resource validates to itself.

use proptest::prelude::*;
use scimitar_schema::{urn, Mode, Policy, Projection, Registry};
use serde_json::{json, Map, Value};

/// Attribute names the schemas know, in odd cases, plus some they do not.
const NAMES: [&str; 16] = [
    "userName",
    "USERNAME",
    "name",
    "givenName",
    "emails",
    "value",
    "primary",
    "type",
    "active",
    "members",
    "display",
    "manager",
    "meta",
    "id",
    "x509Certificates",
    "nope",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop_oneof![
            Just("True".to_string()),
            Just("2008-01-23T04:56:22Z".into()),
            ".*".prop_map(String::from)
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(NAMES.to_vec()), inner), 0..6).prop_map(
                |entries| Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect::<Map<_, _>>()
                )
            ),
        ]
    })
}

fn body() -> impl Strategy<Value = Value> {
    (
        json_value(),
        prop::sample::select(vec![urn::USER, urn::GROUP, urn::ENTERPRISE_USER]),
    )
        .prop_map(|(value, extra_urn)| match value {
            Value::Object(mut object) => {
                object.insert("schemas".into(), json!([urn::USER, urn::GROUP, extra_urn]));
                // Often valid, so that the idempotence check has work to do.
                object.entry("userName").or_insert(json!("bjensen"));
                object.insert(
                    urn::ENTERPRISE_USER.into(),
                    json!({"manager": object.get("name").cloned()}),
                );
                Value::Object(object)
            }
            other => other,
        })
}

proptest! {
    #[test]
    fn validation_and_projection_never_panic(body in body(), strict in any::<bool>()) {
        let registry = Registry::builtin();
        let policy = if strict { Policy::strict() } else { Policy::compatible() };
        for resource_type in ["User", "Group"] {
            for mode in [Mode::Create, Mode::Response, Mode::Replace { existing: &body }] {
                if let Ok(cleaned) = registry.validate(resource_type, &body, mode, &policy) {
                    let again = registry.validate(resource_type, &cleaned, mode, &policy);
                    prop_assert_eq!(again.as_ref(), Ok(&cleaned));
                }
            }
            let projection = Projection::parse(Some("name.givenName,emails"), Some("members")).unwrap();
            let shaped = registry.project(resource_type, &body, &projection);
            prop_assert_eq!(shaped.is_object(), body.is_object());
        }
    }
}
