//! What the memory store asks of the schema and filter crates, in one place.

use scimitar_filter::ast::{AttrPath, Filter};
use scimitar_schema::{Hints, Mode};
use serde_json::Value;

use crate::schema::Projection;
use crate::store::Scope;
use crate::StoreError;

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
