//! A batch of writes in one transaction (`Store::create_many` on PostgreSQL):
//! what every write of it would write to the same few rows, or one statement at
//! a time, is collected instead and written once at the end.
//!
//! - The tenant's counts: one row updated 500 times in a transaction leaves
//!   PostgreSQL a chain of 500 row versions to walk at each update; the batch
//!   adds the sums once.
//! - The change events: one multi-row `INSERT` instead of one per write, in the
//!   order the writes made them (their `seq`s follow that order).
//!
//! A write rolled back to its savepoint drops what it collected
//! ([`Batch::undo_after`]). The collection is per thread: a batch's writes run on
//! the thread that started it, synchronously, in its transaction.

use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::connection::Conn;
use crate::error::Failure;
use crate::event_rows::{self, EventRow};
use crate::rows::BUCKET_SHIFTS;
use crate::sql::{Dialect, Sql};

/// What the batch on this thread collected, if one is running.
#[derive(Default)]
struct Collected {
    counts: Vec<CountChange>,
    events: Vec<(String, EventRow, i64)>,
}

thread_local! {
    static COLLECTED: RefCell<Option<Collected>> = const { RefCell::new(None) };
}

/// One insert (`+1`) or delete (`-1`) of the row `pk`, to count.
pub(crate) struct CountChange {
    pub(crate) tenant: String,
    pub(crate) resource_type: String,
    pub(crate) pk: i64,
    pub(crate) delta: i64,
}

/// Collects a count change if a batch runs on this thread; gives it back if not.
pub(crate) fn defer_count(change: CountChange) -> Option<CountChange> {
    COLLECTED.with(|collected| match collected.borrow_mut().as_mut() {
        Some(collected) => {
            collected.counts.push(change);
            None
        }
        None => Some(change),
    })
}

/// Collects events if a batch runs on this thread; gives them back if not.
pub(crate) fn defer_events(tenant: &str, events: Vec<EventRow>, at: i64) -> Option<Vec<EventRow>> {
    COLLECTED.with(|collected| match collected.borrow_mut().as_mut() {
        Some(collected) => {
            collected.events.extend(
                events
                    .into_iter()
                    .map(|event| (tenant.to_owned(), event, at)),
            );
            None
        }
        None => Some(events),
    })
}

/// While it lives, this thread's count changes and events are collected
/// instead of written; [`Batch::write`] writes them. Dropped unwritten (a
/// failed batch), it forgets them, as the transaction forgets its rows.
pub(crate) struct Batch(());

/// How much a batch had collected: where to roll back to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark {
    counts: usize,
    events: usize,
}

impl Batch {
    /// Starts collecting on this thread.
    pub(crate) fn start() -> Batch {
        COLLECTED.with(|collected| *collected.borrow_mut() = Some(Collected::default()));
        Batch(())
    }

    /// How much is collected now.
    pub(crate) fn mark(&self) -> Mark {
        COLLECTED.with(|collected| {
            let collected = collected.borrow();
            Mark {
                counts: collected.as_ref().map_or(0, |c| c.counts.len()),
                events: collected.as_ref().map_or(0, |c| c.events.len()),
            }
        })
    }

    /// Forgets what was collected since `mark` (its savepoint was rolled back).
    pub(crate) fn undo_after(&self, mark: Mark) {
        COLLECTED.with(|collected| {
            if let Some(collected) = collected.borrow_mut().as_mut() {
                collected.counts.truncate(mark.counts);
                collected.events.truncate(mark.events);
            }
        });
    }

    /// Writes what was collected: the events in order, then the counts' sums.
    pub(crate) fn write(self, conn: &mut Conn<'_>) -> Result<(), Failure> {
        let collected = COLLECTED
            .with(|collected| collected.borrow_mut().take())
            .unwrap_or_default();
        event_rows::write_events(conn, &collected.events)?;
        write_counts(conn, &collected.counts)
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        COLLECTED.with(|collected| *collected.borrow_mut() = None);
    }
}

/// The `INSERT` of count rows, before their rows.
const COUNTS_INSERT: &str = "INSERT INTO resource_counts (tenant_id, resource_type, shard, n) ";
/// What makes an `INSERT` of count rows add to the rows there.
const COUNTS_ADD: &str = " ON CONFLICT (tenant_id, resource_type, shard) \
     DO UPDATE SET n = resource_counts.n + excluded.n";
/// The `INSERT` of bucket rows, before their rows.
const BUCKETS_INSERT: &str =
    "INSERT INTO resource_buckets (tenant_id, resource_type, shift, bucket, shard, n) ";
/// What makes an `INSERT` of bucket rows add to the rows there.
const BUCKETS_ADD: &str = " ON CONFLICT (tenant_id, resource_type, shift, bucket, shard) \
     DO UPDATE SET n = resource_buckets.n + excluded.n";

/// Adds the sums of `changes` to the tenants' counts and to the buckets of their
/// rows: on PostgreSQL one statement for both tables (a batch's buckets past the
/// first 1,000 rows in more), on SQLite one per table.
pub(crate) fn write_counts(conn: &mut Conn<'_>, changes: &[CountChange]) -> Result<(), Failure> {
    let mut counts: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    let mut buckets: BTreeMap<(&str, &str, u32, i64), i64> = BTreeMap::new();
    for change in changes {
        let key = (change.tenant.as_str(), change.resource_type.as_str());
        *counts.entry(key).or_default() += change.delta;
        for shift in BUCKET_SHIFTS {
            *buckets
                .entry((key.0, key.1, shift, change.pk >> shift))
                .or_default() += change.delta;
        }
    }
    if counts.is_empty() {
        return Ok(());
    }
    let dialect = conn.dialect();
    let shard = dialect.count_shard();
    let mut sql = Sql::new(match dialect {
        Dialect::Postgres => "WITH counted AS (",
        Dialect::Sqlite => "",
    });
    sql.push(COUNTS_INSERT).push("VALUES ");
    for (i, ((tenant, resource_type), n)) in counts.into_iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" })
            .bind(tenant)
            .push(", ")
            .bind(resource_type)
            .push(&format!(", {shard}, "))
            .bind(n)
            .push(")");
    }
    sql.push(COUNTS_ADD);
    match dialect {
        Dialect::Postgres => {
            sql.push(") ");
        }
        Dialect::Sqlite => {
            conn.execute(sql)?;
            sql = Sql::new("");
        }
    }
    let buckets: Vec<_> = buckets.into_iter().collect();
    // Bounded statements: 6 binds a row.
    for chunk in buckets.chunks(1000) {
        sql.push(BUCKETS_INSERT).push("VALUES ");
        for (i, ((tenant, resource_type, shift, bucket), n)) in chunk.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" })
                .bind(*tenant)
                .push(", ")
                .bind(*resource_type)
                .push(", ")
                .bind(i64::from(*shift))
                .push(", ")
                .bind(*bucket)
                .push(&format!(", {shard}, "))
                .bind(*n)
                .push(")");
        }
        sql.push(BUCKETS_ADD);
        conn.execute(std::mem::replace(&mut sql, Sql::new("")))?;
    }
    Ok(())
}

/// PostgreSQL: `counted AS (...), bucketed AS (...)`, the count changes of
/// inserting the row that the CTE `source` returns (`pk`), if it returns one:
/// [`write_counts`] of one insert, inside the statement that makes it.
pub(crate) fn push_count_of(sql: &mut Sql, tenant: &str, resource_type: &str, source: &str) {
    let shard = Dialect::Postgres.count_shard();
    sql.push("counted AS (")
        .push(COUNTS_INSERT)
        .push("SELECT ")
        .bind(tenant)
        .push(", ")
        .bind(resource_type)
        .push(&format!(", {shard}, 1 FROM {source}"))
        .push(COUNTS_ADD)
        .push("), bucketed AS (")
        .push(BUCKETS_INSERT)
        .push("SELECT ")
        .bind(tenant)
        .push(", ")
        .bind(resource_type);
    let shifts: Vec<String> = BUCKET_SHIFTS
        .iter()
        .map(|shift| format!("({shift})"))
        .collect();
    sql.push(&format!(
        ", s.shift, src.pk >> s.shift, {shard}, 1 FROM {source} src, (VALUES {}) AS s (shift)",
        shifts.join(", ")
    ))
    .push(BUCKETS_ADD)
    .push(")");
}
