//! The admin API, `/admin/v1`: what an operator, a web console or a host app's
//! admin panel drives, as JSON over HTTP.
//!
//! - **Tenants**: list (paged), create, read, rename, enable or disable, delete
//!   (erasing everything of the tenant). Each shows its SCIM base URL.
//! - **SCIM tokens** of a tenant: issue (the secret is in that response only),
//!   list, revoke. Rotation is an issue followed by a revoke.
//! - **Settings** of a tenant, read and replaced with the schema the CLI uses
//!   ([`TenantConfig`](crate::settings::TenantConfig)); secrets are write-only.
//! - **Webhooks** of a tenant: add, change, remove, rotate the secret, send a
//!   test event; delivery health; dead letters to retry or discard.
//! - **The provisioning log** of a tenant, filtered and paged by cursor, and as a
//!   live stream (Server-Sent Events).
//! - **The directory** of a tenant, read-only: users and groups, with SCIM
//!   filters.
//! - **Admin tokens**: list and revoke (issue them with `scimitar admin-token
//!   issue`, or [`issue_admin_token`]).
//!
//! Every route but `/openapi.json` needs `Authorization: Bearer <admin token>`;
//! a `read-only` token may use the `GET` routes only. Errors are RFC 9457 problem
//! documents ([`Problem`]). The OpenAPI 3.1 document is generated from this
//! code ([`openapi`]).
//!
//! ```
//! use actix_web::{test, App};
//! use scimitar_server::admin::{issue_admin_token, AdminApi, AdminScope};
//! use scimitar_server::ScimService;
//! use scimitar_store::MemoryStore;
//! use serde_json::{json, Value};
//! use std::sync::Arc;
//!
//! # actix_web::rt::System::new().block_on(async {
//! let store = MemoryStore::new();
//! let admin = issue_admin_token(&store, "ops", AdminScope::Admin).await.unwrap().token;
//! let service = ScimService::new(store);
//! let log = Arc::clone(service.store());
//! let api = AdminApi::new(service, log);
//! let app = test::init_service(App::new().service(api.scope("/admin/v1"))).await;
//!
//! let request = test::TestRequest::post()
//!     .uri("/admin/v1/tenants")
//!     .insert_header(("Authorization", format!("Bearer {admin}")))
//!     .set_json(json!({"id": "acme", "displayName": "Acme"}))
//!     .to_request();
//! let tenant: Value = test::call_and_read_body_json(&app, request).await;
//! assert_eq!(tenant["scimUrl"], "http://localhost:8080/tenants/acme/scim/v2");
//! # });
//! ```

mod credentials;
mod directory;
pub(crate) mod log_routes;
pub mod openapi;
mod operations;
mod problem;
mod settings_routes;
mod tenants;
mod views;
mod webhook_routes;

use std::sync::Arc;

use actix_web::http::header;
use actix_web::web::{self, Data};
use actix_web::{HttpRequest, HttpResponse};
use scimitar_protocol::PublicUrl;
use scimitar_store::hooks::OutboxStore;
use scimitar_store::provisioning_log::ProvisioningLog;
use scimitar_store::state::StateStore;
use scimitar_store::{DirectoryStore, TenantStore};

use crate::ScimService;

pub use credentials::{
    issue_admin_token, AdminPrincipal, AdminScope, IssuedAdminToken, ADMIN_TOKEN_PREFIX,
};
pub use problem::{FieldProblem, Problem, PROBLEM_JSON};
pub use views::*;

use credentials::ConfiguredToken;

/// The largest request body the admin API reads (settings with schema
/// overrides are the largest): 256 KiB. A larger one is refused with 413.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// The digest of an admin token as [`AdminApi::configured_token`] takes it:
/// `sha256:<hex>`. Tokens issued with [`issue_admin_token`] need no
/// configuration.
pub fn admin_token_hash(token: &str) -> String {
    crate::auth::secret_digest(token)
}

/// An admin token digest that does not read as `sha256:<64 hex digits>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an admin token hash reads sha256:<64 hex digits>")]
pub struct AdminHashError;

/// The admin API over a [`ScimService`] (its tenants, tokens, settings and
/// directory) and a provisioning log. Clone it freely: clones share everything.
pub struct AdminApi<S, T = S, L = S> {
    state: Arc<AdminState<S, T, L>>,
}

impl<S, T, L> Clone for AdminApi<S, T, L> {
    fn clone(&self) -> Self {
        AdminApi {
            state: Arc::clone(&self.state),
        }
    }
}

impl<S, T, L> std::fmt::Debug for AdminApi<S, T, L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminApi").finish_non_exhaustive()
    }
}

/// What every handler reads.
pub(crate) struct AdminState<S, T, L> {
    pub(crate) service: ScimService<S, T>,
    pub(crate) log: Arc<L>,
    configured: Option<ConfiguredToken>,
    public_url: Option<PublicUrl>,
    /// Refused admin credentials, counted and logged at most every 10 s.
    failures: Arc<crate::auth::AuthFailures>,
}

/// The store, tenant directory and log types an admin API runs over.
pub trait AdminParts: 'static {
    /// The resource store.
    type Store: DirectoryStore + OutboxStore + 'static;
    /// The tenant directory, which also keeps webhooks' delivery health.
    type Tenants: TenantStore + StateStore + 'static;
    /// The provisioning log.
    type Log: ProvisioningLog + 'static;
}

impl<S, T, L> AdminParts for (S, T, L)
where
    S: DirectoryStore + OutboxStore + 'static,
    T: TenantStore + StateStore + 'static,
    L: ProvisioningLog + 'static,
{
    type Store = S;
    type Tenants = T;
    type Log = L;
}

/// The state of the handlers of `P`.
pub(crate) type State<P> =
    Data<AdminState<<P as AdminParts>::Store, <P as AdminParts>::Tenants, <P as AdminParts>::Log>>;

impl<S, T, L> AdminApi<S, T, L>
where
    S: DirectoryStore + OutboxStore + 'static,
    T: TenantStore + StateStore + 'static,
    L: ProvisioningLog + 'static,
{
    /// The admin API over `service` and `log`, accepting the admin tokens of the
    /// service's tenant directory.
    pub fn new(service: ScimService<S, T>, log: Arc<L>) -> Self {
        AdminApi {
            state: Arc::new(AdminState {
                service,
                log,
                configured: None,
                public_url: None,
                failures: Arc::default(),
            }),
        }
    }

    fn with_state(self, change: impl FnOnce(&mut AdminState<S, T, L>)) -> Self {
        let mut state = match Arc::try_unwrap(self.state) {
            Ok(state) => state,
            Err(shared) => AdminState {
                service: shared.service.clone(),
                log: Arc::clone(&shared.log),
                configured: shared.configured,
                public_url: shared.public_url.clone(),
                failures: Arc::clone(&shared.failures),
            },
        };
        change(&mut state);
        AdminApi {
            state: Arc::new(state),
        }
    }

    /// Also accepts the admin token whose [`admin_token_hash`] is `hash`, with
    /// the `admin` scope (a server configured before admin tokens were issued
    /// into the database).
    ///
    /// # Errors
    /// [`AdminHashError`] when `hash` is not a `sha256:` digest.
    pub fn configured_token(self, hash: &str) -> Result<Self, AdminHashError> {
        let configured = ConfiguredToken::parse(hash).ok_or(AdminHashError)?;
        Ok(self.with_state(|state| state.configured = Some(configured)))
    }

    /// The URL clients reach the server at, for the tenants' SCIM URLs; without
    /// it they are made from the request's `Host`.
    pub fn public_url(self, url: PublicUrl) -> Self {
        self.with_state(|state| state.public_url = Some(url))
    }

    /// The admin endpoints under `path` (e.g. `/admin/v1`).
    pub fn scope(&self, path: &str) -> actix_web::Scope<impl scimitar_actix::ScopeFactory> {
        type P<S, T, L> = (S, T, L);
        let scope = web::scope(path)
            .app_data(Data::from(Arc::clone(&self.state)))
            .app_data(
                web::JsonConfig::default()
                    .limit(MAX_BODY_BYTES)
                    .error_handler(|error, _| views::json_problem(&error).into()),
            )
            .app_data(
                web::QueryConfig::default()
                    .error_handler(|error, _| views::query_problem(&error).into()),
            )
            .route("/openapi.json", web::get().to(openapi::serve))
            .route("/whoami", web::get().to(whoami::<P<S, T, L>>));
        let scope = tenants::routes::<P<S, T, L>>(scope);
        let scope = settings_routes::routes::<P<S, T, L>>(scope);
        let scope = webhook_routes::routes::<P<S, T, L>>(scope);
        let scope = log_routes::routes::<P<S, T, L>>(scope);
        directory::routes::<P<S, T, L>>(scope).default_service(web::to(|| async {
            Err::<HttpResponse, _>(Problem::not_found(
                "no such admin route; see /admin/v1/openapi.json",
            ))
        }))
    }

    /// The web console at `/admin` (its cookies and links live there): sign-in
    /// with an admin token, then pages over the same operations as this API.
    pub fn console_scope(&self) -> actix_web::Scope<impl scimitar_actix::ScopeFactory> {
        type P<S, T, L> = (S, T, L);
        let scope = web::scope("/admin").app_data(Data::from(Arc::clone(&self.state)));
        crate::console::routes::<P<S, T, L>>(scope)
    }

    /// Every enabled webhook's backlog: `(tenant, webhook, events waiting)`,
    /// counted up to 1000 each (for the metrics). Webhooks whose backlog cannot be
    /// read are left out, with a warning.
    pub async fn webhook_backlog(&self) -> Vec<(String, String, usize)> {
        let tenants = match self.state.service.tenants().list_tenants().await {
            Ok(tenants) => tenants,
            Err(error) => {
                log::warn!("webhook backlog: cannot list tenants: {error}");
                return Vec::new();
            }
        };
        let mut backlog = Vec::new();
        for tenant in tenants {
            let config =
                crate::settings::TenantConfig::from_value(&tenant.settings).unwrap_or_default();
            for hook in config.webhooks.iter().filter(|hook| hook.enabled) {
                match self.state.webhook_health(&tenant.id, &hook.id).await {
                    Ok(health) => {
                        backlog.push((tenant.id.clone(), hook.id.clone(), health.pending))
                    }
                    Err(problem) => {
                        log::warn!("webhook backlog of {}/{}: {problem}", tenant.id, hook.id)
                    }
                }
            }
        }
        backlog
    }

    /// The admin principal of `req`, for other operator endpoints (such as
    /// `/metrics`).
    ///
    /// # Errors
    /// A 401 [`Problem`] without an active admin token.
    pub async fn authenticate(&self, req: &HttpRequest) -> Result<AdminPrincipal, Problem> {
        self.state.authenticate(req).await
    }
}

impl<S: scimitar_store::Store + 'static, T: TenantStore + 'static, L> AdminState<S, T, L> {
    /// The admin principal of `req`.
    pub(crate) async fn authenticate(&self, req: &HttpRequest) -> Result<AdminPrincipal, Problem> {
        let header = req
            .headers()
            .get(header::AUTHORIZATION)
            .map(|value| value.to_str().unwrap_or_default());
        let token = scimitar_protocol::bearer_token(header).map_err(|_| Problem::unauthorized())?;
        let tenants = &**self.service.tenants();
        match credentials::verify(tenants, self.configured.as_ref(), token).await? {
            Some(principal) => Ok(principal),
            None => {
                log::warn!("admin API: a credential was refused");
                Err(Problem::unauthorized())
            }
        }
    }

    /// The principal of `req` if it may read.
    pub(crate) async fn reader(&self, req: &HttpRequest) -> Result<AdminPrincipal, Problem> {
        self.authenticate(req).await
    }

    /// The principal of `req` if it may change things.
    pub(crate) async fn writer(&self, req: &HttpRequest) -> Result<AdminPrincipal, Problem> {
        let principal = self.authenticate(req).await?;
        if principal.scope.can_write() {
            Ok(principal)
        } else {
            Err(Problem::forbidden(format!(
                "admin token {} is read-only",
                principal.token_id
            )))
        }
    }

    /// Whether `req` reached the server over https (the public URL's scheme
    /// when one is set): the console's cookies are then `Secure`.
    pub(crate) fn is_https(&self, req: &HttpRequest) -> bool {
        match &self.public_url {
            Some(url) => url.as_str().starts_with("https://"),
            None => req.connection_info().scheme() == "https",
        }
    }

    /// The SCIM base URL of `tenant`.
    pub(crate) fn scim_url(&self, req: &HttpRequest, tenant: &str) -> String {
        let base = match &self.public_url {
            Some(url) => url.as_str().trim_end_matches('/').to_owned(),
            None => {
                let info = req.connection_info();
                format!("{}://{}", info.scheme(), info.host())
            }
        };
        format!("{base}/tenants/{tenant}/scim/v2")
    }
}

/// The principal of an issued admin token (not the configured one, which has no
/// record to key a console session with).
pub(crate) async fn verify_issued_token<T: TenantStore + ?Sized>(
    tenants: &T,
    token: &str,
) -> Option<AdminPrincipal> {
    credentials::verify(tenants, None, token)
        .await
        .ok()
        .flatten()
}

/// `GET /whoami`: the credential's id, label and scope.
#[utoipa::path(get, path = "/whoami", tag = "admin tokens",
    responses((status = 200, body = Whoami), (status = 401, body = Problem)))]
async fn whoami<P: AdminParts>(req: HttpRequest, state: State<P>) -> Result<HttpResponse, Problem> {
    let principal = state.reader(&req).await?;
    Ok(HttpResponse::Ok().json(Whoami {
        token_id: principal.token_id,
        label: principal.label,
        scope: principal.scope,
    }))
}
