//! Chat and webhook notifications for the bastion (issue 17, item 6): new access requests,
//! decisions, command reviews, blocked commands and login lockouts, posted to generic signed
//! JSON receivers, Slack, DingTalk, Feishu/Lark and WeCom, each message linking to its console
//! page.
//!
//! The bastion builds a [`Notifier`] from the `[notify]` section of bastion.toml
//! ([`NotifySettings`]) and calls [`Notifier::send`] where things happen. Sending never waits:
//! delivery, retries and the slowness of chat services happen in background tasks, one per
//! webhook, and whatever could not be delivered comes back through the caller's `on_failure`
//! (for the audit log).
//!
//! * [`settings`]: the `[notify]` section and its validation.
//! * [`message`]: the [`Notification`] enum and its wording.
//! * [`formats`]: one module per service, turning a notification into that service's request.
//! * [`sign`]: the HMAC signatures of the generic format, DingTalk and Feishu.
//! * [`deliver`]: queues, retries with backoff, failure reports.

pub mod deliver;
pub mod formats;
pub mod message;
pub mod settings;
pub mod sign;

pub use deliver::{DeliveryFailure, FailureHook, FailureReason, Notifier};
pub use message::{EventKind, Notification};
pub use settings::{Format, NotifySettings, SettingsError, WebhookSettings};
