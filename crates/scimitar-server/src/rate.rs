//! Per-tenant rate limiting: a token bucket per tenant, answered with 429 and
//! `Retry-After` when empty (Entra ID honours both).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use crate::settings::RateLimit;

use scimitar_protocol::ScimError;

use crate::limits::AuthLimits;

/// Token buckets by tenant id, each at its tenant's rate (`settings.rateLimit`)
/// or the service's; inert at rate 0.
pub(crate) struct RateLimiter {
    service: RateLimit,
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    pub(crate) fn new(limits: &AuthLimits) -> Self {
        RateLimiter {
            service: RateLimit {
                per_second: limits.rate_limit_per_second,
                burst: limits.rate_limit_burst,
            },
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `tenant`'s bucket, filled at the tenant's `limit`
    /// (the service's when `None`), or says when to come back.
    pub(crate) fn check(&self, tenant: &str, limit: Option<RateLimit>) -> Result<(), ScimError> {
        self.check_at(tenant, limit, Instant::now())
    }

    fn check_at(
        &self,
        tenant: &str,
        limit: Option<RateLimit>,
        now: Instant,
    ) -> Result<(), ScimError> {
        let limit = limit.unwrap_or(self.service);
        if limit.per_second == 0 {
            return Ok(());
        }
        let per_second = f64::from(limit.per_second);
        let burst = f64::from(limit.burst.max(1));
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let bucket = buckets.entry(tenant.to_owned()).or_insert(Bucket {
            tokens: burst,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let wait = (1.0 - bucket.tokens) / per_second;
        Err(ScimError::TooManyRequests {
            // Whole seconds, at least one: Retry-After takes no fractions.
            retry_after: wait.ceil().max(1.0) as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limiter(per_second: u32, burst: u32) -> RateLimiter {
        RateLimiter::new(&AuthLimits {
            rate_limit_per_second: per_second,
            rate_limit_burst: burst,
            ..AuthLimits::default()
        })
    }

    #[test]
    fn off_by_default() {
        let limiter = limiter(0, 1);
        let now = Instant::now();
        assert!((0..1000).all(|_| limiter.check_at("t", None, now).is_ok()));
    }

    #[test]
    fn burst_then_refill_per_tenant() {
        let limiter = limiter(2, 3);
        let start = Instant::now();
        assert!((0..3).all(|_| limiter.check_at("a", None, start).is_ok()));
        assert!(matches!(
            limiter.check_at("a", None, start),
            Err(ScimError::TooManyRequests { retry_after: 1 })
        ));
        assert!(
            limiter.check_at("b", None, start).is_ok(),
            "buckets are per tenant"
        );
        let later = start + Duration::from_millis(500);
        assert!(limiter.check_at("a", None, later).is_ok());
        assert!(limiter.check_at("a", None, later).is_err());
    }

    #[test]
    fn a_tenant_limit_overrides_the_service_limit() {
        let limiter = limiter(0, 1);
        let now = Instant::now();
        let tenant = Some(RateLimit {
            per_second: 1,
            burst: 2,
        });
        assert!(limiter.check_at("a", tenant, now).is_ok());
        assert!(limiter.check_at("a", tenant, now).is_ok());
        assert!(matches!(
            limiter.check_at("a", tenant, now),
            Err(ScimError::TooManyRequests { retry_after: 1 })
        ));
        assert!(limiter.check_at("b", None, now).is_ok(), "others unlimited");
        let off = Some(RateLimit {
            per_second: 0,
            burst: 0,
        });
        assert!(limiter.check_at("a", off, now).is_ok(), "0 turns it off");
    }
}
