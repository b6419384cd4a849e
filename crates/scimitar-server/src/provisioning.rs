//! Recording each SCIM request in the tenant's provisioning log, after the
//! response and off the request path.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use http::{header, Method};
use scimitar_protocol::{Exchange, Observer};
use scimitar_store::provisioning_log::{LogEntry, ProvisioningLog};
use tokio::sync::mpsc;

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

impl Observer for LogQueue {
    fn observe(&self, exchange: &Exchange<'_>) {
        self.push(entry_for(exchange));
    }
}

/// The log entry of a finished request. Requests whose credential was refused
/// never get here (the engine observes authenticated requests only): nothing is
/// written for those (they are counted in the server's log), so that strangers
/// cannot fill a tenant's log, or make one for a tenant that does not exist.
pub(crate) fn entry_for(exchange: &Exchange<'_>) -> LogEntry {
    let principal = exchange.principal;
    let method = exchange.method;
    let segments: Vec<&str> = exchange
        .path
        .trim_matches('/')
        .split('/')
        .filter(|segment| !segment.is_empty())
        .collect();
    let (operation, resource_type, mut resource_id) = match &exchange.notes.aliased {
        Some((endpoint, id)) => classify(method, &[endpoint.as_str(), id.as_str()]),
        None => classify(method, &segments),
    };
    let mut operation = operation.to_owned();
    if let Some(summary) = &exchange.notes.patch_summary {
        operation = format!("patch {summary}");
    }
    let response = exchange.response;
    let status = response.status();
    if *method == Method::POST && status.as_u16() == 201 {
        resource_id = response
            .headers()
            .get(header::LOCATION)
            .and_then(|location| location.to_str().ok())
            .and_then(|location| location.rsplit('/').next())
            .map(str::to_owned);
    }
    let mut entry = LogEntry::new(&principal.tenant, method.as_str(), &operation);
    entry.resource_type = resource_type;
    entry.resource_id = resource_id;
    entry.status = status.as_u16();
    entry.user_agent = exchange
        .headers
        .get(header::USER_AGENT)
        .and_then(|agent| agent.to_str().ok())
        .map(|agent| agent.chars().take(USER_AGENT_CHARS).collect());
    entry.token_id = Some(principal.client.clone());
    entry.token_label = Some(principal.label.clone()).filter(|label| !label.is_empty());
    if status.as_u16() >= 400 {
        entry.detail = match exchange.error {
            Some(error) => {
                entry.scim_type = error.scim_type().map(|t| t.as_str().to_owned());
                Some(error.to_string())
            }
            None => status.canonical_reason().map(str::to_owned),
        };
        if let Some(subject) = &exchange.notes.create_subject {
            let detail = entry.detail.take().unwrap_or_default();
            entry.detail = Some(format!("{subject}: {detail}"));
        }
    } else {
        // What a create named its resource by, so that the log finds a user by
        // the userName an admin knows.
        entry.detail.clone_from(&exchange.notes.create_subject);
    }
    entry
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
