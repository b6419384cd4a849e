//! What the memory store asks of the schema, filter and patch crates, in one place.

use scimitar_filter::ast::{AttrPath, CompareOp, Filter};
use scimitar_schema::{Attribute, AttributeType, Hints, Mode};
use serde_json::Value;

use super::MemberChange;
use crate::schema::{PatchRequest, Projection};
use crate::store::Scope;
use crate::StoreError;

/// What sorting needs to know about an attribute.
#[derive(Debug, Clone, Copy)]
pub(super) struct AttrInfo {
    pub(super) type_: AttributeType,
    pub(super) case_exact: bool,
}

/// A PATCH applied to a resource without its group members.
pub(super) struct Patched {
    pub(super) resource: Value,
    pub(super) members: Option<MemberChange>,
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

/// Rule 11: every attribute a filter names must be defined, and ordering operators
/// apply only to types with an order.
pub(super) fn check_filter(
    scope: &Scope<'_>,
    resource_type: &str,
    filter: &Filter,
) -> Result<(), StoreError> {
    match filter {
        Filter::Compare { path, op, .. } => check_compared(scope, resource_type, path, Some(*op)),
        Filter::Present(path) => check_compared(scope, resource_type, path, None),
        Filter::And(filters) | Filter::Or(filters) => filters
            .iter()
            .try_for_each(|filter| check_filter(scope, resource_type, filter)),
        Filter::Not(filter) => check_filter(scope, resource_type, filter),
        Filter::ValuePath { path, filter } => {
            let parent = defined(scope, resource_type, path)?;
            if !parent.is_complex() {
                return Err(StoreError::InvalidFilter(format!(
                    "{path} is not a complex attribute"
                )));
            }
            check_filter(scope, resource_type, &rebase(filter, path))
        }
    }
}

/// The filter of a value path with its paths made absolute: `emails[type eq "work"]`
/// checks `emails.type`.
fn rebase(filter: &Filter, parent: &AttrPath) -> Filter {
    let absolute = |path: &AttrPath| AttrPath {
        schema: parent.schema.clone(),
        name: parent.name.clone(),
        sub_attr: Some(path.name.clone()),
    };
    match filter {
        Filter::Compare { path, op, value } => Filter::Compare {
            path: absolute(path),
            op: *op,
            value: value.clone(),
        },
        Filter::Present(path) => Filter::Present(absolute(path)),
        Filter::And(filters) => Filter::And(filters.iter().map(|f| rebase(f, parent)).collect()),
        Filter::Or(filters) => Filter::Or(filters.iter().map(|f| rebase(f, parent)).collect()),
        Filter::Not(filter) => Filter::Not(Box::new(rebase(filter, parent))),
        // The grammar allows no value path inside a value path.
        Filter::ValuePath { .. } => filter.clone(),
    }
}

fn check_compared(
    scope: &Scope<'_>,
    resource_type: &str,
    path: &AttrPath,
    op: Option<CompareOp>,
) -> Result<(), StoreError> {
    let attribute = defined(scope, resource_type, path)?;
    let Some(op) = op else {
        return Ok(());
    };
    // A complex attribute compares through its `value` (`emails co "x"`).
    let compared = if attribute.is_complex() {
        attribute.sub_attribute("value").ok_or_else(|| {
            StoreError::InvalidFilter(format!("{path} is complex and cannot be compared"))
        })?
    } else {
        attribute
    };
    let ordering = matches!(
        op,
        CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le
    );
    let unordered = matches!(
        compared.type_,
        AttributeType::Boolean | AttributeType::Binary
    );
    if ordering && unordered {
        return Err(StoreError::InvalidFilter(format!(
            "{op} cannot compare {path}, a {} attribute",
            compared.type_
        )));
    }
    Ok(())
}

/// The definition of the attribute `path` ends at, or `InvalidFilter`.
fn defined<'a>(
    scope: &Scope<'a>,
    resource_type: &str,
    path: &AttrPath,
) -> Result<&'a Attribute, StoreError> {
    scope
        .registry
        .resolve(resource_type, path)
        .map(|resolved| resolved.leaf())
        .ok_or_else(|| StoreError::InvalidFilter(format!("unknown attribute {path}")))
}

/// Rule 11's reference semantics: the filter crate's evaluator with the registry's
/// hints.
pub(super) fn matches(hints: &Hints<'_>, filter: &Filter, resource: &Value) -> bool {
    scimitar_filter::matches(filter, resource, hints)
}

/// What sorting by `path` compares: the attribute, or for a complex attribute its
/// `value` sub-attribute (`emails` sorts by the primary email's value).
pub(super) fn attribute(
    scope: &Scope<'_>,
    resource_type: &str,
    path: &AttrPath,
) -> Option<AttrInfo> {
    let attribute = scope.registry.resolve(resource_type, path)?.leaf();
    let compared = if attribute.is_complex() {
        attribute.sub_attribute("value")?
    } else {
        attribute
    };
    Some(AttrInfo {
        type_: compared.type_,
        case_exact: compared.case_exact,
    })
}

pub(super) fn apply_patch(
    _scope: &Scope<'_>,
    _resource_type: &str,
    resource: &Value,
    _request: &PatchRequest,
) -> Result<Patched, StoreError> {
    // TEMPORARY: until scimitar-patch lands.
    Ok(Patched {
        resource: resource.clone(),
        members: None,
    })
}
