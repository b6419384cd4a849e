//! [`TokenAuthenticator`]: the server's side of the authentication seam, over
//! Scimitar's token tables and the tenants' JWT settings.

use std::sync::Arc;

use scimitar_protocol::{Authenticator, Credentials, Principal, Refusal, ScimError, TenantContext};
use scimitar_schema::{Policy, Registry};
use scimitar_store::{StoreError, TenantStore};

use crate::auth::{AuthFailures, TokenCache};
use crate::jwt;
use crate::limits::AuthLimits;
use crate::rate::RateLimiter;
use crate::settings::RateLimit;
use crate::tenant::TenantContexts;

/// Authenticates bearer tokens issued with [`issue_token`](crate::issue_token)
/// against a [`TenantStore`], and JWTs on tenant URLs of tenants whose settings
/// accept them; rate-limits each tenant. The principal carries the tenant's
/// settings, its registry (schema overrides applied) and its policy.
pub struct TokenAuthenticator<T> {
    pub(crate) tenants: Arc<T>,
    pub(crate) limits: AuthLimits,
    registry: Registry,
    policy: Policy,
    pub(crate) tokens: Arc<TokenCache>,
    rate: Arc<RateLimiter>,
    contexts: Arc<TenantContexts>,
    pub(crate) failures: Arc<AuthFailures>,
}

impl<T> std::fmt::Debug for TokenAuthenticator<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAuthenticator").finish_non_exhaustive()
    }
}

impl<T: TenantStore + 'static> TokenAuthenticator<T> {
    /// An authenticator over `tenants`, building tenant contexts over `registry`
    /// and `policy`, with the token cache time and rate limits of `limits`.
    pub fn new(tenants: Arc<T>, registry: Registry, policy: Policy, limits: &AuthLimits) -> Self {
        TokenAuthenticator {
            tenants,
            limits: limits.clone(),
            registry,
            policy,
            tokens: Arc::new(TokenCache::new(std::time::Duration::from_secs(
                limits.token_cache_seconds,
            ))),
            rate: Arc::new(RateLimiter::new(limits)),
            contexts: Arc::new(TenantContexts::default()),
            failures: Arc::new(AuthFailures::default()),
        }
    }

    /// What `tenant`'s requests run under: its registry, policy and settings.
    pub(crate) fn context(&self, tenant: &scimitar_store::Tenant) -> Arc<TenantContext> {
        self.contexts.context(tenant, &self.registry, &self.policy)
    }

    fn refused(&self, refusal: Refusal) -> ScimError {
        self.failures.record(refusal);
        ScimError::Unauthorized(refusal)
    }

    /// Verifies a JWT against the settings of the tenant named in the URL.
    async fn jwt_principal(
        &self,
        url_tenant: Option<&str>,
        token: &str,
    ) -> Result<Principal, ScimError> {
        // JWTs are accepted on /tenants/{tenant}/... URLs only.
        let Some(tenant_id) = url_tenant else {
            return Err(self.refused(Refusal::BadJwt));
        };
        let tenant = match self.tenants.get_tenant(tenant_id).await {
            Ok(tenant) => tenant,
            Err(StoreError::NotFound { .. }) => return Err(self.refused(Refusal::BadJwt)),
            Err(error) => return Err(error.into()),
        };
        if let Err(refusal) = jwt::verify(&tenant, token) {
            log::debug!("JWT refused for tenant {tenant_id}: {refusal}");
            return Err(self.refused(Refusal::BadJwt));
        }
        Ok(Principal {
            context: Some(self.contexts.context(&tenant, &self.registry, &self.policy)),
            enabled: tenant.enabled,
            ..Principal::new(tenant.id, "jwt")
        })
    }
}

impl<T: TenantStore + 'static> Authenticator for TokenAuthenticator<T> {
    async fn authenticate(&self, request: &Credentials<'_>) -> Result<Principal, ScimError> {
        let token = request.bearer_token().map_err(|error| match error {
            ScimError::Unauthorized(refusal) => self.refused(refusal),
            other => other,
        })?;
        self.tokens.follow_directory(&*self.tenants).await;
        if jwt::looks_like_jwt(token) {
            self.jwt_principal(request.url_tenant, token).await
        } else {
            self.tokens
                .verify(&*self.tenants, token, |tenant| {
                    self.contexts.context(tenant, &self.registry, &self.policy)
                })
                .await?
                .map_err(|refusal| self.refused(refusal))
        }
    }

    fn authorize(&self, principal: &Principal) -> Result<(), ScimError> {
        let limit = principal
            .context
            .as_ref()
            .and_then(|context| context.extensions.get::<RateLimit>().copied());
        self.rate.check(&principal.tenant, limit)
    }
}
