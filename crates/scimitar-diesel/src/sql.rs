//! Dynamic SQL with bind parameters, one text for both backends.
//!
//! [`Sql`] is a list of text pieces and bound values. It implements Diesel's
//! `QueryFragment` for SQLite and PostgreSQL, so Diesel writes the placeholders
//! (`?` or `$n`) and binds the values: a value never becomes part of the SQL text.
//! The text is the statement-cache key, so the same query shape is prepared once
//! per connection.

#[cfg(feature = "postgres")]
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool, Double, Nullable, Text, Untyped};
use diesel::sqlite::Sqlite;
use diesel::{QueryResult, RunQueryDsl};

/// Which SQL dialect a statement is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// SQLite 3.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Dialect {
    /// How a bound JSON text is written into a JSON column other than
    /// `resources.data` (see [`Dialect::push_document`]).
    pub(crate) fn json_param_suffix(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => "::jsonb",
        }
    }

    /// The column of `events` that orders delivery: on SQLite, which commits one
    /// writer at a time, the sequence number; on PostgreSQL the position an event
    /// gets when it settles (`event_rows::settle`).
    pub(crate) fn event_position(self) -> &'static str {
        match self {
            Dialect::Sqlite => "seq",
            Dialect::Postgres => "pos",
        }
    }

    /// The row of a tenant's counts (`resource_counts`, `resource_buckets`) this
    /// connection adds to: on PostgreSQL one of 16 by backend, so that concurrent
    /// creates do not queue for one row; SQLite writes one at a time.
    pub(crate) fn count_shard(self) -> &'static str {
        match self {
            Dialect::Sqlite => "0",
            Dialect::Postgres => "pg_backend_pid() % 16",
        }
    }

    /// How a JSON text column (settings, events, archives) is read back as text.
    pub(crate) fn json_text(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => column.to_owned(),
            Dialect::Postgres => format!("{column}::text"),
        }
    }

    /// Binds `text`, a JSON document, as the binary form `resources.data` keeps
    /// (SQLite JSONB, PostgreSQL `jsonb`): filters and sort keys then read
    /// attributes out of it without parsing the document on every row.
    pub(crate) fn push_document(self, sql: &mut Sql, text: &str) {
        match self {
            Dialect::Sqlite => {
                sql.push("jsonb(").bind(text).push(")");
            }
            Dialect::Postgres => {
                sql.bind(text).push("::jsonb");
            }
        }
    }

    /// How a document of `resources.data` is read back as JSON text.
    pub(crate) fn document_text(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => format!("json({column})"),
            Dialect::Postgres => format!("{column}::text"),
        }
    }
}

/// Case folding used for every case-insensitive comparison: Unicode
/// lower-casing ([`scimitar_store::meta::fold_case`]), applied on the Rust side to
/// folded columns and bound values.
pub(crate) fn fold(text: &str) -> String {
    scimitar_store::meta::fold_case(text)
}

/// The SQL function that folds like [`fold`]: registered by this crate on every
/// SQLite connection, created by the PostgreSQL migration (ICU lower-casing).
pub(crate) const FOLD_FN: &str = "scim_fold";

/// The SQL function that reads RFC 3339 text as nanoseconds since the epoch
/// ([`instant_nanos`]), `NULL` for other text: sorting by a `dateTime` attribute
/// inside the JSON orders instants (`...+01:00` and `...Z` alike). Registered on
/// every SQLite connection, created by the PostgreSQL migration.
pub(crate) const INSTANT_FN: &str = "scim_instant";

/// What [`INSTANT_FN`] computes: the instant the memory store sorts by
/// ([`scimitar_store::meta::parse_instant`]), in stored form.
pub(crate) fn instant_nanos(text: &str) -> Option<i64> {
    let at = scimitar_store::meta::parse_instant(text)?;
    i64::try_from(at.unix_timestamp_nanos()).ok()
}

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// Text (also JSON documents and timestamps).
    Text(String),
    /// A 64-bit integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// SQL `NULL` of type text.
    Null,
    /// SQL `NULL` of type boolean.
    NullBool,
    /// SQL `NULL` of type big integer.
    NullInt,
}

impl From<Option<i64>> for Value {
    fn from(value: Option<i64>) -> Self {
        value.map_or(Value::NullInt, Value::Int)
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::Text(text.to_owned())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::Text(text)
    }
}

impl From<Option<String>> for Value {
    fn from(text: Option<String>) -> Self {
        text.map_or(Value::Null, Value::Text)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Bind(Value),
}

/// A SQL statement under construction: text with bound values in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Sql {
    pieces: Vec<Piece>,
}

impl Sql {
    /// A statement starting with `text`.
    pub(crate) fn new(text: &str) -> Self {
        let mut sql = Sql::default();
        sql.push(text);
        sql
    }

    /// Appends SQL text (never a value: values go through [`Sql::bind`]).
    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        if let Some(Piece::Text(last)) = self.pieces.last_mut() {
            last.push_str(text);
        } else {
            self.pieces.push(Piece::Text(text.to_owned()));
        }
        self
    }

    /// Appends a placeholder bound to `value`.
    pub(crate) fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.pieces.push(Piece::Bind(value.into()));
        self
    }

    /// Appends another statement's text and binds.
    pub(crate) fn append(&mut self, other: Sql) -> &mut Self {
        for piece in other.pieces {
            match piece {
                Piece::Text(text) => {
                    self.push(&text);
                }
                Piece::Bind(value) => self.pieces.push(Piece::Bind(value)),
            }
        }
        self
    }

    /// Appends `(?, ?, ...)` binding each value.
    pub(crate) fn bind_list(&mut self, values: impl IntoIterator<Item = Value>) -> &mut Self {
        self.push("(");
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(value);
        }
        self.push(")")
    }

    /// The text with `?` for each placeholder, and the bound values (for tests
    /// and logs).
    #[cfg(test)]
    pub(crate) fn debug_parts(&self) -> (String, Vec<Value>) {
        let mut text = String::new();
        let mut binds = Vec::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => text.push_str(t),
                Piece::Bind(v) => {
                    text.push('?');
                    binds.push(v.clone());
                }
            }
        }
        (text, binds)
    }
}

macro_rules! walk_for {
    ($backend:ty) => {
        impl QueryFragment<$backend> for Sql {
            fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, $backend>) -> QueryResult<()> {
                for piece in &self.pieces {
                    match piece {
                        Piece::Text(text) => out.push_sql(text),
                        Piece::Bind(Value::Text(v)) => out.push_bind_param::<Text, _>(v)?,
                        Piece::Bind(Value::Int(v)) => out.push_bind_param::<BigInt, _>(v)?,
                        Piece::Bind(Value::Float(v)) => out.push_bind_param::<Double, _>(v)?,
                        Piece::Bind(Value::Bool(v)) => out.push_bind_param::<Bool, _>(v)?,
                        Piece::Bind(Value::Null) => {
                            out.push_bind_param::<Nullable<Text>, Option<String>>(&None)?
                        }
                        Piece::Bind(Value::NullBool) => {
                            out.push_bind_param::<Nullable<Bool>, Option<bool>>(&None)?
                        }
                        Piece::Bind(Value::NullInt) => {
                            out.push_bind_param::<Nullable<BigInt>, Option<i64>>(&None)?
                        }
                    }
                }
                Ok(())
            }
        }
    };
}

walk_for!(Sqlite);
#[cfg(feature = "postgres")]
walk_for!(Pg);

impl QueryId for Sql {
    type QueryId = ();
    // Dynamic: Diesel caches the prepared statement by its SQL text instead.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Sql {
    type SqlType = Untyped;
}

impl<C> RunQueryDsl<C> for Sql {}

#[cfg(test)]
mod tests {
    use super::*;

    /// `scim_instant` is a Rust function on SQLite and PL/pgSQL on PostgreSQL:
    /// both must read every text as the memory store does.
    #[test]
    fn instant_function_agrees_with_the_memory_store_on_both_backends() {
        use crate::connection::{OpenOptions, Pools};
        use crate::error::DieselError;

        #[derive(diesel::QueryableByName)]
        struct Instant {
            #[diesel(sql_type = Nullable<BigInt>)]
            n: Option<i64>,
        }
        let inputs = [
            "2026-01-01T00:00:00Z",
            "2026-01-01T05:00:00+04:00",
            "2025-12-31T23:30:00.125-01:00",
            "2026-01-01T00:00:00.123456Z",
            "2026-01-01t00:00:00z",
            "2026-01-01 05:00:00+04:00",
            "2026-02-30T00:00:00Z",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00.5",
            "2026-01-01T00:00:00+01",
            "2026-01-01",
            "now",
            "",
        ];
        let postgres = scimitar_store::testkit::postgres_url("scim_instant on PostgreSQL");
        let urls = std::iter::once("sqlite::memory:").chain(postgres.as_deref());
        for url in urls {
            let pools = Pools::open(url, &OpenOptions::default())
                .unwrap_or_else(|error| panic!("{url}: {error}"));
            for input in inputs {
                let mut sql = Sql::new(&format!("SELECT {INSTANT_FN}("));
                sql.bind(input).push(") AS n");
                let found = pools
                    .with_conn(|conn| -> Result<_, DieselError> { Ok(conn.first::<Instant>(sql)?) })
                    .unwrap_or_else(|error| panic!("{url}: {input:?}: {error}"));
                assert_eq!(
                    found.and_then(|row| row.n),
                    instant_nanos(input),
                    "{url}: scim_instant({input:?})"
                );
            }
        }
    }

    #[test]
    fn binds_stay_out_of_the_text() {
        let mut sql = Sql::new("SELECT 1 FROM t WHERE a = ");
        sql.bind("x'; DROP TABLE t; --")
            .push(" AND b IN ")
            .bind_list([Value::Int(1), Value::Int(2)]);
        let (text, binds) = sql.debug_parts();
        assert_eq!(text, "SELECT 1 FROM t WHERE a = ? AND b IN (?, ?)");
        assert_eq!(
            binds,
            vec![
                Value::Text("x'; DROP TABLE t; --".into()),
                Value::Int(1),
                Value::Int(2)
            ]
        );
    }

    #[test]
    #[cfg(feature = "postgres")]
    fn diesel_numbers_postgres_placeholders() {
        let mut sql = Sql::new("SELECT ");
        sql.bind(1_i64).push(", ").bind("a");
        let text = diesel::debug_query::<Pg, _>(&sql).to_string();
        assert!(text.starts_with("SELECT $1, $2"), "{text}");
        let text = diesel::debug_query::<Sqlite, _>(&sql).to_string();
        assert!(text.starts_with("SELECT ?, ?"), "{text}");
    }

    #[test]
    fn fold_is_unicode_lowercase() {
        assert_eq!(fold("ÉLODIE@Example.COM"), "élodie@example.com");
    }
}
