//! What the store asks of the schema, filter and patch crates, in one place.

use scimitar_filter::ast::{AttrPath, Filter};
use scimitar_patch::{ApplyOptions, OperationError};
use scimitar_schema::Mode;
use scimitar_store::{
    PatchRequest, Policy, Projection, Registry, Scope, StoreError, TenantSettings,
};
use serde_json::Value;

use crate::rows::GROUP;

/// A [`Scope`] owned, to move onto a blocking thread (the registry, policy and
/// settings are cheap to clone).
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub(crate) tenant: String,
    pub(crate) registry: Registry,
    pub(crate) policy: Policy,
    pub(crate) settings: TenantSettings,
}

impl Ctx {
    pub(crate) fn of(scope: &Scope<'_>) -> Self {
        Ctx {
            tenant: scope.tenant.to_owned(),
            registry: scope.registry.clone(),
            policy: scope.policy.clone(),
            settings: scope.settings.clone(),
        }
    }

    /// Rule 21: Groups are read-only while teams are derived.
    pub(crate) fn check_writable(&self, resource_type: &str) -> Result<(), StoreError> {
        if resource_type == GROUP && self.settings.teams.is_derived() {
            return Err(StoreError::ReadOnly {
                resource_type: GROUP.to_owned(),
            });
        }
        Ok(())
    }

    /// The registry's name for a resource type; `UnknownResourceType` otherwise.
    pub(crate) fn resource_type(&self, name: &str) -> Result<String, StoreError> {
        self.registry
            .resource_type(name)
            .map(|rt| rt.name.clone())
            .ok_or_else(|| StoreError::UnknownResourceType(name.to_owned()))
    }
}

/// How a write changes a group's members.
#[derive(Debug)]
pub(crate) enum MemberChange {
    Keep,
    Set(Vec<String>),
    Delta {
        add: Vec<String>,
        remove: Vec<String>,
    },
}

/// A PATCH applied to a resource read without its group members.
pub(crate) struct Patched {
    pub(crate) resource: Value,
    pub(crate) members: MemberChange,
}

/// Validates a client's body with the registry: the cleaned resource to store.
pub(crate) fn validate(
    ctx: &Ctx,
    resource_type: &str,
    resource: &Value,
    mode: Mode<'_>,
) -> Result<Value, StoreError> {
    Ok(ctx
        .registry
        .validate(resource_type, resource, mode, &ctx.policy)?)
}

/// Shapes a resource for a response (`returned` characteristics, projection).
pub(crate) fn project(
    ctx: &Ctx,
    resource_type: &str,
    resource: &Value,
    projection: &Projection,
) -> Value {
    ctx.registry.project(resource_type, resource, projection)
}

/// Whether a group read with `projection` returns `members` (rule 15: if not,
/// they are not read at all).
pub(crate) fn returns_members(ctx: &Ctx, resource_type: &str, projection: &Projection) -> bool {
    resource_type == GROUP
        && projection.needs_attribute(&ctx.registry, resource_type, &AttrPath::new("members"))
}

/// Applies a PATCH. A group is passed without its members unless
/// `with_members`: member operations then come back as a delta.
pub(crate) fn apply_patch(
    ctx: &Ctx,
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
        &ctx.registry,
        resource_type,
        resource,
        request,
        &ctx.policy,
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

/// Whether a PATCH failed only because it selects members by something other
/// than their id (`members[display eq "x"]`): applying it again with the member
/// list loaded succeeds.
pub(crate) fn needs_member_list(error: &StoreError) -> bool {
    matches!(
        error,
        StoreError::Patch(error)
            if matches!(error.reason(), Some(OperationError::MembersNeedList { .. }))
    )
}

/// Removes a group's `members` from its body and returns their ids.
pub(crate) fn take_member_ids(body: &mut Value) -> Result<Vec<String>, StoreError> {
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
                Some(Value::String(id)) => Ok(id.clone()),
                _ => Err(StoreError::UnknownMember(member.to_string())),
            })
            .collect(),
        Some(Value::Null) | None => Ok(Vec::new()),
        Some(other) => Err(StoreError::UnknownMember(other.to_string())),
    }
}

/// Whether `resource` matches `filter`: the reference semantics (rule 11).
pub(crate) fn matches(ctx: &Ctx, resource_type: &str, filter: &Filter, resource: &Value) -> bool {
    scimitar_filter::matches(filter, resource, &ctx.registry.hints(resource_type))
}
