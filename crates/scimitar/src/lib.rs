//! Scimitar: a SCIM 2.0 toolkit (RFC 7643, RFC 7644, RFC 9865 cursors) for the
//! endpoints Microsoft Entra ID and Okta provision into.
//!
//! This facade re-exports the libraries under short names, so an embedder depends on
//! one crate:
//!
//! | module | crate | job |
//! |---|---|---|
//! | [`filter`] | `scimitar-filter` | filter, PATCH path and attribute-list parser; AST; evaluator |
//! | [`schema`] | `scimitar-schema` | RFC 7643 model, registry, validation, IdP policy |
//! | [`patch`] | `scimitar-patch` | PATCH semantics |
//! | [`store`] | `scimitar-store` | storage traits, query model, in-memory store |
//! | [`actix`] | `scimitar-actix` | the actix-web scope: protocol, auth, tenants, errors |
//!
//! The SQL store (`scimitar-diesel`) is not re-exported, so that embedders with a
//! store of their own do not build Diesel.
//!
//! ```
//! use scimitar::actix::ScimService;
//! use scimitar::schema::{Policy, Registry};
//! use scimitar::store::MemoryStore;
//!
//! let service = ScimService::new(MemoryStore::new())
//!     .registry(Registry::builtin())
//!     .policy(Policy::compatible());
//! let scope = service.scope("/scim/v2"); // mount with App::new().service(scope)
//! # let _ = scope;
//!
//! let filter = scimitar::filter::parse_filter(r#"userName eq "bjensen""#).unwrap();
//! assert_eq!(filter.to_string(), r#"userName eq "bjensen""#);
//! ```

pub use scimitar_actix as actix;
pub use scimitar_filter as filter;
pub use scimitar_patch as patch;
pub use scimitar_schema as schema;
pub use scimitar_store as store;
