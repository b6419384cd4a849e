//! The outbox: change events written in the same transaction as the change.
//!
//! A consumer (webhooks, audit, an app syncing its own tables) reads them in order
//! with [`EventStore::events`](crate::EventStore::events), remembering the last `seq` it saw.
//! [`NewEvent`]'s constructors build the events of each kind of write, so every
//! store records the same events with the same payloads.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::write::{GROUP_TYPE, USER_TYPE};

/// What happened to a resource.
///
/// Users and groups get specific kinds (an IdP's deactivation is the event apps care
/// most about); other resource types get the `Resource*` kinds. Teams derived from
/// user attributes ([`TeamMode::Department`](crate::TeamMode::Department)) are
/// groups and get the group kinds: `group.created` when a team first has a member,
/// `members.added` / `members.removed` as users join and leave it, `group.deleted`
/// when its last member leaves. A payload that is a
/// resource is the resource as a client would read it (with `id` and `meta`, never
/// `password`), and a group's never carries `members`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChangeKind {
    /// A user was created. Payload: the user.
    UserCreated,
    /// A user changed, other than `active`. Payload: the user after the change.
    UserUpdated,
    /// A user's `active` went from true (or absent) to false. Payload: the user.
    UserDeactivated,
    /// A user's `active` went from false to true (or absent). Payload: the user.
    UserReactivated,
    /// A user was deleted. Payload: the user as it was; a user archived rather than
    /// deleted ([`DeletionMode::Archive`](crate::DeletionMode::Archive)) has
    /// `"archived": true` beside its attributes.
    UserDeleted,
    /// A group was created. Payload: the group without `members` (those that it was
    /// created with are reported by a following [`ChangeKind::MembersAdded`]).
    GroupCreated,
    /// A group's `displayName` changed. Payload: the group without `members`.
    GroupRenamed,
    /// A group changed otherwise (not its members, not its name). Payload: the
    /// group without `members`.
    GroupUpdated,
    /// A group was deleted. Payload: the group as it was, without `members`.
    GroupDeleted,
    /// Members joined a group. Payload: `{"members": ["<id>", ...]}`.
    MembersAdded,
    /// Members left a group (removed, or deleted). Payload: `{"members": ["<id>", ...]}`.
    MembersRemoved,
    /// A resource of another type was created. Payload: the resource.
    ResourceCreated,
    /// A resource of another type changed. Payload: the resource after the change.
    ResourceUpdated,
    /// A resource of another type was deleted. Payload: the resource as it was.
    ResourceDeleted,
}

impl ChangeKind {
    /// Every kind, for tests and for mapping stored names back.
    pub const ALL: [ChangeKind; 14] = [
        ChangeKind::UserCreated,
        ChangeKind::UserUpdated,
        ChangeKind::UserDeactivated,
        ChangeKind::UserReactivated,
        ChangeKind::UserDeleted,
        ChangeKind::GroupCreated,
        ChangeKind::GroupRenamed,
        ChangeKind::GroupUpdated,
        ChangeKind::GroupDeleted,
        ChangeKind::MembersAdded,
        ChangeKind::MembersRemoved,
        ChangeKind::ResourceCreated,
        ChangeKind::ResourceUpdated,
        ChangeKind::ResourceDeleted,
    ];

    /// The stable name, as stored in a database column: `user.created`, `members.added`...
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::UserCreated => "user.created",
            ChangeKind::UserUpdated => "user.updated",
            ChangeKind::UserDeactivated => "user.deactivated",
            ChangeKind::UserReactivated => "user.reactivated",
            ChangeKind::UserDeleted => "user.deleted",
            ChangeKind::GroupCreated => "group.created",
            ChangeKind::GroupRenamed => "group.renamed",
            ChangeKind::GroupUpdated => "group.updated",
            ChangeKind::GroupDeleted => "group.deleted",
            ChangeKind::MembersAdded => "members.added",
            ChangeKind::MembersRemoved => "members.removed",
            ChangeKind::ResourceCreated => "resource.created",
            ChangeKind::ResourceUpdated => "resource.updated",
            ChangeKind::ResourceDeleted => "resource.deleted",
        }
    }
}

impl ChangeKind {
    /// The kind of creating a resource of `resource_type`.
    pub fn created(resource_type: &str) -> ChangeKind {
        match resource_type {
            USER_TYPE => ChangeKind::UserCreated,
            GROUP_TYPE => ChangeKind::GroupCreated,
            _ => ChangeKind::ResourceCreated,
        }
    }

    /// The kind of changing a resource of `resource_type` from `before` to
    /// `after` (attributes other than group members).
    pub fn updated(resource_type: &str, before: &Value, after: &Value) -> ChangeKind {
        match resource_type {
            USER_TYPE => match (is_active(before), is_active(after)) {
                (true, false) => ChangeKind::UserDeactivated,
                (false, true) => ChangeKind::UserReactivated,
                _ => ChangeKind::UserUpdated,
            },
            GROUP_TYPE if display_name(before) != display_name(after) => ChangeKind::GroupRenamed,
            GROUP_TYPE => ChangeKind::GroupUpdated,
            _ => ChangeKind::ResourceUpdated,
        }
    }
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name is not one of [`ChangeKind::as_str`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown change kind {0:?}")]
pub struct UnknownChangeKind(pub String);

impl FromStr for ChangeKind {
    type Err = UnknownChangeKind;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        ChangeKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .ok_or_else(|| UnknownChangeKind(name.to_owned()))
    }
}

/// A recorded change, as read back from the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeEvent {
    /// Position in the tenant's outbox: strictly increasing in the order the
    /// changes were committed.
    pub seq: u64,
    /// The tenant whose resource changed.
    pub tenant: String,
    /// What happened.
    pub kind: ChangeKind,
    /// The resource type, e.g. `User`.
    pub resource_type: String,
    /// The resource's id.
    pub resource_id: String,
    /// What [`ChangeKind`] documents for the kind.
    pub payload: Value,
    /// When the change was made.
    pub at: OffsetDateTime,
}

/// An event about to be recorded; the store adds `seq`, `tenant` and `at`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// What happened.
    pub kind: ChangeKind,
    /// The resource type.
    pub resource_type: String,
    /// The resource's id.
    pub resource_id: String,
    /// The payload [`ChangeKind`] documents.
    pub payload: Value,
}

impl NewEvent {
    /// The event of creating `resource` (as stored, with `id` and `meta`).
    pub fn created(resource_type: &str, resource_id: &str, resource: &Value) -> Self {
        let kind = ChangeKind::created(resource_type);
        NewEvent::about(kind, resource_type, resource_id, without_members(resource))
    }

    /// The event of changing a resource from `before` to `after` (attributes other
    /// than group members; see [`NewEvent::members_added`]).
    pub fn updated(resource_type: &str, resource_id: &str, before: &Value, after: &Value) -> Self {
        let kind = ChangeKind::updated(resource_type, before, after);
        NewEvent::about(kind, resource_type, resource_id, without_members(after))
    }

    /// The event of deleting `resource` (as it was).
    pub fn deleted(resource_type: &str, resource_id: &str, resource: &Value) -> Self {
        let kind = match resource_type {
            USER_TYPE => ChangeKind::UserDeleted,
            GROUP_TYPE => ChangeKind::GroupDeleted,
            _ => ChangeKind::ResourceDeleted,
        };
        NewEvent::about(kind, resource_type, resource_id, without_members(resource))
    }

    /// The event of archiving user `resource_id` (as it was) instead of deleting it:
    /// a [`ChangeKind::UserDeleted`] whose payload has `"archived": true`.
    pub fn archived(resource_id: &str, resource: &Value) -> Self {
        let mut event = NewEvent::deleted(USER_TYPE, resource_id, resource);
        if let Value::Object(fields) = &mut event.payload {
            fields.insert("archived".into(), Value::Bool(true));
        }
        event
    }

    /// The event of `members` (ids) joining group `group_id`.
    pub fn members_added(group_id: &str, members: &[String]) -> Self {
        NewEvent::about(
            ChangeKind::MembersAdded,
            GROUP_TYPE,
            group_id,
            json!({ "members": members }),
        )
    }

    /// The event of `members` (ids) leaving group `group_id`.
    pub fn members_removed(group_id: &str, members: &[String]) -> Self {
        NewEvent::about(
            ChangeKind::MembersRemoved,
            GROUP_TYPE,
            group_id,
            json!({ "members": members }),
        )
    }

    /// The events of a change to group `group_id`'s members: one for the ids
    /// `added`, one for the ids `removed`, each only when it names someone.
    pub fn member_changes(group_id: &str, added: &[String], removed: &[String]) -> Vec<Self> {
        let mut events = Vec::new();
        if !added.is_empty() {
            events.push(NewEvent::members_added(group_id, added));
        }
        if !removed.is_empty() {
            events.push(NewEvent::members_removed(group_id, removed));
        }
        events
    }

    fn about(kind: ChangeKind, resource_type: &str, resource_id: &str, payload: Value) -> Self {
        NewEvent {
            kind,
            resource_type: resource_type.to_owned(),
            resource_id: resource_id.to_owned(),
            payload,
        }
    }

    /// The recorded event, once the store has given it a place in the outbox.
    pub fn record(self, seq: u64, tenant: &str, at: OffsetDateTime) -> ChangeEvent {
        ChangeEvent {
            seq,
            tenant: tenant.to_owned(),
            kind: self.kind,
            resource_type: self.resource_type,
            resource_id: self.resource_id,
            payload: self.payload,
            at,
        }
    }
}

/// RFC 7643 leaves a missing `active` undefined; a user without it counts as active,
/// so setting it to false is a deactivation.
fn is_active(user: &Value) -> bool {
    user.get("active").and_then(Value::as_bool) != Some(false)
}

fn display_name(group: &Value) -> Option<&Value> {
    group.get("displayName")
}

/// A resource as an event's payload serialises it: without a group's `members`,
/// as [`NewEvent::created`] and [`NewEvent::updated`] carry it. A store that keeps
/// payloads as text serialises this instead of the event, sparing the copy.
///
/// ```
/// use scimitar_store::event::Payload;
/// use serde_json::json;
///
/// let group = json!({"displayName": "Sales", "members": [{"value": "1"}]});
/// assert_eq!(Payload(&group).to_string(), r#"{"displayName":"Sales"}"#);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Payload<'a>(pub &'a Value);

impl Serialize for Payload<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Value::Object(fields) = self.0 else {
            return self.0.serialize(serializer);
        };
        let kept = fields.iter().filter(|(name, _)| !is_members(name));
        serializer.collect_map(kept)
    }
}

impl fmt::Display for Payload<'_> {
    /// The payload as JSON text (writing a `Value` cannot fail).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&serde_json::to_string(self).map_err(|_| fmt::Error)?)
    }
}

/// Whether an attribute name is a group's `members` (names are case-insensitive).
fn is_members(name: &str) -> bool {
    name.eq_ignore_ascii_case("members")
}

fn without_members(resource: &Value) -> Value {
    match resource {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .filter(|(name, _)| !is_members(name))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip() {
        for kind in ChangeKind::ALL {
            assert_eq!(kind.as_str().parse::<ChangeKind>(), Ok(kind));
        }
        assert!("user.exploded".parse::<ChangeKind>().is_err());
    }

    #[test]
    fn user_activity_changes_are_classified() {
        let on = json!({"userName": "a", "active": true});
        let off = json!({"userName": "a", "active": false});
        let unset = json!({"userName": "a"});
        let kind = |b: &Value, a: &Value| NewEvent::updated("User", "1", b, a).kind;
        assert_eq!(kind(&on, &off), ChangeKind::UserDeactivated);
        assert_eq!(kind(&unset, &off), ChangeKind::UserDeactivated);
        assert_eq!(kind(&off, &on), ChangeKind::UserReactivated);
        assert_eq!(
            kind(&on, &json!({"userName": "b", "active": true})),
            ChangeKind::UserUpdated
        );
    }

    #[test]
    fn archiving_is_a_deletion_that_says_so() {
        let event = NewEvent::archived("1", &json!({"userName": "a"}));
        assert_eq!(event.kind, ChangeKind::UserDeleted);
        assert_eq!(event.payload, json!({"userName": "a", "archived": true}));
        assert!(NewEvent::deleted("User", "1", &json!({}))
            .payload
            .get("archived")
            .is_none());
    }

    #[test]
    fn group_events_never_carry_members() {
        let before = json!({"displayName": "a", "members": [{"value": "1"}]});
        let after = json!({"displayName": "b", "members": [{"value": "1"}]});
        let event = NewEvent::updated("Group", "g", &before, &after);
        assert_eq!(event.kind, ChangeKind::GroupRenamed);
        assert_eq!(event.payload, json!({"displayName": "b"}));
        assert_eq!(
            NewEvent::created("Group", "g", &after).payload,
            json!({"displayName": "b"})
        );
    }
}
