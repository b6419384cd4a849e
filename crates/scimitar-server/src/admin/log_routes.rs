//! A tenant's provisioning log: filtered pages, and a live stream of new entries
//! as Server-Sent Events.

use std::time::Duration;

use actix_web::web::{self, Bytes, Path, Query};
use actix_web::{HttpRequest, HttpResponse};

use super::operations::entries_after;
use super::{AdminParts, LogEntryView, LogPage, LogParams, Problem, State};

/// How often the stream looks for new entries.
const STREAM_POLL: Duration = Duration::from_secs(1);
/// The most entries one poll of the stream sends.
const STREAM_BATCH: usize = 200;
/// Polls between keep-alive comments, so that proxies keep an idle stream open.
const KEEP_ALIVE_POLLS: u32 = 15;

pub(super) fn routes<P: AdminParts>(
    scope: actix_web::Scope<impl scimitar_actix::ScopeFactory>,
) -> actix_web::Scope<impl scimitar_actix::ScopeFactory> {
    scope
        .route("/tenants/{tenant}/log", web::get().to(read_log::<P>))
        .route(
            "/tenants/{tenant}/log/stream",
            web::get().to(stream_log::<P>),
        )
}

/// Read a tenant's log, newest first, filtered; page with `cursor`.
#[utoipa::path(get, path = "/tenants/{tenant}/log", tag = "provisioning log",
    params(("tenant" = String, Path, description = "The tenant id"), LogParams),
    responses((status = 200, body = LogPage), (status = 400, body = Problem),
        (status = 404, body = Problem)))]
pub(super) async fn read_log<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    tenant: Path<String>,
    params: Query<LogParams>,
) -> Result<HttpResponse, Problem> {
    state.reader(&req).await?;
    Ok(HttpResponse::Ok().json(state.read_log(&tenant, &params).await?))
}

/// Stream a tenant's new log entries as Server-Sent Events (`event: entry`,
/// `id`: the entry's `seq`, `data`: the entry), filtered like the log. A
/// reconnecting client's `Last-Event-ID` resumes after that entry.
#[utoipa::path(get, path = "/tenants/{tenant}/log/stream", tag = "provisioning log",
    params(("tenant" = String, Path, description = "The tenant id"), LogParams),
    responses((status = 200, content_type = "text/event-stream",
        description = "One event per new entry"),
        (status = 400, body = Problem), (status = 404, body = Problem)))]
pub(super) async fn stream_log<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    tenant: Path<String>,
    params: Query<LogParams>,
) -> Result<HttpResponse, Problem> {
    state.reader(&req).await?;
    log_stream::<P>(&req, &state, &tenant, &params).await
}

/// The live stream of `tenant`'s log entries matching `params`, for whoever
/// the caller let in (the admin API, the console).
pub(crate) async fn log_stream<P: AdminParts>(
    req: &HttpRequest,
    state: &State<P>,
    tenant: &str,
    params: &LogParams,
) -> Result<HttpResponse, Problem> {
    let resume = req
        .headers()
        .get("Last-Event-ID")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    let (mut query, after) = state.log_stream_start(tenant, params, resume).await?;
    query.limit = STREAM_BATCH;
    let log = std::sync::Arc::clone(&state.log);
    let start = (log, tenant.to_owned(), query, after, 0u32);
    let events =
        futures_util::stream::unfold(start, |(log, tenant, mut query, after, idle)| async move {
            tokio::time::sleep(STREAM_POLL).await;
            query.after = Some(after);
            let entries = match entries_after(&*log, &tenant, &mut query).await {
                Ok(entries) => entries,
                Err(error) => {
                    log::warn!("log stream of tenant {tenant}: {error}");
                    Vec::new()
                }
            };
            let mut chunk = String::new();
            let mut last = after;
            for entry in entries {
                last = last.max(entry.seq);
                let data = serde_json::to_string(&LogEntryView::from(entry)).unwrap_or_default();
                chunk.push_str(&format!("event: entry\nid: {last}\ndata: {data}\n\n"));
            }
            let idle = if chunk.is_empty() { idle + 1 } else { 0 };
            if idle >= KEEP_ALIVE_POLLS {
                chunk.push_str(": keep-alive\n\n");
            }
            let idle = idle % KEEP_ALIVE_POLLS;
            Some((
                Ok::<_, actix_web::Error>(Bytes::from(chunk)),
                (log, tenant, query, last, idle),
            ))
        });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(events))
}
