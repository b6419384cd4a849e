//! [`Limits`]: every bound the service enforces.

use serde::{Deserialize, Serialize};

/// The bounds a [`ScimEngine`](crate::ScimEngine) enforces on requests.
///
/// Those RFC 7643 and RFC 9865 have a place for are advertised in
/// `/ServiceProviderConfig` (`filter.maxResults`, `bulk.maxOperations`,
/// `bulk.maxPayloadSize`, `pagination`); the others are documented here and in the
/// crate's README, since strict clients refuse fields RFC 7643 does not define.
///
/// Loadable from TOML or JSON with every field optional:
///
/// ```
/// let limits: scimitar_protocol::Limits = serde_json::from_str(r#"{"max_results": 500}"#).unwrap();
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
    /// The longest request target (path and query string) accepted, in bytes
    /// (414 above it). The HTTP parser itself refuses targets over 64 KiB with an
    /// empty 400.
    pub max_url_length: usize,
    /// The most bytes of header names and values a request may carry (431 above
    /// it). The HTTP parser itself refuses heads over 128 KiB, or with more than
    /// 96 headers, with an empty 431 or 400.
    pub max_header_bytes: usize,
    /// How long a cursor (RFC 9865) stays valid, in seconds
    /// (`pagination.cursorTimeout`); an older one is 400 `expiredCursor`.
    pub cursor_timeout_seconds: u64,
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
            max_url_length: 8 * 1024,
            max_header_bytes: 16 * 1024,
            cursor_timeout_seconds: crate::cursor::DEFAULT_TIMEOUT.as_secs(),
        }
    }
}

impl Limits {
    /// The parser limits for filters, paths and attribute lists.
    pub fn parser(&self) -> scimitar_filter::Parser {
        scimitar_filter::Parser::new(scimitar_filter::Limits {
            max_length: self.max_filter_length,
            max_depth: self.max_filter_depth,
            max_terms: self.max_filter_terms,
        })
    }

    /// Checks the request's target and headers against
    /// [`Limits::max_url_length`] and [`Limits::max_header_bytes`]; only lengths
    /// are read.
    pub(crate) fn check_head(&self, req: &http::request::Parts) -> Result<(), crate::ScimError> {
        let length = req
            .uri
            .path_and_query()
            .map_or(0, |target| target.as_str().len());
        if length > self.max_url_length {
            return Err(crate::ScimError::UriTooLong {
                length,
                limit: self.max_url_length,
            });
        }
        let length = req
            .headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum();
        if length > self.max_header_bytes {
            return Err(crate::ScimError::HeadersTooLarge {
                length,
                limit: self.max_header_bytes,
            });
        }
        Ok(())
    }
}
