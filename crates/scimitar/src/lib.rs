//! Scimitar: a SCIM 2.0 toolkit (RFC 7643, RFC 7644, RFC 9865 cursors) for the
//! endpoints Microsoft Entra ID and Okta provision into, over your own tables, in
//! the web framework your app already uses.
//!
//! Implement [`store::Store`] over your tables and [`protocol::Authenticator`]
//! over your API keys, and mount the [`protocol::ScimEngine`] with the adapter of
//! your framework (see `docs/embedding.md` for the three ways to adopt Scimitar):
//!
//! ```
//! use scimitar::protocol::{Authenticator, Credentials, Mount, Principal, Refusal, ScimEngine, ScimError};
//! use scimitar::store::MemoryStore;
//!
//! /// The app's own API keys decide who is calling.
//! struct ApiKeys;
//!
//! impl Authenticator for ApiKeys {
//!     async fn authenticate(&self, request: &Credentials<'_>) -> Result<Principal, ScimError> {
//!         match request.bearer_token()? {
//!             "acme-key" => Ok(Principal::new("acme", "entra")),
//!             _ => Err(ScimError::Unauthorized(Refusal::Unknown)),
//!         }
//!     }
//! }
//!
//! // MemoryStore stands in for your own store here.
//! let engine = ScimEngine::new(MemoryStore::new(), ApiKeys);
//! // axum: Router::new().nest_service("/scim/v2", scimitar::tower::ScimService::new(engine, "/scim/v2"))
//! // actix-web: App::new().service(scimitar::actix::scope(engine, "/scim/v2"))
//! # futures_executor::block_on(async {
//! let request = http::Request::get("/scim/v2/Users")
//!     .header("authorization", "Bearer acme-key")
//!     .body(bytes::Bytes::new())
//!     .unwrap();
//! let mount = Mount { base_path: "/scim/v2".into(), rest: "/Users".into(), tenant: None };
//! assert_eq!(engine.handle(request, mount).await.status(), 200);
//! # });
//!
//! let filter = scimitar::filter::parse_filter(r#"userName eq "bjensen""#).unwrap();
//! assert_eq!(filter.to_string(), r#"userName eq "bjensen""#);
//! ```
//!
//! | module | crate | job |
//! |---|---|---|
//! | [`filter`] | `scimitar-filter` | filter, PATCH path and attribute-list parser; AST; evaluator |
//! | [`schema`] | `scimitar-schema` | RFC 7643 model, registry, validation, IdP policy |
//! | [`patch`] | `scimitar-patch` | PATCH semantics |
//! | [`store`] | `scimitar-store` | storage traits, query model, in-memory store, contract kit |
//! | [`protocol`] | `scimitar-protocol` | the SCIM protocol over `http` types, the authentication seam |
//! | `actix` (feature `actix`) | `scimitar-actix` | the actix-web adapter |
//! | `tower` (feature `tower`) | `scimitar-tower` | the tower adapter: axum, hyper |
//!
//! The SQL store (`scimitar-diesel`) and the server product (`scimitar-server`)
//! are not re-exported, so that embedders with a store of their own build
//! neither Diesel nor the server.

#[cfg(feature = "actix")]
pub use scimitar_actix as actix;
pub use scimitar_filter as filter;
pub use scimitar_patch as patch;
pub use scimitar_protocol as protocol;
pub use scimitar_schema as schema;
pub use scimitar_store as store;
#[cfg(feature = "tower")]
pub use scimitar_tower as tower;
