//! Queries (rules 11 to 15): filter, sort and page in SQL; finish in memory what
//! SQL cannot decide exactly, before paging.

use std::collections::{HashMap, HashSet};

use diesel::sql_types::{BigInt, Double, Nullable, Text};
use diesel::QueryableByName;
use scimitar_filter::ast::{AttrPath, CompValue, CompareOp, Filter};
use scimitar_schema::{AttributeType, Origin};
use scimitar_store::query::mentions_attribute;
use scimitar_store::{derive, Page, Paging, Query, SortOrder, StoreError};
use serde_json::{json, Value};

use crate::connection::{Conn, Pools};
use crate::error::Failure;
use crate::filter_sql::{Pushdown, Translator};
use crate::member_rows;
use crate::rows::{self, ResourceRow, GROUP_TYPE, USER_TYPE};
use crate::schema_ops::{self, Ctx};
use crate::sql::{Dialect, Sql, Value as Bind, FOLD_FN, INSTANT_FN};

/// A resource row with its sort key; one of the key columns is used, by kind.
#[derive(QueryableByName)]
struct KeyedRow {
    #[diesel(embed)]
    resource: ResourceRow,
    #[diesel(sql_type = Nullable<Text>)]
    key_text: Option<String>,
    #[diesel(sql_type = Nullable<Double>)]
    key_num: Option<f64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    key_int: Option<i64>,
}

#[derive(QueryableByName)]
struct PkRow {
    #[diesel(sql_type = BigInt)]
    pk: i64,
}

/// A bucket of `resource_buckets` and how many rows it counts.
#[derive(QueryableByName)]
struct BucketRow {
    #[diesel(sql_type = BigInt)]
    bucket: i64,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// A row of a page with the count of every row the query matches
/// (`COUNT(*) OVER ()`).
#[derive(QueryableByName)]
struct CountedRow {
    #[diesel(embed)]
    resource: ResourceRow,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How a sort key is read and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Text,
    Num,
    Int,
}

/// A sort key value, as a cursor carries it.
#[derive(Debug, Clone, PartialEq)]
enum Key {
    Missing,
    Text(String),
    Num(f64),
    Int(i64),
}

/// The order of a query: by a key expression (missing values last ascending,
/// first descending), then by creation (`pk`).
struct Sort {
    key: Option<(Sql, KeyKind)>,
    descending: bool,
    /// Ties a cursor to the query shape it was issued for.
    fingerprint: String,
}

impl Sort {
    fn new(
        ctx: &Ctx,
        dialect: Dialect,
        resource_type: &str,
        query: &Query,
    ) -> Result<Sort, StoreError> {
        let descending = query.sort_order == SortOrder::Descending;
        let Some(path) = &query.sort_by else {
            return Ok(Sort {
                key: None,
                descending: false,
                fingerprint: format!("{resource_type}|"),
            });
        };
        let key = sort_key(ctx, dialect, resource_type, path)?;
        Ok(Sort {
            key: Some(key),
            descending,
            fingerprint: format!(
                "{resource_type}|{}|{}",
                path_text(path).to_lowercase(),
                if descending { "d" } else { "a" }
            ),
        })
    }

    fn kind(&self) -> Option<KeyKind> {
        self.key.as_ref().map(|(_, kind)| *kind)
    }

    /// The select list's key columns.
    fn select(&self, sql: &mut Sql) {
        let typed_null = |column: &str, kind: KeyKind| {
            let sql_type = match kind {
                KeyKind::Text => "TEXT",
                KeyKind::Num => "DOUBLE PRECISION",
                KeyKind::Int => "BIGINT",
            };
            format!("CAST(NULL AS {sql_type}) AS {column}")
        };
        for (column, kind) in [
            ("key_text", KeyKind::Text),
            ("key_num", KeyKind::Num),
            ("key_int", KeyKind::Int),
        ] {
            sql.push(", ");
            match &self.key {
                Some((expr, k)) if *k == kind => {
                    sql.push("(")
                        .append(expr.clone())
                        .push(&format!(") AS {column}"));
                }
                _ => {
                    sql.push(&typed_null(column, kind));
                }
            }
        }
    }

    fn order_by(&self, sql: &mut Sql) {
        sql.push(" ORDER BY ");
        if let Some((_, kind)) = &self.key {
            let column = key_column(*kind);
            if self.descending {
                sql.push(&format!("{column} DESC NULLS FIRST, "));
            } else {
                sql.push(&format!("{column} ASC NULLS LAST, "));
            }
        }
        sql.push("r.pk");
    }

    /// `AND (rows after the cursor's key and pk)`.
    fn after(&self, sql: &mut Sql, key: &Key, pk: i64) {
        sql.push(" AND ");
        let Some((expr, _)) = &self.key else {
            sql.push("r.pk > ").bind(pk);
            return;
        };
        let mut k = Sql::new("(");
        k.append(expr.clone()).push(")");
        let bind = match key {
            Key::Missing => None,
            Key::Text(text) => Some(Bind::from(text.as_str())),
            Key::Num(n) => Some(Bind::Float(*n)),
            Key::Int(n) => Some(Bind::Int(*n)),
        };
        match (bind, self.descending) {
            // Missing values come last ascending: after one, only later missing ones.
            (None, false) => {
                sql.push("(")
                    .append(k)
                    .push(" IS NULL AND r.pk > ")
                    .bind(pk)
                    .push(")");
            }
            // ... and first descending: then later missing ones, then every value.
            (None, true) => {
                sql.push("((")
                    .append(k.clone())
                    .push(" IS NULL AND r.pk > ")
                    .bind(pk)
                    .push(") OR ")
                    .append(k)
                    .push(" IS NOT NULL)");
            }
            (Some(value), descending) => {
                let beyond = if descending { " < " } else { " > " };
                sql.push("(")
                    .append(k.clone())
                    .push(beyond)
                    .bind(value.clone())
                    .push(" OR (")
                    .append(k.clone())
                    .push(" = ")
                    .bind(value)
                    .push(" AND r.pk > ")
                    .bind(pk)
                    .push(")");
                if !descending {
                    sql.push(" OR ").append(k).push(" IS NULL");
                }
                sql.push(")");
            }
        }
    }

    fn key_of(&self, row: &KeyedRow) -> Key {
        match self.kind() {
            None => Key::Missing,
            Some(KeyKind::Text) => row.key_text.clone().map_or(Key::Missing, Key::Text),
            Some(KeyKind::Num) => row.key_num.map_or(Key::Missing, Key::Num),
            Some(KeyKind::Int) => row.key_int.map_or(Key::Missing, Key::Int),
        }
    }

    fn encode(&self, key: &Key, pk: i64) -> String {
        let key = match key {
            Key::Missing => Value::Null,
            Key::Text(text) => text.clone().into(),
            Key::Num(n) => json!(n),
            Key::Int(n) => json!(n),
        };
        hex::encode(json!({ "q": self.fingerprint, "k": key, "p": pk }).to_string())
    }

    fn decode(&self, text: &str) -> Result<(Key, i64), StoreError> {
        let bytes = hex::decode(text).map_err(|_| StoreError::InvalidCursor)?;
        let state: Value = serde_json::from_slice(&bytes).map_err(|_| StoreError::InvalidCursor)?;
        if state.get("q").and_then(Value::as_str) != Some(self.fingerprint.as_str()) {
            return Err(StoreError::InvalidCursor);
        }
        let pk = state
            .get("p")
            .and_then(Value::as_i64)
            .ok_or(StoreError::InvalidCursor)?;
        let key = match (state.get("k"), self.kind()) {
            (Some(Value::Null), _) | (_, None) => Key::Missing,
            (Some(Value::String(text)), Some(KeyKind::Text)) => Key::Text(text.clone()),
            (Some(Value::Number(n)), Some(KeyKind::Num)) => {
                Key::Num(n.as_f64().ok_or(StoreError::InvalidCursor)?)
            }
            (Some(Value::Number(n)), Some(KeyKind::Int)) => {
                Key::Int(n.as_i64().ok_or(StoreError::InvalidCursor)?)
            }
            _ => return Err(StoreError::InvalidCursor),
        };
        Ok((key, pk))
    }
}

fn key_column(kind: KeyKind) -> &'static str {
    match kind {
        KeyKind::Text => "key_text",
        KeyKind::Num => "key_num",
        KeyKind::Int => "key_int",
    }
}

/// The SQL expression a resource sorts by (rule 12): like the memory store, the
/// primary (else first) element of a multi-valued attribute, the `value` of a
/// complex one; strings folded unless `caseExact`.
fn sort_key(
    ctx: &Ctx,
    dialect: Dialect,
    resource_type: &str,
    path: &AttrPath,
) -> Result<(Sql, KeyKind), StoreError> {
    let unsortable = || StoreError::InvalidFilter(format!("cannot sort by {}", path_text(path)));
    let schemas = ctx
        .registry
        .schemas_of(resource_type)
        .ok_or_else(unsortable)?;
    let resolved = schemas.resolve(path).ok_or_else(unsortable)?;
    let leaf = match resolved.sub_attribute {
        Some(sub) => sub,
        None if resolved.attribute.type_ == AttributeType::Complex => resolved
            .attribute
            .sub_attribute("value")
            .ok_or_else(unsortable)?,
        None => resolved.attribute,
    };
    let kind = match leaf.type_ {
        AttributeType::String | AttributeType::Reference => KeyKind::Text,
        AttributeType::Integer | AttributeType::Decimal => KeyKind::Num,
        AttributeType::Boolean | AttributeType::DateTime => KeyKind::Int,
        AttributeType::Binary | AttributeType::Complex => return Err(unsortable()),
    };
    let folded = |expr: String| {
        if leaf.case_exact || kind != KeyKind::Text {
            expr
        } else {
            format!("{FOLD_FN}({expr})")
        }
    };
    let core = matches!(resolved.origin, Origin::Core(_) | Origin::Common);
    let name = resolved.attribute.name.as_str();
    let sub = resolved.sub_attribute.map(|s| s.name.as_str());
    let column = |expr: &str| Ok((Sql::new(expr), kind));
    if core {
        match (name, sub) {
            ("id", None) => return column(&folded("r.id".into())),
            ("externalId", None) => return column(&folded("r.external_id".into())),
            ("userName", None) if resource_type == USER_TYPE => {
                return column(if leaf.case_exact {
                    "r.user_name"
                } else {
                    "r.user_name_folded"
                })
            }
            ("displayName", None) => {
                return column(if leaf.case_exact {
                    "r.display_name"
                } else {
                    "r.display_name_folded"
                })
            }
            ("active", None) => {
                return column("CASE WHEN r.active THEN 1 WHEN NOT r.active THEN 0 END")
            }
            ("meta", Some("created")) => return column("r.created"),
            ("meta", Some("lastModified")) => return column("r.last_modified"),
            ("meta", Some("resourceType")) => return column(&folded("r.resource_type".into())),
            ("emails", sub) if resource_type == USER_TYPE => {
                let expr = match sub.unwrap_or("value") {
                    "value" if !leaf.case_exact => "e.value_folded".to_owned(),
                    "value" => "e.value".to_owned(),
                    "type" => folded("e.type".into()),
                    "primary" => {
                        "CASE WHEN e.is_primary THEN 1 WHEN NOT e.is_primary THEN 0 END".into()
                    }
                    _ => return Err(unsortable()),
                };
                return column(&format!(
                    "SELECT {expr} FROM resource_emails e WHERE e.resource_pk = r.pk \
                     ORDER BY CASE WHEN e.is_primary THEN 0 ELSE 1 END, e.position LIMIT 1"
                ));
            }
            ("members", sub) if resource_type == GROUP_TYPE => {
                let expr = match sub.unwrap_or("value") {
                    "value" => folded("m.id".into()),
                    "type" => folded("m.resource_type".into()),
                    _ => return Err(unsortable()),
                };
                return column(&format!(
                    "SELECT {expr} FROM group_members gm JOIN resources m ON m.pk = gm.member_pk \
                     WHERE gm.group_pk = r.pk ORDER BY gm.seq LIMIT 1"
                ));
            }
            _ => {}
        }
    }
    // Other attributes: read from the JSON. Multi-valued ones (beyond emails) sort
    // by their first element (see the crate docs), date-times by their instant.
    let mut keys = Vec::with_capacity(4);
    if let Some(urn) = resolved.extension_urn() {
        keys.push(urn.to_owned());
    }
    keys.push(resolved.attribute.name.clone());
    if resolved.attribute.multi_valued {
        keys.push("0".to_owned());
    }
    if resolved.sub_attribute.is_some() || resolved.attribute.type_ == AttributeType::Complex {
        keys.push(leaf.name.clone());
    }
    if keys.iter().any(|k| k.contains('"')) {
        return Err(unsortable());
    }
    let mut sql = Sql::default();
    let json_type_is = |sql: &mut Sql, types: &[&str]| match dialect {
        Dialect::Sqlite => {
            sql.push("CASE WHEN json_type(r.data, ")
                .bind(sqlite_path(&keys))
                .push(") IN ");
            sql.bind_list(types.iter().map(|t| Bind::from(*t)));
            sql.push(" THEN ");
        }
        Dialect::Postgres => {
            sql.push("CASE WHEN jsonb_typeof(");
            pg_extract(sql, "jsonb_extract_path", &keys);
            sql.push(") IN ");
            sql.bind_list(types.iter().map(|t| Bind::from(*t)));
            sql.push(" THEN ");
        }
    };
    match (kind, leaf.type_) {
        (KeyKind::Text, _) => {
            let types: &[&str] = if dialect == Dialect::Sqlite {
                &["text"]
            } else {
                &["string"]
            };
            json_type_is(&mut sql, types);
            let fold = !leaf.case_exact;
            if fold {
                sql.push(FOLD_FN).push("(");
            }
            push_text(dialect, &mut sql, &keys);
            if fold {
                sql.push(")");
            }
            if dialect == Dialect::Postgres {
                sql.push(" COLLATE \"C\"");
            }
            sql.push(" END");
        }
        (KeyKind::Num, _) => {
            let types: &[&str] = if dialect == Dialect::Sqlite {
                &["integer", "real"]
            } else {
                &["number"]
            };
            json_type_is(&mut sql, types);
            match dialect {
                Dialect::Sqlite => {
                    sql.push("r.data ->> ").bind(sqlite_path(&keys));
                }
                Dialect::Postgres => {
                    sql.push("(");
                    pg_extract(&mut sql, "jsonb_extract_path_text", &keys);
                    sql.push(")::float8");
                }
            }
            sql.push(" END");
        }
        (KeyKind::Int, AttributeType::Boolean) => {
            let types: &[&str] = if dialect == Dialect::Sqlite {
                &["true", "false"]
            } else {
                &["boolean"]
            };
            json_type_is(&mut sql, types);
            match dialect {
                Dialect::Sqlite => {
                    sql.push("r.data ->> ").bind(sqlite_path(&keys));
                }
                Dialect::Postgres => {
                    sql.push("CASE WHEN (");
                    pg_extract(&mut sql, "jsonb_extract_path_text", &keys);
                    sql.push(") = 'true' THEN 1 ELSE 0 END");
                }
            }
            sql.push(" END");
        }
        // A date-time in the JSON: sorted by the instant it names.
        (KeyKind::Int, _) => {
            let types: &[&str] = if dialect == Dialect::Sqlite {
                &["text"]
            } else {
                &["string"]
            };
            json_type_is(&mut sql, types);
            sql.push(INSTANT_FN).push("(");
            push_text(dialect, &mut sql, &keys);
            sql.push(") END");
        }
    }
    Ok((sql, kind))
}

fn push_text(dialect: Dialect, sql: &mut Sql, keys: &[String]) {
    match dialect {
        Dialect::Sqlite => {
            sql.push("(r.data ->> ").bind(sqlite_path(keys)).push(")");
        }
        Dialect::Postgres => {
            pg_extract(sql, "jsonb_extract_path_text", keys);
        }
    }
}

fn pg_extract(sql: &mut Sql, function: &str, keys: &[String]) {
    sql.push(function).push("(r.data");
    for key in keys {
        sql.push(", ").bind(key.as_str());
    }
    sql.push(")");
}

fn sqlite_path(keys: &[String]) -> String {
    let mut path = String::from("$");
    for key in keys {
        if key.bytes().all(|b| b.is_ascii_digit()) {
            path.push('[');
            path.push_str(key);
            path.push(']');
        } else {
            path.push_str(".\"");
            path.push_str(key);
            path.push('"');
        }
    }
    path
}

fn path_text(path: &AttrPath) -> String {
    let mut text = String::new();
    if let Some(schema) = &path.schema {
        text.push_str(schema);
        text.push(':');
    }
    text.push_str(&path.name);
    if let Some(sub_attr) = &path.sub_attr {
        text.push('.');
        text.push_str(sub_attr);
    }
    text
}

/// Runs a query: in one read transaction, unless it is one statement.
pub(crate) fn run(
    pools: &Pools,
    ctx: &Ctx,
    resource_type: &str,
    query: &Query,
) -> Result<Page, Failure> {
    let resource_type = ctx.resource_type(resource_type)?;
    // The shared rules of what is `invalidFilter` (rules 11 and 12).
    query.check(&ctx.registry, &resource_type)?;
    let dialect = pools.backend().dialect();
    let translator = Translator::new(dialect, &ctx.registry, &resource_type)?;
    let pushdown = query
        .filter
        .as_ref()
        .map(|filter| translator.filter(filter))
        .transpose()?;
    let sort = Sort::new(ctx, dialect, &resource_type, query)?;
    let cursor = match &query.paging {
        Paging::Cursor {
            cursor: Some(text), ..
        } => Some(sort.decode(text)?),
        _ => None,
    };
    let plan = Plan {
        ctx,
        resource_type: &resource_type,
        query,
        pushdown,
        sort,
        cursor,
    };
    if plan.single_statement() {
        // A manager's name (rule 19) is read by a second statement, at read time
        // in any case; a page past the end counts apart, with no rows to disagree.
        pools.with_conn(|conn| plan.execute(conn))
    } else {
        pools.read(|conn| plan.execute(conn))
    }
}

struct Plan<'a> {
    ctx: &'a Ctx,
    resource_type: &'a str,
    query: &'a Query,
    pushdown: Option<Pushdown>,
    sort: Sort,
    cursor: Option<(Key, i64)>,
}

impl Plan<'_> {
    fn execute(&self, conn: &mut Conn<'_>) -> Result<Page, Failure> {
        match &self.pushdown {
            Some(pushdown) if !pushdown.exact => self.finish_in_memory(conn),
            _ => self.in_sql(conn),
        }
    }

    /// `FROM resources r WHERE <tenant, type> AND <filter>`.
    fn push_from_where(&self, sql: &mut Sql) {
        sql.push(" FROM resources r WHERE r.tenant_id = ")
            .bind(self.ctx.tenant.as_str())
            .push(" AND r.resource_type = ")
            .bind(self.resource_type);
        if let Some(pushdown) = &self.pushdown {
            sql.push(" AND ");
            pushdown.cond.render(sql);
        }
    }

    fn select(&self, dialect: Dialect) -> Sql {
        let mut sql = Sql::new("SELECT ");
        sql.push(&ResourceRow::columns(dialect));
        self.sort.select(&mut sql);
        self.push_from_where(&mut sql);
        sql
    }

    fn total(&self, conn: &mut Conn<'_>) -> Result<usize, Failure> {
        let n = if self.pushdown.is_none() {
            rows::count(conn, &self.ctx.tenant, self.resource_type)?
        } else {
            let mut sql = Sql::new("SELECT COUNT(*) AS n");
            self.push_from_where(&mut sql);
            conn.first::<CountRow>(sql)?.map_or(0, |row| row.n)
        };
        Ok(usize::try_from(n).unwrap_or_default())
    }

    /// The filter is exact: count, sort and page in SQL.
    fn in_sql(&self, conn: &mut Conn<'_>) -> Result<Page, Failure> {
        if let (Some(_), Paging::Index { start_index, count }) =
            (&self.pushdown, &self.query.paging)
        {
            if *count > 0 {
                return self.counted_page(conn, (*start_index).max(1), *count);
            }
        }
        let total = self.total(conn)?;
        match &self.query.paging {
            Paging::Index { start_index, count } => {
                let start = (*start_index).max(1);
                let rows = if *count == 0 || start > total {
                    Vec::new()
                } else {
                    self.page_at(conn, start - 1, *count)?
                };
                let resources = self.resources(conn, rows)?;
                Ok(Page::index(resources, total, start))
            }
            Paging::Cursor { count, .. } => {
                let mut rows = if *count == 0 {
                    Vec::new()
                } else {
                    let mut sql = self.select(conn.dialect());
                    if let Some((key, pk)) = &self.cursor {
                        self.sort.after(&mut sql, key, *pk);
                    }
                    self.sort.order_by(&mut sql);
                    push_limit(&mut sql, count.saturating_add(1));
                    conn.load::<KeyedRow>(sql)?
                };
                let next_cursor = if rows.len() > *count {
                    rows.truncate(*count);
                    rows.last()
                        .map(|last| self.sort.encode(&self.sort.key_of(last), last.resource.pk))
                } else {
                    None
                };
                let resources =
                    self.resources(conn, rows.into_iter().map(|r| r.resource).collect())?;
                Ok(Page::cursor(resources, total, next_cursor))
            }
        }
    }

    /// A filtered index page and its total in one statement: the filter is
    /// evaluated over the candidates once, not once to count and again to page,
    /// and the page's rows are joined to its keys, so only they are read whole.
    /// Only a page past the end (no row to carry the total) counts separately.
    fn counted_page(
        &self,
        conn: &mut Conn<'_>,
        start: usize,
        count: usize,
    ) -> Result<Page, Failure> {
        let sql = if self.pins_one_row() {
            // Nothing to page past: the row is read whole where it is found.
            let head = format!(
                "SELECT {}, COUNT(*) OVER () AS total",
                ResourceRow::columns(conn.dialect())
            );
            self.page_keys(&head, None, start - 1, count)
        } else {
            let keys = self.page_keys(
                "SELECT r.pk, COUNT(*) OVER () AS total",
                None,
                start - 1,
                count,
            );
            let mut sql = Sql::new("SELECT ");
            sql.push(&ResourceRow::columns(conn.dialect()))
                .push(", p.total FROM (")
                .append(keys)
                .push(") p JOIN resources r ON r.pk = p.pk");
            // The subquery's order does not survive the join: sort the page
            // again (its key columns are the subquery's, the tie-break `r.pk`
            // the row's).
            self.sort.order_by(&mut sql);
            sql
        };
        let rows = conn.load::<CountedRow>(sql)?;
        let total = match rows.first() {
            Some(row) => usize::try_from(row.total).unwrap_or_default(),
            None => self.total(conn)?,
        };
        let rows = rows
            .into_iter()
            .take(count)
            .map(|row| row.resource)
            .collect();
        let resources = self.resources(conn, rows)?;
        Ok(Page::index(resources, total, start))
    }

    /// Whether the filter matches one row at most, through a unique index: a
    /// user's `userName eq` (folded, as the index is) or `id eq` (the lookups
    /// identity providers make before every create). Such a page is read
    /// without the join that keeps a long match from being read whole.
    fn pins_one_row(&self) -> bool {
        let Some(Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::String(_),
        }) = &self.query.filter
        else {
            return false;
        };
        let plain = path.schema.is_none() && path.sub_attr.is_none();
        plain
            && (path.name.eq_ignore_ascii_case("id")
                || (self.resource_type == USER_TYPE && path.name.eq_ignore_ascii_case("userName")))
    }

    /// Whether this query reads in one statement, and so needs no transaction
    /// for its rows and total to agree: a filtered index page
    /// ([`Plan::counted_page`]) of resources without member lists (a group's
    /// members are read by a second statement, and must belong to the version
    /// read by the first).
    fn single_statement(&self) -> bool {
        let counted = matches!(
            (&self.pushdown, &self.query.paging),
            (Some(pushdown), Paging::Index { count, .. }) if pushdown.exact && *count > 0
        );
        counted
            && !schema_ops::returns_members(self.ctx, self.resource_type, &self.query.projection)
    }

    /// `count` rows from `offset` on. The offset is walked over the primary keys
    /// only (an index scan that reads no row), then the page's rows are read by
    /// key: a deep page costs the walk, not the reading of every skipped row. In
    /// creation order without a filter, the walk starts at the bucket holding the
    /// page's first row (`bucket_seek`), so it is short.
    fn page_at(
        &self,
        conn: &mut Conn<'_>,
        offset: usize,
        count: usize,
    ) -> Result<Vec<ResourceRow>, Failure> {
        let keys = match self.bucket_seek(conn, offset)? {
            Some((first_pk, skip)) => self.page_keys("SELECT r.pk", Some(first_pk), skip, count),
            None => self.page_keys("SELECT r.pk", None, offset, count),
        };
        let pks: Vec<i64> = conn
            .load::<PkRow>(keys)?
            .into_iter()
            .take(count)
            .map(|r| r.pk)
            .collect();
        self.rows_by_pk(conn, &pks)
    }

    /// For an unfiltered query in creation order, where row `offset` lies: the
    /// first `pk` of its finest bucket and how many of the bucket's rows precede
    /// it. `None` when the query has a filter or a sort key, the offset is within
    /// a bucket's reach of the start anyway, or the counts disagree (a write
    /// between two statements): then the caller walks from the start.
    fn bucket_seek(
        &self,
        conn: &mut Conn<'_>,
        offset: usize,
    ) -> Result<Option<(i64, usize)>, Failure> {
        let finest = rows::BUCKET_SHIFTS[rows::BUCKET_SHIFTS.len() - 1];
        if self.pushdown.is_some() || self.sort.key.is_some() || offset < 1 << finest {
            return Ok(None);
        }
        let mut skip = to_i64(offset);
        let mut within: Option<i64> = None;
        for (level, shift) in rows::BUCKET_SHIFTS.into_iter().enumerate() {
            let mut sql = Sql::new(
                "SELECT bucket, CAST(SUM(n) AS BIGINT) AS n FROM resource_buckets WHERE tenant_id = ",
            );
            sql.bind(self.ctx.tenant.as_str())
                .push(" AND resource_type = ")
                .bind(self.resource_type)
                .push(" AND shift = ")
                .bind(i64::from(shift));
            if let Some(first_pk) = within {
                let coarser = rows::BUCKET_SHIFTS[level - 1];
                sql.push(" AND bucket >= ")
                    .bind(first_pk >> shift)
                    .push(" AND bucket < ")
                    .bind((first_pk + (1 << coarser)) >> shift);
            }
            sql.push(" GROUP BY bucket ORDER BY bucket");
            let mut found = None;
            for bucket in conn.load::<BucketRow>(sql)? {
                if skip < bucket.n {
                    found = Some(bucket.bucket << shift);
                    break;
                }
                skip -= bucket.n;
            }
            let Some(first_pk) = found else {
                return Ok(None);
            };
            within = Some(first_pk);
        }
        Ok(within.map(|first_pk| (first_pk, usize::try_from(skip).unwrap_or_default())))
    }

    /// `head` (selecting `r.pk` first) over the matching rows in order, from
    /// `offset` (counted from `first_pk` on, if given), at least `count` of them.
    fn page_keys(&self, head: &str, first_pk: Option<i64>, offset: usize, count: usize) -> Sql {
        let mut keys = Sql::new(head);
        self.sort.select(&mut keys);
        self.push_from_where(&mut keys);
        if let Some(first_pk) = first_pk {
            keys.push(" AND r.pk >= ").bind(first_pk);
        }
        self.sort.order_by(&mut keys);
        // A power of two: a few statement texts whatever the page sizes asked for;
        // the surplus keys cost an index step each.
        push_limit(
            &mut keys,
            count.checked_next_power_of_two().unwrap_or(count),
        );
        keys.push(" OFFSET ").bind(to_i64(offset));
        keys
    }

    /// The rows of `pks`, in that order.
    fn rows_by_pk(&self, conn: &mut Conn<'_>, pks: &[i64]) -> Result<Vec<ResourceRow>, Failure> {
        if pks.is_empty() {
            return Ok(Vec::new());
        }
        let mut rows = Sql::new("SELECT ");
        rows.push(&ResourceRow::columns(conn.dialect()))
            .push(" FROM resources r WHERE r.pk IN ")
            .bind_list(pks.iter().map(|pk| Bind::Int(*pk)));
        let mut by_pk: HashMap<i64, ResourceRow> = conn
            .load::<ResourceRow>(rows)?
            .into_iter()
            .map(|row| (row.pk, row))
            .collect();
        Ok(pks.iter().filter_map(|pk| by_pk.remove(pk)).collect())
    }

    /// The filter is a superset: read every candidate in order, keep those the
    /// evaluator accepts, then count and page.
    fn finish_in_memory(&self, conn: &mut Conn<'_>) -> Result<Page, Failure> {
        let Some(filter) = &self.query.filter else {
            return self.in_sql(conn);
        };
        let mut sql = self.select(conn.dialect());
        self.sort.order_by(&mut sql);
        let candidates = conn.load::<KeyedRow>(sql)?;
        let members = if self.resource_type == GROUP_TYPE && mentions_attribute(filter, "members") {
            let pks: Vec<i64> = candidates.iter().map(|c| c.resource.pk).collect();
            member_rows::members_of_groups(conn, &pks)?
        } else {
            HashMap::new()
        };
        let mut matched = Vec::new();
        for candidate in candidates {
            let resource = candidate
                .resource
                .resource(members.get(&candidate.resource.pk).cloned())?;
            if schema_ops::matches(self.ctx, self.resource_type, filter, &resource) {
                matched.push(candidate);
            }
        }
        let total = matched.len();
        match &self.query.paging {
            Paging::Index { start_index, count } => {
                let start = (*start_index).max(1);
                let page = matched
                    .into_iter()
                    .skip(start - 1)
                    .take(*count)
                    .map(|c| c.resource)
                    .collect();
                let resources = self.resources(conn, page)?;
                Ok(Page::index(resources, total, start))
            }
            Paging::Cursor { count, .. } => {
                // SQL knows the order: ask it which candidates follow the cursor.
                let mut order: Option<HashSet<i64>> = None;
                if let Some((key, pk)) = &self.cursor {
                    let mut sql = Sql::new("SELECT r.pk");
                    self.sort.select(&mut sql);
                    self.push_from_where(&mut sql);
                    self.sort.after(&mut sql, key, *pk);
                    order = Some(conn.load::<PkRow>(sql)?.into_iter().map(|r| r.pk).collect());
                }
                let mut page: Vec<KeyedRow> = matched
                    .into_iter()
                    .filter(|c| {
                        order
                            .as_ref()
                            .is_none_or(|after| after.contains(&c.resource.pk))
                    })
                    .take(count.saturating_add(1))
                    .collect();
                let next_cursor = if page.len() > *count {
                    page.truncate(*count);
                    page.last()
                        .map(|last| self.sort.encode(&self.sort.key_of(last), last.resource.pk))
                } else {
                    None
                };
                let resources =
                    self.resources(conn, page.into_iter().map(|c| c.resource).collect())?;
                Ok(Page::cursor(resources, total, next_cursor))
            }
        }
    }

    /// The page's rows as projected resources, with members when returned.
    fn resources(
        &self,
        conn: &mut Conn<'_>,
        page: Vec<ResourceRow>,
    ) -> Result<Vec<Value>, Failure> {
        let projection = &self.query.projection;
        let mut members = if schema_ops::returns_members(self.ctx, self.resource_type, projection) {
            let pks: Vec<i64> = page.iter().map(|row| row.pk).collect();
            Some(member_rows::members_of_groups(conn, &pks)?)
        } else {
            None
        };
        let resources = page
            .into_iter()
            .map(|row| {
                let group_members = members
                    .as_mut()
                    .map(|by_group| by_group.remove(&row.pk).unwrap_or_default());
                row.resource(group_members)
            })
            .collect::<Result<Vec<Value>, _>>()?;
        // Rule 19: the managers' current names, in one query for the page.
        let managers: Vec<&str> = resources
            .iter()
            .filter_map(derive::manager_id)
            .collect::<HashSet<&str>>()
            .into_iter()
            .collect();
        let names = if managers.is_empty() {
            HashMap::new()
        } else {
            member_rows::user_display_names(conn, &self.ctx.tenant, &managers)?
        };
        Ok(resources
            .into_iter()
            .map(|mut resource| {
                if let Some(manager) = derive::manager_id(&resource).map(str::to_owned) {
                    let name = names.get(&manager).map(String::as_str);
                    derive::set_manager_display_name(&mut resource, name);
                }
                schema_ops::project(self.ctx, self.resource_type, resource, projection)
            })
            .collect())
    }
}

/// ` LIMIT count`, written as an integer literal: SQLite plans with the value of
/// a bound `LIMIT` and then re-prepares the statement after every bind (a fifth
/// of the CPU of an indexed lookup). The number is the store's own, never request
/// text. Each distinct text is a prepared statement cached per connection, so
/// callers keep the set of values small; `OFFSET` stays bound (SQLite does not
/// plan with it).
fn push_limit(sql: &mut Sql, count: usize) {
    sql.push(&format!(" LIMIT {}", to_i64(count)));
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
