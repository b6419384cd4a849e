//! The types of `scimitar-schema` and `scimitar-patch` that the storage traits use,
//! re-exported so that a store implementation can name them all from this crate.
//!
//! `PatchError` is a TEMPORARY stand-in until `scimitar-patch` lands; it will become
//! a re-export under the same name.

pub use scimitar_schema::messages::{PatchOpKind, PatchOperation, PatchRequest, ScimType};
pub use scimitar_schema::{Policy, Projection, Registry, ValidationError};

/// Stand-in for `scimitar_patch::PatchError`.
#[derive(Debug, thiserror::Error)]
#[error("invalid patch")]
pub struct PatchError {
    _private: (),
}

impl PatchError {
    /// The SCIM `scimType` of this error.
    pub fn scim_type(&self) -> Option<ScimType> {
        Some(ScimType::InvalidValue)
    }
}
