//! [`Dispatcher`]: delivers a tenant's events to a handler, in order, at least once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{EventHandler, HandlerError, OutboxStore};
use crate::event::ChangeEvent;
use crate::schema::{Policy, Registry};
use crate::store::{EventStore, Scope};

/// Capped exponential backoff: `initial`, then doubling, never above `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first wait.
    pub initial: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    /// 1 s, doubling up to 5 minutes.
    fn default() -> Self {
        Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(300),
        }
    }
}

impl Backoff {
    /// The wait before retry number `attempt` (0 for the first retry).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.min(31));
        self.initial.saturating_mul(factor).min(self.max)
    }
}

/// How a [`Dispatcher`] paces itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchOptions {
    /// Events read from the outbox at a time.
    pub batch_size: usize,
    /// How often the outbox is read when there was nothing new (and how often a
    /// dispatcher without the lease asks for it again).
    pub poll_interval: Duration,
    /// The waits between attempts at a failing event (and a failing store).
    pub backoff: Backoff,
    /// How long the lease lasts without renewal. The lease is renewed after each
    /// event and before each attempt once a third of it has passed, so a handler
    /// call must finish within two thirds of it: otherwise another process could
    /// take over while it runs.
    pub lease_ttl: Duration,
    /// This dispatcher's name in leases, unique among the dispatchers of a
    /// consumer; `None` (the default) gives each dispatcher a random UUID.
    pub owner: Option<String>,
}

impl Default for DispatchOptions {
    fn default() -> Self {
        DispatchOptions {
            batch_size: 100,
            poll_interval: Duration::from_secs(1),
            backoff: Backoff::default(),
            lease_ttl: Duration::from_secs(60),
            owner: None,
        }
    }
}

/// Delivers one tenant's change events to an [`EventHandler`], in `seq` order, at
/// least once, resuming after a durable checkpoint.
///
/// `S` is the store the events are read from; `O` keeps the checkpoint and the
/// lease ([`OutboxStore`]), by default the store itself. Only the holder of the
/// (tenant, consumer) lease delivers, so several processes can run the same
/// dispatcher over one database: one delivers, the others stand by and take over
/// within [`DispatchOptions::lease_ttl`] if it dies.
///
/// Store failures are logged and retried with the backoff; the dispatcher itself
/// never fails. Run it with [`Dispatcher::spawn`] (a Tokio task) or await
/// [`Dispatcher::run_until`].
pub struct Dispatcher<S, H, O = S> {
    store: Arc<S>,
    outbox: Arc<O>,
    handler: H,
    tenant: String,
    consumer: String,
    options: DispatchOptions,
    owner: String,
    registry: Registry,
    policy: Policy,
}

impl<S, H, O> std::fmt::Debug for Dispatcher<S, H, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("tenant", &self.tenant)
            .field("consumer", &self.consumer)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<S: EventStore + OutboxStore, H: EventHandler> Dispatcher<S, H, S> {
    /// A dispatcher of `tenant`'s events to `handler`, keeping its progress as
    /// `consumer` in the store itself.
    pub fn new(store: Arc<S>, tenant: &str, consumer: &str, handler: H) -> Self {
        Dispatcher::with_outbox(Arc::clone(&store), store, tenant, consumer, handler)
    }
}

impl<S: EventStore, H: EventHandler, O: OutboxStore> Dispatcher<S, H, O> {
    /// A dispatcher reading events from `store` and keeping its progress in
    /// `outbox`.
    pub fn with_outbox(
        store: Arc<S>,
        outbox: Arc<O>,
        tenant: &str,
        consumer: &str,
        handler: H,
    ) -> Self {
        Dispatcher {
            store,
            outbox,
            handler,
            tenant: tenant.to_owned(),
            consumer: consumer.to_owned(),
            options: DispatchOptions::default(),
            owner: uuid::Uuid::new_v4().to_string(),
            registry: Registry::builtin(),
            policy: Policy::default(),
        }
    }

    /// These options instead of the defaults.
    pub fn options(mut self, options: DispatchOptions) -> Self {
        if let Some(owner) = &options.owner {
            self.owner.clone_from(owner);
        }
        self.options = options;
        self
    }

    /// The handler.
    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// Delivers events until `shutdown` completes, then gives the lease up. An
    /// event being handled at that moment is abandoned and offered again later
    /// (its checkpoint was not recorded).
    pub async fn run_until(&self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::select! {
            never = self.deliver_forever() => match never {},
            () = shutdown => {}
        }
        if let Err(error) = self
            .outbox
            .release_lease(&self.tenant, &self.consumer, &self.owner)
            .await
        {
            log::warn!("{}: could not release the lease: {error}", self.name());
        }
    }

    /// Runs [`Dispatcher::run_until`] on a Tokio task until the returned handle is
    /// stopped or dropped.
    pub fn spawn(self) -> RunningDispatcher
    where
        S: 'static,
        H: 'static,
        O: 'static,
    {
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            // A dropped handle closes the channel, which stops the dispatcher too.
            self.run_until(async {
                let _ = stopped.await;
            })
            .await;
        });
        RunningDispatcher {
            stop: Some(stop),
            task: Some(task),
        }
    }

    fn name(&self) -> String {
        format!("dispatcher {}/{}", self.tenant, self.consumer)
    }

    async fn deliver_forever(&self) -> std::convert::Infallible {
        let scope = Scope::new(&self.tenant, &self.registry, &self.policy);
        let mut store_failures = 0;
        // The lease while held: renewed as it ages, not on every poll.
        let mut held: Option<Lease> = None;
        loop {
            let still_held = match held.as_mut() {
                Some(lease) => self.keep_lease(lease).await,
                None => false,
            };
            if !still_held {
                held = self.take_lease().await;
            }
            let Some(lease) = held.as_mut() else {
                tokio::time::sleep(self.options.poll_interval).await;
                continue;
            };
            let events = match self
                .store
                .events(&scope, lease.checkpoint, self.options.batch_size.max(1))
                .await
            {
                Ok(events) => {
                    store_failures = 0;
                    events
                }
                Err(error) => {
                    log::warn!("{}: cannot read events: {error}", self.name());
                    tokio::time::sleep(self.options.backoff.delay(store_failures)).await;
                    store_failures = store_failures.saturating_add(1);
                    continue;
                }
            };
            if events.is_empty() {
                tokio::time::sleep(self.options.poll_interval).await;
                continue;
            }
            for event in &events {
                if !self.deliver(event, lease).await {
                    held = None;
                    break;
                }
            }
        }
    }

    /// Takes or renews the lease; `None` while another owner holds it (or the
    /// outbox store fails).
    async fn take_lease(&self) -> Option<Lease> {
        match self
            .outbox
            .try_lease(
                &self.tenant,
                &self.consumer,
                &self.owner,
                self.options.lease_ttl,
            )
            .await
        {
            Ok(checkpoint) => checkpoint.map(|checkpoint| Lease {
                checkpoint,
                renewed: Instant::now(),
            }),
            Err(error) => {
                log::warn!("{}: cannot take the lease: {error}", self.name());
                None
            }
        }
    }

    /// Whether the lease is still this dispatcher's, renewing it once a third of
    /// its time has passed. A lease lost, or regained over a checkpoint another
    /// owner moved, sends the caller back to read from the store's checkpoint.
    async fn keep_lease(&self, lease: &mut Lease) -> bool {
        if lease.renewed.elapsed() < self.options.lease_ttl / 3 {
            return true;
        }
        match self.take_lease().await {
            Some(renewed) if renewed.checkpoint == lease.checkpoint => {
                *lease = renewed;
                true
            }
            _ => false,
        }
    }

    /// Hands `event` to the handler until it succeeds, then records the
    /// checkpoint. `false` when the lease was lost on the way.
    async fn deliver(&self, event: &ChangeEvent, lease: &mut Lease) -> bool {
        let mut attempt = 0;
        loop {
            if !self.keep_lease(lease).await {
                return false;
            }
            let error = match self.handler.handle(event).await {
                Ok(()) => break,
                Err(error) => error,
            };
            let mut wait = self.options.backoff.delay(attempt);
            if let HandlerError::RetryAfter { after, .. } = &error {
                wait = wait.max(*after);
            }
            log::warn!(
                "{}: event {} ({}) not handled, retrying in {} ms: {error}",
                self.name(),
                event.seq,
                event.kind,
                wait.as_millis()
            );
            attempt = attempt.saturating_add(1);
            tokio::time::sleep(wait).await;
        }
        let mut attempt = 0;
        loop {
            match self
                .outbox
                .set_checkpoint(
                    &self.tenant,
                    &self.consumer,
                    &self.owner,
                    event.seq,
                    self.options.lease_ttl,
                )
                .await
            {
                Ok(held) => {
                    *lease = Lease {
                        checkpoint: event.seq,
                        renewed: Instant::now(),
                    };
                    return held;
                }
                Err(error) => {
                    log::warn!(
                        "{}: cannot record checkpoint {}: {error}",
                        self.name(),
                        event.seq
                    );
                    tokio::time::sleep(self.options.backoff.delay(attempt)).await;
                    attempt = attempt.saturating_add(1);
                }
            }
        }
    }
}

/// The lease as this dispatcher last saw it.
struct Lease {
    /// Where delivery stands: the last event recorded as handled.
    checkpoint: u64,
    /// When the lease was last taken or renewed (this process's clock).
    renewed: Instant,
}

/// A [`Dispatcher`] running on a Tokio task; dropping it stops the dispatcher
/// without waiting.
#[derive(Debug)]
pub struct RunningDispatcher {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningDispatcher {
    /// Stops the dispatcher and waits until it has given its lease up.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Whether the task has ended (it ends only when stopped, or if the handler
    /// panicked).
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(JoinHandle::is_finished)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Mutex, PoisonError};

    use crate::hooks::MemoryOutbox;
    use crate::{ChangeKind, MemoryStore, Store};
    use serde_json::json;

    /// Fails each event's first `failures` attempts, records the rest.
    #[derive(Default)]
    struct Recorder {
        failures: usize,
        attempts: Mutex<Vec<u64>>,
        handled: Mutex<Vec<(u64, ChangeKind)>>,
    }

    impl EventHandler for Recorder {
        async fn handle(&self, event: &ChangeEvent) -> Result<(), HandlerError> {
            let mut attempts = self.attempts.lock().unwrap_or_else(PoisonError::into_inner);
            attempts.push(event.seq);
            let tried = attempts.iter().filter(|&&seq| seq == event.seq).count();
            if tried <= self.failures {
                return Err(HandlerError::failed("not now"));
            }
            self.handled
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((event.seq, event.kind));
            Ok(())
        }
    }

    fn fast() -> DispatchOptions {
        DispatchOptions {
            batch_size: 2,
            poll_interval: Duration::from_millis(5),
            backoff: Backoff {
                initial: Duration::from_millis(1),
                max: Duration::from_millis(4),
            },
            ..DispatchOptions::default()
        }
    }

    async fn create_users(store: &MemoryStore, tenant: &str, names: &[&str]) {
        let (registry, policy) = (Registry::builtin(), Policy::default());
        let scope = Scope::new(tenant, &registry, &policy);
        for name in names {
            let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name});
            store.create(&scope, "User", user).await.ok();
        }
    }

    async fn wait_for(recorder: &Recorder, count: usize) {
        for _ in 0..2000 {
            if recorder.handled.lock().map(|h| h.len()).unwrap_or(0) >= count {
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let backoff = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        let delays: Vec<u128> = (0..6).map(|n| backoff.delay(n).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(backoff.delay(u32::MAX), Duration::from_secs(1));
    }

    #[tokio::test]
    async fn failures_are_retried_in_order_and_never_skipped() {
        let store = Arc::new(MemoryStore::new());
        let outbox = Arc::new(MemoryOutbox::new());
        create_users(&store, "acme", &["a", "b", "c", "d", "e"]).await;
        create_users(&store, "globex", &["x"]).await;
        let recorder = Recorder {
            failures: 2,
            ..Recorder::default()
        };
        let dispatcher = Dispatcher::with_outbox(
            Arc::clone(&store),
            Arc::clone(&outbox),
            "acme",
            "test",
            recorder,
        )
        .options(fast());
        let (stop, stopped) = oneshot::channel::<()>();
        let run = dispatcher.run_until(async {
            let _ = stopped.await;
        });
        let watch = async {
            wait_for(dispatcher.handler(), 5).await;
            let _ = stop.send(());
        };
        tokio::join!(run, watch);

        let handled = dispatcher.handler().handled.lock().map(|h| h.clone());
        let handled = handled.unwrap_or_default();
        let seqs: Vec<u64> = handled.iter().map(|(seq, _)| *seq).collect();
        assert_eq!(seqs.len(), 5, "{handled:?}");
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order: {seqs:?}");
        assert!(handled
            .iter()
            .all(|(_, kind)| *kind == ChangeKind::UserCreated));
        let attempts = dispatcher.handler().attempts.lock().map(|a| a.clone());
        assert_eq!(attempts.unwrap_or_default().len(), 15, "3 attempts each");
        let last = seqs.last().copied().unwrap_or_default();
        assert_eq!(outbox.checkpoint("acme", "test").await.ok(), Some(last));
        assert_eq!(
            outbox
                .try_lease("acme", "test", "next", fast().lease_ttl)
                .await
                .ok(),
            Some(Some(last)),
            "the lease is given up on shutdown"
        );
    }

    #[tokio::test]
    async fn a_restarted_dispatcher_resumes_after_its_checkpoint() {
        // The store is its own outbox here.
        let store = Arc::new(MemoryStore::new());
        create_users(&store, "acme", &["a", "b"]).await;
        let first = Dispatcher::new(Arc::clone(&store), "acme", "test", Recorder::default())
            .options(fast());
        let running = first.spawn();
        for _ in 0..2000 {
            if store.checkpoint("acme", "test").await.ok() == Some(2) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        running.stop().await;
        assert_eq!(store.checkpoint("acme", "test").await.ok(), Some(2));
        create_users(&store, "acme", &["c"]).await;

        let second = Dispatcher::new(store, "acme", "test", Recorder::default()).options(fast());
        let (stop, stopped) = oneshot::channel::<()>();
        let run = second.run_until(async {
            let _ = stopped.await;
        });
        let watch = async {
            wait_for(second.handler(), 1).await;
            tokio::time::sleep(Duration::from_millis(20)).await;
            let _ = stop.send(());
        };
        tokio::join!(run, watch);
        let handled = second.handler().handled.lock().map(|h| h.len());
        assert_eq!(handled.ok(), Some(1), "only the event after the checkpoint");
    }

    #[tokio::test]
    async fn a_dispatcher_without_the_lease_stands_by() {
        let store = Arc::new(MemoryStore::new());
        let outbox = Arc::new(MemoryOutbox::new());
        create_users(&store, "acme", &["a"]).await;
        let ttl = fast().lease_ttl;
        assert!(matches!(
            outbox.try_lease("acme", "test", "someone-else", ttl).await,
            Ok(Some(0))
        ));
        let dispatcher = Dispatcher::with_outbox(
            store,
            Arc::clone(&outbox),
            "acme",
            "test",
            Recorder::default(),
        )
        .options(fast());
        let (stop, stopped) = oneshot::channel::<()>();
        let run = dispatcher.run_until(async {
            let _ = stopped.await;
        });
        let watch = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let _ = stop.send(());
        };
        tokio::join!(run, watch);
        let attempts = dispatcher.handler().attempts.lock().map(|a| a.len());
        assert_eq!(attempts.ok(), Some(0));
        assert_eq!(outbox.checkpoint("acme", "test").await.ok(), Some(0));
    }
}
