//! A tenant's webhooks: each with its delivery health and dead letters; adding,
//! testing and removing one; retrying or discarding a dead letter.

use actix_web::http::StatusCode;
use actix_web::web::{self, Form, Path};
use actix_web::{HttpRequest, HttpResponse};
use maud::html;
use serde::Deserialize;

use super::layout::{
    csrf_field, notice, page, respond, see_other, tenant_nav, ConsoleError, Section,
};
use super::session::Session;
use super::{signed_in, writer, CsrfForm};
use crate::admin::{AdminParts, NewWebhook, State, WebhookTestResult};

pub(super) fn routes<P: AdminParts>(
    scope: actix_web::Scope<impl scimitar_actix::ScopeFactory>,
) -> actix_web::Scope<impl scimitar_actix::ScopeFactory> {
    let hook = "/tenants/{tenant}/webhooks/{webhook}";
    scope
        .route("/tenants/{tenant}/webhooks", web::get().to(show::<P>))
        .route("/tenants/{tenant}/webhooks", web::post().to(add::<P>))
        .route(&format!("{hook}/test"), web::post().to(test::<P>))
        .route(&format!("{hook}/remove"), web::post().to(remove::<P>))
        .route(
            &format!("{hook}/dead-letters/{{seq}}/retry"),
            web::post().to(retry::<P>),
        )
        .route(
            &format!("{hook}/dead-letters/{{seq}}/discard"),
            web::post().to(discard::<P>),
        )
}

/// Something to say above the list.
enum Message {
    None,
    Secret {
        webhook: String,
        secret: String,
    },
    Delivery {
        webhook: String,
        result: WebhookTestResult,
    },
}

async fn webhooks_page<P: AdminParts>(
    state: &State<P>,
    session: &Session,
    tenant: &str,
    message: Message,
) -> Result<HttpResponse, ConsoleError> {
    let write = session.principal.scope.can_write();
    let config = state.service.tenant_config(tenant).await?;
    let mut hooks = Vec::new();
    for hook in &config.webhooks {
        let health = state.webhook_health(tenant, &hook.id).await?;
        let letters = state.dead_letters(tenant, &hook.id).await?;
        hooks.push((health, letters));
    }
    let body = html! {
        (tenant_nav(tenant, Section::Webhooks))
        h1 { "Webhooks" }
        p { "The tenant's changes are POSTed to each webhook, signed, in order, at least once." }
        @match &message {
            Message::None => {}
            Message::Secret { webhook, secret } => {
                section.new-token aria-label="Signing secret" {
                    (notice("warning", &format!("The signing secret of {webhook}: copy it now, it is shown only this once.")))
                    div.copyable {
                        code #new-secret { (secret) }
                        button type="button" data-copy="new-secret" { "Copy" }
                    }
                }
            }
            Message::Delivery { webhook, result } => {
                @if result.delivered {
                    (notice("ok", &format!("{webhook} answered {}.", result.status.unwrap_or(200))))
                } @else {
                    (notice("error", &format!(
                        "{webhook} did not take it: {}{}",
                        result.status.map(|s| format!("status {s}, ")).unwrap_or_default(),
                        result.detail.as_deref().unwrap_or("no answer")
                    )))
                }
            }
        }
        @if hooks.is_empty() { p { "No webhooks." } }
        @for (health, letters) in &hooks {
            section.webhook aria-labelledby={ "hook-" (health.webhook.id) } {
                h2 #{ "hook-" (health.webhook.id) } {
                    (health.webhook.id) " "
                    @if health.webhook.enabled { span.badge.ok { "enabled" } } @else { span.badge.off { "paused" } }
                }
                p { code { (health.webhook.url) } }
                dl.health {
                    dt { "Last success" } dd { (health.last_success.as_deref().unwrap_or("never")) }
                    dt { "Last error" }
                    dd {
                        @if let Some(at) = &health.last_error_at {
                            (at) ": "
                            @if let Some(status) = health.last_error_status { "status " (status) " " }
                            code { (health.last_error_detail.as_deref().unwrap_or("")) }
                        } @else { "none" }
                    }
                    dt { "Failures in a row" } dd { (health.consecutive_failures) }
                    dt { "Waiting" }
                    dd {
                        (health.pending) @if health.pending_capped { "+" } " events"
                        @if let Some(age) = health.oldest_pending_age_seconds { ", the oldest " (age) " s old" }
                    }
                    dt { "Dead letters" } dd { (health.dead_letters) }
                }
                @if write {
                    div.actions {
                        form.inline method="post" action={ "/admin/tenants/" (tenant) "/webhooks/" (health.webhook.id) "/test" } {
                            (csrf_field(session))
                            button.secondary type="submit" { "Send a test event" }
                        }
                        form.inline method="post" action={ "/admin/tenants/" (tenant) "/webhooks/" (health.webhook.id) "/remove" }
                            data-confirm={ "Remove webhook " (health.webhook.id) "?" } {
                            (csrf_field(session))
                            button.danger type="submit" { "Remove" }
                        }
                    }
                }
                @if !letters.is_empty() {
                    table {
                        caption { "Dead letters of " (health.webhook.id) }
                        thead { tr { th scope="col" { "Event" } th scope="col" { "Type" } th scope="col" { "Set aside" } th scope="col" { "Attempts" } th scope="col" { "Last answer" } th scope="col" { span.visually-hidden { "Actions" } } } }
                        tbody {
                            @for letter in letters {
                                tr {
                                    td { (letter.seq) }
                                    td { (letter.event["type"].as_str().unwrap_or("")) }
                                    td { (letter.failed_at) }
                                    td { (letter.attempts) }
                                    td { @if let Some(status) = letter.status { (status) " " } code { (letter.detail) } }
                                    td {
                                        @if write {
                                            form.inline method="post" action={ "/admin/tenants/" (tenant) "/webhooks/" (health.webhook.id) "/dead-letters/" (letter.seq) "/retry" } {
                                                (csrf_field(session))
                                                button.secondary type="submit" { "Retry" }
                                            }
                                            form.inline method="post" action={ "/admin/tenants/" (tenant) "/webhooks/" (health.webhook.id) "/dead-letters/" (letter.seq) "/discard" }
                                                data-confirm="Discard this event? It will not be delivered." {
                                                (csrf_field(session))
                                                button.danger type="submit" { "Discard" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if write {
            h2 { "Add a webhook" }
            form.narrow method="post" action={ "/admin/tenants/" (tenant) "/webhooks" } {
                (csrf_field(session))
                label for="url" { "URL" }
                input #url name="url" type="url" required placeholder="https://hooks.example.com/scim";
                label for="hook-id" { "Name (optional)" }
                input #hook-id name="id" placeholder="hook-1";
                button type="submit" { "Add webhook" }
            }
        }
    };
    Ok(respond(
        StatusCode::OK,
        page("Webhooks", Some(session), body),
    ))
}

async fn show<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    tenant: Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let session = signed_in::<P>(&state, &req).await?;
    webhooks_page::<P>(&state, &session, &tenant, Message::None).await
}

#[derive(Deserialize)]
struct AddForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    id: String,
}

async fn add<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    tenant: Path<String>,
    form: Form<AddForm>,
) -> Result<HttpResponse, ConsoleError> {
    let session = writer::<P>(&state, &req, &form.csrf).await?;
    let form = form.into_inner();
    let new = NewWebhook {
        id: Some(form.id.trim().to_owned()).filter(|id| !id.is_empty()),
        url: form.url.trim().to_owned(),
        secret: None,
        replay: false,
    };
    let added = state.add_webhook(&session.principal, &tenant, new).await?;
    let message = Message::Secret {
        webhook: added.webhook.id,
        secret: added.secret,
    };
    webhooks_page::<P>(&state, &session, &tenant, message).await
}

async fn test<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    path: Path<(String, String)>,
    form: Form<CsrfForm>,
) -> Result<HttpResponse, ConsoleError> {
    let session = writer::<P>(&state, &req, &form.csrf).await?;
    let (tenant, id) = path.into_inner();
    let result = state.test_webhook(&session.principal, &tenant, &id).await?;
    let message = Message::Delivery {
        webhook: id,
        result,
    };
    webhooks_page::<P>(&state, &session, &tenant, message).await
}

async fn remove<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    path: Path<(String, String)>,
    form: Form<CsrfForm>,
) -> Result<HttpResponse, ConsoleError> {
    let session = writer::<P>(&state, &req, &form.csrf).await?;
    let (tenant, id) = path.into_inner();
    state
        .remove_webhook(&session.principal, &tenant, &id)
        .await?;
    Ok(see_other(&format!("/admin/tenants/{tenant}/webhooks")))
}

async fn retry<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    path: Path<(String, String, u64)>,
    form: Form<CsrfForm>,
) -> Result<HttpResponse, ConsoleError> {
    let session = writer::<P>(&state, &req, &form.csrf).await?;
    let (tenant, id, seq) = path.into_inner();
    let result = state
        .retry_dead_letter(&session.principal, &tenant, &id, seq)
        .await?;
    let message = Message::Delivery {
        webhook: id,
        result,
    };
    webhooks_page::<P>(&state, &session, &tenant, message).await
}

async fn discard<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    path: Path<(String, String, u64)>,
    form: Form<CsrfForm>,
) -> Result<HttpResponse, ConsoleError> {
    let session = writer::<P>(&state, &req, &form.csrf).await?;
    let (tenant, id, seq) = path.into_inner();
    state
        .discard_dead_letter(&session.principal, &tenant, &id, seq)
        .await?;
    Ok(see_other(&format!("/admin/tenants/{tenant}/webhooks")))
}
