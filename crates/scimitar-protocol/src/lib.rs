//! The SCIM 2.0 protocol, for any Rust web framework.
//!
//! [`ScimEngine`] serves RFC 7644 over any [`Store`](scimitar_store::Store):
//! resource CRUD, PATCH, filtered and sorted lists with index and cursor (RFC
//! 9865) paging, `.search`, `/Bulk`, ETags and preconditions, `/Me` and the
//! discovery endpoints. Its input is a request in the [`http`] crate's types, its
//! output an `http` response; it is async and tied to no runtime. It depends on
//! no web framework: thin adapters mount it, `scimitar-actix` in actix-web and
//! `scimitar-tower` in axum, hyper or any tower stack.
//!
//! Who a request is, is the host's business: an [`Authenticator`] turns a
//! request's credential into a [`Principal`] (a tenant and a client), with the
//! host's own API keys, sessions or JWTs. An [`Observer`] sees every finished
//! request (a provisioning log, metrics).
//!
//! ```
//! use bytes::Bytes;
//! use scimitar_protocol::{Authenticator, Credentials, Mount, Principal, Refusal, ScimEngine, ScimError};
//! use scimitar_store::MemoryStore;
//! use serde_json::{json, Value};
//!
//! /// The app's own API keys.
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
//! # futures_executor::block_on(async {
//! let engine = ScimEngine::new(MemoryStore::new(), ApiKeys);
//! let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
//!                   "userName": "bjensen@example.com"});
//! let request = http::Request::post("http://app.example/scim/v2/Users")
//!     .header("authorization", "Bearer acme-key")
//!     .header("content-type", "application/scim+json")
//!     .body(Bytes::from(user.to_string()))
//!     .unwrap();
//! let mount = Mount { base_path: "/scim/v2".into(), rest: "/Users".into(), tenant: None };
//! let response = engine.handle(request, mount).await;
//! assert_eq!(response.status(), 201);
//! let created: Value = serde_json::from_slice(response.body()).unwrap();
//! assert_eq!(response.headers()["location"],
//!            format!("http://app.example/scim/v2/Users/{}", created["id"].as_str().unwrap()));
//!
//! // Another key: 401, with a SCIM error body.
//! let request = http::Request::get("/scim/v2/Users")
//!     .header("authorization", "Bearer wrong")
//!     .body(Bytes::new())
//!     .unwrap();
//! let mount = Mount { base_path: "/scim/v2".into(), rest: "/Users".into(), tenant: None };
//! assert_eq!(engine.handle(request, mount).await.status(), 401);
//! # });
//! ```
//!
//! # Order of work
//!
//! An adapter calls [`ScimEngine::admit`] with the request head: it checks the
//! head's size (414, 431), authenticates, and checks the tenant a `{tenant}`
//! URL names (403), reading nothing else. Only an admitted request's body is
//! read (up to [`Limits::max_payload_size`], 413 above), and
//! [`ScimEngine::respond`] answers it. [`ScimEngine::handle`] does both for a
//! request already in memory.
//!
//! # Cursors
//!
//! RFC 9865 cursors are sealed: the store's own cursor (a position, which would
//! tell a client about rows it cannot see) is encrypted and authenticated under
//! the engine's key ([`ScimEngine::cursor_key`]), bound to the tenant, the
//! resource type, the filter and the sort, and valid for
//! [`Limits::cursor_timeout_seconds`]. A cursor from another tenant or query is
//! 400 `invalidCursor`, an old one `expiredCursor`.
//!
//! # PATCH answers
//!
//! A PATCH of a `Group` answers 204 No Content with the new `ETag`, not the group:
//! its answer would carry the whole member list, which a store otherwise never
//! loads for a member change. A request with `attributes` or
//! `excludedAttributes` gets 200 and the projected group, and
//! [`ScimEngine::patch_answer`] with [`PatchAnswer::Resource`] makes every PATCH
//! answer 200 and the resource (RFC 7644 §3.5.2 allows both).
//!
//! # Passwords
//!
//! A user's `password` (Okta sends it with "Sync Password" on) reaches the store
//! only as an argon2id hash: create, replace, PATCH and `/Bulk` replace every
//! password the client sends by its PHC string, off the caller's thread. The
//! store never returns a `password`. An application writing users through the
//! store directly calls [`hash_passwords`] or [`hash_patch_passwords`] first.

mod auth;
mod bulk;
mod cursor;
mod discovery;
mod engine;
mod error;
mod handlers;
mod limits;
mod observe;
mod origin;
mod password;
mod request;
mod response;
mod routes;

pub use auth::{bearer_token, Authenticator, Credentials, Principal, Refusal, TenantContext};
pub use engine::{Admitted, BodyError, Mount, ScimEngine};
pub use error::{error_body, error_chain, ScimError};
pub use limits::Limits;
pub use observe::{Exchange, Notes, Observer};
pub use origin::{Connection, PublicUrl, PublicUrlError};
pub use password::{hash_passwords, hash_patch_passwords, PasswordHashError};
pub use request::{decode_component, raw_pairs};
pub use response::{scim_json, PatchAnswer, Response, SCIM_JSON};
