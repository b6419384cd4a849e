//! Group membership rows: adding, removing and listing members, and what a
//! member's rename or deletion does to its groups. Every function runs inside
//! the caller's transaction.

use std::collections::HashMap;

use diesel::sql_types::{BigInt, Text};
use diesel::QueryableByName;
use scimitar_store::write::NewMember;
use scimitar_store::{derive, ChangeKind, StoreError};
use serde_json::{Map, Value};

use crate::connection::Conn;
use crate::error::Failure;
use crate::member_lists::ListedMember;
use crate::sql::{Sql, Value as Bind};

use crate::rows::*;

/// A resource's row number and id.
#[derive(QueryableByName)]
struct Member {
    #[diesel(sql_type = BigInt)]
    pk: i64,
    #[diesel(sql_type = Text)]
    id: String,
}

/// A user or group that can be a member.
#[derive(Debug, Clone)]
pub(crate) struct MemberRef {
    pub(crate) pk: i64,
    pub(crate) id: String,
    /// [`USER_TYPE`] or [`GROUP_TYPE`], kept with the membership (`group_members.member_type`).
    pub(crate) kind: &'static str,
    /// What `members.display` shows (store rule 16).
    pub(crate) display: String,
    /// Whether `display` was sent (else it follows the member's renames).
    pub(crate) sent: bool,
}

impl MemberRef {
    /// The user `(pk, id)` with its `body`'s name as `display`.
    pub(crate) fn user(pk: i64, id: impl Into<String>, body: &Value) -> MemberRef {
        MemberRef {
            pk,
            id: id.into(),
            kind: USER_TYPE,
            display: derive::member_display(body),
            sent: false,
        }
    }
}

/// `derive::member_display` in SQL, on the column copies of `resources r`.
const MEMBER_NAME: &str =
    "COALESCE(CASE WHEN TRIM(r.display_name) <> '' THEN r.display_name END, r.user_name, '')";

#[derive(QueryableByName)]
struct Candidate {
    #[diesel(sql_type = BigInt)]
    pk: i64,
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    resource_type: String,
    #[diesel(sql_type = Text)]
    name: String,
}

/// Resolves members to rows of the tenant, in the order given, without repeats;
/// `UnknownMember` for an id that is not a user or group of the tenant. A member's
/// `display` is the one sent, else its `displayName` (a user without one: its
/// `userName`).
pub(crate) fn member_refs(
    conn: &mut Conn<'_>,
    tenant: &str,
    members: &[NewMember],
) -> Result<Vec<MemberRef>, Failure> {
    if let Some(member) = members.iter().find(|member| member.id.contains('\0')) {
        return Err(StoreError::UnknownMember(member.id.clone()).into());
    }
    let mut found = HashMap::with_capacity(members.len());
    for chunk in members.chunks(CHUNK) {
        let mut sql = Sql::new("SELECT r.pk, r.id, r.resource_type, ");
        sql.push(MEMBER_NAME)
            .push(" AS name FROM resources r WHERE tenant_id = ");
        sql.bind(tenant)
            .push(" AND id IN ")
            .bind_list(chunk.iter().map(|member| Bind::from(member.id.as_str())))
            .push(RowLock::Reference.clause(conn.dialect()));
        for candidate in conn.load::<Candidate>(sql)? {
            let kind = match candidate.resource_type.as_str() {
                USER_TYPE => USER_TYPE,
                GROUP_TYPE => GROUP_TYPE,
                _ => continue,
            };
            found.insert(candidate.id, (candidate.pk, kind, candidate.name));
        }
    }
    let mut refs = Vec::with_capacity(members.len());
    let mut seen = std::collections::HashSet::with_capacity(members.len());
    for member in members {
        let (pk, kind, name) = found
            .get(&member.id)
            .ok_or_else(|| StoreError::UnknownMember(member.id.clone()))?;
        if seen.insert(*pk) {
            refs.push(MemberRef {
                pk: *pk,
                id: member.id.clone(),
                kind,
                display: member.display.clone().unwrap_or_else(|| name.clone()),
                sent: member.display.is_some(),
            });
        }
    }
    Ok(refs)
}

/// Adds members (already resolved) to a group; returns the ids that were not
/// members yet, in the order given.
pub(crate) fn add_members(
    conn: &mut Conn<'_>,
    group_pk: i64,
    members: &[MemberRef],
) -> Result<Vec<String>, Failure> {
    let mut inserted = std::collections::HashSet::new();
    for chunk in members.chunks(CHUNK) {
        let mut sql = Sql::new(
            "INSERT INTO group_members \
             (group_pk, member_pk, member_id, member_type, display, display_sent) VALUES ",
        );
        for (i, member) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind_list([
                Bind::Int(group_pk),
                Bind::Int(member.pk),
                member.id.as_str().into(),
                member.kind.into(),
                member.display.as_str().into(),
                Bind::Bool(member.sent),
            ]);
        }
        sql.push(" ON CONFLICT (group_pk, member_pk) DO NOTHING RETURNING member_pk AS pk");
        inserted.extend(conn.load::<Pk>(sql)?.into_iter().map(|row| row.pk));
    }
    Ok(members
        .iter()
        .filter(|member| inserted.contains(&member.pk))
        .map(|member| member.id.clone())
        .collect())
}

/// Removes members (ids) from a group; returns those that were members, in the
/// group's order. Unknown ids are ignored.
pub(crate) fn remove_members(
    conn: &mut Conn<'_>,
    tenant: &str,
    group_pk: i64,
    ids: &[String],
) -> Result<Vec<String>, Failure> {
    #[derive(QueryableByName)]
    struct Removed {
        #[diesel(sql_type = BigInt)]
        seq: i64,
        #[diesel(sql_type = BigInt)]
        member_pk: i64,
    }
    let mut removed = Vec::new();
    let mut pk_to_id = HashMap::new();
    let ids: Vec<&String> = ids.iter().filter(|id| !id.contains('\0')).collect();
    for chunk in ids.chunks(CHUNK) {
        let mut lookup = Sql::new("SELECT pk, id FROM resources WHERE tenant_id = ");
        lookup
            .bind(tenant)
            .push(" AND id IN ")
            .bind_list(chunk.iter().map(|id| Bind::from(id.as_str())));
        let members = conn.load::<Member>(lookup)?;
        if members.is_empty() {
            continue;
        }
        let mut sql = Sql::new("DELETE FROM group_members WHERE group_pk = ");
        sql.bind(group_pk)
            .push(" AND member_pk IN ")
            .bind_list(members.iter().map(|m| Bind::Int(m.pk)))
            .push(" RETURNING seq, member_pk");
        removed.extend(conn.load::<Removed>(sql)?);
        pk_to_id.extend(members.into_iter().map(|m| (m.pk, m.id)));
    }
    removed.sort_by_key(|row| row.seq);
    Ok(removed
        .into_iter()
        .filter_map(|row| pk_to_id.remove(&row.member_pk))
        .collect())
}

#[derive(QueryableByName)]
struct Listed {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    resource_type: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    display: Option<String>,
}

/// A group's members as `(id, resource type, display)`, in the order they were
/// added.
fn members(conn: &mut Conn<'_>, group_pk: i64) -> Result<Vec<Listed>, Failure> {
    let mut sql = Sql::new(
        "SELECT gm.member_id AS id, gm.member_type AS resource_type, gm.display \
         FROM group_members gm WHERE gm.group_pk = ",
    );
    sql.bind(group_pk).push(" ORDER BY gm.seq");
    Ok(conn.load::<Listed>(sql)?)
}

/// A group's member ids, in the order they were added.
pub(crate) fn member_ids(conn: &mut Conn<'_>, group_pk: i64) -> Result<Vec<String>, Failure> {
    Ok(members(conn, group_pk)?.into_iter().map(|m| m.id).collect())
}

/// A group's members in the order added.
pub(crate) fn listed_members(
    conn: &mut Conn<'_>,
    group_pk: i64,
) -> Result<Vec<ListedMember>, Failure> {
    Ok(members(conn, group_pk)?
        .into_iter()
        .map(|m| ListedMember::new(&m.id, &m.resource_type, m.display.as_deref()))
        .collect())
}

/// A member as a group's `members` attribute shows it: `value`, `display` (when
/// not empty) and `type`.
pub(crate) fn member_object(id: String, resource_type: String, display: Option<&str>) -> Value {
    let mut member = Map::new();
    member.insert("value".into(), id.into());
    if let Some(display) = display.filter(|display| !display.is_empty()) {
        member.insert("display".into(), display.into());
    }
    member.insert("type".into(), resource_type.into());
    Value::Object(member)
}

/// The members of several groups at once (for queries that return groups).
pub(crate) fn members_of_groups(
    conn: &mut Conn<'_>,
    group_pks: &[i64],
) -> Result<HashMap<i64, Vec<Value>>, Failure> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        group_pk: i64,
        #[diesel(sql_type = Text)]
        id: String,
        #[diesel(sql_type = Text)]
        resource_type: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        display: Option<String>,
    }
    let mut by_group: HashMap<i64, Vec<Value>> = HashMap::new();
    for chunk in group_pks.chunks(CHUNK) {
        let mut sql = Sql::new(
            "SELECT gm.group_pk, gm.member_id AS id, gm.member_type AS resource_type, \
             gm.display FROM group_members gm WHERE gm.group_pk IN ",
        );
        sql.bind_list(chunk.iter().map(|pk| Bind::Int(*pk)))
            .push(" ORDER BY gm.group_pk, gm.seq");
        for row in conn.load::<Row>(sql)? {
            by_group
                .entry(row.group_pk)
                .or_default()
                .push(member_object(
                    row.id,
                    row.resource_type,
                    row.display.as_deref(),
                ));
        }
    }
    Ok(by_group)
}

/// The groups `member_pk` belongs to, `(pk, id)` in the groups' creation order.
pub(crate) fn groups_of(
    conn: &mut Conn<'_>,
    member_pk: i64,
) -> Result<Vec<(i64, String)>, Failure> {
    let mut sql = Sql::new(
        "SELECT g.pk, g.id FROM group_members gm \
         JOIN resources g ON g.pk = gm.group_pk WHERE gm.member_pk = ",
    );
    sql.bind(member_pk).push(" ORDER BY g.pk");
    Ok(conn
        .load::<Member>(sql)?
        .into_iter()
        .map(|g| (g.pk, g.id))
        .collect())
}

/// The rows of a query on `resources r`: `SELECT <columns> FROM resources r WHERE
/// r.tenant_id = <tenant> AND r.resource_type = <type>`, to extend.
fn select_rows(conn: &Conn<'_>, tenant: &str, resource_type: &str) -> Sql {
    let mut sql = Sql::new(&format!(
        "SELECT {} FROM resources r WHERE r.tenant_id = ",
        ResourceRow::columns(conn.dialect())
    ));
    sql.bind(tenant)
        .push(" AND r.resource_type = ")
        .bind(resource_type);
    sql
}

/// Every resource of a type, in creation order (`derived` teams only, or all).
pub(crate) fn all_of_type(
    conn: &mut Conn<'_>,
    tenant: &str,
    resource_type: &str,
    derived_only: bool,
) -> Result<Vec<ResourceRow>, Failure> {
    let mut sql = select_rows(conn, tenant, resource_type);
    if derived_only {
        sql.push(" AND r.derived");
    }
    sql.push(" ORDER BY r.pk");
    Ok(conn.load(sql)?)
}

/// The users whose manager is `manager_id`, in creation order (rule 19).
pub(crate) fn reports_of(
    conn: &mut Conn<'_>,
    tenant: &str,
    manager_id: &str,
) -> Result<Vec<ResourceRow>, Failure> {
    let mut sql = select_rows(conn, tenant, USER_TYPE);
    // Locked: each report is written back with its manager cleared, so a write
    // of it that commits meanwhile must come first (and be read) or wait.
    sql.push(" AND r.manager_id = ")
        .bind(manager_id)
        .push(" ORDER BY r.pk")
        .push(RowLock::Change.clause(conn.dialect()));
    Ok(conn.load(sql)?)
}

/// The `displayName` of each of these users that exists and has one.
pub(crate) fn user_display_names(
    conn: &mut Conn<'_>,
    tenant: &str,
    ids: &[&str],
) -> Result<HashMap<String, String>, Failure> {
    #[derive(QueryableByName)]
    struct Named {
        #[diesel(sql_type = Text)]
        id: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        display_name: Option<String>,
    }
    let mut names = HashMap::with_capacity(ids.len());
    let ids: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|id| !id.contains('\0'))
        .collect();
    for chunk in ids.chunks(CHUNK) {
        let mut sql = Sql::new("SELECT id, display_name FROM resources WHERE tenant_id = ");
        sql.bind(tenant)
            .push(" AND resource_type = ")
            .bind(USER_TYPE)
            .push(" AND id IN ")
            .bind_list(chunk.iter().map(|id| Bind::from(*id)));
        for row in conn.load::<Named>(sql)? {
            if let Some(name) = row.display_name {
                names.insert(row.id, name);
            }
        }
    }
    Ok(names)
}

/// The groups of `tenant` with this `externalId` that the IdP pushed (not
/// derived), in creation order.
pub(crate) fn groups_with_external_id(
    conn: &mut Conn<'_>,
    tenant: &str,
    external_id: &str,
) -> Result<Vec<ResourceRow>, Failure> {
    if external_id.contains('\0') {
        return Ok(Vec::new());
    }
    let mut sql = select_rows(conn, tenant, GROUP_TYPE);
    sql.push(" AND r.external_id = ")
        .bind(external_id)
        .push(" AND NOT r.derived ORDER BY r.pk");
    Ok(conn.load(sql)?)
}

/// The derived teams `member_pk` belongs to, in creation order.
pub(crate) fn derived_teams_of(
    conn: &mut Conn<'_>,
    member_pk: i64,
) -> Result<Vec<ResourceRow>, Failure> {
    let mut sql = Sql::new(&format!(
        "SELECT {} FROM group_members gm JOIN resources r ON r.pk = gm.group_pk \
         WHERE gm.member_pk = ",
        ResourceRow::columns(conn.dialect())
    ));
    sql.bind(member_pk).push(" AND r.derived ORDER BY r.pk");
    Ok(conn.load(sql)?)
}

/// Whether a group has any member.
pub(crate) fn has_members(conn: &mut Conn<'_>, group_pk: i64) -> Result<bool, Failure> {
    let mut sql = Sql::new("SELECT member_pk AS pk FROM group_members WHERE group_pk = ");
    sql.bind(group_pk).push(" LIMIT 1");
    Ok(conn.first::<Pk>(sql)?.is_some())
}

/// PostgreSQL: the change of group `row`'s members as one statement, outside a
/// transaction: `add` (without repeats, none also in `remove`) and the ids
/// `remove`, if the group is still at the version `row` holds and every one of
/// `add` is a user or group of the tenant. Then the group gets a new version
/// written at `at` and the events of what changed, if anything did. The
/// statement locks the group's row as the transactional write does (`FOR NO
/// KEY UPDATE`, which also waits for a write of it in progress and then checks
/// the version again) and the members added (`FOR KEY SHARE`, against their
/// delete). It returns [`ChangeRow`]s: the group's when it held, each of `add`
/// found, each added, each removed.
pub(crate) fn change_in_one_statement(
    tenant: &str,
    row: &ResourceRow,
    add: &[NewMember],
    remove: &[String],
    at: i64,
) -> Sql {
    let mut sql = Sql::new("WITH grp AS MATERIALIZED (SELECT pk FROM resources WHERE pk = ");
    sql.bind(row.pk)
        .push(" AND version = ")
        .bind(row.version)
        .push(" FOR NO KEY UPDATE), wanted AS MATERIALIZED (");
    if add.is_empty() {
        sql.push(
            "SELECT 0::BIGINT AS pk, ''::TEXT AS id, ''::TEXT AS resource_type, \
             ''::TEXT AS display, false AS sent, 0::BIGINT AS ord WHERE false",
        );
    } else {
        sql.push("SELECT r.pk, r.id, r.resource_type, COALESCE(w.display, ")
            .push(MEMBER_NAME)
            .push(") AS display, w.sent, w.ord FROM (VALUES ");
        for (ord, member) in add.iter().enumerate() {
            sql.push(if ord == 0 { "" } else { ", " }).bind_list([
                member.id.as_str().into(),
                Bind::Int(i64::try_from(ord).unwrap_or(i64::MAX)),
                member.display.clone().into(),
                Bind::Bool(member.display.is_some()),
            ]);
        }
        sql.push(") AS w (id, ord, display, sent) JOIN resources r ON r.tenant_id = ")
            .bind(tenant)
            .push(&format!(
                " AND r.id = w.id AND r.resource_type IN ('{USER_TYPE}', '{GROUP_TYPE}') \
                 FOR KEY SHARE OF r"
            ));
    }
    sql.push("), ok AS (SELECT pk FROM grp WHERE (SELECT COUNT(*) FROM wanted) = ")
        .bind(i64::try_from(add.len()).unwrap_or(i64::MAX))
        .push(
            "), added AS (INSERT INTO group_members \
             (group_pk, member_pk, member_id, member_type, display, display_sent) \
             SELECT ok.pk, w.pk, w.id, w.resource_type, w.display, w.sent FROM ok, wanted w \
             ORDER BY w.ord ON CONFLICT (group_pk, member_pk) DO NOTHING RETURNING member_pk), \
             removed AS (DELETE FROM group_members WHERE group_pk IN (SELECT pk FROM ok) \
             AND member_pk IN (SELECT pk FROM resources WHERE tenant_id = ",
        )
        .bind(tenant)
        .push(" AND id IN ");
    if remove.is_empty() {
        sql.push("(NULL)");
    } else {
        sql.bind_list(remove.iter().map(|id| Bind::from(id.as_str())));
    }
    sql.push(
        ") RETURNING member_id, seq), \
         touched AS (UPDATE resources SET version = version + 1, last_modified = ",
    )
    .bind(at)
    .push(
        " WHERE pk IN (SELECT pk FROM ok) \
         AND (EXISTS (SELECT 1 FROM added) OR EXISTS (SELECT 1 FROM removed))), \
         logged AS (INSERT INTO events (tenant_id, kind, resource_type, resource_id, payload, at) \
         SELECT ",
    )
    .bind(tenant)
    .push(", e.kind, ")
    .bind(GROUP_TYPE)
    .push(", ")
    .bind(row.id.as_str())
    .push(", e.payload, ")
    .bind(at)
    .push(" FROM (SELECT 1 AS n, ")
    .bind(ChangeKind::MembersAdded.as_str())
    .push(
        "::TEXT AS kind, jsonb_build_object('members', jsonb_agg(w.id ORDER BY w.ord)) AS payload \
         FROM added a JOIN wanted w ON w.pk = a.member_pk HAVING COUNT(*) > 0 \
         UNION ALL SELECT 2, ",
    )
    .bind(ChangeKind::MembersRemoved.as_str())
    .push(
        "::TEXT, jsonb_build_object('members', jsonb_agg(member_id ORDER BY seq)) FROM removed \
         HAVING COUNT(*) > 0) e ORDER BY e.n) ",
    )
    .push(&format!(
        "SELECT {held} AS part, 0::BIGINT AS n, ''::TEXT AS id, 0::BIGINT AS pk, \
         ''::TEXT AS kind, ''::TEXT AS display FROM grp \
         UNION ALL SELECT {found}, w.ord, w.id, w.pk, '', '' FROM wanted w \
         UNION ALL SELECT {added}, w.ord, w.id, w.pk, w.resource_type, w.display \
         FROM added a JOIN wanted w ON w.pk = a.member_pk \
         UNION ALL SELECT {removed}, r.seq, r.member_id, 0, '', '' FROM removed r",
        held = ChangeRow::HELD,
        found = ChangeRow::FOUND,
        added = ChangeRow::ADDED,
        removed = ChangeRow::REMOVED,
    ));
    sql
}

/// A row of [`change_in_one_statement`]: `part` [`ChangeRow::HELD`] (the group
/// held its version), [`ChangeRow::FOUND`] (a member to add is a user or group
/// of the tenant: `n` its place in `add`, `id`, `pk`), [`ChangeRow::ADDED`]
/// (the same, and it was added: also `kind` and `display`), or
/// [`ChangeRow::REMOVED`] (the member `id` was removed, `n` its place in the
/// group).
#[derive(QueryableByName)]
pub(crate) struct ChangeRow {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub(crate) part: i32,
    #[diesel(sql_type = BigInt)]
    pub(crate) n: i64,
    #[diesel(sql_type = Text)]
    pub(crate) id: String,
    #[diesel(sql_type = BigInt)]
    pub(crate) pk: i64,
    #[diesel(sql_type = Text)]
    pub(crate) kind: String,
    #[diesel(sql_type = Text)]
    pub(crate) display: String,
}

impl ChangeRow {
    pub(crate) const HELD: i32 = 0;
    pub(crate) const FOUND: i32 = 1;
    pub(crate) const ADDED: i32 = 2;
    pub(crate) const REMOVED: i32 = 3;
}
