//! Sorting (rule 12) and keyset cursors (rule 14) for the memory store.
//!
//! A cursor records the sort key and creation position of the last resource of a
//! page; the next page starts after that key. Unlike an offset, a keyset cursor does
//! not skip or repeat resources when earlier ones are deleted between pages.

use std::cmp::Ordering;

use scimitar_filter::ast::AttrPath;
use scimitar_schema::AttributeType;
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::meta;
use crate::query::{self, Page, Paging, Query, SortOrder};
use crate::store::Scope;
use crate::StoreError;

/// How a query orders its results.
#[derive(Debug)]
pub(super) struct SortSpec {
    by: Option<SortBy>,
    /// Ties a cursor to the query shape it was issued for.
    fingerprint: String,
}

#[derive(Debug)]
struct SortBy {
    path: AttrPath,
    /// The extension URN the attribute lives under, also when the path omits it.
    extension: Option<String>,
    kind: KeyKind,
    descending: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum KeyKind {
    Text { case_exact: bool },
    Number,
    Boolean,
    Time,
}

/// The page `paging` asks for of `found` (matches with their sort keys, in any
/// order), each turned into its resource by `project` (rules 12 to 14).
pub(super) fn page<T>(
    mut found: Vec<(SortKey, T)>,
    sort: &SortSpec,
    paging: &Paging,
    mut project: impl FnMut(T) -> Value,
) -> Result<Page, StoreError> {
    found.sort_by(|(a, _), (b, _)| sort.compare(a, b));
    let total_results = found.len();
    match paging {
        Paging::Index { start_index, count } => {
            let start = (*start_index).max(1);
            let resources = found
                .into_iter()
                .skip(start - 1)
                .take(*count)
                .map(|(_, item)| project(item))
                .collect();
            Ok(Page::index(resources, total_results, start))
        }
        Paging::Cursor { cursor, count } => {
            let skip = match cursor {
                None => 0,
                Some(text) => {
                    let after = Cursor::decode(text, sort)?;
                    found.partition_point(|(key, _)| sort.compare(key, &after).is_le())
                }
            };
            let page: Vec<_> = found.into_iter().skip(skip).take(*count).collect();
            let next_cursor = match page.last() {
                Some((last, _)) if skip + page.len() < total_results => {
                    Some(Cursor::encode(last, sort))
                }
                _ => None,
            };
            let resources = page.into_iter().map(|(_, item)| project(item)).collect();
            Ok(Page::cursor(resources, total_results, next_cursor))
        }
    }
}

/// Where a resource falls in the order: its sort value, then its creation position.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SortKey {
    value: KeyValue,
    position: u64,
}

#[derive(Debug, Clone, PartialEq)]
enum KeyValue {
    Missing,
    Text(String),
    Number(f64),
    Boolean(bool),
    Time(OffsetDateTime),
}

impl SortSpec {
    /// The order of `query`; sorting by an attribute the schema does not define, or
    /// by a complex attribute without a `value`, is `InvalidFilter`.
    pub(super) fn new(
        scope: &Scope<'_>,
        resource_type: &str,
        query: &Query,
    ) -> Result<Self, StoreError> {
        let descending = query.sort_order == SortOrder::Descending;
        let Some(path) = &query.sort_by else {
            return Ok(SortSpec {
                by: None,
                fingerprint: format!("{resource_type}|"),
            });
        };
        let attribute = query::sort_attribute(scope.registry, resource_type, path)?;
        let extension = scope
            .registry
            .resolve(resource_type, path)
            .and_then(|resolved| resolved.extension_urn().map(str::to_owned));
        let kind = match attribute.type_ {
            AttributeType::Boolean => KeyKind::Boolean,
            AttributeType::Integer | AttributeType::Decimal => KeyKind::Number,
            AttributeType::DateTime => KeyKind::Time,
            // `sort_attribute` leaves only text-like types.
            _ => KeyKind::Text {
                case_exact: attribute.case_exact,
            },
        };
        let fingerprint = format!(
            "{resource_type}|{}|{}",
            path.to_string().to_lowercase(),
            if descending { "d" } else { "a" }
        );
        Ok(SortSpec {
            by: Some(SortBy {
                path: path.clone(),
                extension,
                kind,
                descending,
            }),
            fingerprint,
        })
    }

    /// The sort key of a resource at creation `position`.
    pub(super) fn key(&self, resource: &Value, position: u64) -> SortKey {
        let value = match &self.by {
            Some(by) => sort_value(resource, by.extension.as_deref(), &by.path)
                .map_or(KeyValue::Missing, |value| by.kind.key(value)),
            None => KeyValue::Missing,
        };
        SortKey { value, position }
    }

    /// Rule 12: by value (missing last when ascending, first when descending), then
    /// by creation position.
    pub(super) fn compare(&self, a: &SortKey, b: &SortKey) -> Ordering {
        let by_value = match &self.by {
            Some(by) => {
                let ordering = compare_values(&a.value, &b.value);
                if by.descending {
                    ordering.reverse()
                } else {
                    ordering
                }
            }
            None => Ordering::Equal,
        };
        by_value.then(a.position.cmp(&b.position))
    }
}

impl KeyKind {
    fn key(self, value: &Value) -> KeyValue {
        let key = match (self, value) {
            (KeyKind::Text { case_exact: true }, Value::String(text)) => {
                Some(KeyValue::Text(text.clone()))
            }
            (KeyKind::Text { case_exact: false }, Value::String(text)) => {
                Some(KeyValue::Text(meta::fold_case(text)))
            }
            (KeyKind::Number, Value::Number(number)) => number.as_f64().map(KeyValue::Number),
            (KeyKind::Boolean, Value::Bool(flag)) => Some(KeyValue::Boolean(*flag)),
            (KeyKind::Time, Value::String(text)) => meta::parse_instant(text).map(KeyValue::Time),
            _ => None,
        };
        key.unwrap_or(KeyValue::Missing)
    }
}

/// Missing sorts after every value; values of one kind compare naturally.
fn compare_values(a: &KeyValue, b: &KeyValue) -> Ordering {
    match (a, b) {
        (KeyValue::Missing, KeyValue::Missing) => Ordering::Equal,
        (KeyValue::Missing, _) => Ordering::Greater,
        (_, KeyValue::Missing) => Ordering::Less,
        (KeyValue::Text(a), KeyValue::Text(b)) => a.cmp(b),
        (KeyValue::Number(a), KeyValue::Number(b)) => a.total_cmp(b),
        (KeyValue::Boolean(a), KeyValue::Boolean(b)) => a.cmp(b),
        (KeyValue::Time(a), KeyValue::Time(b)) => a.cmp(b),
        // One spec yields one kind; a mix cannot happen, keep the order total anyway.
        _ => Ordering::Equal,
    }
}

/// The value a resource sorts by: the attribute (in its extension's object when it
/// belongs to one), the primary or else first element of a
/// multi-valued attribute, and the `value` of a complex one.
fn sort_value<'a>(
    resource: &'a Value,
    extension: Option<&str>,
    path: &AttrPath,
) -> Option<&'a Value> {
    let container = match extension {
        Some(urn) => field(resource, urn)?,
        None => resource,
    };
    let mut value = field(container, &path.name)?;
    if let Value::Array(elements) = value {
        value = elements
            .iter()
            .find(|element| element.get("primary") == Some(&Value::Bool(true)))
            .or_else(|| elements.first())?;
    }
    match (&path.sub_attr, value) {
        (Some(sub_attr), _) => field(value, sub_attr),
        (None, Value::Object(_)) => field(value, "value"),
        (None, _) => Some(value),
    }
}

/// An object's field, matching the name case-insensitively.
fn field<'a>(object: &'a Value, name: &str) -> Option<&'a Value> {
    object
        .as_object()?
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

/// The opaque `nextCursor` text.
pub(super) struct Cursor;

impl Cursor {
    /// A cursor pointing just after `last`.
    pub(super) fn encode(last: &SortKey, sort: &SortSpec) -> String {
        let value = match &last.value {
            KeyValue::Missing => Value::Null,
            KeyValue::Text(text) => text.clone().into(),
            KeyValue::Number(number) => json!(number),
            KeyValue::Boolean(flag) => (*flag).into(),
            KeyValue::Time(at) => meta::format_timestamp(*at).into(),
        };
        let state = json!({ "q": sort.fingerprint, "k": value, "p": last.position });
        hex::encode(state.to_string())
    }

    /// The sort key a cursor points after; `InvalidCursor` unless `encode` made it
    /// for a query of the same resource type and order.
    pub(super) fn decode(text: &str, sort: &SortSpec) -> Result<SortKey, StoreError> {
        let bytes = hex::decode(text).map_err(|_| StoreError::InvalidCursor)?;
        let state: Value = serde_json::from_slice(&bytes).map_err(|_| StoreError::InvalidCursor)?;
        if state.get("q").and_then(Value::as_str) != Some(sort.fingerprint.as_str()) {
            return Err(StoreError::InvalidCursor);
        }
        let position = state
            .get("p")
            .and_then(Value::as_u64)
            .ok_or(StoreError::InvalidCursor)?;
        let value = match (state.get("k"), &sort.by) {
            (Some(Value::Null), _) | (_, None) => KeyValue::Missing,
            (Some(value), Some(by)) => match by.kind.key(value) {
                KeyValue::Missing => return Err(StoreError::InvalidCursor),
                // Folded text is already folded; keep it exactly as issued.
                KeyValue::Text(_) => KeyValue::Text(value.as_str().unwrap_or_default().to_owned()),
                key => key,
            },
            (None, Some(_)) => return Err(StoreError::InvalidCursor),
        };
        Ok(SortKey { value, position })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: KeyKind, descending: bool) -> SortSpec {
        SortSpec {
            by: Some(SortBy {
                path: AttrPath::new("userName"),
                extension: None,
                kind,
                descending,
            }),
            fingerprint: "User|username|a".into(),
        }
    }

    fn key(sort: &SortSpec, value: Value, position: u64) -> SortKey {
        sort.key(&json!({ "userName": value }), position)
    }

    #[test]
    fn missing_values_sort_last_ascending_and_first_descending() {
        let text = KeyKind::Text { case_exact: false };
        let ascending = spec(text, false);
        let present = key(&ascending, json!("b"), 1);
        let missing = key(&ascending, Value::Null, 2);
        assert_eq!(ascending.compare(&present, &missing), Ordering::Less);
        let descending = spec(text, true);
        assert_eq!(descending.compare(&present, &missing), Ordering::Greater);
    }

    #[test]
    fn case_insensitive_text_compares_folded() {
        let sort = spec(KeyKind::Text { case_exact: false }, false);
        let upper = key(&sort, json!("B"), 1);
        let lower = key(&sort, json!("a"), 2);
        assert_eq!(sort.compare(&lower, &upper), Ordering::Less);
        let exact = spec(KeyKind::Text { case_exact: true }, false);
        assert_eq!(
            exact.compare(&key(&exact, json!("a"), 2), &key(&exact, json!("B"), 1)),
            Ordering::Greater
        );
    }

    #[test]
    fn cursors_round_trip_and_reject_foreign_text() {
        let sort = spec(KeyKind::Text { case_exact: false }, false);
        let last = key(&sort, json!("Émile"), 7);
        let cursor = Cursor::encode(&last, &sort);
        assert_eq!(Cursor::decode(&cursor, &sort).ok(), Some(last));
        assert!(Cursor::decode("zz", &sort).is_err());
        assert!(Cursor::decode(&hex::encode("{}"), &sort).is_err());
        let other = SortSpec {
            fingerprint: "Group|".into(),
            by: None,
        };
        assert!(Cursor::decode(&cursor, &other).is_err());
    }

    #[test]
    fn sort_value_prefers_the_primary_element() {
        let user = json!({"emails": [{"value": "b@x"}, {"value": "a@x", "primary": true}]});
        assert_eq!(
            sort_value(&user, None, &AttrPath::new("emails").with_sub_attr("value")),
            Some(&json!("a@x"))
        );
        assert_eq!(
            sort_value(&user, None, &AttrPath::new("emails")),
            Some(&json!("a@x"))
        );
    }
}
