//! The retry schedule: how many times a failed callback is tried again and how long to wait
//! before each retry. The default is Alibaba's: 5 retries, 1 s apart.

use std::time::Duration;

use time::OffsetDateTime;

/// When to try a failed callback again.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (so `retries + 1` attempts in all).
    pub retries: u32,
    /// The wait before the first retry.
    pub delay: Duration,
    /// Each further retry waits `factor` times longer than the one before (1 = constant).
    pub factor: f64,
    /// No wait is longer than this, Retry-After included.
    pub max_delay: Duration,
    /// Up to this fraction (0 to 1) of each wait is taken off at random, so that callbacks that
    /// failed together do not all retry at the same instant.
    pub jitter: f64,
    /// Wait at least as long as a `Retry-After` answer asks (capped by `max_delay`).
    pub honour_retry_after: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            retries: 5,
            delay: Duration::from_secs(1),
            factor: 1.0,
            max_delay: Duration::from_secs(3600),
            jitter: 0.0,
            honour_retry_after: false,
        }
    }
}

impl RetryPolicy {
    /// The wait before retrying after attempt number `attempt` (1-based) failed, or `None` when
    /// that was the last one. `sample` is a random number in `[0, 1)` for the jitter.
    pub fn next_delay(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        sample: f64,
    ) -> Option<Duration> {
        if attempt > self.retries {
            return None;
        }
        let exponent = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
        let scaled = self.delay.as_secs_f64() * self.factor.powi(exponent);
        let capped = scaled.min(self.max_delay.as_secs_f64());
        let jittered = capped * (1.0 - self.jitter * sample.clamp(0.0, 1.0));
        let mut delay = Duration::try_from_secs_f64(jittered).unwrap_or(self.max_delay);

        if let Some(asked) = retry_after.filter(|_| self.honour_retry_after) {
            delay = delay.max(asked.min(self.max_delay));
        }
        Some(delay)
    }
}

/// Reads a `Retry-After` value: a number of seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: OffsetDateTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let then = OffsetDateTime::from(httpdate::parse_http_date(value).ok()?);
    let wait = then - now;
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: f64) -> Duration {
        Duration::from_secs_f64(n)
    }

    #[test]
    fn the_default_is_five_retries_one_second_apart() {
        let policy = RetryPolicy::default();
        let delays: Vec<_> = (1..=6).map(|n| policy.next_delay(n, None, 0.5)).collect();

        assert_eq!(delays[..5], [Some(secs(1.0)); 5]);
        assert_eq!(delays[5], None);
    }

    #[test]
    fn an_exponential_schedule_grows_and_stops_at_the_cap() {
        let policy = RetryPolicy {
            retries: 10,
            factor: 2.0,
            max_delay: secs(5.0),
            ..RetryPolicy::default()
        };
        let delays: Vec<_> = (1..=4)
            .filter_map(|n| policy.next_delay(n, None, 0.0))
            .collect();

        assert_eq!(delays, [secs(1.0), secs(2.0), secs(4.0), secs(5.0)]);
    }

    #[test]
    fn jitter_takes_off_at_most_its_fraction() {
        let policy = RetryPolicy {
            jitter: 0.5,
            ..RetryPolicy::default()
        };

        assert_eq!(policy.next_delay(1, None, 0.0), Some(secs(1.0)));
        assert_eq!(policy.next_delay(1, None, 1.0), Some(secs(0.5)));
    }

    #[test]
    fn retry_after_is_honoured_only_when_asked_and_capped() {
        let honour = RetryPolicy {
            honour_retry_after: true,
            max_delay: secs(60.0),
            ..RetryPolicy::default()
        };
        let ignore = RetryPolicy::default();

        assert_eq!(
            honour.next_delay(1, Some(secs(30.0)), 0.0),
            Some(secs(30.0))
        );
        assert_eq!(
            honour.next_delay(1, Some(secs(600.0)), 0.0),
            Some(secs(60.0))
        );
        assert_eq!(ignore.next_delay(1, Some(secs(30.0)), 0.0), Some(secs(1.0)));
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = OffsetDateTime::from_unix_timestamp(784_111_777).expect("valid");

        assert_eq!(parse_retry_after("120", now), Some(secs(120.0)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(secs(10.0))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
