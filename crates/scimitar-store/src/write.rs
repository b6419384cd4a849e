//! The store-independent steps of a write, spelled once so that every [`Store`]
//! decides them alike: which resource types are writable (rule 21), how a group's
//! members are split off its body, what a PATCH does to a group's members, the
//! `If-Match` check, and whether a delete archives.
//!
//! A store keeps a group's members apart from its body (a membership relation), so
//! a group is patched without them: [`apply_patch`] reports the member operations
//! as a [`MemberChange`] to apply to that relation.
//!
//! ```
//! use scimitar_store::write::{take_members, NewMember};
//! use serde_json::json;
//!
//! let mut group = json!({"displayName": "Sales", "members": [{"value": "2819c223", "display": "Babs"}]});
//! assert_eq!(take_members(&mut group)?, vec![NewMember::new("2819c223").display("Babs")]);
//! assert_eq!(group, json!({"displayName": "Sales"}));
//! # Ok::<(), scimitar_store::StoreError>(())
//! ```
//!
//! [`Store`]: crate::Store

use scimitar_patch::{ApplyOptions, OperationError};
use serde_json::Value;
use time::OffsetDateTime;

use crate::derive;
use crate::event::NewEvent;
use crate::meta;
use crate::schema::{PatchRequest, Policy, Projection, Registry};
use crate::settings::{DeletionMode, TenantSettings};
use crate::store::{Scope, Store};
use crate::StoreError;

/// The name of the User resource type.
pub const USER_TYPE: &str = "User";
/// The name of the Group resource type.
pub const GROUP_TYPE: &str = "Group";

/// A member a write adds to a group: its id, and the `display` the client sent.
///
/// Stores keep `display` with the membership (rule 16): the value sent, else the
/// member's current `displayName` (a user without one: its `userName`), which
/// follows its renames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMember {
    /// The member's id.
    pub id: String,
    /// The `display` sent, if any.
    pub display: Option<String>,
}

impl NewMember {
    /// The member `id`, sent without a `display`.
    pub fn new(id: impl Into<String>) -> Self {
        NewMember {
            id: id.into(),
            display: None,
        }
    }

    /// This member with the `display` sent.
    pub fn display(self, display: impl Into<String>) -> Self {
        NewMember {
            display: Some(display.into()),
            ..self
        }
    }
}

/// How a write changes a group's members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberChange {
    /// The members stay as they are.
    Keep,
    /// The members become exactly these.
    Set(Vec<NewMember>),
    /// These members are added and those (ids) removed.
    Delta {
        /// Members to add.
        add: Vec<NewMember>,
        /// Ids of members to remove.
        remove: Vec<String>,
    },
}

impl MemberChange {
    /// Adds the members `ids` (a member already there stays once).
    pub fn add(ids: Vec<String>) -> Self {
        MemberChange::Delta {
            add: ids.into_iter().map(NewMember::new).collect(),
            remove: Vec::new(),
        }
    }

    /// Removes the members `ids`.
    pub fn remove(ids: Vec<String>) -> Self {
        MemberChange::Delta {
            add: Vec::new(),
            remove: ids,
        }
    }
}

/// A PATCH applied to a resource read without its group members.
#[derive(Debug)]
pub struct Patched {
    /// The patched resource, without `members`.
    pub resource: Value,
    /// How the group's members change ([`MemberChange::Keep`] for other types).
    pub members: MemberChange,
}

/// How often [`patch_by_replace`] reads and writes again when other writes keep
/// coming in between, before it gives up with [`StoreError::Unavailable`].
pub const PATCH_ATTEMPTS: usize = 8;

/// PATCH (rules 6 and 8) over [`Store::get`] and a conditional [`Store::replace`]:
/// the provided [`Store::patch`]. It reads the resource, checks `expected_version`,
/// applies the request in memory with `scimitar-patch`, and replaces the resource
/// on the condition that its version is still the one read. When another write
/// came in between and the client named no version, it starts again (at most
/// [`PATCH_ATTEMPTS`] times); with a version named, the client's precondition no
/// longer holds and the answer is [`StoreError::VersionMismatch`]. A request that
/// changes nothing writes nothing (rule 5).
///
/// Its cost is a read and a write of the whole resource, members included.
///
/// # Errors
/// The store's, the patch's ([`StoreError::Patch`]), and
/// [`StoreError::Unavailable`] after [`PATCH_ATTEMPTS`] lost races.
pub async fn patch_by_replace<S: Store + ?Sized>(
    store: &S,
    scope: &Scope<'_>,
    resource_type: &str,
    id: &str,
    request: &PatchRequest,
    expected_version: Option<&str>,
    projection: &Projection,
) -> Result<Value, StoreError> {
    let name = scope
        .registry
        .resource_type(resource_type)
        .map(|found| found.name.clone())
        .ok_or_else(|| StoreError::UnknownResourceType(resource_type.to_owned()))?;
    let whole = Projection::default();
    for _ in 0..PATCH_ATTEMPTS {
        let current = store.get(scope, &name, id, &whole).await?;
        let version = current["meta"]["version"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        check_version(expected_version, &version)?;
        let patched =
            scimitar_patch::apply(scope.registry, &name, &current, request, scope.policy)?;
        if patched.changes.is_empty() {
            return Ok(scope.registry.project(&name, &current, projection));
        }
        match store
            .replace(scope, &name, id, patched.resource, Some(&version))
            .await
        {
            Ok(replaced) => return Ok(scope.registry.project(&name, &replaced, projection)),
            Err(StoreError::VersionMismatch { .. }) if expected_version.is_none() => continue,
            Err(error) => return Err(error),
        }
    }
    Err(StoreError::Unavailable(
        format!("{name} {id} changed {PATCH_ATTEMPTS} times while it was being patched; try again")
            .into(),
    ))
}

/// Rule 21: Groups are read-only while teams are derived.
pub fn check_writable(settings: &TenantSettings, resource_type: &str) -> Result<(), StoreError> {
    if resource_type == GROUP_TYPE && settings.teams.is_derived() {
        return Err(StoreError::ReadOnly {
            resource_type: GROUP_TYPE.to_owned(),
        });
    }
    Ok(())
}

/// Rule 21: whether the resource may be deleted. Under derived teams a derived
/// team may not; a Group the identity provider pushed before the switch may, so
/// that none is left that nobody can remove.
pub fn check_deletable(
    settings: &TenantSettings,
    resource_type: &str,
    derived: bool,
) -> Result<(), StoreError> {
    if derived {
        check_writable(settings, resource_type)
    } else {
        Ok(())
    }
}

/// Who made an existing resource and when: what [`is_replay`] weighs.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    /// The client that created it ([`Scope::client`](crate::Scope::client) at the
    /// time), if one was known.
    pub client: Option<&'a str>,
    /// When it was created.
    pub created: OffsetDateTime,
}

/// Rule 10: whether a create of `body` (validated, members split off) by the
/// scope's client repeats the create that made `existing` (its stored body, from
/// `origin`), so that the store answers with `existing` instead of a conflict.
///
/// Only with [`TenantSettings::create_retry_window_seconds`] set, only for the
/// same client within that window, only with an equal `externalId` (both absent
/// counts), and only when `existing` has every attribute of `body` with the same
/// value ([`derive::has_all_attributes_of`]).
pub fn is_replay(
    scope: &crate::Scope<'_>,
    resource_type: &str,
    origin: Origin<'_>,
    existing: &Value,
    body: &Value,
) -> bool {
    let window = scope.settings.create_retry_window_seconds;
    if window == 0 {
        return false;
    }
    let same_client = matches!((scope.client, origin.client), (Some(a), Some(b)) if a == b);
    let age = meta::now() - origin.created;
    let external_id = |value: &Value| value.get("externalId").cloned();
    same_client
        && age < time::Duration::seconds(i64::from(window))
        && external_id(existing) == external_id(body)
        && derive::has_all_attributes_of(scope.registry, resource_type, existing, body)
}

/// An `If-Match` precondition (rule 6): `expected`, when given, must match the
/// resource's `current` version ([`meta::version_matches`]).
pub fn check_version(expected: Option<&str>, current: &str) -> Result<(), StoreError> {
    match expected {
        Some(expected) if !meta::version_matches(expected, current) => {
            Err(StoreError::VersionMismatch {
                current: current.to_owned(),
            })
        }
        _ => Ok(()),
    }
}

/// What deleting resource `id` (`as_read`, as a client reads it) records, and
/// whether the resource is archived rather than forgotten: a User is under
/// [`DeletionMode::Archive`] (an `archived` event), anything else is deleted.
pub fn deletion(
    settings: &TenantSettings,
    resource_type: &str,
    id: &str,
    as_read: &Value,
) -> (NewEvent, bool) {
    if resource_type == USER_TYPE && settings.deletion == DeletionMode::Archive {
        (NewEvent::archived(id, as_read), true)
    } else {
        (NewEvent::deleted(resource_type, id, as_read), false)
    }
}

/// Splits a validated create or replace body: a group's members are taken off
/// it; any other resource loses an Enterprise manager that names no one
/// ([`derive::drop_unassigned_manager`]).
pub fn split_members(resource_type: &str, body: &mut Value) -> Result<Vec<NewMember>, StoreError> {
    if resource_type == GROUP_TYPE {
        take_members(body)
    } else {
        derive::drop_unassigned_manager(body);
        Ok(Vec::new())
    }
}

/// Applies a PATCH. A group is passed without its members unless `with_members`
/// (the fallback for paths that need the list): member operations then come back
/// as a delta; with them, as the whole new list.
pub fn apply_patch(
    registry: &Registry,
    policy: &Policy,
    resource_type: &str,
    resource: &Value,
    request: &PatchRequest,
    with_members: bool,
) -> Result<Patched, StoreError> {
    let is_group = resource_type == GROUP_TYPE;
    let options = ApplyOptions {
        external_members: is_group && !with_members,
    };
    let patched =
        scimitar_patch::apply_with(registry, resource_type, resource, request, policy, &options)?;
    let mut resource = patched.resource;
    let changes = patched.changes;
    let members = if !is_group {
        MemberChange::Keep
    } else if with_members {
        MemberChange::Set(take_members(&mut resource)?)
    } else {
        let added: Vec<NewMember> = changes
            .members_added
            .into_iter()
            .map(|member| NewMember {
                id: member.value,
                display: member.display,
            })
            .collect();
        if changes.members_replaced {
            MemberChange::Set(added)
        } else {
            MemberChange::Delta {
                add: added,
                remove: changes.members_removed,
            }
        }
    };
    Ok(Patched { resource, members })
}

/// Whether a PATCH failed only because it selects members by something other
/// than their id (`members[display eq "x"]`): applying it again with the member
/// list loaded succeeds.
pub fn needs_member_list(error: &StoreError) -> bool {
    matches!(
        error,
        StoreError::Patch(error)
            if matches!(error.reason(), Some(OperationError::MembersNeedList { .. }))
    )
}

/// Removes a group's `members` from its body and returns them (id and `display`).
///
/// # Errors
///
/// [`StoreError::UnknownMember`] for a member without a string `value`, or
/// `members` that is not an array.
pub fn take_members(body: &mut Value) -> Result<Vec<NewMember>, StoreError> {
    let Value::Object(fields) = body else {
        return Ok(Vec::new());
    };
    let Some(key) = fields
        .keys()
        .find(|name| name.eq_ignore_ascii_case("members"))
        .cloned()
    else {
        return Ok(Vec::new());
    };
    match fields.remove(&key) {
        Some(Value::Array(members)) => members
            .into_iter()
            .map(|member| match member.get("value") {
                Some(Value::String(id)) => Ok(NewMember {
                    id: id.clone(),
                    display: member
                        .get("display")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                }),
                _ => Err(StoreError::UnknownMember(member.to_string())),
            })
            .collect(),
        Some(Value::Null) | None => Ok(Vec::new()),
        Some(other) => Err(StoreError::UnknownMember(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::settings::TeamMode;

    #[test]
    fn members_are_taken_off_a_group_whatever_the_case_of_their_name() {
        let mut group =
            json!({"displayName": "Sales", "MEMBERS": [{"value": "a"}, {"value": "b"}]});
        assert_eq!(
            take_members(&mut group).ok(),
            Some(vec![NewMember::new("a"), NewMember::new("b")])
        );
        assert_eq!(group, json!({"displayName": "Sales"}));
    }

    #[test]
    fn a_member_without_a_string_value_is_unknown() {
        let mut group = json!({"members": [{"value": 7}]});
        assert!(matches!(
            take_members(&mut group),
            Err(StoreError::UnknownMember(_))
        ));
    }

    #[test]
    fn a_version_precondition_compares_weakly_and_reports_the_current_version() {
        assert!(check_version(None, "W/\"2\"").is_ok());
        assert!(check_version(Some("*"), "W/\"2\"").is_ok());
        assert!(check_version(Some("\"2\""), "W/\"2\"").is_ok());
        assert!(matches!(
            check_version(Some("W/\"1\""), "W/\"2\""),
            Err(StoreError::VersionMismatch { current }) if current == "W/\"2\""
        ));
    }

    #[test]
    fn groups_are_read_only_only_while_teams_are_derived() {
        let mut settings = TenantSettings::default();
        assert!(check_writable(&settings, GROUP_TYPE).is_ok());
        settings.teams = TeamMode::Department {
            separator: " / ".into(),
        };
        assert!(matches!(
            check_writable(&settings, GROUP_TYPE),
            Err(StoreError::ReadOnly { .. })
        ));
        assert!(check_writable(&settings, USER_TYPE).is_ok());
    }
}
