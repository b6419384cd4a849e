//! The Scimitar server product, over the SCIM engine of `scimitar-protocol`.
//!
//! What the bundled `scimitar` server adds to the protocol, and what an app that
//! brings its own authentication, log and events does not need:
//!
//! - [`ScimService`]: a [`ScimEngine`](scimitar_protocol::ScimEngine) with
//!   [`TokenAuthenticator`] and the provisioning log, mounted in actix-web.
//! - Bearer tokens ([`issue_token`], [`issue_user_token`]) stored as digests in a
//!   [`TenantStore`](scimitar_store::TenantStore), JWTs per tenant, per-tenant rate
//!   limits, and each tenant's settings (registry overrides, policy, modes).
//! - The provisioning log ([`ScimService::provisioning_log`]), the admin API
//!   over tenants, tokens, settings, webhooks, the log and the directory
//!   ([`admin`], [`AdminApi`]), webhooks ([`webhook::Webhooks`]) and the
//!   request log line ([`log_request`]).
//!
//! ```
//! use actix_web::{test, App};
//! use scimitar_server::{issue_token, ScimService};
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
//! # });
//! ```
//!
//! # Authentication and tenants
//!
//! Each request carries `Authorization: Bearer scim_<id>_<secret>`, a token from
//! [`issue_token`]; the tenant is the token's. Every refused credential gets the
//! same 401 ([`Refusal`](scimitar_protocol::Refusal) goes to the server log only,
//! counted). Mount [`ScimService::tenant_scope`] to also serve
//! `/tenants/{tenant}/scim/v2`, where a token of another tenant is refused. A
//! tenant whose settings have a `jwt` object (HS256 secret or RS256/ES256 public
//! key, issuer, audience) also accepts JWTs on its tenant URL. A disabled tenant
//! gets 403. Verified tokens are cached for
//! [`AuthLimits::token_cache_seconds`],
//! or until the tenant directory changes: revocation through
//! [`ScimService::revoke_token`] is immediate in this process, and other processes
//! (servers on the same database, the CLI) notice a change within a second
//! ([`TenantStore::directory_version`](scimitar_store::TenantStore::directory_version),
//! read at most every 250 ms).
//!
//! A token from [`issue_user_token`] is bound to one User of its tenant: `/Me`
//! (RFC 7644 §3.11) is then `/Users/{id}` of that user. For other credentials
//! `/Me` is 501.
//!
//! # Tenant settings
//!
//! Each request runs under its tenant's settings
//! ([`TenantConfig`](settings::TenantConfig): the store's
//! [`TenantSettings`](scimitar_store::TenantSettings) and the server's webhooks,
//! rate limit and JWT keys): its policy, its registry
//! (the service's with its `schemaOverrides`, cached, and served by `/Schemas` and
//! `/ResourceTypes`), its team and deletion modes (passed to the store in the
//! [`Scope`](scimitar_store::Scope)) and its `rateLimit`. A create of a `userName`
//! that exists is 409; with `createRetryWindowSeconds` set, the same token
//! repeating its own create within the window gets 201 with the resource the
//! first one made (store rule 10).

pub mod admin;
mod auth;
mod authenticator;
mod console;
mod jwt;
mod limits;
mod log;
pub mod metrics;
mod provisioning;
mod rate;
mod service;
pub mod settings;
mod tenant;
pub mod webhook;

pub use admin::{
    admin_token_hash, issue_admin_token, AdminApi, AdminHashError, ADMIN_TOKEN_PREFIX,
};
pub use auth::{
    issue_expiring_token, issue_token, issue_user_token, IssuedToken, TokenError, TOKEN_PREFIX,
};
pub use authenticator::TokenAuthenticator;
pub use limits::AuthLimits;
pub use log::{log_request, REQUEST_ID};
pub use service::ScimService;
