//! [`Limits`]: every bound the service enforces, all advertised in
//! `/ServiceProviderConfig`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The bounds a [`ScimService`](crate::ScimService) enforces on requests.
///
/// Each one is advertised in `/ServiceProviderConfig`: the RFC 7643 ones in their
/// standard places (`filter.maxResults`, `bulk.maxOperations`, `bulk.maxPayloadSize`,
/// RFC 9865 `pagination`), the rest under the
/// `urn:scimitar:params:scim:ServiceProviderConfig:limits` extension.
///
/// Loadable from TOML or JSON with every field optional:
///
/// ```
/// let limits: scimitar_actix::Limits = serde_json::from_str(r#"{"max_results": 500}"#).unwrap();
/// assert_eq!(limits.max_results, 500);
/// assert_eq!(limits.default_page_size, 100);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// The largest request body accepted, in bytes (413 above it); also
    /// `bulk.maxPayloadSize`.
    pub max_payload_size: usize,
    /// The most resources one list response returns (`filter.maxResults`): a larger
    /// `count` is lowered to it.
    pub max_results: usize,
    /// The page size when a request gives no `count`.
    pub default_page_size: usize,
    /// The most operations in one `/Bulk` request (413 above it).
    pub max_bulk_operations: usize,
    /// The longest filter accepted, in bytes.
    pub max_filter_length: usize,
    /// The deepest nesting of parentheses and value filters in a filter.
    pub max_filter_depth: usize,
    /// The most comparisons in one filter.
    pub max_filter_terms: usize,
    /// How long a verified bearer token (and its tenant's settings) is trusted
    /// without asking the tenant store again, in seconds. Revoking a token or
    /// disabling a tenant through this process takes effect at once; through another
    /// process (the CLI, another server), within this time.
    pub token_cache_seconds: u64,
    /// Requests per second a tenant may make on average before getting 429; `0`
    /// turns rate limiting off.
    pub rate_limit_per_second: u32,
    /// How many requests a tenant may make in a burst above the average rate.
    pub rate_limit_burst: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_payload_size: 1024 * 1024,
            max_results: 1000,
            default_page_size: 100,
            max_bulk_operations: 1000,
            max_filter_length: 4096,
            max_filter_depth: 16,
            max_filter_terms: 64,
            token_cache_seconds: 60,
            rate_limit_per_second: 0,
            rate_limit_burst: 100,
        }
    }
}

impl Limits {
    /// The parser limits for filters, paths and attribute lists.
    pub(crate) fn parser(&self) -> scimitar_filter::Parser {
        scimitar_filter::Parser::new(scimitar_filter::Limits {
            max_length: self.max_filter_length,
            max_depth: self.max_filter_depth,
            max_terms: self.max_filter_terms,
        })
    }

    /// [`Limits::token_cache_seconds`] as a duration.
    pub(crate) fn token_cache_ttl(&self) -> Duration {
        Duration::from_secs(self.token_cache_seconds)
    }
}
