//! SCIM 2.0 in actix-web: mounts a [`ScimEngine`] as an [`actix_web::Scope`].
//!
//! This crate holds no SCIM logic. It turns an actix request head into an `http`
//! one, lets the engine [admit](ScimEngine::admit) it (size checks and
//! authentication, before anything else of the request is read), reads the body
//! of an admitted request up to [`Limits::max_payload_size`](scimitar_protocol::Limits),
//! and turns the engine's response back. Afterwards the request's extensions hold
//! the [`Principal`] for loggers.
//!
//! ```
//! use actix_web::{test, App};
//! use scimitar_actix::scope;
//! use scimitar_protocol::{Authenticator, Credentials, Principal, Refusal, ScimEngine, ScimError};
//! use scimitar_store::MemoryStore;
//! use serde_json::Value;
//!
//! struct ApiKeys;
//! impl Authenticator for ApiKeys {
//!     async fn authenticate(&self, request: &Credentials<'_>) -> Result<Principal, ScimError> {
//!         match request.bearer_token()? {
//!             "acme-key" => Ok(Principal::new("acme", "entra")),
//!             _ => Err(ScimError::Unauthorized(Refusal::Unknown)),
//!         }
//!     }
//! }
//!
//! # actix_web::rt::System::new().block_on(async {
//! let engine = ScimEngine::new(MemoryStore::new(), ApiKeys);
//! let app = test::init_service(App::new().service(scope(engine, "/scim/v2"))).await;
//!
//! // Entra ID's "Test Connection": a filter matching nothing is an empty list.
//! let request = test::TestRequest::get()
//!     .uri("/scim/v2/Users?filter=userName+eq+%22nobody%22")
//!     .insert_header(("Authorization", "Bearer acme-key"))
//!     .to_request();
//! let response: Value = test::call_and_read_body_json(&app, request).await;
//! assert_eq!(response["totalResults"], 0);
//!
//! // Without a key: 401, with a SCIM error body.
//! let request = test::TestRequest::get().uri("/scim/v2/Users").to_request();
//! assert_eq!(test::call_service(&app, request).await.status(), 401);
//! # });
//! ```
//!
//! Mount a base under a `{tenant}` segment (`/tenants/{tenant}/scim/v2`) and the
//! engine refuses a credential of another tenant (403).

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::web::{self, Data};
use actix_web::{Error, HttpMessage, HttpRequest, HttpResponse};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use scimitar_protocol::{Authenticator, BodyError, Connection, Mount, Principal, ScimEngine};
use scimitar_store::Store;

/// The SCIM endpoints of `engine` under `path` (e.g. `/scim/v2`, or
/// `/tenants/{tenant}/scim/v2`).
pub fn scope<S: Store + 'static, A: Authenticator>(
    engine: ScimEngine<S, A>,
    path: &str,
) -> actix_web::Scope<impl ScopeFactory> {
    web::scope(path)
        .app_data(Data::new(engine))
        .default_service(web::to(serve::<S, A>))
}

/// The service factory inside the scopes this crate (and the server's admin API)
/// builds: requests in, boxed responses out. Any such factory is one; the name
/// keeps signatures short.
pub trait ScopeFactory:
    ServiceFactory<
    ServiceRequest,
    Config = (),
    Response = ServiceResponse<BoxBody>,
    Error = Error,
    InitError = (),
>
{
}

impl<F> ScopeFactory for F where
    F: ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<BoxBody>,
        Error = Error,
        InitError = (),
    >
{
}

async fn serve<S: Store + 'static, A: Authenticator>(
    req: HttpRequest,
    payload: web::Payload,
    engine: Data<ScimEngine<S, A>>,
) -> HttpResponse {
    let response = match engine.admit(head_of(&req), mount_of(&req)).await {
        Ok(admitted) => {
            let limit = engine.limits_enforced().max_payload_size;
            let body = read_body(payload, limit).await;
            engine.respond(admitted, body).await
        }
        Err(response) => response,
    };
    if let Some(principal) = response.extensions().get::<Principal>() {
        req.extensions_mut().insert(principal.clone());
    }
    to_actix(response)
}

/// Where the scope matched: its path as requested, the rest, and `{tenant}`.
fn mount_of(req: &HttpRequest) -> Mount {
    let path = req.path();
    let matched = path
        .len()
        .saturating_sub(req.match_info().unprocessed().len());
    Mount {
        base_path: path.get(..matched).unwrap_or_default().to_owned(),
        rest: path.get(matched..).unwrap_or_default().to_owned(),
        tenant: req.match_info().get("tenant").map(str::to_owned),
    }
}

/// The request head in `http` types, with the connection's peer and scheme.
fn head_of(req: &HttpRequest) -> http::request::Parts {
    let mut head = http::Request::new(());
    *head.method_mut() =
        http::Method::from_bytes(req.method().as_str().as_bytes()).unwrap_or_default();
    *head.uri_mut() = req
        .uri()
        .path_and_query()
        .and_then(|target| http::Uri::try_from(target.as_str()).ok())
        .unwrap_or_default();
    let headers = head.headers_mut();
    headers.reserve(req.headers().len());
    for (name, value) in req.headers() {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_str().as_bytes()),
            http::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            headers.append(name, value);
        }
    }
    head.extensions_mut().insert(Connection {
        peer: req.peer_addr(),
        secure: req.app_config().secure(),
    });
    head.into_parts().0
}

/// The body, up to `limit` bytes.
async fn read_body(mut payload: web::Payload, limit: usize) -> Result<Bytes, BodyError> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|error| BodyError::Unreadable(error.to_string()))?;
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// An engine's response as an actix one.
pub fn to_actix(response: http::Response<Bytes>) -> HttpResponse {
    let (parts, body) = response.into_parts();
    let status = actix_web::http::StatusCode::from_u16(parts.status.as_u16())
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::with_body(status, body);
    let headers = response.headers_mut();
    for (name, value) in &parts.headers {
        if let (Ok(name), Ok(value)) = (
            actix_web::http::header::HeaderName::from_bytes(name.as_str().as_bytes()),
            actix_web::http::header::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            headers.append(name, value);
        }
    }
    response.map_into_boxed_body()
}
