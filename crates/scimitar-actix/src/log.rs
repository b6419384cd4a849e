//! [`log_request`]: one log line per request, safe to ship to any log store.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};

use crate::service::RequestCredential;

/// The header carrying the request id, taken from the request when it has a sane
/// one (so a proxy's id carries through) and set on every response.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Middleware (for [`actix_web::middleware::from_fn`]) logging one `info` line per
/// request: request id, tenant, token id (the public part), method, path and query,
/// status and latency.
///
/// Headers are never logged, so neither are bearer tokens; bodies are never logged,
/// so neither are passwords.
///
/// ```
/// use actix_web::{middleware::from_fn, App};
///
/// let app = App::new().wrap(from_fn(scimitar_actix::log_request));
/// ```
pub async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|value| is_sane_id(value))
        .map_or_else(|| uuid::Uuid::new_v4().simple().to_string(), str::to_owned);
    let method = req.method().clone();
    let target = match req.query_string() {
        "" => req.path().to_owned(),
        query => format!("{}?{query}", req.path()),
    };
    let result = next.call(req).await;
    let (status, credential) = match &result {
        Ok(response) => (
            response.status().as_u16(),
            response
                .request()
                .extensions()
                .get::<RequestCredential>()
                .cloned(),
        ),
        Err(error) => (error.as_response_error().status_code().as_u16(), None),
    };
    let (tenant, token) = credential.map_or(("-".into(), "-".into()), |c| (c.tenant, c.token_id));
    log::info!(
        "req={id} tenant={tenant} token={token} {method} {target} {status} {:.1}ms",
        started.elapsed().as_secs_f64() * 1000.0,
    );
    result.map(|mut response| {
        if let Ok(value) = HeaderValue::from_str(&id) {
            response.headers_mut().insert(REQUEST_ID, value);
        }
        response
    })
}

/// At most 64 visible ASCII characters: anything else could forge log lines.
fn is_sane_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_cannot_forge_log_lines() {
        assert!(is_sane_id("abc-123"));
        assert!(!is_sane_id("abc\nreq=forged"));
        assert!(!is_sane_id("a b"));
        assert!(!is_sane_id(&"x".repeat(65)));
        assert!(!is_sane_id(""));
    }
}
