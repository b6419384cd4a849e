//! SCIM 2.0 over actix-web, on any Scimitar store.
//!
//! [`ScimService`] turns a [`Store`](scimitar_store::Store) (users, groups, custom
//! resource types) and a [`TenantStore`](scimitar_store::TenantStore) (tenants and
//! their bearer tokens) into an [`actix_web::Scope`] serving RFC 7644: resource CRUD,
//! PATCH, filtered and sorted lists with index and cursor (RFC 9865) paging,
//! `.search`, `/Bulk`, ETags and preconditions, and the discovery endpoints. It
//! speaks what Microsoft Entra ID and Okta really send (see
//! [`Policy`](scimitar_schema::Policy)), and every error, actix's own included, is a
//! SCIM error body.
//!
//! ```
//! use actix_web::{test, App};
//! use scimitar_actix::{issue_token, ScimService};
//! use scimitar_store::{MemoryStore, TenantStore};
//! use serde_json::{json, Value};
//!
//! # actix_web::rt::System::new().block_on(async {
//! let store = MemoryStore::new();
//! store.create_tenant("acme", "Acme", json!({})).await.unwrap();
//! let token = issue_token(&store, "acme", "entra").await.unwrap().token;
//!
//! let service = ScimService::new(store);
//! let app = test::init_service(App::new().service(service.scope("/scim/v2"))).await;
//!
//! // Entra ID's "Test Connection": a filter matching nothing is an empty list.
//! let request = test::TestRequest::get()
//!     .uri("/scim/v2/Users?filter=userName+eq+%22nobody%22")
//!     .insert_header(("Authorization", format!("Bearer {token}")))
//!     .to_request();
//! let response: Value = test::call_and_read_body_json(&app, request).await;
//! assert_eq!(response["totalResults"], 0);
//!
//! // Without a token: 401, with a SCIM error body.
//! let request = test::TestRequest::get().uri("/scim/v2/Users").to_request();
//! let response = test::call_service(&app, request).await;
//! assert_eq!(response.status(), 401);
//! # });
//! ```
//!
//! # Authentication and tenants
//!
//! Each request carries `Authorization: Bearer scim_<id>_<secret>`, a token from
//! [`issue_token`]; the tenant is the token's. The scope authenticates a request
//! before it reads anything else of it (route, query, content type, body), and
//! answers every refused credential with the same 401 ([`Refusal`] goes to the
//! server log only). Mount [`ScimService::tenant_scope`]
//! to also serve `/tenants/{tenant}/scim/v2`, where a token of another tenant is
//! refused. A tenant whose settings have a `jwt` object (HS256 secret or RS256/ES256
//! public key, issuer, audience) also accepts JWTs on its tenant URL. A disabled tenant
//! gets 403. Verified tokens are cached for [`Limits::token_cache_seconds`], or until
//! the tenant directory changes: revocation through [`ScimService::revoke_token`] is
//! immediate in this process, and other processes (servers on the same database, the
//! CLI) notice a change within a second
//! ([`TenantStore::directory_version`](scimitar_store::TenantStore::directory_version),
//! read at most every 250 ms).
//!
//! A token from [`issue_user_token`] is bound to one User of its tenant, its
//! authenticated subject: `/Me` (RFC 7644 §3.11) is then `/Users/{id}` of that user
//! (`GET`, `PUT`, `PATCH`, `DELETE`, with `Location` naming `/Users/{id}`). For other
//! credentials (provisioning clients' tokens, JWTs) `/Me` is 501.
//!
//! # Cursors
//!
//! RFC 9865 cursors are sealed: the store's own cursor (a position, which would
//! tell a client about rows it cannot see) is encrypted and authenticated under
//! the service's key ([`ScimService::cursor_key`]), bound to the tenant, the
//! resource type, the filter and the sort, and valid for
//! [`Limits::cursor_timeout_seconds`]. A cursor from another tenant or query is
//! 400 `invalidCursor`, an old one `expiredCursor`.
//!
//! # Tenant settings
//!
//! Each request runs under its tenant's settings
//! ([`TenantSettings`](scimitar_store::TenantSettings)): its policy, its registry
//! (the service's with its `schemaOverrides`, cached, and served by `/Schemas` and
//! `/ResourceTypes` to authenticated requests), its team and deletion modes (passed to
//! the store in the [`Scope`](scimitar_store::Scope)) and its `rateLimit`. A create
//! of a `userName` that exists is 409; with `createRetryWindowSeconds` set, the same
//! token repeating its own create within the window gets 201 with the resource the
//! first one made (store rule 10).
//!
//! # Logging, the provisioning log, the admin API, webhooks
//!
//! [`log_request`] logs one line per request (id, tenant, token id, method, path,
//! status, latency), never a header or a body.
//! [`ScimService::provisioning_log`] records every request for the tenant's admin
//! (who, what, outcome and why), read back through [`AdminApi`] behind an admin
//! token. [`webhook::Webhooks`] delivers each tenant's change events to the URLs of
//! its settings, signed, in order, at least once.
//!
//! # Passwords
//!
//! A user's `password` (Okta sends it with "Sync Password" on) reaches the store only
//! as an argon2id hash: create, replace, PATCH and `/Bulk` replace every password the
//! client sends by its PHC string on a blocking thread, as bearer token secrets are
//! stored. The store never returns a `password`. Hashing is this layer's job: an
//! application writing users through the store directly calls [`hash_passwords`] or
//! [`hash_patch_passwords`] first.

mod admin;
mod auth;
mod bulk;
mod cursor;
mod discovery;
mod error;
mod handlers;
mod jwt;
mod limits;
mod log;
mod origin;
mod password;
mod provisioning;
mod rate;
mod request;
mod response;
mod service;
mod tenant;
pub mod webhook;

pub use admin::{
    admin_token_hash, issue_admin_token, AdminApi, AdminHashError, ADMIN_TOKEN_PREFIX,
};
pub use auth::{issue_token, issue_user_token, IssuedToken, Refusal, TokenError, TOKEN_PREFIX};
pub use error::{error_chain, ScimError};
pub use limits::Limits;
pub use log::{log_request, REQUEST_ID};
pub use origin::{PublicUrl, PublicUrlError};
pub use password::{hash_passwords, hash_patch_passwords, PasswordHashError};
pub use response::SCIM_JSON;
pub use service::{RequestCredential, ScimService, ScopeFactory};
