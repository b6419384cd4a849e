//! A tenant's webhooks: adding, changing and removing them, their delivery
//! health, a test event, and the dead letters set aside after the retry budget.

use actix_web::web::{self, Json, Path};
use actix_web::{HttpRequest, HttpResponse};

use super::operations::webhook_view;
use super::{
    AdminParts, DeadLetterView, NewWebhook, Problem, State, WebhookChange, WebhookHealthView,
    WebhookSecret, WebhookTestResult, WebhookView,
};

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
    let hooks: Vec<WebhookView> = config.webhooks.iter().map(webhook_view).collect();
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
    let added = state
        .add_webhook(&principal, &tenant, body.into_inner())
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(added))
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
    let shown = state
        .change_webhook(&principal, &tenant, &id, body.into_inner())
        .await?;
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
    state.remove_webhook(&principal, &tenant, &id).await?;
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
    let rotated = state
        .rotate_webhook_secret(&principal, &tenant, &id)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(rotated))
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
    Ok(HttpResponse::Ok().json(state.webhook_health(&tenant, &id).await?))
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
    Ok(HttpResponse::Ok().json(state.test_webhook(&principal, &tenant, &id).await?))
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
    Ok(HttpResponse::Ok().json(state.dead_letters(&tenant, &id).await?))
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
    let result = state
        .retry_dead_letter(&principal, &tenant, &id, seq)
        .await?;
    Ok(HttpResponse::Ok().json(result))
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
    state
        .discard_dead_letter(&principal, &tenant, &id, seq)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
