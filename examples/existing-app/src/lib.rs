//! An app that was there first: an axum service with its own Diesel tables
//! (`users`, `teams`, `team_members`, `api_keys`, `audit_log`), its own API keys
//! and its own routes, that adds SCIM provisioning with Scimitar's core `Store`
//! (`scim_store.rs`) and an `Authenticator` over its API keys (`scim_auth.rs`),
//! mounted with the tower adapter. No actix-web, no Scimitar server, no libpq.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let db = scimitar_example_existing_app::db::Db::open("app.db")?;
//! let app = scimitar_example_existing_app::router(db);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```

pub mod db;
pub mod routes;
pub mod schema;
pub mod scim_auth;
pub mod scim_store;

use axum::Router;
use scimitar::protocol::ScimEngine;

/// The app's routes with SCIM under `/scim/v2`.
pub fn router(db: db::Db) -> Router {
    let auth = scim_auth::ApiKeyAuth::new(db.clone(), scim_auth::hire_date_registry());
    let engine = ScimEngine::new(scim_store::AppStore::new(db.clone()), auth)
        .registry(scim_auth::hire_date_registry());
    routes::routes(db).nest_service(
        "/scim/v2",
        scimitar::tower::ScimService::new(engine, "/scim/v2"),
    )
}
