//! Latency samples and their summary (throughput, percentiles).

use std::time::Duration;

/// Every latency of one scenario, in microseconds. Keeping all of them (4 bytes each)
/// gives exact percentiles: a million requests cost 4 MB.
#[derive(Debug, Default, Clone)]
pub struct Samples {
    micros: Vec<u32>,
    errors: u64,
}

impl Samples {
    /// Records the latency of one request and whether it failed.
    pub fn record(&mut self, latency: Duration, failed: bool) {
        let micros = u32::try_from(latency.as_micros()).unwrap_or(u32::MAX);
        self.micros.push(micros);
        if failed {
            self.errors += 1;
        }
    }

    /// Adds the samples of another worker.
    pub fn merge(&mut self, other: Samples) {
        self.micros.extend(other.micros);
        self.errors += other.errors;
    }

    /// Summarises the samples taken over `elapsed`.
    pub fn summarise(mut self, elapsed: Duration) -> Summary {
        self.micros.sort_unstable();
        let requests = self.micros.len() as u64;
        let seconds = elapsed.as_secs_f64();
        Summary {
            requests,
            errors: self.errors,
            per_second: if seconds > 0.0 {
                requests as f64 / seconds
            } else {
                0.0
            },
            p50: percentile(&self.micros, 50.0),
            p99: percentile(&self.micros, 99.0),
            max: self.micros.last().map_or(Duration::ZERO, |&m| micros(m)),
        }
    }
}

/// The figures of one scenario against one server.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Requests completed (successful or not).
    pub requests: u64,
    /// Requests that failed: non-2xx status or no response.
    pub errors: u64,
    /// Completed requests per second.
    pub per_second: f64,
    /// Median latency.
    pub p50: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
    /// Slowest request.
    pub max: Duration,
}

fn micros(value: u32) -> Duration {
    Duration::from_micros(u64::from(value))
}

/// The nearest-rank percentile of sorted samples (zero when there are none).
fn percentile(sorted: &[u32], percent: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    // Nearest rank: the smallest value with at least `percent`% of samples at or below it.
    let rank = (percent / 100.0 * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len()) - 1;
    sorted.get(index).map_or(Duration::ZERO, |&m| micros(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(values: impl IntoIterator<Item = u64>) -> Samples {
        let mut samples = Samples::default();
        for value in values {
            samples.record(Duration::from_micros(value), false);
        }
        samples
    }

    #[test]
    fn nearest_rank_percentiles() {
        let summary = samples((1..=100).rev()).summarise(Duration::from_secs(2));
        assert_eq!(summary.requests, 100);
        assert_eq!(summary.per_second, 50.0);
        assert_eq!(summary.p50, Duration::from_micros(50));
        assert_eq!(summary.p99, Duration::from_micros(99));
        assert_eq!(summary.max, Duration::from_micros(100));
    }

    #[test]
    fn a_single_sample_is_every_percentile() {
        let summary = samples([7]).summarise(Duration::from_secs(1));
        assert_eq!(
            (summary.p50, summary.p99),
            (Duration::from_micros(7), Duration::from_micros(7))
        );
    }

    #[test]
    fn empty_samples_summarise_to_zero() {
        let summary = Samples::default().summarise(Duration::ZERO);
        assert_eq!(summary.requests, 0);
        assert_eq!(summary.per_second, 0.0);
        assert_eq!(summary.p99, Duration::ZERO);
    }

    #[test]
    fn merge_keeps_errors_and_samples() {
        let mut first = samples([1, 2]);
        let mut second = Samples::default();
        second.record(Duration::from_micros(3), true);
        first.merge(second);
        let summary = first.summarise(Duration::from_secs(1));
        assert_eq!((summary.requests, summary.errors), (3, 1));
        assert_eq!(summary.max, Duration::from_micros(3));
    }

    #[test]
    fn huge_latencies_saturate() {
        let summary = samples([u64::MAX / 2]).summarise(Duration::from_secs(1));
        assert_eq!(summary.max, Duration::from_micros(u64::from(u32::MAX)));
    }
}
