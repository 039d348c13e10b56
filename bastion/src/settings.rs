//! `bastion.toml`: the few settings an operator may change, all with defaults.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Deserialize;

/// Parsed settings; every field has a default so an empty file is valid.
#[derive(Clone, Debug)]
pub struct Settings {
    pub listen: String,
    pub inventory: PathBuf,
    pub policies: PathBuf,
    pub recordings: PathBuf,
    pub connect_timeout: Duration,
    pub max_auth_failures: u32,
    pub lockout: Duration,
    /// Refuse sessions that cannot be recorded (fail closed); `false` lets them go ahead
    /// unrecorded, audited as `recording_unavailable`.
    pub recording_required: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    listen: Option<String>,
    inventory: Option<PathBuf>,
    policies: Option<PathBuf>,
    recordings: Option<PathBuf>,
    connect_timeout: Option<String>,
    max_auth_failures: Option<u32>,
    lockout: Option<String>,
    recording_required: Option<bool>,
}

impl Settings {
    /// Reads and validates the settings file; errors name the file and field.
    pub fn load(path: &Path) -> Result<Settings> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in {}", path.display()))
    }

    fn parse(text: &str) -> Result<Settings> {
        let raw: RawSettings = toml::from_str(text)?;
        let dur = |field: &str, v: Option<String>, default: Duration| -> Result<Duration> {
            match v {
                None => Ok(default),
                Some(s) => {
                    policies::parse_duration(&s).map_err(|e| anyhow::anyhow!("{field}: {e}"))
                }
            }
        };
        Ok(Settings {
            listen: raw.listen.unwrap_or_else(|| "0.0.0.0:2222".into()),
            inventory: raw.inventory.unwrap_or_else(|| "inventory.yaml".into()),
            policies: raw.policies.unwrap_or_else(|| "policies.yaml".into()),
            recordings: raw.recordings.unwrap_or_else(|| "recordings".into()),
            connect_timeout: dur(
                "connect_timeout",
                raw.connect_timeout,
                Duration::from_secs(10),
            )?,
            max_auth_failures: raw.max_auth_failures.unwrap_or(5),
            lockout: dur("lockout", raw.lockout, Duration::from_secs(300))?,
            recording_required: raw.recording_required.unwrap_or(true),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_parses_to_defaults() {
        let s = Settings::parse(include_str!("templates/bastion.toml")).unwrap();
        assert_eq!(s.listen, "0.0.0.0:2222");
        assert_eq!(s.connect_timeout, Duration::from_secs(10));
        assert!(s.recording_required);
    }

    #[test]
    fn bad_duration_names_field() {
        let e = Settings::parse("connect_timeout = \"ten\"").unwrap_err();
        assert!(format!("{e:#}").contains("connect_timeout"), "{e:#}");
    }

    #[test]
    fn unknown_field_rejected() {
        assert!(Settings::parse("lisen = \"x\"").is_err());
    }
}
