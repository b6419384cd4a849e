//! The built-in schema documents have exactly the attribute tree RFC 7643 §8.7
//! gives them, including the RFC's own quirks (kept as published; the errata
//! the registry applies live in code, not in the documents).

use scimitar_schema::builtin;
use scimitar_schema::{Attribute, Mutability, Schema};

/// Each attribute as `name` or `name(sub1,sub2,...)`, in document order.
fn tree(attributes: &[Attribute]) -> Vec<String> {
    attributes
        .iter()
        .map(|attribute| {
            if attribute.sub_attributes.is_empty() {
                attribute.name.clone()
            } else {
                let subs: Vec<String> = tree(&attribute.sub_attributes);
                format!("{}({})", attribute.name, subs.join(","))
            }
        })
        .collect()
}

fn parsed(json: &str) -> Schema {
    serde_json::from_str(json).expect("built-in schema parses")
}

#[test]
fn user_has_the_rfc_8_7_1_attribute_tree() {
    assert_eq!(
        tree(&parsed(builtin::USER_JSON).attributes),
        [
            "userName",
            "name(formatted,familyName,givenName,middleName,honorificPrefix,honorificSuffix)",
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
            "emails(value,display,type,primary)",
            "phoneNumbers(value,display,type,primary)",
            "ims(value,display,type,primary)",
            "photos(value,display,type,primary)",
            // No `primary`: the RFC omits it here (the registry adds it as an erratum).
            "addresses(formatted,streetAddress,locality,region,postalCode,country,type)",
            "groups(value,$ref,display,type)",
            "entitlements(value,display,type,primary)",
            "roles(value,display,type,primary)",
            "x509Certificates(value,display,type,primary)",
        ]
    );
}

#[test]
fn group_and_enterprise_user_have_the_rfc_8_7_1_attribute_trees() {
    // No `members.display`: the RFC omits it (the registry adds it as an erratum).
    assert_eq!(
        tree(&parsed(builtin::GROUP_JSON).attributes),
        ["displayName", "members(value,$ref,type)"]
    );
    assert_eq!(
        tree(&parsed(builtin::ENTERPRISE_USER_JSON).attributes),
        [
            "employeeNumber",
            "costCenter",
            "organization",
            "division",
            "department",
            "manager(value,$ref,displayName)",
        ]
    );
}

#[test]
fn service_provider_schemas_have_the_rfc_8_7_2_attribute_trees() {
    // The RFC's §8.7.2 representation has no `etag` attribute.
    assert_eq!(
        tree(&parsed(builtin::SERVICE_PROVIDER_CONFIG_JSON).attributes),
        [
            "documentationUri",
            "patch(supported)",
            "bulk(supported,maxOperations,maxPayloadSize)",
            "filter(supported,maxResults)",
            "changePassword(supported)",
            "sort(supported)",
            "authenticationSchemes(name,description,specUri,documentationUri)",
        ]
    );
    assert_eq!(
        tree(&parsed(builtin::RESOURCE_TYPE_JSON).attributes),
        [
            "id",
            "name",
            "description",
            "endpoint",
            "schema",
            "schemaExtensions(schema,required)",
        ]
    );
    let meta_attributes = "name,type,multiValued,description,required,canonicalValues,\
        caseExact,mutability,returned,uniqueness,referenceTypes";
    assert_eq!(
        tree(&parsed(builtin::SCHEMA_JSON).attributes),
        [
            "id".to_owned(),
            "name".to_owned(),
            "description".to_owned(),
            format!("attributes({meta_attributes},subAttributes({meta_attributes}))"),
        ]
    );
}

#[test]
fn rfc_quirks_are_kept_as_published() {
    let group = parsed(builtin::GROUP_JSON);
    let display_name = group.attribute("displayName").expect("displayName");
    assert!(!display_name.required, "RFC 8.7.1 marks it required: false");

    let resource_type = parsed(builtin::RESOURCE_TYPE_JSON);
    let extensions = resource_type
        .attribute("schemaExtensions")
        .expect("schemaExtensions");
    assert!(!extensions.multi_valued && extensions.required);
    assert_eq!(extensions.mutability, Mutability::ReadOnly);

    let schema = parsed(builtin::SCHEMA_JSON);
    let attribute_type = schema
        .attribute("attributes")
        .and_then(|attributes| attributes.sub_attribute("type"))
        .expect("attributes.type");
    assert!(!attribute_type
        .canonical_values
        .contains(&"binary".to_owned()));
}
