//! Why a PATCH request was refused.

use std::fmt;

use scimitar_filter::ParseError;
use scimitar_schema::messages::{ErrorResponse, PatchOpKind, ScimType};

/// Why a PATCH request was refused. Nothing was changed.
///
/// Every operation failure names the operation (1-based, as a person counts) and its
/// path, e.g. `operation 2 (remove "emails[type eq \"home\"]"): no value of emails
/// matches the filter`. [`PatchError::scim_type`] gives the RFC 7644 §3.12 error type
/// and [`PatchError::to_error_response`] the error body to send.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PatchError {
    /// The resource type is not registered.
    #[error("unknown resource type `{0}`")]
    UnknownResourceType(String),
    /// The stored resource handed to [`apply`](crate::apply) is not a JSON object
    /// (a caller bug, reported rather than panicking).
    #[error("the resource to patch is not a JSON object")]
    ResourceNotAnObject,
    /// The request's `schemas` does not list the PatchOp message URN.
    #[error("`schemas` must list \"urn:ietf:params:scim:api:messages:2.0:PatchOp\"")]
    NotPatchOp,
    /// `Operations` is empty (RFC 7644 §3.5.2 asks for one or more).
    #[error("`Operations` is empty; a PATCH request needs at least one operation")]
    NoOperations,
    /// One operation failed.
    #[error("operation {position} ({}): {reason}", operation_label(*.op, .path.as_deref()))]
    Operation {
        /// The operation's place in `Operations`, counting from 1.
        position: usize,
        /// What it was.
        op: PatchOpKind,
        /// Its path, as sent.
        path: Option<String>,
        /// What went wrong.
        reason: OperationError,
    },
}

impl PatchError {
    /// The SCIM `scimType` (RFC 7644 §3.12) for this error.
    pub fn scim_type(&self) -> ScimType {
        match self {
            PatchError::UnknownResourceType(_) => ScimType::InvalidValue,
            PatchError::ResourceNotAnObject | PatchError::NotPatchOp | PatchError::NoOperations => {
                ScimType::InvalidSyntax
            }
            PatchError::Operation { reason, .. } => reason.scim_type(),
        }
    }

    /// The HTTP status: 400 for every PATCH error.
    pub fn status(&self) -> u16 {
        self.scim_type().status()
    }

    /// The SCIM error body for this error.
    pub fn to_error_response(&self) -> ErrorResponse {
        ErrorResponse::typed(self.scim_type(), self.to_string())
    }

    /// The operation failure, when one operation failed.
    pub fn reason(&self) -> Option<&OperationError> {
        match self {
            PatchError::Operation { reason, .. } => Some(reason),
            _ => None,
        }
    }
}

impl From<PatchError> for ErrorResponse {
    fn from(error: PatchError) -> Self {
        error.to_error_response()
    }
}

/// `remove "emails[type eq \"home\"]"` or `replace, no path`.
fn operation_label(op: PatchOpKind, path: Option<&str>) -> OperationLabel<'_> {
    OperationLabel { op, path }
}

struct OperationLabel<'a> {
    op: PatchOpKind,
    path: Option<&'a str>,
}

impl fmt::Display for OperationLabel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.path {
            Some(path) => write!(f, "{} {path:?}", self.op),
            None => write!(f, "{}, no path", self.op),
        }
    }
}

/// Why one operation failed. Attribute paths are in the schema's spelling,
/// URN-qualified for extension attributes.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum OperationError {
    /// The path does not parse.
    #[error("{0}")]
    InvalidPath(#[from] ParseError),
    /// The path names no attribute of the resource type (and the policy rejects
    /// unknown attributes).
    #[error("`{path}` is not an attribute of resource type {resource_type}")]
    UnknownPath {
        /// The path as sent.
        path: String,
        /// The resource type's name.
        resource_type: String,
    },
    /// A key of the value names no attribute (and the policy rejects unknown
    /// attributes).
    #[error("the value has `{path}`, which is not an attribute of resource type {resource_type}")]
    UnknownAttribute {
        /// The attribute as sent, prefixed with where it was found.
        path: String,
        /// The resource type's name.
        resource_type: String,
    },
    /// A value filter on an attribute that is not multi-valued.
    #[error("`{path}` is single-valued; a value filter needs a multi-valued attribute")]
    FilterOnSingleValued {
        /// The attribute.
        path: String,
    },
    /// `add` or `replace` without a `value`.
    #[error("{op} needs a \"value\"")]
    MissingValue {
        /// The operation.
        op: PatchOpKind,
    },
    /// `remove` without a `path` (RFC 7644 §3.5.2.2).
    #[error("remove needs a \"path\"")]
    RemoveWithoutPath,
    /// A value filter matched nothing (RFC 7644 §3.12 `noTarget`).
    #[error("no value of {path} matches the filter")]
    NoMatch {
        /// The multi-valued attribute.
        path: String,
    },
    /// The target is read-only.
    #[error("`{path}` is read-only; clients cannot change it")]
    ReadOnly {
        /// The attribute.
        path: String,
    },
    /// The target is immutable and already has a different value.
    #[error("`{path}` is immutable; it is already set and cannot be changed")]
    Immutable {
        /// The attribute.
        path: String,
    },
    /// The operation would leave a required attribute unassigned (RFC 7644
    /// §3.5.2.2 asks for `mutability`).
    #[error("`{path}` is required; it cannot be removed")]
    Required {
        /// The attribute.
        path: String,
    },
    /// A required string attribute would become empty or blank, which counts as
    /// missing.
    #[error("`{path}` is required and must not be empty or blank")]
    Blank {
        /// The attribute.
        path: String,
    },
    /// A value has the wrong JSON type.
    #[error("`{path}` must be {expected}, not {found}")]
    WrongType {
        /// The attribute.
        path: String,
        /// What the schema expects, in words.
        expected: &'static str,
        /// What was sent, in words.
        found: &'static str,
    },
    /// A dateTime value is not an `xsd:dateTime`.
    #[error("`{path}`: `{value}` is not a date and time such as 2008-01-23T04:56:22Z")]
    InvalidDateTime {
        /// The attribute.
        path: String,
        /// The value sent.
        value: String,
    },
    /// A binary value is not base64.
    #[error("`{path}` must be base64-encoded data")]
    InvalidBinary {
        /// The attribute.
        path: String,
    },
    /// A string is not one of the attribute's canonical values (when the policy
    /// enforces them).
    #[error("`{path}`: `{value}` is not one of {allowed}")]
    NonCanonicalValue {
        /// The attribute.
        path: String,
        /// The value sent.
        value: String,
        /// The canonical values, comma-separated.
        allowed: String,
    },
    /// `null` (or, strictly, `""`) where the policy does not let it clear the
    /// attribute.
    #[error("`{path}` cannot be set to null; use remove to clear it")]
    NullValue {
        /// The attribute.
        path: String,
    },
    /// More than one value would be marked primary.
    #[error("`{path}`: at most one value may have \"primary\": true")]
    MultiplePrimary {
        /// The attribute.
        path: String,
    },
    /// `remove` with a value list, which RFC 7644 does not define (the policy option
    /// `patch_members_remove_value_list` accepts it).
    #[error("remove on `{path}` takes no value (a value list is accepted only with patch_members_remove_value_list)")]
    RemoveValueList {
        /// The attribute.
        path: String,
    },
    /// A group member without a `value` (the member's id).
    #[error("every member needs a \"value\" with the member's id")]
    MemberWithoutValue,
    /// With [`ApplyOptions::external_members`](crate::ApplyOptions::external_members)
    /// the member list is not at hand, so a `members` path can only select members
    /// by id: `members[value eq "id"]`, or several such terms joined with `or`.
    #[error("`{path}` cannot be applied without reading the member list; select members by id only (members[value eq \"id\"])")]
    MembersNeedList {
        /// The path as sent.
        path: String,
    },
}

impl OperationError {
    /// The SCIM `scimType` (RFC 7644 §3.12) for this failure.
    pub fn scim_type(&self) -> ScimType {
        use OperationError::*;
        match self {
            InvalidPath(_) | UnknownPath { .. } | FilterOnSingleValued { .. } => {
                ScimType::InvalidPath
            }
            UnknownAttribute { .. } => ScimType::InvalidSyntax,
            RemoveWithoutPath | NoMatch { .. } => ScimType::NoTarget,
            ReadOnly { .. } | Immutable { .. } | Required { .. } => ScimType::Mutability,
            MembersNeedList { .. } => ScimType::InvalidFilter,
            MissingValue { .. }
            | Blank { .. }
            | WrongType { .. }
            | InvalidDateTime { .. }
            | InvalidBinary { .. }
            | NonCanonicalValue { .. }
            | NullValue { .. }
            | MultiplePrimary { .. }
            | RemoveValueList { .. }
            | MemberWithoutValue => ScimType::InvalidValue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_operation_and_its_path() {
        let error = PatchError::Operation {
            position: 2,
            op: PatchOpKind::Remove,
            path: Some(r#"emails[type eq "home"]"#.into()),
            reason: OperationError::NoMatch {
                path: "emails".into(),
            },
        };
        assert_eq!(
            error.to_string(),
            r#"operation 2 (remove "emails[type eq \"home\"]"): no value of emails matches the filter"#
        );
        assert_eq!(error.scim_type(), ScimType::NoTarget);
        assert_eq!(error.status(), 400);
        let body = error.to_error_response();
        assert_eq!(body.scim_type, Some(ScimType::NoTarget));
        assert_eq!(body.detail.as_deref(), Some(error.to_string().as_str()));
    }

    #[test]
    fn display_without_path() {
        let error = PatchError::Operation {
            position: 1,
            op: PatchOpKind::Remove,
            path: None,
            reason: OperationError::RemoveWithoutPath,
        };
        assert_eq!(
            error.to_string(),
            r#"operation 1 (remove, no path): remove needs a "path""#
        );
        assert_eq!(error.scim_type(), ScimType::NoTarget);
    }

    #[test]
    fn scim_types() {
        let cases = [
            (
                OperationError::ReadOnly { path: "id".into() },
                ScimType::Mutability,
            ),
            (
                OperationError::Required {
                    path: "userName".into(),
                },
                ScimType::Mutability,
            ),
            (
                OperationError::MembersNeedList {
                    path: "members".into(),
                },
                ScimType::InvalidFilter,
            ),
            (OperationError::MemberWithoutValue, ScimType::InvalidValue),
            (
                OperationError::FilterOnSingleValued {
                    path: "name".into(),
                },
                ScimType::InvalidPath,
            ),
        ];
        for (reason, scim_type) in cases {
            assert_eq!(reason.scim_type(), scim_type, "{reason}");
        }
        assert_eq!(
            PatchError::NoOperations.scim_type(),
            ScimType::InvalidSyntax
        );
    }
}
