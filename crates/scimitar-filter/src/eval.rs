//! Filter evaluation over JSON resources (feature `json`).

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::{Map, Value};

use crate::ast::{AttrPath, CompValue, CompareOp, Filter, Number};
use crate::datetime;
use crate::hints::{AttrType, AttributeHints};

/// Whether `resource` (a SCIM resource as JSON) matches `filter`.
///
/// The rules, where RFC 7644 §3.4.2.2 leaves a choice:
/// - **Names.** Attribute names, sub-attribute names and schema URNs match in any case.
///   A URN-prefixed path (`urn:…:enterprise:2.0:User:employeeNumber`) looks inside the
///   object stored under that URN; when the resource has no such object it looks at the
///   top level, which is where core-schema paths such as
///   `urn:ietf:params:scim:schemas:core:2.0:User:userName` live. An unprefixed name is
///   looked up at the top level, then in the extension objects whose URNs the resource
///   lists in `schemas`.
/// - **Multi-valued attributes** match when any value matches; a value filter
///   (`emails[type eq "work" and value co "@example.com"]`) matches when one element
///   satisfies the whole inner filter. A complex attribute compared without a
///   sub-attribute (`emails co "example.com"`) compares its `value` sub-attribute.
/// - **Strings** compare case-insensitively unless [`AttributeHints::case_exact`] says
///   otherwise; `gt`/`ge`/`lt`/`le` order them by code point (after folding case).
/// - **Date-times** compare as instants (offsets and fractions normalised) when the
///   attribute's type is [`AttrType::DateTime`], or when its type is unknown and both
///   strings are RFC 3339 date-times; anything unparsable compares as a string.
/// - **Numbers** compare numerically (`1` equals `1.0`); **booleans** with `eq` and
///   `ne` only. A value of another JSON type than the filter's never matches.
/// - **`pr`** is false for an absent attribute, `null`, `""`, `[]` and `{}`. A
///   complex attribute (`name pr`, `emails pr`) is present when any of its
///   sub-attributes has a value: `{"givenName": ""}` is not.
/// - **`ne`** is exactly `not eq`: it matches an absent attribute, and a multi-valued
///   attribute none of whose values are equal.
/// - **`null`**: `eq null` is exactly `not pr`, `ne null` exactly `pr`; other operators
///   with `null` never match.
///
/// ```
/// use scimitar_filter::{matches, parse_filter, NoHints};
/// use serde_json::json;
///
/// let user = json!({
///     "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
///     "userName": "BJensen",
///     "emails": [
///         {"type": "home", "value": "babs@jensen.org"},
///         {"type": "work", "value": "bjensen@example.com"}
///     ],
///     "meta": {"lastModified": "2011-05-13T04:42:34Z"}
/// });
/// let filter = parse_filter(r#"userName eq "bjensen" and emails[type eq "work" and value co "@example.com"]"#)?;
/// assert!(matches(&filter, &user, &NoHints));
/// let filter = parse_filter(r#"meta.lastModified gt "2011-05-13T06:00:00+02:00""#)?;
/// assert!(filter.matches(&user, &NoHints));
/// # Ok::<(), scimitar_filter::ParseError>(())
/// ```
pub fn matches<H: AttributeHints + ?Sized>(filter: &Filter, resource: &Value, hints: &H) -> bool {
    Evaluator { hints }.eval(filter, resource, Scope::Resource)
}

#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
impl Filter {
    /// Whether `resource` matches this filter; see [`matches`](crate::matches).
    pub fn matches<H: AttributeHints + ?Sized>(&self, resource: &Value, hints: &H) -> bool {
        matches(self, resource, hints)
    }
}

/// Where the paths of a filter are resolved.
#[derive(Clone, Copy)]
enum Scope<'f> {
    /// At a resource, with schema URNs and extension objects.
    Resource,
    /// At one element of the multi-valued attribute `parent`, inside a value filter.
    Element(&'f AttrPath),
}

struct Evaluator<'h, H: ?Sized> {
    hints: &'h H,
}

impl<H: AttributeHints + ?Sized> Evaluator<'_, H> {
    fn eval(&self, filter: &Filter, node: &Value, scope: Scope<'_>) -> bool {
        match filter {
            Filter::And(operands) => operands.iter().all(|f| self.eval(f, node, scope)),
            Filter::Or(operands) => operands.iter().any(|f| self.eval(f, node, scope)),
            Filter::Not(inner) => !self.eval(inner, node, scope),
            Filter::Present(path) => is_present_at(lookup(node, scope, path), path),
            Filter::Compare { path, op, value } => self.compare(node, scope, path, *op, value),
            Filter::ValuePath { path, filter } => lookup(node, scope, path).is_some_and(|value| {
                elements(value)
                    .iter()
                    .any(|e| self.eval(filter, e, Scope::Element(path)))
            }),
        }
    }

    fn compare(
        &self,
        node: &Value,
        scope: Scope<'_>,
        path: &AttrPath,
        op: CompareOp,
        wanted: &CompValue,
    ) -> bool {
        let found = lookup(node, scope, path);
        if *wanted == CompValue::Null {
            let present = is_present_at(found, path);
            return match op {
                CompareOp::Eq => !present,
                CompareOp::Ne => present,
                _ => false,
            };
        }
        let Some(found) = found else {
            return op == CompareOp::Ne;
        };
        if op == CompareOp::Ne {
            return !self.any_leaf_matches(found, scope, path, CompareOp::Eq, wanted);
        }
        self.any_leaf_matches(found, scope, path, op, wanted)
    }

    fn any_leaf_matches(
        &self,
        found: &Value,
        scope: Scope<'_>,
        path: &AttrPath,
        op: CompareOp,
        wanted: &CompValue,
    ) -> bool {
        let sub_attr = path.sub_attr.as_deref();
        // Hints are only needed for strings; ask at most once per comparison.
        let mut asked = None;
        let mut string_hints = || {
            *asked.get_or_insert_with(|| {
                let via_value =
                    sub_attr.is_none() && elements(found).first().is_some_and(Value::is_object);
                let hint_path = hint_path(scope, path, via_value);
                (
                    self.hints.case_exact(&hint_path),
                    self.hints.attr_type(&hint_path),
                )
            })
        };
        elements(found).iter().any(|element| {
            let leaf = match (sub_attr, element) {
                (Some(sub_attr), Value::Object(object)) => get(object, sub_attr),
                (Some(_), _) => None,
                (None, Value::Object(object)) => get(object, "value"),
                (None, scalar) => Some(scalar),
            };
            leaf.is_some_and(|leaf| {
                elements(leaf).iter().any(|leaf| match (leaf, wanted) {
                    (Value::String(text), CompValue::String(wanted)) => {
                        let (case_exact, attr_type) = string_hints();
                        string_matches(text, op, wanted, case_exact, attr_type)
                    }
                    (Value::Number(number), CompValue::Number(wanted)) => {
                        number_matches(number, op, wanted)
                    }
                    (Value::Bool(value), CompValue::Bool(wanted)) => {
                        op == CompareOp::Eq && value == wanted
                    }
                    _ => false,
                })
            })
        })
    }
}

/// The path to ask [`AttributeHints`] about: value-filter paths are made full
/// (`emails[type ...]` asks about `emails.type`), and a complex attribute compared
/// through its `value` asks about that.
fn hint_path<'p>(scope: Scope<'p>, path: &'p AttrPath, via_value: bool) -> Cow<'p, AttrPath> {
    let full = match scope {
        Scope::Resource => Cow::Borrowed(path),
        Scope::Element(parent) => Cow::Owned(AttrPath {
            schema: parent.schema.clone(),
            name: parent.name.clone(),
            sub_attr: Some(path.name.clone()),
        }),
    };
    if via_value && full.sub_attr.is_none() {
        Cow::Owned(full.into_owned().with_sub_attr("value"))
    } else {
        full
    }
}

/// The value of `path`'s attribute (before its sub-attribute) in `node`.
fn lookup<'v>(node: &'v Value, scope: Scope<'_>, path: &AttrPath) -> Option<&'v Value> {
    let object = node.as_object()?;
    if let Scope::Element(_) = scope {
        return get(object, &path.name);
    }
    match &path.schema {
        Some(urn) => match get(object, urn) {
            Some(Value::Object(extension)) => get(extension, &path.name),
            _ => get(object, &path.name),
        },
        None => get(object, &path.name).or_else(|| {
            let schemas = object.get("schemas")?.as_array()?;
            schemas
                .iter()
                .filter_map(Value::as_str)
                .find_map(|urn| match get(object, urn) {
                    Some(Value::Object(extension)) => get(extension, &path.name),
                    _ => None,
                })
        }),
    }
}

/// `object[name]`, with `name` in any case.
fn get<'v>(object: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    })
}

/// The values of a possibly multi-valued attribute.
fn elements(value: &Value) -> &[Value] {
    match value {
        Value::Array(items) => items,
        single => std::slice::from_ref(single),
    }
}

/// `pr` on what [`lookup`] found for `path`.
fn is_present_at(found: Option<&Value>, path: &AttrPath) -> bool {
    let Some(found) = found else { return false };
    match &path.sub_attr {
        None => elements(found).iter().any(has_value),
        Some(sub_attr) => elements(found).iter().any(|element| {
            element
                .as_object()
                .and_then(|object| get(object, sub_attr))
                .is_some_and(|value| elements(value).iter().any(has_value))
        }),
    }
}

/// Whether `value` counts as present: not `null`, `""` or `[]`; an object (a
/// complex value) when any of its sub-attributes has a value, an array when any
/// of its elements has one.
fn has_value(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => items.iter().any(has_value),
        Value::Object(members) => members.values().any(has_value),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn ordering_matches(ordering: Ordering, op: CompareOp) -> bool {
    match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

fn string_matches(
    text: &str,
    op: CompareOp,
    wanted: &str,
    case_exact: bool,
    attr_type: Option<AttrType>,
) -> bool {
    let ordered = matches!(
        op,
        CompareOp::Eq | CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le
    );
    if ordered && matches!(attr_type, None | Some(AttrType::DateTime)) {
        if let (Some(a), Some(b)) = (datetime::parse(text), datetime::parse(wanted)) {
            return ordering_matches(a.cmp(&b), op);
        }
    }
    let (text, wanted) = if case_exact {
        (Cow::Borrowed(text), Cow::Borrowed(wanted))
    } else {
        (fold_case(text), fold_case(wanted))
    };
    match op {
        CompareOp::Co => text.contains(&*wanted),
        CompareOp::Sw => text.starts_with(&*wanted),
        CompareOp::Ew => text.ends_with(&*wanted),
        _ => ordering_matches(text.cmp(&wanted), op),
    }
}

/// Lowercase `text`, borrowing it when it already is.
fn fold_case(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        if text.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(text.to_ascii_lowercase())
        } else {
            Cow::Borrowed(text)
        }
    } else {
        Cow::Owned(text.to_lowercase())
    }
}

fn number_matches(number: &serde_json::Number, op: CompareOp, wanted: &Number) -> bool {
    let ordering = match (number.as_i64(), wanted.as_i64()) {
        (Some(a), Some(b)) => Some(a.cmp(&b)),
        _ => match (number.as_u64(), wanted.as_str().parse::<u64>().ok()) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => number
                .as_f64()
                .and_then(|a| a.partial_cmp(&wanted.as_f64())),
        },
    };
    ordering.is_some_and(|ordering| ordering_matches(ordering, op))
}
