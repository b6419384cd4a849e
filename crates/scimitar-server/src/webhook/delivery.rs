//! Posting one event to one webhook.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use scimitar_store::hooks::{EventHandler, HandlerError};
use scimitar_store::ChangeEvent;

use super::signing::{event_body, message_id, sign, ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::metrics::Metrics;
use crate::settings::Webhook;

/// Posts events to one webhook.
pub struct WebhookHandler {
    webhook: Webhook,
    agent: ureq::Agent,
    metrics: Option<Arc<Metrics>>,
}

impl std::fmt::Debug for WebhookHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookHandler")
            .field("webhook", &self.webhook)
            .finish_non_exhaustive()
    }
}

impl WebhookHandler {
    /// A handler posting to `webhook`, giving up on an attempt after `timeout`.
    pub fn new(webhook: Webhook, timeout: Duration) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout(timeout)
            .redirects(0)
            .user_agent(concat!("scimitar/", env!("CARGO_PKG_VERSION")))
            .build();
        WebhookHandler {
            webhook,
            agent,
            metrics: None,
        }
    }

    /// This handler, counting its attempts in `metrics`.
    pub fn metrics(self, metrics: Arc<Metrics>) -> Self {
        WebhookHandler {
            metrics: Some(metrics),
            ..self
        }
    }
}

/// Why a delivery failed.
#[derive(Debug, thiserror::Error)]
enum DeliveryError {
    #[error("{url} answered {status}")]
    Status { url: String, status: u16 },
    #[error("cannot reach {url}: {reason}")]
    Transport { url: String, reason: String },
    #[error("the delivery thread failed: {0}")]
    Worker(String),
}

impl EventHandler for WebhookHandler {
    async fn handle(&self, event: &ChangeEvent) -> Result<(), HandlerError> {
        if self.webhook.since.is_some_and(|since| event.at < since) {
            // Written before the webhook was added: handled by not sending it.
            return Ok(());
        }
        let body = event_body(event).to_string();
        let id = message_id(event);
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let signature = sign(&self.webhook.secret, &id, timestamp, body.as_bytes());
        let request = self
            .agent
            .post(&self.webhook.url)
            .set("Content-Type", "application/json")
            .set(ID_HEADER, &id)
            .set(TIMESTAMP_HEADER, &timestamp.to_string())
            .set(SIGNATURE_HEADER, &signature);
        let url = self.webhook.url.clone();
        // ureq blocks: keep it off the async workers.
        let outcome = tokio::task::spawn_blocking(move || match request.send_string(&body) {
            Ok(_) => Ok(()),
            Err(ureq::Error::Status(status, response)) => {
                let retry_after = response
                    .header("Retry-After")
                    .and_then(|value| value.trim().parse::<u64>().ok())
                    .filter(|_| status == 429 || status == 503)
                    .map(Duration::from_secs);
                Err((DeliveryError::Status { url, status }, retry_after))
            }
            Err(ureq::Error::Transport(transport)) => Err((
                DeliveryError::Transport {
                    url,
                    reason: transport.to_string(),
                },
                None,
            )),
        })
        .await
        .unwrap_or_else(|error| Err((DeliveryError::Worker(error.to_string()), None)));
        if let Some(metrics) = &self.metrics {
            metrics.delivery_attempt(outcome.is_ok());
        }
        match outcome {
            Ok(()) => Ok(()),
            Err((error, Some(after))) => Err(HandlerError::RetryAfter {
                after,
                reason: error.to_string(),
            }),
            Err((error, None)) => Err(HandlerError::failed(error)),
        }
    }
}
