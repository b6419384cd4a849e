//! RFC 9457 problem details: every admin API error, as `application/problem+json`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use scimitar_store::{SettingsError, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::settings::ConfigError;

/// The media type of a problem document.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem; `about:blank` when the status says it all.
    #[serde(rename = "type")]
    pub kind: String,
    /// The kind's short summary, the same for every occurrence.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong this time, for a human.
    pub detail: String,
    /// Field-level messages of a validation error.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

/// What is wrong with one field of a request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldProblem {
    /// Where, as a dotted path (`teams.separator`, `rateLimit.perSecond`).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// The problem kinds with a meaning beyond their status.
const VALIDATION: &str =
    "https://github.com/scimitar-rs/scimitar/blob/main/docs/admin-api.md#validation";
const CONFLICT: &str =
    "https://github.com/scimitar-rs/scimitar/blob/main/docs/admin-api.md#conflict";

impl Problem {
    /// A problem with `status`, titled by the status's reason.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Problem {
            kind: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// 400 with field-level messages.
    pub fn validation(detail: impl Into<String>, errors: Vec<FieldProblem>) -> Self {
        Problem {
            kind: VALIDATION.into(),
            title: "Invalid request".into(),
            errors,
            ..Problem::new(StatusCode::BAD_REQUEST, detail)
        }
    }

    /// 400 naming one field.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let (field, message) = (field.into(), message.into());
        Problem::validation(
            format!("`{field}`: {message}"),
            vec![FieldProblem { field, message }],
        )
    }

    /// 404: `what` is not there.
    pub fn not_found(what: impl Into<String>) -> Self {
        Problem::new(StatusCode::NOT_FOUND, what)
    }

    /// 401: no admin credential, or a wrong one (which one is not said).
    pub fn unauthorized() -> Self {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "an admin token is required: Authorization: Bearer scimadm_...",
        )
    }

    /// 403: the credential may not do this.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::FORBIDDEN, detail)
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.title, self.detail)
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code())
            .content_type(PROBLEM_JSON)
            .json(self)
    }
}

impl From<StoreError> for Problem {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound { resource_type, id } => {
                Problem::not_found(format!("{resource_type} `{id}` does not exist"))
            }
            StoreError::Uniqueness { attribute } => Problem {
                kind: CONFLICT.into(),
                ..Problem::new(
                    StatusCode::CONFLICT,
                    format!("that {attribute} is already taken"),
                )
            },
            StoreError::InvalidValue(detail) => Problem::validation(detail, Vec::new()),
            StoreError::InvalidFilter(detail) => {
                Problem::invalid_field("filter", format!("invalid filter: {detail}"))
            }
            error @ (StoreError::InvalidCursor
            | StoreError::UnknownResourceType(_)
            | StoreError::Validation(_)
            | StoreError::Patch(_)) => Problem::validation(error.to_string(), Vec::new()),
            StoreError::Unavailable(source) => {
                log::warn!("admin API: storage unavailable: {source}");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the database is unavailable; try again",
                )
            }
            other => {
                log::error!("admin API: storage failed: {other}");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the server failed; the server log has the details",
                )
            }
        }
    }
}

impl From<ConfigError> for Problem {
    fn from(error: ConfigError) -> Self {
        let detail = error.to_string();
        let errors = match &error {
            ConfigError::UnknownKey { key } => vec![FieldProblem {
                field: key.clone(),
                message: "not a tenant setting".into(),
            }],
            ConfigError::Settings(SettingsError::Field { field, message }) => vec![FieldProblem {
                field: field.clone(),
                message: message.clone(),
            }],
            ConfigError::Settings(_) => Vec::new(),
        };
        Problem::validation(detail, errors)
    }
}

impl From<SettingsError> for Problem {
    fn from(error: SettingsError) -> Self {
        Problem::from(ConfigError::Settings(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_map_to_their_status() {
        let missing: Problem = StoreError::not_found("Tenant", "ghost").into();
        assert_eq!(missing.status, 404);
        assert_eq!(missing.detail, "Tenant `ghost` does not exist");
        let taken: Problem = StoreError::Uniqueness {
            attribute: "id".into(),
        }
        .into();
        assert_eq!((taken.status, taken.kind.as_str()), (409, CONFLICT));
        let field: Problem = scimitar_store::settings::field("teams.separator", "empty").into();
        assert_eq!(field.status, 400);
        assert_eq!(field.errors[0].field, "teams.separator");
        let body = serde_json::to_value(&field).unwrap_or_default();
        assert_eq!(body["type"], VALIDATION);
    }
}
