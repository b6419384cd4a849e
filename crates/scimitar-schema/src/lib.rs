//! The SCIM 2.0 resource model of RFC 7643: schemas, resource types, protocol
//! messages, and identity-provider policy.
//!
//! Resources travel between Scimitar crates as [`serde_json::Value`] objects, shaped
//! as a client or the store sees them, with extension data under the extension's
//! URN. This crate knows what those objects may contain: a [`Registry`] holds the
//! [`Schema`]s and [`ResourceType`]s and resolves attribute paths against them.
//!
//! ```
//! use scimitar_filter::ast::AttrPath;
//! use scimitar_schema::{urn, AttributeType, Registry};
//!
//! let registry = Registry::builtin();
//! let path = AttrPath::new("manager").with_schema(urn::ENTERPRISE_USER);
//! let resolved = registry.resolve("User", &path).unwrap();
//! assert_eq!(resolved.extension_urn(), Some(urn::ENTERPRISE_USER));
//! assert_eq!(resolved.leaf().type_, AttributeType::Complex);
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
pub use validate::{is_base64, is_xsd_date_time, Mode, ValidationError};
pub use views::{
    Address, Email, EnterpriseUser, Group, Manager, Member, MultiValued, Name, PhoneNumber, Role,
    User,
};
