//! [`ScimService`]: the builder embedders configure, and the actix scope it builds.

use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{from_fn, Next};
use actix_web::web::{self, Data};
use actix_web::{Error, HttpMessage, HttpRequest, HttpResponse, Resource, Route};
use scimitar_schema::{ErrorResponse, Policy, Registry, ResourceType};
use scimitar_store::provisioning_log::ProvisioningLog;
use scimitar_store::{Store, StoreError, TenantStore};

use crate::auth::{AuthFailures, Credential, Refusal, TokenCache};
use crate::cursor::CursorSeal;
use crate::error::{error_body, ScimError};
use crate::origin::{Origins, PublicUrl};
use crate::provisioning::{entry_for, LogQueue, RequestFacts};
use crate::rate::RateLimiter;
use crate::request::{base_url, BaseUrl};
use crate::tenant::{TenantContext, TenantContexts};
use crate::{bulk, discovery, handlers, jwt, Limits};

/// A SCIM 2.0 service provider over a store, ready to mount in an actix-web app.
///
/// `S` stores the resources ([`Store`]); `T` is the tenant directory the bearer
/// tokens are checked against ([`TenantStore`]), by default the same type. Cloning
/// is cheap and clones share their token cache, so configure the service first,
/// then build as many scopes as needed:
///
/// ```no_run
/// use actix_web::{App, HttpServer};
/// use scimitar_actix::ScimService;
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
    shared: Arc<Shared<S, T>>,
}

impl<S, T> Clone for ScimService<S, T> {
    fn clone(&self) -> Self {
        ScimService {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S, T> std::fmt::Debug for ScimService<S, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScimService")
            .field("limits", &self.shared.limits)
            .finish_non_exhaustive()
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
        let limits = Limits::default();
        ScimService {
            shared: Arc::new(Shared {
                store,
                tenants,
                registry: Registry::builtin(),
                policy: Policy::compatible(),
                tokens: Arc::new(TokenCache::new(limits.token_cache_ttl())),
                rate: Arc::new(RateLimiter::new(&limits)),
                contexts: Arc::new(TenantContexts::default()),
                log: None,
                failures: Arc::new(AuthFailures::default()),
                origins: Origins::default(),
                cursors: CursorSeal::default(),
                limits,
            }),
        }
    }

    fn configure(mut self, change: impl FnOnce(&mut Shared<S, T>)) -> Self {
        change(Arc::make_mut(&mut self.shared));
        self
    }

    /// The schemas and resource types served; every resource type gets endpoints.
    pub fn registry(self, registry: Registry) -> Self {
        self.configure(|shared| {
            shared.registry = registry;
            shared.contexts = Arc::new(TenantContexts::default());
        })
    }

    /// The identity-provider policy of tenants whose settings name none (a tenant's
    /// `settings.policy` object overrides it).
    pub fn policy(self, policy: Policy) -> Self {
        self.configure(|shared| shared.policy = policy)
    }

    /// The URL clients reach the service at: `Location`, `meta.location` and
    /// `$ref` start with it (and the path a scope is mounted at), whatever the
    /// request's `Host` or forwarded headers say. Without it they start with the
    /// request's scheme and `Host`.
    pub fn public_url(self, url: PublicUrl) -> Self {
        self.configure(|shared| shared.origins.public_url = Some(url))
    }

    /// The addresses of reverse proxies (single addresses or CIDR networks, e.g.
    /// `10.0.0.0/8`) whose `Forwarded`, `X-Forwarded-Host` and `X-Forwarded-Proto`
    /// headers are believed. From any other peer those headers are ignored. None
    /// by default.
    pub fn trusted_proxies(self, proxies: impl IntoIterator<Item = ipnet::IpNet>) -> Self {
        let proxies = proxies.into_iter().collect();
        self.configure(|shared| shared.origins.trusted_proxies = proxies)
    }

    /// The key RFC 9865 cursors are sealed with (see the crate docs). Servers that
    /// share a database and a balancer must share it, or a page asked of one with
    /// another's cursor is `invalidCursor`. By default a random key of this
    /// process.
    pub fn cursor_key(self, key: &[u8; 32]) -> Self {
        let seal = CursorSeal::new(key);
        self.configure(|shared| shared.cursors = seal)
    }

    /// The limits enforced and advertised.
    pub fn limits(self, limits: Limits) -> Self {
        self.configure(|shared| {
            shared.tokens = Arc::new(TokenCache::new(limits.token_cache_ttl()));
            shared.rate = Arc::new(RateLimiter::new(&limits));
            shared.limits = limits;
        })
    }

    /// Records every request of the scopes in `log` (see
    /// [`scimitar_store::provisioning_log`]): tenant, client (token id and label,
    /// `User-Agent`), operation, resource, status, `scimType` and detail. Entries
    /// are written after the response by a background thread, in batches; a slow
    /// or failing log drops entries (with a warning) but never delays or fails a
    /// request.
    pub fn provisioning_log<L: ProvisioningLog + 'static>(self, log: Arc<L>) -> Self {
        let queue = LogQueue::start(log);
        self.configure(|shared| shared.log = Some(queue))
    }

    /// Replaces a tenant's settings (a JSON object read strictly with
    /// [`TenantSettings::parse`](scimitar_store::TenantSettings::parse)), effective
    /// at once in this service (other processes notice within a second). Secrets
    /// sent as
    /// [`HIDDEN`](scimitar_store::settings::HIDDEN), or left out, keep their stored
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
        let invalid =
            |error: scimitar_store::SettingsError| StoreError::InvalidValue(error.to_string());
        let previous = self.shared.tenants.get_tenant(tenant).await?;
        let previous =
            scimitar_store::TenantSettings::from_value(&previous.settings).unwrap_or_default();
        let settings =
            scimitar_store::TenantSettings::parse(&settings, &previous).map_err(invalid)?;
        self.shared
            .tenants
            .set_tenant_settings(tenant, settings.to_value())
            .await?;
        self.shared.tokens.forget_tenant(tenant);
        Ok(())
    }

    /// The resource store.
    pub fn store(&self) -> &Arc<S> {
        &self.shared.store
    }

    /// The tenant directory.
    pub fn tenants(&self) -> &Arc<T> {
        &self.shared.tenants
    }

    /// Revokes a token and forgets it from this service's cache at once (other
    /// processes notice within a second).
    ///
    /// # Errors
    /// The tenant store's, e.g. [`StoreError::NotFound`] for an unknown id.
    pub async fn revoke_token(&self, token_id: &str) -> Result<(), StoreError> {
        self.shared.tenants.revoke_token(token_id).await?;
        self.shared.tokens.forget_token(token_id);
        Ok(())
    }

    /// Enables or disables a tenant, effective at once in this service.
    ///
    /// # Errors
    /// The tenant store's, e.g. [`StoreError::NotFound`] for an unknown tenant.
    pub async fn set_tenant_enabled(&self, tenant: &str, enabled: bool) -> Result<(), StoreError> {
        self.shared
            .tenants
            .set_tenant_enabled(tenant, enabled)
            .await?;
        self.shared.tokens.forget_tenant(tenant);
        Ok(())
    }

    /// Erases a tenant and everything of it
    /// ([`TenantStore::delete_tenant`]), and forgets its tokens in this service at
    /// once.
    ///
    /// # Errors
    /// The tenant store's, e.g. [`StoreError::NotFound`] for an unknown tenant.
    pub async fn delete_tenant(&self, tenant: &str) -> Result<(), StoreError> {
        self.shared.tenants.delete_tenant(tenant).await?;
        self.shared.tokens.forget_tenant(tenant);
        Ok(())
    }

    /// The SCIM endpoints under `path` (e.g. `/scim/v2`); the tenant is the bearer
    /// token's.
    pub fn scope(&self, path: &str) -> actix_web::Scope<impl ScopeFactory> {
        let scope = web::scope(path).app_data(Data::from(Arc::clone(&self.shared)));
        let scope = match &self.shared.log {
            Some(queue) => scope.app_data(queue.clone()),
            None => scope,
        };
        scope
            .app_data(web::PayloadConfig::new(self.shared.limits.max_payload_size))
            .wrap(from_fn(scim_middleware::<S, T, _>))
            .service(endpoint(
                "/ServiceProviderConfig",
                [web::get().to(discovery::service_provider_config::<S, T>)],
            ))
            .service(endpoint(
                "/ResourceTypes",
                [web::get().to(discovery::resource_types::<S, T>)],
            ))
            .service(endpoint(
                "/ResourceTypes/{name}",
                [web::get().to(discovery::resource_type::<S, T>)],
            ))
            .service(endpoint(
                "/Schemas",
                [web::get().to(discovery::schemas::<S, T>)],
            ))
            .service(endpoint(
                "/Schemas/{id}",
                [web::get().to(discovery::schema::<S, T>)],
            ))
            .service(endpoint("/Bulk", [web::post().to(bulk::bulk::<S, T>)]))
            .service(endpoint(
                "/.search",
                [web::post().to(handlers::search_all::<S, T>)],
            ))
            .service(web::resource(["/Me", "/Me/{rest:.*}"]).to(handlers::me::<S, T>))
            .service(endpoint(
                "/{endpoint}",
                [
                    web::get().to(handlers::list::<S, T>),
                    web::post().to(handlers::create::<S, T>),
                ],
            ))
            .service(endpoint(
                "/{endpoint}/.search",
                [web::post().to(handlers::search::<S, T>)],
            ))
            .service(endpoint(
                "/{endpoint}/{id}",
                [
                    web::get().to(handlers::get::<S, T>),
                    web::put().to(handlers::replace::<S, T>),
                    web::patch().to(handlers::patch::<S, T>),
                    web::delete().to(handlers::delete::<S, T>),
                ],
            ))
            .default_service(web::to(not_found))
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

/// The service factory inside the scopes this crate builds ([`ScimService::scope`],
/// [`AdminApi::scope`](crate::AdminApi::scope)): requests in, boxed responses out.
/// Any such factory is one; the name keeps their signatures short.
pub trait ScopeFactory:
    ServiceFactory<
    ServiceRequest,
    Config = (),
    Response = ServiceResponse<BoxBody>,
    Error = Error,
    InitError = (),
>
{
}

impl<F> ScopeFactory for F where
    F: ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<BoxBody>,
        Error = Error,
        InitError = (),
    >
{
}

/// What every handler shares: the store, registry, policy, limits and caches.
pub(crate) struct Shared<S, T> {
    pub(crate) store: Arc<S>,
    pub(crate) tenants: Arc<T>,
    pub(crate) registry: Registry,
    pub(crate) policy: Policy,
    pub(crate) limits: Limits,
    pub(crate) tokens: Arc<TokenCache>,
    pub(crate) rate: Arc<RateLimiter>,
    pub(crate) contexts: Arc<TenantContexts>,
    pub(crate) log: Option<LogQueue>,
    pub(crate) failures: Arc<AuthFailures>,
    pub(crate) origins: Origins,
    pub(crate) cursors: CursorSeal,
}

impl<S, T> Clone for Shared<S, T> {
    fn clone(&self) -> Self {
        Shared {
            store: Arc::clone(&self.store),
            tenants: Arc::clone(&self.tenants),
            registry: self.registry.clone(),
            policy: self.policy.clone(),
            limits: self.limits.clone(),
            tokens: Arc::clone(&self.tokens),
            rate: Arc::clone(&self.rate),
            contexts: Arc::clone(&self.contexts),
            log: self.log.clone(),
            failures: Arc::clone(&self.failures),
            origins: self.origins.clone(),
            cursors: self.cursors.clone(),
        }
    }
}

/// Who a request was authenticated as, in the request's extensions for loggers
/// (see [`log_request`](crate::log_request)). Holds no secret.
#[derive(Debug, Clone)]
pub struct RequestCredential {
    /// The tenant id.
    pub tenant: String,
    /// The public id of the bearer token (`jwt` for a JWT).
    pub token_id: String,
    /// The token's label (empty for a JWT).
    pub token_label: String,
}

/// An authenticated request: the credential and where the scope is mounted.
pub(crate) struct Call<'a, S, T> {
    pub(crate) shared: &'a Shared<S, T>,
    pub(crate) credential: Credential,
    pub(crate) base_url: String,
}

impl<S, T> Call<'_, S, T> {
    /// The store scope of this request: the tenant's registry, policy and settings.
    pub(crate) fn scope(&self) -> scimitar_store::Scope<'_> {
        let context = self.context();
        scimitar_store::Scope::new(
            &self.credential.tenant.id,
            &context.registry,
            &context.policy,
        )
        .with_settings(&context.settings)
        .with_client(&self.credential.token_id)
    }

    /// The tenant's registry, policy and settings.
    pub(crate) fn context(&self) -> &TenantContext {
        &self.credential.context
    }

    /// The resource type served at `/{endpoint}` for this tenant, ignoring case.
    pub(crate) fn resource_type(&self, endpoint: &str) -> Result<&ResourceType, ScimError> {
        resource_type_at(&self.context().registry, endpoint)
    }
}

impl<S, T> Shared<S, T> {
    /// The authenticated request `req`: the scope's middleware authenticated it
    /// before any handler or extractor ran.
    pub(crate) fn call(&self, req: &HttpRequest) -> Result<Call<'_, S, T>, ScimError> {
        let credential = req
            .extensions()
            .get::<Credential>()
            .cloned()
            .ok_or(ScimError::Unauthorized(Refusal::Missing))?;
        Ok(Call {
            shared: self,
            credential,
            base_url: base_url(req),
        })
    }
}

impl<S, T: TenantStore> Shared<S, T> {
    /// Authenticates `req` (bearer token, tenant URL, tenant enabled, rate limit)
    /// and keeps the credential in its extensions for [`Shared::call`]. Nothing of
    /// the request but its `Authorization` header and URL is read.
    pub(crate) async fn authenticate(&self, req: &HttpRequest) -> Result<(), ScimError> {
        let refused = |refusal: Refusal| {
            self.failures.record(refusal);
            ScimError::Unauthorized(refusal)
        };
        let token = bearer_token(req).map_err(refused)?;
        self.tokens.follow_directory(&*self.tenants).await;
        let credential = if jwt::looks_like_jwt(token) {
            self.jwt_credential(req, token)
                .await
                .map_err(|error| match error {
                    ScimError::Unauthorized(refusal) => refused(refusal),
                    other => other,
                })?
        } else {
            self.tokens
                .verify(&*self.tenants, token, |tenant| self.context_of(tenant))
                .await?
                .map_err(refused)?
        };
        let tenant = &credential.tenant;
        req.extensions_mut().insert(RequestCredential {
            tenant: tenant.id.clone(),
            token_id: credential.token_id.clone(),
            token_label: credential.token_label.clone(),
        });
        if let Some(url_tenant) = req.match_info().get("tenant") {
            if url_tenant != tenant.id {
                return Err(ScimError::Forbidden(format!(
                    "the bearer token does not belong to tenant {url_tenant}"
                )));
            }
        }
        if !tenant.enabled {
            return Err(ScimError::Forbidden(format!(
                "provisioning is disabled for tenant {}",
                tenant.id
            )));
        }
        self.rate
            .check(&tenant.id, credential.context.settings.rate_limit)?;
        req.extensions_mut().insert(credential);
        Ok(())
    }

    /// Verifies a JWT against the settings of the tenant named in the URL.
    async fn jwt_credential(
        &self,
        req: &HttpRequest,
        token: &str,
    ) -> Result<Credential, ScimError> {
        // JWTs are accepted on /tenants/{tenant}/... URLs only.
        let Some(tenant_id) = req.match_info().get("tenant") else {
            return Err(ScimError::Unauthorized(Refusal::BadJwt));
        };
        let tenant = match self.tenants.get_tenant(tenant_id).await {
            Ok(tenant) => tenant,
            Err(StoreError::NotFound { .. }) => {
                return Err(ScimError::Unauthorized(Refusal::BadJwt))
            }
            Err(error) => return Err(error.into()),
        };
        if let Err(refusal) = jwt::verify(&tenant, token) {
            log::debug!("JWT refused for tenant {tenant_id}: {refusal}");
            return Err(ScimError::Unauthorized(Refusal::BadJwt));
        }
        Ok(Credential {
            context: self.context_of(&tenant),
            tenant: Arc::new(tenant),
            token_id: "jwt".into(),
            token_label: String::new(),
            user: None,
        })
    }

    /// The registry, policy and settings `tenant`'s requests run under.
    pub(crate) fn context_of(&self, tenant: &scimitar_store::Tenant) -> Arc<TenantContext> {
        self.contexts.context(tenant, &self.registry, &self.policy)
    }
}

/// The resource type of `registry` served at `/{endpoint}`, ignoring case.
pub(crate) fn resource_type_at<'r>(
    registry: &'r Registry,
    endpoint: &str,
) -> Result<&'r ResourceType, ScimError> {
    registry
        .resource_types()
        .iter()
        .find(|resource_type| {
            resource_type
                .endpoint
                .trim_matches('/')
                .eq_ignore_ascii_case(endpoint)
        })
        .ok_or_else(|| ScimError::NotFound(format!("no endpoint /{endpoint}")))
}

/// The bearer token of the `Authorization` header.
fn bearer_token(req: &HttpRequest) -> Result<&str, Refusal> {
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or(Refusal::Missing)?;
    let text = header.to_str().unwrap_or_default().trim();
    match text.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Ok(token.trim()),
        _ => Err(Refusal::Malformed),
    }
}

/// `path` answering `routes`, and 405 to any other method.
fn endpoint(path: &str, routes: impl IntoIterator<Item = Route>) -> Resource {
    routes
        .into_iter()
        .fold(web::resource(path), Resource::route)
        .default_service(web::to(method_not_allowed))
}

async fn method_not_allowed(req: HttpRequest) -> Result<HttpResponse, ScimError> {
    Err(ScimError::MethodNotAllowed(req.method().to_string()))
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, ScimError> {
    Err(ScimError::NotFound(format!("no endpoint {}", req.path())))
}

/// Authenticates every request before anything else of it is read (its route,
/// query, content type or body), records where the scope is mounted, and makes
/// every error response a SCIM error: actix's own (payload too large, a path that
/// does not parse...) come out as plain text otherwise.
async fn scim_middleware<S: 'static, T: TenantStore + 'static, B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let path = req.path();
    let matched = path
        .len()
        .saturating_sub(req.match_info().unprocessed().len());
    let base = path.get(..matched).unwrap_or_default().to_owned();
    let facts = RequestFacts {
        method: req.method().clone(),
        rest: path.get(matched..).unwrap_or_default().to_owned(),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|agent| agent.to_str().ok())
            .map(str::to_owned),
    };
    // Only lengths are checked before authentication: a 414 or 431 reads nothing.
    // The origin (Host, forwarded headers) is read only for an accepted request.
    let authenticated = match req.app_data::<Data<Shared<S, T>>>() {
        Some(shared) => match shared.limits.check_head(req.request()) {
            Ok(()) => shared.authenticate(req.request()).await.map(|()| {
                let origin = shared.origins.origin(req.request());
                let base = format!("{origin}{}", base.trim_end_matches('/'));
                req.extensions_mut().insert(BaseUrl(base));
            }),
            Err(error) => Err(error),
        },
        None => Err(ScimError::Unauthorized(Refusal::Missing)),
    };
    let response = match authenticated {
        // Handlers and extractors answer with responses (errors included); an
        // `Err` here would come from a middleware inside the scope, and there is
        // none.
        Ok(()) => scim_error_body(next.call(req).await?.map_into_boxed_body()),
        Err(refused) => req.into_response(HttpResponse::from_error(refused)),
    };
    if let Some(queue) = response.request().app_data::<LogQueue>() {
        if let Some(entry) = entry_for(facts, &response) {
            queue.push(entry);
        }
    }
    Ok(response)
}

fn scim_error_body(response: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = response.status();
    let is_scim = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/scim+json"));
    if status.as_u16() < 400 || is_scim {
        return response;
    }
    let detail = response
        .response()
        .error()
        .map(ToString::to_string)
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
    let (request, old) = response.into_parts();
    let mut body = error_body(&ErrorResponse::new(status.as_u16(), detail));
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            body.headers_mut().insert(name.clone(), value.clone());
        }
    }
    if status == actix_web::http::StatusCode::UNAUTHORIZED {
        body.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Bearer realm="scimitar""#),
        );
    }
    ServiceResponse::new(request, body)
}
