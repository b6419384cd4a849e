//! Storage for Scimitar: the traits a SCIM store implements, the query model, an
//! in-memory reference store, and the executable contract every store must pass.
//!
//! - [`Store`]: tenant-scoped create, get, replace, patch, delete and query of SCIM
//!   resources, group member changes that never load the group, and the change-event
//!   outbox. Its documentation states the contract as numbered rules.
//! - [`TenantStore`]: the server's tenant directory and hashed API tokens;
//!   [`TenantSettings`]: what a tenant's settings object means.
//! - [`Query`] / [`Page`]: filter, sort, index or cursor paging, projection.
//! - [`StoreError`]: typed failures with their HTTP status and SCIM `scimType`.
//! - [`hooks`]: reacting to the outbox: an [`EventHandler`](hooks::EventHandler), the
//!   `Dispatcher` that feeds it one tenant's events in order (feature
//!   `dispatcher`), and the [`OutboxStore`](hooks::OutboxStore) keeping consumers'
//!   checkpoints and leases and pruning handled events.
//! - [`provisioning_log`]: one entry per SCIM request, for the tenant's admin.
//! - [`MemoryStore`]: the reference implementation of both traits, and its own
//!   outbox store and provisioning log.
//! - [`meta`], [`derive`](mod@derive) and [`NewEvent`]: helpers so every store spells ids,
//!   versions, timestamps, managers, derived teams and events the same way;
//!   [`write`](mod@write): the store-independent steps of a write (writable types, group
//!   members split off a body, PATCH member changes).
//! - `testkit` (feature `testkit`): the contract as checks, one per rule, to run
//!   against any store with `store_contract_tests!`.
//!
//! The store owns `id`, `meta.created`, `meta.lastModified`, `meta.version` and
//! `meta.resourceType`; the HTTP layer adds `meta.location`.
//!
//! ```
//! use scimitar_store::{MemoryStore, Policy, Query, Registry, Scope, Store};
//! use serde_json::json;
//!
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let registry = Registry::builtin();
//! let policy = Policy::default();
//! let scope = Scope::new("acme", &registry, &policy);
//! let store = MemoryStore::new();
//!
//! let alice = store
//!     .create(&scope, "User", json!({
//!         "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
//!         "userName": "alice@example.com",
//!     }))
//!     .await?;
//! assert_eq!(alice["meta"]["version"], "W/\"1\"");
//!
//! // userName is not case-exact: this finds Alice.
//! let filter = scimitar_filter::parse_filter(r#"userName eq "ALICE@example.com""#)?;
//! let page = store.query(&scope, "User", &Query::default().filter(filter)).await?;
//! assert_eq!(page.total_results, 1);
//! assert_eq!(page.resources[0]["id"], alice["id"]);
//!
//! // Another tenant sees nothing of it.
//! let other = Scope::new("globex", &registry, &policy);
//! assert_eq!(store.query(&other, "User", &Query::default()).await?.total_results, 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod derive;
pub mod event;
pub mod hooks;
pub mod meta;
pub mod provisioning_log;
pub mod query;
pub mod schema;
pub mod settings;
pub mod state;
pub mod write;

mod error;
mod memory;
mod store;
pub mod tenant;

#[cfg(feature = "testkit")]
pub mod testkit;

pub use error::{BoxError, StoreError};
pub use event::{ChangeEvent, ChangeKind, NewEvent};
pub use memory::{evaluate_in_memory, MemoryStore, IN_MEMORY_LIMIT};
pub use query::{Page, Paging, Query, SortOrder};
pub use schema::{PatchRequest, Policy, Projection, Registry};
pub use settings::{DeletionMode, SettingsError, TeamMode, TenantSettings};
pub use store::{
    Archived, Created, DirectoryStore, EventStore, MemberStore, Scope, Store, TeamsRebuilt,
};
pub use tenant::{AdminToken, ApiToken, NewAdminToken, NewApiToken, Tenant, TenantStore};
