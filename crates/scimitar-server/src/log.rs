//! [`log_request`]: one log line per request, safe to ship to any log store.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};

use scimitar_filter::ast::{CompValue, Filter};

use scimitar_protocol::{decode_component, raw_pairs, Principal};

/// The header carrying the request id, taken from the request when it has a sane
/// one (so a proxy's id carries through) and set on every response.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Middleware (for [`actix_web::middleware::from_fn`]) logging one `info` line per
/// request: request id, tenant, token id (the public part), method, path and query,
/// status and latency.
///
/// Headers are never logged, so neither are bearer tokens; bodies are never logged,
/// so neither are passwords. The query is logged without personal data: a filter
/// shows its attribute names and operators with every value as `…`
/// (`userName eq "…"`), a cursor as `…`, and only the values of paging and
/// projection parameters.
///
/// ```
/// use actix_web::{middleware::from_fn, App};
///
/// let app = App::new().wrap(from_fn(scimitar_server::log_request));
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
        query => format!("{}?{}", req.path(), redacted_query(query)),
    };
    let result = next.call(req).await;
    let (status, credential) = match &result {
        Ok(response) => (
            response.status().as_u16(),
            response
                .request()
                .extensions()
                .get::<Principal>()
                .map(|principal| (principal.tenant.clone(), principal.client.clone())),
        ),
        Err(error) => (error.as_response_error().status_code().as_u16(), None),
    };
    let (tenant, token) = credential.unwrap_or_else(|| ("-".into(), "-".into()));
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

/// Query parameters whose values are logged as sent: paging and projection, never
/// data.
const PLAIN_PARAMETERS: [&str; 6] = [
    "count",
    "startIndex",
    "sortBy",
    "sortOrder",
    "attributes",
    "excludedAttributes",
];

/// `query` with its values redacted (see [`log_request`]).
fn redacted_query(query: &str) -> String {
    raw_pairs(query)
        .map(|(name, value)| {
            let decoded = |text: &str| {
                decode_component(text)
                    .unwrap_or_else(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            };
            let name = decoded(name);
            let shown = if name.eq_ignore_ascii_case("filter") {
                match scimitar_filter::parse_filter(&decoded(value)) {
                    Ok(mut filter) => {
                        redact(&mut filter);
                        filter.to_string()
                    }
                    Err(_) => "(not a filter)".to_owned(),
                }
            } else if PLAIN_PARAMETERS
                .iter()
                .any(|plain| plain.eq_ignore_ascii_case(&name))
            {
                decoded(value)
            } else {
                "…".to_owned()
            };
            let name: String = name.chars().filter(|c| !c.is_control()).take(40).collect();
            let shown: String = shown
                .chars()
                .filter(|c| !c.is_control())
                .take(500)
                .collect();
            format!("{name}={shown}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Replaces every value compared in `filter` by `…`.
fn redact(filter: &mut Filter) {
    match filter {
        Filter::Compare { value, .. } => *value = CompValue::String("…".to_owned()),
        Filter::Present(_) => {}
        Filter::And(filters) | Filter::Or(filters) => filters.iter_mut().for_each(redact),
        Filter::Not(inner) | Filter::ValuePath { filter: inner, .. } => redact(inner),
    }
}

/// At most 64 visible ASCII characters: anything else could forge log lines.
fn is_sane_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_logged_without_values() {
        let logged = redacted_query(
            "filter=userName+eq+%22bjensen%40example.com%22+and+emails%5Btype+eq+%22work%22%5D+and+title+pr\
             &count=10&cursor=c2VjcmV0&attributes=userName&x=secret",
        );
        assert_eq!(
            logged,
            r#"filter=userName eq "…" and emails[type eq "…"] and title pr&count=10&cursor=…&attributes=userName&x=…"#
        );
        assert!(!logged.contains("bjensen") && !logged.contains("c2VjcmV0"));
        assert_eq!(redacted_query("filter=%22oops"), "filter=(not a filter)");
        assert_eq!(
            redacted_query("filter=a+eq+1%0Areq%3Dforged"),
            "filter=(not a filter)"
        );
    }

    #[test]
    fn request_ids_cannot_forge_log_lines() {
        assert!(is_sane_id("abc-123"));
        assert!(!is_sane_id("abc\nreq=forged"));
        assert!(!is_sane_id("a b"));
        assert!(!is_sane_id(&"x".repeat(65)));
        assert!(!is_sane_id(""));
    }
}
