//! Latency samples and their summary: percentiles by rank over the sorted samples, and the
//! rate over the wall time the samples took.

use std::time::Duration;

/// What one measured load came to.
#[derive(Clone, Copy, Debug, Default)]
pub struct Summary {
    pub count: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub per_second: f64,
}

impl Summary {
    /// Summarises `samples` taken over `wall` time.
    pub fn of(mut samples: Vec<Duration>, wall: Duration) -> Self {
        samples.sort_unstable();
        let secs = wall.as_secs_f64();
        Self {
            count: samples.len(),
            p50: percentile(&samples, 0.50),
            p99: percentile(&samples, 0.99),
            per_second: if secs > 0.0 {
                samples.len() as f64 / secs
            } else {
                0.0
            },
        }
    }
}

/// The nearest-rank percentile of sorted samples (zero when there are none).
fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Milliseconds with two decimals, as the tables show them.
pub fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// A whole number with thin grouping, such as `10 000 000`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let samples = (1..=100).map(Duration::from_millis).collect();
        let s = Summary::of(samples, Duration::from_secs(1));
        assert_eq!(s.p50, Duration::from_millis(50));
        assert_eq!(s.p99, Duration::from_millis(99));
        assert_eq!(s.per_second, 100.0);
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(count(10_000_000), "10 000 000");
        assert_eq!(count(999), "999");
    }
}
