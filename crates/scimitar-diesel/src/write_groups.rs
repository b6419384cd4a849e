//! SQLite writes of one process, committed in groups.
//!
//! SQLite has one writer at a time, and a commit costs more than most writes
//! (it appends every changed page to the log, and `BEGIN IMMEDIATE` and `COMMIT`
//! each touch the shared log index). So writers that queue up while one is
//! writing share its transaction: each runs its own closure, on its own thread,
//! inside a savepoint of the open transaction (a closure that fails rolls back to
//! its savepoint and leaves nothing behind), and the first of them, the leader,
//! commits once the queue is empty or the group is full. Nobody's call returns
//! before the commit: a write is acknowledged only once it is durable, and if the
//! commit fails, every write of the group fails.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use diesel::{Connection, SqliteConnection};

use crate::connection::Conn;
use crate::error::DieselError;

type Pooled = PooledConnection<ConnectionManager<SqliteConnection>>;

/// The most writes one commit carries: bounds how long the first of them waits.
const MAX_GROUP: usize = 32;

/// The write turn and the open group of a SQLite database.
#[derive(Default)]
pub(crate) struct WriteGroups {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// The open group's connection, inside its transaction, while no writer
    /// holds it.
    conn: Option<Pooled>,
    /// A writer holds the connection: it is writing, beginning or committing.
    busy: bool,
    /// Writers waiting for their turn.
    waiting: usize,
    /// The open group's number and how many writes it holds.
    open: Option<(u64, usize)>,
    /// The number of the last group begun.
    last_group: u64,
    /// Every group up to this number has finished (committed or failed).
    finished: u64,
    /// Recently finished groups whose commit failed, with the reason.
    failed: Vec<(u64, String)>,
}

/// How a writer takes part in a group.
enum Role {
    Leader,
    Follower,
}

impl WriteGroups {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(&self, state: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.changed
            .wait(state)
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` in a savepoint of a group's transaction and returns once that
    /// transaction has committed (or `f`'s error at once, its changes undone).
    pub(crate) fn write<T, E>(
        &self,
        pool: &Pool<ConnectionManager<SqliteConnection>>,
        f: impl FnOnce(&mut Conn<'_>) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<DieselError> + From<diesel::result::Error>,
    {
        // The guard is released at the end of this block, or before `begin`.
        let (group, role, conn) = {
            let mut state = self.lock();
            state.waiting += 1;
            while state.busy || state.open.is_some_and(|(_, n)| n >= MAX_GROUP) {
                state = self.wait(state);
            }
            state.waiting -= 1;
            state.busy = true;
            match (state.open, state.conn.take()) {
                (Some((group, n)), Some(conn)) => {
                    state.open = Some((group, n + 1));
                    (group, Role::Follower, conn)
                }
                _ => {
                    state.last_group += 1;
                    let group = state.last_group;
                    state.open = Some((group, 1));
                    drop(state);
                    match begin(pool) {
                        Ok(conn) => (group, Role::Leader, conn),
                        Err(error) => {
                            // Nobody joined: the turn was held throughout.
                            self.finish(self.lock(), group, None);
                            return Err(E::from(error));
                        }
                    }
                }
            }
        };
        let mut turn = Turn {
            groups: self,
            group,
            conn: Some(conn),
        };
        let result = match turn.conn.as_mut() {
            // A nested transaction: diesel makes it a savepoint.
            Some(conn) => conn.transaction(|conn| f(&mut Conn::Sqlite(conn))),
            None => Err(E::from(DieselError::Worker("no write connection".into()))),
        };
        let conn = turn.conn.take();
        drop(turn);
        let mut state = self.lock();
        state.conn = conn;
        state.busy = false;
        self.changed.notify_all();
        match role {
            Role::Follower => {
                while state.finished < group {
                    state = self.wait(state);
                }
                if state.failed.iter().any(|(failed, _)| *failed == group) {
                    Err(E::from(DieselError::NotCommitted(failure_of(
                        &state, group,
                    ))))
                } else {
                    result
                }
            }
            Role::Leader => {
                // Let the writers queued meanwhile join, then commit for all.
                while state.finished < group
                    && (state.busy
                        || (state.waiting > 0 && state.open.is_some_and(|(_, n)| n < MAX_GROUP)))
                {
                    state = self.wait(state);
                }
                if state.finished >= group {
                    // A writer of the group panicked and failed it; the next
                    // group may be open by now: leave it alone.
                    return Err(E::from(DieselError::NotCommitted(failure_of(
                        &state, group,
                    ))));
                }
                state.busy = true;
                state.open = None;
                let conn = state.conn.take();
                drop(state);
                let committed = match conn {
                    Some(mut conn) => AnsiTransactionManager::commit_transaction(&mut *conn)
                        .map_err(|e| e.to_string()),
                    None => Err("the group's connection was lost".to_owned()),
                };
                let failure = committed.err();
                self.finish(self.lock(), group, failure.clone());
                match failure {
                    Some(reason) => Err(E::from(DieselError::NotCommitted(reason))),
                    None => result,
                }
            }
        }
    }

    /// Marks `group` finished (failed, with `failure`), frees the turn and wakes
    /// everyone.
    fn finish(&self, mut state: MutexGuard<'_, State>, group: u64, failure: Option<String>) {
        if let Some(reason) = failure {
            state.failed.push((group, reason));
            // Only groups whose members may still be waiting matter.
            if state.failed.len() > 64 {
                state.failed.remove(0);
            }
        }
        state.finished = state.finished.max(group);
        state.open = None;
        state.busy = false;
        self.changed.notify_all();
    }
}

/// Why `group` failed.
fn failure_of(state: &State, group: u64) -> String {
    state
        .failed
        .iter()
        .find(|(failed, _)| *failed == group)
        .map_or_else(
            || "the write group failed".to_owned(),
            |(_, reason)| reason.clone(),
        )
}

/// A pooled connection inside `BEGIN IMMEDIATE`.
fn begin(pool: &Pool<ConnectionManager<SqliteConnection>>) -> Result<Pooled, DieselError> {
    let mut conn = pool.get()?;
    AnsiTransactionManager::begin_transaction_sql(&mut *conn, "BEGIN IMMEDIATE")?;
    Ok(conn)
}

/// A writer's hold on the group's connection. Dropped while still holding it,
/// that is when the writer's closure panicked, it closes the connection (SQLite
/// then rolls the whole group back) and fails the group, so that no writer
/// waits forever.
struct Turn<'a> {
    groups: &'a WriteGroups,
    group: u64,
    conn: Option<Pooled>,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // Back to the pool mid-transaction, diesel reports the connection
            // broken, so r2d2 closes it (and SQLite rolls the group back).
            drop(conn);
            let mut state = self.groups.lock();
            state.conn = None;
            self.groups.finish(
                state,
                self.group,
                Some("a write of the same group failed unexpectedly".into()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use diesel::connection::SimpleConnection;
    use diesel::RunQueryDsl;

    use super::*;
    use crate::error::Failure;

    fn pool(dir: &tempfile::TempDir) -> Pool<ConnectionManager<SqliteConnection>> {
        let path = dir.path().join("g.db").display().to_string();
        let mut conn = SqliteConnection::establish(&path).unwrap();
        conn.batch_execute(
            "PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER PRIMARY KEY, v TEXT NOT NULL);",
        )
        .unwrap();
        Pool::builder()
            .max_size(4)
            .build(ConnectionManager::new(path))
            .unwrap()
    }

    fn insert(conn: &mut Conn<'_>, x: i64) -> Result<(), Failure> {
        let Conn::Sqlite(conn) = conn else {
            unreachable!()
        };
        diesel::sql_query(format!("INSERT INTO t (x, v) VALUES ({x}, 'v')")).execute(*conn)?;
        Ok(())
    }

    fn count(pool: &Pool<ConnectionManager<SqliteConnection>>) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query("SELECT COUNT(*) AS n FROM t")
            .get_result::<N>(&mut *pool.get().unwrap())
            .unwrap()
            .n
    }

    /// Many racing writers: each one's write is there once it returns, and a
    /// failing write (a duplicate key) undoes only itself.
    #[test]
    fn racing_writers_each_get_their_own_outcome() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir);
        let groups = Arc::new(WriteGroups::default());
        let threads: Vec<_> = (0..16)
            .map(|i| {
                let (pool, groups) = (pool.clone(), Arc::clone(&groups));
                std::thread::spawn(move || {
                    (0..50)
                        .map(|j| {
                            // Every 10th write collides with a key written before.
                            let x = if j % 10 == 9 { i * 1000 } else { i * 1000 + j };
                            let written = groups.write(&pool, |conn| insert(conn, x));
                            if written.is_ok() {
                                // Acknowledged: visible to any other connection.
                                let mut reader = pool.get().unwrap();
                                let n: Vec<i64> = diesel::dsl::sql::<diesel::sql_types::BigInt>(
                                    &format!("SELECT x FROM t WHERE x = {x}"),
                                )
                                .load(&mut *reader)
                                .unwrap();
                                assert_eq!(n, vec![x]);
                            }
                            written.is_ok()
                        })
                        .filter(|ok| *ok)
                        .count()
                })
            })
            .collect();
        let written: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(written, 16 * 45);
        assert_eq!(count(&pool), 16 * 45);
        let state = groups.lock();
        assert!(!state.busy && state.open.is_none() && state.conn.is_none());
        assert!(state.failed.is_empty());
    }

    /// A writer that panics after joining another's group fails that group: its
    /// leader reports the failure (nothing of the group is kept), and the next
    /// writers go on.
    #[test]
    fn a_panicking_follower_fails_its_group() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir);
        let groups = Arc::new(WriteGroups::default());
        let leader = {
            let (pool, groups) = (pool.clone(), Arc::clone(&groups));
            std::thread::spawn(move || {
                groups.write(&pool, |conn| {
                    insert(conn, 1)?;
                    // Long enough for the follower to queue up behind.
                    std::thread::sleep(std::time::Duration::from_millis(300));
                    Ok::<(), Failure>(())
                })
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(100));
        let follower = {
            let (pool, groups) = (pool.clone(), Arc::clone(&groups));
            std::thread::spawn(move || {
                groups.write(&pool, |conn| {
                    insert(conn, 2)?;
                    panic!("bug");
                    #[allow(unreachable_code)]
                    Ok::<(), Failure>(())
                })
            })
        };
        assert!(follower.join().is_err(), "the follower panicked");
        assert!(
            leader.join().unwrap().is_err(),
            "the group was not committed"
        );
        assert_eq!(count(&pool), 0);
        groups.write(&pool, |conn| insert(conn, 3)).unwrap();
        assert_eq!(count(&pool), 1);
    }

    /// A writer that panics fails its group, and the next writers go on.
    #[test]
    fn a_panicking_writer_does_not_stop_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir);
        let groups = WriteGroups::default();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            groups.write(&pool, |conn| {
                insert(conn, 1)?;
                panic!("bug");
                #[allow(unreachable_code)]
                Ok::<(), Failure>(())
            })
        }));
        assert!(panicked.is_err());
        assert_eq!(count(&pool), 0, "the panicking write was rolled back");
        groups.write(&pool, |conn| insert(conn, 2)).unwrap();
        assert_eq!(count(&pool), 1);
    }
}
