//! A real HTTP server on a random loopback port over a `MemoryStore`, serving
//! the engine through the adapter the test binary names (`crate::ADAPTER`), and
//! a small blocking client for it.

#![allow(dead_code)]

use std::sync::{mpsc, Arc};
use std::thread;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer};
use hyper_util::rt::TokioIo;
use scimitar_protocol::Connection;
use scimitar_protocol::Limits;
use scimitar_server::{issue_token, AuthLimits, ScimService};
use scimitar_store::provisioning_log::MemoryLog;
use scimitar_store::{MemoryStore, TenantStore};
use serde_json::{json, Value};

/// The HS256 secret of tenant `jwt-co` (issuer `test-idp`, audience `scimitar`).
pub const JWT_SECRET: &str = "test-secret";

/// The web stack a [`Server`] mounts the engine with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adapter {
    /// `scimitar-actix`, in an actix-web `HttpServer`.
    Actix,
    /// `scimitar-tower`, served by hyper.
    Tower,
}

/// How a running server is stopped.
enum Stopper {
    Actix(ServerHandle),
    Tower(tokio::sync::oneshot::Sender<()>),
}

/// A running server; stopped when dropped.
pub struct Server {
    /// `http://127.0.0.1:<port>`.
    pub origin: String,
    /// A token of tenant `acme`.
    pub token: String,
    /// A token of tenant `other`.
    pub other_token: String,
    pub service: ScimService<MemoryStore>,
    /// The provisioning log the service writes.
    pub log: Arc<MemoryLog>,
    stopper: Option<Stopper>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Server {
    pub fn start() -> Server {
        Server::with_limits(Limits::default())
    }

    pub fn with_limits(limits: Limits) -> Server {
        Server::with_all_limits(limits, AuthLimits::default())
    }

    pub fn with_auth_limits(auth_limits: AuthLimits) -> Server {
        Server::with_all_limits(Limits::default(), auth_limits)
    }

    fn with_all_limits(limits: Limits, auth_limits: AuthLimits) -> Server {
        let (sender, receiver) = mpsc::channel();
        let thread = match crate::ADAPTER {
            Adapter::Actix => thread::spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    let (service, fixture) = service(limits, auth_limits).await;
                    let app_service = service.clone();
                    let server = HttpServer::new(move || {
                        App::new()
                            .wrap(actix_web::middleware::from_fn(scimitar_server::log_request))
                            .service(app_service.scope("/scim/v2"))
                            .service(app_service.tenant_scope("/tenants/{tenant}/scim/v2"))
                    })
                    .workers(1)
                    .bind(("127.0.0.1", 0))
                    .unwrap();
                    let port = server.addrs()[0].port();
                    let server = server.run();
                    let stopper = Stopper::Actix(server.handle());
                    sender.send((port, service, fixture, stopper)).unwrap();
                    server.await.unwrap();
                });
            }),
            Adapter::Tower => thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async move {
                    let (service, fixture) = service(limits, auth_limits).await;
                    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
                        .await
                        .unwrap();
                    let port = listener.local_addr().unwrap().port();
                    let (stop, mut stopped) = tokio::sync::oneshot::channel();
                    let engine = service.engine().clone();
                    sender
                        .send((port, service, fixture, Stopper::Tower(stop)))
                        .unwrap();
                    let plain = scimitar_tower::ScimService::new(engine.clone(), "/scim/v2");
                    let tenant =
                        scimitar_tower::ScimService::new(engine, "/tenants/{tenant}/scim/v2");
                    loop {
                        let (stream, peer) = tokio::select! {
                            accepted = listener.accept() => accepted.unwrap(),
                            _ = &mut stopped => break,
                        };
                        let (plain, tenant) = (plain.clone(), tenant.clone());
                        let serve = hyper::service::service_fn(
                            move |mut request: hyper::Request<hyper::body::Incoming>| {
                                request.extensions_mut().insert(Connection {
                                    peer: Some(peer),
                                    secure: false,
                                });
                                let mut service = if request.uri().path().starts_with("/tenants/") {
                                    tenant.clone()
                                } else {
                                    plain.clone()
                                };
                                tower_service::Service::call(&mut service, request)
                            },
                        );
                        tokio::spawn(async move {
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), serve)
                                .await;
                        });
                    }
                });
            }),
        };
        let (port, service, fixture, stopper) = receiver.recv().unwrap();
        Server {
            origin: format!("http://127.0.0.1:{port}"),
            token: fixture.token,
            other_token: fixture.other_token,
            service,
            log: fixture.log,
            stopper: Some(stopper),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:<port>/scim/v2`.
    pub fn base(&self) -> String {
        format!("{}/scim/v2", self.origin)
    }

    /// A request as tenant `acme` to `path` under `/scim/v2`.
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        self.request(method, &format!("{}{path}", self.base()))
            .bearer(&self.token)
            .send(body)
    }

    pub fn get(&self, path: &str) -> Reply {
        self.call("GET", path, None)
    }

    pub fn post(&self, path: &str, body: Value) -> Reply {
        self.call("POST", path, Some(body))
    }

    pub fn patch(&self, path: &str, body: Value) -> Reply {
        self.call("PATCH", path, Some(body))
    }

    pub fn put(&self, path: &str, body: Value) -> Reply {
        self.call("PUT", path, Some(body))
    }

    pub fn delete(&self, path: &str) -> Reply {
        self.call("DELETE", path, None)
    }

    /// A request to an absolute URL, with nothing set.
    pub fn request(&self, method: &str, url: &str) -> Request {
        Request(ureq::request(method, url))
    }

    pub fn create_user(&self, user_name: &str) -> Value {
        let reply = self.post(
            "/Users",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user_name}),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.body
    }
}

/// What a test server is set up with besides its service.
struct Fixture {
    token: String,
    other_token: String,
    log: Arc<MemoryLog>,
}

/// The service every test server mounts: tenants `acme`, `other` and `jwt-co`
/// (HS256 JWTs), a token of each of the first two, and a provisioning log.
async fn service(limits: Limits, auth_limits: AuthLimits) -> (ScimService<MemoryStore>, Fixture) {
    let store = MemoryStore::new();
    for tenant in ["acme", "other"] {
        store
            .create_tenant(tenant, tenant, json!({}))
            .await
            .unwrap();
    }
    let jwt = json!({"jwt": {"algorithm": "HS256", "secret": JWT_SECRET,
                             "issuer": "test-idp", "audience": "scimitar"}});
    store.create_tenant("jwt-co", "JWT Co", jwt).await.unwrap();
    let token = issue_token(&store, "acme", "test").await.unwrap().token;
    let other_token = issue_token(&store, "other", "test").await.unwrap().token;
    let log = Arc::new(MemoryLog::new(10_000));
    let service = ScimService::new(store)
        .limits(limits)
        .auth_limits(auth_limits)
        .provisioning_log(Arc::clone(&log));
    let fixture = Fixture {
        token,
        other_token,
        log,
    };
    (service, fixture)
}

impl Drop for Server {
    fn drop(&mut self) {
        match self.stopper.take() {
            Some(Stopper::Actix(handle)) => {
                actix_web::rt::System::new().block_on(handle.stop(false));
            }
            Some(Stopper::Tower(stop)) => {
                let _ = stop.send(());
            }
            None => {}
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

pub struct Request(ureq::Request);

impl Request {
    pub fn bearer(self, token: &str) -> Request {
        self.header("Authorization", &format!("Bearer {token}"))
    }

    pub fn header(self, name: &str, value: &str) -> Request {
        Request(self.0.set(name, value))
    }

    pub fn send(self, body: Option<Value>) -> Reply {
        let result = match body {
            Some(body) => self
                .0
                .set("Content-Type", "application/scim+json")
                .send_string(&body.to_string()),
            None => self.0.call(),
        };
        Reply::from(result)
    }

    pub fn send_raw(self, body: &str) -> Reply {
        Reply::from(self.0.send_string(body))
    }
}

/// A response, whatever its status.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
    pub text: String,
}

impl Reply {
    fn from(result: Result<ureq::Response, ureq::Error>) -> Reply {
        let response = match result {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(error) => panic!("transport error: {error}"),
        };
        let status = response.status();
        let headers = response
            .headers_names()
            .into_iter()
            .filter_map(|name| {
                let value = response.header(&name)?.to_owned();
                Some((name, value))
            })
            .collect();
        let text = response.into_string().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Asserts this is a SCIM error of `status` (and `scim_type`, when given).
    pub fn assert_error(&self, status: u16, scim_type: Option<&str>) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/scim+json; charset=utf-8"),
            "{}",
            self.text
        );
        assert_eq!(
            self.body["schemas"],
            json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
        );
        assert_eq!(self.body["status"], status.to_string());
        assert!(
            self.body["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{}",
            self.text
        );
        if let Some(scim_type) = scim_type {
            assert_eq!(self.body["scimType"], scim_type, "{}", self.text);
        }
    }
}
