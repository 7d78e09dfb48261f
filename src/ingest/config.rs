//! The hooks' settings: the `[hooks]` table of the config file, the matching `serve` flags and
//! `LIVENOTIFY_` variables, and the validated [`IngestConfig`].

use std::fmt;

use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::config::ConfigError;

/// The `[hooks]` table of the config file.
#[derive(Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HookFileConfig {
    pub token: Option<String>,
    pub node_name: Option<String>,
}

impl fmt::Debug for HookFileConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HookFileConfig")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("node_name", &self.node_name)
            .finish()
    }
}

/// The same settings from flags and environment variables, which win over the file.
#[derive(Default, Clone, clap::Args)]
pub struct HookOverrides {
    /// Shared token the hooks require, as `?token=` or `Authorization: Bearer`.
    #[arg(
        long,
        env = "LIVENOTIFY_HOOK_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub hook_token: Option<String>,
    /// The `node` of every callback: the name of this ingest node [default: the host name].
    #[arg(long, env = "LIVENOTIFY_NODE_NAME", value_name = "NAME")]
    pub node_name: Option<String>,
}

impl fmt::Debug for HookOverrides {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HookOverrides")
            .field(
                "hook_token",
                &self.hook_token.as_ref().map(|_| "<redacted>"),
            )
            .field("node_name", &self.node_name)
            .finish()
    }
}

/// The shared secret hooks must present. Compared in constant time; never printed.
#[derive(Clone)]
pub struct HookToken(String);

impl HookToken {
    pub fn new(token: String) -> Self {
        Self(token)
    }

    pub fn matches(&self, given: &str) -> bool {
        self.0.as_bytes().ct_eq(given.as_bytes()).into()
    }
}

impl fmt::Debug for HookToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HookToken(<redacted>)")
    }
}

/// The hooks' validated settings.
#[derive(Clone, Debug)]
pub struct IngestConfig {
    pub token: Option<HookToken>,
    /// The node name callbacks carry, and the owner name of this process's leases.
    pub node: String,
}

impl IngestConfig {
    /// Layers `flags` on `file` on the defaults and checks the result.
    pub fn resolve(file: HookFileConfig, flags: HookOverrides) -> Result<Self, ConfigError> {
        let token = flags.hook_token.or(file.token).filter(|t| !t.is_empty());
        let node = flags.node_name.or(file.node_name).unwrap_or_else(host_name);
        if node.is_empty() || node.len() > 255 {
            return Err(ConfigError::Invalid {
                key: "hooks.node_name",
                reason: "must be 1 to 255 characters".into(),
            });
        }
        Ok(Self {
            token: token.map(HookToken::new),
            node,
        })
    }
}

/// This machine's host name, or `livenotify` when it cannot be read.
pub fn host_name() -> String {
    let from_file = |path: &str| std::fs::read_to_string(path).ok();
    from_file("/proc/sys/kernel/hostname")
        .or_else(|| from_file("/etc/hostname"))
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "livenotify".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_matches_only_itself_and_never_prints() {
        let token = HookToken::new("s3cret".into());

        assert!(token.matches("s3cret"));
        assert!(!token.matches("s3cre"));
        assert!(!format!("{token:?}").contains("s3cret"));
    }

    #[test]
    fn the_node_defaults_to_the_host_name() {
        let config = IngestConfig::resolve(HookFileConfig::default(), HookOverrides::default())
            .expect("valid");

        assert_eq!(config.node, host_name());
        assert!(config.token.is_none());
    }
}
