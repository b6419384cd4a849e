//! What an admin sees of a webhook's deliveries: its health (last success, last
//! error) and its dead letters (events given up on after the retry budget), kept
//! as tenant state documents so that every server shows the same.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use scimitar_store::hooks::{EventHandler, HandlerError};
use scimitar_store::state::StateStore;
use scimitar_store::{ChangeEvent, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use super::delivery::{DeliveryFailure, WebhookHandler};
use super::signing::event_body;

/// How often at most a run of successes is written down: health is for humans,
/// and a write per delivery would double the database work of webhooks.
const SUCCESS_WRITE_INTERVAL: Duration = Duration::from_secs(10);

/// A webhook's last success and last failure.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryHealth {
    /// When an event was last delivered.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_success: Option<OffsetDateTime>,
    /// When an attempt last failed, and how.
    #[serde(default)]
    pub last_error: Option<FailedAttempt>,
    /// Attempts failed since the last success.
    #[serde(default)]
    pub consecutive_failures: u32,
}

/// A failed attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedAttempt {
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// What the receiver answered.
    #[serde(flatten)]
    pub failure: DeliveryFailure,
}

/// An event given up on: delivered no more until an admin retries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    /// The event's `seq` in the tenant's stream.
    pub seq: u64,
    /// The body the webhook would have received.
    pub event: Value,
    /// When it was given up on.
    #[serde(with = "time::serde::rfc3339")]
    pub failed_at: OffsetDateTime,
    /// Attempts made.
    pub attempts: u32,
    /// The last attempt's failure.
    pub error: DeliveryFailure,
}

fn health_key(webhook: &str) -> String {
    format!("webhook:{webhook}:health")
}

fn dead_prefix(webhook: &str) -> String {
    format!("webhook:{webhook}:dead:")
}

fn dead_key(webhook: &str, seq: u64) -> String {
    // Zero-padded, so that keys sort by seq.
    format!("{}{seq:020}", dead_prefix(webhook))
}

/// The health of `tenant`'s webhook `webhook`, if it ever delivered or failed.
///
/// # Errors
/// The state store's.
pub async fn health<St: StateStore + ?Sized>(
    state: &St,
    tenant: &str,
    webhook: &str,
) -> Result<Option<DeliveryHealth>, StoreError> {
    Ok(state
        .state(tenant, &health_key(webhook))
        .await?
        .and_then(|value| serde_json::from_value(value).ok()))
}

/// The webhook's dead letters, oldest event first.
///
/// # Errors
/// The state store's.
pub async fn dead_letters<St: StateStore + ?Sized>(
    state: &St,
    tenant: &str,
    webhook: &str,
) -> Result<Vec<DeadLetter>, StoreError> {
    Ok(state
        .states(tenant, &dead_prefix(webhook))
        .await?
        .into_iter()
        .filter_map(|(_, value)| serde_json::from_value(value).ok())
        .collect())
}

/// The dead letter of event `seq`, if there is one.
///
/// # Errors
/// The state store's.
pub async fn dead_letter<St: StateStore + ?Sized>(
    state: &St,
    tenant: &str,
    webhook: &str,
    seq: u64,
) -> Result<Option<DeadLetter>, StoreError> {
    Ok(state
        .state(tenant, &dead_key(webhook, seq))
        .await?
        .and_then(|value| serde_json::from_value(value).ok()))
}

/// Removes the dead letter of event `seq`; whether there was one.
///
/// # Errors
/// The state store's.
pub async fn discard_dead_letter<St: StateStore + ?Sized>(
    state: &St,
    tenant: &str,
    webhook: &str,
    seq: u64,
) -> Result<bool, StoreError> {
    state.delete_state(tenant, &dead_key(webhook, seq)).await
}

/// Forgets everything recorded of a webhook (it was removed).
///
/// # Errors
/// The state store's.
pub async fn forget<St: StateStore + ?Sized>(
    state: &St,
    tenant: &str,
    webhook: &str,
) -> Result<(), StoreError> {
    state.delete_state(tenant, &health_key(webhook)).await?;
    for (key, _) in state.states(tenant, &dead_prefix(webhook)).await? {
        state.delete_state(tenant, &key).await?;
    }
    Ok(())
}

/// Records `outcome` in the webhook's health: a failure always, a success when
/// it ends a run of failures or `write_success` says so.
///
/// # Errors
/// The state store's.
pub async fn record<St: StateStore + ?Sized>(
    state: &St,
    tenant: &str,
    webhook: &str,
    outcome: Result<(), &DeliveryFailure>,
) -> Result<(), StoreError> {
    let mut current = health(state, tenant, webhook).await?.unwrap_or_default();
    let now = scimitar_store::meta::now();
    match outcome {
        Ok(()) => {
            current.last_success = Some(now);
            current.consecutive_failures = 0;
        }
        Err(failure) => {
            current.last_error = Some(FailedAttempt {
                at: now,
                failure: failure.clone(),
            });
            current.consecutive_failures = current.consecutive_failures.saturating_add(1);
        }
    }
    let value = serde_json::to_value(&current).unwrap_or_default();
    state.put_state(tenant, &health_key(webhook), &value).await
}

/// A [`WebhookHandler`] that records its outcomes and, after `max_attempts`
/// failed attempts at one event, sets the event aside as a dead letter and moves
/// on (0: never).
pub(crate) struct RecordingHandler<St> {
    pub(crate) handler: WebhookHandler,
    pub(crate) state: std::sync::Arc<St>,
    pub(crate) tenant: String,
    pub(crate) max_attempts: u32,
    pub(crate) on_dead_letter: Option<std::sync::Arc<crate::metrics::Metrics>>,
    progress: Mutex<Progress>,
}

#[derive(Default)]
struct Progress {
    /// The event being retried and the attempts at it.
    attempts: (u64, u32),
    /// When a success was last written, and whether failures came since.
    success_written: Option<Instant>,
    failing: bool,
}

impl<St: StateStore> RecordingHandler<St> {
    pub(crate) fn new(
        handler: WebhookHandler,
        state: std::sync::Arc<St>,
        tenant: &str,
        max_attempts: u32,
    ) -> Self {
        RecordingHandler {
            handler,
            state,
            tenant: tenant.to_owned(),
            max_attempts,
            on_dead_letter: None,
            progress: Mutex::new(Progress::default()),
        }
    }

    fn progress(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.progress
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn note(&self, outcome: Result<(), &DeliveryFailure>) {
        let id = &self.handler.webhook().id;
        if let Err(error) = record(&*self.state, &self.tenant, id, outcome).await {
            log::warn!("webhook {}/{id}: health not recorded: {error}", self.tenant);
        }
    }
}

impl<St: StateStore> EventHandler for RecordingHandler<St> {
    async fn handle(&self, event: &ChangeEvent) -> Result<(), HandlerError> {
        let webhook = self.handler.webhook().id.clone();
        let failure = match self.handler.deliver(event).await {
            Ok(()) => {
                let write = {
                    let mut progress = self.progress();
                    progress.attempts = (0, 0);
                    let due = progress.failing
                        || progress
                            .success_written
                            .is_none_or(|at| at.elapsed() >= SUCCESS_WRITE_INTERVAL);
                    if due {
                        progress.failing = false;
                        progress.success_written = Some(Instant::now());
                    }
                    due
                };
                if write {
                    self.note(Ok(())).await;
                }
                return Ok(());
            }
            Err(failure) => failure,
        };
        self.note(Err(&failure)).await;
        let attempts = {
            let mut progress = self.progress();
            progress.failing = true;
            if progress.attempts.0 != event.seq {
                progress.attempts = (event.seq, 0);
            }
            progress.attempts.1 += 1;
            progress.attempts.1
        };
        if self.max_attempts == 0 || attempts < self.max_attempts {
            let reason = format!("{}: {failure}", self.handler.webhook().url);
            return Err(match failure.retry_after {
                Some(after) => HandlerError::RetryAfter { after, reason },
                None => HandlerError::failed(reason),
            });
        }
        let letter = DeadLetter {
            seq: event.seq,
            event: event_body(event),
            failed_at: scimitar_store::meta::now(),
            attempts,
            error: failure,
        };
        let value = serde_json::to_value(&letter).unwrap_or_default();
        // Not written, not skipped: the event stays in line and is retried.
        self.state
            .put_state(&self.tenant, &dead_key(&webhook, event.seq), &value)
            .await
            .map_err(HandlerError::failed)?;
        log::warn!(
            "webhook {}/{webhook}: event {} set aside after {attempts} attempts",
            self.tenant,
            event.seq
        );
        if let Some(metrics) = &self.on_dead_letter {
            metrics.dead_letter();
        }
        self.progress().attempts = (0, 0);
        Ok(())
    }
}
