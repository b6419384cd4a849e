//! Outbox rows: the events a write records in its transaction, settling them
//! into delivery positions (PostgreSQL), and reading them back in that order.
//!
//! # Why events settle (PostgreSQL)
//!
//! Writes of one tenant run concurrently, so sequence numbers, drawn as events
//! are written, need not follow commit order: a consumer that read 11 and saved
//! its checkpoint would never see a 10 that commits later. So an event is
//! delivered by `pos`, given when it *settles*: when every transaction older than
//! the oldest one still running has ended (`tx < xmin` of a current snapshot),
//! in `seq` order, and never past an event that cannot settle yet. Then:
//!
//! - No late commit is skipped: an event settles after its commit, and takes a
//!   position above every position handed out before (settles of a tenant run
//!   one at a time, positions come from one sequence).
//! - Events of one resource keep commit order: a later write of the resource
//!   waited for the earlier one's row lock, so its event has a larger `seq`; it
//!   commits later, so when it is visible the earlier one is too, and the prefix
//!   rule settles the earlier one first.
//!
//! A long transaction elsewhere in the cluster delays delivery, never order.

use diesel::sql_types::{BigInt, Text};
use diesel::QueryableByName;
use scimitar_store::event::Payload;
use scimitar_store::{ChangeEvent, ChangeKind, NewEvent};
use serde_json::Value;

use crate::connection::Conn;
use crate::error::{DieselError, Failure};
use crate::sql::{Dialect, Sql};
use crate::time::from_nanos;

use crate::rows::*;

/// An outbox event with its payload serialised: made before the writer turn
/// where the payload is known then, so the turn only binds the text.
#[derive(Debug, PartialEq)]
pub(crate) struct EventRow {
    kind: &'static str,
    resource_type: String,
    resource_id: String,
    payload: String,
}

impl EventRow {
    /// The event of creating `resource`, as [`NewEvent::created`] makes it, its
    /// payload serialised straight from `resource`.
    pub(crate) fn created(resource_type: &str, resource_id: &str, resource: &Value) -> EventRow {
        EventRow::about(
            ChangeKind::created(resource_type),
            resource_type,
            resource_id,
            resource,
        )
    }

    /// The event of changing a resource from `before` to `after`, as
    /// [`NewEvent::updated`] makes it.
    pub(crate) fn updated(
        resource_type: &str,
        resource_id: &str,
        before: &Value,
        after: &Value,
    ) -> EventRow {
        let kind = ChangeKind::updated(resource_type, before, after);
        EventRow::about(kind, resource_type, resource_id, after)
    }

    fn about(kind: ChangeKind, resource_type: &str, resource_id: &str, resource: &Value) -> Self {
        EventRow {
            kind: kind.as_str(),
            payload: Payload(resource).to_string(),
            resource_type: resource_type.to_owned(),
            resource_id: resource_id.to_owned(),
        }
    }
}

impl From<NewEvent> for EventRow {
    fn from(event: NewEvent) -> Self {
        EventRow {
            kind: event.kind.as_str(),
            payload: event.payload.to_string(),
            resource_type: event.resource_type,
            resource_id: event.resource_id,
        }
    }
}

/// Appends events to the tenant's outbox.
pub(crate) fn record_events(
    conn: &mut Conn<'_>,
    tenant: &str,
    events: Vec<NewEvent>,
    at: i64,
) -> Result<(), Failure> {
    insert_events(conn, tenant, events.into_iter().map(EventRow::from), at)
}

/// Appends events, their payloads serialised already, to the tenant's outbox.
pub(crate) fn insert_events(
    conn: &mut Conn<'_>,
    tenant: &str,
    events: impl IntoIterator<Item = EventRow>,
    at: i64,
) -> Result<(), Failure> {
    let events: Vec<EventRow> = events.into_iter().collect();
    // Inside a batch, written with the batch's other events at its end.
    let Some(events) = crate::batch::defer_events(tenant, events, at) else {
        return Ok(());
    };
    let rows: Vec<(&str, &EventRow, i64)> =
        events.iter().map(|event| (tenant, event, at)).collect();
    write_event_rows(conn, &rows)
}

/// Inserts events of any tenants and times, in order.
pub(crate) fn write_events(
    conn: &mut Conn<'_>,
    events: &[(String, EventRow, i64)],
) -> Result<(), Failure> {
    let rows: Vec<(&str, &EventRow, i64)> = events
        .iter()
        .map(|(tenant, event, at)| (tenant.as_str(), event, *at))
        .collect();
    write_event_rows(conn, &rows)
}

/// The head of an `INSERT` of events, before its rows.
const INSERT_EVENTS: &str =
    "INSERT INTO events (tenant_id, kind, resource_type, resource_id, payload, at) ";

fn write_event_rows(conn: &mut Conn<'_>, rows: &[(&str, &EventRow, i64)]) -> Result<(), Failure> {
    for chunk in rows.chunks(CHUNK / 8) {
        let mut sql = Sql::new(INSERT_EVENTS);
        sql.push("VALUES ");
        for (i, (tenant, event, at)) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.push("(");
            push_event_values(&mut sql, conn.dialect(), tenant, event, *at);
            sql.push(")");
        }
        conn.execute(sql)?;
    }
    Ok(())
}

/// `INSERT` of `event` once for each row of the common table `source`: a write
/// and its event in one statement (`WITH source AS (UPDATE ... RETURNING pk)`
/// before it).
pub(crate) fn insert_event_per_row(
    sql: &mut Sql,
    dialect: Dialect,
    source: &str,
    tenant: &str,
    event: &EventRow,
    at: i64,
) {
    sql.push(INSERT_EVENTS).push("SELECT ");
    push_event_values(sql, dialect, tenant, event, at);
    sql.push(" FROM ").push(source);
}

/// The values of one event row, comma-separated.
fn push_event_values(sql: &mut Sql, dialect: Dialect, tenant: &str, event: &EventRow, at: i64) {
    sql.bind(tenant)
        .push(", ")
        .bind(event.kind)
        .push(", ")
        .bind(event.resource_type.as_str())
        .push(", ")
        .bind(event.resource_id.as_str())
        .push(", ")
        .bind(event.payload.as_str())
        .push(dialect.json_param_suffix())
        .push(", ")
        .bind(at);
}

/// The statement of [`settle`] after the tenant (bound twice).
const SETTLE: &str = concat!(
    // pending: the oldest events without a position, if no other settler is at
    // work on the tenant; blocked: the first whose transaction may still run.
    " AND pos IS NULL AND (SELECT mine FROM settler) ORDER BY seq LIMIT 1000), ",
    "horizon AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin), ",
    "blocked AS (SELECT MIN(seq) AS seq FROM pending WHERE tx >= (SELECT xmin FROM horizon)), ",
    // ready: the prefix before it, numbered in seq order...
    "ready AS (SELECT seq, row_number() OVER (ORDER BY seq) AS n FROM pending ",
    "WHERE (SELECT seq FROM blocked) IS NULL OR seq < (SELECT seq FROM blocked)), ",
    // ...matched with as many new positions, numbered in increasing order.
    "drawn AS (SELECT p, row_number() OVER (ORDER BY p) AS n FROM ",
    "(SELECT nextval('event_positions') AS p ",
    "FROM generate_series(1, (SELECT COUNT(*) FROM ready))) g), ",
    "settled AS (UPDATE events SET pos = drawn.p FROM ready JOIN drawn USING (n) ",
    "WHERE events.seq = ready.seq) ",
    "SELECT (SELECT COUNT(*) FROM pending) - (SELECT COUNT(*) FROM ready) AS waiting",
);

/// PostgreSQL: gives the tenant's settled events their delivery positions (see
/// the module doc). Returns whether committed events still wait for an older
/// transaction to end. While another transaction settles the tenant, this one
/// settles nothing and returns at once.
pub(crate) fn settle(conn: &mut Conn<'_>, tenant: &str) -> Result<bool, Failure> {
    #[derive(QueryableByName)]
    struct Settled {
        #[diesel(sql_type = BigInt)]
        waiting: i64,
    }
    // One settler per tenant at a time; the lock ends with the transaction.
    let mut sql =
        Sql::new("WITH settler AS (SELECT pg_try_advisory_xact_lock(1935894894, hashtext(");
    sql.bind(tenant)
        .push(")) AS mine), pending AS (SELECT seq, tx FROM events WHERE tenant_id = ")
        .bind(tenant)
        .push(SETTLE);
    let settled: Vec<Settled> = conn.load(sql)?;
    Ok(settled.first().is_some_and(|row| row.waiting > 0))
}

/// The tenant's events after position `after`, oldest first.
pub(crate) fn events(
    conn: &mut Conn<'_>,
    tenant: &str,
    after: u64,
    limit: usize,
) -> Result<Vec<ChangeEvent>, Failure> {
    #[derive(QueryableByName)]
    struct EventRow {
        #[diesel(sql_type = BigInt)]
        seq: i64,
        #[diesel(sql_type = Text)]
        kind: String,
        #[diesel(sql_type = Text)]
        resource_type: String,
        #[diesel(sql_type = Text)]
        resource_id: String,
        #[diesel(sql_type = Text)]
        payload: String,
        #[diesel(sql_type = BigInt)]
        at: i64,
    }
    let (dialect, position) = (conn.dialect(), conn.dialect().event_position());
    let mut sql = Sql::new(&format!(
        "SELECT {position} AS seq, kind, resource_type, resource_id, {} AS payload, at \
         FROM events WHERE tenant_id = ",
        dialect.json_text("payload")
    ));
    sql.bind(tenant)
        .push(&format!(" AND {position} > "))
        .bind(i64::try_from(after).unwrap_or(i64::MAX))
        .push(&format!(
            " ORDER BY {position} LIMIT {}",
            i64::try_from(limit).unwrap_or(i64::MAX)
        ));
    conn.load::<EventRow>(sql)?
        .into_iter()
        .map(|row| {
            let kind = row
                .kind
                .parse()
                .map_err(|e| DieselError::Corrupt(format!("event {}: {e}", row.seq)))?;
            let event = NewEvent {
                kind,
                resource_type: row.resource_type,
                resource_id: row.resource_id,
                payload: serde_json::from_str(&row.payload).map_err(DieselError::CorruptJson)?,
            };
            Ok(event.record(
                u64::try_from(row.seq).unwrap_or_default(),
                tenant,
                from_nanos(row.at)?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The events made straight from a borrowed resource are those the shared
    /// constructors make (so every store records the same ones).
    #[test]
    fn events_made_in_place_match_the_shared_constructors() {
        let group = json!({"id": "g", "displayName": "Sales", "members": [{"value": "u"}]});
        let renamed = json!({"id": "g", "displayName": "Sales EMEA", "Members": []});
        let user = json!({"id": "u", "userName": "ann", "active": true});
        let inactive = json!({"id": "u", "userName": "ann", "active": false});
        for (resource_type, resource) in [("Group", &group), ("User", &user), ("Device", &user)] {
            assert_eq!(
                EventRow::created(resource_type, "x", resource),
                EventRow::from(NewEvent::created(resource_type, "x", resource))
            );
        }
        for (resource_type, before, after) in [
            ("Group", &group, &renamed),
            ("Group", &group, &group),
            ("User", &user, &inactive),
            ("User", &inactive, &user),
            ("User", &user, &user),
            ("Device", &user, &inactive),
        ] {
            assert_eq!(
                EventRow::updated(resource_type, "x", before, after),
                EventRow::from(NewEvent::updated(resource_type, "x", before, after))
            );
        }
        let created = EventRow::created("Group", "g", &group);
        assert_eq!(created.payload, r#"{"id":"g","displayName":"Sales"}"#);
    }
}
