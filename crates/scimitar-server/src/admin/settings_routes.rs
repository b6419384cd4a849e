//! A tenant's settings and webhooks, and the settings presets.

use actix_web::web::{self, Json, Path};
use actix_web::{HttpRequest, HttpResponse};
use scimitar_schema::Registry;
use scimitar_store::hooks::OutboxStore;
use scimitar_store::{DirectoryStore, Scope};
use serde_json::Value;

use super::{
    AdminParts, NewWebhook, Preset, Problem, State, WebhookChange, WebhookSecret, WebhookView,
};
use crate::settings::{TenantConfig, Webhook};
use crate::webhook::webhook_consumer;

pub(super) fn routes<P: AdminParts>(
    scope: actix_web::Scope<impl scimitar_actix::ScopeFactory>,
) -> actix_web::Scope<impl scimitar_actix::ScopeFactory> {
    scope
        .route("/presets", web::get().to(presets))
        .route(
            "/tenants/{tenant}/settings",
            web::get().to(get_settings::<P>),
        )
        .route(
            "/tenants/{tenant}/settings",
            web::put().to(put_settings::<P>),
        )
        .route(
            "/tenants/{tenant}/webhooks",
            web::get().to(list_webhooks::<P>),
        )
        .route(
            "/tenants/{tenant}/webhooks",
            web::post().to(add_webhook::<P>),
        )
        .route(
            "/tenants/{tenant}/webhooks/{webhook}",
            web::patch().to(change_webhook::<P>),
        )
        .route(
            "/tenants/{tenant}/webhooks/{webhook}",
            web::delete().to(remove_webhook::<P>),
        )
        .route(
            "/tenants/{tenant}/webhooks/{webhook}/rotate-secret",
            web::post().to(rotate_secret::<P>),
        )
}

/// The named schema overrides (`hire-date-in-cost-center`: costCenter carries
/// the hire date as a dateTime). Add one to `schemaOverrides` to apply it.
#[utoipa::path(get, path = "/presets", tag = "settings",
    responses((status = 200, body = Vec<Preset>)))]
pub(super) async fn presets() -> HttpResponse {
    let presets: Vec<Preset> = crate::settings::presets()
        .into_iter()
        .map(|(name, description, schema_override)| Preset {
            name: name.into(),
            description: description.into(),
            schema_override,
        })
        .collect();
    HttpResponse::Ok().json(presets)
}

/// The settings to show: secrets as `<hidden>`.
fn shown(config: &TenantConfig) -> Value {
    config.redacted()
}

/// Read a tenant's settings (secrets shown as `<hidden>`).
#[utoipa::path(get, path = "/tenants/{tenant}/settings", tag = "settings",
    params(("tenant" = String, Path, description = "The tenant id")),
    responses((status = 200, description = "The settings object: policy, teams, deletion, \
        schemaOverrides, createRetryWindowSeconds, webhooks, rateLimit, jwt", body = Object),
        (status = 404, body = Problem)))]
pub(super) async fn get_settings<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    tenant: Path<String>,
) -> Result<HttpResponse, Problem> {
    state.reader(&req).await?;
    let config = state.service.tenant_config(&tenant).await?;
    Ok(HttpResponse::Ok().json(shown(&config)))
}

/// Replace a tenant's settings, read strictly: unknown keys and bad values are
/// 400 naming the field. Secrets sent as `<hidden>` keep their stored values.
/// A change of team mode rebuilds the tenant's teams.
#[utoipa::path(put, path = "/tenants/{tenant}/settings", tag = "settings",
    request_body(content = Object, description = "The whole settings object, as GET shows it"),
    params(("tenant" = String, Path, description = "The tenant id")),
    responses((status = 200, body = Object), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(super) async fn put_settings<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    tenant: Path<String>,
    body: Json<Value>,
) -> Result<HttpResponse, Problem> {
    let principal = state.writer(&req).await?;
    let previous = state.service.tenant_config(&tenant).await?;
    let config = TenantConfig::parse(&body, &previous)?;
    store_config::<P>(&state, &tenant, &config, &previous).await?;
    log::info!(
        "admin {}: settings of tenant {tenant} replaced",
        principal.token_id
    );
    Ok(HttpResponse::Ok().json(shown(&config)))
}

/// Stores `config`, after checking that its schema overrides build; rebuilds
/// the teams when the team mode changed.
async fn store_config<P: AdminParts>(
    state: &State<P>,
    tenant: &str,
    config: &TenantConfig,
    previous: &TenantConfig,
) -> Result<(), Problem> {
    let registry = config
        .directory
        .registry(&Registry::builtin())
        .map_err(|error| Problem::invalid_field("schemaOverrides", error.to_string()))?;
    state.service.write_tenant_config(tenant, config).await?;
    if config.directory.teams != previous.directory.teams {
        let stored = config.stored();
        let default_policy = &state.service.engine().default_context().policy;
        let policy = stored
            .policy
            .clone()
            .unwrap_or_else(|| default_policy.clone());
        let scope = Scope::new(tenant, &registry, &policy).with_settings(&stored);
        let rebuilt = state.service.store().rebuild_teams(&scope).await?;
        log::info!(
            "tenant {tenant}: teams rebuilt: {} teams ({} created, {} removed)",
            rebuilt.teams,
            rebuilt.created,
            rebuilt.removed
        );
    }
    Ok(())
}

fn view(webhook: &Webhook) -> WebhookView {
    WebhookView {
        id: webhook.id.clone(),
        url: webhook.url.clone(),
        enabled: webhook.enabled,
        since: webhook.since.map(scimitar_store::meta::format_timestamp),
    }
}

fn no_webhook(tenant: &str, id: &str) -> Problem {
    Problem::not_found(format!("tenant `{tenant}` has no webhook `{id}`"))
}

/// List a tenant's webhooks.
#[utoipa::path(get, path = "/tenants/{tenant}/webhooks", tag = "webhooks",
    params(("tenant" = String, Path, description = "The tenant id")),
    responses((status = 200, body = Vec<WebhookView>), (status = 404, body = Problem)))]
pub(super) async fn list_webhooks<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    tenant: Path<String>,
) -> Result<HttpResponse, Problem> {
    state.reader(&req).await?;
    let config = state.service.tenant_config(&tenant).await?;
    let hooks: Vec<WebhookView> = config.webhooks.iter().map(view).collect();
    Ok(HttpResponse::Ok().json(hooks))
}

/// Add a webhook. Without a `secret` one is made and returned in this response
/// only.
#[utoipa::path(post, path = "/tenants/{tenant}/webhooks", tag = "webhooks",
    request_body = NewWebhook,
    params(("tenant" = String, Path, description = "The tenant id")),
    responses((status = 201, body = WebhookSecret), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(super) async fn add_webhook<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    tenant: Path<String>,
    body: Json<NewWebhook>,
) -> Result<HttpResponse, Problem> {
    let principal = state.writer(&req).await?;
    let NewWebhook {
        id,
        url,
        secret,
        replay,
    } = body.into_inner();
    let mut config = state.service.tenant_config(&tenant).await?;
    let webhook = config.add_webhook(id, &url, secret, replay)?;
    state.service.write_tenant_config(&tenant, &config).await?;
    log::info!(
        "admin {}: webhook {} of tenant {tenant} added",
        principal.token_id,
        webhook.id
    );
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(WebhookSecret {
            webhook: view(&webhook),
            secret: webhook.secret,
        }))
}

/// Change a webhook's URL, or pause and resume it.
#[utoipa::path(patch, path = "/tenants/{tenant}/webhooks/{webhook}", tag = "webhooks",
    request_body = WebhookChange,
    params(("tenant" = String, Path, description = "The tenant id"),
        ("webhook" = String, Path, description = "The webhook id")),
    responses((status = 200, body = WebhookView), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(super) async fn change_webhook<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    path: Path<(String, String)>,
    body: Json<WebhookChange>,
) -> Result<HttpResponse, Problem> {
    let principal = state.writer(&req).await?;
    let (tenant, id) = path.into_inner();
    let change = body.into_inner();
    let mut config = state.service.tenant_config(&tenant).await?;
    let webhook = config
        .webhook_mut(&id)
        .ok_or_else(|| no_webhook(&tenant, &id))?;
    if let Some(url) = change.url {
        webhook.url = url;
    }
    if let Some(enabled) = change.enabled {
        webhook.enabled = enabled;
    }
    let shown = view(webhook);
    config.validate()?;
    state.service.write_tenant_config(&tenant, &config).await?;
    log::info!(
        "admin {}: webhook {id} of tenant {tenant} changed",
        principal.token_id
    );
    Ok(HttpResponse::Ok().json(shown))
}

/// Remove a webhook, and its delivery position.
#[utoipa::path(delete, path = "/tenants/{tenant}/webhooks/{webhook}", tag = "webhooks",
    params(("tenant" = String, Path, description = "The tenant id"),
        ("webhook" = String, Path, description = "The webhook id")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(super) async fn remove_webhook<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    path: Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let principal = state.writer(&req).await?;
    let (tenant, id) = path.into_inner();
    let mut config = state.service.tenant_config(&tenant).await?;
    if !config.remove_webhook(&id) {
        return Err(no_webhook(&tenant, &id));
    }
    state.service.write_tenant_config(&tenant, &config).await?;
    // Its checkpoint would hold pruning back for good (rule O6).
    state
        .service
        .store()
        .forget_consumer(&tenant, &webhook_consumer(&id))
        .await?;
    log::info!(
        "admin {}: webhook {id} of tenant {tenant} removed",
        principal.token_id
    );
    Ok(HttpResponse::NoContent().finish())
}

/// Give a webhook a new random signing secret, returned in this response only.
#[utoipa::path(post, path = "/tenants/{tenant}/webhooks/{webhook}/rotate-secret",
    tag = "webhooks",
    params(("tenant" = String, Path, description = "The tenant id"),
        ("webhook" = String, Path, description = "The webhook id")),
    responses((status = 200, body = WebhookSecret), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
pub(super) async fn rotate_secret<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    path: Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let principal = state.writer(&req).await?;
    let (tenant, id) = path.into_inner();
    let mut config = state.service.tenant_config(&tenant).await?;
    let webhook = config
        .webhook_mut(&id)
        .ok_or_else(|| no_webhook(&tenant, &id))?;
    webhook.secret = crate::webhook::generate_secret();
    let rotated = WebhookSecret {
        webhook: view(webhook),
        secret: webhook.secret.clone(),
    };
    state.service.write_tenant_config(&tenant, &config).await?;
    log::info!(
        "admin {}: secret of webhook {id} of tenant {tenant} rotated",
        principal.token_id
    );
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(rotated))
}
