//! Prometheus metrics: what an operator graphs and alerts on.
//!
//! [`Metrics`] is an [`Observer`]: added with
//! [`ScimService::metrics`](crate::ScimService::metrics), it counts every
//! admitted request by tenant, method, resource and status, and times it;
//! [`Webhooks::metrics`](crate::webhook::Webhooks::metrics) counts delivery
//! attempts in it. The host sets what is read at scrape time (refused
//! credentials, the database pool) and serves [`Metrics::encode`] in the
//! Prometheus text format.
//!
//! ```
//! use scimitar_server::metrics::{Metrics, PoolUse};
//!
//! let metrics = Metrics::new();
//! metrics.set_pool(PoolUse { connections: 3, idle: 1, max: 8, ..PoolUse::default() });
//! let text = metrics.encode();
//! assert!(text.contains("scimitar_db_pool_connections 3"), "{text}");
//! assert!(text.contains("scimitar_build_info_info{version="), "{text}");
//! ```
//!
//! A `tenant` label is one series per tenant: with thousands of tenants, keep
//! the scrape interval and retention in mind.

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use scimitar_protocol::{Exchange, Observer, Refusal};

/// The labels of a finished request.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    tenant: String,
    method: String,
    resource: &'static str,
    status: u16,
}

/// The labels of a request's duration.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    method: String,
    resource: &'static str,
}

/// How a webhook delivery attempt ended.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    result: &'static str,
}

/// Why a credential was refused.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusalLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WebhookLabels {
    tenant: String,
    webhook: String,
}

/// How the database connection pool is used, at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PoolUse {
    /// Connections open.
    pub connections: u32,
    /// Open connections nobody is using.
    pub idle: u32,
    /// The most the pool opens.
    pub max: u32,
    /// Connections handed out since start.
    pub checkouts: u64,
    /// Seconds callers waited for them since start, in all.
    pub waited_seconds: f64,
    /// Callers that gave up waiting since start.
    pub timeouts: u64,
}

/// The server's metrics; cheap to share (`Arc`), safe to use from any thread.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<OperationLabels, Histogram>,
    refusals: Family<RefusalLabels, Counter>,
    deliveries: Family<DeliveryLabels, Counter>,
    dead_letters: Counter,
    webhook_pending: Family<WebhookLabels, Gauge>,
    pool_checkouts: Counter,
    pool_wait: Counter<f64, std::sync::atomic::AtomicU64>,
    pool_timeouts: Counter,
    pool_connections: Gauge,
    pool_idle: Gauge,
    pool_max: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// Request durations: 0.5 ms to about 8 s, doubling.
fn duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 15))
}

impl Metrics {
    /// Every metric at zero, and the build's version.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("scimitar");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "SCIM requests answered, after authentication",
            requests.clone(),
        );
        let durations = Family::<OperationLabels, Histogram>::new_with_constructor(
            duration_histogram as fn() -> Histogram,
        );
        registry.register(
            "request_duration_seconds",
            "Time from taking a SCIM request to its response",
            durations.clone(),
        );
        let refusals = Family::<RefusalLabels, Counter>::default();
        registry.register(
            "auth_refusals",
            "Credentials refused, by reason (the client is told 401 alike)",
            refusals.clone(),
        );
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        registry.register(
            "webhook_delivery_attempts",
            "Webhook delivery attempts, delivered or failed (failures are retried)",
            deliveries.clone(),
        );
        let webhook_pending = Family::<WebhookLabels, Gauge>::default();
        registry.register(
            "webhook_pending_events",
            "Events waiting for a webhook (counted up to 1000), at the last scrape",
            webhook_pending.clone(),
        );
        let dead_letters = Counter::default();
        registry.register(
            "webhook_dead_letters",
            "Events set aside after a webhook's retry budget (retry or discard them in the admin API)",
            dead_letters.clone(),
        );
        let pool_checkouts = Counter::default();
        registry.register(
            "db_pool_checkouts",
            "Database connections handed out",
            pool_checkouts.clone(),
        );
        let pool_wait = Counter::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "db_pool_wait_seconds",
            "Time spent waiting for a database connection, in all (divide by checkouts for the mean)",
            pool_wait.clone(),
        );
        let pool_timeouts = Counter::default();
        registry.register(
            "db_pool_timeouts",
            "Calls that gave up waiting for a database connection (answered 503)",
            pool_timeouts.clone(),
        );
        let pool_connections = Gauge::default();
        registry.register(
            "db_pool_connections",
            "Database connections open",
            pool_connections.clone(),
        );
        let pool_idle = Gauge::default();
        registry.register(
            "db_pool_idle_connections",
            "Database connections open and unused",
            pool_idle.clone(),
        );
        let pool_max = Gauge::default();
        registry.register(
            "db_pool_max_connections",
            "The most database connections this instance opens",
            pool_max.clone(),
        );
        registry.register(
            "build_info",
            "The running build",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        Metrics {
            registry,
            requests,
            durations,
            refusals,
            deliveries,
            dead_letters,
            webhook_pending,
            pool_checkouts,
            pool_wait,
            pool_timeouts,
            pool_connections,
            pool_idle,
            pool_max,
        }
    }

    /// The database pool as it is now (read at scrape time).
    pub fn set_pool(&self, pool: PoolUse) {
        self.pool_connections.set(i64::from(pool.connections));
        self.pool_idle.set(i64::from(pool.idle));
        self.pool_max.set(i64::from(pool.max));
        // Totals only grow: add what is new since the last scrape.
        let checkouts = pool.checkouts.saturating_sub(self.pool_checkouts.get());
        self.pool_checkouts.inc_by(checkouts);
        let timeouts = pool.timeouts.saturating_sub(self.pool_timeouts.get());
        self.pool_timeouts.inc_by(timeouts);
        let waited = pool.waited_seconds - self.pool_wait.get();
        if waited > 0.0 {
            self.pool_wait.inc_by(waited);
        }
    }

    /// The credentials refused since start, by reason (read at scrape time from
    /// [`ScimService::auth_refusals`](crate::ScimService::auth_refusals)).
    pub fn set_auth_refusals(&self, totals: &[(Refusal, u64)]) {
        for &(refusal, total) in totals {
            let counter = self.refusals.get_or_create(&RefusalLabels {
                reason: refusal_name(refusal),
            });
            // Totals only grow: add what is new since the last scrape.
            let seen = counter.get();
            if total > seen {
                counter.inc_by(total - seen);
            }
        }
    }

    /// One webhook delivery attempt, `delivered` or failed.
    pub fn delivery_attempt(&self, delivered: bool) {
        let result = if delivered { "delivered" } else { "failed" };
        self.deliveries
            .get_or_create(&DeliveryLabels { result })
            .inc();
    }

    /// Each webhook's backlog, `(tenant, webhook, events waiting)` (from
    /// [`AdminApi::webhook_backlog`](crate::AdminApi::webhook_backlog)); webhooks
    /// not listed are dropped from the metric.
    pub fn set_webhook_backlog(&self, backlog: &[(String, String, usize)]) {
        self.webhook_pending.clear();
        for (tenant, webhook, pending) in backlog {
            let labels = WebhookLabels {
                tenant: tenant.clone(),
                webhook: webhook.clone(),
            };
            self.webhook_pending
                .get_or_create(&labels)
                .set(i64::try_from(*pending).unwrap_or(i64::MAX));
        }
    }

    /// One event set aside as a dead letter.
    pub fn dead_letter(&self) {
        self.dead_letters.inc();
    }

    /// Everything, in the Prometheus text format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}

impl Observer for Metrics {
    fn observe(&self, exchange: &Exchange<'_>) {
        let method = exchange.method.as_str().to_owned();
        let resource = resource(exchange.path);
        self.requests
            .get_or_create(&RequestLabels {
                tenant: exchange.principal.tenant.clone(),
                method: method.clone(),
                resource,
                status: exchange.response.status().as_u16(),
            })
            .inc();
        self.durations
            .get_or_create(&OperationLabels { method, resource })
            .observe(exchange.elapsed.as_secs_f64());
    }
}

/// The endpoint a path below the base addresses, from a fixed list (so that
/// the label has few values whatever clients send).
fn resource(path: &str) -> &'static str {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    match first {
        "Users" => "Users",
        "Groups" => "Groups",
        "Me" => "Me",
        "Bulk" => "Bulk",
        ".search" => ".search",
        "ServiceProviderConfig" | "Schemas" | "ResourceTypes" => "discovery",
        _ => "other",
    }
}

/// A label value for `refusal`.
fn refusal_name(refusal: Refusal) -> &'static str {
    match refusal {
        Refusal::Missing => "missing",
        Refusal::Malformed => "malformed",
        Refusal::Unknown => "unknown",
        Refusal::WrongSecret => "wrong_secret",
        Refusal::Revoked => "revoked",
        Refusal::Expired => "expired",
        Refusal::BadJwt => "bad_jwt",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_few_resources() {
        assert_eq!(resource("/Users/42"), "Users");
        assert_eq!(resource("/Groups"), "Groups");
        assert_eq!(resource("/Schemas/urn:x"), "discovery");
        assert_eq!(resource("/Nope/whatever"), "other");
        assert_eq!(resource(""), "other");
    }

    #[test]
    fn refusals_are_counted_from_totals() {
        let metrics = Metrics::new();
        metrics.set_auth_refusals(&[(Refusal::Unknown, 3), (Refusal::Revoked, 0)]);
        metrics.set_auth_refusals(&[(Refusal::Unknown, 5)]);
        let text = metrics.encode();
        assert!(
            text.contains("scimitar_auth_refusals_total{reason=\"unknown\"} 5"),
            "{text}"
        );
    }
}
