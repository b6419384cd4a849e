//! Output shaping: `attributes`, `excludedAttributes` and `returned`, one table row
//! per rule.

use scimitar_filter::parse_attr_path;
use scimitar_schema::{urn, Attribute, Projection, Registry, Returned};
use serde_json::{json, Value};

const ENTERPRISE_USER: &str = include_str!("fixtures/rfc7643_8_3_enterprise_user.json");
const GROUP: &str = include_str!("fixtures/rfc7643_8_4_group.json");

fn fixture(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn without(mut value: Value, keys: &[&str]) -> Value {
    for key in keys {
        value.as_object_mut().unwrap().remove(*key);
    }
    value
}

/// What every projection of the enterprise user keeps.
fn always(extra: Value) -> Value {
    let mut value = json!({
        "schemas": [urn::USER, urn::ENTERPRISE_USER],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "meta": {"resourceType": "User"}
    });
    value
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    value
}

#[test]
fn projection_table() {
    let registry = Registry::builtin();
    let user = fixture(ENTERPRISE_USER);
    let enterprise = user[urn::ENTERPRISE_USER].clone();
    let full = without(user.clone(), &["password"]);
    // (attributes, excludedAttributes, expected)
    let cases: Vec<(Option<&str>, Option<&str>, Value)> = vec![
        (None, None, full.clone()),
        (Some(""), Some(" "), full.clone()),
        (
            Some("userName"),
            None,
            always(json!({"userName": "bjensen@example.com"})),
        ),
        (
            Some("USERNAME"),
            None,
            always(json!({"userName": "bjensen@example.com"})),
        ),
        (
            Some("urn:ietf:params:scim:schemas:core:2.0:User:userName"),
            None,
            always(json!({"userName": "bjensen@example.com"})),
        ),
        (
            Some("name.givenName"),
            None,
            always(json!({"name": {"givenName": "Barbara"}})),
        ),
        (
            Some("Name.GIVENNAME,nickName"),
            None,
            always(json!({"name": {"givenName": "Barbara"}, "nickName": "Babs"})),
        ),
        (
            Some("emails.value"),
            None,
            always(
                json!({"emails": [{"value": "bjensen@example.com"}, {"value": "babs@jensen.org"}]}),
            ),
        ),
        (
            Some("emails"),
            None,
            always(json!({"emails": user["emails"].clone()})),
        ),
        (Some("password"), None, always(json!({}))),
        (Some("noSuchAttribute"), None, always(json!({}))),
        (
            Some("id,meta"),
            None,
            always(json!({"meta": user["meta"].clone()})),
        ),
        (
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"),
            None,
            always(json!({(urn::ENTERPRISE_USER): {"manager": enterprise["manager"].clone()}})),
        ),
        (
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"),
            None,
            always(
                json!({(urn::ENTERPRISE_USER): {"manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}}}),
            ),
        ),
        (
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"),
            None,
            always(json!({(urn::ENTERPRISE_USER): enterprise.clone()})),
        ),
        (
            Some("department"),
            None,
            always(json!({(urn::ENTERPRISE_USER): {"department": "Tour Operations"}})),
        ),
        (
            None,
            Some("emails,name"),
            without(full.clone(), &["emails", "name"]),
        ),
        (None, Some("id,schemas"), full.clone()),
        (None, Some("password"), full.clone()),
        (None, Some("meta"), {
            let mut expected = full.clone();
            expected["meta"] = json!({"resourceType": "User"});
            expected
        }),
        (None, Some("name.familyName"), {
            let mut expected = full.clone();
            expected["name"]
                .as_object_mut()
                .unwrap()
                .remove("familyName");
            expected
        }),
        (
            None,
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"),
            without(full.clone(), &[urn::ENTERPRISE_USER]),
        ),
        (
            None,
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager,costCenter"),
            {
                let mut expected = full.clone();
                let data = expected[urn::ENTERPRISE_USER].as_object_mut().unwrap();
                data.remove("manager");
                data.remove("costCenter");
                expected
            },
        ),
        // Both lists: the requested set, minus the excluded.
        (
            Some("name"),
            Some("name.middleName"),
            always(json!({"name": {
                "formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen", "givenName": "Barbara",
                "honorificPrefix": "Ms.", "honorificSuffix": "III"
            }})),
        ),
    ];
    for (attributes, excluded, expected) in cases {
        let projection = Projection::parse(attributes, excluded)
            .unwrap_or_else(|error| panic!("{attributes:?} {excluded:?}: {error}"));
        let shaped = registry.project("User", &user, &projection);
        assert_eq!(
            shaped, expected,
            "attributes={attributes:?} excludedAttributes={excluded:?}"
        );
    }
}

#[test]
fn group_without_members() {
    let registry = Registry::builtin();
    let group = fixture(GROUP);
    let projection = Projection::parse(None, Some("members")).unwrap();
    assert_eq!(
        registry.project("Groups", &group, &projection),
        without(group.clone(), &["members"])
    );
    let projection = Projection::parse(Some("members.display"), None).unwrap();
    let shaped = registry.project("Group", &group, &projection);
    assert_eq!(
        shaped["members"],
        json!([{"display": "Babs Jensen"}, {"display": "Mandy Pepperidge"}])
    );
}

#[test]
fn needs_attribute_table() {
    let registry = Registry::builtin();
    // (resource type, attributes, excludedAttributes, attribute asked about, needed?)
    let cases = [
        ("Group", None, None, "members", true),
        ("Group", None, Some("members"), "members", false),
        ("Group", None, Some("members"), "displayName", true),
        ("Group", Some("displayName"), None, "members", false),
        ("Group", Some("members.value"), None, "members", true),
        (
            "Group",
            Some("members.value"),
            None,
            "members.display",
            false,
        ),
        ("Group", None, Some("members.value"), "members", true),
        ("Group", Some("displayName"), None, "id", true),
        ("Group", Some("displayName"), None, "meta", true),
        ("Group", Some("displayName"), None, "meta.created", false),
        ("User", None, None, "password", false),
        ("User", Some("password"), None, "password", false),
        ("User", Some("userName"), None, "emails", false),
        (
            "User",
            Some("department"),
            None,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            true,
        ),
        (
            "User",
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"),
            None,
            "manager",
            true,
        ),
        (
            "User",
            None,
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"),
            "manager",
            false,
        ),
        ("User", None, None, "someCustomThing", true),
        ("Device", Some("x"), None, "y", true),
    ];
    for (resource_type, attributes, excluded, path, needed) in cases {
        let projection = Projection::parse(attributes, excluded).unwrap();
        let path = parse_attr_path(path).unwrap();
        assert_eq!(
            projection.needs_attribute(&registry, resource_type, &path),
            needed,
            "{resource_type} attributes={attributes:?} excludedAttributes={excluded:?}: {path:?}"
        );
    }
}

#[test]
fn ill_formed_lists_are_errors() {
    assert!(Projection::parse(Some("emails[type eq \"work\"]"), None).is_err());
    assert!(Projection::parse(None, Some("name..givenName")).is_err());
    assert!(Projection::parse(None, None).unwrap().is_default());
}

#[test]
fn unknown_resource_types_and_non_objects_pass_through() {
    let registry = Registry::builtin();
    let projection = Projection::parse(Some("userName"), None).unwrap();
    let value = json!({"userName": "x", "other": 1});
    assert_eq!(registry.project("Device", &value, &projection), value);
    assert_eq!(
        registry.project("User", &json!([1]), &projection),
        json!([1])
    );
}

/// The builtin registry with attributes of every `returned` kind where the RFC
/// has none: `nickName`, `name.middleName` and `emails.type` are request-only,
/// `phoneNumbers` always with a request-only `type` (always wins), Enterprise `costCenter` request-only and
/// `manager.displayName` never.
fn registry_with_request_only_attributes() -> Registry {
    let mut registry = Registry::builtin();
    let mut user = registry.schema(urn::USER).unwrap().clone();
    let set_sub = |attribute: &mut Attribute, name: &str, returned: Returned| {
        let sub = attribute.sub_attributes.iter_mut().find(|s| s.name == name);
        sub.unwrap().returned = returned;
    };
    user.attribute_mut("nickName").unwrap().returned = Returned::Request;
    set_sub(
        user.attribute_mut("name").unwrap(),
        "middleName",
        Returned::Request,
    );
    set_sub(
        user.attribute_mut("emails").unwrap(),
        "type",
        Returned::Request,
    );
    let phones = user.attribute_mut("phoneNumbers").unwrap();
    phones.returned = Returned::Always;
    set_sub(phones, "type", Returned::Request);
    registry.add_schema(user).unwrap();
    let mut enterprise = registry.schema(urn::ENTERPRISE_USER).unwrap().clone();
    enterprise.attribute_mut("costCenter").unwrap().returned = Returned::Request;
    set_sub(
        enterprise.attribute_mut("manager").unwrap(),
        "displayName",
        Returned::Never,
    );
    registry.add_schema(enterprise).unwrap();
    registry
}

#[test]
fn the_default_fast_path_matches_the_general_path_byte_for_byte() {
    let examples = [
        (
            "User",
            fixture(include_str!("fixtures/rfc7643_8_1_minimal_user.json")),
        ),
        (
            "User",
            fixture(include_str!("fixtures/rfc7643_8_2_full_user.json")),
        ),
        ("User", fixture(ENTERPRISE_USER)),
        ("Group", fixture(GROUP)),
        (
            "User",
            json!({
                "schemas": [urn::USER, urn::ENTERPRISE_USER],
                "password": "t1meMa$heen",
                "NICKNAME": "Babs",
                "unknownAttribute": {"a": 1},
                "emptyObject": {},
                "emptyList": [],
                "emails": [{"type": "work"}, "loose", {"value": "b@example.com", "TYPE": "work"}],
                "phoneNumbers": [{}],
                urn::ENTERPRISE_USER: {"costCenter": "4130", "manager": {"displayName": "John"}},
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user": "not an object"
            }),
        ),
    ];
    // A projection that excludes nothing, but not the default one: the general path.
    let general = Projection::parse(None, Some("noSuchAttribute")).unwrap();
    let registries = [Registry::builtin(), registry_with_request_only_attributes()];
    for registry in &registries {
        for (resource_type, example) in &examples {
            let fast = registry.project(resource_type, example, &Projection::default());
            let owned =
                registry.project_owned(resource_type, example.clone(), &Projection::default());
            let slow = registry.project(resource_type, example, &general);
            let fast_text = serde_json::to_string(&fast).unwrap();
            assert_eq!(
                fast_text,
                serde_json::to_string(&slow).unwrap(),
                "{example}"
            );
            assert_eq!(fast_text, serde_json::to_string(&owned).unwrap());
            assert!(fast.get("password").is_none());
        }
    }
    // The modified registry really drops what is request-only or never returned.
    let shaped = registries[1].project("User", &fixture(ENTERPRISE_USER), &Projection::default());
    assert!(shaped.get("nickName").is_none());
    assert!(shaped["name"].get("middleName").is_none());
    assert!(shaped["emails"][0].get("type").is_none());
    assert!(shaped["emails"][0].get("value").is_some());
    assert!(shaped["phoneNumbers"][0].get("type").is_some());
    let enterprise = &shaped[urn::ENTERPRISE_USER];
    assert!(enterprise.get("costCenter").is_none());
    assert!(enterprise["manager"].get("displayName").is_none());
    assert!(enterprise["manager"].get("value").is_some());
}
