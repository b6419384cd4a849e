//! The provisioning log: one entry per SCIM request, for the tenant's admin.
//!
//! When an identity provider reports "the SCIM endpoint failed", the admin needs to
//! see which request failed and why. The HTTP layer records an entry per request
//! (after the response, best effort: a log failure never fails a request) in a
//! [`ProvisioningLog`]; admins read the newest entries of a tenant back.
//!
//! An entry never holds a token secret, a header or a body value: the client is
//! named by its token's public id and label, a PATCH by its operations and paths.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! use scimitar_store::provisioning_log::{LogEntry, LogQuery, MemoryLog, ProvisioningLog};
//!
//! let log = MemoryLog::new(1000);
//! let mut entry = LogEntry::new("acme", "POST", "create");
//! entry.status = 409;
//! entry.scim_type = Some("uniqueness".into());
//! entry.detail = Some("userName is already in use".into());
//! log.record(&[entry]).await?;
//!
//! let failures = log.recent("acme", &LogQuery::failures(10)).await?;
//! assert_eq!(failures[0].detail.as_deref(), Some("userName is already in use"));
//! # Ok::<(), scimitar_store::StoreError>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Mutex, PoisonError};

use time::OffsetDateTime;

use crate::StoreError;

/// How many entries a log keeps per tenant by default: the newest 10,000 (a
/// month of an Entra ID tenant with a few hundred users; a day of an initial
/// import of ten thousand).
pub const DEFAULT_RETENTION: usize = 10_000;

/// One SCIM request as the admin sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// The entry's position in the log: larger for later entries, unique in the
    /// log. Set by [`ProvisioningLog::record`]; 0 before.
    pub seq: u64,
    /// When the response was sent.
    pub at: OffsetDateTime,
    /// The tenant the request was for.
    pub tenant: String,
    /// The public id of the bearer token (`jwt` for a JWT); `None` when the
    /// request carried no valid credential.
    pub token_id: Option<String>,
    /// The token's label (`entra-prod`).
    pub token_label: Option<String>,
    /// The client's `User-Agent` (`Okta SCIM Client 1.0.0`), truncated to 200
    /// characters.
    pub user_agent: Option<String>,
    /// The HTTP method.
    pub method: String,
    /// The resource type (`User`, `Group`), when the request names one.
    pub resource_type: Option<String>,
    /// What was asked: `create`, `get`, `list`, `search`, `replace`, `patch`,
    /// `delete`, `bulk`, `discovery`. A PATCH adds its operations and paths
    /// (`patch replace:active`), never their values.
    pub operation: String,
    /// The resource's id (for a create, the id it was given).
    pub resource_id: Option<String>,
    /// The response status.
    pub status: u16,
    /// The SCIM error type of a failed request (`uniqueness`, `invalidFilter`).
    pub scim_type: Option<String>,
    /// The error detail sent to the client.
    pub detail: Option<String>,
}

impl LogEntry {
    /// An entry stamped now, with status 200 and nothing else known yet.
    pub fn new(tenant: &str, method: &str, operation: &str) -> Self {
        LogEntry {
            seq: 0,
            at: crate::meta::now(),
            tenant: tenant.to_owned(),
            token_id: None,
            token_label: None,
            user_agent: None,
            method: method.to_owned(),
            resource_type: None,
            operation: operation.to_owned(),
            resource_id: None,
            status: 200,
            scim_type: None,
            detail: None,
        }
    }

    /// Whether the request failed (status 400 or above).
    pub fn is_error(&self) -> bool {
        self.status >= 400
    }
}

/// Which entries [`ProvisioningLog::recent`] returns: the newest `limit` of
/// those every set field matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogQuery {
    /// At most this many, newest first.
    pub limit: usize,
    /// Only failed requests ([`LogEntry::is_error`]), or only successful ones.
    pub outcome: Option<LogOutcome>,
    /// Only entries before this [`LogEntry::seq`]: the next page of a listing
    /// is the query again with `before` set to the last `seq` read.
    pub before: Option<u64>,
    /// Only entries after this [`LogEntry::seq`]: what arrived since a read.
    pub after: Option<u64>,
    /// Only entries at or after this time.
    pub since: Option<OffsetDateTime>,
    /// Only entries before this time.
    pub until: Option<OffsetDateTime>,
    /// Only this operation: its first word, `create` or `patch` (which matches
    /// `patch replace:active`).
    pub operation: Option<String>,
    /// Only entries about this resource: its id, or text of the detail, ignoring
    /// case (a failed create's detail names its `userName`, a successful one's
    /// too).
    pub subject: Option<String>,
    /// Only requests of this client: a token id or label.
    pub client: Option<String>,
}

/// Whether a request succeeded: what [`LogQuery::outcome`] picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogOutcome {
    /// Status below 400.
    Success,
    /// Status 400 or above.
    Failure,
}

impl Default for LogQuery {
    fn default() -> Self {
        LogQuery {
            limit: 50,
            outcome: None,
            before: None,
            after: None,
            since: None,
            until: None,
            operation: None,
            subject: None,
            client: None,
        }
    }
}

impl LogQuery {
    /// The newest `limit` failed requests.
    pub fn failures(limit: usize) -> Self {
        LogQuery {
            limit,
            outcome: Some(LogOutcome::Failure),
            ..LogQuery::default()
        }
    }

    /// Whether `entry` passes every filter (the limit aside): the rule every
    /// implementation follows, and the one in-memory logs run.
    pub fn matches(&self, entry: &LogEntry) -> bool {
        let outcome = match self.outcome {
            None => true,
            Some(LogOutcome::Failure) => entry.is_error(),
            Some(LogOutcome::Success) => !entry.is_error(),
        };
        let operation = self.operation.as_deref().is_none_or(|operation| {
            entry
                .operation
                .strip_prefix(operation)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
        });
        let subject = self.subject.as_deref().is_none_or(|subject| {
            entry.resource_id.as_deref() == Some(subject)
                || entry
                    .detail
                    .as_deref()
                    .is_some_and(|detail| detail.to_lowercase().contains(&subject.to_lowercase()))
        });
        let client = self.client.as_deref().is_none_or(|client| {
            entry.token_id.as_deref() == Some(client)
                || entry.token_label.as_deref() == Some(client)
        });
        outcome
            && operation
            && subject
            && client
            && self.before.is_none_or(|before| entry.seq < before)
            && self.after.is_none_or(|after| entry.seq > after)
            && self.since.is_none_or(|since| entry.at >= since)
            && self.until.is_none_or(|until| entry.at < until)
    }
}

/// Where provisioning log entries are kept.
///
/// Rules: entries are returned newest first (by recording order), only the
/// tenant's, only those the query [matches](LogQuery::matches), each with its
/// `seq` (increasing in recording order); an implementation keeps at least the newest [`DEFAULT_RETENTION`]
/// entries per tenant (or the retention it was configured with) and may drop older
/// ones.
pub trait ProvisioningLog: Send + Sync {
    /// Appends entries (of any tenants), in order.
    fn record(&self, entries: &[LogEntry]) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The tenant's newest entries.
    fn recent(
        &self,
        tenant: &str,
        query: &LogQuery,
    ) -> impl Future<Output = Result<Vec<LogEntry>, StoreError>> + Send;
}

/// A [`ProvisioningLog`] in memory, keeping the newest `retention` entries per
/// tenant.
#[derive(Debug)]
pub struct MemoryLog {
    retention: usize,
    tenants: Mutex<MemoryEntries>,
}

#[derive(Debug, Default)]
struct MemoryEntries {
    last_seq: u64,
    by_tenant: HashMap<String, VecDeque<LogEntry>>,
}

impl MemoryLog {
    /// A log keeping `retention` entries per tenant.
    pub fn new(retention: usize) -> Self {
        MemoryLog {
            retention,
            tenants: Mutex::new(MemoryEntries::default()),
        }
    }

    /// Drops every entry of `tenant` (it was deleted).
    pub fn forget_tenant(&self, tenant: &str) {
        // Entries are pushed whole: a poisoned lock still holds consistent queues.
        self.tenants
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .by_tenant
            .remove(tenant);
    }
}

impl Default for MemoryLog {
    fn default() -> Self {
        MemoryLog::new(DEFAULT_RETENTION)
    }
}

impl ProvisioningLog for MemoryLog {
    async fn record(&self, entries: &[LogEntry]) -> Result<(), StoreError> {
        // Pushes and pops leave each queue whole: a poisoned lock is consistent.
        let mut tenants = self.tenants.lock().unwrap_or_else(PoisonError::into_inner);
        let tenants = &mut *tenants;
        for entry in entries {
            tenants.last_seq += 1;
            let queue = tenants.by_tenant.entry(entry.tenant.clone()).or_default();
            queue.push_back(LogEntry {
                seq: tenants.last_seq,
                ..entry.clone()
            });
            while queue.len() > self.retention {
                queue.pop_front();
            }
        }
        Ok(())
    }

    async fn recent(&self, tenant: &str, query: &LogQuery) -> Result<Vec<LogEntry>, StoreError> {
        let tenants = self.tenants.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(tenants
            .by_tenant
            .get(tenant)
            .map(|queue| {
                queue
                    .iter()
                    .rev()
                    .filter(|entry| query.matches(entry))
                    .take(query.limit)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }
}

/// The [`ProvisioningLog`] rules as one check, for the tests of an implementation
/// (feature `testkit`) whose retention is `retention`; panics at the first rule
/// broken. `tenant` should be new to `log`.
#[cfg(feature = "testkit")]
pub async fn check_provisioning_log<L: ProvisioningLog>(log: &L, tenant: &str, retention: usize) {
    let other = format!("{tenant}-other");
    let entry = |tenant: &str, n: usize| {
        let mut entry = LogEntry::new(tenant, "PATCH", "patch replace:active");
        entry.resource_type = Some("User".into());
        entry.resource_id = Some(format!("id-{n}"));
        entry.token_id = Some("0123456789abcdef".into());
        entry.token_label = Some("entra".into());
        entry.user_agent = Some("Okta SCIM Client 1.0.0".into());
        if n % 2 == 1 {
            entry.status = 400;
            entry.scim_type = Some("invalidValue".into());
            entry.detail = Some(format!("failure {n}"));
        }
        entry
    };
    let batch: Vec<LogEntry> = (0..retention + 3)
        .map(|n| entry(if n == 1 { &other } else { tenant }, n))
        .collect();
    if let Err(error) = log.record(&batch).await {
        panic!("record failed: {error}");
    }
    let everything = LogQuery {
        limit: retention * 2,
        ..LogQuery::default()
    };
    let all = log.recent(tenant, &everything).await.unwrap_or_default();
    let newest = batch.last().cloned().map(|entry| LogEntry {
        seq: all.first().map_or(0, |first| first.seq),
        ..entry
    });
    assert_eq!(
        all.first().cloned(),
        newest,
        "newest first, read as written"
    );
    assert!(
        all.windows(2).all(|pair| pair[0].seq > pair[1].seq),
        "seq decreases newest first"
    );
    assert!(all.iter().all(|e| e.tenant == tenant), "only the tenant's");
    assert!(all.len() >= retention.min(retention + 2), "retention kept");
    let ids: Vec<_> = all.iter().map(|e| e.resource_id.clone()).collect();
    let mut sorted = ids.clone();
    sorted.sort_by_key(|id| {
        std::cmp::Reverse(
            id.as_deref()
                .and_then(|id| id.strip_prefix("id-"))
                .and_then(|n| n.parse::<usize>().ok()),
        )
    });
    assert_eq!(ids, sorted, "in recording order");
    let errors = log
        .recent(tenant, &LogQuery::failures(2))
        .await
        .unwrap_or_default();
    assert_eq!(errors.len(), 2);
    assert!(errors.iter().all(LogEntry::is_error));
    // Each filter, against the rule of `LogQuery::matches` on what was read.
    let oldest_kept = all.last().map_or(0, |entry| entry.seq);
    let middle = all.get(all.len() / 2).map_or(0, |entry| entry.seq);
    let queries = [
        LogQuery {
            outcome: Some(LogOutcome::Success),
            ..everything.clone()
        },
        LogQuery {
            before: Some(middle),
            limit: 3,
            ..everything.clone()
        },
        LogQuery {
            after: Some(middle),
            ..everything.clone()
        },
        LogQuery {
            subject: Some("FAILURE 3".into()),
            ..everything.clone()
        },
        LogQuery {
            subject: Some("id-4".into()),
            ..everything.clone()
        },
        LogQuery {
            operation: Some("patch".into()),
            client: Some("entra".into()),
            ..everything.clone()
        },
        LogQuery {
            operation: Some("pat".into()),
            ..everything.clone()
        },
        LogQuery {
            client: Some("0123456789abcdef".into()),
            since: all.last().map(|entry| entry.at),
            until: Some(crate::meta::now() + time::Duration::seconds(1)),
            ..everything.clone()
        },
        LogQuery {
            since: Some(crate::meta::now() + time::Duration::seconds(60)),
            ..everything.clone()
        },
    ];
    for query in queries {
        let found = log.recent(tenant, &query).await.unwrap_or_default();
        let expected: Vec<LogEntry> = all
            .iter()
            .filter(|entry| query.matches(entry))
            .take(query.limit)
            .cloned()
            .collect();
        assert_eq!(found, expected, "{query:?}");
    }
    assert!(oldest_kept > 0, "entries have their seq");
    let count = |query: LogQuery| {
        let query = LogQuery {
            limit: retention * 2,
            ..query
        };
        async move { log.recent(tenant, &query).await.map(|found| found.len()) }
    };
    let by_id = LogQuery {
        subject: Some(format!("id-{}", retention + 2)),
        ..LogQuery::default()
    };
    assert_eq!(count(by_id).await.ok(), Some(1), "one entry has that id");
    let later = LogQuery {
        since: Some(crate::meta::now() + time::Duration::seconds(60)),
        ..LogQuery::default()
    };
    assert_eq!(count(later).await.ok(), Some(0), "nothing is in the future");
    let other_operation = LogQuery {
        operation: Some("delete".into()),
        ..LogQuery::default()
    };
    assert_eq!(count(other_operation).await.ok(), Some(0), "no deletes");
    let others = log.recent(&other, &LogQuery::default()).await;
    assert_eq!(others.unwrap_or_default().len(), 1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_memory_log_keeps_the_rules() {
        check_provisioning_log(&MemoryLog::new(5), "acme", 5).await;
        let log = MemoryLog::new(5);
        let batch: Vec<LogEntry> = (0..8).map(|_| LogEntry::new("t", "GET", "list")).collect();
        assert!(log.record(&batch).await.is_ok());
        let kept = log
            .recent(
                "t",
                &LogQuery {
                    limit: 100,
                    ..LogQuery::default()
                },
            )
            .await;
        assert_eq!(kept.map(|kept| kept.len()).ok(), Some(5), "retention");
    }
}
