//! [`OutboxStore`] for [`DieselStore`]: consumer checkpoints and leases in the
//! `outbox_consumers` table, so that delivery resumes after a restart and, on
//! PostgreSQL, several servers share the work without delivering one tenant's
//! stream twice at once; and pruning of the `events` they have all handled.

use std::time::Duration;

use diesel::sql_types::BigInt;
use diesel::QueryableByName;
use scimitar_store::hooks::OutboxStore;
use scimitar_store::StoreError;

use crate::error::Failure;
use crate::event_rows;
use crate::sql::{Dialect, Sql};
use crate::time::now_nanos;
use crate::DieselStore;

#[derive(QueryableByName)]
struct CheckpointRow {
    #[diesel(sql_type = BigInt)]
    checkpoint: i64,
}

fn stored(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

fn read(checkpoint: i64) -> u64 {
    u64::try_from(checkpoint).unwrap_or_default()
}

/// When a lease taken now for `ttl` ends, in stored form.
fn expiry(now: i64, ttl: Duration) -> i64 {
    let ttl = i64::try_from(ttl.as_nanos()).unwrap_or(i64::MAX);
    now.saturating_add(ttl)
}

impl OutboxStore for DieselStore {
    async fn checkpoint(&self, tenant: &str, consumer: &str) -> Result<u64, StoreError> {
        let (tenant, consumer) = (tenant.to_owned(), consumer.to_owned());
        self.blocking(move |pools| {
            pools.with_conn(|conn| {
                let mut sql =
                    Sql::new("SELECT checkpoint FROM outbox_consumers WHERE tenant_id = ");
                sql.bind(tenant).push(" AND consumer = ").bind(consumer);
                let row = conn.first::<CheckpointRow>(sql)?;
                Ok::<_, Failure>(row.map_or(0, |row| read(row.checkpoint)))
            })
        })
        .await
    }

    async fn try_lease(
        &self,
        tenant: &str,
        consumer: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<Option<u64>, StoreError> {
        let (tenant, consumer, owner) = (tenant.to_owned(), consumer.to_owned(), owner.to_owned());
        self.blocking(move |pools| {
            pools.write(move |conn| {
                let now = now_nanos()?;
                // One statement: the row lock it takes makes racing owners queue,
                // and the second finds the lease taken.
                let mut sql = Sql::new(
                    "INSERT INTO outbox_consumers \
                     (tenant_id, consumer, checkpoint, owner, lease_expires) VALUES (",
                );
                sql.bind(tenant)
                    .push(", ")
                    .bind(consumer)
                    .push(", 0, ")
                    .bind(owner)
                    .push(", ")
                    .bind(expiry(now, ttl))
                    .push(
                        ") ON CONFLICT (tenant_id, consumer) DO UPDATE \
                         SET owner = excluded.owner, lease_expires = excluded.lease_expires \
                         WHERE outbox_consumers.owner IS NULL \
                         OR outbox_consumers.owner = excluded.owner \
                         OR outbox_consumers.lease_expires <= ",
                    )
                    .bind(now)
                    .push(" RETURNING checkpoint");
                let row = conn.first::<CheckpointRow>(sql)?;
                Ok::<_, Failure>(row.map(|row| read(row.checkpoint)))
            })
        })
        .await
    }

    async fn set_checkpoint(
        &self,
        tenant: &str,
        consumer: &str,
        owner: &str,
        seq: u64,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let (tenant, consumer, owner) = (tenant.to_owned(), consumer.to_owned(), owner.to_owned());
        self.blocking(move |pools| {
            pools.write(move |conn| {
                let mut sql =
                    Sql::new("UPDATE outbox_consumers SET checkpoint = CASE WHEN checkpoint < ");
                sql.bind(stored(seq))
                    .push(" THEN ")
                    .bind(stored(seq))
                    .push(" ELSE checkpoint END, lease_expires = ")
                    .bind(expiry(now_nanos()?, ttl))
                    .push(" WHERE tenant_id = ")
                    .bind(tenant)
                    .push(" AND consumer = ")
                    .bind(consumer)
                    .push(" AND owner = ")
                    .bind(owner);
                Ok::<_, Failure>(conn.execute(sql)? == 1)
            })
        })
        .await
    }

    async fn release_lease(
        &self,
        tenant: &str,
        consumer: &str,
        owner: &str,
    ) -> Result<(), StoreError> {
        let (tenant, consumer, owner) = (tenant.to_owned(), consumer.to_owned(), owner.to_owned());
        self.blocking(move |pools| {
            pools.write(move |conn| {
                let mut sql = Sql::new(
                    "UPDATE outbox_consumers SET owner = NULL, lease_expires = NULL WHERE tenant_id = ",
                );
                sql.bind(tenant)
                    .push(" AND consumer = ")
                    .bind(consumer)
                    .push(" AND owner = ")
                    .bind(owner);
                conn.execute(sql)?;
                Ok::<_, Failure>(())
            })
        })
        .await
    }

    async fn prune_events(&self, tenant: &str, up_to: u64) -> Result<u64, StoreError> {
        let tenant = tenant.to_owned();
        self.blocking(move |pools| {
            pools.write(move |conn| {
                // One statement, bounded by the lowest checkpoint (or `up_to` when
                // the tenant has no consumers). Positions come from AUTOINCREMENT,
                // IDENTITY or a sequence, so deleting the newest events never lets
                // a number come back; unsettled events (no position) stay.
                if conn.dialect() == Dialect::Postgres {
                    // Only settled events have a position to compare.
                    event_rows::settle(conn, &tenant)?;
                }
                let position = conn.dialect().event_position();
                let mut sql = Sql::new("DELETE FROM events WHERE tenant_id = ");
                sql.bind(tenant.clone())
                    .push(&format!(" AND {position} <= "))
                    .bind(stored(up_to))
                    .push(&format!(
                        " AND {position} <= COALESCE((SELECT MIN(checkpoint) FROM outbox_consumers \
                         WHERE tenant_id = "
                    ))
                    .bind(tenant)
                    .push("), ")
                    .bind(stored(up_to))
                    .push(")");
                let deleted = conn.execute(sql)?;
                Ok::<_, Failure>(u64::try_from(deleted).unwrap_or(u64::MAX))
            })
        })
        .await
    }

    async fn forget_consumer(&self, tenant: &str, consumer: &str) -> Result<bool, StoreError> {
        let (tenant, consumer) = (tenant.to_owned(), consumer.to_owned());
        self.blocking(move |pools| {
            pools.write(move |conn| {
                let mut sql = Sql::new("DELETE FROM outbox_consumers WHERE tenant_id = ");
                sql.bind(tenant).push(" AND consumer = ").bind(consumer);
                Ok::<_, Failure>(conn.execute(sql)? == 1)
            })
        })
        .await
    }
}
