//! What the store asks of the schema, filter and patch crates, in one place.

use scimitar_filter::ast::{AttrPath, Filter};
use scimitar_schema::Mode;
use scimitar_store::write::{self, Patched};
use scimitar_store::{
    PatchRequest, Policy, Projection, Registry, Scope, StoreError, TenantSettings,
};
use serde_json::Value;

use crate::rows::GROUP_TYPE;

/// A [`Scope`] owned, to move onto a blocking thread (the registry, policy and
/// settings are cheap to clone).
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub(crate) tenant: String,
    pub(crate) registry: Registry,
    pub(crate) policy: Policy,
    pub(crate) settings: TenantSettings,
    /// The authenticated client ([`Scope::client`]).
    pub(crate) client: Option<String>,
}

impl Ctx {
    pub(crate) fn of(scope: &Scope<'_>) -> Self {
        Ctx {
            tenant: scope.tenant.to_owned(),
            registry: scope.registry.clone(),
            policy: scope.policy.clone(),
            settings: scope.settings.clone(),
            client: scope.client.map(str::to_owned),
        }
    }

    /// The scope this context was made from.
    pub(crate) fn scope(&self) -> Scope<'_> {
        let scope =
            Scope::new(&self.tenant, &self.registry, &self.policy).with_settings(&self.settings);
        match &self.client {
            Some(client) => scope.with_client(client),
            None => scope,
        }
    }

    /// Rule 21: Groups are read-only while teams are derived.
    pub(crate) fn check_writable(&self, resource_type: &str) -> Result<(), StoreError> {
        write::check_writable(&self.settings, resource_type)
    }

    /// The registry's name for a resource type; `UnknownResourceType` otherwise.
    pub(crate) fn resource_type(&self, name: &str) -> Result<String, StoreError> {
        self.registry
            .resource_type(name)
            .map(|rt| rt.name.clone())
            .ok_or_else(|| StoreError::UnknownResourceType(name.to_owned()))
    }
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
    resource: Value,
    projection: &Projection,
) -> Value {
    // Owned: the default projection strips in place instead of copying.
    ctx.registry
        .project_owned(resource_type, resource, projection)
}

/// Whether a group read with `projection` returns `members` (rule 15: if not,
/// they are not read at all).
pub(crate) fn returns_members(ctx: &Ctx, resource_type: &str, projection: &Projection) -> bool {
    resource_type == GROUP_TYPE
        && projection.needs_attribute(&ctx.registry, resource_type, &AttrPath::new("members"))
}

/// Applies a PATCH with the context's registry and policy
/// ([`write::apply_patch`]).
pub(crate) fn apply_patch(
    ctx: &Ctx,
    resource_type: &str,
    resource: &Value,
    request: &PatchRequest,
    with_members: bool,
) -> Result<Patched, StoreError> {
    write::apply_patch(
        &ctx.registry,
        &ctx.policy,
        resource_type,
        resource,
        request,
        with_members,
    )
}

/// Whether `resource` matches `filter`: the reference semantics (rule 11).
pub(crate) fn matches(ctx: &Ctx, resource_type: &str, filter: &Filter, resource: &Value) -> bool {
    scimitar_filter::matches(filter, resource, &ctx.registry.hints(resource_type))
}
