//! The generic JSON format, for receivers the operator writes (an on-call bot, a SIEM).
//!
//! Body: the event's fields at the top level with the event name, a human title and text, and
//! the console link:
//! `{"event": "request_created", "id": "42", "user": "alice", "hosts": ["db1"], "login":
//! "postgres", "duration_secs": 7200, "reason": "INC-4521", "title": "Access request", "text":
//! "alice asks for postgres@db1 for 2h", "url": "https://bastion.example.com:8443/requests/42"}`
//! (`url` is null without `console_url`). Values are carried whole and unescaped: JSON is data.
//!
//! Headers: `X-Bastion-Timestamp: <unix seconds>` and, when the webhook has a `secret`,
//! `X-Bastion-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>` (see
//! [`crate::sign::generic`]). A receiver recomputes it over the raw body bytes, compares in
//! constant time, and refuses timestamps too far from its clock.

use serde_json::Value;

use super::{Context, Outgoing};
use crate::message::Notification;
use crate::sign;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "x-bastion-signature";
/// The header carrying the signed timestamp.
pub const TIMESTAMP_HEADER: &str = "x-bastion-timestamp";

/// The JSON body (before serialization).
pub fn body(notification: &Notification, link: Option<&str>) -> Value {
    let mut body = serde_json::to_value(notification).expect("notifications serialize");
    let object = body
        .as_object_mut()
        .expect("a tagged enum serializes to an object");
    object.insert("title".into(), notification.title().into());
    object.insert("text".into(), notification.headline().into());
    object.insert("url".into(), link.map(Value::from).unwrap_or(Value::Null));
    body
}

pub(super) fn render(notification: &Notification, ctx: &Context<'_>) -> Outgoing {
    let body = serde_json::to_vec(&body(notification, ctx.link)).expect("JSON serializes");
    let timestamp = ctx.unix_secs();
    let mut headers = vec![
        ("content-type", "application/json".to_string()),
        (TIMESTAMP_HEADER, timestamp.to_string()),
    ];
    if let Some(secret) = ctx.secret {
        headers.push((SIGNATURE_HEADER, sign::generic(secret, timestamp, &body)));
    }
    Outgoing {
        url: ctx.url.clone(),
        headers,
        body,
    }
}
