//! [`ScimError`]: every way a request can fail, rendered as an RFC 7644 §3.12 error body.

use http::header::{self, HeaderValue};
use http::StatusCode;
use scimitar_filter::ParseError;
use scimitar_schema::{ErrorResponse, ScimType};
use scimitar_store::StoreError;

use crate::auth::Refusal;
use crate::response::{scim_json, Response};

/// Why a SCIM request failed.
///
/// Every variant becomes a response with status, `scimType` and `detail` in the SCIM
/// error schema and content type `application/scim+json`
/// ([`ScimError::to_response`]). A store or an [`Authenticator`](crate::Authenticator)
/// refuses with one; the engine renders it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScimError {
    /// No credential, or one that is not valid (401, with `WWW-Authenticate`). The
    /// client is told the same whatever the reason, which stays in the server's log.
    #[error("the request needs a valid bearer token")]
    Unauthorized(#[source] Refusal),
    /// A valid credential that may not do this: another tenant's URL, a disabled
    /// tenant (403).
    #[error("{0}")]
    Forbidden(String),
    /// No such endpoint or resource (404).
    #[error("{0}")]
    NotFound(String),
    /// The endpoint exists but not with this method (405).
    #[error("method {0} is not allowed on this endpoint")]
    MethodNotAllowed(String),
    /// The body's content type is not JSON (415).
    #[error("unsupported content type `{0}`: send application/scim+json or application/json")]
    UnsupportedMediaType(String),
    /// The body, or the number of bulk operations, is over a limit (413).
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The request target (path and query string) is over the limit (414).
    #[error("the URL is {length} bytes long, over the limit of {limit}")]
    UriTooLong {
        /// The target's length in bytes.
        length: usize,
        /// [`Limits::max_url_length`](crate::Limits::max_url_length).
        limit: usize,
    },
    /// The request's headers are over the limit (431).
    #[error("the request headers take {length} bytes, over the limit of {limit}")]
    HeadersTooLarge {
        /// The headers' names and values, in bytes.
        length: usize,
        /// [`Limits::max_header_bytes`](crate::Limits::max_header_bytes).
        limit: usize,
    },
    /// The client sends too many requests; retry after this many seconds (429).
    #[error("too many requests: retry after {retry_after} seconds")]
    TooManyRequests {
        /// Seconds until a request will be accepted again.
        retry_after: u64,
    },
    /// The request is malformed: a 400 with its `scimType`.
    #[error("{detail}")]
    BadRequest {
        /// The SCIM error type.
        scim_type: ScimType,
        /// What is wrong, for the client.
        detail: String,
    },
    /// A `/Bulk` operation references a `bulkId` that names no successful POST of the
    /// request (409 `invalidValue`).
    #[error("{0}")]
    UnresolvedReference(String),
    /// A filter, path, `sortBy` or attribute list that does not parse (400).
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The storage layer refused or failed (status from [`StoreError::status`]).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The endpoint is not implemented for this credential (501), e.g. `/Me` with a
    /// token not bound to a user.
    #[error("{0}")]
    NotImplemented(String),
    /// A password could not be hashed (500; it cannot, with the parameters used).
    #[error(transparent)]
    PasswordHash(#[from] crate::PasswordHashError),
    /// The request body could not be read (400): the connection failed mid-body.
    #[error("the request body could not be read: {0}")]
    BodyUnreadable(String),
}

impl ScimError {
    /// A 400 error of `scim_type`.
    pub fn bad_request(scim_type: ScimType, detail: impl Into<String>) -> Self {
        ScimError::BadRequest {
            scim_type,
            detail: detail.into(),
        }
    }

    /// A 400 `invalidSyntax` error: the body is not what the endpoint takes.
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        ScimError::bad_request(ScimType::InvalidSyntax, detail)
    }

    /// A 400 `invalidValue` error.
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        ScimError::bad_request(ScimType::InvalidValue, detail)
    }

    /// The SCIM `scimType`, if this error has one.
    pub fn scim_type(&self) -> Option<ScimType> {
        match self {
            ScimError::BadRequest { scim_type, .. } => Some(*scim_type),
            ScimError::Parse(error) => ScimType::parse(error.scim_type()),
            ScimError::Store(error) => error.scim_type(),
            ScimError::UnresolvedReference(_) => Some(ScimType::InvalidValue),
            _ => None,
        }
    }

    /// The SCIM error body (RFC 7644 §3.12) of this error.
    pub fn to_error_response(&self) -> ErrorResponse {
        let status = self.status().as_u16();
        let mut body = ErrorResponse::new(status, self.to_string());
        body.scim_type = self.scim_type();
        body
    }
}

impl ScimError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        let status = match self {
            ScimError::Unauthorized(_) => 401,
            ScimError::Forbidden(_) => 403,
            ScimError::NotFound(_) => 404,
            ScimError::MethodNotAllowed(_) => 405,
            ScimError::UnsupportedMediaType(_) => 415,
            ScimError::PayloadTooLarge(_) => 413,
            ScimError::UriTooLong { .. } => 414,
            ScimError::HeadersTooLarge { .. } => 431,
            ScimError::UnresolvedReference(_) => 409,
            ScimError::TooManyRequests { .. } => 429,
            ScimError::BadRequest { .. } | ScimError::Parse(_) => 400,
            ScimError::Store(error) => error.status(),
            ScimError::NotImplemented(_) => 501,
            ScimError::PasswordHash(_) => 500,
            ScimError::BodyUnreadable(_) => 400,
        };
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The response of this error: its SCIM body, `WWW-Authenticate` on a 401,
    /// `Retry-After` on a 429 or 503. Storage failures are logged here (the body
    /// says only "storage failure").
    pub fn to_response(&self) -> Response {
        if let ScimError::Store(error @ (StoreError::Backend(_) | StoreError::Unavailable(_))) =
            self
        {
            // The detail sent is generic; the cause is for the operator's log only.
            log::error!("{}", error_chain(error));
        }
        let mut response = error_body(&self.to_error_response());
        let headers = response.headers_mut();
        match self {
            ScimError::Unauthorized(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Bearer realm="scimitar""#),
                );
            }
            ScimError::TooManyRequests { retry_after } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            ScimError::Store(StoreError::Unavailable(_)) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        response
    }
}

/// A response carrying `body` with its status and the SCIM media type.
pub fn error_body(body: &ErrorResponse) -> Response {
    let status = StatusCode::from_u16(body.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    scim_json(status, body)
}

/// An error and its sources on one line, for logs and messages to admins:
/// "storage temporarily unavailable: database error: database is locked". A
/// source whose text the line already ends with (wrappers often repeat it) is
/// not written twice.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::SCIM_JSON;

    #[derive(Debug, thiserror::Error)]
    #[error("{message}")]
    struct Layer {
        message: &'static str,
        #[source]
        source: Option<Box<Layer>>,
    }

    #[test]
    fn an_error_chain_names_each_cause_once() {
        let locked = Layer {
            message: "database is locked",
            source: None,
        };
        let repeated = Layer {
            message: "database error: database is locked",
            source: Some(Box::new(locked)),
        };
        let top = Layer {
            message: "storage temporarily unavailable",
            source: Some(Box::new(repeated)),
        };
        assert_eq!(
            error_chain(&top),
            "storage temporarily unavailable: database error: database is locked"
        );
    }

    fn body_of(response: Response) -> serde_json::Value {
        serde_json::from_slice(response.body()).unwrap_or_default()
    }

    #[test]
    fn unauthorized_has_challenge_and_scim_body() {
        let response = ScimError::Unauthorized(Refusal::Missing).to_response();
        assert_eq!(response.status(), 401);
        assert_eq!(
            response.headers().get(header::WWW_AUTHENTICATE).unwrap(),
            r#"Bearer realm="scimitar""#
        );
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            SCIM_JSON
        );
        let body = body_of(response);
        assert_eq!(body["status"], "401");
        assert_eq!(body["detail"], "the request needs a valid bearer token");
        assert_eq!(body["schemas"][0], scimitar_schema::urn::ERROR);
    }

    #[test]
    fn store_errors_keep_their_status_and_type() {
        let error = ScimError::from(StoreError::Uniqueness {
            attribute: "userName".into(),
        });
        assert_eq!(error.status(), 409);
        assert_eq!(body_of(error.to_response())["scimType"], "uniqueness");
        let error = ScimError::from(StoreError::VersionMismatch {
            current: "W/\"2\"".into(),
        });
        assert_eq!(error.status(), 412);
    }

    #[test]
    fn an_app_refusal_reaches_the_client_as_chosen() {
        let refused = ScimError::from(StoreError::refused(
            403,
            Some(ScimType::InvalidValue),
            "the plan's 25 seats are taken",
        ));
        let response = refused.to_response();
        assert_eq!(response.status(), 403);
        let body = body_of(response);
        assert_eq!(body["scimType"], "invalidValue");
        assert_eq!(body["detail"], "the plan's 25 seats are taken");
    }

    #[test]
    fn backend_failures_hide_their_cause() {
        let cause: scimitar_store::BoxError = "password=hunter2 at db.internal".into();
        let response = ScimError::from(StoreError::Backend(cause)).to_response();
        assert_eq!(response.status(), 500);
        let body = body_of(response);
        assert_eq!(body["detail"], "storage failure");
        assert!(!body.to_string().contains("hunter2"));
        let unavailable = ScimError::from(StoreError::Unavailable("pool".into())).to_response();
        assert_eq!(unavailable.status(), 503);
        assert_eq!(unavailable.headers().get(header::RETRY_AFTER).unwrap(), "1");
    }

    #[test]
    fn parse_errors_are_invalid_filter() {
        let error = ScimError::from(scimitar_filter::parse_filter("userName =").unwrap_err());
        assert_eq!(error.status(), 400);
        assert_eq!(error.scim_type(), Some(ScimType::InvalidFilter));
    }

    #[test]
    fn rate_limit_says_when_to_retry() {
        let response = ScimError::TooManyRequests { retry_after: 3 }.to_response();
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "3");
    }
}
