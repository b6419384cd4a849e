//! [`ProvisioningLog`] for [`DieselStore`]: the `provisioning_log` table, keeping
//! the newest [`DEFAULT_RETENTION`] entries per tenant (older ones are deleted as
//! new ones arrive).

use std::collections::BTreeSet;

use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::QueryableByName;
use scimitar_store::provisioning_log::{LogEntry, LogQuery, ProvisioningLog, DEFAULT_RETENTION};
use scimitar_store::StoreError;

use crate::connection::Conn;
use crate::error::Failure;
use crate::sql::{Sql, Value};
use crate::time::{from_nanos, to_nanos};
use crate::DieselStore;

const COLUMNS: &str = "tenant_id, at, token_id, token_label, user_agent, method, \
                       resource_type, operation, resource_id, status, scim_type, detail";

/// Rows per INSERT: 12 binds each, well under SQLite's 32,766 bind limit.
const ROWS_PER_INSERT: usize = 200;

#[derive(QueryableByName)]
struct LogRow {
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
        let entries = entries.to_vec();
        self.blocking(move |pools| {
            pools.write(|conn| {
                insert(conn, &entries)?;
                let tenants: BTreeSet<&str> = entries.iter().map(|e| e.tenant.as_str()).collect();
                for tenant in tenants {
                    prune(conn, tenant)?;
                }
                Ok::<_, Failure>(())
            })
        })
        .await
    }

    async fn recent(&self, tenant: &str, query: &LogQuery) -> Result<Vec<LogEntry>, StoreError> {
        let (tenant, query) = (tenant.to_owned(), *query);
        self.blocking(move |pools| {
            pools.with_conn(|conn| {
                let mut sql = Sql::new(&format!(
                    "SELECT {COLUMNS} FROM provisioning_log WHERE tenant_id = "
                ));
                sql.bind(text(&tenant));
                if query.errors_only {
                    sql.push(" AND status >= 400");
                }
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
