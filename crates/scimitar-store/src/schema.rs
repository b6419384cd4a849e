//! The types of `scimitar-schema` and `scimitar-patch` that the storage traits use.
//!
//! TEMPORARY stand-ins: those crates are being written concurrently. Each item here is
//! replaced by a re-export of the real type with the same name as soon as it lands,
//! so code naming `scimitar_store::Registry` (and friends) keeps compiling.

use scimitar_filter::ast::AttrPath;

/// Stand-in for `scimitar_schema::Registry`: the schemas and resource types of a tenant.
#[derive(Debug, Default)]
pub struct Registry {
    _private: (),
}

/// Stand-in for `scimitar_schema::Policy`: the identity-provider deviations accepted.
#[derive(Debug, Default)]
pub struct Policy {
    _private: (),
}

/// Stand-in for `scimitar_schema::Projection`: the `attributes` and
/// `excludedAttributes` query parameters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Projection {
    /// `attributes`: return only these (plus those `returned: always`).
    pub attributes: Vec<AttrPath>,
    /// `excludedAttributes`: return all but these.
    pub excluded_attributes: Vec<AttrPath>,
}

/// Stand-in for `scimitar_schema::messages::PatchRequest`.
#[derive(Debug, Clone, Default)]
pub struct PatchRequest {
    _private: (),
}

/// Stand-in for `scimitar_schema::messages::ScimType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScimType {
    /// `invalidFilter`.
    InvalidFilter,
    /// `uniqueness`.
    Uniqueness,
    /// `invalidValue`.
    InvalidValue,
    /// `invalidCursor` (RFC 9865).
    InvalidCursor,
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
