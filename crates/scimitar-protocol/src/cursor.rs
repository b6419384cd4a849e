//! Sealed RFC 9865 cursors: what a client holds between pages reveals nothing and
//! works only for the query that made it.
//!
//! A store's cursor names a position (a sort key and a row number, say), which
//! would tell a client about rows it cannot see. The service hands out the store's
//! cursor sealed instead: XChaCha20-Poly1305 under the service's key, with a
//! random nonce, carrying the store cursor and an expiry, and bound (as associated
//! data) to the tenant, the resource type, the filter and the sort. A cursor from
//! another tenant or another query, or one altered by a single bit, does not open:
//! `invalidCursor`. One past its expiry is `expiredCursor`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{AeadCore, KeyInit, XChaCha20Poly1305, XNonce};
use rand::RngCore;
use scimitar_schema::ScimType;
use scimitar_store::Query;

use crate::error::ScimError;

/// How long a cursor is valid by default, also advertised as
/// `pagination.cursorTimeout`.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3600);

const NONCE_BYTES: usize = 24;

/// Seals and opens cursors under one key.
#[derive(Clone)]
pub(crate) struct CursorSeal {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for CursorSeal {
    // The key stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorSeal")
    }
}

impl Default for CursorSeal {
    /// A seal with a random key: its cursors are good in this process only.
    fn default() -> Self {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        CursorSeal::new(&key)
    }
}

/// What a cursor is bound to: the tenant, the resource type, and the query's
/// filter and sort in canonical form.
pub(crate) fn binding(tenant: &str, resource_type: &str, query: &Query) -> Vec<u8> {
    let filter = query.filter.as_ref().map(ToString::to_string);
    let sort = query.sort_by.as_ref().map(ToString::to_string);
    // Newlines cannot occur in a tenant id, a resource type name or a canonical
    // filter outside its string literals, which Display escapes.
    format!(
        "{tenant}\n{resource_type}\n{}\n{}\n{:?}",
        filter.unwrap_or_default(),
        sort.unwrap_or_default(),
        query.sort_order
    )
    .into_bytes()
}

impl CursorSeal {
    /// A seal with this key; servers sharing a database must share it.
    pub(crate) fn new(key: &[u8; 32]) -> Self {
        CursorSeal {
            cipher: XChaCha20Poly1305::new(key.into()),
        }
    }

    /// The store's `cursor`, sealed for the query `binding` until `timeout` from
    /// now.
    pub(crate) fn seal(&self, cursor: &str, binding: &[u8], timeout: Duration) -> String {
        let expires = unix_seconds(SystemTime::now() + timeout);
        let mut plain = expires.to_be_bytes().to_vec();
        plain.extend_from_slice(cursor.as_bytes());
        let nonce = XChaCha20Poly1305::generate_nonce(&mut chacha20poly1305::aead::OsRng);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: &plain,
                    aad: binding,
                },
            )
            // Encryption fails only for messages over 256 GiB.
            .unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The store cursor inside `sealed`, if it was sealed by this key for the query
    /// `binding` and has not expired.
    ///
    /// # Errors
    /// `invalidCursor` when it does not open; `expiredCursor` past its expiry.
    pub(crate) fn open(&self, sealed: &str, binding: &[u8]) -> Result<String, ScimError> {
        let invalid = || {
            ScimError::bad_request(
                ScimType::InvalidCursor,
                "the cursor is not one this server gave for this query",
            )
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(sealed.trim())
            .map_err(|_| invalid())?;
        if bytes.len() < NONCE_BYTES {
            return Err(invalid());
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let plain = self
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: binding,
                },
            )
            .map_err(|_| invalid())?;
        let (expires, cursor) = plain.split_at_checked(8).ok_or_else(invalid)?;
        let expires = u64::from_be_bytes(expires.try_into().map_err(|_| invalid())?);
        if unix_seconds(SystemTime::now()) >= expires {
            return Err(ScimError::bad_request(
                ScimType::ExpiredCursor,
                "the cursor has expired: start again from the first page",
            ));
        }
        String::from_utf8(cursor.to_vec()).map_err(|_| invalid())
    }
}

fn unix_seconds(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scim_type(result: Result<String, ScimError>) -> Option<ScimType> {
        result.err().and_then(|error| error.scim_type())
    }

    #[test]
    fn a_cursor_opens_for_its_own_query_only() {
        let seal = CursorSeal::new(&[7; 32]);
        let query =
            Query::default().filter(scimitar_filter::parse_filter("userName sw \"a\"").unwrap());
        let here = binding("acme", "User", &query);
        let sealed = seal.seal("{\"pk\":12345}", &here, DEFAULT_TIMEOUT);
        assert!(!sealed.contains("12345"));
        assert_eq!(seal.open(&sealed, &here).unwrap(), "{\"pk\":12345}");

        let elsewhere = [
            binding("other", "User", &query),
            binding("acme", "Group", &query),
            binding("acme", "User", &Query::default()),
            binding(
                "acme",
                "User",
                &query.clone().sort(
                    scimitar_filter::parse_attr_path("userName").unwrap(),
                    Default::default(),
                ),
            ),
        ];
        for binding in elsewhere {
            assert_eq!(
                scim_type(seal.open(&sealed, &binding)),
                Some(ScimType::InvalidCursor)
            );
        }
        let other_key = CursorSeal::new(&[8; 32]);
        assert_eq!(
            scim_type(other_key.open(&sealed, &here)),
            Some(ScimType::InvalidCursor)
        );
        // One flipped character anywhere.
        let mut flipped = sealed.clone().into_bytes();
        let middle = flipped.len() / 2;
        flipped[middle] = if flipped[middle] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert_eq!(
            scim_type(seal.open(&flipped, &here)),
            Some(ScimType::InvalidCursor)
        );
        for garbage in ["", "garbage", "!!!", "AAAA"] {
            assert_eq!(
                scim_type(seal.open(garbage, &here)),
                Some(ScimType::InvalidCursor)
            );
        }
    }

    #[test]
    fn an_old_cursor_has_expired() {
        let seal = CursorSeal::default();
        let here = binding("acme", "User", &Query::default());
        let sealed = seal.seal("c", &here, Duration::ZERO);
        assert_eq!(
            scim_type(seal.open(&sealed, &here)),
            Some(ScimType::ExpiredCursor)
        );
    }

    #[test]
    fn sealing_twice_gives_different_cursors() {
        let seal = CursorSeal::default();
        let here = binding("acme", "User", &Query::default());
        assert_ne!(
            seal.seal("c", &here, DEFAULT_TIMEOUT),
            seal.seal("c", &here, DEFAULT_TIMEOUT)
        );
    }
}
