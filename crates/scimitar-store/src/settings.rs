//! The settings a store reads: the directory part of
//! [`Tenant::settings`](crate::Tenant::settings).
//!
//! [`TenantStore`](crate::TenantStore) keeps settings as a JSON object (the storage
//! format, so that a server can add keys without a migration); [`TenantSettings`]
//! is what the keys a store acts on mean: the identity-provider policy, team and
//! deletion modes, schema overrides and the create-retry window. A store reads them
//! from [`Scope::settings`](crate::Scope::settings). Keys of the product around it
//! (the bundled server's webhooks, rate limit and JWT keys) are kept as they are
//! in [`TenantSettings::other`].
//!
//! ```
//! use scimitar_store::{DeletionMode, Registry, TeamMode, TenantSettings};
//! use serde_json::json;
//!
//! let settings = TenantSettings::from_value(&json!({
//!     "teams": {"mode": "department"},
//!     "deletion": "archive",
//!     "rateLimit": {"perSecond": 20, "burst": 40}
//! }))?;
//! assert_eq!(settings.teams, TeamMode::Department { separator: " / ".into() });
//! assert_eq!(settings.deletion, DeletionMode::Archive);
//! // Keys this view does not interpret survive a round trip.
//! assert_eq!(settings.to_value()["rateLimit"]["burst"], 40);
//! let registry = settings.registry(&Registry::builtin())?;
//! assert!(registry.resource_type("Users").is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::LazyLock;

use scimitar_schema::{RegistryError, Schema, SchemaExtension};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::schema::{Policy, Registry};

/// What a tenant's settings object means.
///
/// Every field is optional in JSON (camelCase keys); a missing field takes its
/// default, and `null` settings are all defaults. Keys it does not know are kept in
/// [`TenantSettings::other`], so reading and writing back loses nothing.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TenantSettings {
    /// The identity-provider policy of this tenant, over the server's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<Policy>,
    /// How teams (SCIM Groups) are made.
    pub teams: TeamMode,
    /// What `DELETE /Users/{id}` does.
    pub deletion: DeletionMode,
    /// RFC 7643 §7 schema documents over the server's schemas: one with the id of an
    /// existing schema overrides the attributes it defines (e.g. Enterprise
    /// `costCenter` retyped `dateTime`); a new one becomes an optional extension of
    /// a resource type (see [`TenantSettings::registry`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub schema_overrides: Vec<Value>,
    /// How long after a create the same client may repeat it and get the resource
    /// it made (201) instead of 409; 0, the default, turns replays off. For
    /// identity providers that retry a create after a timeout (Entra ID waits
    /// 60 s); see [`Store`](crate::Store) rule 10 for what a replay must match.
    #[serde(skip_serializing_if = "is_zero")]
    pub create_retry_window_seconds: u32,
    /// Keys this view does not interpret, as stored: the product's own (a server's
    /// webhooks, say), or a newer version's. Reading and writing back keeps them.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// How a tenant's teams, served as SCIM Groups, come about.
///
/// JSON: `{"mode": "groups"}` or `{"mode": "department", "separator": " / "}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum TeamMode {
    /// Teams are the Groups the identity provider pushes (RFC 7644 as written).
    #[default]
    Groups,
    /// Teams are derived from each active user's Enterprise `department`, prefixed
    /// by its `organization` when it has one (`Contoso / Sales`). Derived teams are
    /// read-only over SCIM; see [`DirectoryStore::rebuild_teams`](crate::DirectoryStore::rebuild_teams).
    Department {
        /// What joins organization and department in a team's name.
        #[serde(default = "default_separator")]
        separator: String,
    },
}

/// A trimmed value, `None` when empty.
fn present(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|text| !text.is_empty())
}

fn is_zero(seconds: &u32) -> bool {
    *seconds == 0
}

fn default_separator() -> String {
    " / ".to_owned()
}

impl TeamMode {
    /// The team a user belongs to in this mode, from its Enterprise `organization`
    /// and `department` (trimmed; empty counts as missing). `None` in
    /// [`TeamMode::Groups`] mode, and for a user without a department.
    pub fn team_name(
        &self,
        organization: Option<&str>,
        department: Option<&str>,
    ) -> Option<String> {
        let TeamMode::Department { separator } = self else {
            return None;
        };
        let department = present(department)?;
        Some(match present(organization) {
            Some(organization) => format!("{organization}{separator}{department}"),
            None => department.to_owned(),
        })
    }

    /// Whether Groups are derived (and so read-only over SCIM).
    pub fn is_derived(&self) -> bool {
        matches!(self, TeamMode::Department { .. })
    }
}

/// What deleting a user does. JSON: `"delete"` or `"archive"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeletionMode {
    /// The user is removed for good; a later create with its `userName` makes a new
    /// account.
    #[default]
    Delete,
    /// The user is kept for audit, invisible to every SCIM read, its `userName`
    /// free for reuse; [`DirectoryStore::archived`](crate::DirectoryStore::archived) lists it.
    Archive,
}

/// Tenant settings that do not read as [`TenantSettings`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// A key has a value of the wrong shape (`"teams": {"mode": "divisions"}`).
    #[error("tenant settings are not valid: {0}")]
    Invalid(#[from] serde_json::Error),
    /// A field with a value that is not allowed.
    #[error("`{field}`: {message}")]
    Field {
        /// Where, e.g. `teams.separator`.
        field: String,
        /// What is wrong, for a human.
        message: String,
    },
}

/// The longest create-retry window allowed, in seconds.
pub const MAX_CREATE_RETRY_WINDOW: u32 = 3600;

/// A [`SettingsError::Field`].
pub fn field(field: impl Into<String>, message: impl Into<String>) -> SettingsError {
    SettingsError::Field {
        field: field.into(),
        message: message.into(),
    }
}

static DEFAULT: LazyLock<TenantSettings> = LazyLock::new(TenantSettings::default);

impl TenantSettings {
    /// The default settings, borrowed for as long as needed (what
    /// [`Scope::new`](crate::Scope::new) uses).
    pub fn default_ref() -> &'static TenantSettings {
        &DEFAULT
    }

    /// Reads a tenant's settings object; `null` reads as the defaults.
    ///
    /// # Errors
    /// [`SettingsError::Invalid`] when a known key has a value of the wrong shape.
    pub fn from_value(value: &Value) -> Result<Self, SettingsError> {
        match value {
            Value::Null => Ok(TenantSettings::default()),
            other => Ok(TenantSettings::deserialize(other)?),
        }
    }

    /// The keys this view reads; any other is kept in [`TenantSettings::other`].
    pub const KEYS: [&'static str; 5] = [
        "policy",
        "teams",
        "deletion",
        "schemaOverrides",
        "createRetryWindowSeconds",
    ];

    /// Checks values a shape cannot: a team separator that is not empty and a
    /// retry window of at most [`MAX_CREATE_RETRY_WINDOW`].
    ///
    /// # Errors
    /// [`SettingsError::Field`] naming the first field that is wrong.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if let TeamMode::Department { separator } = &self.teams {
            if separator.is_empty() {
                return Err(field("teams.separator", "must not be empty (e.g. \" / \")"));
            }
        }
        if self.create_retry_window_seconds > MAX_CREATE_RETRY_WINDOW {
            return Err(field(
                "createRetryWindowSeconds",
                format!(
                    "must be at most {MAX_CREATE_RETRY_WINDOW} (Entra ID needs a little over 60)"
                ),
            ));
        }
        Ok(())
    }

    /// The settings object to store, with the keys kept in [`TenantSettings::other`].
    pub fn to_value(&self) -> Value {
        // Serializing plain data into a `Value` cannot fail; an empty object would
        // be the harmless answer if it ever did.
        serde_json::to_value(self).unwrap_or_else(|_| Value::Object(Map::new()))
    }

    /// The tenant's registry: `base` with [`TenantSettings::schema_overrides`]
    /// applied in order.
    ///
    /// A document whose `id` names a schema of `base` overrides it attribute by
    /// attribute: each attribute it defines replaces the one of the same name (or is
    /// added), the others stay, so retyping one attribute takes a one-attribute
    /// document. Any other document is a new extension: it is added as an optional extension of the
    /// resource type its id ends with (`urn:example:...:acme:2.0:User` extends
    /// `User`, as Enterprise User's URN does). Building a registry costs a copy of
    /// the schemas it changes, so build it once per tenant and keep it.
    ///
    /// # Errors
    /// [`RegistryError::Json`] when a document is not a schema,
    /// [`RegistryError::InvalidSchema`] when it is malformed or a new schema's id
    /// does not end with a resource type's name.
    pub fn registry(&self, base: &Registry) -> Result<Registry, RegistryError> {
        let mut registry = base.clone();
        for document in &self.schema_overrides {
            let schema: Schema = serde_json::from_value(document.clone())?;
            match registry.schema(&schema.id).cloned() {
                Some(existing) => registry.add_schema(merged(existing, schema))?,
                None => {
                    let mut extended = extended_resource_type(&registry, &schema.id)?;
                    extended.schema_extensions.push(SchemaExtension {
                        schema: schema.id.clone(),
                        required: false,
                    });
                    registry.add_schema(schema)?;
                    registry.add_resource_type(extended)?;
                }
            }
        }
        Ok(registry)
    }
}

/// `existing` with the attributes of `update` in place of those of the same name
/// (and its name and description, if it has them).
fn merged(mut existing: Schema, update: Schema) -> Schema {
    for attribute in update.attributes {
        match existing
            .attributes
            .iter_mut()
            .find(|old| old.name.eq_ignore_ascii_case(&attribute.name))
        {
            Some(old) => *old = attribute,
            None => existing.attributes.push(attribute),
        }
    }
    existing.name = update.name.or(existing.name);
    existing.description = update.description.or(existing.description);
    existing
}

/// The resource type a new extension schema extends: the one named by the last
/// segment of its URN.
fn extended_resource_type(
    registry: &Registry,
    urn: &str,
) -> Result<scimitar_schema::ResourceType, RegistryError> {
    let name = urn.rsplit(':').next().unwrap_or_default();
    registry
        .resource_types()
        .iter()
        .find(|resource_type| resource_type.name.eq_ignore_ascii_case(name))
        .cloned()
        .ok_or_else(|| RegistryError::InvalidSchema {
            id: urn.to_owned(),
            problem: "a new schema's id must end with the name of the resource type it \
                      extends (e.g. `...:2.0:User`)"
                .to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_and_null_settings_are_the_defaults() {
        for value in [json!({}), Value::Null] {
            let settings = TenantSettings::from_value(&value).ok();
            assert_eq!(settings, Some(TenantSettings::default()));
        }
        assert_eq!(
            TenantSettings::default().to_value(),
            json!({
                "teams": {"mode": "groups"},
                "deletion": "delete"
            })
        );
    }

    #[test]
    fn every_key_reads_and_round_trips() {
        let value = json!({
            "policy": {"unknown_attributes": "reject"},
            "teams": {"mode": "department", "separator": " - "},
            "deletion": "archive",
            "schemaOverrides": [{"id": "urn:x:User", "attributes": []}],
            "createRetryWindowSeconds": 90,
            "webhooks": [{"id": "audit", "url": "https://example.com/hook", "secret": "k"}]
        });
        let settings = TenantSettings::from_value(&value).unwrap_or_default();
        assert_eq!(
            settings.policy.as_ref().map(|p| p.coerce_string_booleans),
            Some(true)
        );
        assert_eq!(
            settings
                .teams
                .team_name(Some("Contoso"), Some("Sales"))
                .as_deref(),
            Some("Contoso - Sales")
        );
        assert_eq!(settings.deletion, DeletionMode::Archive);
        assert_eq!(settings.create_retry_window_seconds, 90);
        let back = settings.to_value();
        assert_eq!(
            back["webhooks"], value["webhooks"],
            "a key of the server's is kept"
        );
        assert_eq!(back["schemaOverrides"], value["schemaOverrides"]);
        assert_eq!(TenantSettings::from_value(&back).ok(), Some(settings));
    }

    #[test]
    fn wrong_shapes_are_errors() {
        for value in [
            json!({"teams": {"mode": "divisions"}}),
            json!({"deletion": "shred"}),
            json!({"createRetryWindowSeconds": -1}),
            json!({"policy": {"no_such_field": true}}),
            json!([1]),
        ] {
            assert!(TenantSettings::from_value(&value).is_err(), "{value}");
        }
    }

    #[test]
    fn team_names_join_organization_and_department() {
        let mode = TeamMode::Department {
            separator: " / ".into(),
        };
        assert_eq!(
            mode.team_name(Some(" Contoso "), Some("Sales")).as_deref(),
            Some("Contoso / Sales")
        );
        assert_eq!(
            mode.team_name(Some(""), Some("Sales")).as_deref(),
            Some("Sales")
        );
        assert_eq!(mode.team_name(Some("Contoso"), Some("  ")), None);
        assert_eq!(mode.team_name(Some("Contoso"), None), None);
        assert_eq!(TeamMode::Groups.team_name(None, Some("Sales")), None);
    }

    #[test]
    fn values_a_shape_allows_are_validated() {
        for (settings, field) in [
            (
                json!({"teams": {"mode": "department", "separator": ""}}),
                "`teams.separator`",
            ),
            (
                json!({"createRetryWindowSeconds": 90000}),
                "`createRetryWindowSeconds`",
            ),
        ] {
            let settings = TenantSettings::from_value(&settings).unwrap_or_default();
            let message = settings.validate().map_err(|e| e.to_string()).unwrap_err();
            assert!(message.starts_with(field), "{message}");
        }
        assert!(TenantSettings::default().validate().is_ok());
    }

    #[test]
    fn overrides_replace_schemas_and_add_extensions() {
        let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        let acme = "urn:example:params:scim:schemas:extension:acme:2.0:User";
        let settings = TenantSettings {
            schema_overrides: vec![
                json!({"id": enterprise, "name": "EnterpriseUser", "attributes": [
                    {"name": "costCenter", "type": "dateTime", "multiValued": false}
                ]}),
                json!({"id": acme, "name": "Acme", "attributes": [
                    {"name": "badgeNumber", "type": "integer", "multiValued": false}
                ]}),
            ],
            ..TenantSettings::default()
        };
        let registry = settings.registry(&Registry::builtin());
        let registry = registry.unwrap_or_else(|error| panic!("{error}"));
        let hints = registry.hints("User");
        let path = |text: &str| scimitar_filter::parse_attr_path(text).ok();
        let type_of = |text: &str| path(text).and_then(|p| hints.attribute_type(&p));
        assert_eq!(
            type_of(&format!("{enterprise}:costCenter")),
            Some(scimitar_schema::AttributeType::DateTime)
        );
        assert_eq!(
            type_of(&format!("{enterprise}:manager.value")),
            Some(scimitar_schema::AttributeType::String),
            "the attributes an override leaves out stay"
        );
        assert_eq!(
            type_of(&format!("{acme}:badgeNumber")),
            Some(scimitar_schema::AttributeType::Integer)
        );
        let extends = registry
            .resource_type("User")
            .is_some_and(|user| user.extension(acme).is_some());
        assert!(extends);

        let orphan = TenantSettings {
            schema_overrides: vec![json!({"id": "urn:example:Widget", "attributes": []})],
            ..TenantSettings::default()
        };
        assert!(matches!(
            orphan.registry(&Registry::builtin()),
            Err(RegistryError::InvalidSchema { .. })
        ));
    }
}
