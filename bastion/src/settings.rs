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
    /// The web console (`[web]`).
    pub web: WebSettings,
    /// `[notify]`: webhooks told about requests, reviews, blocked commands and lockouts.
    pub notify: notify::NotifySettings,
    /// `[store] url`: a `postgres://` URL (several nodes on one database), or a SQLite file
    /// (relative to the data directory); `None`: the embedded `bastion.db`.
    pub store_url: Option<String>,
    /// This bastion's name among several nodes (default: the machine's host name); metrics
    /// label the sessions it serves with it.
    pub node: String,
    /// How long another node may be silent before its sessions are sealed as interrupted.
    pub node_timeout: Duration,
    /// `[metrics] listen`: where Prometheus scrapes `/metrics` (plain HTTP); unset: off.
    pub metrics_listen: Option<String>,
    /// `[shared_recordings]`: where recordings are shipped for every node to read; unset: they
    /// stay in `recordings` only.
    pub shared_recordings: Option<crate::state::shared_recordings::SharedRecordingSettings>,
}

/// `[web]`: the console served by `bastion serve`.
#[derive(Clone, Debug)]
pub struct WebSettings {
    pub enabled: bool,
    pub listen: String,
    /// What printed links start with; `None`: `https://<this host's name>:<listen port>`.
    pub public_url: Option<String>,
    /// PEM certificate chain and key; the defaults are made self-signed at `init`.
    pub cert: PathBuf,
    pub key: PathBuf,
    pub session_idle: Duration,
    pub session_max: Duration,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawWeb {
    enabled: Option<bool>,
    listen: Option<String>,
    public_url: Option<String>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    session_idle: Option<String>,
    session_max: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawStore {
    url: Option<String>,
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
    web: Option<RawWeb>,
    notify: Option<notify::NotifySettings>,
    store: Option<RawStore>,
    node: Option<String>,
    node_timeout: Option<String>,
    metrics: Option<RawMetrics>,
    shared_recordings: Option<RawSharedRecordings>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSharedRecordings {
    url: String,
    interval: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    listen: Option<String>,
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
        let dur = duration;
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
            web: web(raw.web.unwrap_or_default())?,
            notify: {
                let n = raw.notify.unwrap_or_default();
                n.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
                n
            },
            store_url: store_url(raw.store.and_then(|s| s.url))?,
            node: match raw.node {
                Some(n) if n.trim().is_empty() => anyhow::bail!("node: must not be empty"),
                Some(n) => n,
                None => host_name(),
            },
            node_timeout: dur("node_timeout", raw.node_timeout, Duration::from_secs(30))?,
            metrics_listen: raw.metrics.unwrap_or_default().listen,
            shared_recordings: match raw.shared_recordings {
                None => None,
                Some(r) => Some(crate::state::shared_recordings::SharedRecordingSettings {
                    url: r.url,
                    interval: duration(
                        "shared_recordings.interval",
                        r.interval,
                        Duration::from_secs(5),
                    )?,
                }),
            },
        })
    }
}

/// `[store] url`: a PostgreSQL URL or a file path; anything else with a scheme is refused
/// (it would otherwise be taken for a file name).
fn store_url(url: Option<String>) -> Result<Option<String>> {
    match url {
        Some(u) if u.trim().is_empty() => anyhow::bail!("store.url: empty"),
        Some(u) if u.contains("://") && !store::is_postgres_url(&u) => anyhow::bail!(
            "store.url: {:?} is neither a postgres:// URL nor a file path",
            store::redact(&u)
        ),
        other => Ok(other),
    }
}

/// The machine's host name, the default node name.
fn host_name() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "bastion".into())
}

/// A duration setting (`30m`, `12h`), its default when absent; errors name the field.
fn duration(field: &str, v: Option<String>, default: Duration) -> Result<Duration> {
    match v {
        None => Ok(default),
        Some(s) => policies::parse_duration(&s).map_err(|e| anyhow::anyhow!("{field}: {e}")),
    }
}

fn web(raw: RawWeb) -> Result<WebSettings> {
    let dur = duration;
    let public_url = match raw.public_url {
        Some(u) if !u.starts_with("https://") => {
            anyhow::bail!("web.public_url: {u:?} must start with https://")
        }
        other => other,
    };
    Ok(WebSettings {
        enabled: raw.enabled.unwrap_or(true),
        listen: raw.listen.unwrap_or_else(|| "0.0.0.0:8443".into()),
        public_url,
        cert: raw.cert.unwrap_or_else(|| "web_cert.pem".into()),
        key: raw.key.unwrap_or_else(|| "web_key.pem".into()),
        session_idle: dur(
            "web.session_idle",
            raw.session_idle,
            Duration::from_secs(1800),
        )?,
        session_max: dur(
            "web.session_max",
            raw.session_max,
            Duration::from_secs(12 * 3600),
        )?,
    })
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
    fn web_section_defaults_and_errors() {
        let s = Settings::parse("").unwrap();
        assert!(s.web.enabled);
        assert_eq!(s.web.listen, "0.0.0.0:8443");
        assert_eq!(s.web.session_idle, Duration::from_secs(1800));
        let s = Settings::parse("[web]\nenabled = false\nsession_max = \"1h\"\n").unwrap();
        assert!(!s.web.enabled);
        assert_eq!(s.web.session_max, Duration::from_secs(3600));
        let e = Settings::parse("[web]\npublic_url = \"http://x\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("web.public_url"), "{e:#}");
        let e = Settings::parse("[web]\nsession_idle = \"soon\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("web.session_idle"), "{e:#}");
        assert!(Settings::parse("[web]\nport = 1\n").is_err());
    }

    #[test]
    fn store_url_defaults_to_the_embedded_file_and_takes_postgres() {
        assert_eq!(Settings::parse("").unwrap().store_url, None);
        let s = Settings::parse("[store]\nurl = \"postgres://b@db/bastion\"\n").unwrap();
        assert_eq!(s.store_url.as_deref(), Some("postgres://b@db/bastion"));
        let e = Settings::parse("[store]\nurl = \"mysql://u:pw@db/x\"\n").unwrap_err();
        let text = format!("{e:#}");
        assert!(text.contains("store.url") && !text.contains("pw"), "{text}");
        assert!(Settings::parse("[store]\nuri = \"x\"\n").is_err());
    }

    #[test]
    fn node_and_metrics_settings() {
        let s = Settings::parse("").unwrap();
        assert_eq!(s.metrics_listen, None);
        assert!(!s.node.is_empty());
        let s = Settings::parse("node = \"b2\"\n[metrics]\nlisten = \"127.0.0.1:9722\"").unwrap();
        assert_eq!(
            (s.node.as_str(), s.metrics_listen.as_deref()),
            ("b2", Some("127.0.0.1:9722"))
        );
        let e = Settings::parse("node = \" \"").unwrap_err();
        assert!(
            format!("{e:#}").contains("node: must not be empty"),
            "{e:#}"
        );
        let e = Settings::parse("[metrics]\nlisen = \"x\"").unwrap_err();
        assert!(format!("{e:#}").contains("lisen"), "{e:#}");
    }

    #[test]
    fn unknown_field_rejected() {
        assert!(Settings::parse("lisen = \"x\"").is_err());
    }
}
