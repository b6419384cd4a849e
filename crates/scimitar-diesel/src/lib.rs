//! The Diesel store: Scimitar's [`Store`](scimitar_store::Store) and
//! [`TenantStore`](scimitar_store::TenantStore) on SQLite (bundled) or PostgreSQL,
//! one code base, the backend chosen by the database URL.
//!
//! - **Filters run in SQL.** A SCIM filter becomes a `WHERE` clause with bound
//!   values: `userName`, `externalId`, `displayName`, `active`, `meta.*`, `emails`
//!   and group `members` hit indexed columns and tables; other single-valued
//!   attributes, extension attributes included, use JSON functions. What SQL
//!   cannot decide exactly is narrowed in SQL and finished in memory with the
//!   reference evaluator, before counting and paging, so results and
//!   `totalResults` are always those of `scimitar_filter::matches`.
//! - **Sorting and paging run in SQL**: index paging with `LIMIT`/`OFFSET`, and
//!   RFC 9865 cursors as keyset pagination (constant time at any depth).
//! - **Group members live in their own table**: adding one member to a
//!   100,000-member group is one row; reading a group with
//!   `excludedAttributes=members` never reads them; lists read are kept in memory
//!   under the group's version (every membership change gives a new one), so the
//!   next PATCH or GET of that version reads none.
//! - **Managers, archived users and derived teams** (rules 19 to 21): a
//!   `manager_id` column finds a deleted manager's reports, a page names its
//!   users' managers in one query, archived users leave `resources` for an archive
//!   table, and department teams are group rows kept in step with each user write.
//! - **Every write commits or rolls back whole**, with its outbox events; on
//!   SQLite one writer thread runs the process's writes back to back under the
//!   write lock (`BEGIN IMMEDIATE`), those that queued meanwhile sharing the
//!   transaction, each in its own savepoint, all answered after its commit;
//!   on PostgreSQL writes lock the rows they change, not the tenant, and events
//!   get their delivery order when they settle (no late commit is skipped).
//! - **Outbox consumers and the provisioning log** live in the database too:
//!   checkpoints and leases ([`OutboxStore`](scimitar_store::hooks::OutboxStore),
//!   pruning events every consumer has handled) and the newest requests per
//!   tenant ([`ProvisioningLog`](scimitar_store::provisioning_log::ProvisioningLog)).
//!
//! Calls run on Tokio's blocking pool when called inside a Tokio runtime, so the
//! async executor never waits on the database, except where waiting costs less
//! than the hop: reads of a SQLite file, which wait for no lock and take
//! microseconds, run on the caller's thread when a pooled connection is free, and
//! SQLite writes are awaited from the writer thread without holding any thread.
//! Dropping the store ends its threads and closes its connections before `drop`
//! returns.
//!
//! This workspace builds the bundled SQLite with `LIBSQLITE3_FLAGS` set in
//! `.cargo/config.toml` (`THREADSAFE=2`, `DEFAULT_MEMSTATUS=0`,
//! `OMIT_SHARED_CACHE`: no mutex per call or per allocation; PATCH and member
//! changes were 10-14% faster for it). An application embedding this crate builds SQLite its own way; the
//! same variable in its build environment gives it the same build.
//!
//! ```
//! use scimitar_diesel::DieselStore;
//! use scimitar_filter::parse_filter;
//! use scimitar_store::{Policy, Query, Registry, Scope, Store};
//! use serde_json::json;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! // `sqlite://path/to/file.db` or `postgres://user@host/db` in production.
//! let store = DieselStore::open("sqlite::memory:")?;
//! let (registry, policy) = (Registry::builtin(), Policy::default());
//! let scope = Scope::new("acme", &registry, &policy);
//!
//! let user = json!({
//!     "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
//!     "userName": "bjensen@example.com",
//!     "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
//! });
//! let created = store.create(&scope, "User", user).await?;
//!
//! let filter = parse_filter(r#"userName eq "BJensen@example.com""#).unwrap();
//! let page = store.query(&scope, "User", &Query::default().filter(filter)).await?;
//! assert_eq!(page.total_results, 1);
//! assert_eq!(page.resources[0]["id"], created["id"]);
//! # Ok::<(), scimitar_store::StoreError>(())
//! # }).unwrap();
//! ```

// Tests take a SQLite connection out of `Conn` with `let ... else`, which has
// nothing else to match when PostgreSQL is left out of the build.
#![cfg_attr(all(test, not(feature = "postgres")), allow(irrefutable_let_patterns))]

mod background;
mod batch;
mod connection;
mod create;
mod error;
mod event_rows;
mod filter_sql;
mod member_lists;
mod member_rows;
mod outbox;
mod patch;
mod provisioning_log;
mod query;
mod resource_write;
mod rows;
mod schema_ops;
mod secrets;
mod sql;
#[cfg(feature = "postgres")]
mod statistics;
mod store;
mod teams;
mod tenant;
mod tenant_state;
mod time;
mod write_groups;

use std::sync::Arc;

pub use connection::{Backend, OpenOptions, PoolState, Synchronous, MAX_SQLITE_MMAP_SIZE};
pub use error::DieselError;

use connection::Pools;
use error::Failure;
use scimitar_store::StoreError;
use sql::Sql;

/// How many times a PostgreSQL write runs when a deadlock ends it.
const WRITE_ATTEMPTS: u32 = 3;

/// A SCIM store on SQLite or PostgreSQL: implements
/// [`Store`](scimitar_store::Store), [`TenantStore`](scimitar_store::TenantStore),
/// [`OutboxStore`](scimitar_store::hooks::OutboxStore) (so it is its own
/// dispatcher outbox) and
/// [`ProvisioningLog`](scimitar_store::provisioning_log::ProvisioningLog).
///
/// Cloning is cheap and shares the connection pool.
#[derive(Debug, Clone)]
pub struct DieselStore {
    pools: Arc<Pools>,
    /// Check-outs of the shared pool and the time spent waiting for them.
    waits: Arc<connection::PoolWaits>,
    log_prunes: Arc<provisioning_log::PruneSchedule>,
    member_lists: Arc<member_lists::MemberLists>,
    /// PostgreSQL: the thread that keeps planner statistics from going missing.
    #[cfg(feature = "postgres")]
    _statistics: Arc<Option<statistics::Keeper>>,
}

impl DieselStore {
    /// Opens the database at `url` with default [`OpenOptions`] and brings its schema
    /// up to date (embedded migrations; concurrent openers migrate once). Blocks
    /// while connecting and migrating.
    ///
    /// URLs: `sqlite://PATH` (relative, or `sqlite:///absolute/path`),
    /// `sqlite::memory:` (one connection, gone when the store is dropped: tests and
    /// examples), `postgres://...` / `postgresql://...` (libpq syntax).
    ///
    /// # Errors
    /// [`StoreError::Backend`] for an unsupported URL or a failed migration,
    /// [`StoreError::Unavailable`] when the database cannot be reached.
    pub fn open(url: &str) -> Result<DieselStore, StoreError> {
        DieselStore::open_with(url, &OpenOptions::default())
    }

    /// Opens the database at `url` with `options` (pool size, SQLite durability).
    ///
    /// # Errors
    /// As [`DieselStore::open`].
    pub fn open_with(url: &str, options: &OpenOptions) -> Result<DieselStore, StoreError> {
        let waits = Arc::default();
        let pools = Pools::open_counting(url, options, &waits).map_err(StoreError::from)?;
        #[cfg(feature = "postgres")]
        let statistics = match pools.postgres_pool() {
            Some(pool) => Some(statistics::Keeper::spawn(pool).map_err(StoreError::from)?),
            None => None,
        };
        Ok(DieselStore {
            pools: Arc::new(pools),
            waits,
            log_prunes: Arc::default(),
            member_lists: Arc::default(),
            #[cfg(feature = "postgres")]
            _statistics: Arc::new(statistics),
        })
    }

    /// PostgreSQL: analyses the store's tables that have no planner statistics,
    /// or that changed more than half over since their last analysis (a bulk
    /// load), and returns their names; SQLite: nothing. The store does this by
    /// itself every 5 s; call it after an import to have fitting plans at once.
    ///
    /// # Errors
    /// The database's.
    pub async fn refresh_statistics(&self) -> Result<Vec<String>, StoreError> {
        #[cfg(feature = "postgres")]
        if self.backend() == Backend::Postgres {
            return self
                .blocking(|pools| pools.write(statistics::refresh))
                .await;
        }
        Ok(Vec::new())
    }

    /// How many of this build's migrations the database lacks: 0 once the store
    /// has opened, unless one was reverted since (readiness probes).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when no connection can be had.
    pub async fn pending_migrations(&self) -> Result<usize, StoreError> {
        self.blocking(|pools| Ok(pools.pending_migrations()?)).await
    }

    /// How the connection pool is used now (for metrics).
    pub fn pool_state(&self) -> PoolState {
        self.pools.state(&self.waits)
    }

    /// Which database this store runs on.
    pub fn backend(&self) -> Backend {
        self.pools.backend()
    }

    /// Checks that the database answers `SELECT 1` (readiness probes).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when no connection can be had.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.blocking(|pools| pools.with_conn(|conn| Ok(conn.execute(Sql::new("SELECT 1"))?)))
            .await
            .map(drop)
    }

    /// Runs the read `f`: on the caller's thread where [`Pools::reads_inline`]
    /// allows it, else as [`DieselStore::blocking`] does.
    async fn reading<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Pools) -> Result<T, Failure> + Send + 'static,
        T: Send + 'static,
    {
        if self.pools.reads_inline() {
            return f(&self.pools).map_err(StoreError::from);
        }
        self.blocking(f).await
    }

    /// Runs the write transaction `f` (see [`Pools::write`]): on SQLite the
    /// writer thread runs it and this waits for its answer without holding a
    /// thread; on PostgreSQL as [`DieselStore::blocking`] does, again (up to
    /// [`WRITE_ATTEMPTS`] times) when PostgreSQL ended it to break a deadlock.
    async fn writing<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnMut(&mut connection::Conn<'_>) -> Result<T, Failure> + Send + 'static,
        T: Send + 'static,
    {
        match self.pools.sqlite_writer() {
            Some(writer) => writer.write_async(f).await.map_err(StoreError::from),
            None => self.blocking(move |pools| write_retrying(pools, f)).await,
        }
    }

    /// Runs the write transaction `write` as [`DieselStore::writing`] does, then
    /// the read `read` after its commit: on SQLite outside the writer thread, on
    /// PostgreSQL on the same trip to the blocking pool.
    async fn writing_then_reading<T, W, R, F>(&self, write: W, read: F) -> Result<R, StoreError>
    where
        W: FnMut(&mut connection::Conn<'_>) -> Result<T, Failure> + Send + 'static,
        T: Send + 'static,
        F: FnOnce(&Pools) -> Result<R, Failure> + Send + 'static,
        R: Send + 'static,
    {
        if self.pools.sqlite_writer().is_some() {
            self.writing(write).await?;
            return self.reading(read).await;
        }
        self.blocking(move |pools| {
            write_retrying(pools, write)?;
            read(pools)
        })
        .await
    }

    /// Runs `f` off the async runtime: on Tokio's blocking pool inside a runtime,
    /// inline otherwise.
    async fn blocking<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Pools) -> Result<T, Failure> + Send + 'static,
        T: Send + 'static,
    {
        let pools = Arc::clone(&self.pools);
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => handle
                .spawn_blocking(move || f(&pools))
                .await
                .map_err(|e| Failure::from(DieselError::Worker(e.to_string())))
                .and_then(|r| r)
                .map_err(StoreError::from),
            Err(_) => f(&pools).map_err(StoreError::from),
        }
    }
}

/// Runs the write transaction `f` on PostgreSQL's pool, again (up to
/// [`WRITE_ATTEMPTS`] times) when PostgreSQL ended it to break a deadlock.
fn write_retrying<T>(
    pools: &Pools,
    mut f: impl FnMut(&mut connection::Conn<'_>) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let mut attempt = 1;
    loop {
        match pools.write_mut(&mut f) {
            Err(Failure::Db(error)) if error.is_deadlock() && attempt < WRITE_ATTEMPTS => {
                attempt += 1;
            }
            done => return done,
        }
    }
}
