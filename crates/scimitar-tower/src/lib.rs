//! SCIM 2.0 in axum, hyper or any tower stack: a [`ScimEngine`] as a
//! [`tower_service::Service`].
//!
//! This crate holds no SCIM logic. [`ScimService`] lets the engine
//! [admit](ScimEngine::admit) a request's head (size checks and authentication,
//! before anything else of the request is read), collects the body of an
//! admitted request up to [`Limits::max_payload_size`](scimitar_protocol::Limits),
//! and returns the engine's response with a [`Full`] body. It never fails: every
//! error is a SCIM error response.
//!
//! ```
//! use axum::Router;
//! use scimitar_protocol::{Authenticator, Credentials, Principal, Refusal, ScimEngine, ScimError};
//! use scimitar_store::MemoryStore;
//! use tower::ServiceExt;
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
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let engine = ScimEngine::new(MemoryStore::new(), ApiKeys);
//! let app: Router = Router::new()
//!     .nest_service("/scim/v2", scimitar_tower::ScimService::new(engine, "/scim/v2"));
//!
//! let request = http::Request::get("/scim/v2/Users?filter=userName+eq+%22nobody%22")
//!     .header("authorization", "Bearer acme-key")
//!     .body(axum::body::Body::empty())
//!     .unwrap();
//! let response = app.oneshot(request).await.unwrap();
//! assert_eq!(response.status(), 200);
//! # });
//! ```
//!
//! A base under a `{tenant}` segment (`/tenants/{tenant}/scim/v2`) is matched
//! against the whole path, so mount it where the path arrives unstripped (axum's
//! `Router::route_service("/tenants/{tenant}/scim/v2/{*rest}", ...)` or a
//! fallback); the engine refuses a credential of another tenant (403). Put a
//! [`Connection`](scimitar_protocol::Connection) into the request's extensions to
//! tell the engine the peer and the scheme (for trusted proxies and URLs).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::Body;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use scimitar_protocol::{Authenticator, BodyError, Mount, ScimEngine, ScimError};
use scimitar_store::Store;

/// A [`ScimEngine`] serving the SCIM base at one path, as a tower service.
pub struct ScimService<S, A> {
    engine: ScimEngine<S, A>,
    base: Arc<BasePath>,
}

impl<S, A> Clone for ScimService<S, A> {
    fn clone(&self) -> Self {
        ScimService {
            engine: self.engine.clone(),
            base: Arc::clone(&self.base),
        }
    }
}

impl<S, A> std::fmt::Debug for ScimService<S, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScimService")
            .field("base", &self.base.segments)
            .finish_non_exhaustive()
    }
}

impl<S: Store + 'static, A: Authenticator> ScimService<S, A> {
    /// `engine` serving the SCIM base at `base` (e.g. `/scim/v2`, or
    /// `/tenants/{tenant}/scim/v2`).
    pub fn new(engine: ScimEngine<S, A>, base: &str) -> Self {
        ScimService {
            engine,
            base: Arc::new(BasePath::new(base)),
        }
    }
}

impl<S, A, B> tower_service::Service<http::Request<B>> for ScimService<S, A>
where
    S: Store + 'static,
    A: Authenticator,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    type Response = http::Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let service = self.clone();
        Box::pin(async move { Ok(service.serve(request).await.map(Full::new)) })
    }
}

impl<S: Store + 'static, A: Authenticator> ScimService<S, A> {
    async fn serve<B>(&self, request: http::Request<B>) -> http::Response<Bytes>
    where
        B: Body + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let (parts, body) = request.into_parts();
        let Some(mount) = self.base.mount(parts.uri.path()) else {
            let path = parts.uri.path();
            return ScimError::NotFound(format!("no endpoint {path}")).to_response();
        };
        match self.engine.admit(parts, mount).await {
            Ok(admitted) => {
                let limit = self.engine.limits_enforced().max_payload_size;
                let body = match Limited::new(body, limit).collect().await {
                    Ok(collected) => Ok(collected.to_bytes()),
                    Err(error) if error.is::<LengthLimitError>() => Err(BodyError::TooLarge),
                    Err(error) => Err(BodyError::Unreadable(error.to_string())),
                };
                self.engine.respond(admitted, body).await
            }
            Err(response) => {
                let limit = self.engine.limits_enforced().max_payload_size;
                discard(body, limit.saturating_mul(LINGER_FACTOR)).await;
                response
            }
        }
    }
}

/// How many payload limits of a refused request's body are read and discarded.
const LINGER_FACTOR: usize = 4;

/// Reads and drops up to `cap` bytes of a body the engine will not look at (a
/// refused request's), so that a client still sending it reads the answer
/// instead of a reset connection, as servers do on a lingering close. Nothing of
/// it is parsed; past `cap` the connection may be cut.
async fn discard<B: Body>(body: B, cap: usize) {
    let mut body = std::pin::pin!(body);
    let mut read = 0usize;
    while read <= cap {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    read += bytes::Buf::remaining(data);
                }
            }
            _ => break,
        }
    }
}

/// A base path, its segments literal or `{tenant}`.
#[derive(Debug)]
struct BasePath {
    segments: Vec<String>,
}

impl BasePath {
    fn new(base: &str) -> Self {
        BasePath {
            segments: base
                .split('/')
                .filter(|segment| !segment.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }

    fn has_tenant(&self) -> bool {
        self.segments.iter().any(|segment| segment == "{tenant}")
    }

    /// Where `path` is below this base. A path that does not start with a base
    /// without `{tenant}` is taken as already below it (a router stripped it).
    fn mount(&self, path: &str) -> Option<Mount> {
        let mut tenant = None;
        let mut rest = path;
        for segment in &self.segments {
            let after = rest.strip_prefix('/').unwrap_or(rest);
            let (head, tail) = after.split_at(after.find('/').unwrap_or(after.len()));
            match segment.as_str() {
                "{tenant}" if !head.is_empty() => tenant = Some(head.to_owned()),
                literal if literal == head => {}
                _ if self.has_tenant() => return None,
                _ => {
                    return Some(Mount {
                        base_path: format!("/{}", self.segments.join("/")),
                        rest: path.to_owned(),
                        tenant: None,
                    })
                }
            }
            rest = tail;
        }
        Some(Mount {
            base_path: path[..path.len() - rest.len()].to_owned(),
            rest: rest.to_owned(),
            tenant,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mount(base: &str, path: &str) -> Option<(String, String, Option<String>)> {
        BasePath::new(base)
            .mount(path)
            .map(|mount| (mount.base_path, mount.rest, mount.tenant))
    }

    #[test]
    fn bases_match_whole_or_stripped_paths() {
        let expect = |base: &str, rest: &str, tenant: Option<&str>| {
            Some((base.to_owned(), rest.to_owned(), tenant.map(str::to_owned)))
        };
        assert_eq!(
            mount("/scim/v2", "/scim/v2/Users/1"),
            expect("/scim/v2", "/Users/1", None)
        );
        assert_eq!(mount("/scim/v2", "/scim/v2"), expect("/scim/v2", "", None));
        // Behind axum's nest_service the prefix is gone.
        assert_eq!(
            mount("/scim/v2", "/Users"),
            expect("/scim/v2", "/Users", None)
        );
        assert_eq!(
            mount("/tenants/{tenant}/scim/v2", "/tenants/acme/scim/v2/Users"),
            expect("/tenants/acme/scim/v2", "/Users", Some("acme"))
        );
        assert_eq!(
            mount("/tenants/{tenant}/scim/v2", "/tenants//scim/v2/Users"),
            None
        );
        assert_eq!(mount("/tenants/{tenant}/scim/v2", "/Users"), None);
    }
}
