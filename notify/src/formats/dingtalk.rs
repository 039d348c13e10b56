//! DingTalk (钉钉) custom robot ("自定义机器人").
//!
//! DingTalk documents a POST of JSON to `https://oapi.dingtalk.com/robot/send?access_token=…`
//! with `msgtype` one of text, link, markdown, actionCard, feedCard; the text message is
//! `{"msgtype": "text", "text": {"content": "…"}, "at": {"atMobiles": [], "isAtAll": false}}`.
//! With signing ("加签") enabled the URL also carries `&timestamp=<ms>&sign=<urlencoded
//! base64 HMAC-SHA256(secret, timestamp + "\n" + secret)>` (see [`crate::sign::dingtalk`]). It
//! answers 200 with `{"errcode": 0, "errmsg": "ok"}`, or a non-zero `errcode` when it refuses.
//!
//! We send the plain `text` message: DingTalk's markdown documents no escape, and a requester's
//! reason must not turn into a heading, a link or an image. `isAtAll` is always false, so no
//! text of ours can ping the group. URLs in text messages are shown as links by the client.

use serde_json::{json, Value};

use super::Context;
use crate::message::Notification;
use crate::sign;

/// The endpoint, with `timestamp` and `sign` appended when the webhook has a secret.
pub fn url(ctx: &Context<'_>) -> url::Url {
    let mut url = ctx.url.clone();
    if let Some(secret) = ctx.secret {
        let timestamp = ctx.unix_millis();
        url.query_pairs_mut()
            .append_pair("timestamp", &timestamp.to_string())
            .append_pair("sign", &sign::dingtalk(secret, timestamp));
    }
    url
}

/// The JSON body.
pub fn body(notification: &Notification, link: Option<&str>) -> Value {
    json!({
        "msgtype": "text",
        "text": {"content": plain_text(notification, link)},
        "at": {"atMobiles": [], "isAtAll": false},
    })
}

/// Title, headline, one "Label: value" line per fact, then the link: the plain text shared by
/// the formats whose message is plain text.
pub fn plain_text(notification: &Notification, link: Option<&str>) -> String {
    let mut lines = vec![
        format!("[bastion] {}", notification.title()),
        notification.headline(),
    ];
    lines.extend(
        notification
            .facts()
            .into_iter()
            .map(|(label, value)| format!("{label}: {value}")),
    );
    if let Some(link) = link {
        lines.push(link.to_string());
    }
    lines.join("\n")
}
