//! The types of `scimitar-schema` and `scimitar-patch` that the storage traits use,
//! re-exported so that a store implementation can name them all from this crate.
//!
//! `Projection`, `ValidationError` and `PatchError` are TEMPORARY stand-ins until
//! those crates land them; they will become re-exports under the same names.

use scimitar_filter::ast::AttrPath;

pub use scimitar_schema::messages::{PatchOpKind, PatchOperation, PatchRequest, ScimType};
pub use scimitar_schema::{Policy, Registry};

/// Stand-in for `scimitar_schema::Projection`: the `attributes` and
/// `excludedAttributes` query parameters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Projection {
    /// `attributes`: return only these (plus those `returned: always`).
    pub attributes: Vec<AttrPath>,
    /// `excludedAttributes`: return all but these.
    pub excluded_attributes: Vec<AttrPath>,
}

/// Stand-in for the schema validator's error.
#[derive(Debug, thiserror::Error)]
#[error("invalid resource")]
pub struct ValidationError {
    _private: (),
}

impl ValidationError {
    /// The SCIM `scimType` of this error.
    pub fn scim_type(&self) -> Option<ScimType> {
        Some(ScimType::InvalidValue)
    }
}

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
