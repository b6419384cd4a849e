//! A tenant's settings as the server reads them: [`TenantConfig`].
//!
//! A tenant's `settings` is one JSON object. The store reads its directory keys
//! ([`TenantSettings`]: policy, teams, deletion, schema overrides, the create-retry
//! window); the server adds its own: webhooks, a rate limit and JWT keys.
//! [`TenantConfig`] is the whole object, read leniently from storage
//! ([`TenantConfig::from_value`]) and strictly from an administrator
//! ([`TenantConfig::parse`]), with secrets write-only ([`HIDDEN`]).
//!
//! ```
//! use scimitar_server::settings::{TenantConfig, HIDDEN};
//! use serde_json::json;
//!
//! let none = TenantConfig::default();
//! let config = TenantConfig::parse(&json!({
//!     "deletion": "archive",
//!     "rateLimit": {"perSecond": 20, "burst": 40},
//!     "webhooks": [{"id": "app", "url": "https://app.example/scim-events", "secret": "whsec_1"}]
//! }), &none)?;
//! assert_eq!(config.rate_limit.map(|limit| limit.burst), Some(40));
//! // What an admin is shown hides the secret...
//! let shown = config.redacted();
//! assert_eq!(shown["webhooks"][0]["secret"], HIDDEN);
//! // ...and sending it back keeps the stored one.
//! assert_eq!(TenantConfig::parse(&shown, &config)?, config);
//!
//! let error = TenantConfig::parse(&json!({"team": {}}), &none).unwrap_err();
//! assert!(error.to_string().contains("`team` is not a tenant setting"), "{error}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use scimitar_store::settings::field;
use scimitar_store::{SettingsError, TenantSettings};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What a secret (a webhook's, a JWT's HS256 key) is shown as. Settings sent back
/// with it in place of a secret keep the stored secret
/// ([`TenantConfig::keep_secrets`]); it is never stored.
pub const HIDDEN: &str = "<hidden>";

/// A tenant's whole settings object: the directory settings the store reads and
/// the server's own keys.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TenantConfig {
    /// What the store reads (and keys no version of Scimitar knows, kept as
    /// they are).
    #[serde(skip)]
    pub directory: TenantSettings,
    /// Where the server delivers this tenant's change events.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub webhooks: Vec<Webhook>,
    /// The tenant's request rate limit; `None` leaves it to the server's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// JWT keys for this tenant (algorithm, key, issuer, audience), for identity
    /// providers that send JWT bearer tokens; its `secret` is shown as [`HIDDEN`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt: Option<Value>,
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

/// Settings an administrator sent that [`TenantConfig::parse`] refuses.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A key no setting has, often a misspelt one.
    #[error("`{key}` is not a tenant setting; the settings are {}", TenantConfig::keys().collect::<Vec<_>>().join(", "))]
    UnknownKey {
        /// The key sent.
        key: String,
    },
    /// A value of the wrong shape, or one that is not allowed, naming its field.
    #[error(transparent)]
    Settings(#[from] SettingsError),
}

impl TenantConfig {
    /// The keys the server reads beside [`TenantSettings::KEYS`].
    pub const SERVER_KEYS: [&'static str; 3] = ["webhooks", "rateLimit", "jwt"];

    /// Every key a settings object may have: the store's, then the server's.
    pub fn keys() -> impl Iterator<Item = &'static str> {
        TenantSettings::KEYS.into_iter().chain(Self::SERVER_KEYS)
    }

    /// Reads a stored settings object; `null` reads as the defaults. Keys it
    /// does not know are kept (in the directory's
    /// [`other`](TenantSettings::other)).
    ///
    /// # Errors
    /// [`SettingsError::Invalid`] when a known key has a value of the wrong shape.
    pub fn from_value(value: &Value) -> Result<Self, SettingsError> {
        let (directory, server) = split(value)?;
        let mut config: TenantConfig = serde_json::from_value(server)?;
        config.directory = TenantSettings::from_value(&directory)?;
        Ok(config)
    }

    /// Reads settings an administrator sends to replace `previous`, strictly: a
    /// key that is not one of [`TenantConfig::keys`] is refused (with the list), a
    /// value of the wrong shape is refused naming its field, secrets left out or
    /// [`HIDDEN`] keep their values in `previous`
    /// ([`TenantConfig::keep_secrets`]), and the values are
    /// [validated](TenantConfig::validate).
    ///
    /// # Errors
    /// [`ConfigError::UnknownKey`], or [`SettingsError::Field`] naming the field.
    pub fn parse(value: &Value, previous: &TenantConfig) -> Result<Self, ConfigError> {
        let Value::Object(keys) = value else {
            return Err(field("settings", "must be a JSON object").into());
        };
        if let Some(key) = keys
            .keys()
            .find(|key| !Self::keys().any(|known| known == *key))
        {
            return Err(ConfigError::UnknownKey { key: key.clone() });
        }
        let (directory, server) = split(value)?;
        let mut config: TenantConfig = strictly(server)?;
        config.directory = strictly(directory)?;
        config.keep_secrets(previous)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values a shape cannot: the directory's
    /// ([`TenantSettings::validate`]), a rate limit above zero, and webhooks with
    /// distinct ids, an `http(s)` URL and a secret.
    ///
    /// # Errors
    /// [`SettingsError::Field`] naming the first field that is wrong.
    pub fn validate(&self) -> Result<(), SettingsError> {
        self.directory.validate()?;
        if let Some(limit) = &self.rate_limit {
            if limit.per_second == 0 || limit.burst == 0 {
                return Err(field(
                    "rateLimit",
                    "perSecond and burst must be at least 1 (leave rateLimit out for the server's limit)",
                ));
            }
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
    /// [`TenantConfig::redacted`] and sent back) take the value they have in
    /// `previous`: a webhook's from the webhook of the same id, the JWT secret
    /// from the previous JWT settings. Secrets are write-only: sending settings back
    /// never replaces one with its placeholder.
    ///
    /// # Errors
    /// [`SettingsError::Field`] for a placeholder with nothing to keep (a new
    /// webhook needs a secret).
    pub fn keep_secrets(&mut self, previous: &TenantConfig) -> Result<(), SettingsError> {
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

    /// The directory settings with the server's keys in
    /// [`other`](TenantSettings::other): what a store writes when it stores a
    /// scope's settings (as `set_settings_and_rebuild_teams` does), so that
    /// nothing of the server's is lost.
    pub fn stored(&self) -> TenantSettings {
        let mut stored = self.directory.clone();
        if let Value::Object(server) = serde_json::to_value(self).unwrap_or_default() {
            for key in Self::SERVER_KEYS {
                stored.other.remove(key);
            }
            stored.other.extend(server);
        }
        stored
    }

    /// The settings object to store.
    pub fn to_value(&self) -> Value {
        self.stored().to_value()
    }
    /// Adds a webhook posting to `url`: named `id`, or the first free `hook-N`;
    /// signed with `secret`, or a new random one; delivering events of writes
    /// from now on, or (with `replay`) every event the outbox still holds.
    /// Returns the webhook, secret included: show a generated one once.
    ///
    /// # Errors
    /// [`SettingsError::Field`] for a taken id, or a webhook that does not
    /// [validate](Self::validate).
    pub fn add_webhook(
        &mut self,
        id: Option<String>,
        url: &str,
        secret: Option<String>,
        replay: bool,
    ) -> Result<Webhook, SettingsError> {
        let free = |id: &String| self.webhooks.iter().all(|hook| &hook.id != id);
        let id = match id {
            Some(id) if !free(&id) => {
                return Err(field("id", format!("a webhook `{id}` exists already")))
            }
            Some(id) => id,
            None => (1..)
                .map(|n| format!("hook-{n}"))
                .find(free)
                .unwrap_or_default(),
        };
        let webhook = Webhook {
            id,
            url: url.to_owned(),
            secret: secret.unwrap_or_else(crate::webhook::generate_secret),
            enabled: true,
            since: (!replay).then(scimitar_store::meta::now),
        };
        self.webhooks.push(webhook.clone());
        if let Err(error) = self.validate() {
            self.webhooks.pop();
            return Err(error);
        }
        Ok(webhook)
    }

    /// The webhook named `id`, to change.
    pub fn webhook_mut(&mut self, id: &str) -> Option<&mut Webhook> {
        self.webhooks.iter_mut().find(|hook| hook.id == id)
    }

    /// Removes the webhook named `id`; whether there was one.
    pub fn remove_webhook(&mut self, id: &str) -> bool {
        let count = self.webhooks.len();
        self.webhooks.retain(|hook| hook.id != id);
        self.webhooks.len() < count
    }
}

/// The Enterprise User extension's URN.
const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The schema override that makes the Enterprise `costCenter` a `dateTime`, the
/// hire date: what products that read a start date from Entra ID's
/// `employeeHireDate` map it to. A `schemaOverrides` entry.
pub fn hire_date_override() -> Value {
    serde_json::json!({
        "id": ENTERPRISE_USER,
        "attributes": [{
            "name": "costCenter",
            "type": "dateTime",
            "description": "The first day at work (the hire date), RFC 3339."
        }]
    })
}

/// The named schema overrides an admin applies in one step: `(name,
/// description, override)`.
pub fn presets() -> Vec<(&'static str, &'static str, Value)> {
    vec![(
        "hire-date-in-cost-center",
        "costCenter carries the hire date as a dateTime (Entra ID's employeeHireDate mapped to costCenter)",
        hire_date_override(),
    )]
}

/// `value`'s directory keys and the server's, as two objects (`null` is empty).
fn split(value: &Value) -> Result<(Value, Value), SettingsError> {
    let mut directory = match value {
        Value::Null => Map::new(),
        Value::Object(keys) => keys.clone(),
        _ => return Err(field("settings", "must be a JSON object")),
    };
    let mut server = Map::new();
    for key in TenantConfig::SERVER_KEYS {
        if let Some(value) = directory.remove(key) {
            server.insert(key.to_owned(), value);
        }
    }
    Ok((Value::Object(directory), Value::Object(server)))
}

/// Deserializes `value`, naming the field that does not read.
fn strictly<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, SettingsError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        field(path, error.into_inner().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_key_reads_and_round_trips() {
        let value = json!({
            "teams": {"mode": "department", "separator": " - "},
            "deletion": "archive",
            "webhooks": [{"id": "audit", "url": "https://example.com/hook", "secret": "k"}],
            "rateLimit": {"perSecond": 5, "burst": 10},
            "jwt": {"issuer": "https://idp"},
            "fromANewerVersion": 1
        });
        let config = TenantConfig::from_value(&value).unwrap_or_default();
        assert!(config.directory.teams.is_derived());
        assert!(config.webhooks.first().is_some_and(|hook| hook.enabled));
        assert_eq!(
            config.rate_limit,
            Some(RateLimit {
                per_second: 5,
                burst: 10
            })
        );
        assert_eq!(
            config.directory.other.keys().collect::<Vec<_>>(),
            ["fromANewerVersion"]
        );
        let back = config.to_value();
        assert_eq!(back["jwt"], value["jwt"]);
        assert_eq!(back["fromANewerVersion"], 1);
        assert_eq!(TenantConfig::from_value(&back).ok(), Some(config));
        assert_eq!(
            TenantConfig::from_value(&Value::Null).ok(),
            Some(TenantConfig::default())
        );
        let wrong = json!({"rateLimit": {"perSecond": -1, "burst": 1}});
        assert!(TenantConfig::from_value(&wrong).is_err());
    }

    #[test]
    fn what_the_store_writes_back_keeps_the_servers_keys() {
        let mut config = TenantConfig::from_value(&json!({
            "rateLimit": {"perSecond": 5, "burst": 10},
            "jwt": {"issuer": "https://idp"}
        }))
        .unwrap_or_default();
        config.rate_limit = None;
        let stored = config.stored().to_value();
        assert_eq!(stored["jwt"]["issuer"], "https://idp");
        assert!(stored.get("rateLimit").is_none(), "{stored}");
    }

    #[test]
    fn admins_settings_are_read_strictly_and_name_the_field() {
        let none = TenantConfig::default();
        let error = |value: Value| TenantConfig::parse(&value, &none).unwrap_err().to_string();
        let unknown = error(json!({"deletion": "archive", "ratelimit": {"perSecond": 1}}));
        assert!(
            unknown.contains("`ratelimit` is not a tenant setting")
                && unknown.contains("createRetryWindowSeconds, webhooks, rateLimit, jwt"),
            "{unknown}"
        );
        for (value, field) in [
            (json!({"teams": {"mode": "divisions"}}), "`teams.mode`"),
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
        let config = TenantConfig::parse(&good, &none).unwrap();
        assert_eq!(config.directory.create_retry_window_seconds, 120);
        assert!(config.directory.other.is_empty());
    }

    #[test]
    fn secrets_are_write_only_and_survive_a_round_trip() {
        let none = TenantConfig::default();
        let stored = TenantConfig::parse(&json!({
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
        let sent = TenantConfig::parse(&shown, &none).unwrap_err();
        assert!(
            sent.to_string().contains("needs a signing secret"),
            "{sent}"
        );
        let mut back = TenantConfig::parse(&shown, &stored).unwrap();
        assert_eq!(back, stored);
        // A new webhook with the placeholder has nothing to keep.
        back.webhooks[0].id = "other".into();
        back.webhooks[0].secret = HIDDEN.into();
        let sent = back.keep_secrets(&stored).unwrap_err();
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
}
