//! PostgreSQL: planner statistics for the store's tables, never missing for long.
//!
//! Without statistics PostgreSQL guesses the selectivity of every condition, and
//! several of our indexes then look alike: a `userName eq` on a never-analysed
//! table was read through `(tenant_id, resource_type, family_name_folded)`, every
//! row of the tenant. Point reads by id are shaped so that one index alone matches
//! (`rows.rs`, `find_with`); for the rest, the store analyses a table that has no
//! statistics, or that changed more than half over since its last analysis (a bulk
//! load), itself: a background thread checks every [`CHECK_INTERVAL`], one
//! instance at a time. That is a fresh database before autovacuum's first pass,
//! a server where autovacuum is tuned down, or an import.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::Duration;

use diesel::sql_types::Text;
use diesel::{Connection, QueryableByName};

use crate::background::OwnedThread;
use crate::connection::{Conn, PgPool};
use crate::error::{DieselError, Failure};
use crate::sql::Sql;

/// How often the background thread looks.
pub(crate) const CHECK_INTERVAL: Duration = Duration::from_secs(5);

/// Tables this small are read whole whatever the plan.
const MIN_ROWS: i64 = 200;

/// In a transaction: analyses the store's tables whose statistics are missing or
/// stale, one instance at a time; returns their names (none when another
/// instance is at it).
pub(crate) fn refresh(conn: &mut Conn<'_>) -> Result<Vec<String>, Failure> {
    #[derive(QueryableByName)]
    struct Stale {
        #[diesel(sql_type = Text)]
        relname: String,
    }
    let mut sql = Sql::new(
        "SELECT relname::text AS relname FROM pg_stat_user_tables \
         WHERE schemaname = current_schema() \
         AND relname IN ('resources', 'resource_emails', 'group_members') \
         AND n_live_tup + n_mod_since_analyze >= ",
    );
    sql.bind(MIN_ROWS).push(
        " AND (COALESCE(last_analyze, last_autoanalyze) IS NULL \
         OR n_mod_since_analyze > n_live_tup / 2) ORDER BY relname",
    );
    let stale: Vec<Stale> = conn.load(sql)?;
    if stale.is_empty() {
        return Ok(Vec::new());
    }
    // So that instances sharing the database analyse once. A transaction lock:
    // behind PgBouncer in transaction mode a session lock could outlive us.
    #[derive(QueryableByName)]
    struct Locked {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        locked: bool,
    }
    let lock = Sql::new("SELECT pg_try_advisory_xact_lock(1935894895, 1) AS locked");
    if !conn.first::<Locked>(lock)?.is_some_and(|row| row.locked) {
        return Ok(Vec::new());
    }
    let mut analysed = Vec::with_capacity(stale.len());
    for table in stale {
        // The names come from the fixed list above.
        conn.execute(Sql::new(&format!("ANALYZE {}", table.relname)))?;
        analysed.push(table.relname);
    }
    Ok(analysed)
}

/// The background thread of [`refresh`]; it ends when this is dropped.
pub(crate) struct Keeper {
    _thread: OwnedThread<Sender<()>>,
}

impl std::fmt::Debug for Keeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keeper").finish_non_exhaustive()
    }
}

impl Keeper {
    pub(crate) fn spawn(pool: PgPool) -> Result<Keeper, DieselError> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = OwnedThread::spawn("scimitar-statistics", stop, move || {
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECK_INTERVAL) {
                let refreshed = pool
                    .get()
                    .map_err(|error| Failure::from(DieselError::from(error)))
                    .and_then(|mut conn| {
                        conn.transaction(|conn| refresh(&mut Conn::Postgres(conn)))
                    });
                match refreshed {
                    Ok(tables) if !tables.is_empty() => {
                        log::info!("planner statistics refreshed: {}", tables.join(", "));
                    }
                    Ok(_) => {}
                    Err(error) => log::warn!("planner statistics not refreshed: {error:?}"),
                }
            }
        })?;
        Ok(Keeper { _thread: thread })
    }
}
