//! Admin tokens: issued with a scope, stored as digests in the tenant directory,
//! checked on every admin request.
//!
//! A token reads `scimadm_<16 hex digits of id>_<64 hex digits of secret>` (256
//! random bits). The directory keeps the SHA-256 digest of the secret under the
//! id, as for SCIM tokens: a lookup by id and one digest, compared in constant
//! time. Admin requests are few, so nothing is cached: a revocation holds at once
//! on every instance.

use std::fmt;
use std::time::Duration;

use scimitar_store::{AdminToken, NewAdminToken, StoreError, TenantStore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use crate::auth::{random_hex, secret_digest};

/// The prefix of admin tokens (SCIM tokens start with `scim_`).
pub const ADMIN_TOKEN_PREFIX: &str = "scimadm_";

const ID_BYTES: usize = 8;
const SECRET_BYTES: usize = 32;

/// How stale a token's `last used` may get: touching it on every request would
/// write on every read.
const TOUCH_INTERVAL: Duration = Duration::from_secs(60);

/// What an admin token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AdminScope {
    /// Everything.
    Admin,
    /// Read everything (tenants, tokens' records, settings, the log, the
    /// directory); change nothing.
    ReadOnly,
}

impl AdminScope {
    /// The scope's name, as stored and shown: `admin` or `read-only`.
    pub fn as_str(self) -> &'static str {
        match self {
            AdminScope::Admin => "admin",
            AdminScope::ReadOnly => "read-only",
        }
    }

    /// The scope named `name`, if it is one.
    pub fn parse(name: &str) -> Option<Self> {
        [AdminScope::Admin, AdminScope::ReadOnly]
            .into_iter()
            .find(|scope| scope.as_str() == name)
    }

    /// Whether the scope allows changes.
    pub fn can_write(self) -> bool {
        self == AdminScope::Admin
    }
}

impl fmt::Display for AdminScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A freshly issued admin token: the only moment its secret exists outside the
/// client. `Debug` leaves the token out.
pub struct IssuedAdminToken {
    /// The bearer token. Show it once; it cannot be recovered.
    pub token: String,
    /// The stored record.
    pub record: AdminToken,
}

impl fmt::Debug for IssuedAdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedAdminToken")
            .field("token", &"<redacted>")
            .field("record", &self.record.id)
            .finish()
    }
}

/// Creates an admin token with `scope`, stores its digest in `tenants`, and
/// returns it.
///
/// ```
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use scimitar_server::admin::{issue_admin_token, AdminScope};
///
/// let store = scimitar_store::MemoryStore::new();
/// let issued = issue_admin_token(&store, "ops", AdminScope::ReadOnly).await?;
/// assert!(issued.token.starts_with("scimadm_"));
/// assert_eq!(issued.record.scope, "read-only");
/// # Ok(()) }
/// ```
///
/// # Errors
/// The tenant directory's.
pub async fn issue_admin_token<T: TenantStore + ?Sized>(
    tenants: &T,
    label: &str,
    scope: AdminScope,
) -> Result<IssuedAdminToken, StoreError> {
    let id = random_hex(ID_BYTES);
    let secret = random_hex(SECRET_BYTES);
    let record = tenants
        .insert_admin_token(NewAdminToken {
            id: id.clone(),
            label: label.to_owned(),
            scope: scope.as_str().to_owned(),
            hash: secret_digest(&secret),
        })
        .await?;
    Ok(IssuedAdminToken {
        token: format!("{ADMIN_TOKEN_PREFIX}{id}_{secret}"),
        record,
    })
}

/// Who is making an admin request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminPrincipal {
    /// The token's public id (`configured` for the configured legacy token).
    pub token_id: String,
    /// The token's label.
    pub label: String,
    /// What it may do.
    pub scope: AdminScope,
}

/// A digest of an admin token configured in the server's settings (before
/// tokens lived in the database): accepted with the `admin` scope.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConfiguredToken([u8; 32]);

impl fmt::Debug for ConfiguredToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConfiguredToken(<digest>)")
    }
}

impl ConfiguredToken {
    /// The digest `sha256:<64 hex digits>` of a whole token.
    pub(crate) fn parse(hash: &str) -> Option<Self> {
        hash.trim()
            .strip_prefix("sha256:")
            .and_then(|hex_digits| hex::decode(hex_digits).ok())
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .map(ConfiguredToken)
    }

    fn matches(&self, token: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        bool::from(digest.ct_eq(&self.0))
    }
}

/// Splits an admin token into id and secret, if it has the shape.
fn split(token: &str) -> Option<(&str, &str)> {
    let (id, secret) = token.strip_prefix(ADMIN_TOKEN_PREFIX)?.split_once('_')?;
    let hex_of = |part: &str, bytes: usize| {
        part.len() == bytes * 2 && part.bytes().all(|b| b.is_ascii_hexdigit())
    };
    (hex_of(id, ID_BYTES) && hex_of(secret, SECRET_BYTES)).then_some((id, secret))
}

/// The principal of `token`, or `None` for anything but an active admin token.
pub(crate) async fn verify<T: TenantStore + ?Sized>(
    tenants: &T,
    configured: Option<&ConfiguredToken>,
    token: &str,
) -> Result<Option<AdminPrincipal>, StoreError> {
    if configured.is_some_and(|configured| configured.matches(token)) {
        return Ok(Some(AdminPrincipal {
            token_id: "configured".into(),
            label: "admin_token_hash".into(),
            scope: AdminScope::Admin,
        }));
    }
    let Some((id, secret)) = split(token) else {
        return Ok(None);
    };
    let Some(record) = tenants.find_admin_token(id).await? else {
        return Ok(None);
    };
    let digest = secret_digest(secret);
    let matches = record.hash.len() == digest.len()
        && bool::from(digest.as_bytes().ct_eq(record.hash.as_bytes()));
    if !matches || !record.is_active() {
        return Ok(None);
    }
    let Some(scope) = AdminScope::parse(&record.scope) else {
        log::warn!(
            "admin token {} has an unknown scope {:?}; refused",
            record.id,
            record.scope
        );
        return Ok(None);
    };
    let now = scimitar_store::meta::now();
    let stale = record
        .last_used
        .is_none_or(|used| now - used > TOUCH_INTERVAL);
    if stale {
        if let Err(error) = tenants.touch_admin_token(&record.id, now).await {
            log::warn!("admin token {}: last use not recorded: {error}", record.id);
        }
    }
    Ok(Some(AdminPrincipal {
        token_id: record.id,
        label: record.label,
        scope,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use scimitar_store::MemoryStore;

    #[tokio::test]
    async fn only_active_issued_tokens_verify() {
        let store = MemoryStore::new();
        let issued = issue_admin_token(&store, "ops", AdminScope::Admin)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let principal = verify(&store, None, &issued.token).await.ok().flatten();
        assert_eq!(
            principal.map(|p| (p.label, p.scope)),
            Some(("ops".to_owned(), AdminScope::Admin))
        );
        let touched = store
            .find_admin_token(&issued.record.id)
            .await
            .ok()
            .flatten();
        assert!(touched.is_some_and(|t| t.last_used.is_some()));
        // The same id with another secret, a SCIM-shaped token, garbage.
        let forged = format!(
            "{}{}_{}",
            ADMIN_TOKEN_PREFIX,
            issued.record.id,
            "0".repeat(64)
        );
        for token in [forged.as_str(), "scim_00_11", "scimadm_", ""] {
            assert!(
                matches!(verify(&store, None, token).await, Ok(None)),
                "{token}"
            );
        }
        store.revoke_admin_token(&issued.record.id).await.ok();
        assert!(matches!(
            verify(&store, None, &issued.token).await,
            Ok(None)
        ));
        assert!(format!("{issued:?}").contains("<redacted>"));
    }

    #[tokio::test]
    async fn the_configured_digest_is_an_admin() {
        let store = MemoryStore::new();
        let token = "scimadm_legacy";
        let configured = ConfiguredToken::parse(&secret_digest(token));
        assert!(configured.is_some());
        let principal = verify(&store, configured.as_ref(), token)
            .await
            .ok()
            .flatten();
        assert_eq!(principal.map(|p| p.scope), Some(AdminScope::Admin));
        assert!(ConfiguredToken::parse("md5:abc").is_none());
    }
}
