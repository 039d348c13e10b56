//! Slack incoming webhook.
//!
//! Slack documents the body as JSON with a `text` (the notification and fallback text, parsed
//! as mrkdwn) and optional Block Kit `blocks`; it answers 200 `ok`, or 4xx with a word such as
//! `invalid_payload`. We send:
//! `{"text": "Access request: alice asks for …", "blocks": [{"type": "header", "text": {"type":
//! "plain_text", "text": "Access request"}}, {"type": "section", "text": {"type": "mrkdwn",
//! "text": "<headline>"}}, {"type": "section", "fields": [{"type": "mrkdwn", "text":
//! "*User*\nalice"}, …]}, {"type": "section", "text": {"type": "mrkdwn", "text":
//! "<https://…/requests/42|Open in the console>"}}]}`.
//!
//! Slack's formatting reference says `&`, `<` and `>` are control characters (`<!channel>`
//! pings a whole channel, `<url|text>` makes a link) and must be written `&amp;`, `&lt;`,
//! `&gt;` when meant literally — and only those three. Every untrusted value is escaped so.
//! A section holds at most 10 fields.

use serde_json::{json, Value};

use crate::message::Notification;

/// Escapes Slack's three control characters.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The JSON body.
pub fn body(notification: &Notification, link: Option<&str>) -> Value {
    let title = notification.title();
    let headline = escape(&notification.headline());
    let fields: Vec<Value> = notification
        .facts()
        .into_iter()
        .take(10)
        .map(|(label, value)| json!({"type": "mrkdwn", "text": format!("*{label}*\n{}", escape(&value))}))
        .collect();
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": title}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": headline}}),
        json!({"type": "section", "fields": fields}),
    ];
    if let Some(link) = link {
        // The URL is ours, but its path carries ids: `|` would end the link target early.
        let target = escape(link).replace('|', "%7C");
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("<{target}|Open in the console>")}}));
    }
    json!({"text": format!("{title}: {headline}"), "blocks": blocks})
}
