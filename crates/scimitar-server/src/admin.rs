//! The admin API: a tenant's provisioning log over HTTP, behind an admin token
//! that is never a SCIM token.
//!
//! An admin token reads `scimadm_<64 hex digits>` (256 random bits); the server is
//! configured with its SHA-256 digest only ([`admin_token_hash`]), so the
//! configuration file holds no secret. A random 256-bit token needs no slow hash.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::web::{self, Data};
use actix_web::{HttpRequest, HttpResponse};
use rand::RngCore;
use scimitar_protocol::{bearer_token, decode_component, raw_pairs, Refusal, ScimError};
use scimitar_store::provisioning_log::{LogEntry, LogQuery, ProvisioningLog};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The prefix of admin tokens (SCIM tokens start with `scim_`).
pub const ADMIN_TOKEN_PREFIX: &str = "scimadm_";

/// The most entries one log request returns.
const MAX_LOG_LIMIT: usize = 1000;

/// A new admin token and the digest to configure the server with
/// ([`AdminApi::new`]): `(token, hash)`. Show the token once.
pub fn issue_admin_token() -> (String, String) {
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let token = format!("{ADMIN_TOKEN_PREFIX}{}", hex::encode(secret));
    let hash = admin_token_hash(&token);
    (token, hash)
}

/// The digest of an admin token as [`AdminApi::new`] takes it: `sha256:<hex>`.
pub fn admin_token_hash(token: &str) -> String {
    crate::auth::secret_digest(token)
}

/// An admin token digest that does not read as `sha256:<64 hex digits>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an admin token hash reads sha256:<64 hex digits> (see `scimitar admin token issue`)")]
pub struct AdminHashError;

/// The admin endpoints, over a provisioning log:
///
/// - `GET {path}/tenants/{tenant}/log?limit=N&errors=true`: the tenant's newest
///   log entries (default 50, at most 1000), newest first, as
///   `{"tenant": ..., "entries": [{"at", "tokenId", "tokenLabel", "userAgent",
///   "method", "resourceType", "operation", "resourceId", "status", "scimType",
///   "detail"}]}`.
///
/// Every request needs `Authorization: Bearer <admin token>`.
pub struct AdminApi<L> {
    shared: Arc<AdminShared<L>>,
}

struct AdminShared<L> {
    log: Arc<L>,
    token_digest: [u8; 32],
}

impl<L> Clone for AdminApi<L> {
    fn clone(&self) -> Self {
        AdminApi {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<L: ProvisioningLog + 'static> AdminApi<L> {
    /// The admin API over `log`, accepting the admin token whose
    /// [`admin_token_hash`] is `token_hash`.
    ///
    /// # Errors
    /// [`AdminHashError`] when `token_hash` is not a `sha256:` digest.
    pub fn new(log: Arc<L>, token_hash: &str) -> Result<Self, AdminHashError> {
        let digest = token_hash
            .trim()
            .strip_prefix("sha256:")
            .and_then(|hex_digits| hex::decode(hex_digits).ok())
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .ok_or(AdminHashError)?;
        Ok(AdminApi {
            shared: Arc::new(AdminShared {
                log,
                token_digest: digest,
            }),
        })
    }

    /// The admin endpoints under `path` (e.g. `/admin`).
    pub fn scope(&self, path: &str) -> actix_web::Scope<impl scimitar_actix::ScopeFactory> {
        web::scope(path)
            .app_data(Data::from(Arc::clone(&self.shared)))
            .route("/tenants/{tenant}/log", web::get().to(tenant_log::<L>))
    }

    /// Whether `req` carries the admin token (for other operator endpoints, such
    /// as `/metrics`).
    ///
    /// # Errors
    /// [`ScimError::Unauthorized`] without it.
    pub fn authenticate(&self, req: &HttpRequest) -> Result<(), ScimError> {
        self.shared.authenticate(req)
    }
}

impl<L: ProvisioningLog> AdminShared<L> {
    fn authenticate(&self, req: &HttpRequest) -> Result<(), ScimError> {
        let header = req
            .headers()
            .get(header::AUTHORIZATION)
            .map(|value| value.to_str().unwrap_or_default());
        let token = bearer_token(header).map_err(ScimError::Unauthorized)?;
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if bool::from(digest.ct_eq(&self.token_digest)) {
            Ok(())
        } else {
            Err(ScimError::Unauthorized(Refusal::WrongSecret))
        }
    }
}

async fn tenant_log<L: ProvisioningLog>(
    req: HttpRequest,
    shared: Data<AdminShared<L>>,
) -> HttpResponse {
    let response = match read_log(&req, &shared).await {
        Ok(body) => scimitar_protocol::scim_json(http::StatusCode::OK, &body),
        Err(error) => error.to_response(),
    };
    scimitar_actix::to_actix(response)
}

async fn read_log<L: ProvisioningLog>(
    req: &HttpRequest,
    shared: &AdminShared<L>,
) -> Result<Value, ScimError> {
    shared.authenticate(req)?;
    let tenant = req.match_info().get("tenant").unwrap_or_default();
    let mut query = LogQuery::default();
    for (name, value) in raw_pairs(req.query_string()) {
        let decoded = |text: &str| {
            decode_component(text)
                .map_err(|_| ScimError::invalid_value("the query string is not UTF-8"))
        };
        let (name, value) = (decoded(name)?, decoded(value)?);
        match name.as_str() {
            "limit" => {
                let limit: usize = value.parse().map_err(|_| {
                    ScimError::invalid_value(format!("limit must be a number, not {value:?}"))
                })?;
                query.limit = limit.min(MAX_LOG_LIMIT);
            }
            "errors" => query.errors_only = value == "true" || value == "1",
            _ => {}
        }
    }
    let entries = shared.log.recent(tenant, &query).await?;
    let entries: Vec<Value> = entries.iter().map(entry_json).collect();
    Ok(json!({"tenant": tenant, "entries": entries}))
}

fn entry_json(entry: &LogEntry) -> Value {
    json!({
        "at": scimitar_store::meta::format_timestamp(entry.at),
        "tokenId": entry.token_id,
        "tokenLabel": entry.token_label,
        "userAgent": entry.user_agent,
        "method": entry.method,
        "resourceType": entry.resource_type,
        "operation": entry.operation,
        "resourceId": entry.resource_id,
        "status": entry.status,
        "scimType": entry.scim_type,
        "detail": entry.detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::{call_and_read_body_json, call_service, init_service, TestRequest};
    use actix_web::App;
    use scimitar_store::provisioning_log::MemoryLog;

    #[test]
    fn issued_tokens_match_their_hash_only() {
        let (token, hash) = issue_admin_token();
        assert!(token.starts_with(ADMIN_TOKEN_PREFIX));
        assert_eq!(admin_token_hash(&token), hash);
        assert_ne!(admin_token_hash("scimadm_other"), hash);
        let log = Arc::new(MemoryLog::default());
        assert!(AdminApi::new(Arc::clone(&log), &hash).is_ok());
        assert_eq!(AdminApi::new(log, "md5:abc").err(), Some(AdminHashError));
    }

    #[actix_web::test]
    async fn the_log_needs_the_admin_token() {
        let log = Arc::new(MemoryLog::default());
        let mut failed = LogEntry::new("acme", "POST", "create");
        failed.status = 409;
        failed.detail = Some("userName is already in use".into());
        let ok = LogEntry::new("acme", "GET", "list");
        log.record(&[failed, ok]).await.ok();
        let (token, hash) = issue_admin_token();
        let api = AdminApi::new(log, &hash).unwrap_or_else(|e| panic!("{e}"));
        let app = init_service(App::new().service(api.scope("/admin"))).await;
        let get = |auth: Option<String>| {
            let mut request = TestRequest::get().uri("/admin/tenants/acme/log?errors=true");
            if let Some(auth) = auth {
                request = request.insert_header(("Authorization", auth));
            }
            request.to_request()
        };
        let refused = call_service(&app, get(None)).await;
        assert_eq!(refused.status(), 401);
        let refused = call_service(&app, get(Some("Bearer scimadm_00".into()))).await;
        assert_eq!(refused.status(), 401);
        let body: Value = call_and_read_body_json(&app, get(Some(format!("Bearer {token}")))).await;
        assert_eq!(body["tenant"], "acme");
        assert_eq!(body["entries"].as_array().map(Vec::len), Some(1));
        assert_eq!(body["entries"][0]["status"], 409);
        assert_eq!(body["entries"][0]["detail"], "userName is already in use");
    }
}
