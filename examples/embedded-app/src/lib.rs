//! An actix-web app that embeds Scimitar: Entra ID or Okta provision its people
//! over SCIM at `/scim/v2`, and the app keeps its own tables in step.
//!
//! - [`EmbeddedApp::new`] builds the SCIM service over a
//!   [`MemoryStore`](scimitar::store::MemoryStore) whose registry retypes the
//!   Enterprise `costCenter` as a `dateTime`, the hire date ([`registry`]).
//! - [`EmbeddedApp::configure`] mounts the SCIM scope under `/scim/v2` next to the
//!   app's own routes ([`routes`]).
//! - [`EmbeddedApp::sync`] hands the store's change events to the app ([`sync::apply`]):
//!   accounts follow the users, a departing host's upcoming appointments are
//!   cancelled and their guests told, and a newcomer's welcome waits for the hire date.
//!
//! ```
//! use actix_web::{test, App};
//! use scimitar_example_embedded::EmbeddedApp;
//! use serde_json::{json, Value};
//!
//! # actix_web::rt::System::new().block_on(async {
//! let (app, token) = EmbeddedApp::new().await?;
//! let service = test::init_service(App::new().configure(|config| app.configure(config))).await;
//!
//! let request = test::TestRequest::post()
//!     .uri("/scim/v2/Users")
//!     .insert_header(("Authorization", format!("Bearer {token}")))
//!     .insert_header(("Content-Type", "application/scim+json"))
//!     .set_payload(json!({
//!         "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
//!         "userName": "adele.vance@contoso.com",
//!     }).to_string())
//!     .to_request();
//! let user: Value = test::call_and_read_body_json(&service, request).await;
//!
//! app.sync().await?;
//! let account = app.tables().account(user["id"].as_str().unwrap_or_default());
//! assert_eq!(account.map(|a| a.user_name).as_deref(), Some("adele.vance@contoso.com"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod routes;
pub mod sync;
pub mod tables;

use std::sync::Mutex;

use actix_web::web::{Data, ServiceConfig};
use scimitar::actix::{issue_token, ScimService, TokenError};
use scimitar::schema::{Policy, Registry, RegistryError};
use scimitar::store::{MemoryStore, Scope, Store, StoreError, TenantSettings, TenantStore};
use serde_json::{json, Value};

use crate::tables::Tables;

/// The Enterprise User extension's URN.
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The one tenant this app serves.
pub const TENANT: &str = "app";

/// The schema override that makes Enterprise `costCenter` a `dateTime`: the hire
/// date. The same document works as a `schemaOverrides` entry of a Scimitar
/// server tenant's settings.
pub fn hire_date_override() -> Value {
    json!({
        "id": ENTERPRISE_USER,
        "attributes": [{
            "name": "costCenter",
            "type": "dateTime",
            "description": "The first day at work (the hire date), RFC 3339."
        }]
    })
}

/// The built-in schemas with [`hire_date_override`] applied.
///
/// # Errors
/// None in practice: the override is a valid schema document.
pub fn registry() -> Result<Registry, RegistryError> {
    let settings = TenantSettings {
        schema_overrides: vec![hire_date_override()],
        ..TenantSettings::default()
    };
    settings.registry(&Registry::builtin())
}

/// Why the app could not start or sync.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The schema override did not apply.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The store refused a call.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The first token could not be issued.
    #[error(transparent)]
    Token(#[from] TokenError),
}

/// The app: its SCIM service, its tables, and how far it has read the outbox.
pub struct EmbeddedApp {
    scim: ScimService<MemoryStore>,
    registry: Registry,
    policy: Policy,
    tables: Data<Tables>,
    last_seen: Mutex<u64>,
}

impl EmbeddedApp {
    /// Creates the app's tenant and returns the app with the tenant's first bearer
    /// token (the one to paste into the identity provider).
    ///
    /// # Errors
    /// [`StartError`] if the store or token issuing fails.
    pub async fn new() -> Result<(EmbeddedApp, String), StartError> {
        let store = MemoryStore::new();
        store
            .create_tenant(TENANT, "The embedded app", json!({}))
            .await?;
        let token = issue_token(&store, TENANT, "identity provider")
            .await?
            .token;
        let registry = registry()?;
        let policy = Policy::compatible();
        let scim = ScimService::new(store)
            .registry(registry.clone())
            .policy(policy.clone());
        let app = EmbeddedApp {
            scim,
            registry,
            policy,
            tables: Data::new(Tables::new()),
            last_seen: Mutex::new(0),
        };
        Ok((app, token))
    }

    /// Mounts SCIM under `/scim/v2` and the app's own routes beside it.
    pub fn configure(&self, config: &mut ServiceConfig) {
        config
            .app_data(self.tables.clone())
            .service(self.scim.scope("/scim/v2"))
            .configure(routes::configure);
    }

    /// The app's tables.
    pub fn tables(&self) -> &Tables {
        &self.tables
    }

    /// Applies the change events recorded since the last call; returns how many.
    ///
    /// # Errors
    /// The store's, when reading events fails; events not yet applied are read
    /// again by the next call.
    pub async fn sync(&self) -> Result<usize, StoreError> {
        let scope = Scope::new(TENANT, &self.registry, &self.policy);
        let after = *self.last_seen.lock().unwrap_or_else(|e| e.into_inner());
        let events = self.scim.store().events(&scope, after, 500).await?;
        for event in &events {
            sync::apply(&self.tables, event);
            *self.last_seen.lock().unwrap_or_else(|e| e.into_inner()) = event.seq;
        }
        Ok(events.len())
    }
}
