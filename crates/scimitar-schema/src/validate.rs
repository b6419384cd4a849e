//! Direction-aware validation of resource bodies against the registry's schemas.
//!
//! [`Registry::validate`] checks a body a client sent (or a resource about to be
//! returned) and gives back the cleaned resource to store: attribute names in the
//! schema's spelling, read-only and unassigned values dropped, values otherwise
//! exactly as sent.

use serde_json::{Map, Value};

use crate::messages::{ErrorResponse, ScimType};
use crate::model::{Attribute, AttributeType, Mutability, Returned, Schema};
use crate::policy::{Policy, UnknownAttributes};
use crate::registry::{Registry, ResourceSchemas};

/// Which way a resource is travelling, and so which rules apply.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode<'a> {
    /// A client creates the resource (POST): required attributes enforced,
    /// read-only ones dropped.
    Create,
    /// A client replaces `existing` (PUT): as for create, and immutable attributes
    /// that `existing` has must not change. Immutable and never-returned attributes
    /// (`password`) the body leaves out keep their existing values, since a client
    /// cannot have read them back.
    Replace {
        /// The stored resource being replaced.
        existing: &'a Value,
    },
    /// The server returns the resource: types and shape checked, read-only
    /// attributes kept, never-returned ones not required.
    Response,
}

impl Mode<'_> {
    fn is_write(self) -> bool {
        !matches!(self, Mode::Response)
    }
}

/// Why a resource body was rejected. Every message names the attribute (in the
/// schema's spelling, URN-qualified for extension attributes) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// The resource type is not registered.
    #[error("unknown resource type `{0}`")]
    UnknownResourceType(String),
    /// The body is not a JSON object.
    #[error("the body must be a JSON object, not {found}")]
    NotAnObject {
        /// What was sent instead.
        found: &'static str,
    },
    /// `schemas` is missing.
    #[error("`schemas` is missing; it must list `{core}`")]
    MissingSchemas {
        /// The core schema URN.
        core: String,
    },
    /// `schemas` is not an array of strings.
    #[error("`schemas` must be an array of schema URNs")]
    InvalidSchemas,
    /// `schemas` does not list the core schema.
    #[error("`schemas` must list the core schema `{core}`")]
    MissingCoreSchema {
        /// The core schema URN.
        core: String,
    },
    /// `schemas` lists a URN the resource type does not have.
    #[error("`schemas` lists `{urn}`, which is not a schema of resource type {resource_type}")]
    UnknownSchema {
        /// The URN.
        urn: String,
        /// The resource type's name.
        resource_type: String,
    },
    /// Extension data is present but its URN is not in `schemas`.
    #[error("the body has data under `{urn}` but `schemas` does not list it")]
    ExtensionNotListed {
        /// The extension URN.
        urn: String,
    },
    /// A required extension is missing.
    #[error("the extension `{urn}` is required for resource type {resource_type}")]
    MissingExtension {
        /// The extension URN.
        urn: String,
        /// The resource type's name.
        resource_type: String,
    },
    /// No schema defines the attribute.
    #[error("attribute `{path}` is not defined for resource type {resource_type}")]
    UnknownAttribute {
        /// The attribute as sent.
        path: String,
        /// The resource type's name.
        resource_type: String,
    },
    /// The attribute appears twice, in different letter case.
    #[error("attribute `{path}` is given twice (attribute names ignore case)")]
    DuplicateAttribute {
        /// The attribute.
        path: String,
    },
    /// A required attribute is missing or null.
    #[error("attribute `{path}` is required")]
    Missing {
        /// The attribute.
        path: String,
    },
    /// A required string attribute is empty or only whitespace, which counts as
    /// missing.
    #[error("attribute `{path}` is required and must not be empty or blank")]
    Blank {
        /// The attribute.
        path: String,
    },
    /// A value has the wrong JSON type.
    #[error("attribute `{path}` must be {expected}, not {found}")]
    WrongType {
        /// The attribute.
        path: String,
        /// What the schema expects, in words.
        expected: &'static str,
        /// What was sent, in words.
        found: &'static str,
    },
    /// A multi-valued attribute is not an array.
    #[error("attribute `{path}` is multi-valued; its value must be an array")]
    NotAnArray {
        /// The attribute.
        path: String,
    },
    /// A single-valued attribute is an array.
    #[error("attribute `{path}` is single-valued; an array is not allowed")]
    UnexpectedArray {
        /// The attribute.
        path: String,
    },
    /// A dateTime value is not an `xsd:dateTime`.
    #[error("attribute `{path}`: `{value}` is not a date and time such as 2008-01-23T04:56:22Z")]
    InvalidDateTime {
        /// The attribute.
        path: String,
        /// The value sent.
        value: String,
    },
    /// A binary value is not base64.
    #[error("attribute `{path}` must be base64-encoded data")]
    InvalidBinary {
        /// The attribute.
        path: String,
    },
    /// More than one value is marked primary.
    #[error("attribute `{path}`: at most one value may have \"primary\": true")]
    MultiplePrimary {
        /// The attribute.
        path: String,
    },
    /// A value is not one of the canonical values (when the policy enforces them).
    #[error("attribute `{path}`: `{value}` is not one of {allowed}")]
    NonCanonicalValue {
        /// The attribute.
        path: String,
        /// The value sent.
        value: String,
        /// The canonical values, comma-separated.
        allowed: String,
    },
    /// A read-only attribute was sent (when the policy does not ignore them).
    #[error("attribute `{path}` is read-only; clients cannot set it")]
    ReadOnly {
        /// The attribute.
        path: String,
    },
    /// An immutable attribute would change.
    #[error("attribute `{path}` is immutable; it is already set and cannot be changed")]
    Immutable {
        /// The attribute.
        path: String,
    },
}

impl ValidationError {
    /// The SCIM error type: `invalidSyntax` for a malformed body or unknown
    /// attribute, `mutability` for read-only and immutable violations,
    /// `invalidValue` otherwise.
    pub fn scim_type(&self) -> ScimType {
        use ValidationError::*;
        match self {
            NotAnObject { .. }
            | MissingSchemas { .. }
            | InvalidSchemas
            | MissingCoreSchema { .. }
            | UnknownSchema { .. }
            | ExtensionNotListed { .. }
            | UnknownAttribute { .. }
            | DuplicateAttribute { .. } => ScimType::InvalidSyntax,
            ReadOnly { .. } | Immutable { .. } => ScimType::Mutability,
            UnknownResourceType(_)
            | MissingExtension { .. }
            | Missing { .. }
            | Blank { .. }
            | WrongType { .. }
            | NotAnArray { .. }
            | UnexpectedArray { .. }
            | InvalidDateTime { .. }
            | InvalidBinary { .. }
            | MultiplePrimary { .. }
            | NonCanonicalValue { .. } => ScimType::InvalidValue,
        }
    }

    /// The HTTP status (400 for every validation error).
    pub fn status(&self) -> u16 {
        self.scim_type().status()
    }

    /// The SCIM error body for this error.
    pub fn to_error_response(&self) -> ErrorResponse {
        ErrorResponse::typed(self.scim_type(), self.to_string())
    }
}

impl From<ValidationError> for ErrorResponse {
    fn from(error: ValidationError) -> Self {
        error.to_error_response()
    }
}

impl Registry {
    /// Validates `body` as a resource of `resource_type` travelling in `mode`, and
    /// returns the cleaned resource.
    ///
    /// The cleaned resource has attribute names and schema URNs in the schema's
    /// spelling (the body may use any case), `null` and empty-array values dropped
    /// (they mean "unassigned", RFC 7643 §2.5), read-only attributes dropped on
    /// writes, unknown attributes and schema URNs dropped when `policy` says so,
    /// and every other value exactly as sent (except string booleans coerced when
    /// `policy.coerce_string_booleans`). No defaults are added.
    ///
    /// # Errors
    /// The first [`ValidationError`] found.
    pub fn validate(
        &self,
        resource_type: &str,
        body: &Value,
        mode: Mode<'_>,
        policy: &Policy,
    ) -> Result<Value, ValidationError> {
        let schemas = self
            .schemas_of(resource_type)
            .ok_or_else(|| ValidationError::UnknownResourceType(resource_type.to_string()))?;
        let body = body.as_object().ok_or(ValidationError::NotAnObject {
            found: json_kind(body),
        })?;
        Validator {
            schemas,
            mode,
            policy,
        }
        .resource(body)
        .map(Value::Object)
    }
}

struct Validator<'a> {
    schemas: ResourceSchemas<'a>,
    mode: Mode<'a>,
    policy: &'a Policy,
}

impl<'a> Validator<'a> {
    fn resource_type_name(&self) -> String {
        self.schemas.resource_type.name.clone()
    }

    fn resource(&self, body: &Map<String, Value>) -> Result<Map<String, Value>, ValidationError> {
        let mut listed = self.listed_schemas(body)?;
        let mut out = Map::new();
        out.insert("schemas".into(), Value::Null); // keeps `schemas` first; filled below
        for (key, value) in body {
            if key.eq_ignore_ascii_case("schemas") {
                continue;
            }
            if let Some(extension) = self.schemas.extension(key) {
                self.extension(extension, value, &mut listed, &mut out)?;
            } else if let Some((_, attribute)) = self.schemas.top_level(key) {
                self.put(&mut out, attribute, value, String::new())?;
            } else {
                self.unknown(key.clone())?;
            }
        }
        if let Mode::Replace { existing } = self.mode {
            self.keep_from_existing(existing, &mut out)?;
        }
        self.check_required(&self.schemas.core.attributes, &out, "")?;
        for (extension, required) in &self.schemas.extensions {
            match out.get(&extension.id).and_then(Value::as_object) {
                Some(data) => {
                    self.check_required(&extension.attributes, data, &format!("{}:", extension.id))?
                }
                None if *required => {
                    return Err(ValidationError::MissingExtension {
                        urn: extension.id.clone(),
                        resource_type: self.resource_type_name(),
                    })
                }
                None => {}
            }
        }
        out.insert(
            "schemas".into(),
            Value::Array(listed.into_iter().map(Value::String).collect()),
        );
        Ok(out)
    }

    /// The URNs of `schemas`, in the registry's spelling, checked.
    fn listed_schemas(&self, body: &Map<String, Value>) -> Result<Vec<String>, ValidationError> {
        let core = &self.schemas.core.id;
        let items = match get_ignore_case(body, "schemas") {
            None | Some(Value::Null) => {
                return Err(ValidationError::MissingSchemas { core: core.clone() })
            }
            Some(Value::Array(items)) => items,
            Some(_) => return Err(ValidationError::InvalidSchemas),
        };
        let mut listed: Vec<String> = Vec::with_capacity(items.len());
        for item in items {
            let urn = item.as_str().ok_or(ValidationError::InvalidSchemas)?;
            let known = if urn.eq_ignore_ascii_case(core) {
                Some(core)
            } else {
                self.schemas.extension(urn).map(|schema| &schema.id)
            };
            match known {
                Some(known) if !listed.contains(known) => listed.push(known.clone()),
                Some(_) => {}
                None if self.policy.ignore_unknown_schema_urns => {}
                None => {
                    return Err(ValidationError::UnknownSchema {
                        urn: urn.to_string(),
                        resource_type: self.resource_type_name(),
                    })
                }
            }
        }
        if !listed.contains(core) {
            return Err(ValidationError::MissingCoreSchema { core: core.clone() });
        }
        Ok(listed)
    }

    fn extension(
        &self,
        extension: &'a Schema,
        value: &Value,
        listed: &mut Vec<String>,
        out: &mut Map<String, Value>,
    ) -> Result<(), ValidationError> {
        let urn = &extension.id;
        let data = match value {
            Value::Null => return Ok(()),
            Value::Object(data) => data,
            other => {
                return Err(ValidationError::WrongType {
                    path: urn.clone(),
                    expected: "an object of extension attributes",
                    found: json_kind(other),
                })
            }
        };
        if out.contains_key(urn) {
            return Err(ValidationError::DuplicateAttribute { path: urn.clone() });
        }
        let prefix = format!("{urn}:");
        let mut cleaned = Map::new();
        for (key, value) in data {
            match extension.attribute(key) {
                Some(attribute) => self.put(&mut cleaned, attribute, value, prefix.clone())?,
                None => self.unknown(format!("{prefix}{key}"))?,
            }
        }
        if cleaned.is_empty() {
            return Ok(());
        }
        if !listed.contains(urn) {
            if !self.policy.add_missing_extension_schemas {
                return Err(ValidationError::ExtensionNotListed { urn: urn.clone() });
            }
            listed.push(urn.clone());
        }
        out.insert(urn.clone(), Value::Object(cleaned));
        Ok(())
    }

    fn unknown(&self, path: String) -> Result<(), ValidationError> {
        match self.policy.unknown_attributes {
            UnknownAttributes::Ignore => Ok(()),
            UnknownAttributes::Reject => Err(ValidationError::UnknownAttribute {
                path,
                resource_type: self.resource_type_name(),
            }),
        }
    }

    /// Validates `value` for `attribute` and inserts it under the canonical name,
    /// unless it is unassigned or a read-only value to ignore.
    fn put(
        &self,
        out: &mut Map<String, Value>,
        attribute: &Attribute,
        value: &Value,
        prefix: String,
    ) -> Result<(), ValidationError> {
        let path = prefix + &attribute.name;
        if out.contains_key(&attribute.name) {
            return Err(ValidationError::DuplicateAttribute { path });
        }
        if self.mode.is_write() && attribute.mutability == Mutability::ReadOnly && !value.is_null()
        {
            return if self.policy.ignore_read_only_on_write {
                Ok(())
            } else {
                Err(ValidationError::ReadOnly { path })
            };
        }
        if let Some(value) = self.value(attribute, value, &path)? {
            out.insert(attribute.name.clone(), value);
        }
        Ok(())
    }

    fn value(
        &self,
        attribute: &Attribute,
        value: &Value,
        path: &str,
    ) -> Result<Option<Value>, ValidationError> {
        if value.is_null() {
            return Ok(None);
        }
        if !attribute.multi_valued {
            if value.is_array() {
                return Err(ValidationError::UnexpectedArray { path: path.into() });
            }
            return self.single(attribute, value, path);
        }
        let single;
        let items = match value {
            Value::Array(items) => items.as_slice(),
            other if self.policy.wrap_single_values => {
                single = [other.clone()];
                &single
            }
            _ => return Err(ValidationError::NotAnArray { path: path.into() }),
        };
        let mut cleaned = Vec::with_capacity(items.len());
        for item in items {
            if item.is_array() {
                return Err(ValidationError::UnexpectedArray { path: path.into() });
            }
            if let Some(item) = self.single(attribute, item, path)? {
                cleaned.push(item);
            }
        }
        let primaries = cleaned
            .iter()
            .filter(|item| {
                item.as_object()
                    .and_then(|object| object.get("primary"))
                    .and_then(Value::as_bool)
                    == Some(true)
            })
            .count();
        if primaries > 1 {
            return Err(ValidationError::MultiplePrimary { path: path.into() });
        }
        Ok((!cleaned.is_empty()).then_some(Value::Array(cleaned)))
    }

    /// One value (an element of a multi-valued attribute, or the value of a
    /// single-valued one).
    fn single(
        &self,
        attribute: &Attribute,
        value: &Value,
        path: &str,
    ) -> Result<Option<Value>, ValidationError> {
        match (attribute.type_, value) {
            (_, Value::Null) => Ok(None),
            (AttributeType::Complex, Value::Object(object)) => {
                self.complex(attribute, object, path)
            }
            _ => check_value(attribute, value, self.policy)
                .map(Some)
                .map_err(|error| error.at(path)),
        }
    }

    fn complex(
        &self,
        attribute: &Attribute,
        object: &Map<String, Value>,
        path: &str,
    ) -> Result<Option<Value>, ValidationError> {
        let prefix = format!("{path}.");
        let mut cleaned = Map::new();
        for (key, value) in object {
            match attribute.sub_attribute(key) {
                Some(sub) => self.put(&mut cleaned, sub, value, prefix.clone())?,
                None if attribute.sub_attributes.is_empty() => {
                    // A complex attribute declared without sub-attributes takes any.
                    cleaned.insert(key.clone(), value.clone());
                }
                None => self.unknown(format!("{prefix}{key}"))?,
            }
        }
        if cleaned.is_empty() {
            return Ok(None);
        }
        self.check_required(&attribute.sub_attributes, &cleaned, &prefix)?;
        Ok(Some(Value::Object(cleaned)))
    }

    /// Required attributes must be present. Read-only ones are the server's to set;
    /// never-returned ones are not required in responses. On writes, a required
    /// string that is empty or only whitespace counts as missing: a `userName` of
    /// `" "` is no login.
    fn check_required(
        &self,
        attributes: &[Attribute],
        present: &Map<String, Value>,
        prefix: &str,
    ) -> Result<(), ValidationError> {
        for attribute in attributes {
            if !attribute.required
                || attribute.mutability == Mutability::ReadOnly
                || (matches!(self.mode, Mode::Response) && attribute.returned == Returned::Never)
            {
                continue;
            }
            let path = || format!("{prefix}{}", attribute.name);
            match present.get(&attribute.name) {
                None => return Err(ValidationError::Missing { path: path() }),
                Some(Value::String(text)) if self.mode.is_write() && text.trim().is_empty() => {
                    return Err(ValidationError::Blank { path: path() })
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// On replace: immutable attributes must not change, and immutable and
    /// never-returned attributes the body omits keep their existing values.
    fn keep_from_existing(
        &self,
        existing: &Value,
        out: &mut Map<String, Value>,
    ) -> Result<(), ValidationError> {
        let Some(existing) = existing.as_object() else {
            return Ok(());
        };
        self.keep_attributes(&self.schemas.core.attributes, existing, out, "")?;
        for (extension, _) in &self.schemas.extensions {
            let Some(old) = get_ignore_case(existing, &extension.id).and_then(Value::as_object)
            else {
                continue;
            };
            let mut new = match out.remove(&extension.id) {
                Some(Value::Object(new)) => new,
                _ => Map::new(),
            };
            self.keep_attributes(
                &extension.attributes,
                old,
                &mut new,
                &format!("{}:", extension.id),
            )?;
            if !new.is_empty() {
                out.insert(extension.id.clone(), Value::Object(new));
            }
        }
        Ok(())
    }

    fn keep_attributes(
        &self,
        attributes: &[Attribute],
        existing: &Map<String, Value>,
        out: &mut Map<String, Value>,
        prefix: &str,
    ) -> Result<(), ValidationError> {
        for attribute in attributes {
            let Some(old) = get_ignore_case(existing, &attribute.name).filter(|v| !v.is_null())
            else {
                continue;
            };
            let path = format!("{prefix}{}", attribute.name);
            match out.get_mut(&attribute.name) {
                None if keeps_existing(attribute) => {
                    out.insert(attribute.name.clone(), old.clone());
                }
                None => {}
                Some(new)
                    if attribute.mutability == Mutability::Immutable
                        && !same_value(attribute, old, new) =>
                {
                    return Err(ValidationError::Immutable { path });
                }
                Some(Value::Object(new)) if attribute.is_complex() && !attribute.multi_valued => {
                    if let Some(old) = old.as_object() {
                        self.keep_attributes(
                            &attribute.sub_attributes,
                            old,
                            new,
                            &format!("{path}."),
                        )?;
                    }
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

/// Whether a replace that omits `attribute` keeps its existing value.
fn keeps_existing(attribute: &Attribute) -> bool {
    attribute.mutability == Mutability::Immutable || attribute.returned == Returned::Never
}

fn same_value(attribute: &Attribute, old: &Value, new: &Value) -> bool {
    match (old, new) {
        (Value::String(old), Value::String(new)) if !attribute.case_exact => {
            old.eq_ignore_ascii_case(new)
        }
        _ => old == new,
    }
}

pub(crate) fn get_ignore_case<'v>(object: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    object.get(key).or_else(|| {
        object
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(key))
            .map(|(_, value)| value)
    })
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Why one value does not fit its attribute ([`check_value`]); [`Registry::validate`]
/// reports it as the [`ValidationError`] of the same name, at the value's path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// The value has the wrong JSON type.
    #[error("must be {expected}, not {found}")]
    WrongType {
        /// What the attribute's type expects, in words.
        expected: &'static str,
        /// What was sent, in words.
        found: &'static str,
    },
    /// A dateTime value is not an `xsd:dateTime`.
    #[error("`{value}` is not a date and time such as 2008-01-23T04:56:22Z")]
    InvalidDateTime {
        /// The value sent.
        value: String,
    },
    /// A binary value is not base64.
    #[error("must be base64-encoded data")]
    InvalidBinary,
    /// A string is not one of the canonical values (when the policy enforces them).
    #[error("`{value}` is not one of {allowed}")]
    NonCanonicalValue {
        /// The value sent.
        value: String,
        /// The canonical values, comma-separated.
        allowed: String,
    },
}

impl ValueError {
    fn at(self, path: &str) -> ValidationError {
        let path = path.to_owned();
        match self {
            ValueError::WrongType { expected, found } => ValidationError::WrongType {
                path,
                expected,
                found,
            },
            ValueError::InvalidDateTime { value } => {
                ValidationError::InvalidDateTime { path, value }
            }
            ValueError::InvalidBinary => ValidationError::InvalidBinary { path },
            ValueError::NonCanonicalValue { value, allowed } => {
                ValidationError::NonCanonicalValue {
                    path,
                    value,
                    allowed,
                }
            }
        }
    }
}

/// Checks one value of `attribute` against the attribute's type, as
/// [`Registry::validate`] checks each value: the value as it is to be stored, a
/// string boolean coerced when [`Policy::coerce_string_booleans`] says so, a string
/// refused when it is not canonical and [`Policy::enforce_canonical_values`] says
/// so.
///
/// A value is one element of a multi-valued attribute or the value of a
/// single-valued one; `null` is the wrong type here (the caller decides what an
/// unassigned value means). Of a complex attribute only the shape is checked (an
/// object): its sub-attributes are the caller's to check, one by one.
///
/// ```
/// use scimitar_schema::{check_value, urn, Policy, Registry, ValueError};
/// use serde_json::json;
///
/// let registry = Registry::builtin();
/// let active = registry.schema(urn::USER).and_then(|user| user.attribute("active"));
/// let active = active.ok_or("no active attribute")?;
/// assert_eq!(check_value(active, &json!("True"), &Policy::compatible())?, json!(true));
/// assert_eq!(
///     check_value(active, &json!("True"), &Policy::strict()),
///     Err(ValueError::WrongType { expected: "true or false", found: "a string" })
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_value(
    attribute: &Attribute,
    value: &Value,
    policy: &Policy,
) -> Result<Value, ValueError> {
    let wrong_type = |expected| ValueError::WrongType {
        expected,
        found: json_kind(value),
    };
    let checked = match (attribute.type_, value) {
        (AttributeType::Complex, Value::Object(_)) => value.clone(),
        (AttributeType::Complex, _) => return Err(wrong_type("an object")),
        (AttributeType::String, Value::String(text)) => {
            check_canonical(attribute, text, policy)?;
            value.clone()
        }
        (AttributeType::String, _) => return Err(wrong_type("a string")),
        (AttributeType::Boolean, Value::Bool(_)) => value.clone(),
        (AttributeType::Boolean, Value::String(text)) if policy.coerce_string_booleans => {
            match text.trim() {
                t if t.eq_ignore_ascii_case("true") => Value::Bool(true),
                t if t.eq_ignore_ascii_case("false") => Value::Bool(false),
                _ => return Err(wrong_type("true or false")),
            }
        }
        (AttributeType::Boolean, _) => return Err(wrong_type("true or false")),
        (AttributeType::Integer, Value::Number(number)) if number.is_i64() || number.is_u64() => {
            value.clone()
        }
        (AttributeType::Integer, _) => return Err(wrong_type("an integer")),
        (AttributeType::Decimal, Value::Number(_)) => value.clone(),
        (AttributeType::Decimal, _) => return Err(wrong_type("a number")),
        (AttributeType::DateTime, Value::String(text)) => {
            if !is_xsd_date_time(text) {
                return Err(ValueError::InvalidDateTime {
                    value: text.clone(),
                });
            }
            value.clone()
        }
        (AttributeType::DateTime, _) => return Err(wrong_type("a dateTime string")),
        (AttributeType::Binary, Value::String(text)) => {
            if !is_base64(text) {
                return Err(ValueError::InvalidBinary);
            }
            value.clone()
        }
        (AttributeType::Binary, _) => return Err(wrong_type("a base64 string")),
        (AttributeType::Reference, Value::String(_)) => value.clone(),
        (AttributeType::Reference, _) => return Err(wrong_type("a reference (a URI string)")),
    };
    Ok(checked)
}

fn check_canonical(attribute: &Attribute, text: &str, policy: &Policy) -> Result<(), ValueError> {
    if !policy.enforce_canonical_values || attribute.canonical_values.is_empty() {
        return Ok(());
    }
    let matches = |canonical: &String| {
        if attribute.case_exact {
            canonical == text
        } else {
            canonical.eq_ignore_ascii_case(text)
        }
    };
    if attribute.canonical_values.iter().any(matches) {
        Ok(())
    } else {
        Err(ValueError::NonCanonicalValue {
            value: text.into(),
            allowed: attribute.canonical_values.join(", "),
        })
    }
}

/// Whether `text` is an `xsd:dateTime` (RFC 7643 §2.3.5):
/// `[-]YYYY-MM-DDThh:mm:ss[.fraction][Z|(+|-)hh:mm]`, with real calendar dates.
/// Lower-case `t` and `z` are accepted as RFC 3339 allows.
pub fn is_xsd_date_time(text: &str) -> bool {
    let mut cursor = Cursor(text.as_bytes());
    let negative = cursor.eat(b'-');
    let year_digits = cursor.digits();
    let year = match parse_digits(year_digits) {
        // More than four digits may not start with zero (xsd 1.0 §3.2.7.1).
        Some(year)
            if year_digits.len() == 4 || (year_digits.len() > 4 && year_digits[0] != b'0') =>
        {
            if negative {
                -year
            } else {
                year
            }
        }
        _ => return false,
    };
    let Some(month) = cursor.eat(b'-').then(|| cursor.two_digits()).flatten() else {
        return false;
    };
    let Some(day) = cursor.eat(b'-').then(|| cursor.two_digits()).flatten() else {
        return false;
    };
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return false;
    }
    if !(cursor.eat(b'T') || cursor.eat(b't')) {
        return false;
    }
    let Some(hour) = cursor.two_digits() else {
        return false;
    };
    let Some(minute) = cursor.eat(b':').then(|| cursor.two_digits()).flatten() else {
        return false;
    };
    let Some(second) = cursor.eat(b':').then(|| cursor.two_digits()).flatten() else {
        return false;
    };
    let mut fraction_is_zero = true;
    if cursor.eat(b'.') {
        let fraction = cursor.digits();
        if fraction.is_empty() {
            return false;
        }
        fraction_is_zero = fraction.iter().all(|&digit| digit == b'0');
    }
    let end_of_day = hour == 24 && minute == 0 && second == 0 && fraction_is_zero;
    if !(hour < 24 || end_of_day) || minute > 59 || second > 59 {
        return false;
    }
    if cursor.eat(b'Z') || cursor.eat(b'z') {
        return cursor.0.is_empty();
    }
    if cursor.eat(b'+') || cursor.eat(b'-') {
        let Some(offset_hours) = cursor.two_digits() else {
            return false;
        };
        let Some(offset_minutes) = cursor.eat(b':').then(|| cursor.two_digits()).flatten() else {
            return false;
        };
        let in_range = offset_minutes <= 59
            && (offset_hours < 14 || (offset_hours == 14 && offset_minutes == 0));
        return in_range && cursor.0.is_empty();
    }
    cursor.0.is_empty()
}

struct Cursor<'t>(&'t [u8]);

impl<'t> Cursor<'t> {
    fn eat(&mut self, byte: u8) -> bool {
        match self.0.split_first() {
            Some((&first, rest)) if first == byte => {
                self.0 = rest;
                true
            }
            _ => false,
        }
    }

    fn digits(&mut self) -> &'t [u8] {
        let count = self.0.iter().take_while(|b| b.is_ascii_digit()).count();
        let (digits, rest) = self.0.split_at(count);
        self.0 = rest;
        digits
    }

    fn two_digits(&mut self) -> Option<i64> {
        match self.0 {
            [a, b, rest @ ..] if a.is_ascii_digit() && b.is_ascii_digit() => {
                self.0 = rest;
                Some(i64::from(a - b'0') * 10 + i64::from(b - b'0'))
            }
            _ => None,
        }
    }
}

fn parse_digits(digits: &[u8]) -> Option<i64> {
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    Some(
        digits
            .iter()
            .fold(0, |total, digit| total * 10 + i64::from(digit - b'0')),
    )
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Whether `text` is base64 (RFC 4648 §4, standard alphabet). Padding may be
/// omitted, and ASCII whitespace (line breaks in PEM-style bodies) is ignored.
pub fn is_base64(text: &str) -> bool {
    let bytes: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let data_len = bytes.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
    let (data, padding) = bytes.split_at(data_len);
    let alphabet = |b: &u8| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/';
    data.iter().all(alphabet)
        && padding.len() <= 2
        && if padding.is_empty() {
            data.len() % 4 != 1
        } else {
            bytes.len() % 4 == 0
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_times() {
        for good in [
            "2008-01-23T04:56:22Z",
            "2008-01-23T04:56:22",
            "2008-01-23T04:56:22.123456789Z",
            "2008-01-23t04:56:22z",
            "2011-05-13T04:42:34+14:00",
            "2011-05-13T04:42:34-05:30",
            "2000-02-29T00:00:00Z",
            "2008-01-23T24:00:00Z",
            "-0044-03-15T12:00:00Z",
            "12008-01-23T04:56:22Z",
        ] {
            assert!(is_xsd_date_time(good), "{good}");
        }
        for bad in [
            "",
            "2008-01-23",
            "2008-1-23T04:56:22Z",
            "2008-13-23T04:56:22Z",
            "2008-00-23T04:56:22Z",
            "2008-02-30T04:56:22Z",
            "1900-02-29T00:00:00Z",
            "2008-01-23T25:00:00Z",
            "2008-01-23T24:00:01Z",
            "2008-01-23T04:60:22Z",
            "2008-01-23T04:56:61Z",
            "2008-01-23T04:56:22.Z",
            "2008-01-23T04:56:22+15:00",
            "2008-01-23T04:56:22+0500",
            "2008-01-23T04:56:22Zjunk",
            "2008-01-23 04:56:22Z",
            "02008-01-23T04:56:22Z",
            "208-01-23T04:56:22Z",
            "True",
        ] {
            assert!(!is_xsd_date_time(bad), "{bad}");
        }
    }

    #[test]
    fn base64() {
        for good in [
            "",
            "TWFu",
            "TWE=",
            "TQ==",
            "TWE",
            "TQ",
            "MIID\nQzCC",
            "a+b/",
        ] {
            assert!(is_base64(good), "{good:?}");
        }
        for bad in [
            "T",
            "TQ=",
            "TQ===",
            "TW=E",
            "not base64!",
            "TQ==TQ==",
            "a-b_",
        ] {
            assert!(!is_base64(bad), "{bad:?}");
        }
    }
}
