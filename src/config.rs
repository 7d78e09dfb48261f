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
use crate::storage::{DatabaseUrl, StoreLocation};

/// Where the embedded store lives when nothing else is said.
pub const DEFAULT_DATA_DIR: &str = "./livenotify-data";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_RETENTION_DAYS: u32 = 7;

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
    pub hooks: IngestConfig,
    pub delivery: DeliveryConfig,
    pub limits: ThrottleLimits,
}

impl ServeConfig {
    /// Layers the overrides on the file on the defaults, and checks the result.
    pub fn resolve(file: FileConfig, overrides: Overrides) -> Result<Self, ConfigError> {
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
            hooks: IngestConfig::resolve(file.hooks, overrides.hooks)?,
            delivery: DeliveryConfig::resolve(file.delivery, overrides.delivery)?,
            limits: crate::auth::limits::resolve(file.limits, overrides.limits)?,
        })
    }
}

impl ServeConfig {
    /// Where the store lives: PostgreSQL when a database URL is set, else the data directory.
    pub fn store_location(&self) -> StoreLocation {
        StoreLocation::new(self.database.clone(), self.data_dir.clone())
    }
}
