//! A tenant's provisioning log: filters, the entries with their error details,
//! older pages, and live updates (the script follows the stream).

use actix_web::http::StatusCode;
use actix_web::web::{self, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use maud::html;

use super::layout::{page, respond, tenant_nav, ConsoleError, Section};
use super::signed_in;
use crate::admin::log_routes::log_stream;
use crate::admin::{AdminParts, LogParams, State};

pub(super) fn routes<P: AdminParts>(
    scope: actix_web::Scope<impl scimitar_actix::ScopeFactory>,
) -> actix_web::Scope<impl scimitar_actix::ScopeFactory> {
    scope
        .route("/tenants/{tenant}/log", web::get().to(show::<P>))
        .route("/tenants/{tenant}/log/stream", web::get().to(stream::<P>))
}

/// `params` as a query string (the cursor aside), for links and the stream.
fn filters(params: &LogParams) -> String {
    let fields = [
        ("outcome", &params.outcome),
        ("operation", &params.operation),
        ("subject", &params.subject),
        ("client", &params.client),
    ];
    fields
        .iter()
        .filter_map(|(name, value)| {
            let value = value.as_deref().filter(|value| !value.is_empty())?;
            let encoded: String =
                percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC)
                    .collect();
            Some(format!("{name}={encoded}"))
        })
        .collect::<Vec<_>>()
        .join("&")
}

async fn show<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    tenant: Path<String>,
    params: Query<LogParams>,
) -> Result<HttpResponse, ConsoleError> {
    let session = signed_in::<P>(&state, &req).await?;
    let log = state.read_log(&tenant, &params).await?;
    let query = filters(&params);
    let selected = |value: &str| params.outcome.as_deref() == Some(value);
    let body = html! {
        (tenant_nav(&tenant, Section::Log))
        h1 { "Provisioning log" }
        p { "Every SCIM request of this tenant, newest first. A user that did not arrive shows here with the reason." }
        form.filters method="get" action={ "/admin/tenants/" (tenant) "/log" } role="search" {
            label for="outcome" { "Outcome" }
            select #outcome name="outcome" {
                option value="" { "all" }
                option value="failure" selected[selected("failure")] { "failures" }
                option value="success" selected[selected("success")] { "successes" }
            }
            label for="operation" { "Operation" }
            input #operation name="operation" value=(params.operation.as_deref().unwrap_or("")) placeholder="create, patch…";
            label for="subject" { "User or resource" }
            input #subject name="subject" value=(params.subject.as_deref().unwrap_or("")) placeholder="userName or id";
            label for="client" { "Client" }
            input #client name="client" value=(params.client.as_deref().unwrap_or("")) placeholder="token label";
            button type="submit" { "Filter" }
        }
        p.live role="status" aria-live="polite" { span #live-state { "" } }
        table #log data-stream={ "/admin/tenants/" (tenant) "/log/stream?" (query) } {
            caption.visually-hidden { "Log entries" }
            thead { tr { th scope="col" { "Time" } th scope="col" { "Status" } th scope="col" { "Operation" } th scope="col" { "Resource" } th scope="col" { "Client" } th scope="col" { "Detail" } } }
            tbody {
                @for entry in &log.entries {
                    tr class=(if entry.status >= 400 { "failed" } else { "" }) {
                        td { (entry.at) }
                        td { (entry.status) @if let Some(kind) = &entry.scim_type { " " (kind) } }
                        td { (entry.method) " " (entry.operation) }
                        td { (entry.resource_type.as_deref().unwrap_or("")) @if let Some(id) = &entry.resource_id { "/" (id) } }
                        td { (entry.token_label.as_deref().or(entry.token_id.as_deref()).unwrap_or("")) }
                        td { (entry.detail.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
        @if log.entries.is_empty() { p { "No entries match." } }
        @if let Some(cursor) = &log.next_cursor {
            p { a href={ "/admin/tenants/" (tenant) "/log?" (query) "&cursor=" (cursor) } { "Older entries" } }
        }
    };
    Ok(respond(
        StatusCode::OK,
        page("Provisioning log", Some(&session), body),
    ))
}

async fn stream<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    tenant: Path<String>,
    params: Query<LogParams>,
) -> Result<HttpResponse, ConsoleError> {
    signed_in::<P>(&state, &req).await?;
    Ok(log_stream::<P>(&req, &state, &tenant, &params).await?)
}
