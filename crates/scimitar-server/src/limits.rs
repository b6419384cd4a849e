//! [`AuthLimits`]: the bounds of the server's authenticator, beside the
//! protocol's [`Limits`](scimitar_protocol::Limits).

use serde::{Deserialize, Serialize};

/// How long verified tokens are trusted, and how fast each tenant may call.
///
/// Loadable from TOML or JSON with every field optional; the server's `[limits]`
/// table holds these keys beside the protocol's ([`AuthLimits::KEYS`]).
///
/// ```
/// let limits: scimitar_server::AuthLimits =
///     serde_json::from_str(r#"{"rate_limit_per_second": 20}"#).unwrap();
/// assert_eq!(limits.rate_limit_burst, 100);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthLimits {
    /// How long a verified bearer token (and its tenant's settings) is trusted
    /// without asking the tenant store again, in seconds, if the tenant directory
    /// does not change first: a revocation or a tenant change made here takes
    /// effect at once, one made by another process (the CLI, another server)
    /// within a second, whatever this is.
    pub token_cache_seconds: u64,
    /// Requests per second a tenant may make on average before getting 429; `0`
    /// turns rate limiting off. A tenant's `settings.rateLimit` overrides it.
    pub rate_limit_per_second: u32,
    /// How many requests a tenant may make in a burst above the average rate.
    pub rate_limit_burst: u32,
}

impl AuthLimits {
    /// The keys of these limits, to tell them from the protocol's in one table.
    pub const KEYS: [&'static str; 3] = [
        "token_cache_seconds",
        "rate_limit_per_second",
        "rate_limit_burst",
    ];
}

impl Default for AuthLimits {
    fn default() -> Self {
        AuthLimits {
            token_cache_seconds: 60,
            rate_limit_per_second: 0,
            rate_limit_burst: 100,
        }
    }
}
