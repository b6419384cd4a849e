//! The one error type of the storage traits, and its mapping to SCIM errors.

use crate::schema::{PatchError, ScimType, ValidationError};

/// A boxed backend error, kept as the source of [`StoreError::Unavailable`] and
/// [`StoreError::Backend`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a storage call failed.
///
/// Each variant maps to a SCIM error response through [`StoreError::status`] and
/// [`StoreError::scim_type`]; the `Display` text is safe to send as `detail` (it
/// never includes backend internals, which stay in [`std::error::Error::source`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No resource of this type with this id in the scope's tenant (404).
    #[error("{resource_type} {id} not found")]
    NotFound {
        /// The resource type asked for.
        resource_type: String,
        /// The id asked for.
        id: String,
    },
    /// The resource type is not one the scope's registry defines (404).
    #[error("unknown resource type {0}")]
    UnknownResourceType(String),
    /// A unique attribute's value is already taken in the tenant (409 `uniqueness`).
    #[error("{attribute} is already in use")]
    Uniqueness {
        /// The attribute, e.g. `userName`.
        attribute: String,
    },
    /// The expected version (`If-Match`) is not the current one (412).
    #[error("version mismatch: the current version is {current}")]
    VersionMismatch {
        /// The resource's current `meta.version`.
        current: String,
    },
    /// The filter or sort attribute cannot be evaluated: an attribute the schema
    /// does not define, or an operator its type does not support (400 `invalidFilter`).
    #[error("invalid filter: {0}")]
    InvalidFilter(String),
    /// A paging cursor that this store did not issue, or that is malformed
    /// (400 `invalidCursor`, RFC 9865).
    #[error("invalid cursor")]
    InvalidCursor,
    /// A group member that is not a User or Group of the tenant (400 `invalidValue`).
    #[error("member {0} is not a user or group of this tenant")]
    UnknownMember(String),
    /// An Enterprise `manager.value` that is not a user of the tenant
    /// (400 `invalidValue`).
    #[error("manager {0} is not a user of this tenant")]
    UnknownManager(String),
    /// The resource type is read-only in this tenant: its resources are derived
    /// (Groups under [`TeamMode::Department`](crate::TeamMode::Department))
    /// (400 `mutability`).
    #[error("{resource_type} resources are derived from user attributes in this tenant and cannot be changed")]
    ReadOnly {
        /// The resource type written to, e.g. `Group`.
        resource_type: String,
    },
    /// A value the store refuses, such as a tenant id that is not a slug; the text
    /// says what is wrong (400 `invalidValue`).
    #[error("{0}")]
    InvalidValue(String),
    /// The resource does not satisfy its schema (400, with the validator's scimType).
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// The PATCH request cannot be applied (400, with the patcher's scimType).
    #[error(transparent)]
    Patch(#[from] PatchError),
    /// The backend is temporarily unavailable: connection lost, pool exhausted,
    /// serialization failure after retries (503; the client may retry).
    #[error("storage temporarily unavailable")]
    Unavailable(#[source] BoxError),
    /// Any other backend failure, e.g. corrupt stored data (500).
    #[error("storage failure")]
    Backend(#[source] BoxError),
    /// The application refuses the write for a reason of its own (a seat limit
    /// reached, an email domain the customer does not own, a protected owner
    /// account), with the status, `scimType` and detail the client and the
    /// identity provider's provisioning log see. Make it with
    /// [`StoreError::refused`].
    #[error("{detail}")]
    Refused {
        /// A 4xx status.
        status: u16,
        /// The SCIM error type, if one fits.
        scim_type: Option<ScimType>,
        /// What is wrong, for a human: it is shown as it is.
        detail: String,
    },
}

impl StoreError {
    /// A [`StoreError::NotFound`] for `resource_type` / `id`.
    pub fn not_found(resource_type: &str, id: &str) -> Self {
        StoreError::NotFound {
            resource_type: resource_type.to_owned(),
            id: id.to_owned(),
        }
    }

    /// The application's refusal of a write ([`StoreError::Refused`]): `status`
    /// must be a client error (400 to 499), else it is read as 400, since a
    /// refusal is not the server failing.
    ///
    /// ```
    /// use scimitar_store::StoreError;
    /// use scimitar_store::schema::ScimType;
    ///
    /// let full = StoreError::refused(403, None, "the plan's 25 seats are taken");
    /// assert_eq!(full.status(), 403);
    /// assert_eq!(full.to_string(), "the plan's 25 seats are taken");
    /// let domain = StoreError::refused(400, Some(ScimType::InvalidValue), "example.org is not a domain of Acme");
    /// assert_eq!(domain.scim_type(), Some(ScimType::InvalidValue));
    /// assert_eq!(StoreError::refused(200, None, "odd").status(), 400);
    /// ```
    pub fn refused(status: u16, scim_type: Option<ScimType>, detail: impl Into<String>) -> Self {
        StoreError::Refused {
            status: if (400..500).contains(&status) {
                status
            } else {
                400
            },
            scim_type,
            detail: detail.into(),
        }
    }

    /// The HTTP status of the SCIM error response.
    pub fn status(&self) -> u16 {
        match self {
            StoreError::Refused { status, .. } => *status,
            StoreError::NotFound { .. } | StoreError::UnknownResourceType(_) => 404,
            StoreError::Uniqueness { .. } => 409,
            StoreError::VersionMismatch { .. } => 412,
            StoreError::InvalidFilter(_)
            | StoreError::InvalidCursor
            | StoreError::UnknownMember(_)
            | StoreError::UnknownManager(_)
            | StoreError::ReadOnly { .. }
            | StoreError::InvalidValue(_)
            | StoreError::Validation(_)
            | StoreError::Patch(_) => 400,
            StoreError::Unavailable(_) => 503,
            StoreError::Backend(_) => 500,
        }
    }

    /// The SCIM `scimType` of the error response, if the error has one
    /// (RFC 7644 §3.12, RFC 9865).
    pub fn scim_type(&self) -> Option<ScimType> {
        match self {
            StoreError::Refused { scim_type, .. } => *scim_type,
            StoreError::Uniqueness { .. } => Some(ScimType::Uniqueness),
            StoreError::InvalidFilter(_) => Some(ScimType::InvalidFilter),
            StoreError::InvalidCursor => Some(ScimType::InvalidCursor),
            StoreError::UnknownMember(_)
            | StoreError::UnknownManager(_)
            | StoreError::InvalidValue(_) => Some(ScimType::InvalidValue),
            StoreError::ReadOnly { .. } => Some(ScimType::Mutability),
            StoreError::Validation(error) => Some(error.scim_type()),
            StoreError::Patch(error) => Some(error.scim_type()),
            StoreError::NotFound { .. }
            | StoreError::UnknownResourceType(_)
            | StoreError::VersionMismatch { .. }
            | StoreError::Unavailable(_)
            | StoreError::Backend(_) => None,
        }
    }
}
