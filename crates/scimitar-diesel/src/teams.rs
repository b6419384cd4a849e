//! Teams derived from user attributes (rule 21): membership kept in step with each
//! user write, in its transaction, and rebuilt whole on demand.

use std::collections::{BTreeMap, HashMap, HashSet};

use scimitar_store::{derive, meta, NewEvent, TeamsRebuilt};
use serde_json::Value;

use crate::connection::Conn;
use crate::error::Failure;
use crate::event_rows;
use crate::member_rows;
use crate::member_rows::MemberRef;
use crate::resource_write::{payload, remove};
use crate::rows::{self, ResourceRow, GROUP_TYPE, USER_TYPE};
use crate::schema_ops::Ctx;
use crate::time::to_nanos;

/// Puts the user `(pk, id)` in the team its body names (`None`: it is being deleted) and out
/// of any other derived team, adding the events. Nothing under `TeamMode::Groups`.
pub(crate) fn sync(
    conn: &mut Conn<'_>,
    ctx: &Ctx,
    (user_pk, user_id): (i64, &str),
    body: Option<&Value>,
    at: i64,
    events: &mut Vec<NewEvent>,
) -> Result<(), Failure> {
    if !ctx.settings.teams.is_derived() {
        return Ok(());
    }
    let wanted = body
        .and_then(|body| derive::team_of(&ctx.settings.teams, body))
        .map(|name| (derive::team_id(&ctx.tenant, &name), name));
    let leaving = [user_id.to_owned()];
    for team in member_rows::derived_teams_of(conn, user_pk)? {
        if wanted.as_ref().is_none_or(|(id, _)| *id != team.id) {
            change(conn, ctx, &team, &[], &leaving, at, events)?;
        }
    }
    if let (Some((team_id, name)), Some(body)) = (wanted, body) {
        join(
            conn,
            ctx,
            &team_id,
            &name,
            &[MemberRef::user(user_pk, user_id, body)],
            at,
            events,
        )?;
    }
    Ok(())
}

/// Adds `members` to the team `team_id` called `name`, creating it if need be.
fn join(
    conn: &mut Conn<'_>,
    ctx: &Ctx,
    team_id: &str,
    name: &str,
    members: &[MemberRef],
    at: i64,
    events: &mut Vec<NewEvent>,
) -> Result<(), Failure> {
    if let Some(team) = rows::find(conn, &ctx.tenant, GROUP_TYPE, team_id)? {
        return change(conn, ctx, &team, members, &[], at, events);
    }
    let body = derive::team_body(name);
    let pk = rows::insert(
        conn,
        &rows::NewRow {
            tenant: &ctx.tenant,
            resource_type: GROUP_TYPE,
            id: team_id,
            body: &body,
            text: &body.to_string(),
            at,
            origin: rows::Origin {
                client: None,
                derived: true,
            },
        },
    )?;
    let added = member_rows::add_members(conn, pk, members)?;
    let team = rows::get(conn, &ctx.tenant, GROUP_TYPE, team_id)?;
    let created = payload(conn, ctx, team.resource(None)?, GROUP_TYPE)?;
    events.push(NewEvent::created(GROUP_TYPE, team_id, &created));
    events.extend(NewEvent::member_changes(team_id, &added, &[]));
    Ok(())
}

/// Changes a team's members; deletes it when that leaves it empty.
fn change(
    conn: &mut Conn<'_>,
    ctx: &Ctx,
    team: &ResourceRow,
    add: &[MemberRef],
    remove_ids: &[String],
    at: i64,
    events: &mut Vec<NewEvent>,
) -> Result<(), Failure> {
    let removed = member_rows::remove_members(conn, &ctx.tenant, team.pk, remove_ids)?;
    let added = member_rows::add_members(conn, team.pk, add)?;
    if added.is_empty() && removed.is_empty() {
        return Ok(());
    }
    events.extend(NewEvent::member_changes(&team.id, &added, &removed));
    if member_rows::has_members(conn, team.pk)? {
        rows::touch(conn, team.pk, at)
    } else {
        delete(conn, ctx, team, at, events)
    }
}

fn delete(
    conn: &mut Conn<'_>,
    ctx: &Ctx,
    team: &ResourceRow,
    at: i64,
    events: &mut Vec<NewEvent>,
) -> Result<(), Failure> {
    let deleted = payload(conn, ctx, team.resource(None)?, GROUP_TYPE)?;
    events.push(NewEvent::deleted(GROUP_TYPE, &team.id, &deleted));
    remove(conn, &ctx.tenant, team, at, events)
}

/// Makes the derived teams exactly what the users say under the scope's mode.
pub(crate) fn rebuild(conn: &mut Conn<'_>, ctx: &Ctx) -> Result<TeamsRebuilt, Failure> {
    let at = to_nanos(meta::now())?;
    // Team id → (name as its first member spells it, members in user creation
    // order); `Ops` and `ops` share an id. Ordered by id, so the events come out
    // in a stable order.
    let mut wanted: BTreeMap<String, (String, Vec<MemberRef>)> = BTreeMap::new();
    for user in member_rows::all_of_type(conn, &ctx.tenant, USER_TYPE, false)? {
        let body = user.body()?;
        if let Some(name) = derive::team_of(&ctx.settings.teams, &body) {
            wanted
                .entry(derive::team_id(&ctx.tenant, &name))
                .or_insert_with(|| (name, Vec::new()))
                .1
                .push(MemberRef::user(user.pk, user.id, &body));
        }
    }
    let wanted_ids: HashSet<&str> = wanted.keys().map(String::as_str).collect();
    let mut summary = TeamsRebuilt {
        teams: wanted.len(),
        ..TeamsRebuilt::default()
    };
    let mut events = Vec::new();
    let mut existing = HashMap::new();
    for team in member_rows::all_of_type(conn, &ctx.tenant, GROUP_TYPE, true)? {
        if wanted_ids.contains(team.id.as_str()) {
            existing.insert(team.id.clone(), team);
        } else {
            delete(conn, ctx, &team, at, &mut events)?;
            summary.removed += 1;
        }
    }
    for (team_id, (name, members)) in &wanted {
        let Some(team) = existing.get(team_id) else {
            join(conn, ctx, team_id, name, members, at, &mut events)?;
            summary.created += 1;
            continue;
        };
        let keep: HashSet<&str> = members.iter().map(|member| member.id.as_str()).collect();
        let leaving: Vec<String> = member_rows::member_ids(conn, team.pk)?
            .into_iter()
            .filter(|id| !keep.contains(id.as_str()))
            .collect();
        let before = events.len();
        change(conn, ctx, team, members, &leaving, at, &mut events)?;
        if events.len() > before {
            summary.changed += 1;
        }
    }
    event_rows::record_events(conn, &ctx.tenant, events, at)?;
    Ok(summary)
}
