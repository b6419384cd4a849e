//! Writing one resource row: validation, manager checks, the body and its
//! column copies, member changes, events, and the views a write answers with.

use std::collections::HashSet;

use scimitar_schema::{Mode, ValidationError};
use scimitar_store::meta::{self, ResourceMeta};
use scimitar_store::write::{self, MemberChange, NewMember};
use scimitar_store::{derive, NewEvent, Projection, StoreError};
use serde_json::Value;

use crate::connection::Conn;
use crate::error::Failure;
use crate::event_rows;
use crate::event_rows::EventRow;
use crate::member_lists::{ListedMember, MemberList, MemberLists};
use crate::member_rows;
use crate::member_rows::MemberRef;
use crate::rows::{self, ResourceRow, RowLock, USER_TYPE};
use crate::schema_ops::{self, Ctx};
use crate::teams;
use crate::time::{from_nanos, to_nanos};

/// Fails with `UnknownManager` unless the user's manager, if any, is a user of
/// the tenant (rule 19).
pub(crate) fn check_manager(conn: &mut Conn<'_>, ctx: &Ctx, user: &Value) -> Result<(), Failure> {
    match derive::manager_id(user) {
        Some(manager)
            if rows::find_locked(conn, &ctx.tenant, USER_TYPE, manager, RowLock::Reference)?
                .is_none() =>
        {
            Err(StoreError::UnknownManager(manager.to_owned()).into())
        }
        _ => Ok(()),
    }
}

/// Clears the manager of every report of `manager` (rule 19), with their events.
pub(crate) fn clear_reports(
    conn: &mut Conn<'_>,
    ctx: &Ctx,
    manager: &str,
    at: i64,
    events: &mut Vec<NewEvent>,
) -> Result<(), Failure> {
    for report in member_rows::reports_of(conn, &ctx.tenant, manager)? {
        let old = report.body()?;
        let mut body = old.clone();
        if !derive::clear_manager(&mut body) {
            continue;
        }
        let before = payload(conn, ctx, report.resource(None)?, USER_TYPE)?;
        rows::update_body(conn, &report, &old, &body, &body.to_string(), at)?;
        let after = payload(conn, ctx, next_version(&report, body, at)?, USER_TYPE)?;
        events.push(NewEvent::updated(USER_TYPE, &report.id, &before, &after));
    }
    Ok(())
}

/// Takes a resource out: out of every group it was in (each gets a new version
/// and an event, rule 9), then its row, emails and memberships.
pub(crate) fn remove(
    conn: &mut Conn<'_>,
    tenant: &str,
    row: &ResourceRow,
    at: i64,
    events: &mut Vec<NewEvent>,
) -> Result<(), Failure> {
    let leaving = [row.id.clone()];
    for (group_pk, group_id) in member_rows::groups_of(conn, row.pk)? {
        rows::touch(conn, group_pk, at)?;
        events.push(NewEvent::members_removed(&group_id, &leaving));
    }
    rows::delete(conn, tenant, row)
}

/// Refuses text with a NUL character, which PostgreSQL cannot store: the same
/// answer on every backend.
pub(crate) fn refuse_nul(body: &Value) -> Result<(), StoreError> {
    /// The path to the first attribute with a NUL character in its value or in
    /// a name it holds, innermost name first. Allocates only when one is found:
    /// every create and PATCH runs this.
    pub(crate) fn find(value: &Value) -> Option<Vec<&str>> {
        match value {
            Value::String(text) if text.contains('\0') => Some(Vec::new()),
            Value::Array(items) => items.iter().find_map(find),
            Value::Object(fields) => fields.iter().find_map(|(name, value)| {
                if name.contains('\0') {
                    return Some(Vec::new());
                }
                find(value).map(|mut path| {
                    path.push(name);
                    path
                })
            }),
            _ => None,
        }
    }
    match find(body) {
        Some(mut path) => {
            path.reverse();
            Err(ValidationError::WrongType {
                path: path.join("."),
                expected: "text without NUL characters",
                found: "text with a NUL character",
            }
            .into())
        }
        None => Ok(()),
    }
}

/// Validates a create or replace body and splits off a group's member ids.
pub(crate) fn prepare(
    ctx: &Ctx,
    resource_type: &str,
    resource: &Value,
    mode: Mode<'_>,
) -> Result<(Value, Vec<NewMember>), StoreError> {
    let mut body = schema_ops::validate(ctx, resource_type, resource, mode)?;
    meta::strip_store_owned(&mut body);
    refuse_nul(&body)?;
    let members = write::split_members(resource_type, &mut body)?;
    Ok((body, members))
}

/// A changed body for a row, with the JSON work of its write done: compared
/// with the stored body, serialised, and the event's before and after built. An
/// optimistic write plans it before the writer turn, so the turn runs SQL only.
pub(crate) struct BodyWrite {
    pub(crate) old: Value,
    pub(crate) body: Value,
    pub(crate) text: String,
    pub(crate) at: i64,
    /// The resource as a client reads it after the write.
    pub(crate) after: Value,
    /// The update's event, taken when written.
    pub(crate) event: Option<EventRow>,
}

impl BodyWrite {
    /// The write of `body` over `row`; `None` when `row` holds `body` already.
    pub(crate) fn plan(
        conn: &mut Conn<'_>,
        ctx: &Ctx,
        row: &ResourceRow,
        body: Value,
    ) -> Result<Option<BodyWrite>, Failure> {
        let stored = row.body()?;
        let current = meta::stamp(stored.clone(), &row.id, &row.meta()?);
        BodyWrite::plan_over(conn, ctx, row, (stored, current), body)
    }

    /// [`BodyWrite::plan`] with `row`'s body parsed already: as stored (`old`)
    /// and with its `id` and `meta` (`current`).
    pub(crate) fn plan_over(
        conn: &mut Conn<'_>,
        ctx: &Ctx,
        row: &ResourceRow,
        (old, current): (Value, Value),
        body: Value,
    ) -> Result<Option<BodyWrite>, Failure> {
        if old == body {
            return Ok(None);
        }
        let at = to_nanos(meta::now())?;
        let before = payload(conn, ctx, current, &row.resource_type)?;
        let after = payload(
            conn,
            ctx,
            next_version(row, body.clone(), at)?,
            &row.resource_type,
        )?;
        let event = EventRow::updated(&row.resource_type, &row.id, &before, &after);
        Ok(Some(BodyWrite {
            text: body.to_string(),
            old,
            body,
            at,
            after,
            event: Some(event),
        }))
    }
}

/// What a write of `row`, a resource without members, answers: the planned body
/// (or `row`, unchanged) projected.
pub(crate) fn planned_view(
    conn: &mut Conn<'_>,
    ctx: &Ctx,
    row: &ResourceRow,
    body: Option<&BodyWrite>,
    projection: &Projection,
) -> Result<Value, Failure> {
    let Some(write) = body else {
        return view(conn, ctx, row, projection);
    };
    if *projection == Projection::default() {
        return Ok(write.after.clone());
    }
    let resource = name_manager(conn, ctx, next_version(row, write.body.clone(), write.at)?)?;
    Ok(schema_ops::project(
        ctx,
        &row.resource_type,
        resource,
        projection,
    ))
}

/// The write shared by replace, patch and the member calls: a write that changes
/// nothing leaves no trace (rule 5).
pub(crate) fn write_resource(
    conn: &mut Conn<'_>,
    ctx: &Ctx,
    row: &ResourceRow,
    mut body: Option<&mut BodyWrite>,
    members: MemberChange,
) -> Result<Changed, Failure> {
    let (to_add, to_remove) = match members {
        MemberChange::Keep => (Vec::new(), Vec::new()),
        MemberChange::Set(ids) => {
            let wanted = member_rows::member_refs(conn, &ctx.tenant, &ids)?;
            let wanted_ids: HashSet<&str> =
                wanted.iter().map(|member| member.id.as_str()).collect();
            let to_remove = member_rows::member_ids(conn, row.pk)?
                .into_iter()
                .filter(|id| !wanted_ids.contains(id.as_str()))
                .collect();
            (wanted, to_remove)
        }
        MemberChange::Delta { add, remove } => {
            (member_rows::member_refs(conn, &ctx.tenant, &add)?, remove)
        }
    };
    if let Some(write) = &body {
        if row.resource_type == USER_TYPE {
            check_manager(conn, ctx, &write.body)?;
        }
    }
    let removed = member_rows::remove_members(conn, &ctx.tenant, row.pk, &to_remove)?;
    let added = member_rows::add_members(conn, row.pk, &to_add)?;
    let at = match &body {
        Some(write) => write.at,
        None if added.is_empty() && removed.is_empty() => return Ok(Changed::default()),
        None => to_nanos(meta::now())?,
    };
    let mut planned = None;
    match &mut body {
        Some(write) => {
            rows::update_body(conn, row, &write.old, &write.body, &write.text, at)?;
            planned = write.event.take();
        }
        None => rows::touch(conn, row.pk, at)?,
    }
    let mut events = NewEvent::member_changes(&row.id, &added, &removed);
    if let Some(write) = &body {
        if row.resource_type == USER_TYPE {
            teams::sync(
                conn,
                ctx,
                (row.pk, &row.id),
                Some(&write.body),
                at,
                &mut events,
            )?;
        }
    }
    let events = planned
        .into_iter()
        .chain(events.into_iter().map(EventRow::from));
    event_rows::insert_events(conn, &ctx.tenant, events, at)?;
    let added: HashSet<&str> = added.iter().map(String::as_str).collect();
    Ok(Changed {
        at: Some(at),
        added: to_add
            .into_iter()
            .filter(|member| added.contains(member.id.as_str()))
            .collect(),
        removed,
    })
}

/// `body` stamped as `row`'s next version, written at `at`.
pub(crate) fn next_version(row: &ResourceRow, body: Value, at: i64) -> Result<Value, Failure> {
    let meta = ResourceMeta {
        resource_type: row.resource_type.clone(),
        created: from_nanos(row.created)?,
        last_modified: from_nanos(at)?,
        version: meta::version_tag(u64::try_from(row.version + 1).unwrap_or_default()),
    };
    Ok(meta::stamp(body, &row.id, &meta))
}

/// A resource as an event carries it: as a client reads it (never `password`,
/// a user's manager named).
pub(crate) fn payload(
    conn: &mut Conn<'_>,
    ctx: &Ctx,
    resource: Value,
    resource_type: &str,
) -> Result<Value, Failure> {
    let resource = name_manager(conn, ctx, resource)?;
    Ok(schema_ops::project(
        ctx,
        resource_type,
        resource,
        &Projection::default(),
    ))
}

/// The members of group `row`, from `lists` where given (only outside the writer
/// turn, see [`MemberLists`]), else from the database.
pub(crate) fn member_list(
    conn: &mut Conn<'_>,
    row: &ResourceRow,
    lists: Option<&MemberLists>,
) -> Result<MemberList, Failure> {
    match lists {
        Some(lists) => lists.of(conn, row),
        None => Ok(member_rows::listed_members(conn, row.pk)?.into()),
    }
}

/// A user with its manager's current `displayName` (rule 19): one lookup.
pub(crate) fn name_manager(
    conn: &mut Conn<'_>,
    ctx: &Ctx,
    mut resource: Value,
) -> Result<Value, Failure> {
    if let Some(manager) = derive::manager_id(&resource).map(str::to_owned) {
        let names = member_rows::user_display_names(conn, &ctx.tenant, &[manager.as_str()])?;
        derive::set_manager_display_name(&mut resource, names.get(&manager).map(String::as_str));
    }
    Ok(resource)
}

/// A row as a client sees it: members read only if the projection returns them.
pub(crate) fn view(
    conn: &mut Conn<'_>,
    ctx: &Ctx,
    row: &ResourceRow,
    projection: &Projection,
) -> Result<Value, Failure> {
    view_with(conn, ctx, row, projection, None)
}

/// [`view`], a group's members from `lists` where given.
pub(crate) fn view_with(
    conn: &mut Conn<'_>,
    ctx: &Ctx,
    row: &ResourceRow,
    projection: &Projection,
    lists: Option<&MemberLists>,
) -> Result<Value, Failure> {
    let members = if schema_ops::returns_members(ctx, &row.resource_type, projection) {
        let list = member_list(conn, row, lists)?;
        Some(list.iter().map(ListedMember::object).collect())
    } else {
        None
    };
    let resource = name_manager(conn, ctx, row.resource(members)?)?;
    Ok(schema_ops::project(
        ctx,
        &row.resource_type,
        resource,
        projection,
    ))
}

/// What a write changed: when (`None`: nothing, no new version), and a group's
/// members added (in the order they were stored) and removed.
#[derive(Debug, Default)]
pub(crate) struct Changed {
    pub(crate) at: Option<i64>,
    pub(crate) added: Vec<MemberRef>,
    pub(crate) removed: Vec<String>,
}

impl Changed {
    /// `members` (in the order they were added) with these changes made.
    pub(crate) fn apply_to(&self, members: MemberList) -> MemberList {
        if self.removed.is_empty() && self.added.is_empty() {
            return members;
        }
        let removed: HashSet<&str> = self.removed.iter().map(String::as_str).collect();
        members
            .iter()
            .filter(|member| !removed.contains(&*member.id))
            .cloned()
            .chain(
                self.added.iter().map(|member| {
                    ListedMember::new(&member.id, member.kind, Some(&member.display))
                }),
            )
            .collect()
    }
}
