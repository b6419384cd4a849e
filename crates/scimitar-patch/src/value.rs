//! Type checks and coercions of PATCH values against attribute definitions.

use scimitar_schema::{
    check_value, Attribute, AttributeType, Mutability, Policy, UnknownAttributes, ValueError,
};
use serde_json::{Map, Value};

use crate::error::OperationError;
use crate::json;

/// Checks values against the schema under a policy.
///
/// A *partial* object is a complex value to merge into an existing one: its keys are
/// sub-attribute names in the schema's spelling, and `Value::Null` marks a
/// sub-attribute to clear.
pub(crate) struct Checker<'a> {
    pub(crate) policy: &'a Policy,
    pub(crate) resource_type: &'a str,
}

impl Checker<'_> {
    /// Whether `value` asks to clear what it is written to: `null`, or `""` when the
    /// policy says so.
    pub(crate) fn is_clear(&self, value: &Value) -> bool {
        match value {
            Value::Null => true,
            Value::String(text) => text.is_empty() && self.policy.patch_empty_value_clears,
            _ => false,
        }
    }

    /// One whole value of `attribute` (a single-valued attribute's value or one
    /// element of a multi-valued one), checked and coerced; `None` when it holds
    /// nothing (`null`, or an object of nothing but cleared sub-attributes).
    pub(crate) fn whole(
        &self,
        attribute: &Attribute,
        value: &Value,
        path: &str,
    ) -> Result<Option<Value>, OperationError> {
        if value.is_null() {
            return Ok(None);
        }
        if !attribute.is_complex() {
            return self.scalar(attribute, value, path).map(Some);
        }
        let mut object = self.partial(attribute, value, path)?;
        object.retain(|_, value| !value.is_null());
        Ok((!object.is_empty()).then_some(Value::Object(object)))
    }

    /// The elements a value gives a multi-valued `attribute`: an array's items, or a
    /// single value as one element (RFC 7644 §3.5.2.1 lets `add` send one value).
    /// Unassigned elements are dropped; at most one may be primary.
    pub(crate) fn elements(
        &self,
        attribute: &Attribute,
        value: &Value,
        path: &str,
    ) -> Result<Vec<Value>, OperationError> {
        let items = match value {
            Value::Array(items) => items.as_slice(),
            single => std::slice::from_ref(single),
        };
        let mut elements = Vec::with_capacity(items.len());
        for item in items {
            if item.is_array() {
                return Err(wrong_type(
                    path,
                    "a value or an object, not a nested array",
                    item,
                ));
            }
            if let Some(element) = self.whole(attribute, item, path)? {
                elements.push(element);
            }
        }
        if elements
            .iter()
            .filter(|element| is_primary(element))
            .count()
            > 1
        {
            return Err(OperationError::MultiplePrimary { path: path.into() });
        }
        Ok(elements)
    }

    /// A complex value as a partial object (see [`Checker`]).
    pub(crate) fn partial(
        &self,
        attribute: &Attribute,
        value: &Value,
        path: &str,
    ) -> Result<Map<String, Value>, OperationError> {
        let Value::Object(object) = value else {
            return Err(wrong_type(path, "an object of sub-attributes", value));
        };
        let mut partial = Map::new();
        for (key, value) in object {
            let Some(sub) = attribute.sub_attribute(key) else {
                if attribute.sub_attributes.is_empty() {
                    // A complex attribute declared without sub-attributes takes any.
                    partial.insert(key.clone(), value.clone());
                } else {
                    self.unknown(format!("{path}.{key}"))?;
                }
                continue;
            };
            let sub_path = format!("{path}.{}", sub.name);
            if sub.mutability == Mutability::ReadOnly {
                if self.policy.patch_ignore_read_only_in_value || value.is_null() {
                    continue;
                }
                return Err(OperationError::ReadOnly { path: sub_path });
            }
            let checked = if self.is_clear(value) {
                Value::Null
            } else if sub.multi_valued {
                let items = self.elements(sub, value, &sub_path)?;
                Value::Array(items)
            } else {
                self.scalar(sub, value, &sub_path)?
            };
            partial.insert(sub.name.clone(), checked);
        }
        Ok(partial)
    }

    /// A value of a non-complex type, checked and coerced as the schema crate's
    /// [`check_value`] does for a whole resource; a complex one as by [`Self::whole`].
    pub(crate) fn scalar(
        &self,
        attribute: &Attribute,
        value: &Value,
        path: &str,
    ) -> Result<Value, OperationError> {
        if attribute.type_ == AttributeType::Complex {
            return self
                .whole(attribute, value, path)
                .map(|value| value.unwrap_or(Value::Null));
        }
        check_value(attribute, value, self.policy).map_err(|error| at_path(path, error))
    }

    /// An attribute of a value that no schema defines: dropped or refused, as the
    /// policy says.
    pub(crate) fn unknown(&self, path: String) -> Result<(), OperationError> {
        match self.policy.unknown_attributes {
            UnknownAttributes::Ignore => Ok(()),
            UnknownAttributes::Reject => Err(OperationError::UnknownAttribute {
                path,
                resource_type: self.resource_type.to_string(),
            }),
        }
    }
}

fn wrong_type(path: &str, expected: &'static str, found: &Value) -> OperationError {
    OperationError::WrongType {
        path: path.into(),
        expected,
        found: json::kind(found),
    }
}

/// The schema crate's verdict on one value, as this crate's error at `path`.
fn at_path(path: &str, error: ValueError) -> OperationError {
    let path = path.to_owned();
    match error {
        ValueError::WrongType { expected, found } => OperationError::WrongType {
            path,
            expected,
            found,
        },
        ValueError::InvalidDateTime { value } => OperationError::InvalidDateTime { path, value },
        ValueError::InvalidBinary => OperationError::InvalidBinary { path },
        ValueError::NonCanonicalValue { value, allowed } => OperationError::NonCanonicalValue {
            path,
            value,
            allowed,
        },
    }
}

/// Whether an element has `"primary": true`.
pub(crate) fn is_primary(element: &Value) -> bool {
    element
        .as_object()
        .and_then(|object| json::get(object, "primary"))
        .and_then(Value::as_bool)
        == Some(true)
}

/// Whether two values of `attribute` are the same, comparing strings ignoring case
/// unless the attribute (or sub-attribute) is `caseExact`.
pub(crate) fn same(attribute: &Attribute, a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(a), Value::String(b)) if !attribute.case_exact => {
            a == b || a.to_lowercase() == b.to_lowercase()
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same(attribute, a, b))
        }
        (Value::Object(a), Value::Object(b)) if attribute.is_complex() => {
            a.len() == b.len()
                && a.iter().all(|(key, value)| {
                    json::get(b, key).is_some_and(|other| match attribute.sub_attribute(key) {
                        Some(sub) => same(sub, value, other),
                        None => value == other,
                    })
                })
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scimitar_schema::{urn, Registry};
    use serde_json::json;

    fn user_attribute(name: &str) -> Attribute {
        let registry = Registry::builtin();
        let schema = registry.schema(urn::USER).unwrap();
        schema.attribute(name).unwrap().clone()
    }

    #[test]
    fn string_booleans_follow_the_policy() {
        let active = user_attribute("active");
        let compatible = Policy::compatible();
        let checker = Checker {
            policy: &compatible,
            resource_type: "User",
        };
        assert_eq!(
            checker.scalar(&active, &json!("False"), "active").unwrap(),
            json!(false)
        );
        assert_eq!(
            checker.scalar(&active, &json!(" TRUE "), "active").unwrap(),
            json!(true)
        );
        assert!(checker.scalar(&active, &json!("yes"), "active").is_err());
        let strict = Policy::strict();
        let checker = Checker {
            policy: &strict,
            resource_type: "User",
        };
        let error = checker
            .scalar(&active, &json!("False"), "active")
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "`active` must be true or false, not a string"
        );
    }

    #[test]
    fn partial_objects_mark_clears_and_drop_read_only() {
        let emails = user_attribute("emails");
        let policy = Policy::compatible();
        let checker = Checker {
            policy: &policy,
            resource_type: "User",
        };
        let partial = checker
            .partial(
                &emails,
                &json!({"VALUE": "a@b", "display": "", "type": null, "nope": 1}),
                "emails",
            )
            .unwrap();
        assert_eq!(
            Value::Object(partial),
            json!({"value": "a@b", "display": null, "type": null})
        );
        let whole = checker
            .whole(&emails, &json!({"value": "a@b", "type": null}), "emails")
            .unwrap();
        assert_eq!(whole, Some(json!({"value": "a@b"})));
        assert_eq!(
            checker
                .whole(&emails, &json!({"type": null}), "emails")
                .unwrap(),
            None
        );
    }

    #[test]
    fn elements_allow_one_primary() {
        let emails = user_attribute("emails");
        let policy = Policy::compatible();
        let checker = Checker {
            policy: &policy,
            resource_type: "User",
        };
        let error = checker
            .elements(
                &emails,
                &json!([{"value": "a", "primary": true}, {"value": "b", "primary": "True"}]),
                "emails",
            )
            .unwrap_err();
        assert!(matches!(error, OperationError::MultiplePrimary { .. }));
        let single = checker
            .elements(&emails, &json!({"value": "a"}), "emails")
            .unwrap();
        assert_eq!(single, [json!({"value": "a"})]);
    }

    #[test]
    fn sameness_follows_case_exactness() {
        let emails = user_attribute("emails");
        assert!(same(
            &emails,
            &json!({"value": "A@B", "type": "work"}),
            &json!({"type": "WORK", "value": "a@b"})
        ));
        assert!(!same(
            &emails,
            &json!({"value": "a@b"}),
            &json!({"value": "a@b", "type": "work"})
        ));
        let mut exact = user_attribute("userName");
        assert!(same(&exact, &json!("BJensen"), &json!("bjensen")));
        exact.case_exact = true;
        assert!(!same(&exact, &json!("BJensen"), &json!("bjensen")));
    }
}
