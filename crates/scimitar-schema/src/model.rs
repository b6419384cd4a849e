//! The RFC 7643 schema model: schemas, attributes and their characteristics,
//! resource types and the service provider configuration.
//!
//! Every type here reads and writes the JSON representation of RFC 7643 §5–§7, so
//! a schema document loaded from a file and the one served under `/Schemas` are the
//! same thing.

use serde::de::{self, Deserializer};
use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Declares a string enum serialised in its RFC spelling and deserialised ignoring
/// ASCII case (schema documents written by hand are not always camelCased).
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// The RFC spelling of this value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// Parses the RFC spelling, ignoring ASCII case.
            pub fn parse(text: &str) -> Option<Self> {
                $(if text.eq_ignore_ascii_case($text) {
                    return Some($name::$variant);
                })+
                None
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
                $name::parse(&text).ok_or_else(|| {
                    de::Error::invalid_value(de::Unexpected::Str(&text), &concat!($($text, " "),+))
                })
            }
        }
    };
}
pub(crate) use string_enum;

string_enum! {
    /// An attribute's data type (RFC 7643 §2.3).
    AttributeType {
        /// A Unicode string.
        String => "string",
        /// `true` or `false`.
        Boolean => "boolean",
        /// A real number.
        Decimal => "decimal",
        /// A whole number.
        Integer => "integer",
        /// An `xsd:dateTime` string, e.g. `2008-01-23T04:56:22Z`.
        DateTime => "dateTime",
        /// Base64-encoded bytes.
        Binary => "binary",
        /// A URI naming a resource.
        Reference => "reference",
        /// An object of sub-attributes.
        Complex => "complex",
    }
}

string_enum! {
    /// Whether and how an attribute may be changed (RFC 7643 §2.2).
    #[derive(Default)]
    Mutability {
        /// Set by the service provider only; values sent by a client are ignored.
        ReadOnly => "readOnly",
        /// Updated and read freely (the default).
        #[default]
        ReadWrite => "readWrite",
        /// Set once (on create or while unset), never changed afterwards.
        Immutable => "immutable",
        /// Written by clients, never returned (e.g. `password`).
        WriteOnly => "writeOnly",
    }
}

string_enum! {
    /// When an attribute is returned in a response (RFC 7643 §2.2).
    #[derive(Default)]
    Returned {
        /// Always returned, whatever `attributes`/`excludedAttributes` say.
        Always => "always",
        /// Never returned.
        Never => "never",
        /// Returned unless excluded, or unless `attributes` lists others only (the default).
        #[default]
        Default => "default",
        /// Returned only when named in `attributes`.
        Request => "request",
    }
}

string_enum! {
    /// How unique an attribute's value must be (RFC 7643 §2.2).
    #[derive(Default)]
    Uniqueness {
        /// No constraint (the default).
        #[default]
        None => "none",
        /// Unique within the service provider (per tenant in Scimitar).
        Server => "server",
        /// Globally unique.
        Global => "global",
    }
}

/// A schema: a named set of attribute definitions (RFC 7643 §7).
///
/// Deserialises from the RFC's schema representation; `meta` and `schemas` keys
/// are accepted and ignored because the server computes them when serving.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schema {
    /// The schema URN, e.g. `urn:ietf:params:scim:schemas:core:2.0:User`.
    pub id: String,
    /// Human-readable name, e.g. `User`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Human-readable description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The top-level attributes.
    #[serde(default)]
    pub attributes: Vec<Attribute>,
}

impl Schema {
    /// The top-level attribute called `name`, ignoring ASCII case.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        find_attribute(&self.attributes, name)
    }

    /// Mutable access to the top-level attribute called `name`, ignoring ASCII case.
    pub fn attribute_mut(&mut self, name: &str) -> Option<&mut Attribute> {
        self.attributes
            .iter_mut()
            .find(|attribute| attribute.name.eq_ignore_ascii_case(name))
    }

    /// This schema as a `/Schemas` resource: its JSON representation with
    /// `schemas` and `meta` (`location` is `{base_url}/Schemas/{id}`).
    pub fn to_resource(&self, base_url: &str) -> Value {
        let mut object = Map::new();
        object.insert(
            "schemas".into(),
            Value::Array(vec![Value::String(crate::urn::SCHEMA.into())]),
        );
        if let Ok(Value::Object(fields)) = serde_json::to_value(self) {
            object.extend(fields);
        }
        object.insert(
            "meta".into(),
            meta_value(
                "Schema",
                &format!("{}/Schemas/{}", base_url.trim_end_matches('/'), self.id),
            ),
        );
        Value::Object(object)
    }
}

fn meta_value(resource_type: &str, location: &str) -> Value {
    let mut meta = Map::new();
    meta.insert("resourceType".into(), Value::String(resource_type.into()));
    meta.insert("location".into(), Value::String(location.into()));
    Value::Object(meta)
}

pub(crate) fn find_attribute<'a>(attributes: &'a [Attribute], name: &str) -> Option<&'a Attribute> {
    attributes
        .iter()
        .find(|attribute| attribute.name.eq_ignore_ascii_case(name))
}

/// An attribute definition with its characteristics (RFC 7643 §2.2, §7).
///
/// Omitted characteristics take the defaults of RFC 7643 §2.2 (`required` false,
/// `caseExact` false, `mutability` readWrite, `returned` default, `uniqueness`
/// none). When serialised every characteristic is written out;
/// `subAttributes` is omitted when empty unless the type is `complex`, and
/// `canonicalValues`/`referenceTypes` are omitted when empty.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attribute {
    /// The attribute name, e.g. `userName`.
    pub name: String,
    /// The data type.
    #[serde(rename = "type")]
    pub type_: AttributeType,
    /// For `complex` attributes, the sub-attributes.
    #[serde(default)]
    pub sub_attributes: Vec<Attribute>,
    /// Whether the value is an array of values.
    #[serde(default)]
    pub multi_valued: bool,
    /// Human-readable description.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether a value must be present on create and replace.
    #[serde(default)]
    pub required: bool,
    /// Suggested values, e.g. `work`, `home` (enforced only when policy asks).
    #[serde(default)]
    pub canonical_values: Vec<String>,
    /// Whether string comparison is case-sensitive.
    #[serde(default)]
    pub case_exact: bool,
    /// Whether and how the attribute may be changed.
    #[serde(default)]
    pub mutability: Mutability,
    /// When the attribute is returned.
    #[serde(default)]
    pub returned: Returned,
    /// Uniqueness constraint.
    #[serde(default)]
    pub uniqueness: Uniqueness,
    /// For `reference` attributes, what may be referenced (`User`, `external`, `uri`...).
    #[serde(default)]
    pub reference_types: Vec<String>,
}

impl Attribute {
    /// A single-valued, optional, read-write attribute of type `type_` with every
    /// other characteristic at its RFC default.
    pub fn new(name: impl Into<String>, type_: AttributeType) -> Self {
        Attribute {
            name: name.into(),
            type_,
            sub_attributes: Vec::new(),
            multi_valued: false,
            description: None,
            required: false,
            canonical_values: Vec::new(),
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            reference_types: Vec::new(),
        }
    }

    /// The sub-attribute called `name`, ignoring ASCII case.
    pub fn sub_attribute(&self, name: &str) -> Option<&Attribute> {
        find_attribute(&self.sub_attributes, name)
    }

    /// Whether this is a `complex` attribute.
    pub fn is_complex(&self) -> bool {
        self.type_ == AttributeType::Complex
    }
}

impl Serialize for Attribute {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("Attribute", 12)?;
        out.serialize_field("name", &self.name)?;
        out.serialize_field("type", &self.type_)?;
        out.serialize_field("multiValued", &self.multi_valued)?;
        if let Some(description) = &self.description {
            out.serialize_field("description", description)?;
        }
        out.serialize_field("required", &self.required)?;
        if !self.canonical_values.is_empty() {
            out.serialize_field("canonicalValues", &self.canonical_values)?;
        }
        out.serialize_field("caseExact", &self.case_exact)?;
        out.serialize_field("mutability", &self.mutability)?;
        out.serialize_field("returned", &self.returned)?;
        out.serialize_field("uniqueness", &self.uniqueness)?;
        if !self.reference_types.is_empty() {
            out.serialize_field("referenceTypes", &self.reference_types)?;
        }
        if self.is_complex() || !self.sub_attributes.is_empty() {
            out.serialize_field("subAttributes", &self.sub_attributes)?;
        }
        out.end()
    }
}

/// A resource type: an endpoint, its core schema and its extensions (RFC 7643 §6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceType {
    /// Server-unique id; usually the same as `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The resource type name, e.g. `User` (also `meta.resourceType` of its resources).
    pub name: String,
    /// The endpoint relative to the base URL, e.g. `/Users`.
    pub endpoint: String,
    /// Human-readable description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The core schema URN.
    pub schema: String,
    /// The extension schemas.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schema_extensions: Vec<SchemaExtension>,
}

impl ResourceType {
    /// The extension with URN `urn`, ignoring ASCII case.
    pub fn extension(&self, urn: &str) -> Option<&SchemaExtension> {
        self.schema_extensions
            .iter()
            .find(|extension| extension.schema.eq_ignore_ascii_case(urn))
    }

    /// This resource type as a `/ResourceTypes` resource, with `schemas` and `meta`
    /// (`location` is `{base_url}/ResourceTypes/{id or name}`).
    pub fn to_resource(&self, base_url: &str) -> Value {
        let mut object = Map::new();
        object.insert(
            "schemas".into(),
            Value::Array(vec![Value::String(crate::urn::RESOURCE_TYPE.into())]),
        );
        if let Ok(Value::Object(fields)) = serde_json::to_value(self) {
            object.extend(fields);
        }
        let id = self.id.as_deref().unwrap_or(&self.name);
        object.insert(
            "meta".into(),
            meta_value(
                "ResourceType",
                &format!("{}/ResourceTypes/{id}", base_url.trim_end_matches('/')),
            ),
        );
        Value::Object(object)
    }
}

/// An extension schema of a resource type (RFC 7643 §6 `schemaExtensions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaExtension {
    /// The extension's schema URN.
    pub schema: String,
    /// Whether every resource of the type must carry the extension.
    pub required: bool,
}

/// The service provider configuration (RFC 7643 §5), served at
/// `/ServiceProviderConfig`, with RFC 9865 `pagination` and room for more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceProviderConfig {
    /// The `schemas` attribute.
    #[serde(default = "service_provider_config_schemas")]
    pub schemas: Vec<String>,
    /// URL of human-readable help.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documentation_uri: Option<String>,
    /// PATCH support.
    pub patch: Supported,
    /// Bulk support and limits.
    pub bulk: BulkConfig,
    /// Filter support and the maximum number of results.
    pub filter: FilterConfig,
    /// Password change support.
    pub change_password: Supported,
    /// Sorting support.
    pub sort: Supported,
    /// ETag support.
    pub etag: Supported,
    /// Cursor and index paging (RFC 9865 §4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagination: Option<PaginationConfig>,
    /// Supported authentication schemes.
    #[serde(default)]
    pub authentication_schemes: Vec<AuthenticationScheme>,
    /// Anything else advertised (e.g. a server's own limits, keyed by its extension URN).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn service_provider_config_schemas() -> Vec<String> {
    vec![crate::urn::SERVICE_PROVIDER_CONFIG.into()]
}

impl Default for ServiceProviderConfig {
    /// Everything unsupported, no schemes: a starting point to fill in.
    fn default() -> Self {
        ServiceProviderConfig {
            schemas: service_provider_config_schemas(),
            documentation_uri: None,
            patch: Supported::default(),
            bulk: BulkConfig::default(),
            filter: FilterConfig::default(),
            change_password: Supported::default(),
            sort: Supported::default(),
            etag: Supported::default(),
            pagination: None,
            authentication_schemes: Vec::new(),
            extra: Map::new(),
        }
    }
}

/// `{"supported": bool}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supported {
    /// Whether the feature is supported.
    pub supported: bool,
}

/// Bulk configuration (RFC 7643 §5 `bulk`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkConfig {
    /// Whether `/Bulk` is supported.
    pub supported: bool,
    /// Maximum operations per request.
    pub max_operations: u64,
    /// Maximum request size in bytes.
    pub max_payload_size: u64,
}

/// Filter configuration (RFC 7643 §5 `filter`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterConfig {
    /// Whether filtering is supported.
    pub supported: bool,
    /// Maximum resources returned in one response.
    pub max_results: u64,
}

/// Paging configuration (RFC 9865 §4 `pagination`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaginationConfig {
    /// Whether cursor paging is supported.
    pub cursor: bool,
    /// Whether index (`startIndex`) paging is supported.
    pub index: bool,
    /// `cursor` or `index`: used when a request names neither.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_pagination_method: Option<String>,
    /// Page size when the client sends no `count`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_page_size: Option<u64>,
    /// Largest page size honoured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_page_size: Option<u64>,
    /// Seconds a cursor stays valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor_timeout: Option<u64>,
}

/// An authentication scheme (RFC 7643 §5 `authenticationSchemes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationScheme {
    /// `oauth`, `oauth2`, `oauthbearertoken`, `httpbasic` or `httpdigest`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Common name, e.g. `OAuth Bearer Token`.
    pub name: String,
    /// Description.
    pub description: String,
    /// URL of the scheme's specification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_uri: Option<String>,
    /// URL of the scheme's usage documentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documentation_uri: Option<String>,
    /// Whether this is the preferred scheme.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<bool>,
}

impl AuthenticationScheme {
    /// The OAuth 2.0 bearer token scheme (RFC 6750), what Entra ID and Okta use.
    pub fn oauth_bearer_token() -> Self {
        AuthenticationScheme {
            type_: "oauthbearertoken".into(),
            name: "OAuth Bearer Token".into(),
            description: "Authentication with a bearer token in the Authorization header.".into(),
            spec_uri: Some("https://www.rfc-editor.org/info/rfc6750".into()),
            documentation_uri: None,
            primary: Some(true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn attribute_defaults_follow_rfc_7643_section_2_2() {
        let attribute: Attribute =
            serde_json::from_value(json!({"name": "nick", "type": "string"})).unwrap();
        assert_eq!(attribute, Attribute::new("nick", AttributeType::String));
    }

    #[test]
    fn enums_parse_ignoring_case_and_print_rfc_spelling() {
        let attribute: Attribute = serde_json::from_value(json!({
            "name": "at", "type": "DATETIME", "mutability": "readonly", "returned": "ALWAYS",
            "uniqueness": "Server"
        }))
        .unwrap();
        assert_eq!(attribute.type_, AttributeType::DateTime);
        assert_eq!(attribute.mutability, Mutability::ReadOnly);
        let printed = serde_json::to_value(&attribute).unwrap();
        assert_eq!(printed["type"], "dateTime");
        assert_eq!(printed["mutability"], "readOnly");
        assert_eq!(printed["returned"], "always");
        assert_eq!(printed["uniqueness"], "server");
    }

    #[test]
    fn unknown_type_is_an_error() {
        let result: Result<Attribute, _> =
            serde_json::from_value(json!({"name": "x", "type": "text"}));
        assert!(result.is_err());
    }

    #[test]
    fn sub_attributes_written_for_complex_only() {
        let simple = serde_json::to_value(Attribute::new("a", AttributeType::String)).unwrap();
        assert!(simple.get("subAttributes").is_none());
        let complex = serde_json::to_value(Attribute::new("c", AttributeType::Complex)).unwrap();
        assert_eq!(complex["subAttributes"], json!([]));
    }

    #[test]
    fn schema_resource_has_schemas_and_meta() {
        let schema = Schema {
            id: "urn:x".into(),
            name: None,
            description: None,
            attributes: vec![],
        };
        let resource = schema.to_resource("https://h/scim/v2/");
        assert_eq!(resource["schemas"], json!([crate::urn::SCHEMA]));
        assert_eq!(
            resource["meta"]["location"],
            "https://h/scim/v2/Schemas/urn:x"
        );
    }

    #[test]
    fn service_provider_config_round_trips_with_extras() {
        let mut config = ServiceProviderConfig::default();
        config
            .extra
            .insert("urn:scimitar:limits".into(), json!({"maxBodyBytes": 1}));
        config
            .authentication_schemes
            .push(AuthenticationScheme::oauth_bearer_token());
        let value = serde_json::to_value(&config).unwrap();
        assert_eq!(value["bulk"]["maxPayloadSize"], 0);
        assert_eq!(value["urn:scimitar:limits"]["maxBodyBytes"], 1);
        let back: ServiceProviderConfig = serde_json::from_value(value).unwrap();
        assert_eq!(back, config);
    }
}
