//! [`ScimEngine`]: the builder embedders configure, and the two steps every
//! adapter runs: [`admit`](ScimEngine::admit) a request head, then
//! [`respond`](ScimEngine::respond) with its body.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::request::Parts;
use scimitar_schema::{Policy, Registry, ResourceType};
use scimitar_store::{Store, TenantSettings};

use crate::auth::{Authenticator, Credentials, Principal, TenantContext};
use crate::cursor::CursorSeal;
use crate::error::ScimError;
use crate::observe::{Exchange, Notes, Observer};
use crate::origin::{Origins, PublicUrl};
use crate::response::{PatchAnswer, Response};
use crate::{routes, Limits};

/// A SCIM 2.0 service provider over a [`Store`], authenticating with an
/// [`Authenticator`]: `http` requests in, `http` responses out.
///
/// Cloning is cheap (clones share everything), so configure it first, then hand
/// clones to an adapter: `scimitar-actix` for actix-web, `scimitar-tower` for
/// axum, hyper and other tower stacks, or your own, in about ten lines
/// (see [`ScimEngine::handle`]).
pub struct ScimEngine<S, A> {
    shared: Arc<Shared<S, A>>,
}

impl<S, A> Clone for ScimEngine<S, A> {
    fn clone(&self) -> Self {
        ScimEngine {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S, A> std::fmt::Debug for ScimEngine<S, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScimEngine")
            .field("limits", &self.shared.limits)
            .finish_non_exhaustive()
    }
}

/// What every handler shares.
pub(crate) struct Shared<S, A> {
    pub(crate) store: Arc<S>,
    pub(crate) authenticator: Arc<A>,
    pub(crate) default_context: Arc<TenantContext>,
    pub(crate) limits: Limits,
    pub(crate) origins: Origins,
    pub(crate) cursors: CursorSeal,
    pub(crate) observers: Vec<Arc<dyn Observer>>,
    pub(crate) patch_answer: PatchAnswer,
}

impl<S, A> Clone for Shared<S, A> {
    fn clone(&self) -> Self {
        Shared {
            store: Arc::clone(&self.store),
            authenticator: Arc::clone(&self.authenticator),
            default_context: Arc::clone(&self.default_context),
            limits: self.limits.clone(),
            origins: self.origins.clone(),
            cursors: self.cursors.clone(),
            observers: self.observers.clone(),
            patch_answer: self.patch_answer,
        }
    }
}

/// Where a request's SCIM base is: the adapter found it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mount {
    /// The base's path as requested, e.g. `/scim/v2` or `/tenants/acme/scim/v2`,
    /// without a trailing slash; `Location` and `$ref` URLs start with it.
    pub base_path: String,
    /// The path below the base, e.g. `/Users/42`; empty for the base itself.
    pub rest: String,
    /// The tenant the URL names, if the base has a `{tenant}` segment: a
    /// credential of another tenant is refused (403).
    pub tenant: Option<String>,
}

/// A request whose head the engine has accepted: authenticated, within the
/// limits. Read its body (up to [`Limits::max_payload_size`]) and pass it to
/// [`ScimEngine::respond`].
#[derive(Debug)]
pub struct Admitted {
    /// When the engine took the request (before authentication).
    started: Instant,
    parts: Parts,
    mount: Mount,
    principal: Principal,
    context: Arc<TenantContext>,
    base_url: String,
}

impl Admitted {
    /// Who the request is.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }
}

/// Why an adapter could not read a request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// The body is longer than [`Limits::max_payload_size`] (413).
    TooLarge,
    /// The body could not be read (400), for this reason.
    Unreadable(String),
}

impl<S: Store + 'static, A: Authenticator> ScimEngine<S, A> {
    /// An engine over `store`, authenticating with `authenticator`; with
    /// [`Registry::builtin`], [`Policy::compatible`] and default [`Limits`].
    pub fn new(store: S, authenticator: A) -> Self {
        ScimEngine::from_arcs(Arc::new(store), Arc::new(authenticator))
    }

    /// An engine over a shared store and authenticator.
    pub fn from_arcs(store: Arc<S>, authenticator: Arc<A>) -> Self {
        ScimEngine {
            shared: Arc::new(Shared {
                store,
                authenticator,
                default_context: Arc::new(TenantContext::new(
                    Registry::builtin(),
                    Policy::compatible(),
                    TenantSettings::default(),
                )),
                limits: Limits::default(),
                origins: Origins::default(),
                cursors: CursorSeal::default(),
                observers: Vec::new(),
                patch_answer: PatchAnswer::default(),
            }),
        }
    }

    fn configure(mut self, change: impl FnOnce(&mut Shared<S, A>)) -> Self {
        change(Arc::make_mut(&mut self.shared));
        self
    }

    /// The schemas and resource types served to principals without a context of
    /// their own; every resource type gets endpoints.
    pub fn registry(self, registry: Registry) -> Self {
        self.configure(|shared| Arc::make_mut(&mut shared.default_context).registry = registry)
    }

    /// The identity-provider policy of principals without a context of their own.
    pub fn policy(self, policy: Policy) -> Self {
        self.configure(|shared| Arc::make_mut(&mut shared.default_context).policy = policy)
    }

    /// The URL clients reach the service at: `Location`, `meta.location` and
    /// `$ref` start with it (and the base path), whatever the request's `Host` or
    /// forwarded headers say. Without it they start with the request's scheme and
    /// `Host`.
    pub fn public_url(self, url: PublicUrl) -> Self {
        self.configure(|shared| shared.origins.public_url = Some(url))
    }

    /// The addresses of reverse proxies (single addresses or CIDR networks, e.g.
    /// `10.0.0.0/8`) whose `Forwarded`, `X-Forwarded-Host` and `X-Forwarded-Proto`
    /// headers are believed (the adapter tells the peer, see
    /// [`Connection`](crate::Connection)). From any other peer those headers are
    /// ignored. None by default.
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
        self.configure(|shared| shared.limits = limits)
    }

    /// What a successful PATCH that asks for no projection answers:
    /// [`PatchAnswer::NoContentForGroups`] by default.
    pub fn patch_answer(self, answer: PatchAnswer) -> Self {
        self.configure(|shared| shared.patch_answer = answer)
    }

    /// Calls `observer` after every authenticated request (a provisioning log,
    /// metrics, an audit trail), after the observers added before it.
    pub fn observer(self, observer: Arc<dyn Observer>) -> Self {
        self.configure(|shared| shared.observers.push(observer))
    }

    /// This engine's configuration with another authenticator.
    pub fn with_authenticator<B: Authenticator>(&self, authenticator: Arc<B>) -> ScimEngine<S, B> {
        let shared = &*self.shared;
        ScimEngine {
            shared: Arc::new(Shared {
                store: Arc::clone(&shared.store),
                authenticator,
                default_context: Arc::clone(&shared.default_context),
                limits: shared.limits.clone(),
                origins: shared.origins.clone(),
                cursors: shared.cursors.clone(),
                observers: shared.observers.clone(),
                patch_answer: shared.patch_answer,
            }),
        }
    }

    /// The registry and policy of principals without a context of their own.
    pub fn default_context(&self) -> &TenantContext {
        &self.shared.default_context
    }

    /// The resource store.
    pub fn store(&self) -> &Arc<S> {
        &self.shared.store
    }

    /// The authenticator.
    pub fn authenticator(&self) -> &Arc<A> {
        &self.shared.authenticator
    }

    /// The limits enforced.
    pub fn limits_enforced(&self) -> &Limits {
        &self.shared.limits
    }

    /// The first step of a request: checks the head's size, then authenticates it
    /// (reading only the `Authorization` header and the URL), then checks the
    /// tenant the URL names. Answers with the response to send when the request
    /// goes no further.
    pub async fn admit(&self, parts: Parts, mount: Mount) -> Result<Admitted, Response> {
        let started = Instant::now();
        let shared = &*self.shared;
        // Only lengths are checked before authentication: a 414 or 431 reads nothing.
        shared
            .limits
            .check_head(&parts)
            .map_err(|error| error.to_response())?;
        let credentials = Credentials {
            headers: &parts.headers,
            url_tenant: mount.tenant.as_deref(),
        };
        let principal = shared
            .authenticator
            .authenticate(&credentials)
            .await
            .map_err(|error| error.to_response())?;
        let context = principal
            .context
            .clone()
            .unwrap_or_else(|| Arc::clone(&shared.default_context));
        // The origin (Host, forwarded headers) is read only for an accepted request.
        let base_url = format!(
            "{}{}",
            shared.origins.origin(&parts),
            mount.base_path.trim_end_matches('/')
        );
        let admitted = Admitted {
            started,
            parts,
            mount,
            principal,
            context,
            base_url,
        };
        match self.authorize(&admitted) {
            Ok(()) => Ok(admitted),
            Err(error) => Err(self.finish(&admitted, &Notes::default(), Err(error))),
        }
    }

    fn authorize(&self, admitted: &Admitted) -> Result<(), ScimError> {
        let principal = &admitted.principal;
        if let Some(url_tenant) = &admitted.mount.tenant {
            if *url_tenant != principal.tenant {
                return Err(ScimError::Forbidden(format!(
                    "the bearer token does not belong to tenant {url_tenant}"
                )));
            }
        }
        if !principal.enabled {
            return Err(ScimError::Forbidden(format!(
                "provisioning is disabled for tenant {}",
                principal.tenant
            )));
        }
        self.shared.authenticator.authorize(principal)
    }

    /// The second step: the response to an admitted request with its body (or
    /// why the adapter could not read it).
    pub async fn respond(&self, admitted: Admitted, body: Result<Bytes, BodyError>) -> Response {
        let mut notes = Notes::default();
        let result = match body {
            Ok(body) => {
                let call = Call {
                    shared: &self.shared,
                    principal: &admitted.principal,
                    context: &admitted.context,
                    base_url: &admitted.base_url,
                };
                routes::route(
                    &call,
                    &admitted.parts,
                    &admitted.mount.rest,
                    &body,
                    &mut notes,
                )
                .await
            }
            Err(BodyError::TooLarge) => Err(ScimError::PayloadTooLarge(format!(
                "the request body is over the limit of {} bytes",
                self.shared.limits.max_payload_size
            ))),
            Err(BodyError::Unreadable(reason)) => Err(ScimError::BodyUnreadable(reason)),
        };
        self.finish(&admitted, &notes, result)
    }

    /// Both steps for a request whose body is already read, the simplest way to
    /// serve SCIM from any HTTP stack:
    ///
    /// ```
    /// use scimitar_protocol::{Authenticator, Credentials, Mount, Principal, ScimEngine, ScimError};
    /// use scimitar_store::MemoryStore;
    ///
    /// struct OneKey;
    /// impl Authenticator for OneKey {
    ///     async fn authenticate(&self, request: &Credentials<'_>) -> Result<Principal, ScimError> {
    ///         match request.bearer_token()? {
    ///             "let-me-in" => Ok(Principal::new("acme", "idp")),
    ///             _ => Err(ScimError::Unauthorized(scimitar_protocol::Refusal::Unknown)),
    ///         }
    ///     }
    /// }
    ///
    /// # futures_executor::block_on(async {
    /// let engine = ScimEngine::new(MemoryStore::new(), OneKey);
    /// let request = http::Request::get("/scim/v2/Users?count=1")
    ///     .header("authorization", "Bearer let-me-in")
    ///     .body(bytes::Bytes::new())
    ///     .unwrap();
    /// let mount = Mount { base_path: "/scim/v2".into(), rest: "/Users".into(), tenant: None };
    /// let response = engine.handle(request, mount).await;
    /// assert_eq!(response.status(), 200);
    /// # });
    /// ```
    pub async fn handle(&self, request: http::Request<Bytes>, mount: Mount) -> Response {
        let (parts, body) = request.into_parts();
        let too_large = body.len() > self.shared.limits.max_payload_size;
        match self.admit(parts, mount).await {
            Ok(admitted) if too_large => self.respond(admitted, Err(BodyError::TooLarge)).await,
            Ok(admitted) => self.respond(admitted, Ok(body)).await,
            Err(response) => response,
        }
    }

    /// The response of `result`, shown to the observer.
    fn finish(
        &self,
        admitted: &Admitted,
        notes: &Notes,
        result: Result<Response, ScimError>,
    ) -> Response {
        let (mut response, error) = match result {
            Ok(response) => (response, None),
            Err(error) => (error.to_response(), Some(error)),
        };
        if let Some(location) = notes
            .location
            .as_deref()
            .and_then(|location| http::HeaderValue::from_str(location).ok())
        {
            response
                .headers_mut()
                .insert(http::header::LOCATION, location);
        }
        if !self.shared.observers.is_empty() {
            let exchange = Exchange {
                method: &admitted.parts.method,
                path: &admitted.mount.rest,
                headers: &admitted.parts.headers,
                principal: &admitted.principal,
                notes,
                response: &response,
                error: error.as_ref(),
                elapsed: admitted.started.elapsed(),
            };
            for observer in &self.shared.observers {
                observer.observe(&exchange);
            }
        }
        // For the adapter's request logging: who this was.
        response.extensions_mut().insert(admitted.principal.clone());
        response
    }
}

/// An admitted request, as handlers see it: the principal, its tenant's context
/// and the base URL.
pub(crate) struct Call<'a, S, A> {
    pub(crate) shared: &'a Shared<S, A>,
    pub(crate) principal: &'a Principal,
    pub(crate) context: &'a TenantContext,
    pub(crate) base_url: &'a str,
}

impl<S, A> Call<'_, S, A> {
    /// The store scope of this request: the tenant's registry, policy and settings.
    pub(crate) fn scope(&self) -> scimitar_store::Scope<'_> {
        scimitar_store::Scope::new(
            &self.principal.tenant,
            &self.context.registry,
            &self.context.policy,
        )
        .with_settings(&self.context.settings)
        .with_client(&self.principal.client)
    }

    /// The limits enforced.
    pub(crate) fn limits(&self) -> &Limits {
        &self.shared.limits
    }

    /// The resource type served at `/{endpoint}` for this tenant, ignoring case.
    pub(crate) fn resource_type(&self, endpoint: &str) -> Result<&ResourceType, ScimError> {
        resource_type_at(&self.context.registry, endpoint)
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
