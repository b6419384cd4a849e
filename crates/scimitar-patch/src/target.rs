//! What an operation acts on: an attribute, possibly filtered, possibly a
//! sub-attribute, and where it lives in the resource.

use scimitar_filter::ast::{AttrPath, CompValue, CompareOp, Filter};
use scimitar_filter::{AttrType, AttributeHints};
use scimitar_schema::{Attribute, Schema};
use serde_json::{Map, Value};

/// A resolved PATCH target.
#[derive(Debug, Clone)]
pub(crate) struct Target<'a> {
    /// The top-level attribute.
    pub(crate) attribute: &'a Attribute,
    /// The extension holding it (its data sits under the extension's URN), or `None`
    /// for core and common attributes.
    pub(crate) extension: Option<&'a Schema>,
    /// The value filter selecting elements of a multi-valued attribute.
    pub(crate) filter: Option<Filter>,
    /// The sub-attribute, of the attribute or of each selected element.
    pub(crate) sub: Option<&'a Attribute>,
    /// The path as the client sent it, for messages.
    pub(crate) text: String,
}

impl Target<'_> {
    /// The attribute in the schema's spelling, URN-qualified for an extension
    /// attribute: `emails`, `urn:...:User:manager`.
    pub(crate) fn attribute_path(&self) -> String {
        match self.extension {
            Some(extension) => format!("{}:{}", extension.id, self.attribute.name),
            None => self.attribute.name.clone(),
        }
    }

    /// [`attribute_path`](Self::attribute_path) with the sub-attribute, if any.
    pub(crate) fn leaf_path(&self) -> String {
        let mut path = self.attribute_path();
        if let Some(sub) = self.sub {
            path.push('.');
            path.push_str(&sub.name);
        }
        path
    }
}

/// Schema knowledge for evaluating a value filter against one element of the
/// multi-valued attribute `parent`: filter paths name its sub-attributes.
pub(crate) struct ElementHints<'a> {
    pub(crate) parent: &'a Attribute,
}

impl ElementHints<'_> {
    fn attribute(&self, path: &AttrPath) -> Option<&Attribute> {
        if self.parent.is_complex() {
            self.parent.sub_attribute(&path.name)
        } else {
            // Elements of a simple multi-valued attribute are compared as `value`.
            path.name
                .eq_ignore_ascii_case("value")
                .then_some(self.parent)
        }
    }
}

impl AttributeHints for ElementHints<'_> {
    fn case_exact(&self, path: &AttrPath) -> bool {
        self.attribute(path)
            .is_some_and(|attribute| attribute.case_exact)
    }

    fn attr_type(&self, path: &AttrPath) -> Option<AttrType> {
        self.attribute(path)
            .map(|attribute| AttrType::from(attribute.type_))
    }
}

/// Whether `element` (of the multi-valued attribute `parent`) passes `filter`.
pub(crate) fn element_matches(parent: &Attribute, filter: &Filter, element: &Value) -> bool {
    let hints = ElementHints { parent };
    if element.is_object() {
        filter.matches(element, &hints)
    } else {
        // A simple value is filtered as `value` (`emails[value eq "x"]` style).
        let mut wrapped = Map::new();
        wrapped.insert("value".into(), element.clone());
        filter.matches(&Value::Object(wrapped), &hints)
    }
}

/// The `name eq value` terms of a filter made only of such terms joined with `and`
/// (`type eq "work"`, `type eq "work" and primary eq true`), as JSON values; `None`
/// for any other filter.
pub(crate) fn equality_terms(filter: &Filter) -> Option<Vec<(&str, Value)>> {
    let mut terms = Vec::new();
    collect_equality_terms(filter, &mut terms).then_some(terms)
}

fn collect_equality_terms<'f>(filter: &'f Filter, terms: &mut Vec<(&'f str, Value)>) -> bool {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } if path.sub_attr.is_none() => match comp_value_to_json(value) {
            Some(value) => {
                terms.push((path.name.as_str(), value));
                true
            }
            None => false,
        },
        Filter::And(operands) => operands
            .iter()
            .all(|operand| collect_equality_terms(operand, terms)),
        _ => false,
    }
}

fn comp_value_to_json(value: &CompValue) -> Option<Value> {
    match value {
        CompValue::Null => None,
        CompValue::Bool(value) => Some(Value::Bool(*value)),
        CompValue::String(text) => Some(Value::String(text.clone())),
        CompValue::Number(number) => serde_json::from_str(number.as_str()).ok(),
    }
}

/// The ids a members filter selects when it is `value eq "id"` or such terms joined
/// with `or`; `None` for any other filter.
pub(crate) fn member_ids(filter: &Filter) -> Option<Vec<&str>> {
    let mut ids = Vec::new();
    collect_member_ids(filter, &mut ids).then_some(ids)
}

fn collect_member_ids<'f>(filter: &'f Filter, ids: &mut Vec<&'f str>) -> bool {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::String(id),
        } if path.sub_attr.is_none() && path.name.eq_ignore_ascii_case("value") => {
            ids.push(id);
            true
        }
        Filter::Or(operands) => operands
            .iter()
            .all(|operand| collect_member_ids(operand, ids)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scimitar_filter::parse_filter;
    use scimitar_schema::{urn, Registry};
    use serde_json::json;

    #[test]
    fn equality_terms_of_conjunctions_only() {
        let filter = parse_filter(r#"type eq "work" and primary eq true and rank eq 2"#).unwrap();
        assert_eq!(
            equality_terms(&filter).unwrap(),
            [
                ("type", json!("work")),
                ("primary", json!(true)),
                ("rank", json!(2))
            ]
        );
        for other in [
            r#"type ne "work""#,
            r#"type eq "a" or type eq "b""#,
            "type eq null",
            "type pr",
        ] {
            assert!(
                equality_terms(&parse_filter(other).unwrap()).is_none(),
                "{other}"
            );
        }
    }

    #[test]
    fn member_ids_of_disjunctions_only() {
        let filter =
            parse_filter(r#"value eq "a" or VALUE eq "b" or (value eq "c" or value eq "d")"#)
                .unwrap();
        assert_eq!(member_ids(&filter).unwrap(), ["a", "b", "c", "d"]);
        for other in [
            r#"display eq "x""#,
            r#"value eq "a" and type eq "User""#,
            r#"value co "a""#,
        ] {
            assert!(
                member_ids(&parse_filter(other).unwrap()).is_none(),
                "{other}"
            );
        }
    }

    #[test]
    fn elements_match_with_schema_case_rules() {
        let registry = Registry::builtin();
        let emails = registry
            .schema(urn::USER)
            .unwrap()
            .attribute("emails")
            .unwrap();
        let filter = parse_filter(r#"type eq "WORK""#).unwrap();
        assert!(element_matches(emails, &filter, &json!({"type": "work"})));
        let mut exact = emails.clone();
        exact
            .sub_attributes
            .iter_mut()
            .for_each(|sub| sub.case_exact = true);
        assert!(!element_matches(&exact, &filter, &json!({"type": "work"})));
        let mut tags =
            scimitar_schema::Attribute::new("tags", scimitar_schema::AttributeType::String);
        tags.multi_valued = true;
        let filter = parse_filter(r#"value eq "blue""#).unwrap();
        assert!(element_matches(&tags, &filter, &json!("Blue")));
        assert!(!element_matches(&tags, &filter, &json!("red")));
    }
}
