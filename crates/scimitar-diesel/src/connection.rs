//! Database URLs, connection pools, per-connection settings, migrations and
//! transactions.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
#[cfg(feature = "postgres")]
use diesel::pg::{Pg, PgConnection};

use diesel::query_dsl::methods::LoadQuery;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sqlite::{Sqlite, SqliteConnection};
use diesel::{Connection, QueryResult, QueryableByName, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::background::OwnedThread;
use crate::error::DieselError;
use crate::sql::{fold, instant_nanos, Dialect, Sql};
use crate::write_groups::WriteGroups;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
#[cfg(feature = "postgres")]
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Key of the PostgreSQL advisory lock held while migrations run, so that
/// several processes (or test binaries) opening one database at once migrate it
/// exactly once. The bytes spell "scimitar".
#[cfg(feature = "postgres")]
const MIGRATION_LOCK_KEY: i64 = 0x7363_696d_6974_6172;

/// How long SQLite waits for another process's write lock before `SQLITE_BUSY`.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How often the background checkpointer copies the write-ahead log into the
/// database file (see [`Checkpointer`]).
const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);

/// At most this many more passive checkpoints follow one that found the log due
/// a restart, each copying what was written during the one before (see
/// [`catch_up`]).
const CATCH_UP_ROUNDS: usize = 4;

/// A catch-up checkpoint that found at most this many new frames ends the
/// catching up: the restart has about as few left to copy.
const CATCH_UP_FRAMES: i64 = 256;

/// Past this many frames (64 MiB of 4 KiB pages) in the write-ahead log, the
/// writer thread restarts it before its next transaction (see [`LogRestart`]).
/// Passive checkpoints alone never restart the log while some connection is
/// always reading, as under a steady load: it then grows by every write (gigabytes
/// in a minute of PATCHes), and each page lookup searches a longer log index.
const WAL_RESTART_FRAMES: i64 = 16_384;

/// The largest the log file stays after a restart (`journal_size_limit`), 512 MiB:
/// above what it reaches under a steady write load, so that it is not cut back at
/// every restart. The log grows by up to 250 MiB a second under POST load, and a
/// restart comes a second or more after the log passed [`WAL_RESTART_FRAMES`]
/// (the catch-up rounds each end with an `fsync`), so it reached 200–390 MiB. Cut
/// back to 64 MiB at each restart, the next writes extended the file again: new
/// page-cache pages and block reservations in every `pwrite`, and the truncation
/// itself, 20% of the writer thread's time. Past the limit, a burst is still given
/// back to the file system.
const WAL_SIZE_LIMIT: i64 = 8 * WAL_RESTART_FRAMES * 4096;

/// How long a restart waits for readers to finish (they take milliseconds);
/// writers wait meanwhile, and after a restart that times out the checkpointer
/// asks again on its next round.
const WAL_RESTART_WAIT: Duration = Duration::from_millis(500);

/// The checkpointer's request that the log be restarted, shared with the writer
/// thread. A restart needs the write lock: taken by the checkpointer, as it was
/// once, writers hit `SQLITE_BUSY` and slept in SQLite's busy handler, whose
/// steps (1, 2, 5, 10... ms) stalled every write far longer than the restart.
/// The writer owns the write lock between its transactions, so it restarts the
/// log there itself.
pub(crate) type LogRestart = Arc<AtomicBool>;

/// The database behind a [`crate::DieselStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// SQLite (bundled), a file or an in-memory database.
    Sqlite,
    /// PostgreSQL, through libpq.
    Postgres,
}

impl Backend {
    pub(crate) fn dialect(self) -> Dialect {
        match self {
            Backend::Sqlite => Dialect::Sqlite,
            Backend::Postgres => Dialect::Postgres,
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

/// SQLite's `synchronous` setting: what an acknowledged write survives.
///
/// Both settings use the write-ahead log, and with both a write the store has
/// acknowledged survives the process being killed (`SIGKILL`, a panic, OOM): the
/// commit is in the log file before the call returns, and the operating system
/// writes it out. They differ on power loss or a kernel crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// `synchronous=NORMAL`, the default: the log is flushed to disk at
    /// checkpoints, not at every commit. A power loss may lose the last commits
    /// (never corrupts the file). About 20 times more writes per second than
    /// `Full` where an fsync costs milliseconds.
    #[default]
    Normal,
    /// `synchronous=FULL`: the log is flushed (fsync) at every commit, so an
    /// acknowledged write also survives power loss, at the price of one fsync per
    /// write.
    Full,
}

/// Settings for [`crate::DieselStore::open_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenOptions {
    /// Most pooled connections: reads, and PostgreSQL writes. A SQLite file's
    /// writer thread has one more of its own; an in-memory database uses one.
    pub max_connections: u32,
    /// How long a call waits for a free pooled connection.
    pub connection_timeout: Duration,
    /// SQLite durability; ignored on PostgreSQL.
    pub synchronous: Synchronous,
    /// Whether opening a SQLite file that does not exist creates it (the
    /// default). Administration tools turn it off, so that a mistyped path is an
    /// error rather than a new, empty database. PostgreSQL databases are never
    /// created.
    pub create: bool,
    /// PostgreSQL: whether each connection keeps the statements it runs
    /// prepared (the default; a statement is then parsed and planned once per
    /// connection). Turn it off behind a pooler in transaction mode that cannot
    /// follow named prepared statements (PgBouncer before 1.21).
    pub prepared_statements: bool,
    /// SQLite: how many bytes of the file each reading connection reads
    /// through a memory map (`PRAGMA mmap_size`) instead of copying pages into
    /// its own cache with a system call each; 0 (the default) turns it off, and
    /// SQLite cuts a value past [`MAX_SQLITE_MMAP_SIZE`] to it. The writer never
    /// maps. A trade: at 1,000,000 users a GET by id ran 1.9x as fast with the
    /// map, at 10,000 users 1.2x, but PATCH ran 13% slower (each reader maps the
    /// file again as it grows). Mapped pages count in the process's resident
    /// size, as page cache shared with the kernel.
    pub sqlite_mmap_size: u64,
}

/// The most [`OpenOptions::sqlite_mmap_size`] can map: `SQLITE_MAX_MMAP_SIZE`
/// as SQLite is built by default (just under 2 GiB).
pub const MAX_SQLITE_MMAP_SIZE: u64 = 0x7fff_0000;

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            max_connections: 8,
            connection_timeout: Duration::from_secs(30),
            synchronous: Synchronous::default(),
            create: true,
            prepared_statements: true,
            sqlite_mmap_size: 0,
        }
    }
}

/// Where a URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    SqliteFile(String),
    SqliteMemory,
    Postgres(String),
}

impl Target {
    /// Parses `sqlite://PATH`, `sqlite:PATH`, `sqlite::memory:` and
    /// `postgres://...` / `postgresql://...`.
    pub(crate) fn parse(url: &str) -> Result<Target, DieselError> {
        let unsupported = || DieselError::UnsupportedUrl(url.to_owned());
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Target::Postgres(without_gss_encryption_probe(url)));
        }
        let rest = url.strip_prefix("sqlite:").ok_or_else(unsupported)?;
        let path = rest.strip_prefix("//").unwrap_or(rest);
        match path {
            "" => Err(unsupported()),
            ":memory:" => Ok(Target::SqliteMemory),
            path => Ok(Target::SqliteFile(path.to_owned())),
        }
    }
}

/// `url` with `gssencmode=disable` unless it sets `gssencmode` itself. libpq's
/// default (`prefer`) asks Kerberos for credentials before every connect: time
/// spent for nothing where GSSAPI encryption is not set up (nearly everywhere),
/// and code that aborts the process when a pool connects as it exits (Kerberos'
/// thread-key destructors have run). GSSAPI authentication is not affected;
/// set `gssencmode=prefer` or `require` in the URL to encrypt with it.
fn without_gss_encryption_probe(url: &str) -> String {
    if url.contains("gssencmode=") {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}gssencmode=disable")
}

diesel::define_sql_function! {
    /// Unicode lower-casing, registered on every SQLite connection (see
    /// [`crate::sql::Dialect::fold_fn`]).
    fn scim_fold(text: diesel::sql_types::Nullable<diesel::sql_types::Text>)
        -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

diesel::define_sql_function! {
    /// An RFC 3339 date-time as nanoseconds since the epoch, `NULL` for other text
    /// (see [`crate::sql::INSTANT_FN`]), registered on every SQLite connection.
    fn scim_instant(text: diesel::sql_types::Nullable<diesel::sql_types::Text>)
        -> diesel::sql_types::Nullable<diesel::sql_types::BigInt>;
}

/// Applied to every new SQLite connection.
#[derive(Debug, Clone, Copy)]
struct SqliteSetup {
    synchronous: Synchronous,
    /// `PRAGMA mmap_size`.
    mmap_size: u64,
    /// A [`Checkpointer`] runs the checkpoints, so commits never do.
    background_checkpoints: bool,
}

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqliteSetup {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        let synchronous = match self.synchronous {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        };
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {};
             PRAGMA foreign_keys = ON;
             PRAGMA synchronous = {synchronous};
             PRAGMA temp_store = MEMORY;
             PRAGMA case_sensitive_like = ON;
             PRAGMA journal_size_limit = {WAL_SIZE_LIMIT};
             PRAGMA mmap_size = {};
             PRAGMA wal_autocheckpoint = {};",
            SQLITE_BUSY_TIMEOUT.as_millis(),
            self.mmap_size,
            // 1000 pages is SQLite's default.
            if self.background_checkpoints { 0 } else { 1000 }
        ))
        .map_err(diesel::r2d2::Error::QueryError)?;
        scim_fold_utils::register_impl(conn, |text: Option<String>| text.map(|t| fold(&t)))
            .map_err(diesel::r2d2::Error::QueryError)?;
        scim_instant_utils::register_impl(conn, |text: Option<String>| {
            text.as_deref().and_then(instant_nanos)
        })
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Puts a SQLite file in WAL mode, once, before the pool opens it: the journal
/// mode is a property of the file.
///
/// Switching a new file to WAL takes its exclusive lock, and SQLite answers
/// "database is locked" at once, without its busy handler, when another process
/// holds the file meanwhile (servers started together on one new file do): so
/// the switch is retried, up to [`SQLITE_BUSY_TIMEOUT`].
fn enable_write_ahead_log(path: &str) -> Result<(), DieselError> {
    let deadline = std::time::Instant::now() + SQLITE_BUSY_TIMEOUT;
    let mut pause = Duration::from_millis(5);
    loop {
        let mut conn = SqliteConnection::establish(path)?;
        match conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL;",
            SQLITE_BUSY_TIMEOUT.as_millis()
        )) {
            Err(diesel::result::Error::DatabaseError(_, info))
                if info.message().contains("database is locked")
                    && std::time::Instant::now() < deadline =>
            {
                drop(conn);
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            switched => return Ok(switched?),
        }
    }
}

type SqlitePool = Pool<ConnectionManager<SqliteConnection>>;
#[cfg(feature = "postgres")]
pub(crate) type PgPool = Pool<ConnectionManager<PgConnection>>;

/// What a new PostgreSQL connection is set up with.
#[cfg(feature = "postgres")]
#[derive(Debug, Clone, Copy)]
struct PgSetup {
    prepared_statements: bool,
}

#[cfg(feature = "postgres")]
impl CustomizeConnection<PgConnection, diesel::r2d2::Error> for PgSetup {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        if !self.prepared_statements {
            conn.set_prepared_statement_cache_size(diesel::connection::CacheSize::Disabled);
        }
        Ok(())
    }
}

/// Checkpoints a SQLite file's write-ahead log from a thread of its own, about
/// every [`CHECKPOINT_INTERVAL`], while pool connections run with
/// `wal_autocheckpoint = 0`.
///
/// Otherwise the commit that crosses the log's size threshold copies the log
/// into the database and `fsync`s it, inside the writer turn: every queued writer
/// waits for it. A `PASSIVE` checkpoint waits for no reader or writer. Durability
/// does not change: commits still reach the log before they are acknowledged.
///
/// Dropping it (with the store's pools) ends the thread, after the checkpoint
/// under way if there is one.
pub(crate) struct Checkpointer {
    /// Its signal is dropped to stop the thread: its wait then ends with
    /// `Disconnected`.
    _thread: OwnedThread<mpsc::Sender<()>>,
}

impl Checkpointer {
    fn spawn(path: &str, restart: LogRestart) -> Result<Checkpointer, DieselError> {
        let conn = SqliteConnection::establish(path)?;
        let (stop, stopped) = mpsc::channel();
        let thread = OwnedThread::spawn("scimitar-sqlite-checkpoint", stop, move || {
            checkpoint_until_stopped(conn, &stopped, CHECKPOINT_INTERVAL, &restart);
        })?;
        Ok(Checkpointer { _thread: thread })
    }
}

/// A row of `PRAGMA wal_checkpoint`.
#[derive(QueryableByName)]
struct CheckpointRow {
    /// 1 when the checkpoint could not finish (a lock was held).
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    busy: i64,
    /// Frames in the log.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    log: i64,
}

fn checkpoint_until_stopped(
    mut conn: SqliteConnection,
    stopped: &mpsc::Receiver<()>,
    interval: Duration,
    restart: &LogRestart,
) {
    while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
        match checkpoint(&mut conn) {
            Ok(frames) if frames > WAL_RESTART_FRAMES => {
                catch_up(&mut conn, frames);
                restart.store(true, Ordering::Relaxed);
            }
            Ok(_) => {}
            Err(e) => log::warn!("SQLite checkpoint failed (retried in {interval:?}): {e}"),
        }
    }
}

/// Copies, in a few more passive checkpoints, what was written to the log during
/// the checkpoint that found `frames` in it, so that the writer's restart, which
/// holds up every write while it copies, finds little left (under a steady
/// create load a restart right after a one-second round copied 4,000 frames in
/// 30-60 ms).
fn catch_up(conn: &mut SqliteConnection, mut frames: i64) {
    for _ in 0..CATCH_UP_ROUNDS {
        match checkpoint(conn) {
            Ok(now) if now - frames > CATCH_UP_FRAMES => frames = now,
            _ => return,
        }
    }
}

/// A passive checkpoint: copies what it can of the log into the database, waiting
/// for nobody. The frames in the log.
fn checkpoint(conn: &mut SqliteConnection) -> QueryResult<i64> {
    let passive =
        diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").get_result::<CheckpointRow>(conn)?;
    Ok(passive.log)
}

/// Restarts the log, on a connection in no transaction, where nobody else of this
/// process writes: copies the rest of it into the database, waits (up to
/// [`WAL_RESTART_WAIT`]) for readers to leave it, and has the next commit write
/// from its start. Whether it was restarted.
pub(crate) fn restart_log(conn: &mut SqliteConnection) -> QueryResult<bool> {
    conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {};",
        WAL_RESTART_WAIT.as_millis()
    ))?;
    let restarted =
        diesel::sql_query("PRAGMA wal_checkpoint(RESTART)").get_result::<CheckpointRow>(conn);
    conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {};",
        SQLITE_BUSY_TIMEOUT.as_millis()
    ))?;
    Ok(restarted?.busy == 0)
}

/// The connection pool of one backend.
pub(crate) enum Pools {
    Sqlite {
        pool: SqlitePool,
        /// The writer thread all write transactions of this process go to, so
        /// they queue instead of polling SQLite's lock with back-off sleeps
        /// (other processes are held off by the busy timeout), and those that
        /// queued up commit together.
        writer: WriteGroups,
        /// `None` for an in-memory database, which has no log.
        _checkpointer: Option<Checkpointer>,
    },
    #[cfg(feature = "postgres")]
    Postgres(PgPool),
}

impl std::fmt::Debug for Pools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pools")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

impl Pools {
    /// Opens the pool and brings the schema up to date.
    #[cfg(test)]
    pub(crate) fn open(url: &str, options: &OpenOptions) -> Result<Pools, DieselError> {
        Pools::open_counting(url, options, &Arc::default())
    }

    /// [`Pools::open`], counting the waits for the shared pool in `waits`.
    pub(crate) fn open_counting(
        url: &str,
        options: &OpenOptions,
        waits: &Arc<PoolWaits>,
    ) -> Result<Pools, DieselError> {
        let recorder = || Box::new(WaitRecorder(Arc::clone(waits)));
        let pools = match Target::parse(url)? {
            #[cfg(not(feature = "postgres"))]
            Target::Postgres(_) => return Err(DieselError::NoPostgres),
            #[cfg(feature = "postgres")]
            Target::Postgres(url) => {
                // libpq connects on r2d2's threads, and one can be in its TLS
                // handshake when the process exits; OpenSSL's exit handler then
                // frees what the handshake uses (SIGSEGV, seen in tests that end
                // while a pool connects). OpenSSL initialised by us first, with
                // `OPENSSL_INIT_NO_ATEXIT`, registers no exit handler.
                openssl_sys::init();
                // No idle minimum: r2d2 connects only when a caller waits for a
                // connection, never in the background.
                // No `SELECT 1` at each check-out (r2d2's default): that is a round
                // trip per call. A connection that breaks fails its call, and Diesel
                // reports it broken so the pool drops it; after a database restart
                // each stale pooled connection fails one call that way.
                let pool = Pool::builder()
                    .max_size(options.max_connections.max(1))
                    .min_idle(Some(0))
                    .test_on_check_out(false)
                    .connection_timeout(options.connection_timeout)
                    .connection_customizer(Box::new(PgSetup {
                        prepared_statements: options.prepared_statements,
                    }))
                    .event_handler(recorder())
                    .build(ConnectionManager::<PgConnection>::new(url))?;
                Pools::Postgres(pool)
            }
            Target::SqliteFile(path) => {
                if !options.create && !std::path::Path::new(&path).exists() {
                    return Err(DieselError::NoSuchDatabase(path));
                }
                let setup = SqliteSetup {
                    synchronous: options.synchronous,
                    mmap_size: options.sqlite_mmap_size,
                    background_checkpoints: true,
                };
                enable_write_ahead_log(&path)?;
                let pool = Pool::builder()
                    .max_size(options.max_connections.max(1))
                    .min_idle(Some(1))
                    // A file connection does not go stale: no `SELECT 1` per call.
                    .test_on_check_out(false)
                    .connection_timeout(options.connection_timeout)
                    .connection_customizer(Box::new(setup))
                    .event_handler(recorder())
                    .build(ConnectionManager::<SqliteConnection>::new(&path))?;
                // The writer's own connection, kept for good: a connection's page
                // cache is dropped whenever another connection commits, so the
                // writer, alone in committing, keeps its cache warm only on a
                // connection nobody else uses. (Caches larger than SQLite's 2 MiB
                // were slower in A/B runs: with 64 MiB, 8% of the writer's time
                // went to SQLite truncating its page cache at each commit.)
                let writer_pool = Pool::builder()
                    .max_size(1)
                    .min_idle(Some(1))
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .test_on_check_out(false)
                    .connection_timeout(options.connection_timeout)
                    // The writer changes pages: it gains nothing from the map.
                    .connection_customizer(Box::new(SqliteSetup {
                        mmap_size: 0,
                        ..setup
                    }))
                    .build(ConnectionManager::<SqliteConnection>::new(&path))?;
                let restart = LogRestart::default();
                Pools::Sqlite {
                    writer: WriteGroups::start(writer_pool, Some(Arc::clone(&restart)))?,
                    pool,
                    _checkpointer: Some(Checkpointer::spawn(&path, restart)?),
                }
            }
            Target::SqliteMemory => {
                // Each connection to ":memory:" is its own database: keep exactly
                // one, forever.
                let pool = Pool::builder()
                    .max_size(1)
                    .min_idle(Some(1))
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .connection_timeout(options.connection_timeout)
                    .connection_customizer(Box::new(SqliteSetup {
                        synchronous: options.synchronous,
                        // An in-memory database has no file to map.
                        mmap_size: 0,
                        background_checkpoints: false,
                    }))
                    .build(ConnectionManager::<SqliteConnection>::new(":memory:"))?;
                Pools::Sqlite {
                    writer: WriteGroups::start(pool.clone(), None)?,
                    pool,
                    _checkpointer: None,
                }
            }
        };
        pools.migrate()?;
        Ok(pools)
    }

    pub(crate) fn backend(&self) -> Backend {
        match self {
            Pools::Sqlite { .. } => Backend::Sqlite,
            #[cfg(feature = "postgres")]
            Pools::Postgres(_) => Backend::Postgres,
        }
    }

    fn migrate(&self) -> Result<(), DieselError> {
        match self {
            Pools::Sqlite { pool, .. } => {
                // Before the pool serves anyone: no writer of this process yet.
                let mut conn = pool.get()?;
                // IMMEDIATE takes the write lock first: another process migrating
                // the same file waits, then finds nothing left to do.
                conn.immediate_transaction(|conn| {
                    conn.run_pending_migrations(SQLITE_MIGRATIONS)
                        .map(drop)
                        .map_err(DieselError::Migration)
                })
            }
            #[cfg(feature = "postgres")]
            Pools::Postgres(pool) => {
                let mut conn = pool.get()?;
                conn.transaction(|conn| {
                    diesel::sql_query(format!(
                        "SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"
                    ))
                    .execute(conn)?;
                    conn.run_pending_migrations(POSTGRES_MIGRATIONS)
                        .map(drop)
                        .map_err(DieselError::Migration)
                })
            }
        }
    }

    /// How many of this build's migrations the database has not applied.
    pub(crate) fn pending_migrations(&self) -> Result<usize, DieselError> {
        match self {
            Pools::Sqlite { pool, .. } => {
                let mut conn = pool.get()?;
                Ok(conn
                    .pending_migrations(SQLITE_MIGRATIONS)
                    .map_err(DieselError::Migration)?
                    .len())
            }
            #[cfg(feature = "postgres")]
            Pools::Postgres(pool) => {
                let mut conn = pool.get()?;
                Ok(conn
                    .pending_migrations(POSTGRES_MIGRATIONS)
                    .map_err(DieselError::Migration)?
                    .len())
            }
        }
    }

    /// Whether a read may run on the caller's thread right now: on a SQLite file
    /// with an idle pooled connection. Such reads wait for no lock (the write-ahead
    /// log lets readers run beside the writer) and take microseconds, less than a
    /// hop to the blocking pool and back; an in-memory database's one connection
    /// may be a writer's, and PostgreSQL reads wait on the network.
    pub(crate) fn reads_inline(&self) -> bool {
        match self {
            Pools::Sqlite {
                pool,
                _checkpointer: Some(_),
                ..
            } => pool.state().idle_connections > 0,
            #[allow(unreachable_patterns)] // the in-memory database, and PostgreSQL
            _ => false,
        }
    }

    /// The writer thread of a SQLite database.
    pub(crate) fn sqlite_writer(&self) -> Option<&WriteGroups> {
        match self {
            Pools::Sqlite { writer, .. } => Some(writer),
            #[cfg(feature = "postgres")]
            Pools::Postgres(_) => None,
        }
    }

    /// Runs `f` on a pooled connection, outside any explicit transaction.
    pub(crate) fn with_conn<T, E>(
        &self,
        f: impl FnOnce(&mut Conn<'_>) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<DieselError>,
    {
        match self {
            Pools::Sqlite { pool, .. } => {
                let mut conn = get(pool).map_err(E::from)?;
                f(&mut Conn::Sqlite(&mut conn))
            }
            #[cfg(feature = "postgres")]
            Pools::Postgres(pool) => {
                let mut conn = get(pool).map_err(E::from)?;
                f(&mut Conn::Postgres(&mut conn))
            }
        }
    }

    /// Runs `f` in a read transaction: every statement sees one snapshot, so a
    /// count and the page it describes agree.
    pub(crate) fn read<T, E>(&self, f: impl FnOnce(&mut Conn<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DieselError> + From<diesel::result::Error>,
    {
        match self {
            Pools::Sqlite { pool, .. } => {
                let mut conn = get(pool).map_err(E::from)?;
                conn.transaction(|conn| f(&mut Conn::Sqlite(conn)))
            }
            #[cfg(feature = "postgres")]
            Pools::Postgres(pool) => {
                let mut conn = get(pool).map_err(E::from)?;
                conn.build_transaction()
                    .read_only()
                    .repeatable_read()
                    .run(|conn| f(&mut Conn::Postgres(conn)))
            }
        }
    }

    /// Runs `f` in a write transaction, committed if `f` returns `Ok`, rolled
    /// back otherwise: a failed call leaves nothing behind.
    ///
    /// SQLite: in a savepoint of a write group's transaction, which begins with
    /// `BEGIN IMMEDIATE` (it holds the write lock from its first statement and
    /// never fails half-way with `SQLITE_BUSY` on lock upgrade) and commits once
    /// for the writes that queued meanwhile (see [`WriteGroups`]); this returns
    /// after that commit.
    pub(crate) fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Conn<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DieselError> + From<diesel::result::Error> + Send + 'static,
    {
        match self {
            Pools::Sqlite { writer, .. } => writer.write(f),
            #[cfg(feature = "postgres")]
            Pools::Postgres(pool) => postgres_transaction(pool, f),
        }
    }
}

/// Runs `f` in a transaction on a connection of `pool`.
#[cfg(feature = "postgres")]
fn postgres_transaction<T, E>(
    pool: &PgPool,
    f: impl FnOnce(&mut Conn<'_>) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<DieselError> + From<diesel::result::Error>,
{
    let mut conn = get(pool).map_err(E::from)?;
    conn.transaction(|conn| f(&mut Conn::Postgres(conn)))
}

/// How a store's connection pool is used, at one moment (for metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolState {
    /// Connections open.
    pub connections: u32,
    /// Open connections nobody is using.
    pub idle: u32,
    /// The most the pool opens ([`OpenOptions::max_connections`]).
    pub max: u32,
    /// Connections handed out since the store opened.
    pub checkouts: u64,
    /// The time callers spent waiting for them, in all.
    pub waited: Duration,
    /// Calls that gave up waiting ([`OpenOptions::connection_timeout`]).
    pub timeouts: u64,
}

/// How long callers waited for pooled connections, counted by the pool's event
/// hooks (r2d2 times every check-out).
#[derive(Debug, Default)]
pub(crate) struct PoolWaits {
    checkouts: std::sync::atomic::AtomicU64,
    waited_nanos: std::sync::atomic::AtomicU64,
    timeouts: std::sync::atomic::AtomicU64,
}

/// The pool's event handler, adding to a store's [`PoolWaits`].
#[derive(Debug, Clone)]
pub(crate) struct WaitRecorder(pub(crate) Arc<PoolWaits>);

impl diesel::r2d2::HandleEvent for WaitRecorder {
    fn handle_checkout(&self, event: diesel::r2d2::event::CheckoutEvent) {
        use std::sync::atomic::Ordering::Relaxed;
        let nanos = u64::try_from(event.duration().as_nanos()).unwrap_or(u64::MAX);
        self.0.checkouts.fetch_add(1, Relaxed);
        self.0.waited_nanos.fetch_add(nanos, Relaxed);
    }

    fn handle_timeout(&self, event: diesel::r2d2::event::TimeoutEvent) {
        use std::sync::atomic::Ordering::Relaxed;
        let nanos = u64::try_from(event.timeout().as_nanos()).unwrap_or(u64::MAX);
        self.0.timeouts.fetch_add(1, Relaxed);
        self.0.waited_nanos.fetch_add(nanos, Relaxed);
    }
}

impl Pools {
    /// How the pool of reads (and PostgreSQL writes) is used now; SQLite's
    /// writer connection is not counted.
    pub(crate) fn state(&self, waits: &PoolWaits) -> PoolState {
        use std::sync::atomic::Ordering::Relaxed;
        let (state, max) = match self {
            Pools::Sqlite { pool, .. } => (pool.state(), pool.max_size()),
            #[cfg(feature = "postgres")]
            Pools::Postgres(pool) => (pool.state(), pool.max_size()),
        };
        let (connections, idle) = (state.connections, state.idle_connections);
        PoolState {
            connections,
            idle,
            max,
            checkouts: waits.checkouts.load(Relaxed),
            waited: Duration::from_nanos(waits.waited_nanos.load(Relaxed)),
            timeouts: waits.timeouts.load(Relaxed),
        }
    }

    /// The PostgreSQL pool, for a thread of the store's own.
    #[cfg(feature = "postgres")]
    pub(crate) fn postgres_pool(&self) -> Option<PgPool> {
        match self {
            Pools::Postgres(pool) => Some(pool.clone()),
            Pools::Sqlite { .. } => None,
        }
    }

    /// Runs `f` in a write transaction on a pooled connection, where `f` may run
    /// again (see `DieselStore::writing`). SQLite's writes normally go to its
    /// writer thread instead ([`Pools::write`]).
    pub(crate) fn write_mut<T, F>(&self, f: &mut F) -> Result<T, crate::error::Failure>
    where
        F: FnMut(&mut Conn<'_>) -> Result<T, crate::error::Failure>,
    {
        match self {
            Pools::Sqlite { pool, .. } => {
                let mut conn = get(pool)?;
                conn.immediate_transaction(|conn| f(&mut Conn::Sqlite(conn)))
            }
            #[cfg(feature = "postgres")]
            Pools::Postgres(pool) => postgres_transaction(pool, f),
        }
    }
}

fn get<C>(
    pool: &Pool<ConnectionManager<C>>,
) -> Result<PooledConnection<ConnectionManager<C>>, DieselError>
where
    C: diesel::r2d2::R2D2Connection + 'static,
{
    Ok(pool.get()?)
}

/// A connection of either backend, borrowed for one call.
pub(crate) enum Conn<'a> {
    Sqlite(&'a mut SqliteConnection),
    #[cfg(feature = "postgres")]
    Postgres(&'a mut PgConnection),
}

impl Conn<'_> {
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Conn::Sqlite(_) => Dialect::Sqlite,
            #[cfg(feature = "postgres")]
            Conn::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs a statement; the number of rows it changed.
    pub(crate) fn execute(&mut self, sql: Sql) -> QueryResult<usize> {
        match self {
            Conn::Sqlite(conn) => sql.execute(*conn),
            #[cfg(feature = "postgres")]
            Conn::Postgres(conn) => sql.execute(*conn),
        }
    }

    /// Runs `f` in a savepoint: if it fails, what it wrote is undone and the
    /// transaction goes on (PostgreSQL would otherwise refuse every statement
    /// after a failed one).
    pub(crate) fn savepoint<T>(
        &mut self,
        f: impl FnOnce(&mut Conn<'_>) -> Result<T, crate::error::Failure>,
    ) -> Result<T, crate::error::Failure> {
        match self {
            Conn::Sqlite(conn) => conn.transaction(|conn| f(&mut Conn::Sqlite(conn))),
            #[cfg(feature = "postgres")]
            Conn::Postgres(conn) => conn.transaction(|conn| f(&mut Conn::Postgres(conn))),
        }
    }

    /// Runs a query; its rows.
    pub(crate) fn load<T: Row>(&mut self, sql: Sql) -> QueryResult<Vec<T>> {
        T::load(sql, self)
    }

    /// Runs a query; its first row, if any.
    pub(crate) fn first<T: Row>(&mut self, sql: Sql) -> QueryResult<Option<T>> {
        Ok(self.load(sql)?.into_iter().next())
    }
}

/// A row type every enabled backend can load.
pub(crate) trait Row: Sized + 'static {
    /// The rows of `sql` on `conn`.
    fn load(sql: Sql, conn: &mut Conn<'_>) -> QueryResult<Vec<Self>>;
}

#[cfg(feature = "postgres")]
impl<T> Row for T
where
    T: QueryableByName<Sqlite> + QueryableByName<Pg> + 'static,
    Sql: for<'q> LoadQuery<'q, SqliteConnection, T> + for<'q> LoadQuery<'q, PgConnection, T>,
{
    fn load(sql: Sql, conn: &mut Conn<'_>) -> QueryResult<Vec<T>> {
        match conn {
            Conn::Sqlite(conn) => sql.load(*conn),
            Conn::Postgres(conn) => sql.load(*conn),
        }
    }
}

#[cfg(not(feature = "postgres"))]
impl<T> Row for T
where
    T: QueryableByName<Sqlite> + 'static,
    Sql: for<'q> LoadQuery<'q, SqliteConnection, T>,
{
    fn load(sql: Sql, conn: &mut Conn<'_>) -> QueryResult<Vec<T>> {
        let Conn::Sqlite(conn) = conn;
        sql.load(*conn)
    }
}

#[cfg(test)]
mod tests {
    use std::thread;

    use super::*;

    #[derive(QueryableByName)]
    struct AutoCheckpoint {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        wal_autocheckpoint: i32,
    }

    fn auto_checkpoint(pools: &Pools) -> i32 {
        pools
            .with_conn(|conn| {
                let Conn::Sqlite(conn) = conn else {
                    panic!("not SQLite")
                };
                diesel::sql_query("PRAGMA wal_autocheckpoint")
                    .get_result::<AutoCheckpoint>(*conn)
                    .map_err(DieselError::from)
            })
            .unwrap()
            .wal_autocheckpoint
    }

    #[test]
    fn file_databases_leave_checkpoints_to_the_background_thread() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("s.db").display());
        let file = Pools::open(&url, &OpenOptions::default()).unwrap();
        assert!(matches!(
            &file,
            Pools::Sqlite {
                _checkpointer: Some(_),
                ..
            }
        ));
        assert_eq!(auto_checkpoint(&file), 0);

        let memory = Pools::open("sqlite::memory:", &OpenOptions::default()).unwrap();
        assert!(matches!(
            &memory,
            Pools::Sqlite {
                _checkpointer: None,
                ..
            }
        ));
        assert_eq!(auto_checkpoint(&memory), 1000);
    }

    #[derive(QueryableByName)]
    struct MmapSize {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        mmap_size: i64,
    }

    fn mmap_size(conn: &mut SqliteConnection) -> i64 {
        diesel::sql_query("PRAGMA mmap_size")
            .get_result::<MmapSize>(conn)
            .unwrap()
            .mmap_size
    }

    #[test]
    fn readers_map_the_file_when_asked_and_the_writer_never() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("m.db").display());
        let plain = Pools::open(&url, &OpenOptions::default()).unwrap();
        let read = |pools: &Pools| {
            pools
                .with_conn(|conn| {
                    let Conn::Sqlite(conn) = conn else {
                        panic!("not SQLite")
                    };
                    Ok::<_, DieselError>(mmap_size(conn))
                })
                .unwrap()
        };
        assert_eq!(read(&plain), 0, "off by default");
        drop(plain);
        let options = OpenOptions {
            sqlite_mmap_size: 64 << 20,
            ..OpenOptions::default()
        };
        let mapped = Pools::open(&url, &options).unwrap();
        assert_eq!(read(&mapped), 64 << 20);
        let writer = mapped.sqlite_writer().unwrap();
        let writer_map = writer
            .write(|conn| {
                let Conn::Sqlite(conn) = conn else {
                    panic!("not SQLite")
                };
                Ok::<_, DieselError>(mmap_size(conn))
            })
            .unwrap();
        assert_eq!(writer_map, 0, "the writer does not map");
    }

    /// The writer of a file keeps one connection, and nobody else uses it (its
    /// page cache stays warm): a connection's TEMP table marks it.
    #[test]
    fn a_file_writer_keeps_a_connection_of_its_own() {
        #[derive(QueryableByName)]
        struct Found {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        fn marked(conn: &mut Conn<'_>) -> Result<bool, DieselError> {
            let Conn::Sqlite(conn) = conn else {
                panic!("not SQLite")
            };
            let found = diesel::sql_query(
                "SELECT COUNT(*) AS n FROM temp.sqlite_master WHERE name = 'writer_mark'",
            )
            .get_result::<Found>(*conn)?;
            Ok(found.n == 1)
        }
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("s.db").display());
        let options = OpenOptions {
            max_connections: 1,
            ..OpenOptions::default()
        };
        let pools = Pools::open(&url, &options).unwrap();
        pools
            .write(|conn| {
                let Conn::Sqlite(conn) = conn else {
                    panic!("not SQLite")
                };
                conn.batch_execute("CREATE TEMP TABLE writer_mark (x)")
                    .map_err(DieselError::from)
            })
            .unwrap();
        for _ in 0..3 {
            assert!(pools.write(marked).unwrap(), "the same connection writes");
            assert!(!pools.with_conn(marked).unwrap(), "readers have their own");
        }
    }

    #[test]
    fn the_checkpoint_thread_ends_when_its_owner_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db").display().to_string();
        let conn = SqliteConnection::establish(&path).unwrap();
        let (stop, stopped) = mpsc::channel::<()>();
        // An interval no test run reaches: only the drop can end the wait.
        let thread = thread::spawn(move || {
            checkpoint_until_stopped(
                conn,
                &stopped,
                Duration::from_secs(3600),
                &LogRestart::default(),
            );
        });
        drop(stop);
        assert!(thread.join().is_ok());
    }

    #[test]
    fn a_long_write_ahead_log_is_restarted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db").display().to_string();
        let wal = || std::fs::metadata(format!("{path}-wal")).map_or(0, |m| m.len());
        let mut conn = SqliteConnection::establish(&path).unwrap();
        let insert = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
             INSERT INTO t SELECT hex(randomblob(500)) FROM n;";
        conn.batch_execute(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
             CREATE TABLE t (x TEXT); {insert}"
        ))
        .unwrap();
        // A reader holds a snapshot while more is written, as some always does
        // under load: no checkpoint can copy what came after it until it ends.
        let (started, reading) = mpsc::channel();
        let reader = {
            let path = path.clone();
            thread::spawn(move || {
                let mut reader = SqliteConnection::establish(&path).unwrap();
                reader
                    .batch_execute("BEGIN; SELECT COUNT(*) FROM t;")
                    .unwrap();
                started.send(()).unwrap();
                thread::sleep(Duration::from_millis(100));
                reader.batch_execute("COMMIT;").unwrap();
            })
        };
        reading.recv().unwrap();
        conn.batch_execute(insert).unwrap();
        let mut checkpointer = SqliteConnection::establish(&path).unwrap();
        assert!(
            checkpoint(&mut checkpointer).unwrap() > 0,
            "the log holds the writes"
        );
        let grown = wal();
        // The restart waits for the reader, copies the rest and has the next
        // writes start the log over: it does not grow.
        assert!(restart_log(&mut conn).unwrap(), "the reader left in time");
        reader.join().unwrap();
        conn.batch_execute(insert).unwrap();
        assert_eq!(wal(), grown, "the log was written from its start");
        let rows: i64 = diesel::dsl::sql::<diesel::sql_types::BigInt>("SELECT COUNT(*) FROM t")
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(rows, 600, "nothing lost");
    }

    #[test]
    fn postgres_urls_skip_the_gss_encryption_probe_unless_they_ask_for_it() {
        let target = |url| match Target::parse(url).unwrap() {
            Target::Postgres(url) => url,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            target("postgres://u@h/db"),
            "postgres://u@h/db?gssencmode=disable"
        );
        assert_eq!(
            target("postgresql://u@h/db?sslmode=require"),
            "postgresql://u@h/db?sslmode=require&gssencmode=disable"
        );
        assert_eq!(
            target("postgres://u@h/db?gssencmode=require"),
            "postgres://u@h/db?gssencmode=require"
        );
    }

    #[test]
    fn parses_urls() {
        assert_eq!(
            Target::parse("sqlite://data/s.db").unwrap(),
            Target::SqliteFile("data/s.db".into())
        );
        assert_eq!(
            Target::parse("sqlite:///var/lib/s.db").unwrap(),
            Target::SqliteFile("/var/lib/s.db".into())
        );
        assert_eq!(
            Target::parse("sqlite:s.db").unwrap(),
            Target::SqliteFile("s.db".into())
        );
        assert_eq!(
            Target::parse("sqlite::memory:").unwrap(),
            Target::SqliteMemory
        );
        assert_eq!(
            Target::parse("sqlite://:memory:").unwrap(),
            Target::SqliteMemory
        );
        assert_eq!(
            Target::parse("postgresql://u@h/db").unwrap(),
            Target::Postgres("postgresql://u@h/db?gssencmode=disable".into())
        );
        for bad in ["mysql://x", "sqlite:", "sqlite://", "", "data.db"] {
            assert!(
                matches!(Target::parse(bad), Err(DieselError::UnsupportedUrl(_))),
                "{bad}"
            );
        }
    }
}
