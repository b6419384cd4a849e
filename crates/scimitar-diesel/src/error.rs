//! Errors of opening and talking to the database.

use diesel::result::{DatabaseErrorKind, Error as QueryError};
use scimitar_store::StoreError;

/// An error of the Diesel store's own machinery (connections, migrations, SQL).
///
/// Store operations report [`scimitar_store::StoreError`]; this type is what they
/// wrap as the underlying cause, and what [`crate::DieselStore::open`] reports
/// before a store exists.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DieselError {
    /// The database URL names no backend this crate supports.
    #[error(
        "unsupported database URL {0:?}: expected sqlite://PATH, sqlite::memory: or postgres://..."
    )]
    UnsupportedUrl(String),
    /// A `postgres://` URL, but this build has no PostgreSQL backend (the
    /// `postgres` feature is off).
    #[error(
        "this build has no PostgreSQL support: enable the `postgres` feature of scimitar-diesel"
    )]
    NoPostgres,
    /// A SQLite file that does not exist, opened with
    /// [`OpenOptions::create`](crate::OpenOptions::create) off.
    #[error("there is no database at {0}: check the path, or create it with `scimitar migrate`")]
    NoSuchDatabase(String),
    /// A connection could not be established.
    #[error("cannot connect to the database: {0}")]
    Connect(#[from] diesel::ConnectionError),
    /// No pooled connection became available in time.
    #[error("no database connection available: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    /// The schema migrations failed.
    #[error("database migration failed: {0}")]
    Migration(Box<dyn std::error::Error + Send + Sync>),
    /// A statement failed.
    #[error("database error: {0}")]
    Query(#[from] QueryError),
    /// A stored JSON document does not parse.
    #[error("corrupt JSON in the database: {0}")]
    CorruptJson(#[source] serde_json::Error),
    /// Stored data that does not read back as written.
    #[error("corrupt data in the database: {0}")]
    Corrupt(String),
    /// A timestamp outside what the store can keep (years 1678 to 2261).
    #[error("timestamp out of the supported range")]
    TimestampOutOfRange,
    /// A statement that must return a row returned none.
    #[error("the database returned no row where one was expected")]
    MissingRow,
    /// The blocking worker running a database call panicked or was cancelled.
    #[error("database worker failed: {0}")]
    Worker(String),
    /// The SQLite transaction a write shared with others (a write group) did not
    /// commit: the write was not made.
    #[error("the write was not committed: {0}")]
    NotCommitted(String),
}

impl DieselError {
    /// The unique constraint a statement violated, if that is what failed: the
    /// constraint name on PostgreSQL, the `table.column, ...` list on SQLite.
    pub(crate) fn unique_violation(&self) -> Option<String> {
        match self {
            DieselError::Query(QueryError::DatabaseError(
                DatabaseErrorKind::UniqueViolation,
                info,
            )) => Some(
                info.constraint_name()
                    .map_or_else(|| info.message().to_owned(), str::to_owned),
            ),
            _ => None,
        }
    }

    /// The attribute a violated unique constraint protects (`userName`, `id`),
    /// if that is what failed.
    pub(crate) fn unique_attribute(&self) -> Option<&'static str> {
        self.unique_violation()
            .and_then(|constraint| unique_attribute(&constraint))
    }

    /// Whether PostgreSQL ended the transaction to break a deadlock (SQLSTATE
    /// 40P01, which Diesel does not name).
    pub(crate) fn is_deadlock(&self) -> bool {
        matches!(self, DieselError::Query(QueryError::DatabaseError(_, info))
            if info.message().contains("deadlock detected"))
    }

    /// Whether retrying later may succeed.
    fn is_transient(&self) -> bool {
        match self {
            DieselError::Pool(_) | DieselError::Connect(_) => true,
            DieselError::Query(QueryError::DatabaseError(kind, info)) => {
                matches!(
                    kind,
                    DatabaseErrorKind::SerializationFailure
                        | DatabaseErrorKind::ClosedConnection
                        | DatabaseErrorKind::UnableToSendCommand
                ) || info.message().contains("database is locked")
                    // Writes that wait for each other's rows (a user deleted
                    // while a write references it): run again by the store,
                    // then 503.
                    || self.is_deadlock()
            }
            DieselError::Query(QueryError::BrokenTransactionManager) => true,
            _ => false,
        }
    }
}

/// What a database call inside the store can end with: a store-level outcome
/// decided in the transaction (not found, version mismatch...), which rolls it
/// back like any error, or a database failure.
#[derive(Debug)]
pub(crate) enum Failure {
    Store(StoreError),
    Db(DieselError),
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Failure::Store(error)
    }
}

impl From<DieselError> for Failure {
    fn from(error: DieselError) -> Self {
        Failure::Db(error)
    }
}

impl From<QueryError> for Failure {
    fn from(error: QueryError) -> Self {
        Failure::Db(DieselError::Query(error))
    }
}

impl From<Failure> for StoreError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Store(error) => error,
            Failure::Db(error) => error.into(),
        }
    }
}

impl From<DieselError> for StoreError {
    /// Unique violations become [`StoreError::Uniqueness`] naming the attribute;
    /// trouble that may pass (no connection, lock timeouts, serialization
    /// failures) becomes [`StoreError::Unavailable`]; the rest
    /// [`StoreError::Backend`].
    fn from(error: DieselError) -> Self {
        if let Some(attribute) = error.unique_attribute() {
            return StoreError::Uniqueness {
                attribute: attribute.to_owned(),
            };
        }
        if error.is_transient() {
            StoreError::Unavailable(Box::new(error))
        } else {
            StoreError::Backend(Box::new(error))
        }
    }
}

/// The attribute a unique constraint protects, from its PostgreSQL name or the
/// column list of SQLite's message.
fn unique_attribute(constraint: &str) -> Option<&'static str> {
    if constraint.contains("user_name") {
        Some("userName")
    } else if constraint.contains("tenants") || constraint.contains("tokens") {
        Some("id")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use diesel::result::{DatabaseErrorInformation, DatabaseErrorKind, Error as QueryError};

    use super::*;

    #[derive(Debug)]
    struct Message(&'static str);

    impl DatabaseErrorInformation for Message {
        fn message(&self) -> &str {
            self.0
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            None
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn database_error(message: &'static str) -> DieselError {
        let info = Box::new(Message(message));
        DieselError::Query(QueryError::DatabaseError(DatabaseErrorKind::Unknown, info))
    }

    /// A deadlock that outlives the store's attempts is 503 (try again), not 500.
    #[test]
    fn a_deadlock_is_unavailable() {
        let deadlock = database_error("deadlock detected");
        assert!(deadlock.is_deadlock());
        assert!(matches!(
            StoreError::from(deadlock),
            StoreError::Unavailable(_)
        ));
        let other = database_error("division by zero");
        assert!(!other.is_deadlock());
        assert!(matches!(StoreError::from(other), StoreError::Backend(_)));
    }
}
