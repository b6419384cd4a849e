//! Signing deliveries the Standard Webhooks way, and the body a webhook receives.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use scimitar_store::ChangeEvent;
use serde_json::{json, Value};
use sha2::Sha256;

/// The header carrying the message id (Standard Webhooks).
pub const ID_HEADER: &str = "webhook-id";
/// The header carrying the attempt's time in Unix seconds (Standard Webhooks).
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// The header carrying the signatures (Standard Webhooks).
pub const SIGNATURE_HEADER: &str = "webhook-signature";
/// The prefix of secrets in the Standard Webhooks format: base64 key bytes follow.
pub const SECRET_PREFIX: &str = "whsec_";

/// A new random signing secret: `whsec_` and 32 random bytes in base64.
pub fn generate_secret() -> String {
    use rand::RngCore;
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// The `webhook-id` of `event`: `evt_<tenant>_<seq>`.
pub fn message_id(event: &ChangeEvent) -> String {
    format!("evt_{}_{}", event.tenant, event.seq)
}

/// The `webhook-signature` value of a delivery: `v1,<base64>`.
///
/// ```
/// use scimitar_server::webhook::{sign, verify};
///
/// let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// let body = br#"{"id":1}"#;
/// let signature = sign(secret, "evt_acme_1", 1_700_000_000, body);
/// assert!(verify(secret, "evt_acme_1", "1700000000", body, &signature));
/// assert!(!verify(secret, "evt_acme_1", "1700000001", body, &signature));
/// ```
pub fn sign(secret: &str, id: &str, timestamp: u64, body: &[u8]) -> String {
    let tag = mac(secret, id, &timestamp.to_string(), body)
        .finalize()
        .into_bytes();
    format!("v1,{}", STANDARD.encode(tag))
}

/// Whether `signatures` (the `webhook-signature` header: space-separated
/// `v1,<base64>` entries) holds the signature of `id`, `timestamp` (the header's
/// text) and `body` under `secret`; compared in constant time. For receivers, who
/// should then also refuse a timestamp more than a few minutes from now and an id
/// they have seen.
pub fn verify(secret: &str, id: &str, timestamp: &str, body: &[u8], signatures: &str) -> bool {
    signatures.split_whitespace().any(|entry| {
        entry
            .strip_prefix("v1,")
            .and_then(|encoded| STANDARD.decode(encoded).ok())
            .is_some_and(|expected| {
                mac(secret, id, timestamp, body)
                    .verify_slice(&expected)
                    .is_ok()
            })
    })
}

/// The HMAC key of `secret`: the bytes after `whsec_`, base64-decoded, else the
/// secret's own bytes.
fn key(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix(SECRET_PREFIX)
        .and_then(|encoded| STANDARD.decode(encoded).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

fn mac(secret: &str, id: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length; this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key(secret))
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The JSON a webhook receives for `event`:
/// `{"id": seq, "tenant", "type": "user.created", "resourceType", "resourceId",
/// "occurredAt", "data": payload}`.
pub fn event_body(event: &ChangeEvent) -> Value {
    json!({
        "id": event.seq,
        "tenant": event.tenant,
        "type": event.kind.as_str(),
        "resourceType": event.resource_type,
        "resourceId": event.resource_id,
        "occurredAt": scimitar_store::meta::format_timestamp(event.at),
        "data": event.payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use scimitar_store::ChangeKind;

    #[test]
    fn signatures_verify_with_their_secret_id_and_time_only() {
        let secret = generate_secret();
        assert!(secret.starts_with("whsec_"), "{secret}");
        let body = b"{\"id\":1}";
        let signature = sign(&secret, "evt_acme_1", 1_700_000_000, body);
        assert!(signature.starts_with("v1,"));
        assert!(verify(
            &secret,
            "evt_acme_1",
            "1700000000",
            body,
            &signature
        ));
        // Another secret, id, time or body: refused.
        assert!(!verify(
            &generate_secret(),
            "evt_acme_1",
            "1700000000",
            body,
            &signature
        ));
        assert!(!verify(
            &secret,
            "evt_acme_2",
            "1700000000",
            body,
            &signature
        ));
        assert!(!verify(
            &secret,
            "evt_acme_1",
            "1700000099",
            body,
            &signature
        ));
        assert!(!verify(
            &secret,
            "evt_acme_1",
            "1700000000",
            b"{\"id\":2}",
            &signature
        ));
        assert!(!verify(&secret, "evt_acme_1", "1700000000", body, "v1,zz"));
        // Any of several signatures (a receiver during a secret rotation).
        let both = format!("v1,AAAA {signature}");
        assert!(verify(&secret, "evt_acme_1", "1700000000", body, &both));
    }

    #[test]
    fn signatures_match_the_standard_webhooks_test_vector() {
        // From the Standard Webhooks specification's reference libraries.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, id, 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn bodies_carry_the_event() {
        let event = ChangeEvent {
            seq: 7,
            tenant: "acme".into(),
            kind: ChangeKind::UserDeactivated,
            resource_type: "User".into(),
            resource_id: "42".into(),
            payload: json!({"userName": "b", "active": false}),
            at: time::OffsetDateTime::UNIX_EPOCH,
        };
        assert_eq!(
            event_body(&event),
            json!({"id": 7, "tenant": "acme", "type": "user.deactivated",
                   "resourceType": "User", "resourceId": "42",
                   "occurredAt": "1970-01-01T00:00:00.000Z",
                   "data": {"userName": "b", "active": false}})
        );
    }
}
