//! The tenant directory the server authenticates against: tenants and their API tokens.
//!
//! Tokens are stored only as hashes. The server hands a client a token of the form
//! `<token id>.<secret>`, stores the argon2 hash of the secret under the token id,
//! and on each request finds the token by id and verifies the secret against the
//! hash. Hashing and verifying are the server's job; the store never sees a secret.

use std::future::Future;

use serde_json::Value;
use time::OffsetDateTime;

use crate::StoreError;

/// A tenant: one customer's isolated set of users and groups.
#[derive(Debug, Clone, PartialEq)]
pub struct Tenant {
    /// The stable key every [`Store`](crate::Store) call is scoped by, e.g. `default`
    /// or `acme`; chosen at creation (it appears in URLs).
    pub id: String,
    /// A human-readable name.
    pub name: String,
    /// Whether requests are served; a disabled tenant's tokens are refused.
    pub enabled: bool,
    /// Per-tenant settings as a JSON object (IdP policy, limits...), interpreted
    /// by the server.
    pub settings: Value,
    /// When the tenant was created.
    pub created: OffsetDateTime,
}

/// An API token's stored record (never the secret itself).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiToken {
    /// The public token id, the part of the bearer token before the secret.
    pub id: String,
    /// The tenant the token authenticates as.
    pub tenant: String,
    /// What the token is for, e.g. `entra-prod`.
    pub label: String,
    /// The argon2 PHC string of the secret (`$argon2id$v=19$...`).
    pub hash: String,
    /// When the token was created.
    pub created: OffsetDateTime,
    /// When the token was last used, if the server records it.
    pub last_used: Option<OffsetDateTime>,
    /// When the token was revoked; a revoked token is refused.
    pub revoked_at: Option<OffsetDateTime>,
    /// The SCIM `id` of the User of [`tenant`](Self::tenant) the token is bound to,
    /// if any: that user is the token's authenticated subject, which the server's
    /// `/Me` (RFC 7644 §3.11) aliases. `None` for a provisioning client's token.
    pub user: Option<String>,
    /// When the token stops authenticating, if it was issued with an expiry.
    pub expires_at: Option<OffsetDateTime>,
}

impl AdminToken {
    /// Whether the token may authenticate: not revoked.
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

impl ApiToken {
    /// Whether the token may authenticate: not revoked.
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }

    /// Whether the token has expired at `now`.
    pub fn is_expired_at(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|expires| now >= expires)
    }
}

/// A token to insert: the store sets `created` and leaves `last_used` and
/// `revoked_at` empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiToken {
    /// The public token id; unique across all tenants.
    pub id: String,
    /// The tenant; it must exist.
    pub tenant: String,
    /// What the token is for.
    pub label: String,
    /// The argon2 PHC string of the secret.
    pub hash: String,
    /// The SCIM `id` of the User of the tenant to bind the token to, if any. The
    /// store keeps it as given; checking that the user exists is the caller's job
    /// (a user deleted later leaves the binding dangling, and `/Me` answers 404).
    pub user: Option<String>,
    /// When the token stops authenticating; `None` never.
    pub expires_at: Option<OffsetDateTime>,
}

/// An admin credential's stored record (never the secret itself): admin tokens
/// work across tenants, so they belong to no tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminToken {
    /// The public token id, the part of the bearer token before the secret.
    pub id: String,
    /// What, or whom, the token is for, e.g. `ops-dashboard`.
    pub label: String,
    /// What the token may do, as the server names it (e.g. `admin`, `read-only`).
    pub scope: String,
    /// The digest of the secret, as the server made it.
    pub hash: String,
    /// When the token was created.
    pub created: OffsetDateTime,
    /// When the token was last used, if the server records it.
    pub last_used: Option<OffsetDateTime>,
    /// When the token was revoked; a revoked token is refused.
    pub revoked_at: Option<OffsetDateTime>,
}

/// An admin token to insert: the store sets `created` and leaves `last_used` and
/// `revoked_at` empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAdminToken {
    /// The public token id; unique among admin tokens.
    pub id: String,
    /// What the token is for.
    pub label: String,
    /// What the token may do.
    pub scope: String,
    /// The digest of the secret.
    pub hash: String,
}

/// Checks that `id` can name a tenant: a URL-safe slug of 1 to 63 lowercase letters,
/// digits, `-`, `_` and `.`, as it appears in URLs (`/tenants/{id}/scim/v2`) and
/// in a webhook's message ids.
///
/// ```
/// use scimitar_store::tenant::check_tenant_id;
///
/// assert!(check_tenant_id("acme-eu.prod_2").is_ok());
/// let error = check_tenant_id("Acme Corp").unwrap_err();
/// assert!(error.to_string().contains("acme-corp"), "{error}");
/// ```
///
/// # Errors
/// [`StoreError::InvalidValue`] saying what a tenant id may hold, with an example.
pub fn check_tenant_id(id: &str) -> Result<(), StoreError> {
    let slug = !id.is_empty()
        && id.len() <= 63
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b));
    if slug {
        return Ok(());
    }
    let example: String = id
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(63)
        .collect();
    let example = if example.trim_matches('-').is_empty() {
        "acme-eu".to_owned()
    } else {
        example
    };
    Err(StoreError::InvalidValue(format!(
        "tenant id `{}` is not a slug: use 1 to 63 lowercase letters, digits, `-`, `_` and `.`, such as `{example}`",
        id.chars().take(80).collect::<String>()
    )))
}

/// The tenant directory.
///
/// RULES (the tenant part of the contract kit checks each):
///
/// - **T1.** `create_tenant` with an id already taken fails with
///   [`StoreError::Uniqueness`] `{ attribute: "id" }`; with an id that is not a slug
///   ([`check_tenant_id`]), with [`StoreError::InvalidValue`]; new tenants are
///   enabled.
/// - **T2.** `get_tenant` / `set_tenant_enabled` / `set_tenant_settings` on an
///   unknown id fail with [`StoreError::NotFound`] (resource type `Tenant`).
/// - **T3.** `list_tenants` returns every tenant, ordered by id.
/// - **T4.** `insert_token` for an unknown tenant fails with `NotFound`; with a token
///   id already taken, with `Uniqueness { attribute: "id" }`. The token's `user`
///   binding and its `expires_at` (or their absence) are kept as given and read
///   back by `find_token` and `list_tokens`.
/// - **T5.** `find_token` returns the token whatever its state (revoked or not, tenant
///   enabled or not): the caller decides. Unknown id → `Ok(None)`.
/// - **T6.** `revoke_token` sets `revoked_at` once; revoking again keeps the first time.
///   `list_tokens` returns the tenant's tokens, revoked included, in creation order.
/// - **T7.** `touch_token` records `last_used`; unknown id → `NotFound`.
/// - **T8.** `delete_tenant` erases the tenant and everything that is its: users,
///   groups, archived users, events, outbox consumers, tokens, provisioning log and
///   settings, in one transaction; `get_tenant` and `find_token` then find nothing,
///   a tenant of the same id starts empty, and other tenants are untouched.
///   Unknown id → `NotFound`.
/// - **T9.** `directory_version` changes (in the same transaction) with every
///   `create_tenant`, `set_tenant_enabled`, `set_tenant_settings`, `revoke_token`
///   and `delete_tenant`, whichever process makes it, so that a server caching
///   credentials sees every change by reading one number. `touch_token` and
///   `insert_token` need not change it (nothing cached depends on them).
///   `rename_tenant` and `revoke_admin_token` change it too.
/// - **T10.** `rename_tenant` changes the name only; unknown id → `NotFound`.
/// - **T11.** Admin tokens belong to no tenant: `insert_admin_token` with an id
///   already taken fails with `Uniqueness { attribute: "id" }`;
///   `find_admin_token` returns one whatever its state (unknown id → `Ok(None)`);
///   `list_admin_tokens` returns them all, revoked included, in creation order;
///   `revoke_admin_token` sets `revoked_at` once; `touch_admin_token` records
///   `last_used`. Revoking or touching an unknown id → `NotFound`. Deleting a
///   tenant leaves admin tokens alone.
pub trait TenantStore: Send + Sync {
    /// Creates an enabled tenant.
    fn create_tenant(
        &self,
        id: &str,
        name: &str,
        settings: Value,
    ) -> impl Future<Output = Result<Tenant, StoreError>> + Send;

    /// The tenant with this id.
    fn get_tenant(&self, id: &str) -> impl Future<Output = Result<Tenant, StoreError>> + Send;

    /// Every tenant, ordered by id.
    fn list_tenants(&self) -> impl Future<Output = Result<Vec<Tenant>, StoreError>> + Send;

    /// Enables or disables a tenant; returns it as updated.
    fn set_tenant_enabled(
        &self,
        id: &str,
        enabled: bool,
    ) -> impl Future<Output = Result<Tenant, StoreError>> + Send;

    /// Replaces a tenant's settings; returns it as updated.
    fn set_tenant_settings(
        &self,
        id: &str,
        settings: Value,
    ) -> impl Future<Output = Result<Tenant, StoreError>> + Send;

    /// Stores a new token (its hash).
    fn insert_token(
        &self,
        token: NewApiToken,
    ) -> impl Future<Output = Result<ApiToken, StoreError>> + Send;

    /// The tenant's tokens, revoked included, in creation order.
    fn list_tokens(
        &self,
        tenant: &str,
    ) -> impl Future<Output = Result<Vec<ApiToken>, StoreError>> + Send;

    /// The token with this id, if any.
    fn find_token(
        &self,
        token_id: &str,
    ) -> impl Future<Output = Result<Option<ApiToken>, StoreError>> + Send;

    /// Revokes a token; returns it as updated.
    fn revoke_token(
        &self,
        token_id: &str,
    ) -> impl Future<Output = Result<ApiToken, StoreError>> + Send;

    /// Records that a token was used at `at`.
    fn touch_token(
        &self,
        token_id: &str,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Renames a tenant (rule T10); returns it as updated.
    fn rename_tenant(
        &self,
        id: &str,
        name: &str,
    ) -> impl Future<Output = Result<Tenant, StoreError>> + Send;

    /// Stores a new admin token (its digest) (rule T11).
    fn insert_admin_token(
        &self,
        token: NewAdminToken,
    ) -> impl Future<Output = Result<AdminToken, StoreError>> + Send;

    /// Every admin token, revoked included, in creation order.
    fn list_admin_tokens(&self)
        -> impl Future<Output = Result<Vec<AdminToken>, StoreError>> + Send;

    /// The admin token with this id, if any.
    fn find_admin_token(
        &self,
        token_id: &str,
    ) -> impl Future<Output = Result<Option<AdminToken>, StoreError>> + Send;

    /// Revokes an admin token; returns it as updated.
    fn revoke_admin_token(
        &self,
        token_id: &str,
    ) -> impl Future<Output = Result<AdminToken, StoreError>> + Send;

    /// Records that an admin token was used at `at`.
    fn touch_admin_token(
        &self,
        token_id: &str,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Erases the tenant and everything of it (rule T8).
    fn delete_tenant(&self, id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// A number that changes with every change of a tenant, its settings or a
    /// token's state (rule T9): cheap to read often.
    fn directory_version(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;
}
