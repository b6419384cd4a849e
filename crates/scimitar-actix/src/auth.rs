//! Bearer tokens: issuing them, verifying them, and remembering verifications briefly.
//!
//! A token reads `scim_<token id>_<secret>`: 16 hex digits of public id, then 64 hex
//! digits (256 random bits) of secret. The tenant store keeps only the argon2id hash
//! of the secret, under the id, so a request costs one lookup by id and one argon2
//! verification; a successful verification is then trusted for
//! [`Limits::token_cache_seconds`](crate::Limits::token_cache_seconds), keyed by
//! the token id and checked against a SHA-256 digest of the whole token in constant
//! time. Requests that miss the cache together wait for a single verification of
//! their token, and after the TTL the stored record is read again (revoked? same
//! hash? tenant?) with argon2 run again only if the hash changed. Tokens never
//! appear in logs or error messages.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;
use scimitar_store::{ApiToken, NewApiToken, StoreError, Tenant, TenantStore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

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
    /// The stored record (id, tenant, label, hash, bound user).
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
    issue(tenants, tenant, label, None).await
}

/// Creates a token for `tenant` bound to its User `user` (a SCIM `id`), stores its
/// hash, and returns it. The user is the token's authenticated subject: `/Me`
/// (RFC 7644 §3.11) is an alias of `/Users/{user}` for requests made with it.
///
/// The tenant store records the binding as given: check first that the user
/// exists in the tenant (e.g. with [`Store::get`](scimitar_store::Store::get) in
/// the tenant's scope). If the user is deleted later, `/Me` answers 404.
///
/// ```
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use scimitar_store::{MemoryStore, TenantStore};
///
/// let store = MemoryStore::new();
/// store.create_tenant("acme", "Acme", serde_json::json!({})).await?;
/// let issued = scimitar_actix::issue_user_token(&store, "acme", "bjensen's app", "2819c223").await?;
/// assert_eq!(issued.record.user.as_deref(), Some("2819c223"));
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`TokenError::Store`] with [`StoreError::NotFound`] for an unknown tenant.
pub async fn issue_user_token<T: TenantStore + ?Sized>(
    tenants: &T,
    tenant: &str,
    label: &str,
    user: &str,
) -> Result<IssuedToken, TokenError> {
    issue(tenants, tenant, label, Some(user)).await
}

async fn issue<T: TenantStore + ?Sized>(
    tenants: &T,
    tenant: &str,
    label: &str,
    user: Option<&str>,
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
            user: user.map(str::to_owned),
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
    /// The SCIM id of the User the token is bound to, which `/Me` aliases; `None`
    /// for an unbound token and always for a JWT.
    pub(crate) user: Option<String>,
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
    /// The stored argon2 hash the token was verified against: once the TTL has
    /// passed, the same hash in the store and the same digest vouch for the token
    /// without running argon2 again.
    hash: String,
    credential: Credential,
    verified_at: Instant,
}

/// Verified tokens, remembered for a TTL, and verified once per token at a time.
pub(crate) struct TokenCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, CacheEntry>>,
    flights: Flights,
    /// Bumped by every forget, so that a verification that was in flight during a
    /// revocation (or a tenant change) does not cache what it read before it.
    generation: AtomicU64,
    /// argon2 verifications run so far (the tests count them).
    argon2_runs: AtomicUsize,
}

impl TokenCache {
    pub(crate) fn new(ttl: Duration) -> Self {
        TokenCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
            flights: Flights::default(),
            generation: AtomicU64::new(0),
            argon2_runs: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, CacheEntry>> {
        // Entries are inserted whole; a panic elsewhere cannot leave one half-written.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Checks `token` against the tenant store (or the cache) and returns the
    /// credential, with the tenant's context from `context_of`;
    /// `Ok(Err(refusal))` when the token is not valid.
    ///
    /// Requests that miss the cache together wait for one verification of their
    /// token (argon2 costs 19 MiB and tens of milliseconds). After the TTL the
    /// stored record is read again (revoked? same hash? tenant?) and argon2 runs
    /// again only if the hash changed.
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
        if let Some(credential) = self.fresh(id, &digest) {
            return Ok(Ok(credential));
        }
        // Keyed by the whole token, not its public id: a stream of wrong secrets for an
        // id does not queue in front of the right one.
        let _turn = self.flights.join(digest).await;
        // The verification this request waited for may have just filled the cache.
        if let Some(credential) = self.fresh(id, &digest) {
            return Ok(Ok(credential));
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let record = match tenants.find_token(id).await? {
            Some(record) if record.is_active() => record,
            found => {
                self.lock().remove(id);
                let refusal = match found {
                    Some(_) => Refusal::Revoked,
                    None => Refusal::Unknown,
                };
                return Ok(Err(refusal));
            }
        };
        if !self.vouches(id, &digest, &record.hash) && !self.run_argon2(secret, &record.hash).await
        {
            return Ok(Err(Refusal::Unknown));
        }
        let tenant = tenants.get_tenant(&record.tenant).await?;
        let credential = Credential {
            context: context_of(&tenant),
            tenant: Arc::new(tenant),
            token_id: record.id.clone(),
            token_label: record.label.clone(),
            user: record.user.clone(),
        };
        if let Err(error) = tenants
            .touch_token(&record.id, scimitar_store::meta::now())
            .await
        {
            log::warn!("could not record the use of token {}: {error}", record.id);
        }
        let mut entries = self.lock();
        if !self.ttl.is_zero() && self.generation.load(Ordering::SeqCst) == generation {
            entries.insert(
                record.id,
                CacheEntry {
                    digest,
                    hash: record.hash,
                    credential: credential.clone(),
                    verified_at: Instant::now(),
                },
            );
        }
        Ok(Ok(credential))
    }

    /// The cached credential of token `id`, if it is within its TTL and `digest`
    /// matches.
    fn fresh(&self, id: &str, digest: &[u8; 32]) -> Option<Credential> {
        let entries = self.lock();
        let entry = entries.get(id)?;
        let matches = bool::from(entry.digest.ct_eq(digest));
        (matches && entry.verified_at.elapsed() < self.ttl).then(|| entry.credential.clone())
    }

    /// Whether an earlier verification of this very token (`digest`) against the
    /// same stored `hash` stands in for argon2.
    fn vouches(&self, id: &str, digest: &[u8; 32], hash: &str) -> bool {
        self.lock().get(id).is_some_and(|entry| {
            bool::from(entry.digest.ct_eq(digest))
                && entry.hash.as_bytes().ct_eq(hash.as_bytes()).into()
        })
    }

    async fn run_argon2(&self, secret: &str, hash: &str) -> bool {
        self.argon2_runs.fetch_add(1, Ordering::Relaxed);
        // argon2 takes tens of milliseconds of CPU: keep it off the async workers.
        let (secret, hash) = (secret.to_owned(), hash.to_owned());
        actix_web::rt::task::spawn_blocking(move || verify_secret(&secret, &hash))
            .await
            .unwrap_or(false)
    }

    /// Forgets a token at once (it was revoked).
    pub(crate) fn forget_token(&self, id: &str) {
        let mut entries = self.lock();
        self.generation.fetch_add(1, Ordering::SeqCst);
        entries.remove(id);
    }

    /// Forgets every token of a tenant (it was disabled or its settings changed).
    pub(crate) fn forget_tenant(&self, tenant: &str) {
        let mut entries = self.lock();
        self.generation.fetch_add(1, Ordering::SeqCst);
        entries.retain(|_, entry| entry.credential.tenant.id != tenant);
    }
}

/// One async lock per token (by digest) under verification; a token leaves the map
/// when its last verifier is done.
#[derive(Default)]
struct Flights(Mutex<HashMap<[u8; 32], Arc<AsyncMutex<()>>>>);

impl Flights {
    fn lock(&self) -> MutexGuard<'_, HashMap<[u8; 32], Arc<AsyncMutex<()>>>> {
        // The map only ever holds whole entries.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for the turn to verify the token with SHA-256 `digest`.
    async fn join(&self, digest: [u8; 32]) -> Turn<'_> {
        let flight = Arc::clone(self.lock().entry(digest).or_default());
        let guard = Arc::clone(&flight).lock_owned().await;
        Turn {
            flights: self,
            digest,
            flight,
            guard: Some(guard),
        }
    }
}

/// A verifier's turn; dropping it (also when the request is cancelled) hands the
/// turn on.
struct Turn<'a> {
    flights: &'a Flights,
    digest: [u8; 32],
    flight: Arc<AsyncMutex<()>>,
    guard: Option<OwnedMutexGuard<()>>,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut flights = self.flights.lock();
        // Only the map and this turn hold the lock: nobody else waits for it.
        // (Joining clones it under the map lock, which is held here.)
        if Arc::strong_count(&self.flight) == 2 {
            flights.remove(&self.digest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scimitar_store::MemoryStore;

    use crate::tenant::TenantContexts;

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

    fn context(tenant: &Tenant) -> Arc<TenantContext> {
        let registry = scimitar_schema::Registry::new();
        TenantContexts::default().context(tenant, &registry, &scimitar_schema::Policy::default())
    }

    async fn store_with_token() -> (Arc<MemoryStore>, IssuedToken) {
        let store = MemoryStore::new();
        store
            .create_tenant("acme", "Acme", serde_json::json!({}))
            .await
            .unwrap();
        let issued = issue_token(&store, "acme", "entra").await.unwrap();
        (Arc::new(store), issued)
    }

    fn argon2_runs(cache: &TokenCache) -> usize {
        cache.argon2_runs.load(Ordering::Relaxed)
    }

    #[actix_web::test]
    async fn concurrent_first_requests_verify_with_argon2_once() {
        let (store, issued) = store_with_token().await;
        let cache = Arc::new(TokenCache::new(Duration::from_secs(60)));
        let requests: Vec<_> = (0..8)
            .map(|_| {
                let (cache, store, token) = (cache.clone(), store.clone(), issued.token.clone());
                actix_web::rt::spawn(async move { cache.verify(&*store, &token, context).await })
            })
            .collect();
        for request in requests {
            let credential = request.await.unwrap().unwrap().unwrap();
            assert_eq!(credential.token_id, issued.record.id);
        }
        assert_eq!(argon2_runs(&cache), 1);
        assert!(
            cache.flights.lock().is_empty(),
            "finished flights are removed"
        );
    }

    #[actix_web::test]
    async fn after_the_ttl_the_record_is_checked_again_without_argon2() {
        let (store, issued) = store_with_token().await;
        let cache = TokenCache::new(Duration::from_nanos(1));
        for _ in 0..3 {
            let credential = cache.verify(&*store, &issued.token, context).await;
            assert!(matches!(credential, Ok(Ok(_))), "{credential:?}");
        }
        assert_eq!(argon2_runs(&cache), 1);

        let wrong = format!("scim_{}_{}", issued.record.id, "0".repeat(64));
        let refused = cache.verify(&*store, &wrong, context).await.unwrap();
        assert_eq!(refused.unwrap_err(), Refusal::Unknown);
        assert_eq!(argon2_runs(&cache), 2, "another secret is verified in full");

        // Revoked by another instance: noticed at the next check of the record.
        store.revoke_token(&issued.record.id).await.unwrap();
        let refused = cache.verify(&*store, &issued.token, context).await.unwrap();
        assert_eq!(refused.unwrap_err(), Refusal::Revoked);
    }

    #[actix_web::test]
    async fn a_token_revoked_here_is_refused_at_once() {
        let (store, issued) = store_with_token().await;
        let cache = TokenCache::new(Duration::from_secs(60));
        let credential = cache.verify(&*store, &issued.token, context).await;
        assert!(matches!(credential, Ok(Ok(_))), "{credential:?}");

        store.revoke_token(&issued.record.id).await.unwrap();
        cache.forget_token(&issued.record.id);
        let refused = cache.verify(&*store, &issued.token, context).await.unwrap();
        assert_eq!(refused.unwrap_err(), Refusal::Revoked);
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
                user: None,
            },
        };
        let shown = format!("{issued:?}");
        assert!(!shown.contains("scim_secret"), "{shown}");
        assert!(shown.contains("id1"));
    }
}
