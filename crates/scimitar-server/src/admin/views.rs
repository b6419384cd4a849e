//! The admin API's request and response bodies.

use actix_web::error::{JsonPayloadError, QueryPayloadError};
use actix_web::http::StatusCode;
use scimitar_store::provisioning_log::LogEntry;
use scimitar_store::{AdminToken, ApiToken, Tenant};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::{AdminScope, FieldProblem, Problem};

fn timestamp(at: OffsetDateTime) -> String {
    scimitar_store::meta::format_timestamp(at)
}

/// The credential making the request.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Whoami {
    /// The admin token's id.
    pub token_id: String,
    /// Its label.
    pub label: String,
    /// What it may do.
    pub scope: AdminScope,
}

/// A tenant.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantView {
    /// The tenant id, as in its URLs.
    pub id: String,
    /// Its name for humans.
    pub display_name: String,
    /// Whether its SCIM requests are served.
    pub enabled: bool,
    /// When it was created (RFC 3339).
    pub created: String,
    /// The Tenant URL to paste into the identity provider.
    pub scim_url: String,
}

impl TenantView {
    pub(crate) fn new(tenant: Tenant, scim_url: String) -> Self {
        TenantView {
            id: tenant.id,
            display_name: tenant.name,
            enabled: tenant.enabled,
            created: timestamp(tenant.created),
            scim_url,
        }
    }
}

/// A page of tenants, ordered by id.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantPage {
    /// The tenants of this page.
    pub tenants: Vec<TenantView>,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A tenant to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewTenant {
    /// The tenant id: 1 to 63 lowercase letters, digits, `-`, `_` and `.`.
    pub id: String,
    /// Its name for humans; the id when absent.
    #[serde(default)]
    pub display_name: Option<String>,
}

/// Changes to a tenant; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantChange {
    /// A new name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Serve the tenant's SCIM requests, or refuse them (403).
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// Paging of a list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// At most this many (default 50, at most 500).
    pub limit: Option<usize>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// A SCIM bearer token's record (never its secret).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScimTokenView {
    /// The token's public id (the part after `scim_`).
    pub id: String,
    /// What it is for, e.g. `entra-prod`.
    pub label: String,
    /// When it was issued.
    pub created: String,
    /// When it was last used, if ever (recorded at most once a minute).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used: Option<String>,
    /// When it was revoked; a revoked token is refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// The User it is bound to (its `/Me`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// When it stops authenticating, if it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

impl From<ApiToken> for ScimTokenView {
    fn from(token: ApiToken) -> Self {
        ScimTokenView {
            id: token.id,
            label: token.label,
            created: timestamp(token.created),
            last_used: token.last_used.map(timestamp),
            revoked_at: token.revoked_at.map(timestamp),
            user: token.user,
            expires_at: token.expires_at.map(timestamp),
        }
    }
}

/// A SCIM token to issue.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewScimToken {
    /// What it is for, e.g. `entra-prod`.
    pub label: String,
    /// Days until it stops authenticating (1 to 3650); it never does when absent.
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

/// A freshly issued token: the secret appears in this response only.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IssuedScimToken {
    /// The bearer token to paste into the identity provider ("Secret Token").
    /// It cannot be shown again.
    pub token: String,
    /// The stored record.
    pub record: ScimTokenView,
    /// The Tenant URL to paste beside it.
    pub scim_url: String,
}

/// An admin token's record (never its secret).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminTokenView {
    /// The token's public id.
    pub id: String,
    /// What, or whom, it is for.
    pub label: String,
    /// What it may do: `admin` or `read-only`.
    pub scope: String,
    /// When it was issued.
    pub created: String,
    /// When it was last used, if ever (recorded at most once a minute).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used: Option<String>,
    /// When it was revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

impl From<AdminToken> for AdminTokenView {
    fn from(token: AdminToken) -> Self {
        AdminTokenView {
            id: token.id,
            label: token.label,
            scope: token.scope,
            created: timestamp(token.created),
            last_used: token.last_used.map(timestamp),
            revoked_at: token.revoked_at.map(timestamp),
        }
    }
}

/// One provisioning log entry: a SCIM request as the admin sees it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogEntryView {
    /// Its position in the log (larger is later).
    pub seq: u64,
    /// When the response was sent.
    pub at: String,
    /// The client's token id (`jwt` for a JWT).
    pub token_id: Option<String>,
    /// The client's token label.
    pub token_label: Option<String>,
    /// The client's `User-Agent`.
    pub user_agent: Option<String>,
    /// The HTTP method.
    pub method: String,
    /// The endpoint (`Users`, `Groups`).
    pub resource_type: Option<String>,
    /// `create`, `get`, `list`, `replace`, `patch <ops>`, `delete`, ...
    pub operation: String,
    /// The resource's id.
    pub resource_id: Option<String>,
    /// The response status.
    pub status: u16,
    /// The SCIM error type of a failure.
    pub scim_type: Option<String>,
    /// What a create named (`userName "bjensen"`), and the error of a failure.
    pub detail: Option<String>,
}

impl From<LogEntry> for LogEntryView {
    fn from(entry: LogEntry) -> Self {
        LogEntryView {
            seq: entry.seq,
            at: timestamp(entry.at),
            token_id: entry.token_id,
            token_label: entry.token_label,
            user_agent: entry.user_agent,
            method: entry.method,
            resource_type: entry.resource_type,
            operation: entry.operation,
            resource_id: entry.resource_id,
            status: entry.status,
            scim_type: entry.scim_type,
            detail: entry.detail,
        }
    }
}

/// A page of log entries, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogPage {
    /// The entries.
    pub entries: Vec<LogEntryView>,
    /// Pass as `cursor` for older entries; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// What the log is filtered by.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LogParams {
    /// At most this many (default 50, at most 1000).
    pub limit: Option<usize>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Entries at or after this time (RFC 3339).
    pub since: Option<String>,
    /// Entries before this time (RFC 3339).
    pub until: Option<String>,
    /// `create`, `get`, `list`, `search`, `replace`, `patch`, `delete`, `bulk`.
    pub operation: Option<String>,
    /// `success` or `failure`.
    pub outcome: Option<String>,
    /// A resource id, or a userName a create named.
    pub subject: Option<String>,
    /// A client: its token id or label.
    pub client: Option<String>,
}

/// A search of a tenant's users or groups, in SCIM's terms.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DirectoryParams {
    /// A SCIM filter (RFC 7644 §3.4.2.2), e.g. `userName sw "b"`.
    pub filter: Option<String>,
    /// The 1-based index of the first result.
    pub start_index: Option<usize>,
    /// At most this many (default 50, at most 200).
    pub count: Option<usize>,
    /// The attribute to sort by.
    pub sort_by: Option<String>,
    /// `ascending` or `descending`.
    pub sort_order: Option<String>,
}

/// A page of a tenant's users or groups, as SCIM returns them.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryPage {
    /// How many match.
    pub total_results: usize,
    /// The 1-based index of the first resource.
    pub start_index: usize,
    /// The resources, as SCIM resources.
    #[schema(value_type = Vec<Object>)]
    pub resources: Vec<Value>,
}

/// A webhook as shown: its secret never is.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookView {
    /// The tenant's name for it.
    pub id: String,
    /// Where events are POSTed.
    pub url: String,
    /// Whether events are delivered.
    pub enabled: bool,
    /// Events of writes before this instant are not delivered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
}

/// A webhook to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewWebhook {
    /// Its name; `hook-N` when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// Where events are POSTed (https, or http to a private address).
    pub url: String,
    /// The signing key; a random one is made (and shown once) when absent.
    #[serde(default)]
    pub secret: Option<String>,
    /// Deliver the events the outbox still holds, not only new ones.
    #[serde(default)]
    pub replay: bool,
}

/// Changes to a webhook; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookChange {
    /// A new URL.
    #[serde(default)]
    pub url: Option<String>,
    /// Pause or resume deliveries.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// A webhook's new signing secret: shown in this response only.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookSecret {
    /// The webhook.
    pub webhook: WebhookView,
    /// The secret deliveries are signed with from now on.
    pub secret: String,
}

/// A webhook's delivery health.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookHealthView {
    /// The webhook.
    pub webhook: WebhookView,
    /// When an event was last delivered.
    pub last_success: Option<String>,
    /// When an attempt last failed.
    pub last_error_at: Option<String>,
    /// What the receiver answered then, if it answered.
    pub last_error_status: Option<u16>,
    /// The start of its answer, or why there was none.
    pub last_error_detail: Option<String>,
    /// Attempts failed since the last success.
    pub consecutive_failures: u32,
    /// Events waiting to be delivered (counted up to 1000).
    pub pending: usize,
    /// Whether more than 1000 wait.
    pub pending_capped: bool,
    /// When the oldest waiting event was written.
    pub oldest_pending: Option<String>,
    /// Its age, in seconds.
    pub oldest_pending_age_seconds: Option<u64>,
    /// Events set aside after the retry budget.
    pub dead_letters: usize,
}

/// What a webhook answered to a delivery made on request (a test, a retry).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookTestResult {
    /// Whether it answered 2xx.
    pub delivered: bool,
    /// The status it answered, if it answered.
    pub status: Option<u16>,
    /// The start of a failed answer, or why there was none.
    pub detail: Option<String>,
}

/// An event set aside after the retry budget.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterView {
    /// The event's seq: retry or discard it by this.
    pub seq: u64,
    /// The body the webhook would have received.
    #[schema(value_type = Object)]
    pub event: Value,
    /// When it was set aside.
    pub failed_at: String,
    /// Attempts made.
    pub attempts: u32,
    /// What the last attempt got back, if anything.
    pub status: Option<u16>,
    /// The start of the last answer, or why there was none.
    pub detail: String,
}

impl From<crate::webhook::health::DeadLetter> for DeadLetterView {
    fn from(letter: crate::webhook::health::DeadLetter) -> Self {
        DeadLetterView {
            seq: letter.seq,
            event: letter.event,
            failed_at: timestamp(letter.failed_at),
            attempts: letter.attempts,
            status: letter.error.status,
            detail: letter.error.detail,
        }
    }
}

/// A named schema override an admin can apply in one step.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Preset {
    /// Its name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// The `schemaOverrides` entry it adds.
    #[schema(value_type = Object)]
    pub schema_override: Value,
}

/// The problem of a JSON body that could not be read.
pub(crate) fn json_problem(error: &JsonPayloadError) -> Problem {
    match error {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the body is larger than the admin API's limit of {} bytes",
                    super::MAX_BODY_BYTES
                ),
            )
        }
        JsonPayloadError::ContentType => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the body as application/json",
        ),
        JsonPayloadError::Deserialize(error) => {
            let message = error.to_string();
            // serde names the field in "unknown field `x`" and "missing field `x`".
            let field = message
                .split('`')
                .nth(1)
                .filter(|_| message.contains("field"))
                .map(str::to_owned);
            match field {
                Some(field) => Problem::validation(
                    format!("the body does not read: {message}"),
                    vec![FieldProblem { field, message }],
                ),
                None => Problem::validation(format!("the body does not read: {message}"), vec![]),
            }
        }
        other => Problem::validation(format!("the body does not read: {other}"), vec![]),
    }
}

/// The problem of a query string that could not be read.
pub(crate) fn query_problem(error: &QueryPayloadError) -> Problem {
    Problem::validation(format!("the query string does not read: {error}"), vec![])
}

/// `text` as an RFC 3339 time, or a 400 naming `field`.
pub(crate) fn parse_time(field: &str, text: &str) -> Result<OffsetDateTime, Problem> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).map_err(|_| {
        Problem::invalid_field(
            field,
            format!("{text:?} is not an RFC 3339 time such as 2026-12-07T09:00:00Z"),
        )
    })
}
