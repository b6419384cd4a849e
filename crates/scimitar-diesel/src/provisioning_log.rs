//! [`ProvisioningLog`] for [`DieselStore`]: the `provisioning_log` table, keeping
//! the newest [`DEFAULT_RETENTION`] entries per tenant (older ones are deleted as
//! new ones arrive). Pruning runs once a tenant has [`PRUNE_SLACK`] new entries
//! since its last prune (counted per process), not on every write: a tenant holds
//! at most `DEFAULT_RETENTION + PRUNE_SLACK` entries per writing process between
//! prunes, and at least the newest `DEFAULT_RETENTION` always.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};

use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::QueryableByName;
use scimitar_store::provisioning_log::{
    LogEntry, LogOutcome, LogQuery, ProvisioningLog, DEFAULT_RETENTION,
};
use scimitar_store::StoreError;

use crate::connection::Conn;
use crate::error::Failure;
use crate::filter_sql::escape_like;
use crate::sql::{Sql, Value};
use crate::time::{from_nanos, to_nanos};
use crate::DieselStore;

const COLUMNS: &str = "tenant_id, at, token_id, token_label, user_agent, method, \
                       resource_type, operation, resource_id, status, scim_type, detail";

/// New entries a tenant may gain beyond [`DEFAULT_RETENTION`] before they are
/// pruned: the prune's `DELETE` runs once per this many entries, not per batch.
pub(crate) const PRUNE_SLACK: usize = 500;

/// Entries written per tenant since that tenant's last prune, by this process.
#[derive(Debug, Default)]
pub(crate) struct PruneSchedule {
    since_prune: Mutex<HashMap<String, usize>>,
}

impl PruneSchedule {
    /// Counts `entries` and returns the tenants now due a prune, starting their
    /// counts afresh (a write that then fails leaves its prune to a later one).
    fn due(&self, entries: &[LogEntry]) -> Vec<String> {
        let mut per_tenant: BTreeMap<&str, usize> = BTreeMap::new();
        for entry in entries {
            *per_tenant.entry(entry.tenant.as_str()).or_default() += 1;
        }
        let mut since_prune = self
            .since_prune
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        per_tenant
            .into_iter()
            .filter_map(|(tenant, written)| {
                let count = since_prune.entry(tenant.to_owned()).or_default();
                *count = count.saturating_add(written);
                if *count > PRUNE_SLACK {
                    *count = 0;
                    Some(tenant.to_owned())
                } else {
                    None
                }
            })
            .collect()
    }
}

/// Rows per INSERT: 12 binds each, well under SQLite's 32,766 bind limit.
const ROWS_PER_INSERT: usize = 200;

#[derive(QueryableByName)]
struct LogRow {
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = Text)]
    tenant_id: String,
    #[diesel(sql_type = BigInt)]
    at: i64,
    #[diesel(sql_type = Nullable<Text>)]
    token_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    token_label: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    user_agent: Option<String>,
    #[diesel(sql_type = Text)]
    method: String,
    #[diesel(sql_type = Nullable<Text>)]
    resource_type: Option<String>,
    #[diesel(sql_type = Text)]
    operation: String,
    #[diesel(sql_type = Nullable<Text>)]
    resource_id: Option<String>,
    #[diesel(sql_type = BigInt)]
    status: i64,
    #[diesel(sql_type = Nullable<Text>)]
    scim_type: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    detail: Option<String>,
}

impl LogRow {
    fn into_entry(self) -> Result<LogEntry, Failure> {
        Ok(LogEntry {
            seq: u64::try_from(self.seq).unwrap_or_default(),
            at: from_nanos(self.at)?,
            tenant: self.tenant_id,
            token_id: self.token_id,
            token_label: self.token_label,
            user_agent: self.user_agent,
            method: self.method,
            resource_type: self.resource_type,
            operation: self.operation,
            resource_id: self.resource_id,
            status: u16::try_from(self.status).unwrap_or_default(),
            scim_type: self.scim_type,
            detail: self.detail,
        })
    }
}

/// PostgreSQL text cannot hold NUL; a logged value is for reading, so drop them.
fn text(value: &str) -> Value {
    Value::Text(value.replace('\0', ""))
}

fn optional(value: &Option<String>) -> Value {
    value.as_deref().map_or(Value::Null, text)
}

fn insert(conn: &mut Conn<'_>, entries: &[LogEntry]) -> Result<(), Failure> {
    for chunk in entries.chunks(ROWS_PER_INSERT) {
        let mut sql = Sql::new(&format!("INSERT INTO provisioning_log ({COLUMNS}) VALUES "));
        for (i, entry) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind_list([
                text(&entry.tenant),
                to_nanos(entry.at)?.into(),
                optional(&entry.token_id),
                optional(&entry.token_label),
                optional(&entry.user_agent),
                text(&entry.method),
                optional(&entry.resource_type),
                text(&entry.operation),
                optional(&entry.resource_id),
                i64::from(entry.status).into(),
                optional(&entry.scim_type),
                optional(&entry.detail),
            ]);
        }
        conn.execute(sql)?;
    }
    Ok(())
}

/// Deletes the tenant's entries beyond the newest [`DEFAULT_RETENTION`].
fn prune(conn: &mut Conn<'_>, tenant: &str) -> Result<(), Failure> {
    let mut sql = Sql::new("DELETE FROM provisioning_log WHERE tenant_id = ");
    sql.bind(text(tenant))
        .push(" AND seq <= (SELECT seq FROM provisioning_log WHERE tenant_id = ")
        .bind(text(tenant))
        .push(" ORDER BY seq DESC LIMIT 1 OFFSET ")
        .bind(i64::try_from(DEFAULT_RETENTION).unwrap_or(i64::MAX))
        .push(")");
    conn.execute(sql)?;
    Ok(())
}

impl ProvisioningLog for DieselStore {
    async fn record(&self, entries: &[LogEntry]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let due = self.log_prunes.due(entries);
        let entries = entries.to_vec();
        self.blocking(move |pools| {
            pools.write(move |conn| {
                insert(conn, &entries)?;
                for tenant in &due {
                    prune(conn, tenant)?;
                }
                Ok::<_, Failure>(())
            })
        })
        .await
    }

    async fn recent(&self, tenant: &str, query: &LogQuery) -> Result<Vec<LogEntry>, StoreError> {
        let (tenant, query) = (tenant.to_owned(), query.clone());
        self.blocking(move |pools| {
            pools.with_conn(|conn| {
                let mut sql = Sql::new(&format!(
                    "SELECT seq, {COLUMNS} FROM provisioning_log WHERE tenant_id = "
                ));
                sql.bind(text(&tenant));
                push_filters(&mut sql, &query)?;
                sql.push(" ORDER BY seq DESC LIMIT ")
                    .bind(i64::try_from(query.limit).unwrap_or(i64::MAX));
                conn.load::<LogRow>(sql)?
                    .into_iter()
                    .map(LogRow::into_entry)
                    .collect::<Result<Vec<_>, Failure>>()
            })
        })
        .await
    }
}

/// The conditions of [`LogQuery::matches`], in SQL.
fn push_filters(sql: &mut Sql, query: &LogQuery) -> Result<(), Failure> {
    let seq = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    match query.outcome {
        Some(LogOutcome::Failure) => {
            sql.push(" AND status >= 400");
        }
        Some(LogOutcome::Success) => {
            sql.push(" AND status < 400");
        }
        None => {}
    }
    if let Some(before) = query.before {
        sql.push(" AND seq < ").bind(seq(before));
    }
    if let Some(after) = query.after {
        sql.push(" AND seq > ").bind(seq(after));
    }
    if let Some(since) = query.since {
        sql.push(" AND at >= ").bind(to_nanos(since)?);
    }
    if let Some(until) = query.until {
        sql.push(" AND at < ").bind(to_nanos(until)?);
    }
    if let Some(operation) = &query.operation {
        sql.push(" AND (operation = ")
            .bind(text(operation))
            .push(" OR operation LIKE ")
            .bind(text(&format!("{} %", escape_like(operation))))
            .push(" ESCAPE '\\')");
    }
    if let Some(subject) = &query.subject {
        sql.push(" AND (resource_id = ")
            .bind(text(subject))
            .push(" OR LOWER(detail) LIKE ")
            .bind(text(&format!("%{}%", escape_like(&subject.to_lowercase()))))
            .push(" ESCAPE '\\')");
    }
    if let Some(client) = &query.client {
        sql.push(" AND (token_id = ")
            .bind(text(client))
            .push(" OR token_label = ")
            .bind(text(client))
            .push(")");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(tenant: &str, n: usize) -> Vec<LogEntry> {
        (0..n)
            .map(|_| LogEntry::new(tenant, "POST", "create"))
            .collect()
    }

    #[test]
    fn a_tenant_is_due_a_prune_once_past_the_slack() {
        let schedule = PruneSchedule::default();
        assert!(schedule.due(&entries("a", PRUNE_SLACK)).is_empty());
        let mut both = entries("a", 1);
        both.extend(entries("b", 1));
        assert_eq!(schedule.due(&both), ["a"]);
        // Counting starts afresh after a prune.
        assert!(schedule.due(&entries("a", PRUNE_SLACK)).is_empty());
    }

    #[tokio::test]
    async fn pruning_keeps_exactly_the_retention_once_due() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("log.db").display());
        let store = DieselStore::open(&url).unwrap();
        let written = DEFAULT_RETENTION + PRUNE_SLACK + 1;
        store.record(&entries("t", written)).await.unwrap();
        let everything = LogQuery {
            limit: written,
            ..LogQuery::default()
        };
        let kept = store.recent("t", &everything).await.unwrap();
        assert_eq!(kept.len(), DEFAULT_RETENTION);
    }
}
