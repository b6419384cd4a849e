//! Storage for Scimitar: the traits a SCIM store implements, the query model, an
//! in-memory reference store and the executable contract every store must pass.
//!
//! - [`Store`]: tenant-scoped create, get, replace, patch, delete, query, group
//!   member changes and the change-event outbox. Its rustdoc lists the contract as
//!   numbered rules.
//! - [`TenantStore`]: the server's tenant directory and hashed API tokens.
//! - [`Query`] / [`Page`]: filter, sort, index or cursor paging, projection.
//! - [`StoreError`]: typed failures with their SCIM status and `scimType`.
//! - [`meta`]: the helpers stores share to spell ids, versions and timestamps alike.
//! - [`ChangeEvent`] / [`NewEvent`]: the outbox records.

pub mod event;
pub mod meta;
pub mod query;
pub mod schema;

mod error;
mod memory;
mod store;
mod tenant;

#[cfg(feature = "testkit")]
pub mod testkit;

pub use error::{BoxError, StoreError};
pub use event::{ChangeEvent, ChangeKind, NewEvent};
pub use memory::MemoryStore;
pub use query::{Page, Paging, Query, SortOrder};
pub use schema::{PatchRequest, Policy, Projection, Registry};
pub use store::{Scope, Store};
pub use tenant::{ApiToken, NewApiToken, Tenant, TenantStore};
