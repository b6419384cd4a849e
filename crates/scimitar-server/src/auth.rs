//! Bearer tokens: issuing them, verifying them, and remembering verifications briefly.
//!
//! A token reads `scim_<token id>_<secret>`: 16 hex digits of public id, then 64 hex
//! digits (256 random bits) of secret. The tenant store keeps only a SHA-256 digest
//! of the secret (`sha256:<hex>`), under the id: a random 256-bit secret needs no
//! slow hash, so verifying costs one lookup by id and one digest, compared in
//! constant time, and a stranger who knows a token id cannot make the server do
//! expensive work. A successful verification is trusted for
//! [`AuthLimits::token_cache_seconds`](crate::AuthLimits::token_cache_seconds), keyed by
//! the token id and checked against a SHA-256 digest of the whole token in
//! constant time; revoking through the service forgets it at once, and any change
//! of the tenant directory elsewhere within a second
//! ([`TokenCache::follow_directory`]).
//!
//! Tokens issued before digests were used carry an argon2id hash. They still
//! verify, one argon2 run at a time across the process (so that they cannot be used
//! to exhaust its memory or CPU); reissue them. Tokens never appear in logs or
//! error messages, and every refusal answers the client alike.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use argon2::Argon2;
use rand::RngCore;
use scimitar_store::{ApiToken, NewApiToken, StoreError, Tenant, TenantStore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

use scimitar_protocol::{Principal, Refusal, TenantContext};

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
}

/// Creates a token for `tenant`, stores its hash, and returns it.
///
/// ```
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use scimitar_store::{MemoryStore, TenantStore};
///
/// let store = MemoryStore::new();
/// store.create_tenant("acme", "Acme", serde_json::json!({})).await?;
/// let issued = scimitar_server::issue_token(&store, "acme", "entra-prod").await?;
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
    issue(tenants, tenant, label, None, None).await
}

/// Creates a token for `tenant` that stops authenticating at `expires_at`,
/// stores its hash, and returns it.
///
/// # Errors
/// [`TokenError::Store`] with [`StoreError::NotFound`] for an unknown tenant.
pub async fn issue_expiring_token<T: TenantStore + ?Sized>(
    tenants: &T,
    tenant: &str,
    label: &str,
    expires_at: time::OffsetDateTime,
) -> Result<IssuedToken, TokenError> {
    issue(tenants, tenant, label, None, Some(expires_at)).await
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
/// let issued = scimitar_server::issue_user_token(&store, "acme", "bjensen's app", "2819c223").await?;
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
    issue(tenants, tenant, label, Some(user), None).await
}

async fn issue<T: TenantStore + ?Sized>(
    tenants: &T,
    tenant: &str,
    label: &str,
    user: Option<&str>,
    expires_at: Option<time::OffsetDateTime>,
) -> Result<IssuedToken, TokenError> {
    let id = random_hex(ID_BYTES);
    let secret = random_hex(SECRET_BYTES);
    let hash = secret_digest(&secret);
    let record = tenants
        .insert_token(NewApiToken {
            id: id.clone(),
            tenant: tenant.to_owned(),
            label: label.to_owned(),
            hash,
            user: user.map(str::to_owned),
            expires_at,
        })
        .await?;
    Ok(IssuedToken {
        token: format!("{TOKEN_PREFIX}{id}_{secret}"),
        record,
    })
}

pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buffer);
    hex::encode(buffer)
}

/// How a token secret's digest is stored: `sha256:<64 hex digits>`.
const DIGEST_PREFIX: &str = "sha256:";

/// The stored form of a random token secret.
pub(crate) fn secret_digest(secret: &str) -> String {
    format!(
        "{DIGEST_PREFIX}{}",
        hex::encode(Sha256::digest(secret.as_bytes()))
    )
}

/// Whether `secret` matches the stored digest `stored`, in constant time.
fn digest_matches(secret: &str, stored: &str) -> bool {
    stored.len() == DIGEST_PREFIX.len() + 64
        && bool::from(secret_digest(secret).as_bytes().ct_eq(stored.as_bytes()))
}

/// The argon2id PHC string of `secret`, with a random salt, for human-chosen
/// secrets (user passwords). The error is argon2's, as text.
#[cfg(test)]
pub(crate) fn hash_secret(secret: &str) -> Result<String, String> {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
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

/// The position of `refusal` in [`Refusal::ALL`], for counting.
fn refusal_index(refusal: Refusal) -> usize {
    Refusal::ALL
        .iter()
        .position(|known| *known == refusal)
        .unwrap_or_default()
}

/// How often at most the server log gets a line about refused credentials.
const FAILURE_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Refused credentials, counted by reason in fixed space, and logged at most once
/// per [`FAILURE_LOG_INTERVAL`]: a flood of bad tokens costs neither memory nor a
/// log line each.
#[derive(Debug, Default)]
pub(crate) struct AuthFailures {
    counts: [AtomicU64; Refusal::ALL.len()],
    last_logged: Mutex<Option<Instant>>,
}

impl AuthFailures {
    /// Counts `refusal`, and logs the totals if the last line is old enough.
    pub(crate) fn record(&self, refusal: Refusal) {
        self.counts[refusal_index(refusal)].fetch_add(1, Ordering::Relaxed);
        let mut last = self
            .last_logged
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if last.is_some_and(|at| at.elapsed() < FAILURE_LOG_INTERVAL) {
            return;
        }
        *last = Some(Instant::now());
        drop(last);
        let totals: Vec<String> = Refusal::ALL
            .iter()
            .zip(self.totals())
            .filter(|(_, count)| *count > 0)
            .map(|(refusal, count)| format!("{refusal}: {count}"))
            .collect();
        log::warn!(
            "credential refused ({refusal}); refusals since start: {}",
            totals.join(", ")
        );
    }

    /// The refusals counted so far, in [`Refusal::ALL`] order.
    pub(crate) fn totals(&self) -> [u64; Refusal::ALL.len()] {
        std::array::from_fn(|i| self.counts[i].load(Ordering::Relaxed))
    }
}

struct CacheEntry {
    digest: [u8; 32],
    /// The stored hash the token was verified against: once the TTL has passed,
    /// the same hash in the store and the same digest vouch for the token without
    /// verifying the secret again (which matters for legacy argon2 hashes).
    hash: String,
    credential: Principal,
    verified_at: Instant,
    /// When the token expires, if it does: a cached verification ends then too.
    expires_at: Option<time::OffsetDateTime>,
}

/// How often at most the tenant directory's version is read
/// ([`TokenCache::follow_directory`]).
const DIRECTORY_CHECK_INTERVAL: Duration = Duration::from_millis(250);

/// Not read yet.
const UNKNOWN_VERSION: u64 = u64::MAX;

/// Verified tokens, remembered for a TTL, and forgotten as soon as the tenant
/// directory changes.
pub(crate) struct TokenCache {
    ttl: Duration,
    /// When this cache was made: directory checks are timed from it.
    started: Instant,
    /// Milliseconds after `started` of the last directory check (0: none yet).
    checked_at: AtomicU64,
    /// The directory version the entries were made under.
    directory_version: AtomicU64,
    entries: Mutex<HashMap<String, CacheEntry>>,
    /// Legacy argon2 hashes are verified one at a time across the process.
    argon2: Semaphore,
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
            started: Instant::now(),
            checked_at: AtomicU64::new(0),
            directory_version: AtomicU64::new(UNKNOWN_VERSION),
            entries: Mutex::new(HashMap::new()),
            argon2: Semaphore::new(1),
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
    /// A cache miss costs one lookup by id and a SHA-256 digest. After the TTL the
    /// stored record is read again (revoked? same hash? tenant?).
    pub(crate) async fn verify<T: TenantStore + ?Sized>(
        &self,
        tenants: &T,
        token: &str,
        context_of: impl Fn(&Tenant) -> Arc<TenantContext>,
    ) -> Result<Result<Principal, Refusal>, StoreError> {
        let Some((id, secret)) = split_token(token) else {
            return Ok(Err(Refusal::Malformed));
        };
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(credential) = self.fresh(id, &digest) {
            return Ok(Ok(credential));
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let now = scimitar_store::meta::now();
        let record = match tenants.find_token(id).await? {
            Some(record) if record.is_active() && !record.is_expired_at(now) => record,
            found => {
                self.lock().remove(id);
                let refusal = match found {
                    Some(record) if !record.is_active() => Refusal::Revoked,
                    Some(_) => Refusal::Expired,
                    None => Refusal::Unknown,
                };
                return Ok(Err(refusal));
            }
        };
        if !self.vouches(id, &digest, &record.hash)
            && !self.secret_matches(secret, &record.hash).await
        {
            return Ok(Err(Refusal::WrongSecret));
        }
        let tenant = tenants.get_tenant(&record.tenant).await?;
        let credential = Principal {
            context: Some(context_of(&tenant)),
            tenant: tenant.id,
            client: record.id.clone(),
            label: record.label.clone(),
            user: record.user.clone(),
            enabled: tenant.enabled,
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
                    expires_at: record.expires_at,
                },
            );
        }
        Ok(Ok(credential))
    }

    /// The cached credential of token `id`, if it is within its TTL and `digest`
    /// matches.
    fn fresh(&self, id: &str, digest: &[u8; 32]) -> Option<Principal> {
        let entries = self.lock();
        let entry = entries.get(id)?;
        let matches = bool::from(entry.digest.ct_eq(digest));
        let unexpired = entry
            .expires_at
            .is_none_or(|expires| scimitar_store::meta::now() < expires);
        (matches && unexpired && entry.verified_at.elapsed() < self.ttl)
            .then(|| entry.credential.clone())
    }

    /// Whether an earlier verification of this very token (`digest`) against the
    /// same stored `hash` stands in for verifying the secret.
    fn vouches(&self, id: &str, digest: &[u8; 32], hash: &str) -> bool {
        self.lock().get(id).is_some_and(|entry| {
            bool::from(entry.digest.ct_eq(digest))
                && entry.hash.as_bytes().ct_eq(hash.as_bytes()).into()
        })
    }

    /// Whether `secret` matches the stored `hash`: a SHA-256 digest, or a legacy
    /// argon2id hash verified on a blocking thread, one at a time.
    async fn secret_matches(&self, secret: &str, hash: &str) -> bool {
        if hash.starts_with(DIGEST_PREFIX) {
            return digest_matches(secret, hash);
        }
        let Ok(_turn) = self.argon2.acquire().await else {
            return false;
        };
        self.argon2_runs.fetch_add(1, Ordering::Relaxed);
        let (secret, hash) = (secret.to_owned(), hash.to_owned());
        tokio::task::spawn_blocking(move || verify_secret(&secret, &hash))
            .await
            .unwrap_or(false)
    }

    /// Reads the directory's version (rule T9) if the last read is older than
    /// [`DIRECTORY_CHECK_INTERVAL`], and forgets every entry when it moved: a token
    /// revoked, or a tenant disabled, deleted or reconfigured by another server or
    /// the CLI is noticed within that interval. One request at a time reads it;
    /// the others go on meanwhile. A failed read is logged and retried at the next
    /// interval (the verification itself will report a database that is down).
    pub(crate) async fn follow_directory<T: TenantStore + ?Sized>(&self, tenants: &T) {
        let now = u64::try_from(self.started.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let last = self.checked_at.load(Ordering::Acquire);
        let interval = u64::try_from(DIRECTORY_CHECK_INTERVAL.as_millis()).unwrap_or(u64::MAX);
        if last != 0 && now.saturating_sub(last) < interval {
            return;
        }
        if self
            .checked_at
            .compare_exchange(last, now, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return;
        }
        match tenants.directory_version().await {
            Ok(version) => {
                let before = self.directory_version.swap(version, Ordering::AcqRel);
                if before != version && before != UNKNOWN_VERSION {
                    let mut entries = self.lock();
                    self.generation.fetch_add(1, Ordering::SeqCst);
                    entries.clear();
                }
            }
            Err(error) => log::warn!("cannot read the tenant directory's version: {error}"),
        }
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
        entries.retain(|_, entry| entry.credential.tenant != tenant);
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
    async fn tokens_are_stored_as_digests_and_verified_without_argon2() {
        let (store, issued) = store_with_token().await;
        assert!(
            issued.record.hash.starts_with("sha256:") && issued.record.hash.len() == 71,
            "{}",
            issued.record.hash
        );
        assert!(!issued.record.hash.contains(&issued.token[22..]));
        let cache = TokenCache::new(Duration::from_nanos(1));
        for _ in 0..3 {
            let credential = cache.verify(&*store, &issued.token, context).await;
            assert!(matches!(credential, Ok(Ok(_))), "{credential:?}");
        }
        let wrong = format!("scim_{}_{}", issued.record.id, "0".repeat(64));
        let refused = cache.verify(&*store, &wrong, context).await.unwrap();
        assert_eq!(refused.unwrap_err(), Refusal::WrongSecret);
        let unknown = format!("scim_{}_{}", "f".repeat(16), "0".repeat(64));
        let refused = cache.verify(&*store, &unknown, context).await.unwrap();
        assert_eq!(refused.unwrap_err(), Refusal::Unknown);
        assert_eq!(argon2_runs(&cache), 0);

        // Revoked by another instance: noticed at the next check of the record.
        store.revoke_token(&issued.record.id).await.unwrap();
        let refused = cache.verify(&*store, &issued.token, context).await.unwrap();
        assert_eq!(refused.unwrap_err(), Refusal::Revoked);
    }

    #[actix_web::test]
    async fn legacy_argon2_tokens_still_verify_once_per_token() {
        let store = MemoryStore::new();
        store
            .create_tenant("acme", "Acme", serde_json::json!({}))
            .await
            .unwrap();
        let (id, secret) = ("0123456789abcdef", "ab".repeat(32));
        store
            .insert_token(NewApiToken {
                id: id.into(),
                tenant: "acme".into(),
                label: "old".into(),
                hash: hash_secret(&secret).unwrap(),
                user: None,
                expires_at: None,
            })
            .await
            .unwrap();
        let token = format!("scim_{id}_{secret}");
        let cache = TokenCache::new(Duration::from_nanos(1));
        for _ in 0..3 {
            let credential = cache.verify(&store, &token, context).await;
            assert!(matches!(credential, Ok(Ok(_))), "{credential:?}");
        }
        assert_eq!(
            argon2_runs(&cache),
            1,
            "a verified hash vouches after the TTL"
        );
        let wrong = format!("scim_{id}_{}", "0".repeat(64));
        let refused = cache.verify(&store, &wrong, context).await.unwrap();
        assert_eq!(refused.unwrap_err(), Refusal::WrongSecret);
    }

    #[actix_web::test]
    async fn expired_tokens_are_refused_even_from_the_cache() {
        let (store, _) = store_with_token().await;
        let soon = scimitar_store::meta::now() + time::Duration::milliseconds(300);
        let issued = issue_expiring_token(&*store, "acme", "short", soon)
            .await
            .unwrap();
        assert_eq!(issued.record.expires_at, Some(soon));
        // A long cache: the expiry must end the cached verification too.
        let cache = TokenCache::new(Duration::from_secs(3600));
        let fresh = cache.verify(&*store, &issued.token, context).await.unwrap();
        assert!(fresh.is_ok());
        tokio::time::sleep(Duration::from_millis(400)).await;
        let refused = cache.verify(&*store, &issued.token, context).await.unwrap();
        assert_eq!(refused.unwrap_err(), Refusal::Expired);
        let past = scimitar_store::meta::now() - time::Duration::seconds(1);
        let expired = issue_expiring_token(&*store, "acme", "old", past)
            .await
            .unwrap();
        let refused = cache
            .verify(&*store, &expired.token, context)
            .await
            .unwrap();
        assert_eq!(refused.unwrap_err(), Refusal::Expired);
    }

    #[actix_web::test]
    async fn a_token_revoked_elsewhere_is_refused_within_the_check_interval() {
        let (store, issued) = store_with_token().await;
        let cache = TokenCache::new(Duration::from_secs(3600));
        cache.follow_directory(&*store).await;
        let credential = cache.verify(&*store, &issued.token, context).await;
        assert!(matches!(credential, Ok(Ok(_))), "{credential:?}");

        // Another process revokes it: this cache is not told.
        store.revoke_token(&issued.record.id).await.unwrap();
        cache.follow_directory(&*store).await; // too soon to read again
        let cached = cache.verify(&*store, &issued.token, context).await;
        assert!(matches!(cached, Ok(Ok(_))), "{cached:?}");
        tokio::time::sleep(DIRECTORY_CHECK_INTERVAL + Duration::from_millis(20)).await;
        cache.follow_directory(&*store).await;
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
                expires_at: None,
            },
        };
        let shown = format!("{issued:?}");
        assert!(!shown.contains("scim_secret"), "{shown}");
        assert!(shown.contains("id1"));
    }
}
