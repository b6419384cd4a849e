//! The SCIM 2.0 resource model of RFC 7643: schemas and resource types, body
//! validation, response shaping, protocol messages, and identity-provider policy.
//!
//! Resources travel between Scimitar crates as [`serde_json::Value`] objects, shaped
//! as a client or the store sees them, with extension data under the extension's
//! URN. This crate knows what those objects may contain:
//!
//! - [`Registry`] holds the [`Schema`]s and [`ResourceType`]s (RFC 7643's built-ins,
//!   plus any loaded from JSON) and resolves attribute paths against them
//!   ([`Registry::resolve`], [`Registry::hints`] for filters).
//! - [`Registry::validate`] checks a body in a direction ([`Mode`]) under a
//!   [`Policy`] and returns the cleaned resource to store, or a
//!   [`ValidationError`] that maps to a SCIM error.
//! - [`Registry::project`] shapes a stored resource for a response under a
//!   [`Projection`] (`attributes` / `excludedAttributes` and `returned`).
//! - [`messages`] has the RFC 7644 protocol messages; [`views`] has typed
//!   [`User`] and [`Group`] views for embedders.
//!
//! ```
//! use scimitar_schema::{urn, Mode, Policy, Projection, Registry};
//! use serde_json::json;
//!
//! let registry = Registry::builtin();
//! let policy = Policy::compatible();
//!
//! // A create as Microsoft Entra ID sends it: read-only `meta`, an empty `roles`.
//! let body = json!({
//!     "schemas": [urn::USER, urn::ENTERPRISE_USER],
//!     "userName": "bjensen@example.com",
//!     "active": true,
//!     "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
//!     "meta": {"resourceType": "User"},
//!     "roles": [],
//!     (urn::ENTERPRISE_USER): {"department": "Tour Operations"}
//! });
//! let mut stored = registry.validate("User", &body, Mode::Create, &policy)?;
//! assert!(stored.get("meta").is_none() && stored.get("roles").is_none());
//!
//! // The store adds `id` and `meta`; the response honours `attributes=userName`.
//! stored["id"] = json!("2819c223");
//! stored["meta"] = json!({"resourceType": "User", "created": "2024-05-01T10:00:00Z"});
//! let projection = Projection::parse(Some("userName"), None).unwrap();
//! assert_eq!(
//!     registry.project("User", &stored, &projection),
//!     json!({
//!         "schemas": [urn::USER, urn::ENTERPRISE_USER],
//!         "userName": "bjensen@example.com",
//!         "id": "2819c223",
//!         "meta": {"resourceType": "User"}
//!     })
//! );
//!
//! // A bad body is an error naming the attribute, with its SCIM type and status.
//! let error = registry
//!     .validate("User", &json!({"schemas": [urn::USER]}), Mode::Create, &policy)
//!     .unwrap_err();
//! assert_eq!(error.to_string(), "attribute `userName` is required");
//! assert_eq!((error.status(), error.scim_type().as_str()), (400, "invalidValue"));
//! # Ok::<(), scimitar_schema::ValidationError>(())
//! ```

pub mod builtin;
pub mod messages;
mod model;
mod policy;
mod projection;
mod registry;
pub mod urn;
mod validate;
pub mod views;

pub use messages::{
    BulkMethod, BulkOperation, BulkRequest, BulkResponse, ErrorResponse, ListResponse, Meta,
    PatchOpKind, PatchOperation, PatchRequest, ScimType, SearchRequest, SortOrder,
};
pub use model::{
    Attribute, AttributeType, AuthenticationScheme, BulkConfig, FilterConfig, Mutability,
    PaginationConfig, ResourceType, Returned, Schema, SchemaExtension, ServiceProviderConfig,
    Supported, Uniqueness,
};
pub use policy::{Policy, UnknownAttributes};
pub use projection::Projection;
pub use registry::{Hints, Origin, Registry, RegistryError, Resolved, ResourceSchemas};
pub use validate::{check_value, is_base64, is_xsd_date_time, Mode, ValidationError, ValueError};
pub use views::{
    Address, Email, EnterpriseUser, Group, Manager, Member, MultiValued, Name, PhoneNumber, Role,
    User,
};
