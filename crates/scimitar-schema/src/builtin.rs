//! The schemas and resource types RFC 7643 defines.
//!
//! The JSON under `src/schemas/` is the schema representation of RFC 7643 §8.7.1
//! (User, Group, Enterprise User) and §8.7.2 (ServiceProviderConfig, ResourceType,
//! Schema), attribute for attribute and characteristic for characteristic.
//! [`user`], [`group`] and [`enterprise_user`] return those documents as parsed;
//! [`crate::Registry::builtin`] then applies [`rfc_errata`], the few sub-attributes
//! the RFC's own examples use but its schema representation forgot.

use crate::model::{
    Attribute, AttributeType, Mutability, ResourceType, Returned, Schema, SchemaExtension,
    Uniqueness,
};
use crate::urn;

/// RFC 7643 §8.7.1 User schema, as JSON.
pub const USER_JSON: &str = include_str!("schemas/user.json");
/// RFC 7643 §8.7.1 Group schema, as JSON.
pub const GROUP_JSON: &str = include_str!("schemas/group.json");
/// RFC 7643 §8.7.1 Enterprise User schema, as JSON.
pub const ENTERPRISE_USER_JSON: &str = include_str!("schemas/enterprise_user.json");
/// RFC 7643 §8.7.2 ServiceProviderConfig schema, as JSON.
pub const SERVICE_PROVIDER_CONFIG_JSON: &str = include_str!("schemas/service_provider_config.json");
/// RFC 7643 §8.7.2 ResourceType schema, as JSON.
pub const RESOURCE_TYPE_JSON: &str = include_str!("schemas/resource_type.json");
/// RFC 7643 §8.7.2 Schema schema, as JSON.
pub const SCHEMA_JSON: &str = include_str!("schemas/schema.json");

fn parse(json: &str) -> Schema {
    // The documents are compiled in and parsed by this module's tests, so a
    // failure here is a build defect, not bad input.
    serde_json::from_str(json).expect("built-in schema JSON is valid (see builtin tests)")
}

/// The User schema of RFC 7643 §8.7.1.
pub fn user() -> Schema {
    parse(USER_JSON)
}

/// The Group schema of RFC 7643 §8.7.1.
pub fn group() -> Schema {
    parse(GROUP_JSON)
}

/// The Enterprise User extension schema of RFC 7643 §8.7.1.
pub fn enterprise_user() -> Schema {
    parse(ENTERPRISE_USER_JSON)
}

/// The ServiceProviderConfig schema of RFC 7643 §8.7.2.
pub fn service_provider_config() -> Schema {
    parse(SERVICE_PROVIDER_CONFIG_JSON)
}

/// The ResourceType schema of RFC 7643 §8.7.2.
pub fn resource_type() -> Schema {
    parse(RESOURCE_TYPE_JSON)
}

/// The Schema schema of RFC 7643 §8.7.2.
pub fn schema() -> Schema {
    parse(SCHEMA_JSON)
}

/// The `User` resource type at `/Users`, with the Enterprise User extension
/// optional.
pub fn user_resource_type() -> ResourceType {
    ResourceType {
        id: Some("User".into()),
        name: "User".into(),
        endpoint: "/Users".into(),
        description: Some("User Account".into()),
        schema: urn::USER.into(),
        schema_extensions: vec![SchemaExtension {
            schema: urn::ENTERPRISE_USER.into(),
            required: false,
        }],
    }
}

/// The `Group` resource type at `/Groups`.
pub fn group_resource_type() -> ResourceType {
    ResourceType {
        id: Some("Group".into()),
        name: "Group".into(),
        endpoint: "/Groups".into(),
        description: Some("Group".into()),
        schema: urn::GROUP.into(),
        schema_extensions: Vec::new(),
    }
}

/// Adds the sub-attributes that RFC 7643's examples and prose use but its §8.7.1
/// schema representation omits, so that the RFC's own examples validate:
///
/// - `addresses.primary`: §4.1.2 lists `primary` for every multi-valued attribute and
///   the §8.2 full user example sends it on an address.
/// - `members.display`: the §8.4 group example and RFC 7644 examples send it, and Okta
///   sends `{value, display}` when pushing members.
/// - Group `displayName` is required, as §4.2 says (the §8.7.1 representation
///   disagrees).
///
/// Applying it twice changes nothing.
pub fn rfc_errata(schema: &mut Schema) {
    if schema.id.eq_ignore_ascii_case(urn::USER) {
        if let Some(addresses) = schema.attribute_mut("addresses") {
            add_sub_attribute(
                addresses,
                described(
                    Attribute::new("primary", AttributeType::Boolean),
                    "A Boolean value indicating the 'primary' or preferred attribute value for \
                     this attribute, e.g., the preferred mailing address.  The primary attribute \
                     value 'true' MUST appear no more than once.",
                ),
            );
        }
    } else if schema.id.eq_ignore_ascii_case(urn::GROUP) {
        // §4.2 calls `displayName` REQUIRED; the §8.7.1 representation says
        // `"required": false`. Every identity provider sends one.
        if let Some(display_name) = schema.attribute_mut("displayName") {
            display_name.required = true;
        }
        if let Some(members) = schema.attribute_mut("members") {
            let mut display = described(
                Attribute::new("display", AttributeType::String),
                "A human-readable name, primarily used for display purposes.",
            );
            display.mutability = Mutability::Immutable;
            add_sub_attribute(members, display);
        }
    }
}

fn described(mut attribute: Attribute, description: &str) -> Attribute {
    attribute.description = Some(description.into());
    attribute
}

fn add_sub_attribute(parent: &mut Attribute, sub: Attribute) {
    if parent.sub_attribute(&sub.name).is_none() {
        parent.sub_attributes.push(sub);
    }
}

/// The common attributes of every resource (RFC 7643 §3.1): `id`, `externalId` and
/// `meta`. They belong to no schema; the registry resolves them for every resource
/// type.
pub fn common_attributes() -> Vec<Attribute> {
    let string = |name: &str, case_exact: bool, mutability: Mutability| {
        let mut attribute = Attribute::new(name, AttributeType::String);
        attribute.case_exact = case_exact;
        attribute.mutability = mutability;
        attribute
    };
    let mut id = string("id", true, Mutability::ReadOnly);
    id.returned = Returned::Always;
    id.uniqueness = Uniqueness::Server;
    id.description =
        Some("A unique identifier for a SCIM resource as defined by the service provider.".into());

    let mut external_id = string("externalId", true, Mutability::ReadWrite);
    external_id.description = Some(
        "A String that is an identifier for the resource as defined by the provisioning client."
            .into(),
    );

    let mut resource_type = string("resourceType", true, Mutability::ReadOnly);
    // Always returned so that a client can tell what it got even under a projection.
    resource_type.returned = Returned::Always;
    let mut created = Attribute::new("created", AttributeType::DateTime);
    created.mutability = Mutability::ReadOnly;
    let mut last_modified = Attribute::new("lastModified", AttributeType::DateTime);
    last_modified.mutability = Mutability::ReadOnly;
    let mut location = Attribute::new("location", AttributeType::Reference);
    location.mutability = Mutability::ReadOnly;
    location.reference_types = vec!["uri".into()];
    let version = string("version", true, Mutability::ReadOnly);

    let mut meta = Attribute::new("meta", AttributeType::Complex);
    meta.mutability = Mutability::ReadOnly;
    meta.description = Some("A complex attribute containing resource metadata.".into());
    meta.sub_attributes = vec![resource_type, created, last_modified, location, version];

    vec![id, external_id, meta]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const ALL: [&str; 6] = [
        USER_JSON,
        GROUP_JSON,
        ENTERPRISE_USER_JSON,
        SERVICE_PROVIDER_CONFIG_JSON,
        RESOURCE_TYPE_JSON,
        SCHEMA_JSON,
    ];

    /// Writes out every characteristic the RFC leaves at its default, so that a
    /// document compares equal to its parsed-and-printed form.
    fn with_defaults(value: &mut Value) {
        if let Value::Object(object) = value {
            if object.contains_key("type") && object.contains_key("name") {
                for (key, default) in [
                    ("multiValued", Value::Bool(false)),
                    ("required", Value::Bool(false)),
                    ("caseExact", Value::Bool(false)),
                    ("mutability", Value::from("readWrite")),
                    ("returned", Value::from("default")),
                    ("uniqueness", Value::from("none")),
                ] {
                    object.entry(key).or_insert(default);
                }
                if object.get("type").and_then(Value::as_str) == Some("complex") {
                    object
                        .entry("subAttributes")
                        .or_insert(Value::Array(vec![]));
                }
                if object.get("canonicalValues") == Some(&Value::Array(vec![])) {
                    object.remove("canonicalValues");
                }
            }
            object.remove("meta");
            object.values_mut().for_each(with_defaults);
        } else if let Value::Array(items) = value {
            items.iter_mut().for_each(with_defaults);
        }
    }

    #[test]
    fn every_document_parses_and_prints_back_every_characteristic() {
        for json in ALL {
            let original: Value = serde_json::from_str(json).unwrap();
            let schema: Schema = serde_json::from_value(original.clone()).unwrap();
            let mut expected = original;
            with_defaults(&mut expected);
            assert_eq!(
                serde_json::to_value(&schema).unwrap(),
                expected,
                "{}",
                schema.id
            );
        }
    }

    #[test]
    fn ids_are_the_rfc_urns() {
        assert_eq!(user().id, urn::USER);
        assert_eq!(group().id, urn::GROUP);
        assert_eq!(enterprise_user().id, urn::ENTERPRISE_USER);
        assert_eq!(service_provider_config().id, urn::SERVICE_PROVIDER_CONFIG);
        assert_eq!(resource_type().id, urn::RESOURCE_TYPE);
        assert_eq!(schema().id, urn::SCHEMA);
    }

    #[test]
    fn user_schema_has_every_rfc_attribute() {
        let names: Vec<String> = user().attributes.into_iter().map(|a| a.name).collect();
        assert_eq!(
            names,
            [
                "userName",
                "name",
                "displayName",
                "nickName",
                "profileUrl",
                "title",
                "userType",
                "preferredLanguage",
                "locale",
                "timezone",
                "active",
                "password",
                "emails",
                "phoneNumbers",
                "ims",
                "photos",
                "addresses",
                "groups",
                "entitlements",
                "roles",
                "x509Certificates"
            ]
        );
    }

    #[test]
    fn key_characteristics_match_the_rfc() {
        let user = user();
        let user_name = user.attribute("userName").unwrap();
        assert!(user_name.required);
        assert_eq!(user_name.uniqueness, Uniqueness::Server);
        let password = user.attribute("password").unwrap();
        assert_eq!(password.mutability, Mutability::WriteOnly);
        assert_eq!(password.returned, Returned::Never);
        assert_eq!(
            user.attribute("groups").unwrap().mutability,
            Mutability::ReadOnly
        );
        let group = group();
        let member_value = group
            .attribute("members")
            .unwrap()
            .sub_attribute("value")
            .unwrap();
        assert_eq!(member_value.mutability, Mutability::Immutable);
        let enterprise = enterprise_user();
        let manager = enterprise.attribute("manager").unwrap();
        assert_eq!(
            manager.sub_attribute("displayName").unwrap().mutability,
            Mutability::ReadOnly
        );
    }

    #[test]
    fn errata_add_only_the_missing_sub_attributes_once() {
        let mut user = user();
        rfc_errata(&mut user);
        rfc_errata(&mut user);
        let addresses = user.attribute("addresses").unwrap();
        assert_eq!(addresses.sub_attributes.len(), 8);
        assert_eq!(
            addresses.sub_attribute("primary").unwrap().type_,
            AttributeType::Boolean
        );
        let mut group = group();
        rfc_errata(&mut group);
        assert!(group
            .attribute("members")
            .unwrap()
            .sub_attribute("display")
            .is_some());
    }
}
