//! The types of `scimitar-schema` and `scimitar-patch` that the storage traits use,
//! re-exported so that a store implementation can name them all from this crate.

pub use scimitar_patch::PatchError;
pub use scimitar_schema::messages::{PatchOpKind, PatchOperation, PatchRequest, ScimType};
pub use scimitar_schema::{Policy, Projection, Registry, ValidationError};
