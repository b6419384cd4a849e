//! Bearer tokens: issuing them, verifying them, and remembering verifications briefly.
//!
//! A token reads `scim_<token id>_<secret>`: 16 hex digits of public id, then 64 hex
//! digits (256 random bits) of secret. The tenant store keeps only the argon2id hash
//! of the secret, under the id, so a request costs one lookup by id and one argon2
//! verification; a successful verification is then trusted for
//! [`Limits::token_cache_seconds`](crate::Limits::token_cache_seconds), keyed by
//! the token id and checked against a SHA-256 digest of the whole token in constant
//! time. Tokens never appear in logs or error messages.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;
use scimitar_store::{ApiToken, NewApiToken, StoreError, Tenant, TenantStore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::tenant::TenantContext;

/// The prefix of every Scimitar token; it lets secret scanners recognise them.
pub const TOKEN_PREFIX: &str = "scim_";

const ID_BYTES: usize = 8;
const SECRET_BYTES: usize = 32;

/// A freshly issued token: the only moment its secret exists outside the client.
///
/// `Debug` leaves the token out, so logging this value by mistake leaks nothing.
pub struct IssuedToken {
    /// The bearer token to hand to the client, e.g. to paste into Entra ID's
    /// "Secret Token" field. Show it once; it cannot be recovered.
    pub token: String,
    /// The stored record (id, tenant, label, hash).
    pub record: ApiToken,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token", &"<redacted>")
            .field("record", &self.record.id)
            .finish()
    }
}

/// Why a token could not be issued.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The tenant store refused (unknown tenant) or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing the secret failed (it does not, with the parameters used).
    #[error("could not hash the token secret: {0}")]
    Hash(String),
}

/// Creates a token for `tenant`, stores its hash, and returns it.
///
/// ```
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use scimitar_store::{MemoryStore, TenantStore};
///
/// let store = MemoryStore::new();
/// store.create_tenant("acme", "Acme", serde_json::json!({})).await?;
/// let issued = scimitar_actix::issue_token(&store, "acme", "entra-prod").await?;
/// assert!(issued.token.starts_with("scim_"));
/// assert_eq!(issued.record.tenant, "acme");
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`TokenError::Store`] with [`StoreError::NotFound`] for an unknown tenant.
pub async fn issue_token<T: TenantStore + ?Sized>(
    tenants: &T,
    tenant: &str,
    label: &str,
) -> Result<IssuedToken, TokenError> {
    let id = random_hex(ID_BYTES);
    let secret = random_hex(SECRET_BYTES);
    let hash = hash_secret(&secret).map_err(TokenError::Hash)?;
    let record = tenants
        .insert_token(NewApiToken {
            id: id.clone(),
            tenant: tenant.to_owned(),
            label: label.to_owned(),
            hash,
        })
        .await?;
    Ok(IssuedToken {
        token: format!("{TOKEN_PREFIX}{id}_{secret}"),
        record,
    })
}

fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buffer);
    hex::encode(buffer)
}

/// The argon2id PHC string of `secret`, with a random salt; token secrets and user
/// passwords alike. The error is argon2's, as text.
pub(crate) fn hash_secret(secret: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| error.to_string())
}

/// Whether `secret` matches the argon2 PHC string `hash`; a malformed hash never
/// matches.
pub(crate) fn verify_secret(secret: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(secret.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Splits a token into its id and secret, if it has the Scimitar shape.
pub(crate) fn split_token(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix(TOKEN_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let well_formed = |part: &str, bytes: usize| {
        part.len() == bytes * 2 && part.bytes().all(|b| b.is_ascii_hexdigit())
    };
    (well_formed(id, ID_BYTES) && well_formed(secret, SECRET_BYTES)).then_some((id, secret))
}

/// Who a request is authenticated as, and what its tenant's requests run under.
#[derive(Debug, Clone)]
pub(crate) struct Credential {
    /// The tenant every store call of the request is scoped to.
    pub(crate) tenant: Arc<Tenant>,
    /// The token's public id (`jwt` for a JWT).
    pub(crate) token_id: String,
    /// The token's label (empty for a JWT).
    pub(crate) token_label: String,
    /// The tenant's registry, policy and settings.
    pub(crate) context: Arc<TenantContext>,
}

/// Why a bearer token was refused; the message is safe to send to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    Malformed,
    Unknown,
    Revoked,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::Malformed => "the bearer token is not a Scimitar token",
            Refusal::Unknown => "the bearer token is not valid",
            Refusal::Revoked => "the bearer token has been revoked",
        })
    }
}

struct CacheEntry {
    digest: [u8; 32],
    credential: Credential,
    verified_at: Instant,
}

/// Verified tokens, remembered for a TTL.
pub(crate) struct TokenCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, CacheEntry>>,
}

impl TokenCache {
    pub(crate) fn new(ttl: Duration) -> Self {
        TokenCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, CacheEntry>> {
        // Entries are inserted whole; a panic elsewhere cannot leave one half-written.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Checks `token` against the tenant store (or the cache) and returns the
    /// credential, with the tenant's context from `context_of`;
    /// `Ok(Err(refusal))` when the token is not valid.
    pub(crate) async fn verify<T: TenantStore + ?Sized>(
        &self,
        tenants: &T,
        token: &str,
        context_of: impl Fn(&Tenant) -> Arc<TenantContext>,
    ) -> Result<Result<Credential, Refusal>, StoreError> {
        let Some((id, secret)) = split_token(token) else {
            return Ok(Err(Refusal::Malformed));
        };
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(credential) = self.cached(id, &digest) {
            return Ok(Ok(credential));
        }
        let Some(record) = tenants.find_token(id).await? else {
            return Ok(Err(Refusal::Unknown));
        };
        if !record.is_active() {
            return Ok(Err(Refusal::Revoked));
        }
        // argon2 takes tens of milliseconds of CPU: keep it off the async workers.
        let (secret, hash) = (secret.to_owned(), record.hash.clone());
        let verified = actix_web::rt::task::spawn_blocking(move || verify_secret(&secret, &hash))
            .await
            .unwrap_or(false);
        if !verified {
            return Ok(Err(Refusal::Unknown));
        }
        let tenant = tenants.get_tenant(&record.tenant).await?;
        let credential = Credential {
            context: context_of(&tenant),
            tenant: Arc::new(tenant),
            token_id: record.id.clone(),
            token_label: record.label.clone(),
        };
        if let Err(error) = tenants
            .touch_token(&record.id, scimitar_store::meta::now())
            .await
        {
            log::warn!("could not record the use of token {}: {error}", record.id);
        }
        if !self.ttl.is_zero() {
            self.lock().insert(
                record.id,
                CacheEntry {
                    digest,
                    credential: credential.clone(),
                    verified_at: Instant::now(),
                },
            );
        }
        Ok(Ok(credential))
    }

    fn cached(&self, id: &str, digest: &[u8; 32]) -> Option<Credential> {
        let mut entries = self.lock();
        let entry = entries.get(id)?;
        if entry.verified_at.elapsed() >= self.ttl {
            entries.remove(id);
            return None;
        }
        bool::from(entry.digest.ct_eq(digest)).then(|| entry.credential.clone())
    }

    /// Forgets a token at once (it was revoked).
    pub(crate) fn forget_token(&self, id: &str) {
        self.lock().remove(id);
    }

    /// Forgets every token of a tenant (it was disabled or its settings changed).
    pub(crate) fn forget_tenant(&self, tenant: &str) {
        self.lock()
            .retain(|_, entry| entry.credential.tenant.id != tenant);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_shape_is_checked() {
        let id = "0123456789abcdef";
        let secret = "ab".repeat(32);
        let token = format!("scim_{id}_{secret}");
        assert_eq!(split_token(&token), Some((id, secret.as_str())));
        assert_eq!(split_token("non-token"), None);
        assert_eq!(split_token(&format!("scim_{id}_{}", &secret[1..])), None);
        assert_eq!(split_token(&format!("scim_{id}_{secret}x")), None);
        assert_eq!(split_token(&format!("scim_{id}x_{secret}")), None);
    }

    #[test]
    fn secrets_verify_against_their_hash_only() {
        let hash = hash_secret("s3cret").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_secret("s3cret", &hash));
        assert!(!verify_secret("s3cret!", &hash));
        assert!(!verify_secret("s3cret", "not a hash"));
    }

    #[test]
    fn issued_token_debug_hides_the_secret() {
        let issued = IssuedToken {
            token: "scim_secret".into(),
            record: ApiToken {
                id: "id1".into(),
                tenant: "t".into(),
                label: String::new(),
                hash: String::new(),
                created: time::OffsetDateTime::UNIX_EPOCH,
                last_used: None,
                revoked_at: None,
            },
        };
        let shown = format!("{issued:?}");
        assert!(!shown.contains("scim_secret"), "{shown}");
        assert!(shown.contains("id1"));
    }
}
