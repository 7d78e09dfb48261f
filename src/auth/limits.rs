//! The `[limits]` settings: per-user API rate limits by action, from the config file and from
//! `--rate-limit ACTION=N` flags (or `LIVENOTIFY_RATE_LIMITS`), checked once at startup.

use std::{collections::BTreeMap, num::NonZeroU32};

use serde::Deserialize;

use super::throttle::{Rate, ThrottleLimits};
use crate::api::actions::Action;
use crate::config::ConfigError;

/// The `[limits]` table of the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsFileConfig {
    /// Requests a second per user for actions not listed in `per_second`.
    pub default_per_second: Option<u32>,
    /// Requests a second per user, by action name.
    #[serde(default)]
    pub per_second: BTreeMap<String, u32>,
    /// The most rate-limit buckets held in memory.
    pub max_tracked: Option<usize>,
}

/// The same settings from flags and environment variables, which win over the file.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct LimitsOverrides {
    /// Requests a second per user for one action, as ACTION=N (repeatable), e.g.
    /// DescribeLiveStreamsNotifyRecords=100.
    #[arg(
        long = "rate-limit",
        env = "LIVENOTIFY_RATE_LIMITS",
        value_delimiter = ',',
        value_name = "ACTION=N"
    )]
    pub rate_limits: Vec<String>,
}

/// Layers the flags on the file on the documented defaults.
pub fn resolve(
    file: LimitsFileConfig,
    flags: LimitsOverrides,
) -> Result<ThrottleLimits, ConfigError> {
    let mut limits = ThrottleLimits::default();
    if let Some(n) = file.default_per_second {
        limits.default = rate("limits.default_per_second", n)?;
    }
    if let Some(n) = file.max_tracked {
        if n == 0 {
            return Err(invalid("limits.max_tracked", "must be at least 1".into()));
        }
        limits.max_tracked = n;
    }
    for (action, n) in file.per_second {
        let action = served_action("limits.per_second", &action)?;
        limits
            .per_action
            .insert(action, rate("limits.per_second", n)?);
    }
    for entry in flags.rate_limits {
        let (action, n) = entry
            .split_once('=')
            .and_then(|(a, n)| Some((a.trim(), n.trim().parse::<u32>().ok()?)))
            .filter(|(a, _)| !a.is_empty())
            .ok_or_else(|| invalid("rate-limit", format!("{entry:?} is not ACTION=N")))?;
        let action = served_action("rate-limit", action)?;
        limits.per_action.insert(action, rate("rate-limit", n)?);
    }
    Ok(limits)
}

/// `name` when it is an action livenotify serves: a misspelt one would limit nothing.
fn served_action(key: &'static str, name: &str) -> Result<String, ConfigError> {
    match Action::find(name) {
        Some(action) => Ok(action.name().to_string()),
        None => {
            let served: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
            Err(invalid(
                key,
                format!(
                    "{name:?} is not an action livenotify serves ({})",
                    served.join(", ")
                ),
            ))
        }
    }
}

fn rate(key: &'static str, n: u32) -> Result<Rate, ConfigError> {
    NonZeroU32::new(n)
        .map(Rate::per_second)
        .ok_or_else(|| invalid(key, "a rate must be at least 1 a second".into()))
}

fn invalid(key: &'static str, reason: String) -> ConfigError {
    ConfigError::Invalid { key, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file_and_bad_entries_are_refused() {
        let file = LimitsFileConfig {
            per_second: BTreeMap::from([("SetLiveStreamsNotifyUrlConfig".to_string(), 3)]),
            ..LimitsFileConfig::default()
        };
        let flags = LimitsOverrides {
            rate_limits: vec!["SetLiveStreamsNotifyUrlConfig=5".into()],
        };
        let limits = resolve(file, flags).expect("valid");
        let set = limits.per_action["SetLiveStreamsNotifyUrlConfig"];
        assert_eq!(set.per_second.get(), 5);
        assert_eq!(
            limits.per_action["DescribeLiveStreamsNotifyRecords"]
                .per_second
                .get(),
            100
        );

        for bad in [
            "NoNumber",
            "=5",
            "A=0",
            "A=-1",
            "A=x",
            "DescribeLiveStreamNotifyRecords=1",
            "describelivestreamsnotifyrecords=1",
        ] {
            let flags = LimitsOverrides {
                rate_limits: vec![bad.into()],
            };
            assert!(
                resolve(LimitsFileConfig::default(), flags).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_misspelt_action_in_the_file_is_refused_by_name() {
        let file = LimitsFileConfig {
            per_second: BTreeMap::from([("DescribeLiveStreamNotifyRecords".to_string(), 1)]),
            ..LimitsFileConfig::default()
        };
        let error = resolve(file, LimitsOverrides::default())
            .expect_err("refused")
            .to_string();
        assert!(error.contains("limits.per_second"), "{error}");
        assert!(error.contains("DescribeLiveStreamNotifyRecords"), "{error}");
    }
}
