//! The `[notify]` section of bastion.toml: which webhooks exist, in which chat format each one
//! speaks, which events it wants, and how patiently it is retried.
//!
//! Why a separate validation step: serde already rejects unknown fields and bad enum words (and
//! the toml parser puts line and column on those), but some mistakes only show once the values
//! are read together — two webhooks with one name, a `url` that is not http(s), a `ca_file`
//! that does not hold a certificate. [`NotifySettings::validate`] finds those and names the
//! webhook and field, so the bastion can refuse to start with a clear message instead of
//! discovering at 3 a.m. that nobody was told about a lockout.
//!
//! Secrets (`secret`, and the webhook URL itself, which carries a token for Slack, DingTalk and
//! WeCom) are never printed: `Debug` redacts them.

use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::message::EventKind;

/// Default per-attempt timeout of one webhook request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default number of attempts (the first try plus retries).
pub const DEFAULT_TRIES: u32 = 4;
/// Default wait before the first retry; each later retry waits twice as long as the one before.
pub const DEFAULT_BACKOFF: Duration = Duration::from_secs(1);
/// Default number of notifications waiting per webhook before the oldest is dropped.
pub const DEFAULT_QUEUE: usize = 256;

/// The `[notify]` section. `Default` is "no webhooks": notifications are accepted and dropped.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySettings {
    /// Where the console is reached from the chat readers' browsers; links in messages start here.
    /// Without it messages carry no link.
    #[serde(default)]
    pub console_url: Option<String>,
    /// How many notifications may wait for one webhook; past that the oldest is dropped and
    /// counted. Default 256.
    #[serde(default = "default_queue")]
    pub queue: usize,
    /// The webhooks, `[[notify.webhook]]` in the file.
    #[serde(default, rename = "webhook")]
    pub webhooks: Vec<WebhookSettings>,
}

/// One `[[notify.webhook]]`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// Names the webhook in failure reports and the audit log (the URL is a secret, the name is not).
    pub name: String,
    /// Which service's body shape to send.
    pub format: Format,
    /// The endpoint; http or https. For DingTalk it includes `?access_token=…`.
    pub url: String,
    /// generic: the HMAC-SHA256 key of `X-Bastion-Signature`; dingtalk/feishu: the robot's
    /// signing secret ("加签"); ignored by slack and wecom, which have none.
    #[serde(default)]
    pub secret: Option<String>,
    /// Which events this webhook is sent; default all of them.
    #[serde(default = "all_events")]
    pub events: Vec<EventKind>,
    /// Per-attempt timeout (connect, send and answer), e.g. "5s", "500ms".
    #[serde(default = "default_timeout", deserialize_with = "human_duration")]
    pub timeout: Duration,
    /// Attempts in all, at least 1. Default 4.
    #[serde(default = "default_tries")]
    pub tries: u32,
    /// Wait before the first retry, doubled for each later one (1s, 2s, 4s … by default).
    #[serde(default = "default_backoff", deserialize_with = "human_duration")]
    pub backoff: Duration,
    /// A PEM file of extra CA certificates trusted for this webhook (internal endpoints); the
    /// public web roots stay trusted too. Certificates are always verified.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

/// The body shape a webhook speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// JSON of the event's fields, signed with `X-Bastion-Signature`.
    Generic,
    /// Slack incoming webhook.
    Slack,
    /// DingTalk (钉钉) custom robot.
    Dingtalk,
    /// Feishu / Lark (飞书) custom bot.
    Feishu,
    /// WeCom (企业微信) group robot.
    Wecom,
}

/// What is wrong with a `[notify]` section that parsed.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("notify.console_url: {0}")]
    ConsoleUrl(String),
    #[error("notify.queue: must be at least 1")]
    Queue,
    #[error("notify.webhook[{index}].name: must not be empty")]
    EmptyName { index: usize },
    #[error("notify.webhook[{index}] ({name}).name: a webhook named {name:?} already exists")]
    DuplicateName { index: usize, name: String },
    #[error("notify.webhook[{index}] ({name}).url: {reason}")]
    Url {
        index: usize,
        name: String,
        reason: String,
    },
    #[error("notify.webhook[{index}] ({name}).{field}: {reason}")]
    Field {
        index: usize,
        name: String,
        field: &'static str,
        reason: String,
    },
    #[error("notify.webhook[{index}] ({name}).ca_file: {path}: {reason}")]
    CaFile {
        index: usize,
        name: String,
        path: PathBuf,
        reason: String,
    },
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            console_url: None,
            queue: DEFAULT_QUEUE,
            webhooks: Vec::new(),
        }
    }
}

impl NotifySettings {
    /// Checks what serde could not: names unique and non-empty, URLs http(s), numbers in range,
    /// `ca_file` readable and holding at least one certificate.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if let Some(console) = &self.console_url {
            check_http_url(console).map_err(SettingsError::ConsoleUrl)?;
        }
        if self.queue == 0 {
            return Err(SettingsError::Queue);
        }
        let mut names = HashSet::new();
        for (index, hook) in self.webhooks.iter().enumerate() {
            if hook.name.trim().is_empty() {
                return Err(SettingsError::EmptyName { index });
            }
            if !names.insert(hook.name.as_str()) {
                return Err(SettingsError::DuplicateName {
                    index,
                    name: hook.name.clone(),
                });
            }
            hook.validate(index)?;
        }
        Ok(())
    }
}

impl WebhookSettings {
    fn validate(&self, index: usize) -> Result<(), SettingsError> {
        let field = |field: &'static str, reason: &str| SettingsError::Field {
            index,
            name: self.name.clone(),
            field,
            reason: reason.to_string(),
        };
        check_http_url(&self.url).map_err(|reason| SettingsError::Url {
            index,
            name: self.name.clone(),
            reason,
        })?;
        if self.tries == 0 {
            return Err(field("tries", "must be at least 1"));
        }
        if self.timeout.is_zero() {
            return Err(field("timeout", "must be more than 0s"));
        }
        if self.events.is_empty() {
            return Err(field(
                "events",
                "lists no event: remove the webhook or name events",
            ));
        }
        if self.secret.as_deref() == Some("") {
            return Err(field("secret", "is empty: remove it or give the key"));
        }
        if let Some(path) = &self.ca_file {
            self.load_ca(path).map_err(|reason| SettingsError::CaFile {
                index,
                name: self.name.clone(),
                path: path.clone(),
                reason,
            })?;
        }
        Ok(())
    }

    /// The certificates of `ca_file`, read and parsed (used by validation and by the client).
    pub(crate) fn load_ca(
        &self,
        path: &std::path::Path,
    ) -> Result<Vec<reqwest::Certificate>, String> {
        let pem = std::fs::read(path).map_err(|e| e.to_string())?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| e.to_string())?;
        if certs.is_empty() {
            return Err("holds no PEM certificate".into());
        }
        Ok(certs)
    }

    /// Whether this webhook is sent events of `kind`.
    pub fn wants(&self, kind: EventKind) -> bool {
        self.events.contains(&kind)
    }
}

fn check_http_url(text: &str) -> Result<(), String> {
    let url = url::Url::parse(text).map_err(|e| format!("not a URL ({e})"))?;
    match url.scheme() {
        "http" | "https" if url.host().is_some() => Ok(()),
        "http" | "https" => Err("has no host".into()),
        other => Err(format!("scheme {other:?} is not http or https")),
    }
}

fn human_duration<'de, D: Deserializer<'de>>(de: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(de)?;
    humantime::parse_duration(&text).map_err(|e| {
        serde::de::Error::custom(format!(
            "{text:?} is not a duration like \"5s\" or \"500ms\" ({e})"
        ))
    })
}

fn default_queue() -> usize {
    DEFAULT_QUEUE
}
fn default_timeout() -> Duration {
    DEFAULT_TIMEOUT
}
fn default_tries() -> u32 {
    DEFAULT_TRIES
}
fn default_backoff() -> Duration {
    DEFAULT_BACKOFF
}
fn all_events() -> Vec<EventKind> {
    EventKind::ALL.to_vec()
}

impl fmt::Debug for NotifySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotifySettings")
            .field("console_url", &self.console_url)
            .field("queue", &self.queue)
            .field("webhooks", &self.webhooks)
            .finish()
    }
}

impl fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSettings")
            .field("name", &self.name)
            .field("format", &self.format)
            .field("url", &"<redacted>")
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("events", &self.events)
            .field("timeout", &self.timeout)
            .field("tries", &self.tries)
            .field("backoff", &self.backoff)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}
