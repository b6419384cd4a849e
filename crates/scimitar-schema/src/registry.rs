//! The registry: which schemas and resource types a service provider serves, and
//! attribute resolution against them.

use std::sync::Arc;

use scimitar_filter::ast::AttrPath;
use scimitar_filter::{AttrType, AttributeHints};

use crate::builtin;
use crate::model::{find_attribute, Attribute, AttributeType, ResourceType, Schema};

/// Why a schema or resource type could not be registered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The text is not a JSON schema representation.
    #[error("schema document is not valid: {0}")]
    Json(#[from] serde_json::Error),
    /// The schema is malformed.
    #[error("schema `{id}`: {problem}")]
    InvalidSchema {
        /// The schema's id.
        id: String,
        /// What is wrong, in words.
        problem: String,
    },
    /// A resource type names a schema the registry does not have.
    #[error("resource type `{resource_type}` names schema `{schema}`, which is not registered")]
    UnknownSchema {
        /// The resource type's name.
        resource_type: String,
        /// The missing schema URN.
        schema: String,
    },
}

/// The schemas and resource types a service provider serves.
///
/// Cloning is cheap (the contents are shared behind an [`Arc`] and copied only when
/// a clone is modified), and a registry is `Send + Sync`, so build one at start-up
/// and hand clones to every worker.
///
/// All lookups ignore ASCII case, as SCIM names and URNs are case-insensitive.
#[derive(Debug, Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

#[derive(Debug, Clone)]
struct Inner {
    schemas: Vec<Schema>,
    resource_types: Vec<ResourceType>,
    common: Vec<Attribute>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

impl Registry {
    /// A registry with no schemas and no resource types (the common attributes
    /// `id`, `externalId` and `meta` are always known).
    pub fn new() -> Self {
        Registry {
            inner: Arc::new(Inner {
                schemas: Vec::new(),
                resource_types: Vec::new(),
                common: builtin::common_attributes(),
            }),
        }
    }

    /// The RFC 7643 registry: the User, Group and Enterprise User schemas (with
    /// [`builtin::rfc_errata`] applied), resource type `User` at `/Users` with the
    /// Enterprise User extension optional, and `Group` at `/Groups`.
    pub fn builtin() -> Self {
        let mut registry = Registry::new();
        for mut schema in [
            builtin::user(),
            builtin::group(),
            builtin::enterprise_user(),
        ] {
            builtin::rfc_errata(&mut schema);
            registry.insert_schema(schema);
        }
        let inner = Arc::make_mut(&mut registry.inner);
        inner.resource_types.push(builtin::user_resource_type());
        inner.resource_types.push(builtin::group_resource_type());
        registry
    }

    /// Adds a schema, replacing the one with the same id (ignoring case) if any.
    ///
    /// # Errors
    /// [`RegistryError::InvalidSchema`] when the schema has no id, repeats an
    /// attribute name, or nests sub-attributes deeper than RFC 7643 allows.
    pub fn add_schema(&mut self, schema: Schema) -> Result<(), RegistryError> {
        check_schema(&schema)?;
        self.insert_schema(schema);
        Ok(())
    }

    /// Adds schemas from their RFC 7643 §7 JSON representation: one schema object,
    /// an array of them, or a `/Schemas` list response. A schema with the id of an
    /// existing one replaces it (e.g. to retype Enterprise `costCenter` as
    /// `dateTime`). Returns the ids loaded.
    ///
    /// # Errors
    /// [`RegistryError::Json`] when the text is not a schema representation,
    /// [`RegistryError::InvalidSchema`] as for [`Registry::add_schema`]. Nothing is
    /// added when any schema is rejected.
    pub fn load_schema_json(&mut self, json: &str) -> Result<Vec<String>, RegistryError> {
        let value: serde_json::Value = serde_json::from_str(json)?;
        let documents = match value {
            serde_json::Value::Array(items) => items,
            serde_json::Value::Object(mut object) if object.contains_key("Resources") => {
                match object.remove("Resources") {
                    Some(serde_json::Value::Array(items)) => items,
                    _ => Vec::new(),
                }
            }
            other => vec![other],
        };
        let schemas = documents
            .into_iter()
            .map(serde_json::from_value::<Schema>)
            .collect::<Result<Vec<_>, _>>()?;
        for schema in &schemas {
            check_schema(schema)?;
        }
        let ids = schemas.iter().map(|schema| schema.id.clone()).collect();
        for schema in schemas {
            self.insert_schema(schema);
        }
        Ok(ids)
    }

    fn insert_schema(&mut self, schema: Schema) {
        let schemas = &mut Arc::make_mut(&mut self.inner).schemas;
        match schemas
            .iter_mut()
            .find(|existing| existing.id.eq_ignore_ascii_case(&schema.id))
        {
            Some(existing) => *existing = schema,
            None => schemas.push(schema),
        }
    }

    /// Adds a resource type, replacing the one with the same name (ignoring case).
    ///
    /// # Errors
    /// [`RegistryError::UnknownSchema`] when its core schema or an extension is not
    /// registered (add schemas first).
    pub fn add_resource_type(&mut self, resource_type: ResourceType) -> Result<(), RegistryError> {
        let schema_urns = std::iter::once(&resource_type.schema).chain(
            resource_type
                .schema_extensions
                .iter()
                .map(|extension| &extension.schema),
        );
        for urn in schema_urns {
            if self.schema(urn).is_none() {
                return Err(RegistryError::UnknownSchema {
                    resource_type: resource_type.name.clone(),
                    schema: urn.clone(),
                });
            }
        }
        let resource_types = &mut Arc::make_mut(&mut self.inner).resource_types;
        match resource_types
            .iter_mut()
            .find(|existing| existing.name.eq_ignore_ascii_case(&resource_type.name))
        {
            Some(existing) => *existing = resource_type,
            None => resource_types.push(resource_type),
        }
        Ok(())
    }

    /// The resource type called `name_or_endpoint` (its name, e.g. `User`, or its
    /// endpoint with or without the leading slash, e.g. `/Users` or `Users`),
    /// ignoring case.
    pub fn resource_type(&self, name_or_endpoint: &str) -> Option<&ResourceType> {
        let endpoint = name_or_endpoint.trim_start_matches('/');
        self.inner.resource_types.iter().find(|resource_type| {
            resource_type.name.eq_ignore_ascii_case(name_or_endpoint)
                || resource_type
                    .endpoint
                    .trim_start_matches('/')
                    .eq_ignore_ascii_case(endpoint)
        })
    }

    /// Every resource type, in registration order.
    pub fn resource_types(&self) -> &[ResourceType] {
        &self.inner.resource_types
    }

    /// The schema with URN `id`, ignoring case.
    pub fn schema(&self, id: &str) -> Option<&Schema> {
        self.inner
            .schemas
            .iter()
            .find(|schema| schema.id.eq_ignore_ascii_case(id))
    }

    /// Every schema, in registration order (what `/Schemas` serves).
    pub fn schemas(&self) -> &[Schema] {
        &self.inner.schemas
    }

    /// The common attributes `id`, `externalId` and `meta` (RFC 7643 §3.1).
    pub fn common_attributes(&self) -> &[Attribute] {
        &self.inner.common
    }

    /// The core schema and the extension schemas of a resource type, or `None` for
    /// an unknown resource type.
    pub fn schemas_of(&self, resource_type: &str) -> Option<ResourceSchemas<'_>> {
        let resource_type = self.resource_type(resource_type)?;
        let core = self.schema(&resource_type.schema)?;
        let extensions = resource_type
            .schema_extensions
            .iter()
            .filter_map(|extension| {
                self.schema(&extension.schema)
                    .map(|schema| (schema, extension.required))
            })
            .collect();
        Some(ResourceSchemas {
            resource_type,
            core,
            extensions,
            common: &self.inner.common,
        })
    }

    /// Finds the definition of `path` for resources of `resource_type`.
    ///
    /// Names are compared ignoring ASCII case. A URN prefix selects the core schema
    /// (where the common attributes are also found) or an extension; an
    /// un-prefixed name is looked up in the core schema, then among the common
    /// attributes, then in each extension in order. Returns `None` for an unknown
    /// resource type, schema, attribute or sub-attribute.
    ///
    /// ```
    /// use scimitar_filter::parse_attr_path;
    /// use scimitar_schema::{urn, AttributeType, Registry};
    ///
    /// let registry = Registry::builtin();
    /// let path = parse_attr_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value")?;
    /// let resolved = registry.resolve("Users", &path).unwrap();
    /// assert_eq!(resolved.extension_urn(), Some(urn::ENTERPRISE_USER));
    /// assert_eq!(resolved.leaf().type_, AttributeType::String);
    ///
    /// // Un-prefixed names are found in extensions too, in any case.
    /// let department = registry.resolve("User", &parse_attr_path("DEPARTMENT")?).unwrap();
    /// assert_eq!(department.canonical_path(), format!("{}:department", urn::ENTERPRISE_USER));
    /// # Ok::<(), scimitar_filter::ParseError>(())
    /// ```
    pub fn resolve(&self, resource_type: &str, path: &AttrPath) -> Option<Resolved<'_>> {
        self.schemas_of(resource_type)?.resolve(path)
    }

    /// Filter hints for `resource_type`: which attributes compare case-exactly and
    /// what type each has, taken from the schemas.
    pub fn hints(&self, resource_type: &str) -> Hints<'_> {
        Hints {
            schemas: self.schemas_of(resource_type),
        }
    }
}

/// Checks what serde cannot: an id, unique attribute names, and sub-attributes
/// only one level deep under complex attributes (RFC 7643 §2.3.8).
fn check_schema(schema: &Schema) -> Result<(), RegistryError> {
    let invalid = |problem: String| RegistryError::InvalidSchema {
        id: schema.id.clone(),
        problem,
    };
    if schema.id.trim().is_empty() {
        return Err(invalid("the schema has no id".into()));
    }
    check_names(&schema.attributes).map_err(&invalid)?;
    for attribute in &schema.attributes {
        if !attribute.is_complex() && !attribute.sub_attributes.is_empty() {
            return Err(invalid(format!(
                "attribute `{}` has sub-attributes but is not complex",
                attribute.name
            )));
        }
        check_names(&attribute.sub_attributes)
            .map_err(|problem| invalid(format!("in `{}`: {problem}", attribute.name)))?;
        if let Some(nested) = attribute
            .sub_attributes
            .iter()
            .find(|sub| sub.is_complex() || !sub.sub_attributes.is_empty())
        {
            return Err(invalid(format!(
                "sub-attribute `{}.{}` is complex; complex attributes cannot nest",
                attribute.name, nested.name
            )));
        }
    }
    Ok(())
}

fn check_names(attributes: &[Attribute]) -> Result<(), String> {
    for (index, attribute) in attributes.iter().enumerate() {
        if attribute.name.is_empty() {
            return Err("an attribute has an empty name".into());
        }
        if attributes
            .iter()
            .skip(index + 1)
            .any(|other| other.name.eq_ignore_ascii_case(&attribute.name))
        {
            return Err(format!("attribute `{}` is defined twice", attribute.name));
        }
    }
    Ok(())
}

/// A resource type with its schemas looked up, from [`Registry::schemas_of`].
#[derive(Debug, Clone)]
pub struct ResourceSchemas<'a> {
    /// The resource type.
    pub resource_type: &'a ResourceType,
    /// Its core schema.
    pub core: &'a Schema,
    /// Its extension schemas, each with whether it is required.
    pub extensions: Vec<(&'a Schema, bool)>,
    /// The common attributes (`id`, `externalId`, `meta`).
    pub common: &'a [Attribute],
}

impl<'a> ResourceSchemas<'a> {
    /// The extension schema with URN `urn`, ignoring case.
    pub fn extension(&self, urn: &str) -> Option<&'a Schema> {
        self.extensions
            .iter()
            .map(|(schema, _)| *schema)
            .find(|schema| schema.id.eq_ignore_ascii_case(urn))
    }

    /// A top-level key of a resource: a core or common attribute name (ignoring
    /// case) gives the attribute.
    pub fn top_level(&self, name: &str) -> Option<(Origin<'a>, &'a Attribute)> {
        self.core
            .attribute(name)
            .map(|attribute| (Origin::Core(self.core), attribute))
            .or_else(|| find_attribute(self.common, name).map(|a| (Origin::Common, a)))
    }

    /// See [`Registry::resolve`].
    pub fn resolve(&self, path: &AttrPath) -> Option<Resolved<'a>> {
        // Accept a path whose URN was left in the name by a hand-built AttrPath.
        let (schema, name) = match (&path.schema, path.name.rfind(':')) {
            (None, Some(colon)) => (path.name.get(..colon), path.name.get(colon + 1..)?),
            _ => (path.schema.as_deref(), path.name.as_str()),
        };
        let (origin, attribute) = match schema {
            Some(urn) if urn.eq_ignore_ascii_case(&self.core.id) => self.top_level(name)?,
            Some(urn) => {
                let extension = self.extension(urn)?;
                (Origin::Extension(extension), extension.attribute(name)?)
            }
            None => self.top_level(name).or_else(|| {
                self.extensions.iter().find_map(|(extension, _)| {
                    extension
                        .attribute(name)
                        .map(|attribute| (Origin::Extension(extension), attribute))
                })
            })?,
        };
        let sub_attribute = match &path.sub_attr {
            Some(sub) => Some(attribute.sub_attribute(sub)?),
            None => None,
        };
        Some(Resolved {
            origin,
            attribute,
            sub_attribute,
        })
    }
}

/// Where a resolved attribute is defined.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Origin<'a> {
    /// A common attribute (`id`, `externalId`, `meta`): a top-level key of the resource.
    Common,
    /// The resource type's core schema: a top-level key of the resource.
    Core(&'a Schema),
    /// An extension schema: a key inside the object keyed by the extension's URN.
    Extension(&'a Schema),
}

/// An attribute path resolved against a resource type's schemas.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resolved<'a> {
    /// Which schema defines the attribute.
    pub origin: Origin<'a>,
    /// The top-level attribute.
    pub attribute: &'a Attribute,
    /// The sub-attribute, when the path names one.
    pub sub_attribute: Option<&'a Attribute>,
}

impl<'a> Resolved<'a> {
    /// The attribute the path ends at: the sub-attribute if any, else the attribute.
    pub fn leaf(&self) -> &'a Attribute {
        self.sub_attribute.unwrap_or(self.attribute)
    }

    /// The extension URN when the attribute lives in an extension (its data is
    /// under that key in the resource), `None` for core and common attributes.
    pub fn extension_urn(&self) -> Option<&'a str> {
        match self.origin {
            Origin::Extension(schema) => Some(&schema.id),
            Origin::Common | Origin::Core(_) => None,
        }
    }

    /// The path in the canonical spelling of the schema, URN-qualified for an
    /// extension attribute, e.g. `name.givenName` or
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`.
    pub fn canonical_path(&self) -> String {
        let mut path = match self.extension_urn() {
            Some(urn) => format!("{urn}:{}", self.attribute.name),
            None => self.attribute.name.clone(),
        };
        if let Some(sub) = self.sub_attribute {
            path.push('.');
            path.push_str(&sub.name);
        }
        path
    }
}

/// Filter hints for one resource type, from [`Registry::hints`]: how a filter
/// evaluator or SQL translator should compare each attribute.
#[derive(Debug, Clone)]
pub struct Hints<'a> {
    schemas: Option<ResourceSchemas<'a>>,
}

impl Hints<'_> {
    /// The schema type of `path`, or `None` when it is unknown.
    pub fn attribute_type(&self, path: &AttrPath) -> Option<AttributeType> {
        self.resolve(path).map(|resolved| resolved.leaf().type_)
    }

    fn resolve(&self, path: &AttrPath) -> Option<Resolved<'_>> {
        self.schemas.as_ref()?.resolve(path)
    }
}

impl AttributeHints for Hints<'_> {
    /// Whether `path` compares case-exactly (`false` for unknown attributes, the
    /// RFC default).
    fn case_exact(&self, path: &AttrPath) -> bool {
        self.resolve(path)
            .is_some_and(|resolved| resolved.leaf().case_exact)
    }

    fn attr_type(&self, path: &AttrPath) -> Option<AttrType> {
        self.attribute_type(path).map(AttrType::from)
    }
}

impl From<AttributeType> for AttrType {
    fn from(type_: AttributeType) -> Self {
        match type_ {
            AttributeType::String => AttrType::String,
            AttributeType::Boolean => AttrType::Boolean,
            AttributeType::Decimal => AttrType::Decimal,
            AttributeType::Integer => AttrType::Integer,
            AttributeType::DateTime => AttrType::DateTime,
            AttributeType::Binary => AttrType::Binary,
            AttributeType::Reference => AttrType::Reference,
            AttributeType::Complex => AttrType::Complex,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::urn;

    fn path(text: &str) -> AttrPath {
        let (schema, rest) = match text.rfind(':') {
            Some(colon) => (Some(text[..colon].to_string()), &text[colon + 1..]),
            None => (None, text),
        };
        let mut parts = rest.splitn(2, '.');
        AttrPath {
            schema,
            name: parts.next().unwrap().to_string(),
            sub_attr: parts.next().map(str::to_string),
        }
    }

    #[test]
    fn registry_is_send_sync_and_cheap_to_clone() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Registry>();
        let registry = Registry::builtin();
        let clone = registry.clone();
        assert!(Arc::ptr_eq(&registry.inner, &clone.inner));
    }

    #[test]
    fn resource_types_by_name_or_endpoint_ignoring_case() {
        let registry = Registry::builtin();
        for name in ["User", "user", "/Users", "users", "/USERS"] {
            assert_eq!(registry.resource_type(name).unwrap().name, "User", "{name}");
        }
        assert_eq!(registry.resource_type("groups").unwrap().name, "Group");
        assert!(registry.resource_type("Devices").is_none());
        assert_eq!(registry.resource_types().len(), 2);
        assert_eq!(registry.schemas().len(), 3);
    }

    #[test]
    fn resolve_table() {
        let registry = Registry::builtin();
        // (resource type, path, expected canonical path, expected extension)
        let cases = [
            ("User", "userName", "userName", None),
            ("User", "USERNAME", "userName", None),
            ("User", "name.givenname", "name.givenName", None),
            ("User", "emails.value", "emails.value", None),
            ("User", "id", "id", None),
            ("User", "meta.lastModified", "meta.lastModified", None),
            ("User", "externalId", "externalId", None),
            (
                "User",
                "urn:ietf:params:scim:schemas:core:2.0:User:userName",
                "userName",
                None,
            ),
            (
                "User",
                "URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:id",
                "id",
                None,
            ),
            (
                "User",
                "department",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
                Some(urn::ENTERPRISE_USER),
            ),
            (
                "User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:manager.value",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
                Some(urn::ENTERPRISE_USER),
            ),
            ("Group", "members.value", "members.value", None),
            ("Group", "members.display", "members.display", None),
        ];
        for (resource_type, text, canonical, extension) in cases {
            let resolved = registry
                .resolve(resource_type, &path(text))
                .unwrap_or_else(|| panic!("{text} should resolve"));
            assert_eq!(resolved.canonical_path(), canonical, "{text}");
            assert_eq!(resolved.extension_urn(), extension, "{text}");
        }
    }

    #[test]
    fn resolve_misses() {
        let registry = Registry::builtin();
        for (resource_type, text) in [
            ("User", "nope"),
            ("User", "name.nope"),
            ("Group", "userName"),
            (
                "Group",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            ),
            ("User", "urn:example:other:department"),
            ("Device", "id"),
        ] {
            assert!(
                registry.resolve(resource_type, &path(text)).is_none(),
                "{text}"
            );
        }
    }

    #[test]
    fn hand_built_path_with_urn_in_name_resolves() {
        let registry = Registry::builtin();
        let path = AttrPath::new(format!("{}:employeeNumber", urn::ENTERPRISE_USER));
        let resolved = registry.resolve("User", &path).unwrap();
        assert_eq!(resolved.attribute.name, "employeeNumber");
    }

    #[test]
    fn loaded_schema_overrides_builtin() {
        let mut registry = Registry::builtin();
        let ids = registry
            .load_schema_json(
                r#"{"id": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                    "attributes": [{"name": "costCenter", "type": "dateTime"}]}"#,
            )
            .unwrap();
        assert_eq!(ids, [urn::ENTERPRISE_USER]);
        let resolved = registry.resolve("User", &path("costCenter")).unwrap();
        assert_eq!(resolved.leaf().type_, AttributeType::DateTime);
        assert_eq!(registry.schemas().len(), 3);
        // The original is untouched.
        let builtin = Registry::builtin();
        let original = builtin.resolve("User", &path("costCenter")).unwrap();
        assert_eq!(original.leaf().type_, AttributeType::String);
    }

    #[test]
    fn invalid_schemas_are_rejected_whole() {
        let mut registry = Registry::new();
        let cases = [
            ("not json", "not valid"),
            (r#"{"id": "", "attributes": []}"#, "no id"),
            (
                r#"{"id": "urn:x", "attributes": [{"name": "a", "type": "string"}, {"name": "A", "type": "string"}]}"#,
                "defined twice",
            ),
            (
                r#"{"id": "urn:x", "attributes": [{"name": "c", "type": "complex", "subAttributes": [{"name": "d", "type": "complex"}]}]}"#,
                "cannot nest",
            ),
            (
                r#"{"id": "urn:x", "attributes": [{"name": "s", "type": "string", "subAttributes": [{"name": "d", "type": "string"}]}]}"#,
                "not complex",
            ),
            (
                r#"[{"id": "urn:ok", "attributes": []}, {"id": "urn:x", "attributes": [{"name": "t", "type": "text"}]}]"#,
                "not valid",
            ),
        ];
        for (json, message) in cases {
            let error = registry.load_schema_json(json).unwrap_err();
            assert!(error.to_string().contains(message), "{json}: {error}");
        }
        assert!(registry.schemas().is_empty());
    }

    #[test]
    fn resource_type_needs_registered_schemas() {
        let mut registry = Registry::new();
        let error = registry
            .add_resource_type(builtin::group_resource_type())
            .unwrap_err();
        assert!(matches!(error, RegistryError::UnknownSchema { .. }));
        registry.add_schema(builtin::group()).unwrap();
        registry
            .add_resource_type(builtin::group_resource_type())
            .unwrap();
        assert!(registry.resource_type("/Groups").is_some());
    }

    #[test]
    fn hints_drive_the_filter_evaluator() {
        let registry = Registry::builtin();
        let user = serde_json::json!({"id": "AbC", "userName": "BJensen", "active": true});
        let hints = registry.hints("User");
        let matches = |text: &str| {
            scimitar_filter::parse_filter(text)
                .unwrap()
                .matches(&user, &hints)
        };
        assert!(
            matches(r#"userName eq "bjensen""#),
            "userName is caseExact=false"
        );
        assert!(!matches(r#"id eq "abc""#), "id is caseExact=true");
        assert!(matches(r#"id eq "AbC""#));
    }

    #[test]
    fn hints_follow_the_schema() {
        let registry = Registry::builtin();
        let hints = registry.hints("User");
        assert!(hints.case_exact(&path("id")));
        assert!(hints.case_exact(&path("externalId")));
        assert!(!hints.case_exact(&path("userName")));
        assert!(!hints.case_exact(&path("unknown")));
        assert_eq!(
            hints.attr_type(&path("meta.created")),
            Some(AttrType::DateTime)
        );
        assert_eq!(
            hints.attribute_type(&path("active")),
            Some(AttributeType::Boolean)
        );
        assert_eq!(hints.attribute_type(&path("nope")), None);
        assert_eq!(registry.hints("Nope").attribute_type(&path("id")), None);
    }
}
