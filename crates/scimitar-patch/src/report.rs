//! What a PATCH changed: attribute by attribute, and group members as a delta.

use std::collections::HashSet;

use scimitar_schema::{Attribute, Mutability, ResourceSchemas, Returned};
use serde_json::{Map, Value};

use crate::json::find_key;

/// What a PATCH changed, computed by comparing the resource before and after, so an
/// operation that sets a value the resource already had reports nothing.
///
/// Group members are reported as a delta ([`members_added`](Self::members_added),
/// [`members_removed`](Self::members_removed), [`members_replaced`](Self::members_replaced));
/// with [`ApplyOptions::external_members`](crate::ApplyOptions::external_members)
/// that delta is the only record of member operations. Otherwise `members` is also
/// reported in [`attributes`](Self::attributes) when it changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChangeReport {
    /// Changed attributes, in resource order. A single-valued complex attribute is
    /// reported per sub-attribute (`name.givenName`), everything else whole
    /// (`emails` with the old and new arrays).
    pub attributes: Vec<AttributeChange>,
    /// Members added, once each, in the order sent. When
    /// [`members_replaced`](Self::members_replaced) is set this is the whole new
    /// member list.
    pub members_added: Vec<Member>,
    /// Ids of members removed, once each. Empty when
    /// [`members_replaced`](Self::members_replaced) is set: every member not in
    /// [`members_added`](Self::members_added) is gone.
    pub members_removed: Vec<String>,
    /// The member list was replaced or removed whole (`replace members`, `remove
    /// members` without a filter); only set with
    /// [`ApplyOptions::external_members`](crate::ApplyOptions::external_members),
    /// since otherwise the delta is computed exactly.
    pub members_replaced: bool,
}

/// One changed attribute.
///
/// Values of attributes that are never returned (`password`) are withheld: they
/// read `Some(Value::Null)`, meaning "had (or has) a value", so that a report can be
/// logged or turned into an event without leaking them.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeChange {
    /// The attribute in the schema's spelling, URN-qualified for extension
    /// attributes: `userName`, `name.givenName`,
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`.
    pub path: String,
    /// The value before, `None` when unassigned.
    pub old: Option<Value>,
    /// The value after, `None` when unassigned.
    pub new: Option<Value>,
}

/// A group member, as sent in a PATCH value (`{"value": id, "display": ..., "type": ...}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The member's id.
    pub value: String,
    /// The member's display name, if sent.
    pub display: Option<String>,
    /// `User` or `Group`, if sent.
    pub type_: Option<String>,
}

impl Member {
    /// A member with id `value` only.
    pub fn new(value: impl Into<String>) -> Self {
        Member {
            value: value.into(),
            display: None,
            type_: None,
        }
    }

    /// Reads a member element; `None` when it has no non-empty string `value`.
    pub(crate) fn from_element(element: &Value) -> Option<Member> {
        let object = element.as_object()?;
        let text = |name: &str| {
            find_key(object, name)
                .and_then(|key| object.get(key))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let value = text("value").filter(|value| !value.is_empty())?;
        Some(Member {
            value,
            display: text("display"),
            type_: text("type"),
        })
    }
}

impl ChangeReport {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.attributes.is_empty()
            && self.members_added.is_empty()
            && self.members_removed.is_empty()
            && !self.members_replaced
    }

    /// The change of `path` (as in [`AttributeChange::path`], compared ignoring
    /// ASCII case), if it changed.
    pub fn changed(&self, path: &str) -> Option<&AttributeChange> {
        self.attributes
            .iter()
            .find(|change| change.path.eq_ignore_ascii_case(path))
    }

    /// Whether `active` went to `false` from `true` or unassigned.
    pub fn deactivated(&self) -> bool {
        self.changed("active").is_some_and(|change| {
            change.new == Some(Value::Bool(false)) && change.old != Some(Value::Bool(false))
        })
    }

    /// Whether `active` went from `false` to `true`.
    pub fn reactivated(&self) -> bool {
        self.changed("active").is_some_and(|change| {
            change.old == Some(Value::Bool(false)) && change.new == Some(Value::Bool(true))
        })
    }
}

/// Attribute changes between `old` and `new` (both resource objects). `members` is
/// left out when `skip_members`.
pub(crate) fn diff(
    schemas: &ResourceSchemas<'_>,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    skip_members: bool,
) -> Vec<AttributeChange> {
    let mut changes = Vec::new();
    for key in union_of_keys(old, new) {
        let before = find_key(old, key).and_then(|key| old.get(key));
        let after = find_key(new, key).and_then(|key| new.get(key));
        if before == after {
            continue;
        }
        if key.eq_ignore_ascii_case("schemas") {
            push_change(&mut changes, "schemas".into(), None, before, after);
        } else if let Some(extension) = schemas.extension(key) {
            let empty = Map::new();
            let before = before.and_then(Value::as_object).unwrap_or(&empty);
            let after = after.and_then(Value::as_object).unwrap_or(&empty);
            for key in union_of_keys(before, after) {
                let attribute = extension.attribute(key);
                let name = attribute.map_or(key, |attribute| attribute.name.as_str());
                diff_attribute(
                    &mut changes,
                    &format!("{}:{name}", extension.id),
                    attribute,
                    before.get(key),
                    after.get(key),
                );
            }
        } else {
            let attribute = schemas.top_level(key).map(|(_, attribute)| attribute);
            let name = attribute.map_or(key, |attribute| attribute.name.as_str());
            if skip_members && name == "members" {
                continue;
            }
            diff_attribute(&mut changes, name, attribute, before, after);
        }
    }
    changes
}

/// Keys of `a`, then keys of `b` that `a` lacks (ignoring case).
fn union_of_keys<'m>(a: &'m Map<String, Value>, b: &'m Map<String, Value>) -> Vec<&'m str> {
    let mut keys: Vec<&str> = a.keys().map(String::as_str).collect();
    keys.extend(
        b.keys()
            .filter(|key| find_key(a, key).is_none())
            .map(String::as_str),
    );
    keys
}

fn diff_attribute(
    changes: &mut Vec<AttributeChange>,
    path: &str,
    attribute: Option<&Attribute>,
    before: Option<&Value>,
    after: Option<&Value>,
) {
    if before == after {
        return;
    }
    let per_sub_attribute = attribute
        .is_some_and(|attribute| attribute.is_complex() && !attribute.multi_valued)
        && before.is_none_or(Value::is_object)
        && after.is_none_or(Value::is_object);
    if !per_sub_attribute {
        push_change(changes, path.to_string(), attribute, before, after);
        return;
    }
    let empty = Map::new();
    let before = before.and_then(Value::as_object).unwrap_or(&empty);
    let after = after.and_then(Value::as_object).unwrap_or(&empty);
    for key in union_of_keys(before, after) {
        let sub = attribute.and_then(|attribute| attribute.sub_attribute(key));
        let name = sub.map_or(key, |sub| sub.name.as_str());
        let old = find_key(before, key).and_then(|key| before.get(key));
        let new = find_key(after, key).and_then(|key| after.get(key));
        if old != new {
            push_change(changes, format!("{path}.{name}"), sub, old, new);
        }
    }
}

fn push_change(
    changes: &mut Vec<AttributeChange>,
    path: String,
    attribute: Option<&Attribute>,
    old: Option<&Value>,
    new: Option<&Value>,
) {
    let withheld = attribute.is_some_and(|attribute| {
        attribute.returned == Returned::Never || attribute.mutability == Mutability::WriteOnly
    });
    let shown = |value: Option<&Value>| match value {
        Some(_) if withheld => Some(Value::Null),
        other => other.cloned(),
    };
    changes.push(AttributeChange {
        path,
        old: shown(old),
        new: shown(new),
    });
}

/// Members in `new` but not `old` and ids in `old` but not `new` (by `value`).
pub(crate) fn member_delta(old: Option<&Value>, new: Option<&Value>) -> (Vec<Member>, Vec<String>) {
    let (old, new) = (elements(old), elements(new));
    if old == new {
        return (Vec::new(), Vec::new());
    }
    let old_ids: HashSet<&str> = old.iter().filter_map(id).collect();
    let new_ids: HashSet<&str> = new.iter().filter_map(id).collect();
    let mut seen = HashSet::new();
    let removed = old
        .iter()
        .filter_map(id)
        .filter(|id| !new_ids.contains(id) && seen.insert(*id))
        .map(str::to_string)
        .collect();
    let mut seen = HashSet::new();
    let added = new
        .iter()
        .filter(|element| id(element).is_some_and(|id| !old_ids.contains(id) && seen.insert(id)))
        .filter_map(Member::from_element)
        .collect();
    (added, removed)
}

fn elements(value: Option<&Value>) -> &[Value] {
    value
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
}

/// A member element's non-empty `value`.
fn id(element: &Value) -> Option<&str> {
    element
        .as_object()
        .and_then(|object| crate::json::get(object, "value"))
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change(path: &str, old: Option<Value>, new: Option<Value>) -> ChangeReport {
        ChangeReport {
            attributes: vec![AttributeChange {
                path: path.into(),
                old,
                new,
            }],
            ..ChangeReport::default()
        }
    }

    #[test]
    fn activity_transitions() {
        let off = change("active", Some(json!(true)), Some(json!(false)));
        assert!(off.deactivated() && !off.reactivated());
        let off_from_unset = change("active", None, Some(json!(false)));
        assert!(off_from_unset.deactivated());
        let on = change("active", Some(json!(false)), Some(json!(true)));
        assert!(on.reactivated() && !on.deactivated());
        let on_from_unset = change("active", None, Some(json!(true)));
        assert!(!on_from_unset.reactivated() && !on_from_unset.deactivated());
        assert!(!ChangeReport::default().deactivated());
    }

    #[test]
    fn empty_and_lookup() {
        assert!(ChangeReport::default().is_empty());
        let report = change("name.givenName", None, Some(json!("Barbara")));
        assert!(!report.is_empty());
        assert!(report.changed("NAME.GIVENNAME").is_some());
        assert!(report.changed("name").is_none());
        let replaced = ChangeReport {
            members_replaced: true,
            ..ChangeReport::default()
        };
        assert!(!replaced.is_empty());
    }

    #[test]
    fn member_delta_by_id() {
        let old = json!([{"value": "a"}, {"value": "b", "display": "B"}]);
        let new = json!([{"value": "b"}, {"value": "c", "display": "C"}, {"value": "c"}]);
        let (added, removed) = member_delta(Some(&old), Some(&new));
        assert_eq!(
            added,
            [Member {
                value: "c".into(),
                display: Some("C".into()),
                type_: None
            }]
        );
        assert_eq!(removed, ["a"]);
        let (added, removed) = member_delta(None, None);
        assert!(added.is_empty() && removed.is_empty());
    }
}
