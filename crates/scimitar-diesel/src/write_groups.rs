//! SQLite writes of one process, committed in groups by one writer thread.
//!
//! SQLite has one writer at a time, and a commit costs more than most writes
//! (it appends every changed page to the log, and `BEGIN IMMEDIATE` and `COMMIT`
//! each touch the shared log index). So the writes of a process go to a thread
//! of their own, which owns the write turn: it takes a write, begins a
//! transaction, runs the write in a savepoint of it (a write that fails rolls
//! back to its savepoint and leaves nothing behind), runs the writes that queued
//! meanwhile the same way, up to [`MAX_GROUP`], and commits once for all of them.
//! Nobody is answered before that commit: a write is acknowledged only once it is
//! durable, and if the commit fails, every write of the group fails.
//!
//! One thread runs the writes back to back, so the turn never passes between
//! threads: passing it (a wake-up and a context switch per write) cost more than
//! the SQL of a PATCH. Callers wait for their answer on a channel, blocking
//! ([`WriteGroups::write`]) or not ([`WriteGroups::write_async`]).

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, Sender};

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use diesel::{Connection, SqliteConnection};

use crate::background::OwnedThread;
use crate::connection::{restart_log, Conn, LogRestart};
use crate::error::DieselError;

type SqlitePool = Pool<ConnectionManager<SqliteConnection>>;
type Pooled = PooledConnection<ConnectionManager<SqliteConnection>>;

/// The most writes one commit carries: bounds how long the first of them waits.
const MAX_GROUP: usize = 32;

/// A queued write, as the writer thread sees it.
trait Job: Send {
    /// Runs the write in a savepoint of the group's transaction on `conn`.
    fn run(self: Box<Self>, conn: &mut Pooled) -> Ran;
    /// Answers the caller without running the write: the group could not begin.
    fn refuse(self: Box<Self>, reason: &str);
}

/// Answers a write's caller, given why its group did not commit, if it did not.
type Answer = Box<dyn FnOnce(Option<&str>) + Send>;

/// What a write left behind on the writer thread.
struct Ran {
    /// Answers the caller once the group's fate is known.
    answer: Answer,
    /// The write panicked: its savepoint is in an unknown state, so the group's
    /// transaction cannot go on.
    panicked: bool,
}

/// How a write ended, as its caller receives it.
enum Outcome<T, E> {
    Done(Result<T, E>),
    Panicked(Box<dyn Any + Send>),
}

impl<T, E> Outcome<T, E> {
    /// The write's result; a panic of the write goes on in the caller.
    fn into_result(self) -> Result<T, E> {
        match self {
            Outcome::Done(result) => result,
            Outcome::Panicked(payload) => panic::resume_unwind(payload),
        }
    }
}

/// A write `f` and where its outcome goes.
struct Write<F, R> {
    f: F,
    reply: R,
}

impl<T, E, F, R> Job for Write<F, R>
where
    F: FnOnce(&mut Conn<'_>) -> Result<T, E> + Send + 'static,
    R: FnOnce(Outcome<T, E>) + Send + 'static,
    T: Send + 'static,
    E: From<DieselError> + From<diesel::result::Error> + Send + 'static,
{
    fn run(self: Box<Self>, conn: &mut Pooled) -> Ran {
        let Write { f, reply } = *self;
        // A nested transaction: diesel makes it a savepoint.
        let ran = panic::catch_unwind(AssertUnwindSafe(|| {
            conn.transaction(|conn| f(&mut Conn::Sqlite(conn)))
        }));
        match ran {
            Ok(result) => Ran {
                answer: Box::new(move |not_committed: Option<&str>| {
                    reply(Outcome::Done(match not_committed {
                        Some(reason) => Err(E::from(DieselError::NotCommitted(reason.into()))),
                        None => result,
                    }));
                }),
                panicked: false,
            },
            Err(payload) => Ran {
                answer: Box::new(move |_| reply(Outcome::Panicked(payload))),
                panicked: true,
            },
        }
    }

    fn refuse(self: Box<Self>, reason: &str) {
        (self.reply)(Outcome::Done(Err(E::from(DieselError::NotCommitted(
            reason.to_owned(),
        )))));
    }
}

/// The writer thread of a SQLite database, and the queue in front of it.
pub(crate) struct WriteGroups {
    writer: OwnedThread<Sender<Box<dyn Job>>>,
}

impl WriteGroups {
    /// Starts the writer thread over `pool`; dropping this waits for it to end,
    /// after the writes already queued.
    /// `restart` is set when the log is due a restart, which the writer then
    /// makes before its next transaction.
    pub(crate) fn start(
        pool: SqlitePool,
        restart: Option<LogRestart>,
    ) -> Result<WriteGroups, DieselError> {
        let (jobs, queue) = mpsc::channel();
        let writer = OwnedThread::spawn("scimitar-sqlite-writer", jobs, move || {
            run_writer(&pool, &queue, restart.as_ref());
        })?;
        Ok(WriteGroups { writer })
    }

    /// Runs `f` in a savepoint of a group's transaction and returns once that
    /// transaction has committed (or with `f`'s error, its changes undone).
    /// Blocks the calling thread meanwhile; a panic of `f` goes on in the caller.
    /// `f` runs on the writer thread, so it must not write through this queue
    /// itself: it would wait for itself.
    pub(crate) fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Conn<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DieselError> + From<diesel::result::Error> + Send + 'static,
    {
        let (reply, answer) = mpsc::sync_channel(1);
        self.submit(f, move |outcome| drop(reply.send(outcome)))?;
        answer.recv().map_err(|_| writer_gone())?.into_result()
    }

    /// [`WriteGroups::write`] without blocking the calling thread.
    pub(crate) async fn write_async<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Conn<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DieselError> + From<diesel::result::Error> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.submit(f, move |outcome| drop(reply.send(outcome)))?;
        answer.await.map_err(|_| writer_gone())?.into_result()
    }

    /// Queues `f` for the writer thread; `reply` receives how it ended.
    fn submit<T, E, F, R>(&self, f: F, reply: R) -> Result<(), E>
    where
        F: FnOnce(&mut Conn<'_>) -> Result<T, E> + Send + 'static,
        R: FnOnce(Outcome<T, E>) + Send + 'static,
        T: Send + 'static,
        E: From<DieselError> + From<diesel::result::Error> + Send + 'static,
    {
        self.writer
            .signal()
            .send(Box::new(Write { f, reply }))
            .map_err(|_| E::from(writer_gone()))
    }
}

fn writer_gone() -> DieselError {
    DieselError::Worker("the SQLite writer thread has stopped".into())
}

/// The writer thread: groups of writes, one transaction each, until every
/// sender of the queue is gone.
fn run_writer(pool: &SqlitePool, queue: &Receiver<Box<dyn Job>>, restart: Option<&LogRestart>) {
    while let Ok(first) = queue.recv() {
        let mut conn = match begin(pool, restart) {
            Ok(conn) => conn,
            Err(error) => {
                first.refuse(&error.to_string());
                continue;
            }
        };
        let mut answers = Vec::with_capacity(MAX_GROUP);
        let mut next = Some(first);
        let mut broken = false;
        while let Some(job) = next.take() {
            let ran = job.run(&mut conn);
            answers.push(ran.answer);
            if ran.panicked {
                broken = true;
                break;
            }
            if answers.len() < MAX_GROUP {
                next = queue.try_recv().ok();
            }
        }
        let not_committed = if broken {
            // Back to the pool mid-transaction, diesel reports the connection
            // broken, so r2d2 closes it and SQLite rolls the group back.
            drop(conn);
            Some("a write of the same group failed unexpectedly".to_owned())
        } else {
            AnsiTransactionManager::commit_transaction(&mut *conn)
                .err()
                .map(|e| e.to_string())
        };
        for answer in answers {
            answer(not_committed.as_deref());
        }
    }
}

/// A pooled connection inside `BEGIN IMMEDIATE`, after restarting the log if
/// that is due.
fn begin(pool: &SqlitePool, restart: Option<&LogRestart>) -> Result<Pooled, DieselError> {
    let mut conn = pool.get()?;
    if restart.is_some_and(|due| due.swap(false, Ordering::Relaxed)) {
        // Not restarted (a reader stayed, or a checkpoint ran): the checkpointer
        // asks again after its next round, not at once, so a long reader cannot
        // hold up every group.
        match restart_log(&mut conn) {
            Ok(_) => {}
            Err(e) => log::warn!("SQLite log restart failed (asked again later): {e}"),
        }
    }
    AnsiTransactionManager::begin_transaction_sql(&mut *conn, "BEGIN IMMEDIATE")?;
    Ok(conn)
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
        let groups = Arc::new(WriteGroups::start(pool.clone(), None).unwrap());
        let threads: Vec<_> = (0..16)
            .map(|i| {
                let (pool, groups) = (pool.clone(), Arc::clone(&groups));
                std::thread::spawn(move || {
                    (0..50)
                        .map(|j| {
                            // Every 10th write collides with a key written before.
                            let x = if j % 10 == 9 { i * 1000 } else { i * 1000 + j };
                            let written = groups.write(move |conn| insert(conn, x));
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
    }

    /// A writer that panics after joining another's group fails that group: the
    /// group's first writer gets the failure (nothing of the group is kept), the
    /// panic goes on in the panicking writer's caller, and the next writers go on.
    #[test]
    fn a_panicking_follower_fails_its_group() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir);
        let groups = Arc::new(WriteGroups::start(pool.clone(), None).unwrap());
        let leader = {
            let groups = Arc::clone(&groups);
            std::thread::spawn(move || {
                groups.write(|conn| {
                    insert(conn, 1)?;
                    // Long enough for the follower to queue up behind.
                    std::thread::sleep(std::time::Duration::from_millis(300));
                    Ok::<(), Failure>(())
                })
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(100));
        let follower = {
            let groups = Arc::clone(&groups);
            std::thread::spawn(move || {
                groups.write(|conn| {
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
        groups.write(|conn| insert(conn, 3)).unwrap();
        assert_eq!(count(&pool), 1);
    }

    /// A restart of the log the checkpointer asked for is made by the writer,
    /// before its next transaction.
    #[test]
    fn the_writer_restarts_the_log_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir);
        let due = LogRestart::default();
        due.store(true, Ordering::Relaxed);
        let groups = WriteGroups::start(pool.clone(), Some(Arc::clone(&due))).unwrap();
        groups.write(|conn| insert(conn, 1)).unwrap();
        assert!(!due.load(Ordering::Relaxed), "the writer took the request");
        assert_eq!(count(&pool), 1);
    }

    /// A writer that panics fails its group, and the next writers go on.
    #[test]
    fn a_panicking_writer_does_not_stop_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir);
        let groups = WriteGroups::start(pool.clone(), None).unwrap();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            groups.write(|conn| {
                insert(conn, 1)?;
                panic!("bug");
                #[allow(unreachable_code)]
                Ok::<(), Failure>(())
            })
        }));
        assert!(panicked.is_err());
        assert_eq!(count(&pool), 0, "the panicking write was rolled back");
        groups.write(|conn| insert(conn, 2)).unwrap();
        assert_eq!(count(&pool), 1);
    }
}
