//! Teams derived from user attributes (rule 21): membership kept in step with each
//! user write, and rebuilt whole on demand.

use std::collections::{BTreeMap, HashSet};

use time::OffsetDateTime;

use super::members::MemberList;
use super::{State, GROUP_TYPE, USER_TYPE};
use crate::derive;
use crate::event::NewEvent;
use crate::meta;
use crate::store::{Scope, TeamsRebuilt};
use crate::write::NewMember;

/// Users joining a team: their own names are their `display`.
fn new_members(ids: &[String]) -> Vec<NewMember> {
    ids.iter().map(NewMember::new).collect()
}

impl State {
    /// Puts user `user_id` in the team its attributes name, and out of any other
    /// derived team; returns the events. Nothing under `TeamMode::Groups`.
    pub(super) fn sync_team(
        &mut self,
        scope: &Scope<'_>,
        user_id: &str,
        at: OffsetDateTime,
    ) -> Vec<NewEvent> {
        let team = self
            .tenant(scope.tenant)
            .resources
            .get(user_id)
            .and_then(|record| derive::team_of(&scope.settings.teams, &record.resource));
        self.move_to_team(scope, user_id, team, at)
    }

    /// Takes user `user_id` out of its derived team (it is being deleted).
    pub(super) fn leave_team(
        &mut self,
        scope: &Scope<'_>,
        user_id: &str,
        at: OffsetDateTime,
    ) -> Vec<NewEvent> {
        self.move_to_team(scope, user_id, None, at)
    }

    fn move_to_team(
        &mut self,
        scope: &Scope<'_>,
        user_id: &str,
        team: Option<String>,
        at: OffsetDateTime,
    ) -> Vec<NewEvent> {
        if !scope.settings.teams.is_derived() {
            return Vec::new();
        }
        let wanted = team.map(|name| (derive::team_id(scope.tenant, &name), name));
        let data = self.tenant(scope.tenant);
        let mut current: Vec<(u64, String)> = data
            .member_of
            .get(user_id)
            .into_iter()
            .flatten()
            .filter_map(|group| {
                let record = data.resources.get(group).filter(|record| record.derived)?;
                Some((record.position, group.clone()))
            })
            .collect();
        current.sort();
        let mut events = Vec::new();
        let member = [user_id.to_owned()];
        for (_, team_id) in current {
            if wanted.as_ref().is_some_and(|(id, _)| *id == team_id) {
                continue;
            }
            self.change_team(scope, &team_id, &[], &member, at, &mut events);
        }
        if let Some((team_id, name)) = wanted {
            self.join_team(scope, &team_id, &name, &member, at, &mut events);
        }
        events
    }

    /// Adds `members` to the derived team `team_id` called `name`, creating it if
    /// it does not exist.
    fn join_team(
        &mut self,
        scope: &Scope<'_>,
        team_id: &str,
        name: &str,
        members: &[String],
        at: OffsetDateTime,
        events: &mut Vec<NewEvent>,
    ) {
        if self.tenant(scope.tenant).resources.contains_key(team_id) {
            self.change_team(scope, team_id, members, &[], at, events);
            return;
        }
        self.insert(
            scope.tenant,
            GROUP_TYPE,
            team_id,
            derive::team_body(name),
            at,
            super::Origin {
                client: None,
                derived: true,
            },
        );
        let data = self.tenant(scope.tenant);
        let added = data.add_members(team_id, &new_members(members));
        events.push(NewEvent::created(
            GROUP_TYPE,
            team_id,
            &data.payload(scope, GROUP_TYPE, team_id),
        ));
        events.extend(NewEvent::member_changes(team_id, &added, &[]));
    }

    /// Adds and removes members of an existing team; deletes it when it is left
    /// empty.
    fn change_team(
        &mut self,
        scope: &Scope<'_>,
        team_id: &str,
        add: &[String],
        remove: &[String],
        at: OffsetDateTime,
        events: &mut Vec<NewEvent>,
    ) {
        let data = self.tenant(scope.tenant);
        let removed = data.remove_members(team_id, remove);
        let added = data.add_members(team_id, &new_members(add));
        if added.is_empty() && removed.is_empty() {
            return;
        }
        let empty = data.members.get(team_id).is_none_or(MemberList::is_empty);
        if empty {
            let payload = data.payload(scope, GROUP_TYPE, team_id);
            events.extend(NewEvent::member_changes(team_id, &added, &removed));
            events.push(NewEvent::deleted(GROUP_TYPE, team_id, &payload));
            self.remove(scope.tenant, team_id, at, events);
        } else {
            data.touch(team_id, at);
            events.extend(NewEvent::member_changes(team_id, &added, &removed));
        }
    }

    /// Makes the derived teams exactly what the users' attributes say under the
    /// scope's mode (rule 21).
    pub(super) fn rebuild_teams(&mut self, scope: &Scope<'_>) -> TeamsRebuilt {
        let at = meta::now();
        let data = self.tenant(scope.tenant);
        // Team id → (name as its first member spells it, members in user creation
        // order); `Ops` and `ops` share an id. Ordered by id, so the events come
        // out in a stable order.
        let mut wanted: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
        for id in data
            .by_position
            .get(USER_TYPE)
            .into_iter()
            .flat_map(|ids| ids.values())
        {
            let team = data
                .resources
                .get(id)
                .and_then(|record| derive::team_of(&scope.settings.teams, &record.resource));
            if let Some(name) = team {
                wanted
                    .entry(derive::team_id(scope.tenant, &name))
                    .or_insert_with(|| (name, Vec::new()))
                    .1
                    .push(id.clone());
            }
        }
        // Existing derived teams, in creation order.
        let existing: Vec<String> = data
            .by_position
            .get(GROUP_TYPE)
            .into_iter()
            .flat_map(|ids| ids.values())
            .filter(|id| {
                data.resources
                    .get(id.as_str())
                    .is_some_and(|record| record.derived)
            })
            .cloned()
            .collect();
        let wanted_ids: HashSet<&String> = wanted.keys().collect();
        let mut summary = TeamsRebuilt {
            teams: wanted.len(),
            ..TeamsRebuilt::default()
        };
        let mut events = Vec::new();
        for team_id in existing.iter().filter(|id| !wanted_ids.contains(id)) {
            let data = self.tenant(scope.tenant);
            let payload = data.payload(scope, GROUP_TYPE, team_id);
            events.push(NewEvent::deleted(GROUP_TYPE, team_id, &payload));
            self.remove(scope.tenant, team_id, at, &mut events);
            summary.removed += 1;
        }
        let existing: HashSet<String> = existing.into_iter().collect();
        for (team_id, (name, members)) in &wanted {
            if !existing.contains(team_id) {
                self.join_team(scope, team_id, name, members, at, &mut events);
                summary.created += 1;
                continue;
            }
            let keep: HashSet<&String> = members.iter().collect();
            let leaving: Vec<String> = self
                .tenant(scope.tenant)
                .members
                .get(team_id)
                .into_iter()
                .flat_map(|list| list.iter())
                .filter(|id| !keep.contains(id))
                .cloned()
                .collect();
            let before = events.len();
            self.change_team(scope, team_id, members, &leaving, at, &mut events);
            if events.len() > before {
                summary.changed += 1;
            }
        }
        self.record(scope.tenant, events, at);
        summary
    }
}
