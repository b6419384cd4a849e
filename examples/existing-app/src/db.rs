//! The app's database: a pool of SQLite connections over its own schema, and the
//! app's own operations on it (organizations, API keys, the audit log).

use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::schema::{api_keys, audit_log, organizations};

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Why the database failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No connection could be had.
    #[error("database connection: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    /// The schema could not be brought up to date.
    #[error("database migration: {0}")]
    Migration(String),
    /// A statement failed.
    #[error("database: {0}")]
    Query(#[from] diesel::result::Error),
}

/// The app's SQLite database.
#[derive(Clone)]
pub struct Db {
    pool: Pool<ConnectionManager<SqliteConnection>>,
}

#[derive(Debug)]
struct Pragmas;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for Pragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        use diesel::connection::SimpleConnection;
        conn.batch_execute(
            "PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL;",
        )
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// One of the app's organizations (customers).
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = organizations)]
pub struct Organization {
    /// Its id, also its SCIM tenant.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The seats of its plan; `None` is unlimited.
    pub seats: Option<i64>,
}

/// A row of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct AuditRow {
    /// Its position.
    pub pk: i64,
    /// The organization.
    pub org: String,
    /// When (RFC 3339).
    pub at: String,
    /// Who: an API key's label.
    pub actor: String,
    /// What, e.g. `user.created`.
    pub action: String,
    /// On what: a user or team id.
    pub subject: String,
}

impl Db {
    /// Opens (creating) the SQLite file at `path` and migrates it.
    ///
    /// # Errors
    /// [`DbError`] when the file cannot be opened or migrated.
    pub fn open(path: &str) -> Result<Db, DbError> {
        let pool = Pool::builder()
            .max_size(8)
            .connection_customizer(Box::new(Pragmas))
            .build(ConnectionManager::new(path))?;
        let mut conn = pool.get()?;
        conn.run_pending_migrations(MIGRATIONS)
            .map_err(|error| DbError::Migration(error.to_string()))?;
        Ok(Db { pool })
    }

    /// A pooled connection.
    ///
    /// # Errors
    /// [`DbError::Pool`] when none is free in time.
    pub fn conn(&self) -> Result<PooledConnection<ConnectionManager<SqliteConnection>>, DbError> {
        Ok(self.pool.get()?)
    }

    /// Adds an organization.
    ///
    /// # Errors
    /// [`DbError`] on a database failure (an existing id included).
    pub fn add_organization(&self, org: &Organization) -> Result<(), DbError> {
        diesel::insert_into(organizations::table)
            .values(org)
            .execute(&mut self.conn()?)?;
        Ok(())
    }

    /// A new API key of `org`, shown once; only its SHA-256 digest is kept.
    ///
    /// # Errors
    /// [`DbError`] on a database failure.
    pub fn issue_api_key(&self, org: &str, label: &str) -> Result<String, DbError> {
        let mut secret = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let key = format!("ak_{}", hex::encode(secret));
        diesel::insert_into(api_keys::table)
            .values((
                api_keys::org.eq(org),
                api_keys::label.eq(label),
                api_keys::key_sha256.eq(key_digest(&key)),
            ))
            .execute(&mut self.conn()?)?;
        Ok(key)
    }

    /// Revokes the API keys labelled `label` in `org`.
    ///
    /// # Errors
    /// [`DbError`] on a database failure.
    pub fn revoke_api_key(&self, org: &str, label: &str) -> Result<(), DbError> {
        diesel::update(api_keys::table)
            .filter(api_keys::org.eq(org).and(api_keys::label.eq(label)))
            .set(api_keys::revoked.eq(true))
            .execute(&mut self.conn()?)?;
        Ok(())
    }

    /// The organization and label of a live API key.
    ///
    /// # Errors
    /// [`DbError`] on a database failure.
    pub fn find_api_key(&self, key: &str) -> Result<Option<(String, String)>, DbError> {
        Ok(api_keys::table
            .filter(api_keys::key_sha256.eq(key_digest(key)))
            .filter(api_keys::revoked.eq(false))
            .select((api_keys::org, api_keys::label))
            .first(&mut self.conn()?)
            .optional()?)
    }

    /// The audit log of `org`, oldest first.
    ///
    /// # Errors
    /// [`DbError`] on a database failure.
    pub fn audit(&self, org: &str) -> Result<Vec<AuditRow>, DbError> {
        Ok(audit_log::table
            .filter(audit_log::org.eq(org))
            .order(audit_log::pk)
            .load(&mut self.conn()?)?)
    }
}

/// The digest an API key is kept as.
fn key_digest(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}
