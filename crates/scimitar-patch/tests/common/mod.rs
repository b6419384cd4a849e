//! Fixtures and shorthands shared by the integration tests.
#![allow(dead_code)] // each test file uses its own subset

use scimitar_patch::{apply, apply_with, ApplyOptions, PatchError, Patched};
use scimitar_schema::messages::PatchRequest;
use scimitar_schema::{Policy, Registry};
use serde_json::{json, Value};

pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// A PatchOp request of `operations`, read as a client would send it.
pub fn request(operations: Value) -> PatchRequest {
    serde_json::from_value(json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": operations
    }))
    .expect("test request is a valid PatchOp body")
}

/// Applies `operations` under `policy`.
pub fn patch_with(
    policy: &Policy,
    resource_type: &str,
    resource: &Value,
    operations: Value,
) -> Result<Patched, PatchError> {
    let registry = Registry::builtin();
    apply(
        &registry,
        resource_type,
        resource,
        &request(operations),
        policy,
    )
}

/// Applies `operations` under the compatible policy, which must succeed.
pub fn patch(resource_type: &str, resource: &Value, operations: Value) -> Patched {
    patch_with(&Policy::compatible(), resource_type, resource, operations)
        .unwrap_or_else(|error| panic!("PATCH should succeed: {error}"))
}

/// Applies `operations` under the strict policy, which must succeed.
pub fn patch_strict(resource_type: &str, resource: &Value, operations: Value) -> Patched {
    patch_with(&Policy::strict(), resource_type, resource, operations)
        .unwrap_or_else(|error| panic!("PATCH should succeed: {error}"))
}

/// Applies `operations` under `policy`, which must fail; returns the error.
pub fn patch_error(
    policy: &Policy,
    resource_type: &str,
    resource: &Value,
    operations: Value,
) -> PatchError {
    match patch_with(policy, resource_type, resource, operations) {
        Ok(patched) => panic!("PATCH should fail, gave {}", patched.resource),
        Err(error) => error,
    }
}

/// Applies `operations` to a group whose members are stored apart.
pub fn patch_external(group: &Value, operations: Value) -> Result<Patched, PatchError> {
    let registry = Registry::builtin();
    let options = ApplyOptions {
        external_members: true,
    };
    apply_with(
        &registry,
        "Group",
        group,
        &request(operations),
        &Policy::compatible(),
        &options,
    )
}

/// The full user of RFC 7643 §8.2 (Babs Jensen), trimmed of `meta` noise.
pub fn bjensen() -> Value {
    json!({
        "schemas": [USER_URN, ENTERPRISE],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "701984",
        "userName": "bjensen@example.com",
        "name": {
            "formatted": "Ms. Barbara J Jensen, III",
            "familyName": "Jensen",
            "givenName": "Barbara",
            "middleName": "Jane",
            "honorificPrefix": "Ms.",
            "honorificSuffix": "III"
        },
        "displayName": "Babs Jensen",
        "nickName": "Babs",
        "profileUrl": "https://login.example.com/bjensen",
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "addresses": [
            {
                "type": "work",
                "streetAddress": "100 Universal City Plaza",
                "locality": "Hollywood",
                "region": "CA",
                "postalCode": "91608",
                "country": "USA",
                "formatted": "100 Universal City Plaza\nHollywood, CA 91608 USA",
                "primary": true
            },
            {
                "type": "home",
                "streetAddress": "456 Hollywood Blvd",
                "locality": "Hollywood",
                "region": "CA",
                "postalCode": "91608",
                "country": "USA",
                "formatted": "456 Hollywood Blvd\nHollywood, CA 91608 USA"
            }
        ],
        "phoneNumbers": [
            {"value": "555-555-5555", "type": "work"},
            {"value": "555-555-4444", "type": "mobile"}
        ],
        "userType": "Employee",
        "title": "Tour Guide",
        "preferredLanguage": "en-US",
        "locale": "en-US",
        "timezone": "America/Los_Angeles",
        "active": true,
        "groups": [
            {"value": "e9e30dba-f08f-4109-8486-d5c6a331660a", "display": "Tour Guides"}
        ],
        ENTERPRISE: {
            "employeeNumber": "701984",
            "costCenter": "4130",
            "organization": "Universal Studios",
            "division": "Theme Park",
            "department": "Tour Operations",
            "manager": {
                "value": "26118915-6090-4610-87e4-49d8ca9f808d",
                "$ref": "../Users/26118915-6090-4610-87e4-49d8ca9f808d",
                "displayName": "John Smith"
            }
        },
        "meta": {
            "resourceType": "User",
            "created": "2010-01-23T04:56:22Z",
            "lastModified": "2011-05-13T04:42:34Z",
            "version": "W/\"3694e05e9dff591\"",
            "location": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646"
        }
    })
}

/// A user as Entra ID creates one: core and enterprise data, one work email.
pub fn entra_user() -> Value {
    json!({
        "schemas": [USER_URN, ENTERPRISE],
        "id": "48af03ac28ad4fb88478",
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
        "active": true,
        "displayName": "Test User",
        "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b@testuser.com"}],
        "name": {"familyName": "familyName", "givenName": "givenName"},
        ENTERPRISE: {"employeeNumber": "1001", "department": "Sales"}
    })
}

/// A group with two members.
pub fn group() -> Value {
    json!({
        "schemas": [GROUP_URN],
        "id": "acbf3ae7-8463-4692-b4fd-9b4da3f908ce",
        "displayName": "Tour Guides",
        "members": [
            {"value": "2819c223-7f76-453a-919d-413861904646", "display": "Babs Jensen"},
            {"value": "902c246b-6245-4190-8e05-00816be7344a", "display": "Mandy Pepperidge"}
        ]
    })
}

/// The ids of a group's members, in order.
pub fn member_ids(resource: &Value) -> Vec<String> {
    resource["members"]
        .as_array()
        .map(|members| {
            members
                .iter()
                .filter_map(|member| member["value"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
