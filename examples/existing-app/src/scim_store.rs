//! SCIM glue, part 1: Scimitar's core `Store` over the app's own tables.
//!
//! Users are rows of `users` (the attributes the app has columns for, the rest
//! of the profile as JSON), Groups are `teams` with `team_members`. Every write
//! runs in one SQLite `IMMEDIATE` transaction with its audit row, and a create
//! past the organization's seats is refused. Queries read the organization's
//! rows and let `evaluate_in_memory` filter, sort and page them.

use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use scimitar::schema::{urn, Mode};
use scimitar::store::{
    derive, evaluate_in_memory, meta, write, Page, Projection, Query, Scope, Store, StoreError,
};
use serde_json::{json, Map, Value};

use crate::db::Db;
use crate::schema::{audit_log, organizations, team_members, teams, users};

/// The app's tables as a SCIM store; the SCIM tenant is the organization.
#[derive(Clone)]
pub struct AppStore {
    db: Db,
}

impl AppStore {
    /// A store over `db`.
    pub fn new(db: Db) -> Self {
        AppStore { db }
    }
}

/// A failed write: the store's error, the database's, or "nothing changed", which
/// rolls the transaction back and answers with the resource as it was.
enum Fail {
    Store(StoreError),
    Db(diesel::result::Error),
    Unchanged(Value),
}

impl From<diesel::result::Error> for Fail {
    fn from(error: diesel::result::Error) -> Self {
        Fail::Db(error)
    }
}

impl From<StoreError> for Fail {
    fn from(error: StoreError) -> Self {
        Fail::Store(error)
    }
}

fn store_error(error: diesel::result::Error) -> StoreError {
    use diesel::result::{DatabaseErrorKind, Error};
    match error {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => StoreError::Uniqueness {
            attribute: "userName".into(),
        },
        Error::DatabaseError(_, info) if info.message().contains("locked") => {
            StoreError::Unavailable(info.message().to_owned().into())
        }
        other => StoreError::Backend(Box::new(other)),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    User,
    Team,
}

impl Kind {
    /// The SCIM resource type.
    fn name(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Team => "Group",
        }
    }
}

fn kind(scope: &Scope<'_>, resource_type: &str) -> Result<Kind, StoreError> {
    match scope
        .registry
        .resource_type(resource_type)
        .map(|t| t.name.as_str())
    {
        Some("User") => Ok(Kind::User),
        Some("Group") => Ok(Kind::Team),
        _ => Err(StoreError::UnknownResourceType(resource_type.to_owned())),
    }
}

impl AppStore {
    fn read<T>(
        &self,
        f: impl FnOnce(&mut SqliteConnection) -> Result<T, Fail>,
    ) -> Result<T, StoreError> {
        tokio::task::block_in_place(|| {
            let mut conn = self
                .db
                .conn()
                .map_err(|error| StoreError::Unavailable(error.to_string().into()))?;
            f(&mut conn).map_err(|fail| match fail {
                Fail::Store(error) => error,
                Fail::Db(error) => store_error(error),
                Fail::Unchanged(_) => StoreError::Backend("a read cannot be unchanged".into()),
            })
        })
    }

    /// Runs `f` in an IMMEDIATE transaction (writers queue for SQLite's lock).
    fn write(
        &self,
        f: impl FnOnce(&mut SqliteConnection) -> Result<Value, Fail>,
    ) -> Result<Value, StoreError> {
        self.read(|conn| match conn.immediate_transaction(f) {
            Err(Fail::Unchanged(resource)) => Ok(resource),
            other => other,
        })
    }
}

#[derive(Queryable)]
struct UserRow {
    _pk: i64,
    id: String,
    _org: String,
    login: String,
    _login_key: String,
    first_name: Option<String>,
    last_name: Option<String>,
    _email: Option<String>,
    active: Option<bool>,
    manager_id: Option<String>,
    hire_date: Option<String>,
    department: Option<String>,
    external_id: Option<String>,
    profile: String,
    revision: i64,
    created_at: String,
    updated_at: String,
}

#[derive(Queryable)]
struct TeamRow {
    _pk: i64,
    id: String,
    _org: String,
    name: String,
    external_id: Option<String>,
    revision: i64,
    created_at: String,
    updated_at: String,
}

fn stamp(body: Value, id: &str, kind: &str, revision: i64, created: &str, updated: &str) -> Value {
    let time = |text: &str| meta::parse_timestamp(text).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let meta = meta::ResourceMeta {
        resource_type: kind.into(),
        created: time(created),
        last_modified: time(updated),
        version: meta::version_tag(revision.unsigned_abs()),
    };
    meta::stamp(body, id, &meta)
}

/// A user as SCIM reads it: the profile with the columns put back.
fn user_json(row: &UserRow) -> Value {
    let mut body: Map<String, Value> = serde_json::from_str(&row.profile).unwrap_or_default();
    body.insert("userName".into(), row.login.clone().into());
    put(&mut body, "externalId", row.external_id.clone());
    put(&mut body, "active", row.active);
    let mut name = object(body.remove("name"));
    put(&mut name, "givenName", row.first_name.clone());
    put(&mut name, "familyName", row.last_name.clone());
    put(&mut body, "name", (!name.is_empty()).then_some(name));
    let mut ext = object(body.remove(urn::ENTERPRISE_USER));
    let manager = row.manager_id.clone().map(|id| json!({ "value": id }));
    put(&mut ext, "manager", manager);
    put(&mut ext, "department", row.department.clone());
    put(&mut ext, "costCenter", row.hire_date.clone());
    put(
        &mut body,
        urn::ENTERPRISE_USER,
        (!ext.is_empty()).then_some(ext),
    );
    let (created, updated) = (&row.created_at, &row.updated_at);
    stamp(body.into(), &row.id, "User", row.revision, created, updated)
}

/// Sets `name` on `object` when there is a value.
fn put(object: &mut Map<String, Value>, name: &str, value: Option<impl Into<Value>>) {
    if let Some(value) = value {
        object.insert(name.into(), value.into());
    }
}

/// The fields of a JSON object (none for anything else).
fn object(value: Option<Value>) -> Map<String, Value> {
    match value {
        Some(Value::Object(fields)) => fields,
        _ => Map::new(),
    }
}

/// The columns of a validated user body; what has no column stays in `profile`.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = users, treat_none_as_null = true)]
struct UserColumns {
    login: String,
    login_key: String,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    active: Option<bool>,
    manager_id: Option<String>,
    hire_date: Option<String>,
    department: Option<String>,
    external_id: Option<String>,
    profile: String,
    updated_at: String,
}

fn user_columns(mut body: Value, now: &str) -> UserColumns {
    let take = |object: &mut Value, name: &str| object.as_object_mut().and_then(|o| o.remove(name));
    let text = |value: Option<Value>| value.and_then(|v| v.as_str().map(str::to_owned));
    let login = text(take(&mut body, "userName")).unwrap_or_default();
    let external_id = text(take(&mut body, "externalId"));
    let active = take(&mut body, "active").and_then(|v| v.as_bool());
    take(&mut body, "password"); // the app signs in through SSO: never kept
    let (first_name, last_name) = match body.get_mut("name") {
        Some(name) => (
            text(take(name, "givenName")),
            text(take(name, "familyName")),
        ),
        None => (None, None),
    };
    let (mut manager_id, mut department, mut hire_date) = (None, None, None);
    if let Some(ext) = body.get_mut(urn::ENTERPRISE_USER) {
        manager_id = take(ext, "manager").and_then(|m| text(m.get("value").cloned()));
        department = text(take(ext, "department"));
        hire_date = text(take(ext, "costCenter"));
    }
    let emails = body.get("emails").and_then(Value::as_array);
    let primary = emails.and_then(|e| e.iter().find(|e| e["primary"] == true).or(e.first()));
    let email = primary.and_then(|e| text(e.get("value").cloned()));
    if let Some(fields) = body.as_object_mut() {
        let emptied = |v: &Value| v.as_object().is_some_and(Map::is_empty);
        fields.retain(|_, value| !emptied(value));
    }
    UserColumns {
        login_key: meta::fold_case(&login),
        login,
        updated_at: now.to_owned(),
        first_name,
        last_name,
        email,
        active,
        manager_id: manager_id.filter(|id| !id.is_empty()),
        hire_date,
        department,
        external_id,
        profile: body.to_string(),
    }
}

fn load_user(conn: &mut SqliteConnection, org: &str, id: &str) -> Result<Option<UserRow>, Fail> {
    let row = users::table.filter(users::org.eq(org).and(users::id.eq(id)));
    Ok(row.first(conn).optional()?)
}

fn load_team(conn: &mut SqliteConnection, org: &str, id: &str) -> Result<Option<TeamRow>, Fail> {
    let row = teams::table.filter(teams::org.eq(org).and(teams::id.eq(id)));
    Ok(row.first(conn).optional()?)
}

/// A team as SCIM reads it, members first to last, each shown by its label in the
/// team, else by its current name.
fn team_json(conn: &mut SqliteConnection, org: &str, row: &TeamRow) -> Result<Value, Fail> {
    let rows: Vec<(Option<String>, Option<String>, Option<String>)> = team_members::table
        .filter(team_members::team_id.eq(&row.id))
        .order(team_members::pk)
        .select((
            team_members::user_id,
            team_members::child_team_id,
            team_members::label,
        ))
        .load(conn)?;
    let mut members = Vec::new();
    for (user, team, label) in rows {
        let (value, kind, shown) = match (user, team) {
            (Some(user), _) => {
                let shown =
                    load_user(conn, org, &user)?.map(|u| derive::member_display(&user_json(&u)));
                (user, "User", shown)
            }
            (None, Some(team)) => {
                let shown = load_team(conn, org, &team)?.map(|t| t.name);
                (team, "Group", shown)
            }
            (None, None) => continue,
        };
        members.push(json!({"value": value, "display": label.or(shown), "type": kind}));
    }
    let mut body = json!({"schemas": [urn::GROUP], "displayName": row.name});
    if let Some(external_id) = &row.external_id {
        body["externalId"] = external_id.clone().into();
    }
    if !members.is_empty() {
        body["members"] = Value::Array(members);
    }
    Ok(stamp(
        body,
        &row.id,
        "Group",
        row.revision,
        &row.created_at,
        &row.updated_at,
    ))
}

fn find(conn: &mut SqliteConnection, org: &str, kind: Kind, id: &str) -> Result<Value, Fail> {
    let found = match kind {
        Kind::User => load_user(conn, org, id)?.map(|row| user_json(&row)),
        Kind::Team => match load_team(conn, org, id)? {
            Some(row) => Some(team_json(conn, org, &row)?),
            None => None,
        },
    };
    let name = kind.name();
    Ok(found.ok_or_else(|| StoreError::not_found(name, id))?)
}

/// The audit row of a change, written in the change's transaction.
fn audit(
    conn: &mut SqliteConnection,
    scope: &Scope<'_>,
    kind: Kind,
    done: &str,
    id: &str,
) -> Result<(), Fail> {
    let action = format!("{}.{done}", kind.name().to_lowercase());
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::org.eq(scope.tenant),
            audit_log::at.eq(meta::format_timestamp(meta::now())),
            audit_log::actor.eq(scope.client.unwrap_or("scim")),
            audit_log::action.eq(action),
            audit_log::subject.eq(id),
        ))
        .execute(conn)?;
    Ok(())
}

/// Gives every team that shows `member` by its name a new revision (its name
/// changed, or it left).
fn touch_teams_of(
    conn: &mut SqliteConnection,
    member: &str,
    only_unlabelled: bool,
) -> Result<(), Fail> {
    let mut holders = team_members::table
        .filter(
            team_members::user_id
                .eq(member)
                .or(team_members::child_team_id.eq(member)),
        )
        .select(team_members::team_id)
        .into_boxed();
    if only_unlabelled {
        holders = holders.filter(team_members::label.is_null());
    }
    diesel::update(teams::table.filter(teams::id.eq_any(holders)))
        .set((
            teams::revision.eq(teams::revision + 1),
            teams::updated_at.eq(meta::format_timestamp(meta::now())),
        ))
        .execute(conn)?;
    Ok(())
}

/// Sets a team's members: present ones keep their row (and label), new ones must
/// be users or teams of the organization.
fn set_members(
    conn: &mut SqliteConnection,
    org: &str,
    team: &str,
    members: Vec<write::NewMember>,
) -> Result<(), Fail> {
    let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
    diesel::delete(
        team_members::table
            .filter(team_members::team_id.eq(team))
            .filter(
                team_members::user_id
                    .is_null()
                    .or(team_members::user_id.ne_all(&ids))
                    .and(
                        team_members::child_team_id
                            .is_null()
                            .or(team_members::child_team_id.ne_all(&ids)),
                    ),
            ),
    )
    .execute(conn)?;
    let present: Vec<(Option<String>, Option<String>)> = team_members::table
        .filter(team_members::team_id.eq(team))
        .select((team_members::user_id, team_members::child_team_id))
        .load(conn)?;
    let mut seen: Vec<String> = present.into_iter().filter_map(|(u, t)| u.or(t)).collect();
    for member in members {
        if seen.contains(&member.id) {
            continue;
        }
        let is_user = load_user(conn, org, &member.id)?.is_some();
        if !is_user && load_team(conn, org, &member.id)?.is_none() {
            return Err(StoreError::UnknownMember(member.id).into());
        }
        let (user, child) = if is_user {
            (Some(&member.id), None)
        } else {
            (None, Some(&member.id))
        };
        diesel::insert_into(team_members::table)
            .values((
                team_members::team_id.eq(team),
                team_members::user_id.eq(user),
                team_members::child_team_id.eq(child),
                team_members::label.eq(&member.display),
            ))
            .execute(conn)?;
        seen.push(member.id);
    }
    Ok(())
}

/// Refuses a create past the organization's seats, inside the write transaction
/// (so concurrent creates cannot both take the last seat).
fn check_seats(conn: &mut SqliteConnection, org: &str) -> Result<(), Fail> {
    let seats: Option<Option<i64>> = organizations::table
        .find(org)
        .select(organizations::seats)
        .first(conn)
        .optional()?;
    if let Some(Some(seats)) = seats {
        let taken: i64 = users::table
            .filter(users::org.eq(org))
            .count()
            .get_result(conn)?;
        if taken >= seats {
            let detail = format!("all {seats} seats of this organization's plan are taken: free one or upgrade the plan");
            return Err(StoreError::refused(403, None, detail).into());
        }
    }
    Ok(())
}

/// Writes a validated body as the resource `id` (a new one when `new`).
fn write_row(
    conn: &mut SqliteConnection,
    scope: &Scope<'_>,
    kind: Kind,
    id: &str,
    mut body: Value,
    new: bool,
) -> Result<(), Fail> {
    let (org, now) = (scope.tenant, meta::format_timestamp(meta::now()));
    meta::strip_store_owned(&mut body);
    if kind == Kind::Team {
        let members = write::take_members(&mut body)?;
        let name = body["displayName"].as_str().unwrap_or_default().to_owned();
        let external_id = body["externalId"].as_str().map(str::to_owned);
        if new {
            diesel::insert_into(teams::table)
                .values((
                    teams::id.eq(id),
                    teams::org.eq(org),
                    teams::name.eq(&name),
                    teams::external_id.eq(&external_id),
                    teams::created_at.eq(&now),
                    teams::updated_at.eq(&now),
                ))
                .execute(conn)?;
        } else {
            diesel::update(teams::table.filter(teams::id.eq(id)))
                .set((
                    teams::name.eq(&name),
                    teams::external_id.eq(&external_id),
                    teams::revision.eq(teams::revision + 1),
                    teams::updated_at.eq(&now),
                ))
                .execute(conn)?;
        }
        return set_members(conn, org, id, members);
    }
    let c = user_columns(body, &now);
    if let Some(manager) = &c.manager_id {
        if load_user(conn, org, manager)?.is_none() {
            return Err(StoreError::UnknownManager(manager.clone()).into());
        }
    }
    if new {
        check_seats(conn, org)?;
        diesel::insert_into(users::table)
            .values((
                users::id.eq(id),
                users::org.eq(org),
                users::created_at.eq(&now),
                &c,
            ))
            .execute(conn)?;
    } else {
        diesel::update(users::table.filter(users::id.eq(id)))
            .set((users::revision.eq(users::revision + 1), &c))
            .execute(conn)?;
    }
    Ok(())
}

/// A resource without its `meta`, to tell whether a write changed anything.
fn without_meta(resource: &Value) -> Value {
    let mut resource = resource.clone();
    meta::strip_store_owned(&mut resource);
    resource
}

impl Store for AppStore {
    async fn create(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        resource: Value,
    ) -> Result<Value, StoreError> {
        let kind = kind(scope, resource_type)?;
        let name = kind.name();
        let body = scope
            .registry
            .validate(name, &resource, Mode::Create, scope.policy)?;
        let id = meta::new_id();
        let created = self.write(|conn| {
            write_row(conn, scope, kind, &id, body, true)?;
            audit(conn, scope, kind, "created", &id)?;
            find(conn, scope.tenant, kind, &id)
        })?;
        Ok(scope
            .registry
            .project(name, &created, &Projection::default()))
    }

    async fn get(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        id: &str,
        projection: &Projection,
    ) -> Result<Value, StoreError> {
        let kind = kind(scope, resource_type)?;
        let found = self.read(|conn| find(conn, scope.tenant, kind, id))?;
        Ok(scope.registry.project(kind.name(), &found, projection))
    }

    async fn replace(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        id: &str,
        resource: Value,
        expected_version: Option<&str>,
    ) -> Result<Value, StoreError> {
        let kind = kind(scope, resource_type)?;
        let name = kind.name();
        let replaced = self.write(|conn| {
            let current = find(conn, scope.tenant, kind, id)?;
            write::check_version(
                expected_version,
                current["meta"]["version"].as_str().unwrap_or_default(),
            )?;
            let body = scope
                .registry
                .validate(
                    name,
                    &resource,
                    Mode::Replace { existing: &current },
                    scope.policy,
                )
                .map_err(StoreError::from)?;
            write_row(conn, scope, kind, id, body, false)?;
            let after = find(conn, scope.tenant, kind, id)?;
            if without_meta(&after) == without_meta(&current) {
                return Err(Fail::Unchanged(current)); // rolls back: no new revision
            }
            if derive::member_display(&after) != derive::member_display(&current) {
                touch_teams_of(conn, id, true)?;
            }
            audit(conn, scope, kind, "updated", id)?;
            Ok(after)
        })?;
        Ok(scope
            .registry
            .project(name, &replaced, &Projection::default()))
    }

    async fn delete(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        id: &str,
        expected_version: Option<&str>,
    ) -> Result<(), StoreError> {
        let kind = kind(scope, resource_type)?;
        self.write(|conn| {
            let current = find(conn, scope.tenant, kind, id)?;
            write::check_version(
                expected_version,
                current["meta"]["version"].as_str().unwrap_or_default(),
            )?;
            touch_teams_of(conn, id, false)?;
            match kind {
                Kind::User => {
                    diesel::delete(users::table.filter(users::id.eq(id))).execute(conn)?
                }
                Kind::Team => {
                    diesel::delete(teams::table.filter(teams::id.eq(id))).execute(conn)?
                }
            };
            audit(conn, scope, kind, "deleted", id)?;
            Ok(Value::Null)
        })?;
        Ok(())
    }

    async fn query(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        query: &Query,
    ) -> Result<Page, StoreError> {
        let kind = kind(scope, resource_type)?;
        let org = scope.tenant;
        let all = self.read(|conn| match kind {
            Kind::User => {
                let rows: Vec<UserRow> = users::table
                    .filter(users::org.eq(org))
                    .order(users::pk)
                    .load(conn)?;
                Ok(rows.iter().map(user_json).collect())
            }
            Kind::Team => {
                let rows: Vec<TeamRow> = teams::table
                    .filter(teams::org.eq(org))
                    .order(teams::pk)
                    .load(conn)?;
                rows.iter()
                    .map(|row| team_json(conn, org, row))
                    .collect::<Result<Vec<_>, _>>()
            }
        })?;
        evaluate_in_memory(scope, resource_type, query, all)
    }
}
