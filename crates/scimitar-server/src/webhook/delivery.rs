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

/// Why a post to a webhook failed: what an admin reads in its delivery health.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryFailure {
    /// The HTTP status the receiver answered, if it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The start of the receiver's answer, or why there was none.
    pub detail: String,
    /// How long the receiver asked to wait (429 or 503 with `Retry-After`).
    #[serde(skip)]
    pub retry_after: Option<Duration>,
}

impl std::fmt::Display for DeliveryFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(status) => write!(f, "answered {status}: {}", self.detail),
            None => f.write_str(&self.detail),
        }
    }
}

/// How much of a receiver's answer is kept.
const EXCERPT_BYTES: u64 = 500;

impl WebhookHandler {
    /// The webhook posted to.
    pub fn webhook(&self) -> &Webhook {
        &self.webhook
    }

    /// Posts `body` as message `id`, signed; the status of a 2xx answer.
    ///
    /// # Errors
    /// A [`DeliveryFailure`] for any other answer (redirects included), or none
    /// within the timeout.
    pub async fn post(&self, id: &str, body: String) -> Result<u16, DeliveryFailure> {
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let signature = sign(&self.webhook.secret, id, timestamp, body.as_bytes());
        let request = self
            .agent
            .post(&self.webhook.url)
            .set("Content-Type", "application/json")
            .set(ID_HEADER, id)
            .set(TIMESTAMP_HEADER, &timestamp.to_string())
            .set(SIGNATURE_HEADER, &signature);
        // ureq blocks: keep it off the async workers.
        let outcome = tokio::task::spawn_blocking(move || match request.send_string(&body) {
            Ok(response) => Ok(response.status()),
            Err(ureq::Error::Status(status, response)) => {
                let retry_after = response
                    .header("Retry-After")
                    .and_then(|value| value.trim().parse::<u64>().ok())
                    .filter(|_| status == 429 || status == 503)
                    .map(Duration::from_secs);
                let mut excerpt = Vec::new();
                let _ = std::io::Read::read_to_end(
                    &mut std::io::Read::take(response.into_reader(), EXCERPT_BYTES),
                    &mut excerpt,
                );
                Err(DeliveryFailure {
                    status: Some(status),
                    detail: String::from_utf8_lossy(&excerpt).trim().to_owned(),
                    retry_after,
                })
            }
            Err(ureq::Error::Transport(transport)) => Err(DeliveryFailure {
                status: None,
                detail: format!("no answer: {transport}"),
                retry_after: None,
            }),
        })
        .await
        .unwrap_or_else(|error| {
            Err(DeliveryFailure {
                status: None,
                detail: format!("the delivery thread failed: {error}"),
                retry_after: None,
            })
        });
        if let Some(metrics) = &self.metrics {
            metrics.delivery_attempt(outcome.is_ok());
        }
        outcome
    }

    /// Posts `event`, unless it was written before the webhook was added.
    ///
    /// # Errors
    /// As [`WebhookHandler::post`].
    pub async fn deliver(&self, event: &ChangeEvent) -> Result<(), DeliveryFailure> {
        if self.webhook.since.is_some_and(|since| event.at < since) {
            // Written before the webhook was added: handled by not sending it.
            return Ok(());
        }
        self.post(&message_id(event), event_body(event).to_string())
            .await
            .map(drop)
    }
}

impl EventHandler for WebhookHandler {
    async fn handle(&self, event: &ChangeEvent) -> Result<(), HandlerError> {
        self.deliver(event).await.map_err(|failure| {
            let reason = format!("{}: {failure}", self.webhook.url);
            match failure.retry_after {
                Some(after) => HandlerError::RetryAfter { after, reason },
                None => HandlerError::failed(reason),
            }
        })
    }
}
