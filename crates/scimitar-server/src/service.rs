//! [`ScimService`]: the bundled server's SCIM service, a [`ScimEngine`] with
//! Scimitar's token authentication and provisioning log, mounted in actix-web.

use std::sync::Arc;

use scimitar_actix::ScopeFactory;
use scimitar_protocol::{Limits, PublicUrl, ScimEngine};
use scimitar_schema::{Policy, Registry};
use scimitar_store::provisioning_log::ProvisioningLog;
use scimitar_store::{Store, StoreError, TenantStore};

use crate::authenticator::TokenAuthenticator;
use crate::limits::AuthLimits;
use crate::metrics::Metrics;
use crate::provisioning::LogQueue;
use crate::settings::TenantConfig;

/// A SCIM 2.0 service provider over a store whose tenants and bearer tokens live
/// in a [`TenantStore`], ready to mount in an actix-web app.
///
/// `S` stores the resources ([`Store`]); `T` is the tenant directory the bearer
/// tokens are checked against, by default the same type. Cloning is cheap and
/// clones share their token cache, so configure the service first, then build as
/// many scopes as needed:
///
/// ```no_run
/// use actix_web::{App, HttpServer};
/// use scimitar_server::ScimService;
/// use scimitar_schema::{Policy, Registry};
/// use scimitar_store::MemoryStore;
///
/// # async fn run() -> std::io::Result<()> {
/// let service = ScimService::new(MemoryStore::new())
///     .registry(Registry::builtin())
///     .policy(Policy::compatible());
/// HttpServer::new(move || {
///     App::new()
///         .service(service.scope("/scim/v2"))
///         .service(service.tenant_scope("/tenants/{tenant}/scim/v2"))
/// })
/// .bind(("127.0.0.1", 8080))?
/// .run()
/// .await
/// # }
/// ```
pub struct ScimService<S, T = S> {
    engine: ScimEngine<S, TokenAuthenticator<T>>,
}

impl<S, T> Clone for ScimService<S, T> {
    fn clone(&self) -> Self {
        ScimService {
            engine: self.engine.clone(),
        }
    }
}

impl<S, T> std::fmt::Debug for ScimService<S, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScimService")
            .field("engine", &self.engine)
            .finish()
    }
}

impl<S: Store + TenantStore + 'static> ScimService<S, S> {
    /// A service over `store`, which also holds the tenants and their tokens; with
    /// [`Registry::builtin`], [`Policy::compatible`] and default [`Limits`].
    pub fn new(store: S) -> Self {
        let store = Arc::new(store);
        ScimService::from_parts(Arc::clone(&store), store)
    }
}

impl<S: Store + 'static, T: TenantStore + 'static> ScimService<S, T> {
    /// A service over a resource store and a separate tenant directory.
    pub fn from_parts(store: Arc<S>, tenants: Arc<T>) -> Self {
        let authenticator = TokenAuthenticator::new(
            tenants,
            Registry::builtin(),
            Policy::compatible(),
            &AuthLimits::default(),
        );
        ScimService {
            engine: ScimEngine::from_arcs(store, Arc::new(authenticator)),
        }
    }

    fn engine_with(
        self,
        change: impl FnOnce(
            ScimEngine<S, TokenAuthenticator<T>>,
        ) -> ScimEngine<S, TokenAuthenticator<T>>,
    ) -> Self {
        ScimService {
            engine: change(self.engine),
        }
    }

    /// The engine with a new authenticator over the same tenants, for the
    /// engine's current registry and policy and `limits` (its caches start
    /// empty).
    fn reauthenticated(self, limits: &AuthLimits) -> Self {
        let context = self.engine.default_context();
        let authenticator = TokenAuthenticator::new(
            Arc::clone(&self.engine.authenticator().tenants),
            context.registry.clone(),
            context.policy.clone(),
            limits,
        );
        let engine = self.engine.with_authenticator(Arc::new(authenticator));
        ScimService { engine }
    }

    /// The schemas and resource types served; every resource type gets endpoints.
    pub fn registry(self, registry: Registry) -> Self {
        let limits = self.engine.authenticator().limits.clone();
        self.engine_with(|engine| engine.registry(registry))
            .reauthenticated(&limits)
    }

    /// The identity-provider policy of tenants whose settings name none (a tenant's
    /// `settings.policy` object overrides it).
    pub fn policy(self, policy: Policy) -> Self {
        let limits = self.engine.authenticator().limits.clone();
        self.engine_with(|engine| engine.policy(policy))
            .reauthenticated(&limits)
    }

    /// The URL clients reach the service at (see
    /// [`ScimEngine::public_url`]).
    pub fn public_url(self, url: PublicUrl) -> Self {
        self.engine_with(|engine| engine.public_url(url))
    }

    /// The reverse proxies whose forwarded headers are believed (see
    /// [`ScimEngine::trusted_proxies`]).
    pub fn trusted_proxies(self, proxies: impl IntoIterator<Item = ipnet::IpNet>) -> Self {
        self.engine_with(|engine| engine.trusted_proxies(proxies))
    }

    /// The key RFC 9865 cursors are sealed with (see [`ScimEngine::cursor_key`]).
    pub fn cursor_key(self, key: &[u8; 32]) -> Self {
        self.engine_with(|engine| engine.cursor_key(key))
    }

    /// The protocol's limits, enforced and advertised.
    pub fn limits(self, limits: Limits) -> Self {
        self.engine_with(|engine| engine.limits(limits))
    }

    /// What a successful PATCH without a projection answers (by default 204
    /// for groups: see [`PatchAnswer`](scimitar_protocol::PatchAnswer)).
    pub fn patch_answer(self, answer: scimitar_protocol::PatchAnswer) -> Self {
        self.engine_with(|engine| engine.patch_answer(answer))
    }

    /// The authenticator's limits: how long verified tokens are trusted, and the
    /// rate limit of tenants without one of their own.
    pub fn auth_limits(self, limits: AuthLimits) -> Self {
        self.reauthenticated(&limits)
    }

    /// Records every request of the scopes in `log` (see
    /// [`scimitar_store::provisioning_log`]): tenant, client (token id and label,
    /// `User-Agent`), operation, resource, status, `scimType` and detail. Entries
    /// are written after the response by a background thread, in batches; a slow
    /// or failing log drops entries (with a warning) but never delays or fails a
    /// request.
    pub fn provisioning_log<L: ProvisioningLog + 'static>(self, log: Arc<L>) -> Self {
        let queue = LogQueue::start(log);
        self.engine_with(|engine| engine.observer(Arc::new(queue)))
    }

    /// Counts and times every admitted request in `metrics` (see
    /// [`metrics`](crate::metrics)), beside the provisioning log.
    pub fn metrics(self, metrics: Arc<Metrics>) -> Self {
        self.engine_with(|engine| engine.observer(metrics))
    }

    /// The credentials refused since start, by reason.
    pub fn auth_refusals(&self) -> Vec<(scimitar_protocol::Refusal, u64)> {
        let totals = self.engine.authenticator().failures.totals();
        scimitar_protocol::Refusal::ALL
            .iter()
            .copied()
            .zip(totals)
            .collect()
    }

    /// The engine behind the scopes, for mounting it elsewhere (a tower stack,
    /// say, with `scimitar-tower`).
    pub fn engine(&self) -> &ScimEngine<S, TokenAuthenticator<T>> {
        &self.engine
    }

    /// Replaces a tenant's settings (a JSON object read strictly with
    /// [`TenantConfig::parse`](crate::settings::TenantConfig::parse)), effective
    /// at once in this service (other processes notice within a second). Secrets
    /// sent as [`HIDDEN`](crate::settings::HIDDEN), or left out, keep their stored
    /// values.
    ///
    /// # Errors
    /// [`StoreError::InvalidValue`] for settings that do not parse or validate,
    /// naming the field; the tenant store's, e.g. [`StoreError::NotFound`] for an
    /// unknown tenant.
    pub async fn set_tenant_settings(
        &self,
        tenant: &str,
        settings: serde_json::Value,
    ) -> Result<(), StoreError> {
        let previous = self.tenant_config(tenant).await?;
        let settings = TenantConfig::parse(&settings, &previous)
            .map_err(|error| StoreError::InvalidValue(error.to_string()))?;
        self.write_tenant_config(tenant, &settings).await
    }

    /// A tenant's settings as stored; settings that do not read (written by a
    /// newer version, say) read as the defaults, as requests see them.
    ///
    /// # Errors
    /// The tenant store's, e.g. [`StoreError::NotFound`] for an unknown tenant.
    pub async fn tenant_config(&self, tenant: &str) -> Result<TenantConfig, StoreError> {
        let stored = self.tenants().get_tenant(tenant).await?;
        Ok(TenantConfig::from_value(&stored.settings).unwrap_or_default())
    }

    /// Stores a tenant's settings as they are (read and check them with
    /// [`TenantConfig::parse`] first), effective at once in this service.
    ///
    /// # Errors
    /// The tenant store's, e.g. [`StoreError::NotFound`] for an unknown tenant.
    pub async fn write_tenant_config(
        &self,
        tenant: &str,
        settings: &TenantConfig,
    ) -> Result<(), StoreError> {
        self.tenants()
            .set_tenant_settings(tenant, settings.to_value())
            .await?;
        self.engine.authenticator().tokens.forget_tenant(tenant);
        Ok(())
    }

    /// What `tenant`'s SCIM requests run under: its registry (schema overrides
    /// applied), policy and settings.
    pub fn tenant_context(
        &self,
        tenant: &scimitar_store::Tenant,
    ) -> Arc<scimitar_protocol::TenantContext> {
        self.engine.authenticator().context(tenant)
    }

    /// The resource store.
    pub fn store(&self) -> &Arc<S> {
        self.engine.store()
    }

    /// The tenant directory.
    pub fn tenants(&self) -> &Arc<T> {
        &self.engine.authenticator().tenants
    }

    /// Revokes a token and forgets it from this service's cache at once (other
    /// processes notice within a second).
    ///
    /// # Errors
    /// The tenant store's, e.g. [`StoreError::NotFound`] for an unknown id.
    pub async fn revoke_token(&self, token_id: &str) -> Result<(), StoreError> {
        self.tenants().revoke_token(token_id).await?;
        self.engine.authenticator().tokens.forget_token(token_id);
        Ok(())
    }

    /// Enables or disables a tenant, effective at once in this service.
    ///
    /// # Errors
    /// The tenant store's, e.g. [`StoreError::NotFound`] for an unknown tenant.
    pub async fn set_tenant_enabled(&self, tenant: &str, enabled: bool) -> Result<(), StoreError> {
        self.tenants().set_tenant_enabled(tenant, enabled).await?;
        self.engine.authenticator().tokens.forget_tenant(tenant);
        Ok(())
    }

    /// Erases a tenant and everything of it
    /// ([`TenantStore::delete_tenant`]), and forgets its tokens in this service at
    /// once.
    ///
    /// # Errors
    /// The tenant store's, e.g. [`StoreError::NotFound`] for an unknown tenant.
    pub async fn delete_tenant(&self, tenant: &str) -> Result<(), StoreError> {
        self.tenants().delete_tenant(tenant).await?;
        self.engine.authenticator().tokens.forget_tenant(tenant);
        Ok(())
    }

    /// The SCIM endpoints under `path` (e.g. `/scim/v2`); the tenant is the bearer
    /// token's.
    pub fn scope(&self, path: &str) -> actix_web::Scope<impl ScopeFactory> {
        scimitar_actix::scope(self.engine.clone(), path)
    }

    /// The SCIM endpoints under a path naming the tenant in a `{tenant}` segment,
    /// e.g. `/tenants/{tenant}/scim/v2`; a token of another tenant is refused (403).
    ///
    /// # Panics
    /// If `path` has no `{tenant}` segment: that is a programming error.
    pub fn tenant_scope(&self, path: &str) -> actix_web::Scope<impl ScopeFactory> {
        assert!(
            path.contains("{tenant}"),
            "tenant_scope({path:?}): the path must have a {{tenant}} segment"
        );
        self.scope(path)
    }
}
