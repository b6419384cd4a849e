//! A tenant's webhooks: adding, changing and removing them, their delivery
//! health, a test event, and the dead letters set aside after the retry budget.

use std::time::Duration;

use actix_web::web::{self, Json, Path};
use actix_web::{HttpRequest, HttpResponse};
use scimitar_store::hooks::OutboxStore;
use scimitar_store::{EventStore, Scope, TenantStore};
use serde_json::json;

use super::{
    AdminParts, DeadLetterView, NewWebhook, Problem, State, WebhookChange, WebhookHealthView,
    WebhookSecret, WebhookTestResult, WebhookView,
};
use crate::settings::Webhook;
use crate::webhook::{health, webhook_consumer, DeliveryFailure, WebhookHandler};

/// How long an admin-initiated delivery (a test, a retry) may take.
const ADMIN_DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// The most pending events counted.
const PENDING_CAP: usize = 1000;

pub(super) fn routes<P: AdminParts>(
    scope: actix_web::Scope<impl scimitar_actix::ScopeFactory>,
) -> actix_web::Scope<impl scimitar_actix::ScopeFactory> {
    let hook = "/tenants/{tenant}/webhooks/{webhook}";
    scope
        .route(
            "/tenants/{tenant}/webhooks",
            web::get().to(list_webhooks::<P>),
        )
        .route(
            "/tenants/{tenant}/webhooks",
            web::post().to(add_webhook::<P>),
        )
        .route(hook, web::patch().to(change_webhook::<P>))
        .route(hook, web::delete().to(remove_webhook::<P>))
        .route(
            &format!("{hook}/rotate-secret"),
            web::post().to(rotate_secret::<P>),
        )
        .route(
            &format!("{hook}/health"),
            web::get().to(webhook_health::<P>),
        )
        .route(&format!("{hook}/test"), web::post().to(test_webhook::<P>))
        .route(
            &format!("{hook}/dead-letters"),
            web::get().to(list_dead_letters::<P>),
        )
        .route(
            &format!("{hook}/dead-letters/{{seq}}/retry"),
            web::post().to(retry_dead_letter::<P>),
        )
        .route(
            &format!("{hook}/dead-letters/{{seq}}"),
            web::delete().to(discard_dead_letter::<P>),
        )
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
    health::forget(&**state.service.tenants(), &tenant, &id).await?;
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

/// The tenant's webhook `id`, or 404.
async fn find_webhook<P: AdminParts>(
    state: &State<P>,
    tenant: &str,
    id: &str,
) -> Result<Webhook, Problem> {
    let config = state.service.tenant_config(tenant).await?;
    config
        .webhooks
        .into_iter()
        .find(|hook| hook.id == id)
        .ok_or_else(|| no_webhook(tenant, id))
}

fn result(outcome: Result<u16, DeliveryFailure>) -> WebhookTestResult {
    match outcome {
        Ok(status) => WebhookTestResult {
            delivered: true,
            status: Some(status),
            detail: None,
        },
        Err(failure) => WebhookTestResult {
            delivered: false,
            status: failure.status,
            detail: Some(failure.detail),
        },
    }
}

/// A webhook's delivery health: last success, last error (status and the start
/// of the answer), events waiting and the age of the oldest, dead letters.
#[utoipa::path(get, path = "/tenants/{tenant}/webhooks/{webhook}/health", tag = "webhooks",
    params(("tenant" = String, Path, description = "The tenant id"),
        ("webhook" = String, Path, description = "The webhook id")),
    responses((status = 200, body = WebhookHealthView), (status = 404, body = Problem)))]
pub(super) async fn webhook_health<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    path: Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    state.reader(&req).await?;
    let (tenant, id) = path.into_inner();
    let webhook = find_webhook::<P>(&state, &tenant, &id).await?;
    let tenants = &**state.service.tenants();
    let recorded = health::health(tenants, &tenant, &id)
        .await?
        .unwrap_or_default();
    let dead_letters = health::dead_letters(tenants, &tenant, &id).await?.len();
    let store = state.service.store();
    let checkpoint = store.checkpoint(&tenant, &webhook_consumer(&id)).await?;
    let stored = tenants.get_tenant(&tenant).await?;
    let context = state.service.tenant_context(&stored);
    let scope =
        Scope::new(&tenant, &context.registry, &context.policy).with_settings(&context.settings);
    let waiting: Vec<_> = store
        .events(&scope, checkpoint, PENDING_CAP + 1)
        .await?
        .into_iter()
        .filter(|event| webhook.since.is_none_or(|since| event.at >= since))
        .collect();
    let now = scimitar_store::meta::now();
    let oldest = waiting.first().map(|event| event.at);
    Ok(HttpResponse::Ok().json(WebhookHealthView {
        webhook: view(&webhook),
        last_success: recorded
            .last_success
            .map(scimitar_store::meta::format_timestamp),
        last_error_at: recorded
            .last_error
            .as_ref()
            .map(|error| scimitar_store::meta::format_timestamp(error.at)),
        last_error_status: recorded.last_error.as_ref().and_then(|e| e.failure.status),
        last_error_detail: recorded.last_error.map(|error| error.failure.detail),
        consecutive_failures: recorded.consecutive_failures,
        pending: waiting.len().min(PENDING_CAP),
        pending_capped: waiting.len() > PENDING_CAP,
        oldest_pending: oldest.map(scimitar_store::meta::format_timestamp),
        oldest_pending_age_seconds: oldest
            .map(|at| u64::try_from((now - at).whole_seconds()).unwrap_or_default()),
        dead_letters,
    }))
}

/// Send the webhook a signed test event (`type` `webhook.test`) now, and say
/// what it answered.
#[utoipa::path(post, path = "/tenants/{tenant}/webhooks/{webhook}/test", tag = "webhooks",
    params(("tenant" = String, Path, description = "The tenant id"),
        ("webhook" = String, Path, description = "The webhook id")),
    responses((status = 200, body = WebhookTestResult), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
pub(super) async fn test_webhook<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    path: Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let principal = state.writer(&req).await?;
    let (tenant, id) = path.into_inner();
    let webhook = find_webhook::<P>(&state, &tenant, &id).await?;
    let handler = WebhookHandler::new(webhook, ADMIN_DELIVERY_TIMEOUT);
    let message = format!("evt_{tenant}_test_{}", uuid::Uuid::new_v4().simple());
    let body = json!({
        "id": 0,
        "tenant": tenant,
        "type": "webhook.test",
        "occurredAt": scimitar_store::meta::format_timestamp(scimitar_store::meta::now()),
        "data": {},
    });
    let outcome = handler.post(&message, body.to_string()).await;
    let tenants = &**state.service.tenants();
    health::record(tenants, &tenant, &id, outcome.as_ref().map(drop)).await?;
    log::info!(
        "admin {}: test event sent to webhook {id} of tenant {tenant}",
        principal.token_id
    );
    Ok(HttpResponse::Ok().json(result(outcome)))
}

/// The events set aside after the retry budget, oldest first.
#[utoipa::path(get, path = "/tenants/{tenant}/webhooks/{webhook}/dead-letters",
    tag = "webhooks",
    params(("tenant" = String, Path, description = "The tenant id"),
        ("webhook" = String, Path, description = "The webhook id")),
    responses((status = 200, body = Vec<DeadLetterView>), (status = 404, body = Problem)))]
pub(super) async fn list_dead_letters<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    path: Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    state.reader(&req).await?;
    let (tenant, id) = path.into_inner();
    find_webhook::<P>(&state, &tenant, &id).await?;
    let letters: Vec<DeadLetterView> =
        health::dead_letters(&**state.service.tenants(), &tenant, &id)
            .await?
            .into_iter()
            .map(DeadLetterView::from)
            .collect();
    Ok(HttpResponse::Ok().json(letters))
}

async fn find_dead_letter<P: AdminParts>(
    state: &State<P>,
    tenant: &str,
    id: &str,
    seq: u64,
) -> Result<health::DeadLetter, Problem> {
    health::dead_letter(&**state.service.tenants(), tenant, id, seq)
        .await?
        .ok_or_else(|| {
            Problem::not_found(format!("webhook `{id}` has no dead letter of event {seq}"))
        })
}

/// Deliver a dead letter now; delivered, it leaves the list.
#[utoipa::path(post, path = "/tenants/{tenant}/webhooks/{webhook}/dead-letters/{seq}/retry",
    tag = "webhooks",
    params(("tenant" = String, Path, description = "The tenant id"),
        ("webhook" = String, Path, description = "The webhook id"),
        ("seq" = u64, Path, description = "The event's seq")),
    responses((status = 200, body = WebhookTestResult), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
pub(super) async fn retry_dead_letter<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    path: Path<(String, String, u64)>,
) -> Result<HttpResponse, Problem> {
    let principal = state.writer(&req).await?;
    let (tenant, id, seq) = path.into_inner();
    let webhook = find_webhook::<P>(&state, &tenant, &id).await?;
    let letter = find_dead_letter::<P>(&state, &tenant, &id, seq).await?;
    let handler = WebhookHandler::new(webhook, ADMIN_DELIVERY_TIMEOUT);
    let outcome = handler
        .post(&format!("evt_{tenant}_{seq}"), letter.event.to_string())
        .await;
    let tenants = &**state.service.tenants();
    health::record(tenants, &tenant, &id, outcome.as_ref().map(drop)).await?;
    if outcome.is_ok() {
        health::discard_dead_letter(tenants, &tenant, &id, seq).await?;
        log::info!(
            "admin {}: dead letter {seq} of webhook {id} of tenant {tenant} delivered",
            principal.token_id
        );
    }
    Ok(HttpResponse::Ok().json(result(outcome)))
}

/// Discard a dead letter: the event is not delivered.
#[utoipa::path(delete, path = "/tenants/{tenant}/webhooks/{webhook}/dead-letters/{seq}",
    tag = "webhooks",
    params(("tenant" = String, Path, description = "The tenant id"),
        ("webhook" = String, Path, description = "The webhook id"),
        ("seq" = u64, Path, description = "The event's seq")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(super) async fn discard_dead_letter<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    path: Path<(String, String, u64)>,
) -> Result<HttpResponse, Problem> {
    let principal = state.writer(&req).await?;
    let (tenant, id, seq) = path.into_inner();
    find_webhook::<P>(&state, &tenant, &id).await?;
    find_dead_letter::<P>(&state, &tenant, &id, seq).await?;
    health::discard_dead_letter(&**state.service.tenants(), &tenant, &id, seq).await?;
    log::info!(
        "admin {}: dead letter {seq} of webhook {id} of tenant {tenant} discarded",
        principal.token_id
    );
    Ok(HttpResponse::NoContent().finish())
}
