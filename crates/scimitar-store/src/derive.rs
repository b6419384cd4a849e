//! What stores derive from user attributes: Enterprise managers and department
//! teams, spelled once so that every store reads and writes them alike.
//!
//! - A user's manager is the Enterprise `manager.value`: the id of another user of
//!   the tenant ([`manager_id`]). The store stores only the id, checks it on every
//!   write, and fills `manager.displayName` from the manager at read time
//!   ([`set_manager_display_name`]).
//! - Under [`TeamMode::Department`], a user belongs to the team [`team_of`] names;
//!   a team is a Group with the id [`team_id`] and the body [`team_body`].
//!
//! ```
//! use scimitar_store::derive::{manager_id, team_of};
//! use scimitar_store::TeamMode;
//! use serde_json::json;
//!
//! let user = json!({
//!     "userName": "bjensen",
//!     "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
//!         "organization": "Contoso", "department": "Sales", "manager": {"value": "26118915"}
//!     }
//! });
//! assert_eq!(manager_id(&user), Some("26118915"));
//! let mode = TeamMode::Department { separator: " / ".into() };
//! assert_eq!(team_of(&mode, &user).as_deref(), Some("Contoso / Sales"));
//! ```

use scimitar_schema::{Registry, Returned, Schema};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::settings::TeamMode;

use scimitar_schema::urn::{ENTERPRISE_USER, GROUP as GROUP_SCHEMA};

fn enterprise(user: &Value) -> Option<&Map<String, Value>> {
    user.get(ENTERPRISE_USER)?.as_object()
}

fn enterprise_text<'a>(user: &'a Value, name: &str) -> Option<&'a str> {
    enterprise(user)?.get(name)?.as_str()
}

/// The id of a user's manager (a validated user body: the Enterprise extension
/// spelled as the schema spells it); `None` without one or with an empty id.
pub fn manager_id(user: &Value) -> Option<&str> {
    enterprise(user)?
        .get("manager")?
        .get("value")?
        .as_str()
        .filter(|id| !id.is_empty())
}

/// Drops an Enterprise `manager` that names no one (`{"value": ""}`, `{}`): sending
/// it on create or replace clears the manager, as `""` does in a PATCH (Entra ID).
pub fn drop_unassigned_manager(user: &mut Value) {
    let Some(Value::Object(extension)) = user.get_mut(ENTERPRISE_USER) else {
        return;
    };
    let unassigned = extension
        .get("manager")
        .is_some_and(|manager| manager_id_of_object(manager).is_none());
    if unassigned {
        extension.remove("manager");
    }
}

fn manager_id_of_object(manager: &Value) -> Option<&str> {
    manager.get("value")?.as_str().filter(|id| !id.is_empty())
}

/// Removes a user's manager; false if it had none.
pub fn clear_manager(user: &mut Value) -> bool {
    match user.get_mut(ENTERPRISE_USER) {
        Some(Value::Object(extension)) => extension.remove("manager").is_some(),
        _ => false,
    }
}

/// Sets `manager.displayName` of a user being returned to its manager's current
/// `displayName` (or removes a stale one when the manager has none).
pub fn set_manager_display_name(user: &mut Value, display_name: Option<&str>) {
    let Some(Value::Object(manager)) = user
        .get_mut(ENTERPRISE_USER)
        .and_then(|extension| extension.get_mut("manager"))
    else {
        return;
    };
    match display_name {
        Some(name) => {
            manager.insert("displayName".into(), name.into());
        }
        None => {
            manager.remove("displayName");
        }
    }
}

/// Whether a user is active: `active` is not `false` (RFC 7643 leaves a missing
/// `active` undefined; Scimitar reads it as active, as the events do).
pub fn is_active(user: &Value) -> bool {
    user.get("active").and_then(Value::as_bool) != Some(false)
}

/// The team a user belongs to under `mode`: for an active user with an Enterprise
/// `department`, see [`TeamMode::team_name`]; `None` otherwise.
pub fn team_of(mode: &TeamMode, user: &Value) -> Option<String> {
    if !is_active(user) {
        return None;
    }
    mode.team_name(
        enterprise_text(user, "organization"),
        enterprise_text(user, "department"),
    )
}

/// The id of the derived team called `name` in `tenant`: a name-based UUID
/// (version 8 with SHA-256, as in RFC 9562 Appendix B.2) of the name with its case
/// folded ([`meta::fold_case`](crate::meta::fold_case)), so a team keeps its id
/// across rebuilds and stores, and `Ops` and `ops` are one team, as
/// `displayName eq "ops"` finds either.
pub fn team_id(tenant: &str, name: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(TEAM_NAMESPACE);
    hasher.update(tenant.as_bytes());
    // The separator keeps (`ab`, `c`) and (`a`, `bc`) apart.
    hasher.update([0]);
    hasher.update(crate::meta::fold_case(name).as_bytes());
    let digest = hasher.finalize();
    // A SHA-256 digest has 32 bytes; the UUID takes the first 16.
    let bytes: [u8; 16] = digest.first_chunk().copied().unwrap_or_default();
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// Scopes team ids to Scimitar: a random UUID, fixed forever.
const TEAM_NAMESPACE: [u8; 16] = [
    0x5c, 0x1e, 0x7a, 0x0b, 0x2d, 0x4f, 0x4e, 0x8a, 0x9b, 0x31, 0x66, 0x0d, 0xe2, 0x57, 0xa4, 0x19,
];

/// What a group shows as a member's `display` when none was sent (rule 16): the
/// member's `displayName`, or for a user without one its `userName`; empty when
/// it has neither.
///
/// ```
/// use scimitar_store::derive::member_display;
/// use serde_json::json;
///
/// assert_eq!(member_display(&json!({"userName": "bjensen", "displayName": "Babs"})), "Babs");
/// assert_eq!(member_display(&json!({"userName": "bjensen", "displayName": " "})), "bjensen");
/// ```
pub fn member_display(member: &Value) -> String {
    let text = |name: &str| {
        member
            .get(name)
            .and_then(Value::as_str)
            .filter(|text| !text.trim().is_empty())
    };
    text("displayName")
        .or_else(|| text("userName"))
        .unwrap_or_default()
        .to_owned()
}

/// The stored body of the derived team called `name`.
pub fn team_body(name: &str) -> Value {
    json!({ "schemas": [GROUP_SCHEMA], "displayName": name })
}

/// Whether a stored resource of `resource_type` has every attribute of `body` with
/// the same value: what makes a create a retry of an earlier one (rule 10).
///
/// `id` and `meta` are left out, and so are the attributes `registry` says are
/// never returned (`password`), at the top level and inside extensions: the server
/// replaces a password by a hash with a fresh salt on every request, so a retry
/// never carries the value the store holds.
pub fn has_all_attributes_of(
    registry: &Registry,
    resource_type: &str,
    stored: &Value,
    body: &Value,
) -> bool {
    let (Some(stored), Some(body)) = (stored.as_object(), body.as_object()) else {
        return false;
    };
    let schemas = registry.schemas_of(resource_type);
    let schemas = schemas.as_ref();
    body.iter()
        .filter(|(name, _)| !crate::meta::is_store_owned(name))
        .all(|(name, value)| {
            if let Some(extension) = schemas.and_then(|schemas| schemas.extension(name)) {
                let returned = |value: Option<&Value>| value.map(|v| returned_part(extension, v));
                return returned(stored.get(name)) == returned(Some(value));
            }
            let never_returned = schemas
                .and_then(|schemas| schemas.top_level(name))
                .is_some_and(|(_, attribute)| attribute.returned == Returned::Never);
            never_returned || stored.get(name) == Some(value)
        })
}

/// An extension's attributes without those `extension` never returns.
fn returned_part(extension: &Schema, attributes: &Value) -> Value {
    match attributes {
        Value::Object(attributes) => Value::Object(
            attributes
                .iter()
                .filter(|(name, _)| {
                    extension
                        .attribute(name)
                        .is_none_or(|attribute| attribute.returned != Returned::Never)
                })
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managers_are_read_set_and_cleared() {
        let mut user = json!({ENTERPRISE_USER: {"manager": {"value": "m1"}, "department": "x"}});
        assert_eq!(manager_id(&user), Some("m1"));
        set_manager_display_name(&mut user, Some("Boss"));
        assert_eq!(
            user[ENTERPRISE_USER]["manager"],
            json!({"value": "m1", "displayName": "Boss"})
        );
        set_manager_display_name(&mut user, None);
        assert_eq!(user[ENTERPRISE_USER]["manager"], json!({"value": "m1"}));
        assert!(clear_manager(&mut user) && !clear_manager(&mut user));
        assert_eq!(user, json!({ENTERPRISE_USER: {"department": "x"}}));

        for unassigned in [json!({"value": ""}), json!({})] {
            let mut user = json!({ENTERPRISE_USER: {"manager": unassigned}});
            assert_eq!(manager_id(&user), None);
            drop_unassigned_manager(&mut user);
            assert_eq!(user, json!({ENTERPRISE_USER: {}}));
        }
    }

    #[test]
    fn only_active_users_with_a_department_have_a_team() {
        let mode = TeamMode::Department {
            separator: " / ".into(),
        };
        let sales = json!({ENTERPRISE_USER: {"department": "Sales"}});
        assert_eq!(team_of(&mode, &sales).as_deref(), Some("Sales"));
        let mut inactive = sales.clone();
        inactive["active"] = json!(false);
        assert_eq!(team_of(&mode, &inactive), None);
        assert_eq!(team_of(&mode, &json!({"userName": "x"})), None);
        assert_eq!(team_of(&TeamMode::Groups, &sales), None);
    }

    #[test]
    fn team_ids_are_stable_uuids_per_tenant_and_name_ignoring_case() {
        let id = team_id("acme", "Sales");
        assert_eq!(id, team_id("acme", "Sales"));
        assert_eq!(id, team_id("acme", "SALES"), "Sales and SALES are one team");
        assert_ne!(id, team_id("acme", "Sales2"));
        assert_ne!(id, team_id("globex", "Sales"));
        assert_ne!(team_id("ab", "c"), team_id("a", "bc"));
        let parsed = uuid::Uuid::parse_str(&id).ok();
        assert_eq!(parsed.map(|uuid| uuid.get_version_num()), Some(8));
    }

    #[test]
    fn retries_match_on_every_attribute_sent() {
        let registry = Registry::builtin();
        let matches =
            |stored: &Value, body: Value| has_all_attributes_of(&registry, "User", stored, &body);
        let stored = json!({"id": "1", "userName": "a", "externalId": "x", "meta": {}});
        assert!(matches(
            &stored,
            json!({"userName": "a", "externalId": "x"})
        ));
        assert!(!matches(
            &stored,
            json!({"userName": "a", "externalId": "y"})
        ));
        assert!(!matches(&stored, json!({"userName": "a", "title": "t"})));
    }

    #[test]
    fn retries_ignore_attributes_never_returned() {
        let registry = Registry::builtin();
        let stored = json!({"userName": "a", "password": "hash-1"});
        let retry = json!({"userName": "a", "password": "hash-2"});
        assert!(has_all_attributes_of(&registry, "User", &stored, &retry));
        // Without the schema the password is an ordinary attribute.
        assert!(!has_all_attributes_of(
            &registry, "Unknown", &stored, &retry
        ));
    }

    #[test]
    fn retries_ignore_extension_attributes_never_returned() {
        let mut registry = Registry::builtin();
        let secret = r#"{"id": "urn:example:secret", "name": "Secret", "attributes": [
            {"name": "pin", "type": "string", "returned": "never"},
            {"name": "badge", "type": "string"}]}"#;
        assert!(registry.load_schema_json(secret).is_ok());
        let mut user = registry.resource_type("User").cloned();
        if let Some(user) = &mut user {
            user.schema_extensions
                .push(scimitar_schema::SchemaExtension {
                    schema: "urn:example:secret".into(),
                    required: false,
                });
        }
        assert!(user.is_some_and(|user| registry.add_resource_type(user).is_ok()));

        let extended = |pin: &str, badge: &str| json!({"userName": "a", "urn:example:secret": {"pin": pin, "badge": badge}});
        let matches =
            |stored: &Value, body: &Value| has_all_attributes_of(&registry, "User", stored, body);
        let stored = extended("1", "b");
        assert!(matches(&stored, &extended("2", "b")));
        assert!(!matches(&stored, &extended("1", "c")));
        assert!(!matches(
            &stored,
            &json!({"urn:example:secret": {"badge": "b", "x": 1}})
        ));
    }
}
