//! The configuration file: where the vault is, who the default officer is, and the like.
//!
//! Looked for at `--config FILE`, then `$DOORSTEP_CONFIG`, then
//! `$XDG_CONFIG_HOME/doorstep/config.toml` (or `~/.config/doorstep/config.toml`). A missing
//! file means the defaults. Command-line options win over the file.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The vault folder.
    pub vault: Option<PathBuf>,
    /// The user the unlock screen unlocks (the unit's officer).
    pub officer: Option<String>,
    /// This tablet's name, as enrolled at the hub.
    pub device_id: Option<String>,
    /// Free space, in MB, below which capture is refused.
    pub reserve_mb: Option<u64>,
    /// The office where applicants collect their documents, offered on the details step.
    pub pickup_office: Option<String>,
    /// The counter the outreach point calls tickets to ("1" by default).
    pub counter: Option<String>,
    /// The outreach point's name (a business association's office…), recorded with each
    /// application taken there.
    pub outreach_point: Option<String>,
    /// A folder of policy files replacing the built-in ones.
    pub policy: Option<PathBuf>,
    /// Where this configuration was read from (none: defaults, a demo machine).
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from).or_else(|| home().map(|h| h.join(".config")))?;
    Some(base.join("doorstep").join("config.toml"))
}

impl Config {
    /// Loads `explicit`, or the default file if it exists.
    pub fn load(explicit: Option<&Path>) -> anyhow::Result<Config> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => match default_path() {
                Some(p) if p.exists() => p,
                _ => return Ok(Config::default()),
            },
        };
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut config: Config =
            toml::from_str(&text).with_context(|| format!("{} is not a valid doorstep config", path.display()))?;
        config.source = Some(path);
        Ok(config)
    }

    /// The vault folder: the file's, else `$XDG_DATA_HOME/doorstep/vault` (or
    /// `~/.local/share/doorstep/vault`).
    pub fn vault_dir(&self) -> PathBuf {
        if let Some(v) = &self.vault {
            return v.clone();
        }
        let base = std::env::var_os("XDG_DATA_HOME")
            .map(PathBuf::from)
            .or_else(|| home().map(|h| h.join(".local").join("share")))
            .unwrap_or_else(|| PathBuf::from("."));
        base.join("doorstep").join("vault")
    }

    pub fn officer(&self) -> String {
        self.officer.clone().unwrap_or_else(|| "demo-officer".into())
    }

    pub fn reserve_bytes(&self) -> u64 {
        self.reserve_mb.unwrap_or(256).saturating_mul(doorstep_core::shift::MIB)
    }
}
