//! Validation rules, one table row each, with the error each must give.

use scimitar_schema::{
    urn, Mode, Policy, Registry, ResourceType, SchemaExtension, ScimType, UnknownAttributes,
};
use serde_json::{json, Value};

const DEVICE_SCHEMAS: &str = r#"[
  {"id": "urn:example:Device", "name": "Device", "attributes": [
    {"name": "serial", "type": "string", "required": true, "mutability": "immutable", "caseExact": false},
    {"name": "bought", "type": "dateTime"},
    {"name": "ports", "type": "integer"},
    {"name": "weight", "type": "decimal"},
    {"name": "tags", "type": "string", "multiValued": true},
    {"name": "secret", "type": "string", "mutability": "writeOnly", "returned": "never"},
    {"name": "owner", "type": "complex", "subAttributes": [
      {"name": "id", "type": "string", "required": true},
      {"name": "badge", "type": "string", "mutability": "immutable"}
    ]}
  ]},
  {"id": "urn:example:DeviceSite", "attributes": [{"name": "site", "type": "string"}]}
]"#;

fn registry() -> Registry {
    let mut registry = Registry::builtin();
    registry.load_schema_json(DEVICE_SCHEMAS).unwrap();
    registry
        .add_resource_type(ResourceType {
            id: None,
            name: "Device".into(),
            endpoint: "/Devices".into(),
            description: None,
            schema: "urn:example:Device".into(),
            schema_extensions: vec![SchemaExtension {
                schema: "urn:example:DeviceSite".into(),
                required: true,
            }],
        })
        .unwrap();
    registry
}

fn user(extra: Value) -> Value {
    let mut body = json!({"schemas": [urn::USER], "userName": "bjensen"});
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    body
}

fn device(extra: Value) -> Value {
    let mut body = json!({
        "schemas": ["urn:example:Device", "urn:example:DeviceSite"],
        "serial": "SN-1",
        "urn:example:DeviceSite": {"site": "HQ"}
    });
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    body
}

fn wrap_single() -> Policy {
    Policy {
        wrap_single_values: true,
        ..Policy::strict()
    }
}

fn canonical() -> Policy {
    Policy {
        enforce_canonical_values: true,
        ..Policy::strict()
    }
}

fn reject_read_only() -> Policy {
    Policy {
        ignore_read_only_on_write: false,
        ..Policy::strict()
    }
}

#[test]
fn errors_table() {
    let registry = registry();
    let strict = Policy::strict();
    let compatible = Policy::compatible();
    let (canonical, reject_read_only) = (canonical(), reject_read_only());
    let existing_device = device(json!({"secret": "s3", "owner": {"id": "u1", "badge": "B-7"}}));
    let replace = Mode::Replace {
        existing: &existing_device,
    };
    let existing_user = user(json!({}));
    let replace_user = Mode::Replace {
        existing: &existing_user,
    };
    // (resource type, body, mode, policy, scimType, substring of the message)
    let cases: Vec<(&str, Value, Mode, &Policy, ScimType, &str)> = vec![
        ("Nope", user(json!({})), Mode::Create, &strict, ScimType::InvalidValue, "unknown resource type `Nope`"),
        ("User", json!([]), Mode::Create, &strict, ScimType::InvalidSyntax, "must be a JSON object, not an array"),
        ("User", json!({"userName": "x"}), Mode::Create, &strict, ScimType::InvalidSyntax, "`schemas` is missing"),
        ("User", json!({"schemas": urn::USER, "userName": "x"}), Mode::Create, &strict, ScimType::InvalidSyntax, "array of schema URNs"),
        ("User", json!({"schemas": [1], "userName": "x"}), Mode::Create, &strict, ScimType::InvalidSyntax, "array of schema URNs"),
        ("User", json!({"schemas": [urn::ENTERPRISE_USER], "userName": "x"}), Mode::Create, &strict, ScimType::InvalidSyntax, "must list the core schema"),
        ("User", json!({"schemas": [urn::USER, "urn:example:Other"], "userName": "x"}), Mode::Create, &strict, ScimType::InvalidSyntax, "`urn:example:Other`, which is not a schema of resource type User"),
        ("User", json!({"schemas": [urn::USER]}), Mode::Create, &strict, ScimType::InvalidValue, "attribute `userName` is required"),
        ("User", user(json!({"userName": null})), Mode::Create, &strict, ScimType::InvalidValue, "attribute `userName` is required"),
        ("User", user(json!({"userName": ""})), Mode::Create, &compatible, ScimType::InvalidValue, "attribute `userName` is required and must not be empty"),
        ("User", user(json!({"userName": " \t\n"})), Mode::Create, &compatible, ScimType::InvalidValue, "must not be empty or blank"),
        ("User", user(json!({"userName": "  "})), replace_user, &compatible, ScimType::InvalidValue, "attribute `userName` is required and must not be empty"),
        ("Group", json!({"schemas": [urn::GROUP], "displayName": " "}), Mode::Create, &compatible, ScimType::InvalidValue, "attribute `displayName` is required and must not be empty"),
        ("User", user(json!({"userName": 42})), Mode::Create, &strict, ScimType::InvalidValue, "attribute `userName` must be a string, not a number"),
        ("User", user(json!({"active": "False"})), Mode::Create, &strict, ScimType::InvalidValue, "attribute `active` must be true or false, not a string"),
        ("User", user(json!({"active": "maybe"})), Mode::Create, &compatible, ScimType::InvalidValue, "attribute `active` must be true or false"),
        ("User", user(json!({"emails": {"value": "a@b"}})), Mode::Create, &strict, ScimType::InvalidValue, "attribute `emails` is multi-valued"),
        ("User", user(json!({"emails": [[{"value": "a@b"}]]})), Mode::Create, &strict, ScimType::InvalidValue, "attribute `emails` is single-valued"),
        ("User", user(json!({"displayName": ["a"]})), Mode::Create, &strict, ScimType::InvalidValue, "attribute `displayName` is single-valued"),
        ("User", user(json!({"name": "Barbara"})), Mode::Create, &strict, ScimType::InvalidValue, "attribute `name` must be an object, not a string"),
        (
            "User",
            user(json!({"emails": [{"value": "a@b", "primary": true}, {"value": "c@d", "primary": true}]})),
            Mode::Create, &strict, ScimType::InvalidValue, "attribute `emails`: at most one value",
        ),
        (
            "User",
            user(json!({"emails": [{"value": "a@b", "primary": "True"}, {"value": "c@d", "primary": "true"}]})),
            Mode::Create, &compatible, ScimType::InvalidValue, "at most one value",
        ),
        ("User", user(json!({"favoriteColor": "blue"})), Mode::Create, &strict, ScimType::InvalidSyntax, "attribute `favoriteColor` is not defined for resource type User"),
        ("User", user(json!({"name": {"nick": "B"}})), Mode::Create, &strict, ScimType::InvalidSyntax, "attribute `name.nick` is not defined"),
        (
            "User",
            user(json!({"urn:example:Custom:2.0:User": {"tag": "1"}})),
            Mode::Create, &strict, ScimType::InvalidSyntax, "attribute `urn:example:Custom:2.0:User` is not defined",
        ),
        (
            "User",
            user(json!({(urn::ENTERPRISE_USER): {"costCentre": "1"}})),
            Mode::Create, &strict, ScimType::InvalidSyntax,
            "attribute `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCentre` is not defined",
        ),
        (
            "User",
            user(json!({(urn::ENTERPRISE_USER): {"department": "Tours"}})),
            Mode::Create, &strict, ScimType::InvalidSyntax, "has data under `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User` but `schemas` does not list it",
        ),
        (
            "User",
            user(json!({(urn::ENTERPRISE_USER): "Tours"})),
            Mode::Create, &strict, ScimType::InvalidValue, "must be an object of extension attributes, not a string",
        ),
        (
            "User",
            user(json!({(urn::ENTERPRISE_USER): {"manager": "26118915"}, "schemas": [urn::USER, urn::ENTERPRISE_USER]})),
            Mode::Create, &compatible, ScimType::InvalidValue,
            "attribute `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager` must be an object, not a string",
        ),
        ("User", user(json!({"x509Certificates": [{"value": "not base64!"}]})), Mode::Create, &strict, ScimType::InvalidValue, "attribute `x509Certificates.value` must be base64-encoded"),
        ("User", user(json!({"profileUrl": 5})), Mode::Create, &strict, ScimType::InvalidValue, "attribute `profileUrl` must be a reference"),
        ("User", user(json!({"userName": "a", "USERNAME": "b"})), Mode::Create, &strict, ScimType::InvalidSyntax, "attribute `userName` is given twice"),
        ("User", user(json!({"emails": [{"value": "a@b", "type": "mobile"}]})), Mode::Create, &canonical, ScimType::InvalidValue, "attribute `emails.type`: `mobile` is not one of work, home, other"),
        ("User", user(json!({"id": "123"})), Mode::Create, &reject_read_only, ScimType::Mutability, "attribute `id` is read-only"),
        ("User", user(json!({"groups": [{"value": "g"}]})), Mode::Create, &reject_read_only, ScimType::Mutability, "attribute `groups` is read-only"),
        (
            "User",
            user(json!({"schemas": [urn::USER, urn::ENTERPRISE_USER], (urn::ENTERPRISE_USER): {"manager": {"value": "m", "displayName": "Boss"}}})),
            Mode::Create, &reject_read_only, ScimType::Mutability,
            "attribute `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName` is read-only",
        ),
        ("Device", device(json!({"bought": "2024-02-30T00:00:00Z"})), Mode::Create, &strict, ScimType::InvalidValue, "attribute `bought`: `2024-02-30T00:00:00Z` is not a date and time"),
        ("Device", device(json!({"bought": 1700000000})), Mode::Create, &strict, ScimType::InvalidValue, "attribute `bought` must be a dateTime string, not a number"),
        ("Device", device(json!({"ports": 1.5})), Mode::Create, &strict, ScimType::InvalidValue, "attribute `ports` must be an integer, not a number"),
        ("Device", device(json!({"ports": "4"})), Mode::Create, &strict, ScimType::InvalidValue, "attribute `ports` must be an integer, not a string"),
        ("Device", device(json!({"weight": "1.5"})), Mode::Create, &strict, ScimType::InvalidValue, "attribute `weight` must be a number, not a string"),
        ("Device", device(json!({"tags": ["a", 1]})), Mode::Create, &strict, ScimType::InvalidValue, "attribute `tags` must be a string, not a number"),
        ("Device", device(json!({"owner": {"badge": "B-1"}})), Mode::Create, &strict, ScimType::InvalidValue, "attribute `owner.id` is required"),
        (
            "Device",
            json!({"schemas": ["urn:example:Device"], "serial": "SN-1"}),
            Mode::Create, &strict, ScimType::InvalidValue, "the extension `urn:example:DeviceSite` is required for resource type Device",
        ),
        ("Device", device(json!({"serial": "SN-2"})), replace, &strict, ScimType::Mutability, "attribute `serial` is immutable"),
        ("Device", device(json!({"owner": {"id": "u1", "badge": "B-8"}})), replace, &strict, ScimType::Mutability, "attribute `owner.badge` is immutable"),
        ("Device", device(json!({"owner": {"badge": "B-7"}})), Mode::Response, &strict, ScimType::InvalidValue, "attribute `owner.id` is required"),
    ];
    for (resource_type, body, mode, policy, scim_type, message) in cases {
        let error = registry
            .validate(resource_type, &body, mode, policy)
            .expect_err(&format!("{body} should be rejected"));
        assert_eq!(error.scim_type(), scim_type, "{body}: {error}");
        assert_eq!(error.status(), 400);
        assert!(
            error.to_string().contains(message),
            "{body}: `{error}` should contain `{message}`"
        );
        let response = error.to_error_response();
        assert_eq!(response.scim_type, Some(scim_type));
        assert_eq!(response.detail.as_deref(), Some(error.to_string().as_str()));
    }
}

#[test]
fn accepted_table() {
    let registry = registry();
    let strict = Policy::strict();
    let compatible = Policy::compatible();
    let (canonical, wrap_single) = (canonical(), wrap_single());
    let only_serial = json!({"serial": "SN-1"});
    let existing_device = device(json!({"secret": "s3", "owner": {"id": "u1", "badge": "B-7"}}));
    let replace = Mode::Replace {
        existing: &existing_device,
    };
    // (resource type, body, mode, policy, expected cleaned resource)
    let cases: Vec<(&str, Value, Mode, &Policy, Value)> = vec![
        // Names in any case come back in the schema's spelling; values untouched.
        (
            "User",
            json!({"SCHEMAS": ["URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER"], "USERNAME": "BJensen", "Name": {"GIVENNAME": "Barbara"}}),
            Mode::Create,
            &strict,
            json!({"schemas": [urn::USER], "userName": "BJensen", "name": {"givenName": "Barbara"}}),
        ),
        // Read-only attributes a client sends are dropped.
        (
            "User",
            user(json!({"id": "x", "meta": {"resourceType": "User"}, "groups": [{"value": "g"}]})),
            Mode::Create,
            &strict,
            user(json!({})),
        ),
        // null and [] mean unassigned; null elements are skipped.
        (
            "User",
            user(
                json!({"displayName": null, "roles": [], "emails": [null, {"value": "a@b", "display": null}]}),
            ),
            Mode::Create,
            &strict,
            user(json!({"emails": [{"value": "a@b"}]})),
        ),
        // String booleans coerced under the compatible policy (Entra ID).
        (
            "User",
            user(json!({"active": "False", "emails": [{"value": "a@b", "primary": "True"}]})),
            Mode::Create,
            &compatible,
            user(json!({"active": false, "emails": [{"value": "a@b", "primary": true}]})),
        ),
        // A single value wrapped when the policy allows it.
        (
            "User",
            user(json!({"emails": {"value": "a@b"}})),
            Mode::Create,
            &wrap_single,
            user(json!({"emails": [{"value": "a@b"}]})),
        ),
        // Unknown attributes and schema URNs dropped under the compatible policy.
        (
            "User",
            user(
                json!({"schemas": [urn::USER, "urn:example:Other"], "favoriteColor": "blue", "urn:example:Custom:2.0:User": {"tag": "1"}}),
            ),
            Mode::Create,
            &compatible,
            user(json!({})),
        ),
        // A missing extension URN added under the compatible policy.
        (
            "User",
            user(json!({(urn::ENTERPRISE_USER): {"department": "Tours"}})),
            Mode::Create,
            &compatible,
            user(
                json!({"schemas": [urn::USER, urn::ENTERPRISE_USER], (urn::ENTERPRISE_USER): {"department": "Tours"}}),
            ),
        ),
        // An extension URN in any case is stored under the canonical URN.
        (
            "User",
            user(
                json!({"schemas": [urn::USER, urn::ENTERPRISE_USER.to_uppercase()], (urn::ENTERPRISE_USER.to_uppercase()): {"Department": "Tours"}}),
            ),
            Mode::Create,
            &strict,
            user(
                json!({"schemas": [urn::USER, urn::ENTERPRISE_USER], (urn::ENTERPRISE_USER): {"department": "Tours"}}),
            ),
        ),
        // Canonical values are suggestions unless the policy enforces them.
        (
            "User",
            user(json!({"emails": [{"value": "a@b", "type": "mobile"}]})),
            Mode::Create,
            &strict,
            user(json!({"emails": [{"value": "a@b", "type": "mobile"}]})),
        ),
        // Canonical values compare ignoring case for caseExact=false attributes.
        (
            "User",
            user(json!({"emails": [{"value": "a@b", "type": "Work"}]})),
            Mode::Create,
            &canonical,
            user(json!({"emails": [{"value": "a@b", "type": "Work"}]})),
        ),
        // Replace: unchanged immutable values pass (case-insensitively), omitted
        // immutable and never-returned values are kept.
        (
            "Device",
            device(json!({"serial": "sn-1", "owner": {"id": "u2"}})),
            replace,
            &strict,
            device(
                json!({"serial": "sn-1", "owner": {"id": "u2", "badge": "B-7"}, "secret": "s3"}),
            ),
        ),
        (
            "Device",
            json!({"schemas": ["urn:example:Device", "urn:example:DeviceSite"], "urn:example:DeviceSite": {"site": "HQ"}}),
            replace,
            &strict,
            device(json!({"secret": "s3"})),
        ),
        // Immutable may be set while unset.
        (
            "Device",
            device(json!({"owner": {"id": "u1", "badge": "B-1"}})),
            Mode::Replace {
                existing: &only_serial,
            },
            &strict,
            device(json!({"owner": {"id": "u1", "badge": "B-1"}})),
        ),
        // Responses keep read-only attributes.
        (
            "User",
            user(
                json!({"id": "1", "meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z"}}),
            ),
            Mode::Response,
            &strict,
            user(
                json!({"id": "1", "meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z"}}),
            ),
        ),
        // Groups: Okta pushes members with display.
        (
            "Group",
            json!({"schemas": [urn::GROUP], "displayName": "Tour Guides", "members": [{"value": "1", "display": "Babs"}]}),
            Mode::Create,
            &strict,
            json!({"schemas": [urn::GROUP], "displayName": "Tour Guides", "members": [{"value": "1", "display": "Babs"}]}),
        ),
    ];
    for (resource_type, body, mode, policy, expected) in cases {
        let cleaned = registry
            .validate(resource_type, &body, mode, policy)
            .unwrap_or_else(|error| panic!("{body} should pass: {error}"));
        assert_eq!(cleaned, expected, "{body}");
    }
}

#[test]
fn schemas_stays_first_and_key_order_is_kept() {
    let registry = Registry::builtin();
    let body = json!({"userName": "b", "displayName": "B", "schemas": [urn::USER], "active": true});
    let cleaned = registry
        .validate("User", &body, Mode::Create, &Policy::strict())
        .unwrap();
    let keys: Vec<&String> = cleaned.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["schemas", "userName", "displayName", "active"]);
}

#[test]
fn entra_id_create_user_is_accepted_as_sent() {
    // The create body of Microsoft's SCIM tutorial, with enterprise data.
    let body = json!({
        "schemas": [urn::USER, urn::ENTERPRISE_USER],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
        "active": true,
        "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b@testuser.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": [],
        (urn::ENTERPRISE_USER): {"employeeNumber": "701984", "department": "Tour Operations"}
    });
    let cleaned = Registry::builtin()
        .validate("User", &body, Mode::Create, &Policy::compatible())
        .unwrap();
    let mut expected = body.clone();
    let object = expected.as_object_mut().unwrap();
    object.remove("meta");
    object.remove("roles");
    assert_eq!(cleaned, expected);
}

#[test]
fn entra_id_group_create_with_extra_schema_urn() {
    let body = json!({
        "schemas": [urn::GROUP, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        "displayName": "displayName",
        "meta": {"resourceType": "Group"}
    });
    let registry = Registry::builtin();
    let cleaned = registry
        .validate("Group", &body, Mode::Create, &Policy::compatible())
        .unwrap();
    assert_eq!(
        cleaned,
        json!({"schemas": [urn::GROUP], "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", "displayName": "displayName"})
    );
    let error = registry
        .validate("Group", &body, Mode::Create, &Policy::strict())
        .unwrap_err();
    assert_eq!(error.scim_type(), ScimType::InvalidSyntax);
}

#[test]
fn okta_put_with_read_only_attributes_is_accepted() {
    let existing = json!({"schemas": [urn::USER], "id": "23a35c27", "userName": "user@example.com", "password": "hash"});
    let body = json!({
        "schemas": [urn::USER],
        "id": "23a35c27",
        "userName": "user@example.com",
        "name": {"givenName": "John", "familyName": "Smith"},
        "emails": [{"primary": true, "value": "user@example.com", "type": "work"}],
        "locale": "en-US",
        "groups": [],
        "active": false,
        "meta": {"resourceType": "User", "created": "2024-01-01T00:00:00Z"}
    });
    let cleaned = Registry::builtin()
        .validate(
            "User",
            &body,
            Mode::Replace {
                existing: &existing,
            },
            &Policy::compatible(),
        )
        .unwrap();
    assert_eq!(cleaned.get("id"), None);
    assert_eq!(cleaned.get("meta"), None);
    assert_eq!(cleaned["active"], false);
    assert_eq!(cleaned["password"], "hash", "the password is kept on PUT");
}

#[test]
fn unknown_attribute_policy_is_per_attribute_not_per_body() {
    let policy = Policy {
        unknown_attributes: UnknownAttributes::Ignore,
        ..Policy::strict()
    };
    let body = user(json!({"nope": 1, "name": {"nope": 2, "givenName": "B"}}));
    let cleaned = Registry::builtin()
        .validate("User", &body, Mode::Create, &policy)
        .unwrap();
    assert_eq!(cleaned, user(json!({"name": {"givenName": "B"}})));
}
