//! `scimitar serve`: the HTTP server.

use actix_web::middleware::from_fn;
use actix_web::web::{self, Data};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use scimitar_diesel::DieselStore;
use scimitar_protocol::{ScimError, SCIM_JSON};
use scimitar_server::metrics::{Metrics, PoolUse};
use scimitar_server::webhook::Webhooks;
use scimitar_server::{issue_token, AdminApi, ScimService};
use scimitar_store::{StoreError, TenantStore};
use serde_json::json;

use crate::config::Settings;
use crate::Failure;

/// The tenant created on first start.
const DEFAULT_TENANT: &str = "default";

pub(crate) async fn serve(settings: Settings) -> Result<(), Failure> {
    let store = DieselStore::open_with(&settings.database_url, &settings.database)?;
    log::info!("database {} ready", store.backend());

    let shared = Arc::new(store.clone());
    // One key for every server on the database: a cursor works on all of them.
    let cursor_key = store.server_key("cursor").await?;
    let service = ScimService::new(store.clone())
        .cursor_key(&cursor_key)
        .policy(settings.policy.clone())
        .limits(settings.limits.clone())
        .patch_answer(settings.patch_answer)
        .auth_limits(settings.auth_limits.clone())
        .trusted_proxies(settings.trusted_proxies.clone())
        .provisioning_log(Arc::clone(&shared));
    let service = match &settings.public_url {
        Some(url) => service.public_url(url.clone()),
        None => service,
    };
    let admin = AdminApi::new(service.clone(), Arc::clone(&shared));
    let admin = match &settings.admin_token_hash {
        Some(hash) => admin.configured_token(hash)?,
        None => admin,
    };
    let admin = match &settings.public_url {
        Some(url) => admin.public_url(url.clone()),
        None => admin,
    };
    let metrics = settings.metrics.then(|| Arc::new(Metrics::new()));
    let service = match &metrics {
        Some(metrics) => service.metrics(Arc::clone(metrics)),
        None => service,
    };
    let metrics_endpoint = metrics.as_ref().map(|metrics| {
        Data::new(MetricsEndpoint {
            metrics: Arc::clone(metrics),
            service: service.clone(),
            store: store.clone(),
            admin: admin.clone(),
        })
    });
    let probe = Data::new(store.clone());
    let server = HttpServer::new(move || {
        let app = App::new()
            .wrap(from_fn(scimitar_server::log_request))
            .app_data(probe.clone())
            .route("/healthz", web::get().to(healthz))
            .route("/readyz", web::get().to(readyz))
            .service(service.scope("/scim/v2"))
            .service(service.tenant_scope("/tenants/{tenant}/scim/v2"));
        // The API's scope first: the console's `/admin` prefix would take it.
        let app = app
            .service(admin.scope("/admin/v1"))
            .service(admin.console_scope());
        let app = match &metrics_endpoint {
            Some(endpoint) => app
                .app_data(endpoint.clone())
                .route("/metrics", web::get().to(serve_metrics)),
            None => app,
        };
        app.default_service(web::to(not_found))
    })
    .bind(&settings.listen)?;
    let address = server
        .addrs()
        .first()
        .map_or_else(|| settings.listen.clone(), ToString::to_string);
    let base_url = match &settings.public_url {
        Some(url) => format!("{url}/scim/v2"),
        None => format!("http://{address}/scim/v2"),
    };
    // Only once the listener is bound: a failed bind loses no token.
    first_start(&store, &settings.first_token_file, &base_url).await?;
    let webhooks = Webhooks::new(Arc::clone(&shared), shared).options(settings.webhooks.clone());
    let webhooks = match metrics {
        Some(metrics) => webhooks.metrics(metrics),
        None => webhooks,
    }
    .spawn();
    println!("scimitar listening on {base_url}");
    server.run().await?;
    webhooks.stop().await;
    Ok(())
}

/// Where the first-start token is shown: the terminal, or a file only this user
/// can read (it must not land in a log collected from standard output).
enum TokenSink {
    Terminal,
    File(std::fs::File, PathBuf),
}

impl TokenSink {
    /// The terminal if stdout is one, else `path`, opened before the token exists,
    /// so that a file that cannot be written costs no token. It is emptied only
    /// when the token is written: a server that loses the first-start race to
    /// another on the same file leaves the winner's token alone.
    fn open(path: &Path) -> Result<TokenSink, Failure> {
        if std::io::stdout().is_terminal() {
            return Ok(TokenSink::Terminal);
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(path).map_err(|source| Failure::TokenFile {
            path: path.display().to_string(),
            source,
        })?;
        // An existing file keeps its mode when opened: make it private too.
        #[cfg(unix)]
        std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .map_err(|source| Failure::TokenFile {
                path: path.display().to_string(),
                source,
            })?;
        Ok(TokenSink::File(file, path.to_owned()))
    }

    fn show(self, token: &str, base_url: &str) -> Result<(), Failure> {
        let paste = format!(
            "In Entra ID (Provisioning > Admin Credentials) paste\n    \
             Tenant URL:   {base_url}\n    Secret Token: the token"
        );
        match self {
            TokenSink::Terminal => println!(
                "First start: created tenant `{DEFAULT_TENANT}` and its first bearer token.\n\
                 It is shown only this once; store it now:\n\n    {token}\n\n{paste} above\n"
            ),
            TokenSink::File(mut file, path) => {
                use std::io::Write;
                file.set_len(0)
                    .and_then(|()| writeln!(file, "{token}"))
                    .map_err(|source| Failure::TokenFile {
                        path: path.display().to_string(),
                        source,
                    })?;
                let shown = path.display();
                log::info!("first-start token of tenant `{DEFAULT_TENANT}` written to {shown}");
                println!(
                    "First start: created tenant `{DEFAULT_TENANT}` and its first bearer token,\n\
                     written to {shown} (readable by this user only). Store it, then delete\n\
                     the file.\n\n{paste} in that file\n"
                );
            }
        }
        Ok(())
    }
}

/// On an empty database, creates tenant `default` and its first token, and shows
/// the token once ([`TokenSink`]).
///
/// Servers started together on one empty database race here: the one whose create
/// loses (`id` taken) serves without a token, as if the database had not been empty.
async fn first_start(
    store: &DieselStore,
    token_file: &Path,
    base_url: &str,
) -> Result<(), Failure> {
    if !store.list_tenants().await?.is_empty() {
        return Ok(());
    }
    let sink = TokenSink::open(token_file)?;
    match store
        .create_tenant(DEFAULT_TENANT, "Default tenant", json!({}))
        .await
    {
        Ok(_) => {}
        Err(StoreError::Uniqueness { .. }) => {
            log::info!("another server created tenant `{DEFAULT_TENANT}` first");
            return Ok(());
        }
        Err(error) => return Err(error.into()),
    }
    let issued = issue_token(store, DEFAULT_TENANT, "first start").await?;
    sink.show(&issued.token, base_url)
}

/// Any path outside the SCIM scopes: a SCIM 404 too, so clients that mistype the
/// base URL read an error they understand.
async fn not_found(req: HttpRequest) -> HttpResponse {
    scimitar_actix::to_actix(
        ScimError::NotFound(format!("no endpoint {}", req.path())).to_response(),
    )
}

/// `GET /healthz`: the process is up.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(SCIM_JSON)
        .json(json!({"status": "ok"}))
}

/// What `GET /metrics` reads.
struct MetricsEndpoint {
    metrics: Arc<Metrics>,
    service: ScimService<DieselStore>,
    store: DieselStore,
    /// An admin token (either scope) guards the metrics.
    admin: AdminApi<DieselStore>,
}

/// `GET /metrics`: the Prometheus text format.
async fn serve_metrics(req: HttpRequest, endpoint: Data<MetricsEndpoint>) -> HttpResponse {
    if let Err(problem) = endpoint.admin.authenticate(&req).await {
        return actix_web::ResponseError::error_response(&problem);
    }
    let pool = endpoint.store.pool_state();
    endpoint.metrics.set_pool(PoolUse {
        connections: pool.connections,
        idle: pool.idle,
        max: pool.max,
        checkouts: pool.checkouts,
        waited_seconds: pool.waited.as_secs_f64(),
        timeouts: pool.timeouts,
    });
    endpoint
        .metrics
        .set_auth_refusals(&endpoint.service.auth_refusals());
    endpoint
        .metrics
        .set_webhook_backlog(&endpoint.admin.webhook_backlog().await);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(endpoint.metrics.encode())
}

/// `GET /readyz`: the database answers and has every migration of this build.
async fn readyz(store: Data<DieselStore>) -> HttpResponse {
    match store.pending_migrations().await {
        Ok(0) => HttpResponse::Ok().json(json!({"status": "ready"})),
        Ok(pending) => {
            log::warn!("readiness check failed: {pending} migration(s) not applied");
            HttpResponse::ServiceUnavailable().json(json!({
                "status": "unavailable",
                "detail": format!("{pending} database migration(s) not applied: run `scimitar migrate`")
            }))
        }
        Err(error) => {
            log::warn!("readiness check failed: {error}");
            HttpResponse::ServiceUnavailable().json(json!({"status": "unavailable"}))
        }
    }
}
