//! An actix-web app that embeds Scimitar: Entra ID or Okta provision its people
//! over SCIM at `/scim/v2`, and the app keeps its own tables in step.
//!
//! - [`EmbeddedApp::new`] builds the SCIM service over a
//!   [`MemoryStore`](scimitar::store::MemoryStore) whose registry retypes the
//!   Enterprise `costCenter` as a `dateTime`, the hire date ([`registry`]).
//! - [`EmbeddedApp::configure`] mounts the SCIM scope under `/scim/v2` next to the
//!   app's own routes ([`routes`]).
//! - [`EmbeddedApp::dispatcher`] delivers the store's change events to the app's
//!   hook ([`sync::ProvisioningHook`]): accounts follow the users, a departing
//!   host's upcoming appointments are cancelled and the guests told, and a
//!   newcomer's welcome waits for the hire date ([`tables`]).
//!
//! ```
//! use actix_web::{test, App};
//! use scimitar_example_embedded::EmbeddedApp;
//! use serde_json::{json, Value};
//!
//! # actix_web::rt::System::new().block_on(async {
//! let (app, token) = EmbeddedApp::new().await?;
//! let service = test::init_service(App::new().configure(|config| app.configure(config))).await;
//! let sync = app.dispatcher().spawn();
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
//! while !app.caught_up().await? {
//!     actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
//! }
//! let account = app.tables().account(user["id"].as_str().unwrap_or_default());
//! assert_eq!(account.map(|a| a.user_name).as_deref(), Some("adele.vance@contoso.com"));
//! sync.stop().await;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod routes;
pub mod sync;
pub mod tables;

use std::sync::Arc;

use actix_web::web::{Data, ServiceConfig};
use scimitar::schema::{Policy, Registry, RegistryError};
use scimitar::store::{EventStore, MemoryStore, Scope, StoreError, TenantSettings, TenantStore};
use scimitar_server::{issue_token, ScimService, TokenError};
use scimitar_store::hooks::{Dispatcher, OutboxStore};
use serde_json::{json, Value};

use crate::sync::ProvisioningHook;
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

/// Why the app could not start.
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

/// The name the app's hook keeps its progress under in the outbox.
pub const CONSUMER: &str = "embedded-app";

/// The app: its SCIM service and its tables.
pub struct EmbeddedApp {
    scim: ScimService<MemoryStore>,
    tables: Data<Tables>,
    registry: Registry,
}

impl EmbeddedApp {
    /// Creates the app's tenant and returns the app with the tenant's first bearer
    /// token (the one to paste into the identity provider).
    ///
    /// # Errors
    /// [`StartError`] if the schema override, the store or token issuing fails.
    pub async fn new() -> Result<(EmbeddedApp, String), StartError> {
        let store = MemoryStore::new();
        store
            .create_tenant(TENANT, "The embedded app", json!({}))
            .await?;
        let token = issue_token(&store, TENANT, "identity provider")
            .await?
            .token;
        let registry = registry()?;
        let scim = ScimService::new(store)
            .registry(registry.clone())
            .policy(Policy::compatible());
        let app = EmbeddedApp {
            scim,
            tables: Data::new(Tables::new()),
            registry,
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

    /// The dispatcher that hands the tenant's change events to the app's hook, in
    /// order, at least once, keeping its progress in the store (as the Diesel store
    /// would, durably). Start it with `.spawn()` inside the actix (Tokio) runtime;
    /// `.options(..)` paces it.
    pub fn dispatcher(&self) -> Dispatcher<MemoryStore, ProvisioningHook> {
        let hook = ProvisioningHook::new(self.tables.clone());
        Dispatcher::new(Arc::clone(self.scim.store()), TENANT, CONSUMER, hook)
    }

    /// Whether the hook has handled every change event recorded so far.
    ///
    /// # Errors
    /// The store's, if reading the outbox fails.
    pub async fn caught_up(&self) -> Result<bool, StoreError> {
        let store = self.scim.store();
        let handled = store.checkpoint(TENANT, CONSUMER).await?;
        // Reading events needs only the tenant; the scope's policy is not used.
        let policy = Policy::default();
        let scope = Scope::new(TENANT, &self.registry, &policy);
        let next = store.events(&scope, handled, 1).await?;
        Ok(next.is_empty())
    }
}
