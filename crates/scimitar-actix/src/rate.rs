//! Per-tenant rate limiting: a token bucket per tenant, answered with 429 and
//! `Retry-After` when empty (Entra ID honours both).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use crate::error::ScimError;
use crate::Limits;

/// Token buckets by tenant id; inert when the rate is 0.
pub(crate) struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    pub(crate) fn new(limits: &Limits) -> Self {
        RateLimiter {
            per_second: f64::from(limits.rate_limit_per_second),
            burst: f64::from(limits.rate_limit_burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `tenant`'s bucket, or says when to come back.
    pub(crate) fn check(&self, tenant: &str) -> Result<(), ScimError> {
        self.check_at(tenant, Instant::now())
    }

    fn check_at(&self, tenant: &str, now: Instant) -> Result<(), ScimError> {
        if self.per_second <= 0.0 {
            return Ok(());
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let bucket = buckets.entry(tenant.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(self.burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let wait = (1.0 - bucket.tokens) / self.per_second;
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
        RateLimiter::new(&Limits {
            rate_limit_per_second: per_second,
            rate_limit_burst: burst,
            ..Limits::default()
        })
    }

    #[test]
    fn off_by_default() {
        let limiter = limiter(0, 1);
        let now = Instant::now();
        assert!((0..1000).all(|_| limiter.check_at("t", now).is_ok()));
    }

    #[test]
    fn burst_then_refill_per_tenant() {
        let limiter = limiter(2, 3);
        let start = Instant::now();
        assert!((0..3).all(|_| limiter.check_at("a", start).is_ok()));
        assert!(matches!(
            limiter.check_at("a", start),
            Err(ScimError::TooManyRequests { retry_after: 1 })
        ));
        assert!(
            limiter.check_at("b", start).is_ok(),
            "buckets are per tenant"
        );
        let later = start + Duration::from_millis(500);
        assert!(limiter.check_at("a", later).is_ok());
        assert!(limiter.check_at("a", later).is_err());
    }
}
