//! Recording each SCIM request in the tenant's provisioning log, after the
//! response and off the request path.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header;
use actix_web::http::Method;
use actix_web::HttpMessage;
use scimitar_store::provisioning_log::{LogEntry, ProvisioningLog};
use tokio::sync::mpsc;

use crate::error::ScimError;
use crate::service::RequestCredential;

/// Entries waiting to be written; past this, new ones are dropped (and counted)
/// rather than holding requests up or growing without bound.
const QUEUE_CAPACITY: usize = 10_000;
/// Entries written in one call of the log.
const BATCH: usize = 500;
/// How long the writer lets a short batch fill before writing it. Under load a
/// request a millisecond means hundreds of entries per write instead of one write
/// (and one commit, contending with the SCIM writes) per handful of requests.
const LINGER: std::time::Duration = std::time::Duration::from_millis(100);
/// The longest `User-Agent` kept.
const USER_AGENT_CHARS: usize = 200;

/// A PATCH request's operations and paths (`replace:active add:members`), noted
/// by the handler for the log: never their values.
#[derive(Debug, Clone)]
pub(crate) struct PatchSummary(pub(crate) String);

/// The queue in front of a [`ProvisioningLog`], drained by a writer thread.
#[derive(Clone)]
pub(crate) struct LogQueue {
    sender: mpsc::Sender<LogEntry>,
    dropped: Arc<AtomicU64>,
}

impl std::fmt::Debug for LogQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogQueue").finish_non_exhaustive()
    }
}

impl LogQueue {
    /// Starts the writer thread of `log`; it ends when the last queue clone is
    /// dropped, after writing what is queued.
    pub(crate) fn start<L: ProvisioningLog + 'static>(log: Arc<L>) -> LogQueue {
        let (sender, mut receiver) = mpsc::channel::<LogEntry>(QUEUE_CAPACITY);
        let spawned = std::thread::Builder::new()
            .name("scimitar-provisioning-log".into())
            .spawn(move || {
                // The thread's own runtime: the log works whatever runtime (if
                // any) the service was built in.
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        log::error!("provisioning log disabled: no runtime: {error}");
                        return;
                    }
                };
                while let Some(first) = receiver.blocking_recv() {
                    let mut batch = vec![first];
                    let mut drain = |batch: &mut Vec<LogEntry>| {
                        while batch.len() < BATCH {
                            match receiver.try_recv() {
                                Ok(entry) => batch.push(entry),
                                Err(_) => break,
                            }
                        }
                    };
                    drain(&mut batch);
                    if batch.len() < BATCH {
                        // A full batch is written at once: the queue may hold more.
                        std::thread::sleep(LINGER);
                        drain(&mut batch);
                    }
                    if let Err(error) = runtime.block_on(log.record(&batch)) {
                        log::warn!(
                            "provisioning log: {} entries not written: {error}",
                            batch.len()
                        );
                    }
                }
            });
        if let Err(error) = spawned {
            log::error!("provisioning log disabled: cannot start its thread: {error}");
        }
        LogQueue {
            sender,
            dropped: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Queues an entry, or drops it when the queue is full.
    pub(crate) fn push(&self, entry: LogEntry) {
        if self.sender.try_send(entry).is_err() {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                log::warn!(
                    "provisioning log: {dropped} entries dropped (the log is not keeping up)"
                );
            }
        }
    }
}

/// The longest PATCH summary kept.
const SUMMARY_CHARS: usize = 500;

impl PatchSummary {
    /// The operations of a PATCH body: `op:path`, or `op:(key,key)` for a
    /// path-less operation's value keys; `None` when the body has no operations.
    pub(crate) fn of(body: &serde_json::Value) -> Option<PatchSummary> {
        let operations = body.as_object()?.iter().find_map(|(key, value)| {
            key.eq_ignore_ascii_case("Operations")
                .then(|| value.as_array())
                .flatten()
        })?;
        let field = |operation: &serde_json::Value, name: &str| {
            operation.as_object().and_then(|fields| {
                fields
                    .iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case(name))
                    .map(|(_, value)| value.clone())
            })
        };
        let parts: Vec<String> = operations
            .iter()
            .map(|operation| {
                let op = field(operation, "op")
                    .and_then(|op| op.as_str().map(str::to_lowercase))
                    .unwrap_or_else(|| "?".into());
                match field(operation, "path").and_then(|p| p.as_str().map(str::to_owned)) {
                    Some(path) => format!("{op}:{path}"),
                    None => {
                        let keys = field(operation, "value")
                            .and_then(|value| {
                                value.as_object().map(|fields| {
                                    fields.keys().cloned().collect::<Vec<_>>().join(",")
                                })
                            })
                            .unwrap_or_default();
                        format!("{op}:({keys})")
                    }
                }
            })
            .collect();
        let summary: String = parts.join(" ").chars().take(SUMMARY_CHARS).collect();
        Some(PatchSummary(summary))
    }
}

/// What a create named its resource by (`userName "bjensen", externalId "e1"`),
/// noted by the handler so that the log entry of a failed create says which
/// resource did not arrive.
#[derive(Debug, Clone)]
pub(crate) struct CreateSubject(pub(crate) String);

/// The longest create subject kept.
const SUBJECT_CHARS: usize = 300;

impl CreateSubject {
    /// The identifying attributes of a create's body (`userName` or `displayName`,
    /// and `externalId`), if it has any.
    pub(crate) fn of(body: &serde_json::Value) -> Option<CreateSubject> {
        let object = body.as_object()?;
        let field = |name: &str| {
            object
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| format!("{name} {value}"))
        };
        let parts: Vec<String> = field("userName")
            .or_else(|| field("displayName"))
            .into_iter()
            .chain(field("externalId"))
            .collect();
        (!parts.is_empty())
            .then(|| CreateSubject(parts.join(", ").chars().take(SUBJECT_CHARS).collect()))
    }
}

/// The resource an alias (`/Me`) stood for, in the request's extensions, so that the
/// log names `/{endpoint}/{id}` rather than the alias.
pub(crate) struct Aliased {
    /// The endpoint without slashes, e.g. `Users`.
    pub(crate) endpoint: String,
    /// The resource's id.
    pub(crate) id: String,
}

/// What the request before the scope's routing looked like.
pub(crate) struct RequestFacts {
    pub(crate) method: Method,
    /// The path below the scope's base, e.g. `/Users/42`.
    pub(crate) rest: String,
    pub(crate) user_agent: Option<String>,
}

/// The log entry of a finished request; `None` for a request whose credential
/// was refused: nothing is written for those (they are counted in the server's
/// log), so that strangers cannot fill a tenant's log, or make one for a tenant
/// that does not exist.
pub(crate) fn entry_for(
    facts: RequestFacts,
    response: &ServiceResponse<BoxBody>,
) -> Option<LogEntry> {
    let request = response.request();
    let credential = request.extensions().get::<RequestCredential>().cloned()?;
    let tenant = credential.tenant.clone();
    let segments: Vec<&str> = facts
        .rest
        .trim_matches('/')
        .split('/')
        .filter(|segment| !segment.is_empty())
        .collect();
    let (operation, resource_type, mut resource_id) = match request.extensions().get::<Aliased>() {
        Some(aliased) => classify(&facts.method, &[&aliased.endpoint, &aliased.id]),
        None => classify(&facts.method, &segments),
    };
    let mut operation = operation.to_owned();
    if let Some(PatchSummary(summary)) = request.extensions().get::<PatchSummary>() {
        operation = format!("patch {summary}");
    }
    let status = response.status();
    if facts.method == Method::POST && status.as_u16() == 201 {
        resource_id = response
            .headers()
            .get(header::LOCATION)
            .and_then(|location| location.to_str().ok())
            .and_then(|location| location.rsplit('/').next())
            .map(str::to_owned);
    }
    let mut entry = LogEntry::new(&tenant, facts.method.as_str(), &operation);
    entry.resource_type = resource_type;
    entry.resource_id = resource_id;
    entry.status = status.as_u16();
    entry.user_agent = facts
        .user_agent
        .map(|agent| agent.chars().take(USER_AGENT_CHARS).collect());
    entry.token_id = Some(credential.token_id);
    entry.token_label = Some(credential.token_label).filter(|label| !label.is_empty());
    if status.as_u16() >= 400 {
        let subject = request.extensions().get::<CreateSubject>().cloned();
        match response.response().error() {
            Some(error) => match error.as_error::<ScimError>() {
                Some(scim) => {
                    entry.scim_type = scim.scim_type().map(|t| t.as_str().to_owned());
                    entry.detail = Some(scim.to_string());
                }
                None => entry.detail = Some(error.to_string()),
            },
            None => entry.detail = status.canonical_reason().map(str::to_owned),
        }
        if let Some(CreateSubject(subject)) = subject {
            let detail = entry.detail.take().unwrap_or_default();
            entry.detail = Some(format!("{subject}: {detail}"));
        }
    }
    Some(entry)
}

/// The operation, resource type (endpoint as requested) and id of a path below
/// the scope.
fn classify(method: &Method, segments: &[&str]) -> (&'static str, Option<String>, Option<String>) {
    let endpoint = |name: &str| Some(name.to_owned());
    match (segments, method.as_str()) {
        ([], _) => ("unknown", None, None),
        (["Bulk"], _) => ("bulk", None, None),
        ([".search"], _) => ("search", None, None),
        ([first, ..], _)
            if ["ServiceProviderConfig", "Schemas", "ResourceTypes"]
                .iter()
                .any(|name| name.eq_ignore_ascii_case(first)) =>
        {
            ("discovery", None, None)
        }
        ([name], "GET") => ("list", endpoint(name), None),
        ([name], "POST") => ("create", endpoint(name), None),
        ([name, ".search"], _) => ("search", endpoint(name), None),
        ([name, id], method) => {
            let operation = match method {
                "GET" => "get",
                "PUT" => "replace",
                "PATCH" => "patch",
                "DELETE" => "delete",
                _ => "unknown",
            };
            (operation, endpoint(name), Some((*id).to_owned()))
        }
        (_, _) => ("unknown", None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_summaries_name_paths_never_values() {
        let body = serde_json::json!({"Operations": [
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "replace", "value": {"password": "hunter2", "name.givenName": "B"}},
        ]});
        let summary = PatchSummary::of(&body).map(|s| s.0);
        assert_eq!(
            summary.as_deref(),
            Some("replace:active replace:(password,name.givenName)")
        );
        assert!(PatchSummary::of(&serde_json::json!({})).is_none());
    }

    #[test]
    fn create_subjects_name_the_resource() {
        let subject = |body: serde_json::Value| CreateSubject::of(&body).map(|s| s.0);
        assert_eq!(
            subject(
                serde_json::json!({"username": "bjensen", "externalId": "e1", "password": "x"})
            )
            .as_deref(),
            Some(r#"userName "bjensen", externalId "e1""#)
        );
        assert_eq!(
            subject(serde_json::json!({"displayName": "Sales"})).as_deref(),
            Some(r#"displayName "Sales""#)
        );
        assert_eq!(subject(serde_json::json!({"title": "x"})), None);
        assert_eq!(subject(serde_json::json!([1])), None);
    }

    #[test]
    fn paths_name_their_operation() {
        let op = |method: Method, path: &str| {
            let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
            let (operation, resource_type, id) = classify(&method, &segments);
            (operation, resource_type, id)
        };
        assert_eq!(
            op(Method::GET, "/Users"),
            ("list", Some("Users".into()), None)
        );
        assert_eq!(
            op(Method::POST, "/Users"),
            ("create", Some("Users".into()), None)
        );
        assert_eq!(
            op(Method::PATCH, "/Groups/9"),
            ("patch", Some("Groups".into()), Some("9".into()))
        );
        assert_eq!(op(Method::DELETE, "/Users/1").0, "delete");
        assert_eq!(op(Method::POST, "/Users/.search").0, "search");
        assert_eq!(op(Method::GET, "/Schemas/urn:x").0, "discovery");
        assert_eq!(op(Method::POST, "/Bulk").0, "bulk");
    }
}
