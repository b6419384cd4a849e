//! Webhooks: each tenant's change events POSTed to the URLs of its
//! `settings.webhooks`, signed, in order, at least once.
//!
//! [`Webhooks`] runs one [`Dispatcher`] per tenant and enabled webhook (consumer
//! `webhook:<id>`), started, restarted and stopped as tenants' settings change.
//! Each delivery is a POST of [`event_body`] signed the
//! [Standard Webhooks](https://www.standardwebhooks.com/) way, so the libraries
//! receivers already use verify it:
//!
//! - `Content-Type: application/json`,
//! - `webhook-id: evt_<tenant>_<seq>` (the same on every retry: deduplicate on it),
//! - `webhook-timestamp: <unix seconds of this attempt>`,
//! - `webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`,
//!   where the key is the secret's bytes after `whsec_`, base64-decoded (secrets
//!   that do not start with `whsec_` are used as they are).
//!
//! Signing the id and timestamp with the body lets a receiver refuse a replayed
//! delivery: check the signature ([`verify`]), then that the timestamp is within a
//! few minutes of now, then that the id is new.
//!
//! A 2xx answer is a delivery; anything else (redirects included), or no answer
//! within the timeout, is retried with backoff, and later events wait. A 429 or
//! 503 with `Retry-After: <seconds>` is retried no sooner. Progress is kept in the
//! [`OutboxStore`], so deliveries resume after a restart; on a shared database the
//! lease lets one server at a time deliver each webhook's stream. A webhook whose
//! settings have `since` (the CLI sets it when it adds one) is sent only the events
//! of writes after that instant; replaying older ones is an explicit choice.
//!
//! Every [`WebhookOptions::prune_interval`] (an hour by default) each tenant's
//! events that all its outbox consumers have handled are deleted
//! ([`OutboxStore::prune_events`], rule O5): with no consumer, all of them. A reader
//! of [`EventStore::events`] that keeps its position elsewhere turns this off (`None`).
//! A webhook removed from a tenant's settings is forgotten
//! ([`OutboxStore::forget_consumer`], rule O6) once its dispatcher has stopped, so
//! its checkpoint no longer holds pruning back; a disabled one keeps its place.

mod delivery;
pub mod health;
mod signing;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use scimitar_store::hooks::{DispatchOptions, Dispatcher, OutboxStore, RunningDispatcher};
use scimitar_store::state::StateStore;
use scimitar_store::{EventStore, TenantStore};

use health::RecordingHandler;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use delivery::{DeliveryFailure, WebhookHandler};
pub use signing::{
    event_body, generate_secret, message_id, sign, verify, ID_HEADER, SECRET_PREFIX,
    SIGNATURE_HEADER, TIMESTAMP_HEADER,
};

use crate::metrics::Metrics;
use crate::settings::{TenantConfig, Webhook};

/// How [`Webhooks`] paces deliveries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookOptions {
    /// Polling, backoff and lease of each webhook's dispatcher.
    pub dispatch: DispatchOptions,
    /// How long one delivery attempt may take (keep it under two thirds of the
    /// lease time).
    pub timeout: Duration,
    /// How often tenants' settings are read again for added, changed or removed
    /// webhooks at the latest; a change of the tenant directory (any settings
    /// change, by any process) is noticed within a quarter second.
    pub refresh: Duration,
    /// How often each tenant's handled events are deleted from the outbox; `None`
    /// never.
    pub prune_interval: Option<Duration>,
    /// Failed attempts at one event after which it is set aside as a dead letter
    /// ([`health::dead_letters`]) and later events go on; 0 retries for ever.
    pub max_attempts: u32,
}

impl Default for WebhookOptions {
    /// Deliveries polled every second, retried from 1 s up to 5 minutes apart,
    /// 10 s per attempt, a 60 s lease; an event set aside after 300 attempts
    /// (about a day); settings read every 10 s; handled events pruned hourly.
    fn default() -> Self {
        WebhookOptions {
            dispatch: DispatchOptions::default(),
            timeout: Duration::from_secs(10),
            refresh: Duration::from_secs(10),
            prune_interval: Some(Duration::from_secs(60 * 60)),
            max_attempts: 300,
        }
    }
}

/// Delivers every tenant's events to its webhooks.
///
/// `S` stores the events, `T` the tenants (whose `settings.webhooks` are read,
/// and where each webhook's health and dead letters are kept),
/// `O` the delivery progress (by default the store itself).
pub struct Webhooks<S, T, O = S> {
    store: Arc<S>,
    tenants: Arc<T>,
    outbox: Arc<O>,
    options: WebhookOptions,
    metrics: Option<Arc<Metrics>>,
}

impl<S: EventStore + OutboxStore + 'static, T: TenantStore + StateStore + 'static>
    Webhooks<S, T, S>
{
    /// Webhooks over `store`, which also keeps their progress.
    pub fn new(store: Arc<S>, tenants: Arc<T>) -> Self {
        Webhooks::with_outbox(Arc::clone(&store), tenants, store)
    }
}

impl<S: EventStore + 'static, T: TenantStore + StateStore + 'static, O: OutboxStore + 'static>
    Webhooks<S, T, O>
{
    /// Webhooks reading events from `store` and keeping progress in `outbox`.
    pub fn with_outbox(store: Arc<S>, tenants: Arc<T>, outbox: Arc<O>) -> Self {
        Webhooks {
            store,
            tenants,
            outbox,
            options: WebhookOptions::default(),
            metrics: None,
        }
    }

    /// Counts delivery attempts in `metrics`.
    pub fn metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// These options instead of the defaults.
    pub fn options(mut self, options: WebhookOptions) -> Self {
        self.options = options;
        self
    }

    /// Starts delivering on a Tokio task; stop it with [`RunningWebhooks::stop`].
    pub fn spawn(self) -> RunningWebhooks {
        let (stop, mut stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let mut running: HashMap<WebhookKey, (Webhook, RunningDispatcher)> = HashMap::new();
            let mut known: HashSet<WebhookKey> = HashSet::new();
            let mut pruned_at = tokio::time::Instant::now();
            loop {
                let tenants = self.reconcile(&mut running, &mut known).await;
                if let Some(every) = self.options.prune_interval {
                    if pruned_at.elapsed() >= every {
                        self.prune(&tenants).await;
                        pruned_at = tokio::time::Instant::now();
                    }
                }
                tokio::select! {
                    () = self.until_changed_or(self.options.refresh) => {}
                    _ = &mut stopped => break,
                }
            }
            for (_, (_, dispatcher)) in running.drain() {
                dispatcher.stop().await;
            }
        });
        RunningWebhooks {
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Waits until the tenant directory changes (a webhook added, changed or
    /// removed by any process: rule T9's version moves), checked every
    /// [`DIRECTORY_POLL`], or `at_most` has passed.
    async fn until_changed_or(&self, at_most: Duration) {
        let started = tokio::time::Instant::now();
        let version = self.tenants.directory_version().await.ok();
        while started.elapsed() < at_most {
            tokio::time::sleep(DIRECTORY_POLL.min(at_most)).await;
            let now = self.tenants.directory_version().await.ok();
            if now.is_some() && now != version {
                return;
            }
        }
    }

    /// Deletes each tenant's events that all its consumers have handled.
    async fn prune(&self, tenants: &[String]) {
        for tenant in tenants {
            match self.outbox.prune_events(tenant, u64::MAX).await {
                Ok(0) => {}
                Ok(pruned) => log::info!("webhooks: tenant {tenant}: pruned {pruned} events"),
                Err(error) => log::warn!("webhooks: tenant {tenant}: cannot prune events: {error}"),
            }
        }
    }

    /// Starts dispatchers for new webhooks, restarts changed ones, stops removed
    /// or disabled ones, and forgets the consumers of webhooks gone from the
    /// settings since the last round (`known`, enabled or not); returns the
    /// tenants' ids (none when they cannot be listed).
    async fn reconcile(
        &self,
        running: &mut HashMap<WebhookKey, (Webhook, RunningDispatcher)>,
        known: &mut HashSet<WebhookKey>,
    ) -> Vec<String> {
        let tenants = match self.tenants.list_tenants().await {
            Ok(tenants) => tenants,
            Err(error) => {
                log::warn!("webhooks: cannot list tenants: {error}");
                return Vec::new();
            }
        };
        let tenant_ids = tenants.iter().map(|tenant| tenant.id.clone()).collect();
        let mut wanted: HashMap<WebhookKey, Webhook> = HashMap::new();
        let mut listed: HashSet<WebhookKey> = HashSet::new();
        for tenant in tenants {
            let settings = match TenantConfig::from_value(&tenant.settings) {
                Ok(settings) => settings,
                Err(error) => {
                    log::warn!("webhooks: tenant {}: {error}", tenant.id);
                    // Unreadable settings remove nothing.
                    let theirs = known.iter().filter(|(owner, _)| *owner == tenant.id);
                    listed.extend(theirs.cloned());
                    continue;
                }
            };
            for webhook in settings.webhooks {
                let key = (tenant.id.clone(), webhook.id.clone());
                listed.insert(key.clone());
                if webhook.enabled {
                    wanted.insert(key, webhook);
                }
            }
        }
        let stale: Vec<WebhookKey> = running
            .iter()
            .filter(|(key, (webhook, _))| wanted.get(*key) != Some(webhook))
            .map(|(key, _)| key.clone())
            .collect();
        for key in stale {
            if let Some((_, dispatcher)) = running.remove(&key) {
                dispatcher.stop().await;
            }
        }
        let mut unforgotten = Vec::new();
        for key @ (tenant, id) in known.difference(&listed) {
            match forget_webhook(&*self.outbox, &*self.tenants, tenant, id).await {
                Ok(()) => log::info!("webhooks: tenant {tenant}: webhook {id} removed"),
                Err(error) => {
                    log::warn!("webhooks: tenant {tenant}: cannot forget webhook {id}: {error}");
                    // Still known, so the next round tries again.
                    unforgotten.push(key.clone());
                }
            }
        }
        *known = listed;
        known.extend(unforgotten);
        for (key, webhook) in wanted {
            if running.contains_key(&key) {
                continue;
            }
            let (tenant, id) = &key;
            let mut handler = WebhookHandler::new(webhook.clone(), self.options.timeout);
            if let Some(metrics) = &self.metrics {
                handler = handler.metrics(Arc::clone(metrics));
            }
            let mut handler = RecordingHandler::new(
                handler,
                Arc::clone(&self.tenants),
                tenant,
                self.options.max_attempts,
            );
            handler.on_dead_letter.clone_from(&self.metrics);
            let dispatcher = Dispatcher::with_outbox(
                Arc::clone(&self.store),
                Arc::clone(&self.outbox),
                tenant,
                &webhook_consumer(id),
                handler,
            )
            .options(self.options.dispatch.clone())
            .spawn();
            log::info!("webhooks: delivering tenant {tenant}'s events to webhook {id}");
            running.insert(key, (webhook, dispatcher));
        }
        tenant_ids
    }
}

/// How often the supervisor looks for a changed tenant directory: a webhook
/// added or changed anywhere starts delivering within this (plus a poll).
const DIRECTORY_POLL: Duration = Duration::from_millis(250);

/// A webhook's (tenant id, webhook id).
type WebhookKey = (String, String);

/// The outbox consumer that delivers to the webhook with id `id`: what to
/// [`OutboxStore::forget_consumer`] when the webhook is removed.
pub fn webhook_consumer(id: &str) -> String {
    format!("webhook:{id}")
}

/// Forgets a webhook removed from `tenant`'s settings: its delivery position
/// (which would hold the outbox's pruning back for good, rule O6) and what was
/// recorded of its deliveries. Stop its dispatcher first, or let the supervisor,
/// which calls this too, notice the removal.
///
/// # Errors
/// The stores'.
pub async fn forget_webhook<O, St>(
    outbox: &O,
    state: &St,
    tenant: &str,
    id: &str,
) -> Result<(), scimitar_store::StoreError>
where
    O: OutboxStore + ?Sized,
    St: StateStore + ?Sized,
{
    outbox
        .forget_consumer(tenant, &webhook_consumer(id))
        .await?;
    health::forget(state, tenant, id).await
}

/// [`Webhooks`] running on a Tokio task; dropping it stops the supervision task
/// and, with it, the deliveries.
#[derive(Debug)]
pub struct RunningWebhooks {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningWebhooks {
    /// Stops every delivery and waits until their leases are given up.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn handled_events_are_pruned_and_unhandled_ones_kept() {
        use scimitar_schema::{Policy, Registry};
        use scimitar_store::{MemoryStore, Scope, Store};

        actix_web::rt::System::new().block_on(async {
            let store = Arc::new(MemoryStore::new());
            // A webhook nobody answers: its consumer never gets past event 0.
            let hook =
                json!({"webhooks": [{"id": "h", "url": "http://127.0.0.1:9/", "secret": "k"}]});
            store
                .create_tenant("quiet", "Quiet", json!({}))
                .await
                .unwrap();
            store.create_tenant("hooked", "Hooked", hook).await.unwrap();
            let lease = store.try_lease("hooked", "webhook:h", "test", Duration::ZERO);
            assert_eq!(lease.await.unwrap(), Some(0));
            let (registry, policy) = (Registry::builtin(), Policy::compatible());
            for tenant in ["quiet", "hooked"] {
                let scope = Scope::new(tenant, &registry, &policy);
                let user = json!({"schemas": [scimitar_schema::urn::USER], "userName": "u"});
                store.create(&scope, "User", user).await.unwrap();
            }
            let events = |tenant: &'static str| {
                let (store, registry, policy) = (Arc::clone(&store), &registry, &policy);
                async move {
                    let scope = Scope::new(tenant, registry, policy);
                    store.events(&scope, 0, 10).await.unwrap().len()
                }
            };
            assert_eq!((events("quiet").await, events("hooked").await), (1, 1));

            let options = WebhookOptions {
                refresh: Duration::from_millis(5),
                prune_interval: Some(Duration::from_millis(10)),
                ..WebhookOptions::default()
            };
            let webhooks = Webhooks::new(Arc::clone(&store), Arc::clone(&store))
                .options(options)
                .spawn();
            for _ in 0..1000 {
                if events("quiet").await == 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            webhooks.stop().await;
            assert_eq!(
                events("quiet").await,
                0,
                "a tenant without consumers keeps events"
            );
            assert_eq!(events("hooked").await, 1, "an undelivered event was pruned");
        });
    }

    #[test]
    fn a_removed_webhook_no_longer_holds_pruning_back() {
        use scimitar_schema::{Policy, Registry};
        use scimitar_store::{MemoryStore, Scope, Store};

        actix_web::rt::System::new().block_on(async {
            let store = Arc::new(MemoryStore::new());
            // A webhook nobody answers: its consumer never gets past event 0.
            let hook = |enabled: bool| {
                json!({"webhooks": [{"id": "h", "url": "http://127.0.0.1:9/", "secret": "k",
                                     "enabled": enabled}]})
            };
            store
                .create_tenant("acme", "Acme", hook(true))
                .await
                .unwrap();
            store
                .create_tenant("quiet", "Quiet", json!({}))
                .await
                .unwrap();
            let (registry, policy) = (Registry::builtin(), Policy::compatible());
            let scope = |tenant| Scope::new(tenant, &registry, &policy);
            let user =
                |name: &str| json!({"schemas": [scimitar_schema::urn::USER], "userName": name});
            store
                .create(&scope("acme"), "User", user("a"))
                .await
                .unwrap();
            let events = |tenant| {
                let (store, scope) = (Arc::clone(&store), scope(tenant));
                async move { store.events(&scope, 0, 10).await.unwrap().len() }
            };
            let until_empty = |tenant: &'static str| async move {
                for _ in 0..1000 {
                    if events(tenant).await == 0 {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            };
            // A whole round of the runner after now: a prune of "quiet" that came
            // after one that came after now.
            let a_round = |name: &'static str| {
                let store = Arc::clone(&store);
                async move {
                    for suffix in ["1", "2"] {
                        let name = format!("{name}{suffix}");
                        store
                            .create(&scope("quiet"), "User", user(&name))
                            .await
                            .unwrap();
                        until_empty("quiet").await;
                    }
                }
            };
            let options = WebhookOptions {
                refresh: Duration::from_millis(5),
                prune_interval: Some(Duration::from_millis(10)),
                ..WebhookOptions::default()
            };
            let webhooks = Webhooks::new(Arc::clone(&store), Arc::clone(&store))
                .options(options)
                .spawn();
            a_round("enabled").await;
            assert_eq!(events("acme").await, 1, "an undelivered event was pruned");
            store
                .set_tenant_settings("acme", hook(false))
                .await
                .unwrap();
            a_round("disabled").await;
            assert_eq!(events("acme").await, 1, "a disabled webhook lost its place");

            store.set_tenant_settings("acme", json!({})).await.unwrap();
            until_empty("acme").await;
            webhooks.stop().await;
            assert_eq!(
                events("acme").await,
                0,
                "a removed webhook still holds pruning back"
            );
        });
    }
}
