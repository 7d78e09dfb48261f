//! The delivery worker's settings: the `[delivery]` table of the config file, the matching
//! `serve` flags and `LIVENOTIFY_` variables, and the validated [`DeliveryConfig`].

use std::time::Duration;

use serde::Deserialize;

use super::retry::RetryPolicy;
use crate::config::ConfigError;

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
