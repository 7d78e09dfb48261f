//! Runtime configuration: built-in defaults, then an optional TOML file, then `LIVENOTIFY_`
//! environment variables, then command-line flags. Validated once, at startup, into
//! [`ServeConfig`].

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use serde::Deserialize;

use crate::auth::limits::{LimitsFileConfig, LimitsOverrides};
use crate::auth::throttle::ThrottleLimits;
use crate::delivery::{DeliveryConfig, DeliveryFileConfig, DeliveryOverrides};
use crate::ingest::{HookFileConfig, HookOverrides, IngestConfig};
use crate::server::ConnectionLimits;
use crate::storage::{DatabaseUrl, StoreLocation};

/// Where the embedded store lives when nothing else is said.
pub const DEFAULT_DATA_DIR: &str = "./livenotify-data";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_RETENTION_DAYS: u32 = 7;
/// Time a client has to send a request head, in milliseconds.
pub const DEFAULT_HEADER_READ_TIMEOUT_MS: u64 = 10_000;
/// Connections the listener holds open at once.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 4_096;
/// The longest `header_read_timeout_ms` accepted: one day.
const MAX_HEADER_READ_TIMEOUT_MS: u64 = 86_400_000;
/// The most `max_connections` accepted; each connection holds a file descriptor.
const MAX_MAX_CONNECTIONS: u32 = 1_000_000;

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("config file {path} is not valid")]
    Parse {
        path: PathBuf,
        #[source]
        source: Box<toml::de::Error>,
    },
    #[error("{key} is invalid: {reason}")]
    Invalid { key: &'static str, reason: String },
}

/// The TOML file's shape; every key is optional and unknown keys are refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    /// A `postgres://` URL: the shared store instead of SQLite in the data directory.
    pub database_url: Option<DatabaseUrl>,
    pub listen: Option<String>,
    pub retention_days: Option<u32>,
    pub header_read_timeout_ms: Option<u64>,
    pub max_connections: Option<u32>,
    /// The `[hooks]` table.
    #[serde(default)]
    pub hooks: HookFileConfig,
    /// The `[delivery]` table.
    #[serde(default)]
    pub delivery: DeliveryFileConfig,
    /// The `[limits]` table.
    #[serde(default)]
    pub limits: LimitsFileConfig,
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_path_buf(),
            source: Box::new(source),
        })
    }
}

/// Values given on the command line or in the environment (clap reads both).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<DatabaseUrl>,
    pub listen: Option<String>,
    pub retention_days: Option<u32>,
    pub header_read_timeout_ms: Option<u64>,
    pub max_connections: Option<u32>,
    pub hooks: HookOverrides,
    pub delivery: DeliveryOverrides,
    pub limits: LimitsOverrides,
}

/// The validated configuration of `livenotify serve`.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub data_dir: PathBuf,
    /// PostgreSQL instead of the SQLite file in `data_dir`.
    pub database: Option<DatabaseUrl>,
    pub listen: SocketAddr,
    pub retention_days: u32,
    /// The listener's header timeout and connection limit.
    pub connections: ConnectionLimits,
    pub hooks: IngestConfig,
    pub delivery: DeliveryConfig,
    pub limits: ThrottleLimits,
}

impl ServeConfig {
    /// Layers the overrides on the file on the defaults, and checks the result.
    pub fn resolve(file: FileConfig, overrides: Overrides) -> Result<Self, ConfigError> {
        let connections = connection_limits(&file, &overrides)?;
        let data_dir = overrides
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let listen = overrides
            .listen
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_string());
        let listen = listen.parse().map_err(|_| ConfigError::Invalid {
            key: "listen",
            reason: format!("{listen:?} is not an address such as 127.0.0.1:8080"),
        })?;
        let retention_days = overrides
            .retention_days
            .or(file.retention_days)
            .unwrap_or(DEFAULT_RETENTION_DAYS);
        if retention_days == 0 {
            return Err(ConfigError::Invalid {
                key: "retention_days",
                reason: "must be at least 1".into(),
            });
        }
        let database = overrides.database_url.or(file.database_url);
        Ok(Self {
            data_dir,
            database,
            listen,
            retention_days,
            connections,
            hooks: IngestConfig::resolve(file.hooks, overrides.hooks)?,
            delivery: DeliveryConfig::resolve(file.delivery, overrides.delivery)?,
            limits: crate::auth::limits::resolve(file.limits, overrides.limits)?,
        })
    }
}

/// The listener's bounds, from the overrides, the file and the defaults.
fn connection_limits(
    file: &FileConfig,
    overrides: &Overrides,
) -> Result<ConnectionLimits, ConfigError> {
    let timeout_ms = overrides
        .header_read_timeout_ms
        .or(file.header_read_timeout_ms)
        .unwrap_or(DEFAULT_HEADER_READ_TIMEOUT_MS);
    if !(1..=MAX_HEADER_READ_TIMEOUT_MS).contains(&timeout_ms) {
        return Err(ConfigError::Invalid {
            key: "header_read_timeout_ms",
            reason: format!("must be from 1 to {MAX_HEADER_READ_TIMEOUT_MS} (one day)"),
        });
    }
    let max_connections = overrides
        .max_connections
        .or(file.max_connections)
        .unwrap_or(DEFAULT_MAX_CONNECTIONS);
    if !(1..=MAX_MAX_CONNECTIONS).contains(&max_connections) {
        return Err(ConfigError::Invalid {
            key: "max_connections",
            reason: format!("must be from 1 to {MAX_MAX_CONNECTIONS}"),
        });
    }
    Ok(ConnectionLimits {
        header_read_timeout: std::time::Duration::from_millis(timeout_ms),
        max_connections,
    })
}

impl ServeConfig {
    /// Where the store lives: PostgreSQL when a database URL is set, else the data directory.
    pub fn store_location(&self) -> StoreLocation {
        StoreLocation::new(self.database.clone(), self.data_dir.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused_key(file: FileConfig, overrides: Overrides) -> Option<&'static str> {
        match ServeConfig::resolve(file, overrides) {
            Err(ConfigError::Invalid { key, .. }) => Some(key),
            _ => None,
        }
    }

    #[test]
    fn connection_limits_layer_flags_over_the_file_over_the_defaults() {
        let defaults = ServeConfig::resolve(FileConfig::default(), Overrides::default());
        let defaults = defaults.expect("valid").connections;
        assert_eq!(defaults.header_read_timeout.as_millis(), 10_000);
        assert_eq!(defaults.max_connections, DEFAULT_MAX_CONNECTIONS);

        let file = FileConfig {
            header_read_timeout_ms: Some(2_000),
            max_connections: Some(100),
            ..FileConfig::default()
        };
        let overrides = Overrides {
            header_read_timeout_ms: Some(500),
            ..Overrides::default()
        };
        let limits = ServeConfig::resolve(file, overrides)
            .expect("valid")
            .connections;
        assert_eq!(limits.header_read_timeout.as_millis(), 500);
        assert_eq!(limits.max_connections, 100);
    }

    #[test]
    fn connection_limits_out_of_range_are_refused_naming_the_setting() {
        for timeout in [0, MAX_HEADER_READ_TIMEOUT_MS + 1, u64::MAX] {
            let overrides = Overrides {
                header_read_timeout_ms: Some(timeout),
                ..Overrides::default()
            };
            assert_eq!(
                refused_key(FileConfig::default(), overrides),
                Some("header_read_timeout_ms"),
                "{timeout}"
            );
        }
        for max in [0, MAX_MAX_CONNECTIONS + 1, u32::MAX] {
            let file = FileConfig {
                max_connections: Some(max),
                ..FileConfig::default()
            };
            assert_eq!(
                refused_key(file, Overrides::default()),
                Some("max_connections"),
                "{max}"
            );
        }
    }
}
