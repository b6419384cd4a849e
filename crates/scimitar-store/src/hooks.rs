//! Consuming the outbox: react to provisioning changes in your own code.
//!
//! Every change a [`Store`] commits is recorded, in the same transaction, as a
//! [`ChangeEvent`] (rule 17). This module is the consumer side:
//!
//! - [`EventHandler`]: your reaction to one event (cancel a deleted user's
//!   appointments, post a webhook, sync a table of your own).
//! - [`OutboxStore`]: where a consumer's progress is kept durably: a checkpoint per
//!   (tenant, consumer), and a lease so that one process at a time delivers a
//!   tenant's stream when several share a database; and pruning of the events
//!   every consumer has handled. The Diesel store implements it in its database,
//!   the [`MemoryStore`](crate::MemoryStore) in memory; [`MemoryOutbox`] keeps
//!   checkpoints and leases in memory beside any other [`Store`].
//! - `Dispatcher` (feature `dispatcher`): reads the events after the checkpoint,
//!   calls the handler in `seq` order, and advances the checkpoint after each
//!   success. A failing event is retried with capped exponential backoff, never
//!   skipped, and blocks the events after it: delivery is **at least once, in
//!   order**. An event is handled again only when the process stopped (or lost its
//!   lease) between the handler's success and the checkpoint write, so handlers
//!   should be idempotent (the event's `seq` is a natural key).
//!
//! A store keeps every event until [`OutboxStore::prune_events`] deletes those all
//! the tenant's consumers have handled: call it from time to time (say hourly) for
//! each tenant, or the outbox grows with every change.
//!
//! ```
//! use scimitar_store::hooks::{EventHandler, HandlerError};
//! use scimitar_store::{ChangeEvent, ChangeKind};
//!
//! /// Cancels the upcoming appointments of users the identity provider deletes
//! /// or deactivates.
//! struct CancelAppointments;
//!
//! impl EventHandler for CancelAppointments {
//!     async fn handle(&self, event: &ChangeEvent) -> Result<(), HandlerError> {
//!         match event.kind {
//!             ChangeKind::UserDeleted | ChangeKind::UserDeactivated => {
//!                 // Your database call here; an error is retried later.
//!                 cancel_upcoming(&event.tenant, &event.resource_id)
//!                     .map_err(HandlerError::failed)
//!             }
//!             _ => Ok(()),
//!         }
//!     }
//! }
//! # fn cancel_upcoming(_tenant: &str, _user: &str) -> Result<(), std::io::Error> { Ok(()) }
//! ```
//!
//! With the `dispatcher` feature, run it for a tenant:
//!
//! ```
//! # #[cfg(feature = "dispatcher")]
//! # tokio::runtime::Builder::new_current_thread().enable_time().build()?.block_on(async {
//! use std::sync::Arc;
//! use scimitar_store::hooks::{Dispatcher, EventHandler, HandlerError};
//! use scimitar_store::{ChangeEvent, MemoryStore, Policy, Registry, Scope, Store};
//!
//! struct Print;
//! impl EventHandler for Print {
//!     async fn handle(&self, event: &ChangeEvent) -> Result<(), HandlerError> {
//!         println!("{} {} {}", event.seq, event.kind, event.resource_id);
//!         Ok(())
//!     }
//! }
//!
//! // A MemoryStore (or a DieselStore) is its own outbox; `Dispatcher::with_outbox`
//! // keeps the progress elsewhere (a `MemoryOutbox` beside a store of your own).
//! let store = Arc::new(MemoryStore::new());
//! let running = Dispatcher::new(Arc::clone(&store), "acme", "print", Print).spawn();
//!
//! let (registry, policy) = (Registry::builtin(), Policy::default());
//! let scope = Scope::new("acme", &registry, &policy);
//! let user = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bjensen"});
//! store.create(&scope, "User", user).await?;
//!
//! running.stop().await; // finishes the current event, gives the lease up
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).map_err(|e| e.to_string())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Store`]: crate::Store

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::event::ChangeEvent;
use crate::{BoxError, StoreError};

#[cfg(feature = "dispatcher")]
mod dispatcher;

#[cfg(feature = "dispatcher")]
pub use dispatcher::{Backoff, DispatchOptions, Dispatcher, RunningDispatcher};

/// Your reaction to a change event; a `Dispatcher` calls it once per event, in
/// `seq` order, until it succeeds.
///
/// Implement it with `async fn`. Return [`HandlerError`] when the event could not
/// be handled now (a database down, a remote service failing): the same event is
/// offered again after a backoff, and the events after it wait. Do not fail for
/// events you do not care about: return `Ok(())`.
pub trait EventHandler: Send + Sync {
    /// Handles one event. Called again with the same event after an error, and
    /// possibly after a success whose checkpoint was not recorded (a crash): make
    /// it idempotent.
    fn handle(&self, event: &ChangeEvent) -> impl Future<Output = Result<(), HandlerError>> + Send;
}

/// Why a handler could not handle an event now; the event is offered again later.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HandlerError {
    /// It failed; retried after the dispatcher's backoff.
    #[error("event handler failed: {0}")]
    Failed(#[source] BoxError),
    /// The other side asked to wait (HTTP 429 or 503 with `Retry-After`); retried
    /// after `after` or the backoff, whichever is longer.
    #[error("event handler asked to retry in {} s: {reason}", after.as_secs())]
    RetryAfter {
        /// How long to wait.
        after: Duration,
        /// What the other side said.
        reason: String,
    },
}

impl HandlerError {
    /// A [`HandlerError::Failed`] with `error` as its cause.
    pub fn failed(error: impl Into<BoxError>) -> Self {
        HandlerError::Failed(error.into())
    }
}

/// Durable progress of outbox consumers: per (tenant, consumer), the last handled
/// `seq` (the checkpoint) and a lease naming the one owner allowed to deliver; and
/// pruning of the events every consumer has handled.
///
/// A consumer is any name the application chooses (`appointments`,
/// `webhook:audit`): each has its own checkpoint, so consumers progress
/// independently over the same events.
///
/// # Rules
///
/// - **O1.** A new (tenant, consumer) has checkpoint 0 and no lease. A consumer
///   exists from its first [`OutboxStore::try_lease`] on, whether it got the lease
///   or not; reading a checkpoint creates nothing.
/// - **O2.** [`OutboxStore::try_lease`] gives the lease to `owner` until `ttl` from now
///   when nobody holds it, when it has expired, or when `owner` already holds it
///   (a renewal); it then returns the checkpoint. While another owner's lease runs
///   it returns `None` and changes nothing. Two owners racing for a free lease:
///   exactly one gets it.
/// - **O3.** [`OutboxStore::set_checkpoint`] records `seq` and renews the lease only
///   while `owner` holds it (returns `false` and changes nothing otherwise); the
///   checkpoint never moves backwards.
/// - **O4.** [`OutboxStore::release_lease`] frees the lease if `owner` holds it, so
///   another owner may take it at once; the checkpoint stays.
/// - **O5.** [`OutboxStore::prune_events`] deletes exactly the tenant's events whose
///   `seq` is at most `up_to` and at most the checkpoint of each of the tenant's
///   consumers (with no consumers: every event up to `up_to`), and returns how
///   many. Other tenants' events stay, and no `seq` is ever reused: a reader of
///   [`EventStore::events`](crate::EventStore::events) resuming after its checkpoint misses
///   nothing, and a consumer that appears after a prune starts at the oldest event
///   left.
/// - **O6.** [`OutboxStore::forget_consumer`] removes the consumer's checkpoint and
///   lease, whoever holds it, so the consumer no longer holds pruning back (O5) and
///   its holder's next [`OutboxStore::set_checkpoint`] returns `false`. A consumer
///   later leased under the same name is new (O1): it starts at checkpoint 0 and
///   so replays every event still in the outbox. Other consumers and tenants are
///   untouched.
///
/// Expiry compares wall-clock times of the processes involved: keep their clocks
/// synchronised (NTP) to well within the lease time.
pub trait OutboxStore: Send + Sync {
    /// The checkpoint of `consumer` in `tenant`'s stream: the `seq` of the last
    /// event it handled, 0 before the first.
    fn checkpoint(
        &self,
        tenant: &str,
        consumer: &str,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Takes or renews the lease for `owner` (rule O2): the checkpoint when `owner`
    /// holds the lease afterwards, `None` when another owner does.
    fn try_lease(
        &self,
        tenant: &str,
        consumer: &str,
        owner: &str,
        ttl: Duration,
    ) -> impl Future<Output = Result<Option<u64>, StoreError>> + Send;

    /// Records that events up to `seq` are handled and renews the lease for `ttl`,
    /// if `owner` still holds it (rule O3); whether it did.
    fn set_checkpoint(
        &self,
        tenant: &str,
        consumer: &str,
        owner: &str,
        seq: u64,
        ttl: Duration,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Gives the lease up if `owner` holds it (rule O4).
    fn release_lease(
        &self,
        tenant: &str,
        consumer: &str,
        owner: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes `tenant`'s events up to `up_to` that all its consumers have handled
    /// (rule O5; `u64::MAX` for every such event) and returns how many.
    ///
    /// Only consumers known here hold pruning back: a reader of
    /// [`EventStore::events`](crate::EventStore::events) that keeps its position elsewhere
    /// should pass that position as `up_to`. A consumer that never runs again (a
    /// removed webhook) holds it back at its checkpoint until
    /// [`OutboxStore::forget_consumer`].
    fn prune_events(
        &self,
        tenant: &str,
        up_to: u64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Removes `consumer` of `tenant`, checkpoint and lease (rule O6): for a
    /// consumer that will not run again (a removed webhook), so that it stops
    /// holding pruning back. Returns whether the consumer existed.
    ///
    /// Stop the consumer's dispatcher first: a lease taken afterwards makes the
    /// consumer anew, at checkpoint 0.
    fn forget_consumer(
        &self,
        tenant: &str,
        consumer: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// An [`OutboxStore`] in memory beside a [`Store`](crate::Store) that is not one
/// itself: progress is lost with the process, and leases are only shared within
/// it. It holds no events, so its [`OutboxStore::prune_events`] deletes nothing;
/// a [`MemoryStore`](crate::MemoryStore) is its own outbox and prunes its events.
#[derive(Debug, Default)]
pub struct MemoryOutbox {
    /// Tenant → consumer → progress; a consumer appears with its first lease (O1).
    tenants: Mutex<HashMap<String, HashMap<String, Progress>>>,
}

#[derive(Debug, Default)]
struct Progress {
    checkpoint: u64,
    lease: Option<(String, Instant)>,
}

impl Progress {
    fn held_by(&self, owner: &str) -> bool {
        self.lease
            .as_ref()
            .is_some_and(|(holder, _)| holder == owner)
    }

    fn free_for(&self, owner: &str, now: Instant) -> bool {
        match &self.lease {
            None => true,
            Some((holder, until)) => holder == owner || *until <= now,
        }
    }
}

impl MemoryOutbox {
    /// An outbox store with no consumers yet.
    pub fn new() -> Self {
        MemoryOutbox::default()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, HashMap<String, Progress>>> {
        // Each update is a single assignment: a panic elsewhere cannot leave one
        // half-made, so a poisoned lock is still consistent.
        self.tenants.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `f` applied to an existing consumer's progress; `None` for an unknown one.
    fn existing<T>(
        &self,
        tenant: &str,
        consumer: &str,
        f: impl FnOnce(&mut Progress) -> T,
    ) -> Option<T> {
        let mut tenants = self.lock();
        tenants
            .get_mut(tenant)
            .and_then(|consumers| consumers.get_mut(consumer))
            .map(f)
    }

    /// Drops every consumer of `tenant` (it was deleted).
    pub fn forget_tenant(&self, tenant: &str) {
        self.lock().remove(tenant);
    }

    /// The lowest checkpoint of `tenant`'s consumers; `None` when it has none.
    pub(crate) fn lowest_checkpoint(&self, tenant: &str) -> Option<u64> {
        let tenants = self.lock();
        let consumers = tenants.get(tenant)?;
        consumers.values().map(|progress| progress.checkpoint).min()
    }
}

impl OutboxStore for MemoryOutbox {
    async fn checkpoint(&self, tenant: &str, consumer: &str) -> Result<u64, StoreError> {
        Ok(self
            .existing(tenant, consumer, |progress| progress.checkpoint)
            .unwrap_or(0))
    }

    async fn try_lease(
        &self,
        tenant: &str,
        consumer: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<Option<u64>, StoreError> {
        let now = Instant::now();
        let mut tenants = self.lock();
        let progress = tenants
            .entry(tenant.to_owned())
            .or_default()
            .entry(consumer.to_owned())
            .or_default();
        Ok(progress.free_for(owner, now).then(|| {
            progress.lease = Some((owner.to_owned(), now + ttl));
            progress.checkpoint
        }))
    }

    async fn set_checkpoint(
        &self,
        tenant: &str,
        consumer: &str,
        owner: &str,
        seq: u64,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let now = Instant::now();
        let held = self.existing(tenant, consumer, |progress| {
            let held = progress.held_by(owner);
            if held {
                progress.checkpoint = progress.checkpoint.max(seq);
                progress.lease = Some((owner.to_owned(), now + ttl));
            }
            held
        });
        Ok(held.unwrap_or(false))
    }

    async fn release_lease(
        &self,
        tenant: &str,
        consumer: &str,
        owner: &str,
    ) -> Result<(), StoreError> {
        self.existing(tenant, consumer, |progress| {
            if progress.held_by(owner) {
                progress.lease = None;
            }
        });
        Ok(())
    }

    async fn prune_events(&self, _tenant: &str, _up_to: u64) -> Result<u64, StoreError> {
        Ok(0)
    }

    async fn forget_consumer(&self, tenant: &str, consumer: &str) -> Result<bool, StoreError> {
        let mut tenants = self.lock();
        let Some(consumers) = tenants.get_mut(tenant) else {
            return Ok(false);
        };
        let forgotten = consumers.remove(consumer).is_some();
        if consumers.is_empty() {
            tenants.remove(tenant);
        }
        Ok(forgotten)
    }
}

/// The [`OutboxStore`] rules O1–O4 and O6 as one check, for the tests of an
/// implementation (feature `testkit`); panics at the first rule broken.
///
/// `tenant` should be new to `outbox` (e.g. with a random suffix): the check uses
/// consumers of that tenant and of `{tenant}-other`.
#[cfg(feature = "testkit")]
pub async fn check_outbox_store<O: OutboxStore>(outbox: &O, tenant: &str) {
    const TTL: Duration = Duration::from_secs(60);
    let other = format!("{tenant}-other");
    let lease = |owner: &'static str, ttl| outbox.try_lease(tenant, "c", owner, ttl);
    let held = |result: Result<Option<u64>, StoreError>| match result {
        Ok(checkpoint) => checkpoint,
        Err(error) => panic!("try_lease failed: {error}"),
    };
    assert_eq!(
        held(lease("a", TTL).await),
        Some(0),
        "O1, O2: a free lease, at 0"
    );
    assert_eq!(held(lease("b", TTL).await), None, "O2: a holds it");
    assert_eq!(held(lease("a", TTL).await), Some(0), "O2: a renews");
    let set = |owner: &'static str, seq| outbox.set_checkpoint(tenant, "c", owner, seq, TTL);
    assert!(matches!(set("a", 5).await, Ok(true)), "O3");
    assert!(matches!(set("a", 3).await, Ok(true)), "O3");
    assert!(matches!(set("b", 9).await, Ok(false)), "O3: b has no lease");
    assert_eq!(
        outbox.checkpoint(tenant, "c").await.ok(),
        Some(5),
        "O3: never back"
    );
    assert_eq!(outbox.checkpoint(tenant, "d").await.ok(), Some(0), "O1");
    assert_eq!(
        outbox.checkpoint(&other, "c").await.ok(),
        Some(0),
        "per tenant"
    );

    assert!(outbox.release_lease(tenant, "c", "b").await.is_ok());
    assert_eq!(
        held(lease("b", TTL).await),
        None,
        "O4: only the holder releases"
    );
    assert!(outbox.release_lease(tenant, "c", "a").await.is_ok());
    assert_eq!(
        held(lease("b", Duration::ZERO).await),
        Some(5),
        "O4: free at once"
    );
    assert_eq!(
        held(lease("a", TTL).await),
        Some(5),
        "O2: b's lease expired"
    );
    assert!(matches!(set("b", 7).await, Ok(false)), "O3: b lost it");

    // Two owners racing for a free lease.
    let (x, y) = (
        outbox.try_lease(&other, "race", "x", TTL),
        outbox.try_lease(&other, "race", "y", TTL),
    );
    let (x, y) = futures_util::future::join(x, y).await;
    let winners = [held(x), held(y)]
        .iter()
        .filter(|won| won.is_some())
        .count();
    assert_eq!(winners, 1, "O2: exactly one owner wins a race");

    let forget = |tenant, consumer| outbox.forget_consumer(tenant, consumer);
    assert!(matches!(forget(tenant, "c").await, Ok(true)), "O6");
    assert!(matches!(forget(tenant, "c").await, Ok(false)), "O6: gone");
    assert!(
        matches!(forget(tenant, "d").await, Ok(false)),
        "O6: never was"
    );
    assert!(
        matches!(set("a", 9).await, Ok(false)),
        "O6: a's lease is gone"
    );
    assert_eq!(outbox.checkpoint(tenant, "c").await.ok(), Some(0), "O6");
    assert_eq!(
        held(lease("b", TTL).await),
        Some(0),
        "O6, O1: a consumer made anew starts at 0"
    );
    assert_eq!(
        held(outbox.try_lease(&other, "race", "z", TTL).await),
        None,
        "O6: other tenants keep their leases"
    );
}

/// Rules O5 and O6 as one check, for a [`Store`](crate::Store) that is its own
/// [`OutboxStore`] (feature `testkit`); panics at the first rule broken.
///
/// `tenant` should be new to `store`: the check writes users in that tenant and in
/// `{tenant}-other`.
#[cfg(feature = "testkit")]
pub async fn check_event_pruning<S: crate::EventStore + OutboxStore>(store: &S, tenant: &str) {
    use crate::{Policy, Registry, Scope};

    const TTL: Duration = Duration::from_secs(60);
    let (registry, policy) = (Registry::builtin(), Policy::default());
    let other = format!("{tenant}-other");
    let (scope, other_scope) = (
        Scope::new(tenant, &registry, &policy),
        Scope::new(&other, &registry, &policy),
    );
    create_users(store, &scope, &["p1", "p2", "p3", "p4"]).await;
    create_users(store, &other_scope, &["q1"]).await;
    let all = event_seqs(store, &scope).await;
    let (&[first, second, third, ..], Some(&last)) = (all.as_slice(), all.last()) else {
        panic!("four creates recorded {} events", all.len());
    };
    for (consumer, seq) in [("slow", second), ("fast", third)] {
        let leased = store.try_lease(tenant, consumer, "kit", TTL).await;
        assert!(matches!(leased, Ok(Some(_))), "O2: a free lease");
        let set = store
            .set_checkpoint(tenant, consumer, "kit", seq, TTL)
            .await;
        assert!(matches!(set, Ok(true)), "O3");
    }
    let prune = |tenant, up_to| store.prune_events(tenant, up_to);
    let pruned = |result: Result<u64, StoreError>| match result {
        Ok(count) => count,
        Err(error) => panic!("prune_events failed: {error}"),
    };
    assert_eq!(store.checkpoint(tenant, "reader").await.ok(), Some(0));
    assert_eq!(pruned(prune(tenant, first).await), 1, "O5: not after up_to");
    assert_eq!(event_seqs(store, &scope).await, all[1..], "O5");
    assert_eq!(
        pruned(prune(tenant, u64::MAX).await),
        1,
        "O5: not after the lowest checkpoint (a checkpoint read creates no consumer)"
    );
    assert_eq!(event_seqs(store, &scope).await, all[2..], "O5");
    assert_eq!(pruned(prune(tenant, u64::MAX).await), 0, "O5: nothing more");
    assert_eq!(
        event_seqs(store, &other_scope).await.len(),
        1,
        "O5: other tenants' events stay"
    );
    let forgotten = store.forget_consumer(tenant, "slow").await;
    assert!(matches!(forgotten, Ok(true)), "O6");
    assert_eq!(
        pruned(prune(tenant, u64::MAX).await),
        1,
        "O6: a forgotten consumer no longer holds pruning back"
    );
    assert_eq!(event_seqs(store, &scope).await, all[3..], "O6");

    let set = store.set_checkpoint(tenant, "fast", "kit", last, TTL).await;
    assert!(matches!(set, Ok(true)), "O3");
    let left = u64::try_from(all.len() - 3).unwrap_or(u64::MAX);
    assert_eq!(
        pruned(prune(tenant, u64::MAX).await),
        left,
        "O5: all handled"
    );
    assert!(event_seqs(store, &scope).await.is_empty(), "O5");
    create_users(store, &scope, &["p5"]).await;
    let after = event_seqs(store, &scope).await;
    assert!(
        after.first().is_some_and(|&seq| seq > last),
        "O5: no seq is reused ({after:?} after {last})"
    );
    assert_eq!(
        pruned(prune(&other, u64::MAX).await),
        1,
        "O5: without consumers, every event up to up_to"
    );
    assert!(event_seqs(store, &other_scope).await.is_empty(), "O5");
}

#[cfg(feature = "testkit")]
async fn create_users<S: crate::Store>(store: &S, scope: &crate::Scope<'_>, names: &[&str]) {
    for name in names {
        let user = serde_json::json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": name,
        });
        if let Err(error) = store.create(scope, "User", user).await {
            panic!("creating user {name} failed: {error}");
        }
    }
}

#[cfg(feature = "testkit")]
async fn event_seqs<S: crate::EventStore>(store: &S, scope: &crate::Scope<'_>) -> Vec<u64> {
    match store.events(scope, 0, 1000).await {
        Ok(events) => events.iter().map(|event| event.seq).collect(),
        Err(error) => panic!("events failed: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_outbox_keeps_the_rules() {
        let runtime = tokio::runtime::Builder::new_current_thread().build();
        let runtime = runtime.unwrap_or_else(|error| panic!("{error}"));
        runtime.block_on(check_outbox_store(&MemoryOutbox::new(), "acme"));
    }
}
