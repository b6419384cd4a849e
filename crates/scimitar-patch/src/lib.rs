//! SCIM 2.0 PATCH (RFC 7644 §3.5.2): apply a PatchOp request to a resource, with the
//! schema's rules, and report exactly what changed.
//!
//! [`apply`] takes a stored resource (a JSON object, extension data under its URN),
//! the request, the [`Registry`] and the identity-provider [`Policy`], and returns
//! the patched resource with a [`ChangeReport`]. It works on a copy: when any
//! operation fails the error names it and the caller's resource is untouched.
//!
//! ```
//! use scimitar_patch::apply;
//! use scimitar_schema::{messages::PatchRequest, Policy, Registry};
//! use serde_json::json;
//!
//! let registry = Registry::builtin();
//! let user = json!({
//!     "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
//!     "id": "2819c223",
//!     "userName": "bjensen",
//!     "active": true,
//!     "emails": [{"type": "home", "value": "babs@jensen.org", "primary": true}]
//! });
//! // What Microsoft Entra ID sends: capitalised ops, a string boolean, and a
//! // filtered path to an email that does not exist yet.
//! let request: PatchRequest = serde_json::from_value(json!({
//!     "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
//!     "Operations": [
//!         {"op": "Replace", "path": "active", "value": "False"},
//!         {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "bjensen@example.com"},
//!         {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "26118915"}
//!     ]
//! }))?;
//!
//! let patched = apply(&registry, "User", &user, &request, &Policy::compatible())?;
//! assert_eq!(patched.resource["active"], json!(false));
//! assert_eq!(patched.resource["emails"][1], json!({"type": "work", "value": "bjensen@example.com"}));
//! assert_eq!(
//!     patched.resource["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
//!     json!({"manager": {"value": "26118915"}})
//! );
//! assert_eq!(patched.resource["schemas"][1], "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User");
//! assert!(patched.changes.deactivated());
//! assert!(patched.changes.changed("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value").is_some());
//!
//! // The strict policy refuses the string boolean, and says which operation failed.
//! let error = apply(&registry, "User", &user, &request, &Policy::strict()).unwrap_err();
//! assert_eq!(error.to_string(), r#"operation 1 (replace "active"): `active` must be true or false, not a string"#);
//! assert_eq!(error.scim_type().as_str(), "invalidValue");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Semantics
//!
//! Operations run in order; `op` is read in any case. Attribute names and schema URNs
//! match ignoring case, and existing keys keep their spelling.
//!
//! - **Paths**: none (the value is an object of attributes; extension data under its
//!   URN), `attr`, `attr.sub`, `urn:…:attr`, `urn:…:attr.sub`, `attr[filter]`,
//!   `attr[filter].sub`, and an extension URN alone (the value is the extension's
//!   object; `remove` removes all its data).
//! - **`add`** sets a single-valued attribute, merges sub-attributes into a complex
//!   one, and appends to a multi-valued one, skipping values already there
//!   (references such as `members` are identified by `value` alone). A single value
//!   for a multi-valued attribute is taken as one element.
//! - **`replace`** sets a single-valued attribute, merges sub-attributes into a
//!   complex one ("sub-attributes that are not specified … are left unchanged",
//!   §3.5.2.3), and replaces a multi-valued attribute whole. With a filter it merges
//!   into (complex) or replaces (simple) every matching element; `add` with a filter
//!   does the same.
//! - **`remove`** needs a path (`noTarget` without one). With a filter it removes the
//!   matching elements, or their sub-attribute; removing an attribute that has no
//!   value succeeds.
//! - **No match**: a filter that matches nothing fails with `noTarget`, for `replace`
//!   as §3.5.2.3 says and for `remove` and `add` as §3.12 defines `noTarget` ("the
//!   specified path value contains a filter that yields no match"), unless
//!   [`Policy::patch_create_unmatched_filtered_target`] creates the element.
//! - **`primary`**: at most one value sent may be primary; writing a primary value
//!   makes every other value of the attribute non-primary.
//! - **Mutability**: read-only targets fail with `mutability`; immutable attributes
//!   (and sub-attributes, such as a member's `value`) can be set while unassigned but
//!   never changed or removed; removing or clearing a required attribute fails with
//!   `mutability` (§3.5.2.2).
//! - **Values** are checked against the attribute's type (strings, booleans,
//!   integers, decimals, `xsd:dateTime`, base64, references, complex). `null`,
//!   `[]` and `{}` mean unassigned (RFC 7643 §2.5): a sub-attribute sent as `null`
//!   inside a value is cleared, and `replace` with `[]` empties a multi-valued
//!   attribute.
//! - **`schemas`** follows the data: an extension that gains data gets its URN
//!   listed; when a PATCH removes the last attribute of an extension, its URN is
//!   unlisted, so the resource never claims an extension it has no data for.
//!
//! # Identity-provider deviations
//!
//! Each is accepted only when its [`Policy`] field is set (all are in
//! [`Policy::compatible`], none in [`Policy::strict`]):
//!
//! | `Policy` field | accepts |
//! |---|---|
//! | `coerce_string_booleans` | `"True"`/`"False"` for booleans, also inside values (Entra ID) |
//! | `patch_members_remove_value_list` | `remove` on `members` (or any multi-valued attribute) with a value list removes only those values (Entra ID) |
//! | `patch_create_unmatched_filtered_target` | `add`/`replace` on `emails[type eq "work"].value` with no match creates `{"type": "work", "value": …}` from the filter's `eq` terms (Entra ID) |
//! | `patch_manager_lenient` | enterprise `manager` as a bare id or `{"value": id}` (a new id replaces the whole manager), cleared by `""`, `null` or `{"value": ""}` (Entra ID) |
//! | `patch_pathless_attribute_paths` | path-less value keys that are paths: `name.givenName`, `urn:…:User:department` (Entra ID `aadOptscim062020`) |
//! | `patch_empty_value_clears` | `add`/`replace` with `""` or `null` clears the target (Entra ID); strictly `null` is refused and `""` stored |
//! | `patch_ignore_read_only_in_value` | read-only attributes inside a value are skipped (Okta sends the group's `id` in a rename; a *different* id still fails) |
//! | `unknown_attributes` | unknown paths and keys are skipped (`ignore`) or refused (`reject`) |
//!
//! # Group members stored apart
//!
//! A store that keeps members in their own table should not load a 50,000-member
//! group to apply a PATCH. With [`ApplyOptions::external_members`] the resource is
//! passed without `members`, and member operations become the report's delta
//! ([`ChangeReport::members_added`], [`ChangeReport::members_removed`],
//! [`ChangeReport::members_replaced`]) without reading any member: `add` of a list,
//! `replace` (the whole list), `remove` of everything, of a value list, or of
//! `members[value eq "id"]` (several ids joined with `or` too). A path that needs
//! the member list, such as `members[display eq "x"]` or `members[value eq
//! "id"].display`, fails with [`OperationError::MembersNeedList`] (`invalidFilter`);
//! a store can then load the members and apply again without the option.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod engine;
mod error;
mod json;
mod report;
mod target;
mod value;

use scimitar_schema::messages::PatchRequest;
use scimitar_schema::{urn, Policy, Registry};
use serde_json::Value;

pub use error::{OperationError, PatchError};
pub use report::{AttributeChange, ChangeReport, Member};

/// Runs the README's example as a doctest, so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// How [`apply_with`] treats the resource.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Group `members` are not in the resource (the store keeps them apart):
    /// member operations go to the report's delta instead of the JSON. See the
    /// [crate documentation](crate#group-members-stored-apart).
    pub external_members: bool,
}

/// A patched resource and what changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Patched {
    /// The resource after every operation.
    pub resource: Value,
    /// What changed; empty when the PATCH set values the resource already had.
    pub changes: ChangeReport,
}

/// Applies `request` to `resource` (of type `resource_type`), with members in the
/// resource. See [`apply_with`].
///
/// # Errors
/// See [`apply_with`].
pub fn apply(
    registry: &Registry,
    resource_type: &str,
    resource: &Value,
    request: &PatchRequest,
    policy: &Policy,
) -> Result<Patched, PatchError> {
    apply_with(
        registry,
        resource_type,
        resource,
        request,
        policy,
        &ApplyOptions::default(),
    )
}

/// Applies `request` to `resource` (of type `resource_type`) under `policy` and
/// `options`, and returns the new resource with a report of what changed.
///
/// `resource` is not modified. Read-only attributes it holds (`id`, `meta`) are
/// kept as they are; updating `meta.lastModified` and the version is the caller's
/// job when the report is not empty.
///
/// # Errors
/// [`PatchError::Operation`] naming the first operation that failed and why;
/// [`PatchError::UnknownResourceType`], [`PatchError::ResourceNotAnObject`],
/// [`PatchError::NotPatchOp`] or [`PatchError::NoOperations`] before any
/// operation runs.
pub fn apply_with(
    registry: &Registry,
    resource_type: &str,
    resource: &Value,
    request: &PatchRequest,
    policy: &Policy,
    options: &ApplyOptions,
) -> Result<Patched, PatchError> {
    let schemas = registry
        .schemas_of(resource_type)
        .ok_or_else(|| PatchError::UnknownResourceType(resource_type.to_string()))?;
    let original = resource
        .as_object()
        .ok_or(PatchError::ResourceNotAnObject)?;
    if !request
        .schemas
        .iter()
        .any(|schema| schema.eq_ignore_ascii_case(urn::PATCH_OP))
    {
        return Err(PatchError::NotPatchOp);
    }
    if request.operations.is_empty() {
        return Err(PatchError::NoOperations);
    }

    let mut doc = original.clone();
    let mut engine = engine::Engine::new(schemas, policy, options.external_members);
    for (index, operation) in request.operations.iter().enumerate() {
        engine
            .operation(&mut doc, operation)
            .map_err(|reason| PatchError::Operation {
                position: index + 1,
                op: operation.op,
                path: operation.path.clone(),
                reason,
            })?;
    }
    engine.finish(&mut doc, original);

    let attributes = report::diff(&engine.schemas, original, &doc, options.external_members);
    let changes = if options.external_members {
        let members = engine.members;
        ChangeReport {
            attributes,
            members_added: members.added,
            members_removed: members.removed,
            members_replaced: members.replaced,
        }
    } else {
        let (members_added, members_removed) =
            report::member_delta(json::get(original, "members"), json::get(&doc, "members"));
        ChangeReport {
            attributes,
            members_added,
            members_removed,
            members_replaced: false,
        }
    };
    Ok(Patched {
        resource: Value::Object(doc),
        changes,
    })
}
