//! Getting notifications out without ever holding up the bastion.
//!
//! [`Notifier::send`] is a plain function: it appends the notification to a bounded queue per
//! webhook and wakes that webhook's task. It takes a mutex for the length of a `VecDeque` push
//! and never awaits, so a login or a session that announces something never waits on the
//! network. When a queue is full the *oldest* waiting notification is dropped (the newest is
//! the most useful when a webhook comes back), counted in [`Notifier::dropped`], and reported.
//!
//! Each webhook has its own task delivering its queue in order, so a webhook that hangs or
//! answers 500 delays only its own messages. An attempt is bounded by the webhook's `timeout`;
//! a failed attempt is retried after `backoff`, then twice that, and so on, up to `tries`
//! attempts in all. Redirects are not followed (a webhook that moved should be edited, and a
//! redirect must not carry a signed body elsewhere). A 4xx other than 408 and 429 is final.
//!
//! What could not be delivered is handed to the caller's `on_failure`, so the bastion can write
//! it to its audit log: this library does not know about the audit log. Reports name the
//! webhook, never its URL (which carries a token) nor its secret.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::formats::{self, Context};
use crate::message::Notification;
use crate::settings::{NotifySettings, SettingsError, WebhookSettings};

/// The longest wait between two attempts, however many tries are configured.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// The most of an answer's body that is read (to tell a robot's error code).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Called with every notification that a webhook did not get.
///
/// Called from the notifier's tasks, and for [`FailureReason::Dropped`] from within
/// [`Notifier::send`] (after its lock is released): keep it quick, e.g. push to a channel.
pub type FailureHook = Box<dyn Fn(DeliveryFailure) + Send + Sync>;

/// A notification that did not reach a webhook.
#[derive(Clone, Debug)]
pub struct DeliveryFailure {
    /// The webhook's `name`.
    pub webhook: String,
    /// What was not delivered.
    pub notification: Notification,
    /// Attempts made (0 when dropped from the queue).
    pub attempts: u32,
    pub reason: FailureReason,
}

/// Why a notification was not delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FailureReason {
    /// Every attempt failed; the last attempt's error.
    GaveUp(String),
    /// The webhook answered in a way retrying cannot fix (a 4xx, a redirect).
    Refused(String),
    /// The webhook's queue was full and this was its oldest notification.
    Dropped,
}

impl fmt::Display for DeliveryFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let event = self.notification.kind().as_str();
        match &self.reason {
            FailureReason::GaveUp(e) => write!(
                f,
                "webhook {}: {event} not delivered after {} attempts: {e}",
                self.webhook, self.attempts
            ),
            FailureReason::Refused(e) => {
                write!(f, "webhook {}: {event} refused: {e}", self.webhook)
            }
            FailureReason::Dropped => write!(
                f,
                "webhook {}: {event} dropped: too many notifications waiting",
                self.webhook
            ),
        }
    }
}

/// Sends notifications to the configured webhooks in the background. Dropping it stops the
/// tasks (notifications still waiting are lost).
pub struct Notifier {
    hooks: Vec<Hook>,
    dropped: AtomicU64,
    on_failure: Arc<FailureHook>,
}

/// One webhook: its settings, queue and task.
struct Hook {
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

/// What a webhook's task and [`Notifier::send`] share.
struct Shared {
    settings: WebhookSettings,
    link_base: Option<String>,
    url: url::Url,
    client: reqwest::Client,
    queue: Mutex<VecDeque<Notification>>,
    capacity: usize,
    wake: Notify,
}

impl Notifier {
    /// Validates `settings`, builds one HTTP client per webhook (with its `ca_file`, if any) and
    /// spawns one task per webhook. Must be called inside a tokio runtime when webhooks are set.
    pub fn start(
        settings: NotifySettings,
        on_failure: FailureHook,
    ) -> Result<Notifier, SettingsError> {
        settings.validate()?;
        let on_failure = Arc::new(on_failure);
        let mut hooks = Vec::with_capacity(settings.webhooks.len());
        for (index, webhook) in settings.webhooks.into_iter().enumerate() {
            let shared = Arc::new(Shared {
                client: client(index, &webhook)?,
                url: url::Url::parse(&webhook.url).expect("validated"),
                settings: webhook,
                link_base: settings.console_url.clone(),
                queue: Mutex::new(VecDeque::new()),
                capacity: settings.queue,
                wake: Notify::new(),
            });
            let task = tokio::spawn(run(shared.clone(), on_failure.clone()));
            hooks.push(Hook { shared, task });
        }
        Ok(Notifier {
            hooks,
            dropped: AtomicU64::new(0),
            on_failure,
        })
    }

    /// Queues `notification` for every webhook that wants its kind and returns at once.
    pub fn send(&self, notification: Notification) {
        let kind = notification.kind();
        for hook in self.hooks.iter().filter(|h| h.shared.settings.wants(kind)) {
            let dropped = {
                let mut queue = hook.shared.queue.lock().unwrap_or_else(|e| e.into_inner());
                let dropped = (queue.len() >= hook.shared.capacity)
                    .then(|| queue.pop_front())
                    .flatten();
                queue.push_back(notification.clone());
                dropped
            };
            hook.shared.wake.notify_one();
            if let Some(old) = dropped {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                (self.on_failure)(DeliveryFailure {
                    webhook: hook.shared.settings.name.clone(),
                    notification: old,
                    attempts: 0,
                    reason: FailureReason::Dropped,
                });
            }
        }
    }

    /// How many notifications were dropped because a webhook's queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// How many webhooks are configured.
    pub fn webhooks(&self) -> usize {
        self.hooks.len()
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        for hook in &self.hooks {
            hook.task.abort();
        }
    }
}

fn client(index: usize, webhook: &WebhookSettings) -> Result<reqwest::Client, SettingsError> {
    let mut builder = reqwest::Client::builder()
        .timeout(webhook.timeout)
        .connect_timeout(webhook.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("bastion-notify/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = &webhook.ca_file {
        let certs = webhook
            .load_ca(path)
            .map_err(|reason| SettingsError::CaFile {
                index,
                name: webhook.name.clone(),
                path: path.clone(),
                reason,
            })?;
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder.build().map_err(|e| SettingsError::Field {
        index,
        name: webhook.name.clone(),
        field: "url",
        reason: format!("cannot build an HTTP client: {}", error_chain(&e)),
    })
}

/// A webhook's task: deliver its queue in order, forever.
async fn run(shared: Arc<Shared>, on_failure: Arc<FailureHook>) {
    loop {
        let next = shared
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front();
        let Some(notification) = next else {
            shared.wake.notified().await;
            continue;
        };
        if let Err(failure) = deliver(&shared, notification).await {
            tracing::warn!(webhook = %failure.webhook, "{failure}");
            on_failure(failure);
        }
    }
}

/// One attempt's failure.
enum AttemptError {
    /// Worth another try: a timeout, a refused connection, a 5xx, 408, 429, a robot's error code.
    Retry(String),
    /// Not worth one.
    Final(String),
}

/// Delivers one notification with retries and backoff.
async fn deliver(shared: &Shared, notification: Notification) -> Result<(), DeliveryFailure> {
    let settings = &shared.settings;
    let mut wait = settings.backoff;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let error = match attempt_once(shared, &notification).await {
            Ok(()) => return Ok(()),
            Err(AttemptError::Final(e)) => FailureReason::Refused(e),
            Err(AttemptError::Retry(e)) if attempt >= settings.tries => FailureReason::GaveUp(e),
            Err(AttemptError::Retry(e)) => {
                tracing::debug!(webhook = %settings.name, attempt, "delivery failed, retrying: {e}");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        return Err(DeliveryFailure {
            webhook: settings.name.clone(),
            notification,
            attempts: attempt,
            reason: error,
        });
    }
}

/// One POST: rendered (and signed) afresh, sent, and its answer judged.
async fn attempt_once(shared: &Shared, notification: &Notification) -> Result<(), AttemptError> {
    let settings = &shared.settings;
    let link = notification.link(shared.link_base.as_deref());
    let ctx = Context {
        url: &shared.url,
        secret: settings.secret.as_deref(),
        link: link.as_deref(),
        now: SystemTime::now(),
    };
    let outgoing = formats::render(settings.format, notification, &ctx);
    let mut request = shared.client.post(outgoing.url).body(outgoing.body);
    for (name, value) in outgoing.headers {
        request = request.header(name, value);
    }
    let transport = |e: reqwest::Error| match e.is_timeout() {
        true => AttemptError::Retry(format!("no answer within {:?}", settings.timeout)),
        false => AttemptError::Retry(error_chain(&e)),
    };
    let mut response = request.send().await.map_err(transport)?;
    let status = response.status();
    let mut answer = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        answer.extend_from_slice(&chunk);
        if answer.len() >= MAX_ANSWER_BYTES {
            break;
        }
    }
    if status.is_success() {
        return formats::check_answer(settings.format, &answer).map_err(AttemptError::Retry);
    }
    let what = format!("HTTP {status}");
    let retry = status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429;
    Err(if retry {
        AttemptError::Retry(what)
    } else {
        AttemptError::Final(what)
    })
}

/// An error and its causes on one line, without the request URL (it carries the webhook's token).
fn error_chain(error: &reqwest::Error) -> String {
    let mut text = String::from("request failed");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
