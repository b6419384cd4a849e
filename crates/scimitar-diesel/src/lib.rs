//! scimitar-diesel: under construction.

mod connection;
mod error;
mod filter_sql;
mod query;
mod rows;
mod schema_ops;
mod sql;
mod store;
mod tenant;
mod time;

use std::sync::Arc;

pub use connection::{Backend, OpenOptions, Synchronous};
pub use error::DieselError;

use connection::Pools;
use error::Failure;
use scimitar_store::StoreError;
use sql::Sql;

/// A SCIM store on SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub struct DieselStore {
    pools: Arc<Pools>,
}

impl DieselStore {
    /// Opens the database at `url` with default [`OpenOptions`] and brings its schema
    /// up to date. Blocks while connecting and migrating.
    pub fn open(url: &str) -> Result<DieselStore, StoreError> {
        DieselStore::open_with(url, &OpenOptions::default())
    }

    /// Opens the database at `url` with `options`.
    pub fn open_with(url: &str, options: &OpenOptions) -> Result<DieselStore, StoreError> {
        let pools = Pools::open(url, options).map_err(StoreError::from)?;
        Ok(DieselStore {
            pools: Arc::new(pools),
        })
    }

    /// Which database this store runs on.
    pub fn backend(&self) -> Backend {
        self.pools.backend()
    }

    /// Checks that the database answers (readiness probes).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.blocking(|pools| pools.with_conn(|conn| Ok(conn.execute(Sql::new("SELECT 1"))?)))
            .await
            .map(drop)
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
