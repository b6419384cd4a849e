//! A tenant's settings, typed: the interpretation of [`Tenant::settings`](crate::Tenant::settings).
//!
//! [`TenantStore`](crate::TenantStore) keeps settings as a JSON object (the storage
//! format, so that a server can add keys without a migration); [`TenantSettings`]
//! is what that object means. The store reads [`TenantSettings::teams`] and
//! [`TenantSettings::deletion`] from [`Scope::settings`](crate::Scope::settings); the
//! server reads the rest.
//!
//! ```
//! use scimitar_store::{DeletionMode, Registry, TeamMode, TenantSettings};
//! use serde_json::json;
//!
//! let settings = TenantSettings::from_value(&json!({
//!     "teams": {"mode": "department"},
//!     "deletion": "archive",
//!     "rateLimit": {"perSecond": 20, "burst": 40},
//!     "jwt": {"algorithm": "HS256"}
//! }))?;
//! assert_eq!(settings.teams, TeamMode::Department { separator: " / ".into() });
//! assert_eq!(settings.deletion, DeletionMode::Archive);
//! // Keys this view does not interpret survive a round trip.
//! assert_eq!(settings.to_value()["jwt"]["algorithm"], "HS256");
//! let registry = settings.registry(&Registry::builtin())?;
//! assert!(registry.resource_type("Users").is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
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
    /// Where the server delivers this tenant's change events.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub webhooks: Vec<Webhook>,
    /// The tenant's request rate limit; `None` leaves it to the server's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// The server's JWT settings for this tenant (algorithm, key, issuer,
    /// audience), read by the server as it stands; its `secret` is shown as
    /// [`HIDDEN`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt: Option<Value>,
    /// How long after a create the same client may repeat it and get the resource
    /// it made (201) instead of 409; 0, the default, turns replays off. For
    /// identity providers that retry a create after a timeout (Entra ID waits
    /// 60 s); see [`Store`](crate::Store) rule 10 for what a replay must match.
    #[serde(skip_serializing_if = "is_zero")]
    pub create_retry_window_seconds: u32,
    /// Keys this view does not interpret, as stored (a newer server's, read by an
    /// older one). [`TenantSettings::parse`] refuses them in what an admin sends.
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

/// A webhook the server delivers change events to.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    /// The tenant's name for it, unique among its webhooks.
    pub id: String,
    /// Where events are POSTed.
    pub url: String,
    /// The key deliveries are signed with. Write-only: shown as [`HIDDEN`].
    #[serde(default)]
    pub secret: String,
    /// Whether events are delivered.
    #[serde(default = "enabled")]
    pub enabled: bool,
    /// Events of writes made before this instant are not delivered: a webhook added
    /// now starts at the current end of the event log. `None` delivers every event
    /// the outbox still holds (an explicit replay). JSON: an RFC 3339 timestamp.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub since: Option<time::OffsetDateTime>,
}

fn enabled() -> bool {
    true
}

impl fmt::Debug for Webhook {
    // The secret stays out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("secret", &"<redacted>")
            .field("enabled", &self.enabled)
            .field("since", &self.since)
            .finish()
    }
}

/// A token-bucket rate limit. JSON: `{"perSecond": 20, "burst": 40}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    /// Sustained requests per second.
    pub per_second: u32,
    /// Requests allowed at once after a quiet spell.
    pub burst: u32,
}

/// Tenant settings that do not read as [`TenantSettings`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// A key has a value of the wrong shape (`"teams": {"mode": "divisions"}`).
    #[error("tenant settings are not valid: {0}")]
    Invalid(#[from] serde_json::Error),
    /// A key no setting has, often a misspelt one.
    #[error("`{key}` is not a tenant setting; the settings are {}", TenantSettings::KEYS.join(", "))]
    UnknownKey {
        /// The key sent.
        key: String,
    },
    /// A field with a value that is not allowed.
    #[error("`{field}`: {message}")]
    Field {
        /// Where, e.g. `webhooks[0].url` or `teams.mode`.
        field: String,
        /// What is wrong, for a human.
        message: String,
    },
}

/// What a secret (a webhook's, a JWT's HS256 key) is shown as. Settings read back
/// with it in place of a secret keep the stored secret
/// ([`TenantSettings::keep_secrets`]); it is never stored.
pub const HIDDEN: &str = "<hidden>";

/// The longest create-retry window allowed, in seconds.
pub const MAX_CREATE_RETRY_WINDOW: u32 = 3600;

fn field(field: impl Into<String>, message: impl Into<String>) -> SettingsError {
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

    /// The keys a settings object may have.
    pub const KEYS: [&'static str; 8] = [
        "policy",
        "teams",
        "deletion",
        "schemaOverrides",
        "webhooks",
        "rateLimit",
        "createRetryWindowSeconds",
        "jwt",
    ];

    /// Reads settings an administrator sends to replace `previous`, strictly: a
    /// key that is not in [`TenantSettings::KEYS`] is refused (with the list), a
    /// value of the wrong shape is refused naming its field, secrets left out or
    /// [`HIDDEN`] keep their values in `previous`
    /// ([`TenantSettings::keep_secrets`]), and the values are
    /// [validated](TenantSettings::validate).
    ///
    /// ```
    /// use scimitar_store::TenantSettings;
    /// use serde_json::json;
    ///
    /// let before = TenantSettings::default();
    /// let error = TenantSettings::parse(&json!({"deletion": "archive", "team": {}}), &before).unwrap_err();
    /// assert!(error.to_string().contains("`team` is not a tenant setting"), "{error}");
    /// let error = TenantSettings::parse(&json!({"teams": {"mode": "divisions"}}), &before).unwrap_err();
    /// assert!(error.to_string().starts_with("`teams.mode`: unknown variant"), "{error}");
    /// ```
    ///
    /// # Errors
    /// [`SettingsError::UnknownKey`] or [`SettingsError::Field`].
    pub fn parse(value: &Value, previous: &TenantSettings) -> Result<Self, SettingsError> {
        let Value::Object(keys) = value else {
            return Err(field("settings", "must be a JSON object"));
        };
        if let Some(key) = keys.keys().find(|key| !Self::KEYS.contains(&key.as_str())) {
            return Err(SettingsError::UnknownKey { key: key.clone() });
        }
        let mut settings: TenantSettings =
            serde_path_to_error::deserialize(value).map_err(|error| {
                let path = error.path().to_string();
                field(path, error.into_inner().to_string())
            })?;
        settings.keep_secrets(previous)?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks values a shape cannot: a team separator that is not empty, a rate
    /// limit above zero, a retry window of at most an hour, webhooks with distinct
    /// ids, an `http(s)` URL and a secret.
    ///
    /// # Errors
    /// [`SettingsError::Field`] naming the first field that is wrong.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if let TeamMode::Department { separator } = &self.teams {
            if separator.is_empty() {
                return Err(field("teams.separator", "must not be empty (e.g. \" / \")"));
            }
        }
        if let Some(limit) = &self.rate_limit {
            if limit.per_second == 0 || limit.burst == 0 {
                return Err(field(
                    "rateLimit",
                    "perSecond and burst must be at least 1 (leave rateLimit out for the server's limit)",
                ));
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
        for (i, webhook) in self.webhooks.iter().enumerate() {
            let at = |name: &str| format!("webhooks[{i}].{name}");
            if webhook.id.trim().is_empty() {
                return Err(field(at("id"), "must not be empty"));
            }
            if self.webhooks[..i]
                .iter()
                .any(|other| other.id == webhook.id)
            {
                return Err(field(at("id"), format!("`{}` is used twice", webhook.id)));
            }
            let scheme = webhook.url.split_once("://").map(|(scheme, _)| scheme);
            if !matches!(scheme, Some("http" | "https")) || webhook.url.len() <= "https://".len() {
                return Err(field(at("url"), "must be an http:// or https:// URL"));
            }
            if webhook.secret.is_empty() || webhook.secret == HIDDEN {
                return Err(field(at("secret"), "a webhook needs a signing secret"));
            }
        }
        Ok(())
    }

    /// The settings to show an administrator: secrets as [`HIDDEN`].
    pub fn redacted(&self) -> Value {
        let mut value = self.to_value();
        if let Some(Value::Array(webhooks)) = value.get_mut("webhooks") {
            for webhook in webhooks.iter_mut().filter_map(Value::as_object_mut) {
                webhook.insert("secret".into(), HIDDEN.into());
            }
        }
        if let Some(Value::Object(jwt)) = value.get_mut("jwt") {
            if jwt.contains_key("secret") {
                jwt.insert("secret".into(), HIDDEN.into());
            }
        }
        value
    }

    /// Secrets left out or [`HIDDEN`] (settings shown with
    /// [`TenantSettings::redacted`] and sent back) take the value they have in
    /// `previous`: a webhook's from the webhook of the same id, the JWT secret
    /// from the previous JWT settings. Secrets are write-only: sending settings back
    /// never replaces one with its placeholder.
    ///
    /// # Errors
    /// [`SettingsError::Field`] for a placeholder with nothing to keep (a new
    /// webhook needs a secret).
    pub fn keep_secrets(&mut self, previous: &TenantSettings) -> Result<(), SettingsError> {
        for (i, webhook) in self.webhooks.iter_mut().enumerate() {
            if !webhook.secret.is_empty() && webhook.secret != HIDDEN {
                continue;
            }
            match previous.webhooks.iter().find(|old| old.id == webhook.id) {
                Some(old) => webhook.secret.clone_from(&old.secret),
                None => {
                    return Err(field(
                        format!("webhooks[{i}].secret"),
                        format!("webhook `{}` is new: it needs a signing secret", webhook.id),
                    ))
                }
            }
        }
        if let Some(Value::Object(jwt)) = &mut self.jwt {
            if jwt.get("secret").and_then(Value::as_str) == Some(HIDDEN) {
                let old = previous
                    .jwt
                    .as_ref()
                    .and_then(|old| old.get("secret"))
                    .cloned()
                    .ok_or_else(|| field("jwt.secret", "there is no stored secret to keep"))?;
                jwt.insert("secret".into(), old);
            }
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
            "webhooks": [{"id": "audit", "url": "https://example.com/hook", "secret": "k"}],
            "rateLimit": {"perSecond": 5, "burst": 10},
            "jwt": {"issuer": "https://idp"}
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
        assert!(settings.webhooks.first().is_some_and(|hook| hook.enabled));
        assert_eq!(
            settings.rate_limit,
            Some(RateLimit {
                per_second: 5,
                burst: 10
            })
        );
        let back = settings.to_value();
        assert_eq!(back["jwt"], value["jwt"]);
        assert_eq!(TenantSettings::from_value(&back).ok(), Some(settings));
    }

    #[test]
    fn wrong_shapes_are_errors() {
        for value in [
            json!({"teams": {"mode": "divisions"}}),
            json!({"deletion": "shred"}),
            json!({"rateLimit": {"perSecond": -1, "burst": 1}}),
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
    fn admins_settings_are_read_strictly_and_name_the_field() {
        let none = TenantSettings::default();
        let error = |value: Value| {
            TenantSettings::parse(&value, &none)
                .unwrap_err()
                .to_string()
        };
        let unknown = error(json!({"deletion": "archive", "ratelimit": {"perSecond": 1}}));
        assert!(
            unknown.contains("`ratelimit` is not a tenant setting")
                && unknown.contains("rateLimit, createRetryWindowSeconds"),
            "{unknown}"
        );
        for (value, field) in [
            (json!({"teams": {"mode": "divisions"}}), "`teams`"),
            (json!({"deletion": "shred"}), "`deletion`"),
            (
                json!({"rateLimit": {"perSecond": "ten", "burst": 1}}),
                "`rateLimit.perSecond`",
            ),
            (
                json!({"rateLimit": {"perSecond": 0, "burst": 1}}),
                "`rateLimit`",
            ),
            (
                json!({"createRetryWindowSeconds": 90000}),
                "`createRetryWindowSeconds`",
            ),
            (
                json!({"teams": {"mode": "department", "separator": ""}}),
                "`teams.separator`",
            ),
            (
                json!({"policy": {"coerce_string_boolean": true}}),
                "`policy`",
            ),
            (
                json!({"webhooks": [{"id": "a", "url": "ftp://x", "secret": "s"}]}),
                "`webhooks[0].url`",
            ),
            (
                json!({"webhooks": [{"id": "a", "url": "https://x.example", "secret": "s"},
                                    {"id": "a", "url": "https://y.example", "secret": "t"}]}),
                "`webhooks[1].id`",
            ),
            (json!([]), "`settings`"),
        ] {
            let message = error(value.clone());
            let field = field.trim_end_matches('`');
            assert!(message.starts_with(field), "{value}: {message}");
        }
        let good = json!({"teams": {"mode": "department"}, "rateLimit": {"perSecond": 5, "burst": 10},
                          "createRetryWindowSeconds": 120, "jwt": {"algorithm": "HS256", "secret": "k"}});
        let settings = TenantSettings::parse(&good, &none).unwrap();
        assert_eq!(settings.create_retry_window_seconds, 120);
    }

    #[test]
    fn secrets_are_write_only_and_survive_a_round_trip() {
        let none = TenantSettings::default();
        let stored = TenantSettings::parse(&json!({
            "webhooks": [{"id": "app", "url": "https://app.example/hook", "secret": "whsec_abc"}],
            "jwt": {"algorithm": "HS256", "secret": "jwt-key", "issuer": "idp", "audience": "scim"}
        }), &none)
        .unwrap();
        let shown = stored.redacted();
        let text = shown.to_string();
        assert!(
            !text.contains("whsec_abc") && !text.contains("jwt-key"),
            "{text}"
        );
        // Shown, sent back, stored: the secrets are the stored ones, not the placeholder.
        let mut sent = TenantSettings::parse(&shown, &none).unwrap_err();
        assert!(
            sent.to_string().contains("needs a signing secret"),
            "{sent}"
        );
        let mut back = TenantSettings::parse(&shown, &stored).unwrap();
        assert_eq!(back, stored);
        // A new webhook with the placeholder has nothing to keep.
        back.webhooks[0].id = "other".into();
        back.webhooks[0].secret = HIDDEN.into();
        sent = back.keep_secrets(&stored).unwrap_err();
        assert!(
            sent.to_string().contains("needs a signing secret"),
            "{sent}"
        );
    }

    #[test]
    fn webhook_secrets_stay_out_of_debug_output() {
        let hook = Webhook {
            id: "a".into(),
            url: "https://example.com".into(),
            secret: "hunter2".into(),
            enabled: true,
            since: None,
        };
        assert!(!format!("{hook:?}").contains("hunter2"));
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
