//! What the memory store asks of the schema, filter and patch crates, in one place.

use scimitar_filter::ast::{AttrPath, Filter};
use scimitar_schema::{Hints, Mode};
use serde_json::Value;

use scimitar_patch::{ApplyOptions, OperationError};

use super::{take_member_ids, MemberChange, GROUP};
use crate::schema::{PatchRequest, Projection};
use crate::store::Scope;
use crate::StoreError;

/// A patched resource (without group members) and how its members change.
pub(super) struct Patched {
    pub(super) resource: Value,
    pub(super) members: MemberChange,
}

/// The registry's name for `resource_type` (`users` → `User`), or
/// `UnknownResourceType`.
pub(super) fn resource_type<'a>(
    scope: &Scope<'a>,
    resource_type: &str,
) -> Result<&'a str, StoreError> {
    scope
        .registry
        .resource_type(resource_type)
        .map(|found| found.name.as_str())
        .ok_or_else(|| StoreError::UnknownResourceType(resource_type.to_owned()))
}

/// Validates a client's body with the registry: the cleaned resource to store.
pub(super) fn validate(
    scope: &Scope<'_>,
    resource_type: &str,
    resource: &Value,
    mode: Mode<'_>,
) -> Result<Value, StoreError> {
    Ok(scope
        .registry
        .validate(resource_type, resource, mode, scope.policy)?)
}

/// Shapes a resource for a response (`returned` characteristics, projection).
pub(super) fn project(
    scope: &Scope<'_>,
    resource_type: &str,
    resource: &Value,
    projection: &Projection,
) -> Value {
    scope.registry.project(resource_type, resource, projection)
}

/// Whether a group read with `projection` returns `members` (rule 15: if not, the
/// membership is not read at all).
pub(super) fn returns_members(
    scope: &Scope<'_>,
    resource_type: &str,
    projection: &Projection,
) -> bool {
    projection.needs_attribute(scope.registry, resource_type, &AttrPath::new("members"))
}

/// Rule 11's reference semantics: the filter crate's evaluator with the registry's
/// hints.
pub(super) fn matches(hints: &Hints<'_>, filter: &Filter, resource: &Value) -> bool {
    scimitar_filter::matches(filter, resource, hints)
}

/// Applies a PATCH. A group comes without its members (`with_members` false) and
/// member operations come back as a delta; a group that comes with them (the
/// fallback for paths that need the list) comes back with its whole new list.
pub(super) fn apply_patch(
    scope: &Scope<'_>,
    resource_type: &str,
    resource: &Value,
    request: &PatchRequest,
    with_members: bool,
) -> Result<Patched, StoreError> {
    let is_group = resource_type == GROUP;
    let options = ApplyOptions {
        external_members: is_group && !with_members,
    };
    let patched = scimitar_patch::apply_with(
        scope.registry,
        resource_type,
        resource,
        request,
        scope.policy,
        &options,
    )?;
    let mut resource = patched.resource;
    let changes = patched.changes;
    let members = if !is_group {
        MemberChange::Keep
    } else if with_members {
        MemberChange::Set(take_member_ids(&mut resource)?)
    } else {
        let added: Vec<String> = changes
            .members_added
            .into_iter()
            .map(|member| member.value)
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

/// Whether a PATCH failed only because it needs the group's member list.
pub(super) fn needs_member_list(error: &StoreError) -> bool {
    matches!(
        error,
        StoreError::Patch(error)
            if matches!(error.reason(), Some(OperationError::MembersNeedList { .. }))
    )
}
