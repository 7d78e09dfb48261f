//! The delivery worker's settings: the `[delivery]` table of the config file, the matching
//! `serve` flags and `LIVENOTIFY_` variables, and the validated [`DeliveryConfig`].

use std::time::Duration;

use serde::Deserialize;

use super::retry::RetryPolicy;
use crate::config::ConfigError;

/// The longest time any delivery setting may name: one day. Longer waits are mistakes, and
/// unbounded ones overflow the arithmetic on instants.
pub const MAX_DELIVERY_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// The `[delivery]` table of the config file; every key is optional.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryFileConfig {
    pub allow_private_targets: Option<bool>,
    pub timeout_ms: Option<u64>,
    pub retry_count: Option<u32>,
    pub retry_delay_ms: Option<u64>,
    pub retry_factor: Option<f64>,
    pub retry_max_delay_ms: Option<u64>,
    pub retry_jitter: Option<f64>,
    pub honour_retry_after: Option<bool>,
    pub concurrency: Option<usize>,
    pub per_domain_concurrency: Option<usize>,
    pub lease_ms: Option<u64>,
    pub poll_interval_ms: Option<u64>,
    pub drain_timeout_ms: Option<u64>,
}

/// The same settings from flags and environment variables, which win over the file.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct DeliveryOverrides {
    /// Deliver callbacks to private, loopback and link-local addresses too.
    #[arg(long, env = "LIVENOTIFY_ALLOW_PRIVATE_TARGETS", num_args = 0..=1,
          default_missing_value = "true", value_name = "BOOL",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub allow_private_targets: Option<bool>,
    /// Timeout of one callback attempt, in milliseconds [default: 5000].
    #[arg(long, env = "LIVENOTIFY_DELIVERY_TIMEOUT_MS", value_name = "MS")]
    pub delivery_timeout_ms: Option<u64>,
    /// Retries after a failed first attempt [default: 5].
    #[arg(long, env = "LIVENOTIFY_RETRY_COUNT", value_name = "N")]
    pub retry_count: Option<u32>,
    /// Wait before the first retry, in milliseconds [default: 1000].
    #[arg(long, env = "LIVENOTIFY_RETRY_DELAY_MS", value_name = "MS")]
    pub retry_delay_ms: Option<u64>,
    /// Each retry waits this many times longer than the last [default: 1].
    #[arg(long, env = "LIVENOTIFY_RETRY_FACTOR", value_name = "X")]
    pub retry_factor: Option<f64>,
    /// Longest wait between attempts, in milliseconds [default: 3600000].
    #[arg(long, env = "LIVENOTIFY_RETRY_MAX_DELAY_MS", value_name = "MS")]
    pub retry_max_delay_ms: Option<u64>,
    /// Fraction (0 to 1) of each wait taken off at random [default: 0].
    #[arg(long, env = "LIVENOTIFY_RETRY_JITTER", value_name = "FRACTION")]
    pub retry_jitter: Option<f64>,
    /// Wait at least as long as a Retry-After answer asks [default: false].
    #[arg(long, env = "LIVENOTIFY_HONOUR_RETRY_AFTER", num_args = 0..=1,
          default_missing_value = "true", value_name = "BOOL",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub honour_retry_after: Option<bool>,
    /// Callbacks in flight at once [default: 256].
    #[arg(long, env = "LIVENOTIFY_DELIVERY_CONCURRENCY", value_name = "N")]
    pub delivery_concurrency: Option<usize>,
    /// Callbacks in flight at once for one ingest domain [default: 16].
    #[arg(long, env = "LIVENOTIFY_DELIVERY_PER_DOMAIN", value_name = "N")]
    pub delivery_per_domain: Option<usize>,
    /// How long a claimed delivery stays leased before another worker may take it, in
    /// milliseconds [default: 30000].
    #[arg(long, env = "LIVENOTIFY_DELIVERY_LEASE_MS", value_name = "MS")]
    pub delivery_lease_ms: Option<u64>,
}

/// The delivery worker's validated settings.
#[derive(Clone, Debug)]
pub struct DeliveryConfig {
    pub allow_private_targets: bool,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub concurrency: usize,
    pub per_domain_concurrency: usize,
    pub lease: Duration,
    pub poll_interval: Duration,
    pub drain_timeout: Duration,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            allow_private_targets: false,
            timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            concurrency: 256,
            per_domain_concurrency: 16,
            lease: Duration::from_secs(30),
            poll_interval: Duration::from_millis(500),
            drain_timeout: Duration::from_secs(10),
        }
    }
}

impl DeliveryConfig {
    /// Layers `flags` on `file` on the defaults and checks the result.
    pub fn resolve(
        file: DeliveryFileConfig,
        flags: DeliveryOverrides,
    ) -> Result<Self, ConfigError> {
        let d = Self::default();
        let ms = |value: Option<u64>, default: Duration| {
            value.map(Duration::from_millis).unwrap_or(default)
        };
        let retry = RetryPolicy {
            retries: flags
                .retry_count
                .or(file.retry_count)
                .unwrap_or(d.retry.retries),
            delay: ms(flags.retry_delay_ms.or(file.retry_delay_ms), d.retry.delay),
            factor: flags
                .retry_factor
                .or(file.retry_factor)
                .unwrap_or(d.retry.factor),
            max_delay: ms(
                flags.retry_max_delay_ms.or(file.retry_max_delay_ms),
                d.retry.max_delay,
            ),
            jitter: flags
                .retry_jitter
                .or(file.retry_jitter)
                .unwrap_or(d.retry.jitter),
            honour_retry_after: flags
                .honour_retry_after
                .or(file.honour_retry_after)
                .unwrap_or(d.retry.honour_retry_after),
        };
        let config = Self {
            allow_private_targets: flags
                .allow_private_targets
                .or(file.allow_private_targets)
                .unwrap_or(d.allow_private_targets),
            timeout: ms(flags.delivery_timeout_ms.or(file.timeout_ms), d.timeout),
            retry,
            concurrency: flags
                .delivery_concurrency
                .or(file.concurrency)
                .unwrap_or(d.concurrency),
            per_domain_concurrency: flags
                .delivery_per_domain
                .or(file.per_domain_concurrency)
                .unwrap_or(d.per_domain_concurrency),
            lease: ms(flags.delivery_lease_ms.or(file.lease_ms), d.lease),
            poll_interval: ms(file.poll_interval_ms, d.poll_interval),
            drain_timeout: ms(file.drain_timeout_ms, d.drain_timeout),
        };
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, reason: &str| {
            Err(ConfigError::Invalid {
                key,
                reason: reason.to_string(),
            })
        };
        let waits = [
            ("delivery.timeout_ms", self.timeout),
            ("delivery.retry_delay_ms", self.retry.delay),
            ("delivery.retry_max_delay_ms", self.retry.max_delay),
            ("delivery.lease_ms", self.lease),
            ("delivery.poll_interval_ms", self.poll_interval),
            ("delivery.drain_timeout_ms", self.drain_timeout),
        ];
        if let Some(&(key, _)) = waits.iter().find(|(_, wait)| *wait > MAX_DELIVERY_WAIT) {
            return invalid(key, "must be at most 86400000 (one day)");
        }
        if self.timeout.is_zero() {
            return invalid("delivery.timeout_ms", "must be at least 1");
        }
        if self.concurrency == 0 || self.per_domain_concurrency == 0 {
            return invalid(
                "delivery.concurrency",
                "concurrency limits must be at least 1",
            );
        }
        if self.lease <= self.timeout + Duration::from_secs(1) {
            return invalid(
                "delivery.lease_ms",
                "must exceed the timeout by more than 1 s",
            );
        }
        if !(self.retry.factor.is_finite() && self.retry.factor >= 1.0) {
            return invalid("delivery.retry_factor", "must be a number of at least 1");
        }
        if !(0.0..=1.0).contains(&self.retry.jitter) {
            return invalid("delivery.retry_jitter", "must be between 0 and 1");
        }
        if self.poll_interval.is_zero() {
            return invalid("delivery.poll_interval_ms", "must be at least 1");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file_and_the_file_over_the_defaults() {
        let file = DeliveryFileConfig {
            retry_count: Some(2),
            retry_delay_ms: Some(200),
            ..DeliveryFileConfig::default()
        };
        let flags = DeliveryOverrides {
            retry_count: Some(3),
            ..DeliveryOverrides::default()
        };
        let config = DeliveryConfig::resolve(file, flags).expect("valid");

        assert_eq!(config.retry.retries, 3);
        assert_eq!(config.retry.delay, Duration::from_millis(200));
        assert_eq!(config.timeout, Duration::from_secs(5));
        assert!(!config.allow_private_targets);
    }

    /// A setting's key, and how to set it in the flags or in the file.
    type SetFlag = (&'static str, fn(&mut DeliveryOverrides, u64));
    type SetFileKey = (&'static str, fn(&mut DeliveryFileConfig, u64));

    fn refused_key(file: DeliveryFileConfig, flags: DeliveryOverrides) -> Option<&'static str> {
        match DeliveryConfig::resolve(file, flags) {
            Err(ConfigError::Invalid { key, .. }) => Some(key),
            _ => None,
        }
    }

    #[test]
    fn waits_longer_than_a_day_are_refused_naming_the_setting() {
        let day_ms = 86_400_000;
        let flag_cases: [SetFlag; 4] = [
            ("delivery.lease_ms", |f, ms| f.delivery_lease_ms = Some(ms)),
            ("delivery.retry_delay_ms", |f, ms| {
                f.retry_delay_ms = Some(ms)
            }),
            ("delivery.retry_max_delay_ms", |f, ms| {
                f.retry_max_delay_ms = Some(ms)
            }),
            ("delivery.timeout_ms", |f, ms| {
                f.delivery_timeout_ms = Some(ms)
            }),
        ];
        for (key, set) in flag_cases {
            for ms in [day_ms + 1, u64::MAX] {
                let mut flags = DeliveryOverrides::default();
                set(&mut flags, ms);
                let refused = refused_key(DeliveryFileConfig::default(), flags);
                assert_eq!(refused, Some(key), "{key} = {ms}");
            }
        }

        let file_cases: [SetFileKey; 2] = [
            ("delivery.poll_interval_ms", |f, ms| {
                f.poll_interval_ms = Some(ms)
            }),
            ("delivery.drain_timeout_ms", |f, ms| {
                f.drain_timeout_ms = Some(ms)
            }),
        ];
        for (key, set) in file_cases {
            let mut file = DeliveryFileConfig::default();
            set(&mut file, u64::MAX);
            let refused = refused_key(file, DeliveryOverrides::default());
            assert_eq!(refused, Some(key), "{key}");
        }
    }

    #[test]
    fn waits_of_exactly_a_day_are_accepted() {
        let day_ms = 86_400_000;
        let flags = DeliveryOverrides {
            delivery_lease_ms: Some(day_ms),
            retry_delay_ms: Some(day_ms),
            retry_max_delay_ms: Some(day_ms),
            delivery_timeout_ms: Some(day_ms - 2_000),
            ..DeliveryOverrides::default()
        };
        let config = DeliveryConfig::resolve(DeliveryFileConfig::default(), flags).expect("valid");

        assert_eq!(config.lease, MAX_DELIVERY_WAIT);
        assert_eq!(config.retry.max_delay, MAX_DELIVERY_WAIT);
    }

    #[test]
    fn a_lease_shorter_than_an_attempt_is_refused() {
        let flags = DeliveryOverrides {
            delivery_lease_ms: Some(5000),
            ..Default::default()
        };
        let outcome = DeliveryConfig::resolve(DeliveryFileConfig::default(), flags);

        assert!(matches!(
            outcome,
            Err(ConfigError::Invalid {
                key: "delivery.lease_ms",
                ..
            })
        ));
    }
}
