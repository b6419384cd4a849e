//! Reading and writing resource rows, their email rows, counts and archived
//! users. Membership rows are in `member_rows.rs`, events in `event_rows.rs`.
//! Every function runs inside the caller's transaction.

use diesel::sql_types::{BigInt, Text};
use diesel::QueryableByName;
use scimitar_store::meta::{self, ResourceMeta};
use scimitar_store::{derive, Archived, StoreError};
use serde_json::{Map, Value};

use crate::connection::Conn;
use crate::error::{DieselError, Failure};
use crate::schema_ops::Ctx;
use crate::sql::{fold, Dialect, Sql, Value as Bind};
use crate::time::from_nanos;

pub(crate) use scimitar_store::write::{GROUP_TYPE, USER_TYPE};

/// Most values bound in one statement (SQLite allows 32,766, PostgreSQL 65,535).
pub(crate) const CHUNK: usize = 500;

/// A resource row, without `data` parsed.
#[derive(Debug, QueryableByName)]
pub(crate) struct ResourceRow {
    #[diesel(sql_type = BigInt)]
    pub(crate) pk: i64,
    #[diesel(sql_type = Text)]
    pub(crate) id: String,
    #[diesel(sql_type = Text)]
    pub(crate) resource_type: String,
    #[diesel(sql_type = BigInt)]
    pub(crate) created: i64,
    #[diesel(sql_type = BigInt)]
    pub(crate) last_modified: i64,
    #[diesel(sql_type = BigInt)]
    pub(crate) version: i64,
    #[diesel(sql_type = Text)]
    pub(crate) data: String,
}

impl ResourceRow {
    /// The select list for `ResourceRow`, reading table alias `r`.
    pub(crate) fn columns(dialect: Dialect) -> String {
        format!(
            "r.pk, r.id, r.resource_type, r.created, r.last_modified, r.version, {} AS data",
            dialect.document_text("r.data")
        )
    }

    /// The stored attributes (`data`).
    pub(crate) fn body(&self) -> Result<Value, DieselError> {
        serde_json::from_str(&self.data).map_err(DieselError::CorruptJson)
    }

    pub(crate) fn version_tag(&self) -> String {
        meta::version_tag(u64::try_from(self.version).unwrap_or_default())
    }

    pub(crate) fn meta(&self) -> Result<ResourceMeta, DieselError> {
        Ok(ResourceMeta {
            resource_type: self.resource_type.clone(),
            created: from_nanos(self.created)?,
            last_modified: from_nanos(self.last_modified)?,
            version: self.version_tag(),
        })
    }

    /// The resource as clients see it before projection: `data` with `id` and
    /// `meta`, and `members` when given.
    pub(crate) fn resource(&self, members: Option<Vec<Value>>) -> Result<Value, DieselError> {
        let resource = meta::stamp(self.body()?, &self.id, &self.meta()?);
        Ok(match members {
            Some(members) if !members.is_empty() => with_members(resource, members),
            _ => resource,
        })
    }
}

/// `resource` with `members` inserted before `meta`, which conventionally comes last.
pub(crate) fn with_members(resource: Value, members: Vec<Value>) -> Value {
    let Value::Object(mut fields) = resource else {
        return resource;
    };
    let meta = fields.remove("meta");
    fields.insert("members".into(), Value::Array(members));
    if let Some(meta) = meta {
        fields.insert("meta".into(), meta);
    }
    Value::Object(fields)
}

/// `object[name]`, with `name` in any case (as the filter evaluator looks it up).
pub(crate) fn field<'v>(object: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    })
}

/// The copies of attributes a resource row keeps in columns.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Columns {
    user_name: Option<String>,
    external_id: Option<String>,
    display_name: Option<String>,
    active: Option<bool>,
    manager_id: Option<String>,
    /// A user's `name.givenName` and `name.familyName`, which admins and some
    /// identity providers filter and sort on.
    given_name: Option<String>,
    family_name: Option<String>,
    emails: Vec<Email>,
}

#[derive(Debug, PartialEq)]
struct Email {
    value: Option<String>,
    kind: Option<String>,
    primary: Option<bool>,
}

impl Columns {
    /// The columns of a body of `resource_type`. `userName` is kept (and unique)
    /// for users only, as rule 10 asks.
    pub(crate) fn of(resource_type: &str, body: &Value) -> Columns {
        let Value::Object(object) = body else {
            return Columns::default();
        };
        let text = |name| {
            field(object, name)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let emails = match field(object, "emails") {
            Some(Value::Array(emails)) => emails
                .iter()
                .filter_map(Value::as_object)
                .map(|email| Email {
                    value: field(email, "value")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    kind: field(email, "type")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    primary: field(email, "primary").and_then(Value::as_bool),
                })
                .collect(),
            _ => Vec::new(),
        };
        let name_part = |part| match field(object, "name") {
            Some(Value::Object(name)) if resource_type == USER_TYPE => {
                field(name, part).and_then(Value::as_str).map(str::to_owned)
            }
            _ => None,
        };
        Columns {
            user_name: if resource_type == USER_TYPE {
                text("userName")
            } else {
                None
            },
            given_name: name_part("givenName"),
            family_name: name_part("familyName"),
            external_id: text("externalId"),
            display_name: text("displayName"),
            active: field(object, "active").and_then(Value::as_bool),
            manager_id: if resource_type == USER_TYPE {
                derive::manager_id(body).map(str::to_owned)
            } else {
                None
            },
            emails,
        }
    }
}

/// PostgreSQL: serializes the writes of one tenant that derive teams: rebuilds,
/// and user writes under `TeamMode::Department`, which create, fill and delete
/// shared team rows. Other writes lock only the rows they change (see
/// [`RowLock`]). SQLite serializes all writes already.
pub(crate) fn lock_tenant(conn: &mut Conn<'_>, tenant: &str) -> Result<(), Failure> {
    if conn.dialect() == Dialect::Postgres {
        // The two-key form: a key space apart from the migration lock's.
        let mut sql = Sql::new("SELECT pg_advisory_xact_lock(1935894893, hashtext(");
        sql.bind(tenant).push("))");
        conn.execute(sql)?;
    }
    Ok(())
}

/// [`lock_tenant`] when the tenant's teams are derived.
pub(crate) fn lock_tenant_if_derived(conn: &mut Conn<'_>, ctx: &Ctx) -> Result<(), Failure> {
    if ctx.settings.teams.is_derived() {
        lock_tenant(conn, &ctx.tenant)?;
    }
    Ok(())
}

/// The row lock a write takes on the resource it reads first (PostgreSQL), held
/// to its commit: writes of one resource run one after another, and its events
/// are written in commit order (`event_rows`, "Why events settle").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowLock {
    /// A change of the row: `FOR NO KEY UPDATE`, which lets a concurrent write
    /// that only references it (a member added to a group) go on.
    Change,
    /// A delete: `FOR UPDATE`, which waits for writes referencing the row.
    Delete,
    /// A reference to the row from another (a user's manager, a group's
    /// member): `FOR KEY SHARE`, so that a delete waits for the write and then
    /// sees the reference (and clears it), or goes first and the write finds
    /// the row gone.
    Reference,
}

impl RowLock {
    pub(crate) fn clause(self, dialect: Dialect) -> &'static str {
        match (dialect, self) {
            (Dialect::Sqlite, _) => "",
            (Dialect::Postgres, RowLock::Change) => " FOR NO KEY UPDATE OF r",
            (Dialect::Postgres, RowLock::Delete) => " FOR UPDATE OF r",
            (Dialect::Postgres, RowLock::Reference) => " FOR KEY SHARE OF r",
        }
    }
}

/// The row of `resource_type`/`id` in `tenant`, if any.
pub(crate) fn find(
    conn: &mut Conn<'_>,
    tenant: &str,
    resource_type: &str,
    id: &str,
) -> Result<Option<ResourceRow>, Failure> {
    find_with(conn, tenant, resource_type, id, "")
}

fn find_with(
    conn: &mut Conn<'_>,
    tenant: &str,
    resource_type: &str,
    id: &str,
    lock: &str,
) -> Result<Option<ResourceRow>, Failure> {
    if id.contains('\0') {
        // Never stored (PostgreSQL text cannot hold it).
        return Ok(None);
    }
    let mut sql = Sql::new(&format!(
        "SELECT {} FROM resources r WHERE r.tenant_id = ",
        ResourceRow::columns(conn.dialect())
    ));
    // The type is checked here, not in SQL: on the tenant and `id` alone, the
    // unique index `resources_id` is the one index that matches, so PostgreSQL
    // picks it without statistics. With `resource_type` in the condition, a
    // never-analysed table was read through any `(tenant_id, resource_type, ...)`
    // index, every row of the tenant (10x slower at 5,000 users).
    sql.bind(tenant).push(" AND r.id = ").bind(id).push(lock);
    let row: Option<ResourceRow> = conn.first(sql)?;
    Ok(row.filter(|row| row.resource_type == resource_type))
}

/// Like [`find`], with the row locked by the write about to change or reference it.
pub(crate) fn find_locked(
    conn: &mut Conn<'_>,
    tenant: &str,
    resource_type: &str,
    id: &str,
    lock: RowLock,
) -> Result<Option<ResourceRow>, Failure> {
    let lock = lock.clause(conn.dialect());
    find_with(conn, tenant, resource_type, id, lock)
}

/// Like [`get`], with the row locked by the write about to change it.
pub(crate) fn get_locked(
    conn: &mut Conn<'_>,
    tenant: &str,
    resource_type: &str,
    id: &str,
    lock: RowLock,
) -> Result<ResourceRow, Failure> {
    find_locked(conn, tenant, resource_type, id, lock)?
        .ok_or_else(|| StoreError::not_found(resource_type, id).into())
}

/// Like [`find`], `NotFound` when missing.
pub(crate) fn get(
    conn: &mut Conn<'_>,
    tenant: &str,
    resource_type: &str,
    id: &str,
) -> Result<ResourceRow, Failure> {
    find(conn, tenant, resource_type, id)?
        .ok_or_else(|| StoreError::not_found(resource_type, id).into())
}

/// The user already holding `body`'s `userName` (folded), if any.
pub(crate) fn user_name_holder(
    conn: &mut Conn<'_>,
    tenant: &str,
    resource_type: &str,
    body: &Value,
) -> Result<Option<ResourceRow>, Failure> {
    let Some(user_name) = Columns::of(resource_type, body).user_name else {
        return Ok(None);
    };
    let mut sql = Sql::new(&format!(
        "SELECT {} FROM resources r WHERE ",
        ResourceRow::columns(conn.dialect())
    ));
    push_user_name_is(&mut sql, tenant, resource_type, &user_name);
    Ok(conn.first(sql)?)
}

/// The condition that row `r` holds `user_name` (folded, as the unique index
/// holds it) among `tenant`'s `resource_type`s.
fn push_user_name_is(sql: &mut Sql, tenant: &str, resource_type: &str, user_name: &str) {
    sql.push("r.tenant_id = ")
        .bind(tenant)
        .push(" AND r.resource_type = ")
        .bind(resource_type)
        .push(" AND r.user_name_folded = ")
        .bind(fold(user_name));
}

/// Of the folded `userName`s `folded` (of `resource_type`), those `tenant`
/// already has: one query for a batch of creates.
pub(crate) fn taken_user_names(
    conn: &mut Conn<'_>,
    tenant: &str,
    resource_type: &str,
    folded: &[String],
) -> Result<std::collections::HashSet<String>, Failure> {
    #[derive(QueryableByName)]
    struct Taken {
        #[diesel(sql_type = diesel::sql_types::Text)]
        user_name_folded: String,
    }
    if folded.is_empty() {
        return Ok(std::collections::HashSet::new());
    }
    let mut sql = Sql::new("SELECT user_name_folded FROM resources WHERE tenant_id = ");
    sql.bind(tenant)
        .push(" AND resource_type = ")
        .bind(resource_type)
        .push(" AND user_name_folded IN ");
    sql.bind_list(folded.iter().map(|name| Bind::from(name.clone())));
    Ok(conn
        .load::<Taken>(sql)?
        .into_iter()
        .map(|row| row.user_name_folded)
        .collect())
}

/// The folded `userName` of a `resource_type` body, if it has one.
pub(crate) fn folded_user_name(resource_type: &str, body: &Value) -> Option<String> {
    Columns::of(resource_type, body)
        .user_name
        .map(|name| fold(&name))
}

/// How a new resource row came about.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Origin<'a> {
    /// The client whose create made it (rule 10's replays).
    pub(crate) client: Option<&'a str>,
    /// A team derived from user attributes (rule 21).
    pub(crate) derived: bool,
}

#[derive(QueryableByName)]
struct CreatedBy {
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    created_by: Option<String>,
}

#[derive(QueryableByName)]
struct Derived {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    derived: bool,
}

/// Whether row `pk` is a team derived from user attributes (rule 21).
pub(crate) fn is_derived(conn: &mut Conn<'_>, pk: i64) -> Result<bool, Failure> {
    let mut sql = Sql::new("SELECT derived FROM resources WHERE pk = ");
    sql.bind(pk);
    Ok(conn.first::<Derived>(sql)?.is_some_and(|row| row.derived))
}

/// The client that created row `pk`, if one was recorded.
pub(crate) fn created_by(conn: &mut Conn<'_>, pk: i64) -> Result<Option<String>, Failure> {
    let mut sql = Sql::new("SELECT created_by FROM resources WHERE pk = ");
    sql.bind(pk);
    Ok(conn.first::<CreatedBy>(sql)?.and_then(|row| row.created_by))
}

#[derive(QueryableByName)]
pub(crate) struct Pk {
    #[diesel(sql_type = BigInt)]
    pub(crate) pk: i64,
}

/// A resource row to insert. `text` is `body` serialised (done by the caller,
/// before the writer turn).
pub(crate) struct NewRow<'a> {
    pub(crate) tenant: &'a str,
    pub(crate) resource_type: &'a str,
    pub(crate) id: &'a str,
    pub(crate) body: &'a Value,
    pub(crate) text: &'a str,
    pub(crate) at: i64,
    pub(crate) origin: Origin<'a>,
}

/// The `INSERT` of `resources` up to its rows.
const INSERT_RESOURCE: &str = "INSERT INTO resources (tenant_id, resource_type, id, user_name, \
     user_name_folded, external_id, display_name, display_name_folded, active, manager_id, \
     given_name, given_name_folded, family_name, family_name_folded, created, last_modified, \
     derived, created_by, version, data) ";

impl NewRow<'_> {
    /// The values for [`INSERT_RESOURCE`], comma-separated; `columns` are the
    /// body's column copies.
    fn push_values(&self, sql: &mut Sql, dialect: Dialect, columns: &Columns) {
        sql.bind(self.tenant)
            .push(", ")
            .bind(self.resource_type)
            .push(", ")
            .bind(self.id)
            .push(", ");
        push_column_values(sql, columns);
        sql.push(", ")
            .bind(self.at)
            .push(", ")
            .bind(self.at)
            .push(", ")
            .bind(self.origin.derived)
            .push(", ")
            .bind(self.origin.client.map(str::to_owned))
            .push(", 1, ");
        dialect.push_document(sql, self.text);
    }
}

/// Inserts a resource row and its emails; returns its `pk`.
pub(crate) fn insert(conn: &mut Conn<'_>, row: &NewRow<'_>) -> Result<i64, Failure> {
    let columns = Columns::of(row.resource_type, row.body);
    // PostgreSQL: the emails go in with the row, one round trip for both.
    let emails_with_row = conn.dialect() == Dialect::Postgres && !columns.emails.is_empty();
    let mut sql = Sql::new(if emails_with_row {
        "WITH inserted AS ("
    } else {
        ""
    });
    sql.push(INSERT_RESOURCE).push("VALUES (");
    row.push_values(&mut sql, conn.dialect(), &columns);
    sql.push(") RETURNING pk");
    if emails_with_row {
        sql.push("), ");
        push_emails_of(&mut sql, "inserted", &columns.emails);
        sql.push(" SELECT pk FROM inserted");
    }
    let pk = conn.first::<Pk>(sql)?.ok_or(DieselError::MissingRow)?.pk;
    if !emails_with_row {
        insert_emails(conn, pk, &columns.emails)?;
    }
    adjust_count(conn, row.tenant, row.resource_type, pk, 1)?;
    Ok(pk)
}

/// PostgreSQL: the head of a statement that creates a resource whole unless the
/// tenant has one of its `userName` already: `WITH inserted AS (...)` (the row,
/// `RETURNING pk`, no row when the name is taken), its emails, and its counts,
/// to be finished by a statement reading `inserted`. A create racing it to the
/// name meets the unique index (`unique_attribute`): the statement fails whole.
pub(crate) fn insert_unless_taken(row: &NewRow<'_>) -> Sql {
    let columns = Columns::of(row.resource_type, row.body);
    let mut sql = Sql::new("WITH inserted AS (");
    sql.push(INSERT_RESOURCE).push("SELECT ");
    row.push_values(&mut sql, Dialect::Postgres, &columns);
    if let Some(user_name) = &columns.user_name {
        sql.push(" WHERE NOT EXISTS (SELECT 1 FROM resources r WHERE ");
        push_user_name_is(&mut sql, row.tenant, row.resource_type, user_name);
        sql.push(")");
    }
    sql.push(" RETURNING pk), ");
    if !columns.emails.is_empty() {
        push_emails_of(&mut sql, "inserted", &columns.emails);
        sql.push(", ");
    }
    crate::batch::push_count_of(&mut sql, row.tenant, row.resource_type, "inserted");
    sql.push(" ");
    sql
}

/// PostgreSQL: `emails AS (...)`, the `INSERT` of `emails` for the row that
/// the CTE `source` returns (`pk`).
fn push_emails_of(sql: &mut Sql, source: &str, emails: &[Email]) {
    sql.push(
        "emails AS (INSERT INTO resource_emails \
         (resource_pk, position, value, value_folded, type, is_primary) \
         SELECT src.pk, e.position, e.value, e.value_folded, e.type, e.is_primary FROM ",
    )
    .push(source)
    .push(" src, (VALUES ");
    push_email_rows(sql, emails);
    sql.push(") AS e (position, value, value_folded, type, is_primary))");
}

/// Rule 16: a renamed member's `display` follows in the groups it is in (where
/// none was sent), and those groups get a new version, since what they show
/// changed.
fn rename_member(
    conn: &mut Conn<'_>,
    row: &ResourceRow,
    old: &Value,
    body: &Value,
    at: i64,
) -> Result<(), Failure> {
    if row.resource_type != USER_TYPE && row.resource_type != GROUP_TYPE {
        return Ok(());
    }
    let name = derive::member_display(body);
    if name == derive::member_display(old) {
        return Ok(());
    }
    let mut groups = Sql::new("UPDATE resources SET version = version + 1, last_modified = ");
    groups
        .bind(at)
        .push(
            " WHERE pk IN (SELECT group_pk FROM group_members \
             WHERE NOT display_sent AND member_pk = ",
        )
        .bind(row.pk)
        .push(")");
    conn.execute(groups)?;
    let mut members = Sql::new("UPDATE group_members SET display = ");
    members
        .bind(name)
        .push(" WHERE NOT display_sent AND member_pk = ")
        .bind(row.pk);
    conn.execute(members)?;
    Ok(())
}

/// The column copies of `columns` by column name, in the order [`insert`]
/// lists them.
fn column_values(columns: &Columns) -> [(&'static str, Bind); 11] {
    let folded = |text: &Option<String>| Bind::from(text.as_deref().map(fold));
    [
        ("user_name", columns.user_name.clone().into()),
        ("user_name_folded", folded(&columns.user_name)),
        ("external_id", columns.external_id.clone().into()),
        ("display_name", columns.display_name.clone().into()),
        ("display_name_folded", folded(&columns.display_name)),
        ("active", columns.active.map_or(Bind::NullBool, Bind::Bool)),
        ("manager_id", columns.manager_id.clone().into()),
        ("given_name", columns.given_name.clone().into()),
        ("given_name_folded", folded(&columns.given_name)),
        ("family_name", columns.family_name.clone().into()),
        ("family_name_folded", folded(&columns.family_name)),
    ]
}

fn push_column_values(sql: &mut Sql, columns: &Columns) {
    for (i, (_, value)) in column_values(columns).into_iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(value);
    }
}

/// Replaces a row's body (and the columns copied from it), with a new version:
/// `old` is the body it holds, `text` is `body` serialised (by the caller, before
/// the writer turn where it can).
pub(crate) fn update_body(
    conn: &mut Conn<'_>,
    row: &ResourceRow,
    old: &Value,
    body: &Value,
    text: &str,
    at: i64,
) -> Result<(), Failure> {
    let (old_columns, columns) = (
        Columns::of(&row.resource_type, old),
        Columns::of(&row.resource_type, body),
    );
    conn.execute(update_sql(
        conn.dialect(),
        row,
        &old_columns,
        &columns,
        text,
        at,
    ))?;
    rename_member(conn, row, old, body, at)?;
    if old_columns.emails != columns.emails {
        let mut delete = Sql::new("DELETE FROM resource_emails WHERE resource_pk = ");
        delete.bind(row.pk);
        conn.execute(delete)?;
        insert_emails(conn, row.pk, &columns.emails)?;
    }
    Ok(())
}

/// The `UPDATE` of `row`'s body from `old` to `body` (serialised as `text`), when
/// it is the whole of the write: no email rows change, no group shows a new
/// member name, and there is no manager to check on either side. Ends in
/// `WHERE pk = ...`.
pub(crate) fn lone_body_update(
    dialect: Dialect,
    row: &ResourceRow,
    old: &Value,
    body: &Value,
    text: &str,
    at: i64,
) -> Option<Sql> {
    let (old_columns, columns) = (
        Columns::of(&row.resource_type, old),
        Columns::of(&row.resource_type, body),
    );
    let alone = old_columns.emails == columns.emails
        && derive::member_display(body) == derive::member_display(old)
        && old_columns.manager_id.is_none()
        && columns.manager_id.is_none();
    alone.then(|| update_sql(dialect, row, &old_columns, &columns, text, at))
}

/// The `UPDATE` of `row`'s body (serialised as `text`) and of the column copies
/// that change from `old` to `columns`, ending in `WHERE pk = ...`.
fn update_sql(
    dialect: Dialect,
    row: &ResourceRow,
    old: &Columns,
    columns: &Columns,
    text: &str,
    at: i64,
) -> Sql {
    // Only the copies that change (the row's columns are those of `old`): SQLite
    // rewrites the index entries of every column an UPDATE sets, changed or not,
    // and each one is a page more in the commit.
    let mut sql = Sql::new("UPDATE resources SET ");
    for ((name, value), (_, was)) in column_values(columns).into_iter().zip(column_values(old)) {
        if value != was {
            sql.push(name).push(" = ").bind(value).push(", ");
        }
    }
    sql.push("data = ");
    dialect.push_document(&mut sql, text);
    sql.push(", version = version + 1, last_modified = ")
        .bind(at)
        .push(" WHERE pk = ")
        .bind(row.pk);
    sql
}

/// The rows `(position, value, value_folded, type, is_primary)` of `emails`,
/// for a `VALUES` list.
fn push_email_rows(sql: &mut Sql, emails: &[Email]) {
    for (position, email) in emails.iter().enumerate() {
        if position > 0 {
            sql.push(", ");
        }
        sql.bind_list([
            Bind::Int(i64::try_from(position).unwrap_or(i64::MAX)),
            email.value.clone().into(),
            email.value.as_deref().map(fold).into(),
            email.kind.clone().into(),
            email.primary.map_or(Bind::NullBool, Bind::Bool),
        ]);
    }
}

fn insert_emails(conn: &mut Conn<'_>, pk: i64, emails: &[Email]) -> Result<(), Failure> {
    if emails.is_empty() {
        return Ok(());
    }
    let mut sql = Sql::new(
        "INSERT INTO resource_emails (resource_pk, position, value, value_folded, type, is_primary) VALUES ",
    );
    for (position, email) in emails.iter().enumerate() {
        if position > 0 {
            sql.push(", ");
        }
        sql.bind_list([
            Bind::Int(pk),
            Bind::Int(i64::try_from(position).unwrap_or(i64::MAX)),
            email.value.clone().into(),
            email.value.as_deref().map(fold).into(),
            email.kind.clone().into(),
            email.primary.map_or(Bind::NullBool, Bind::Bool),
        ]);
    }
    conn.execute(sql)?;
    Ok(())
}

/// Gives a row a new version without changing its body (membership changes).
pub(crate) fn touch(conn: &mut Conn<'_>, pk: i64, at: i64) -> Result<(), Failure> {
    let mut sql = Sql::new("UPDATE resources SET version = version + 1, last_modified = ");
    sql.bind(at).push(" WHERE pk = ").bind(pk);
    conn.execute(sql)?;
    Ok(())
}

/// The version tag of a row after a write.
pub(crate) fn version_of(conn: &mut Conn<'_>, row: &ResourceRow) -> Result<String, Failure> {
    let version = version(conn, row.pk, &row.id, None)?.ok_or(DieselError::MissingRow)?;
    Ok(meta::version_tag(
        u64::try_from(version).unwrap_or_default(),
    ))
}

/// The version number of row `pk` holding resource `id`, `None` if it is gone:
/// whether a row read earlier is still as read, without reading its body again.
/// The id too, because SQLite gives a deleted row's `pk` to the next insert.
/// A write whose plan was made outside its transaction reads it with
/// `Some(RowLock::Change)`, as it would the row; a read with `None`, which never
/// waits for a write in progress.
pub(crate) fn version(
    conn: &mut Conn<'_>,
    pk: i64,
    id: &str,
    lock: Option<RowLock>,
) -> Result<Option<i64>, Failure> {
    #[derive(QueryableByName)]
    struct Version {
        #[diesel(sql_type = BigInt)]
        version: i64,
    }
    let mut sql = Sql::new("SELECT version FROM resources r WHERE pk = ");
    sql.bind(pk).push(" AND id = ").bind(id);
    if let Some(lock) = lock {
        sql.push(lock.clause(conn.dialect()));
    }
    Ok(conn.first::<Version>(sql)?.map(|row| row.version))
}

/// Deletes a row; its emails and memberships (both ways) go with it.
pub(crate) fn delete(conn: &mut Conn<'_>, tenant: &str, row: &ResourceRow) -> Result<(), Failure> {
    let mut sql = Sql::new("DELETE FROM resources WHERE pk = ");
    sql.bind(row.pk);
    conn.execute(sql)?;
    adjust_count(conn, tenant, &row.resource_type, row.pk, -1)
}

/// The bucket sizes of `resource_buckets`, coarsest first, as shifts: the
/// bucket `b` of shift `s` counts a tenant's resources of one type whose `pk` is
/// in `[b << s, (b + 1) << s)`.
///
/// With these counts, an index page deep into creation order finds the bucket of
/// its first row by summing a few dozen counts per level, then walks fewer than
/// `1 << 10` keys (`query.rs`, `bucket_seek`), instead of walking `startIndex`
/// keys: a page from the middle of a million costs about what the first costs.
///
/// Both backends hand out `pk`s in increasing order, so a tenant's resources fill
/// few buckets. A tenant whose rows are thinly spread among many other tenants'
/// rows needs more bucket rows summed (at worst one per resource): still correct,
/// only slower.
pub(crate) const BUCKET_SHIFTS: [u32; 2] = [15, 10];

/// Keeps `resource_counts` and `resource_buckets` in step with an insert (`+1`) or
/// a delete (`-1`) of the row `pk` (inside a [`Batch`](crate::batch::Batch), at
/// its end).
fn adjust_count(
    conn: &mut Conn<'_>,
    tenant: &str,
    resource_type: &str,
    pk: i64,
    delta: i64,
) -> Result<(), Failure> {
    let change = crate::batch::CountChange {
        tenant: tenant.to_owned(),
        resource_type: resource_type.to_owned(),
        pk,
        delta,
    };
    match crate::batch::defer_count(change) {
        None => Ok(()),
        Some(change) => crate::batch::write_counts(conn, &[change]),
    }
}

/// How many resources of a type the tenant has.
pub(crate) fn count(
    conn: &mut Conn<'_>,
    tenant: &str,
    resource_type: &str,
) -> Result<i64, Failure> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut sql = Sql::new(
        "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) AS n FROM resource_counts WHERE tenant_id = ",
    );
    sql.bind(tenant)
        .push(" AND resource_type = ")
        .bind(resource_type);
    Ok(conn.first::<Count>(sql)?.map_or(0, |c| c.n))
}

/// Keeps `resource` (as a client reads it) in the archive (rule 20).
pub(crate) fn archive(
    conn: &mut Conn<'_>,
    tenant: &str,
    row: &ResourceRow,
    resource: &Value,
    at: i64,
) -> Result<(), Failure> {
    let mut sql = Sql::new(
        "INSERT INTO archived_resources (tenant_id, resource_type, id, archived_at, resource) \
         VALUES (",
    );
    sql.bind(tenant)
        .push(", ")
        .bind(row.resource_type.as_str())
        .push(", ")
        .bind(row.id.as_str())
        .push(", ")
        .bind(at)
        .push(", ")
        .bind(resource.to_string())
        .push(conn.dialect().json_param_suffix())
        .push(")");
    conn.execute(sql)?;
    Ok(())
}

/// The archived resources of a type, oldest archive first.
pub(crate) fn archived(
    conn: &mut Conn<'_>,
    tenant: &str,
    resource_type: &str,
) -> Result<Vec<Archived>, Failure> {
    #[derive(QueryableByName)]
    struct ArchivedRow {
        #[diesel(sql_type = Text)]
        resource: String,
        #[diesel(sql_type = BigInt)]
        archived_at: i64,
    }
    let mut sql = Sql::new(&format!(
        "SELECT {} AS resource, archived_at FROM archived_resources WHERE tenant_id = ",
        conn.dialect().json_text("resource")
    ));
    sql.bind(tenant)
        .push(" AND resource_type = ")
        .bind(resource_type)
        .push(" ORDER BY pk");
    conn.load::<ArchivedRow>(sql)?
        .into_iter()
        .map(|row| {
            Ok(Archived {
                resource: serde_json::from_str(&row.resource).map_err(DieselError::CorruptJson)?,
                archived_at: from_nanos(row.archived_at)?,
            })
        })
        .collect()
}
