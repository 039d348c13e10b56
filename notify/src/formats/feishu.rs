//! Feishu / Lark (飞书) custom bot ("自定义机器人").
//!
//! Feishu documents a POST of JSON to `https://open.feishu.cn/open-apis/bot/v2/hook/<id>` with
//! `msg_type` text, post (rich text), image, share_chat or interactive. The rich-text message is
//! `{"msg_type": "post", "content": {"post": {"zh_cn": {"title": "…", "content": [[{"tag":
//! "text", "text": "…"}, {"tag": "a", "text": "…", "href": "…"}], …]}}}}` — each inner array
//! one line of elements. With signature verification ("签名校验") enabled the body also carries
//! `"timestamp": "<unix seconds>"` and `"sign": base64(HMAC-SHA256(key = timestamp + "\n" +
//! secret, message = ""))` (see [`crate::sign::feishu`]); timestamps over an hour off are
//! refused. It answers `{"code": 0, "msg": "success", …}`, or a non-zero `code` (19021: sign
//! mismatch).
//!
//! We send a `post` whose lines are plain `text` elements (their `un_escape` left false, so no
//! markup is read from them) and our own link as an `a` element. The plain `text` message type
//! is avoided: it parses `<at user_id="all">` and would let a typed reason ping everyone.

use serde_json::{json, Value};

use super::Context;
use crate::message::Notification;
use crate::sign;

/// The JSON body, signed when the webhook has a secret.
pub fn body(notification: &Notification, ctx: &Context<'_>) -> Value {
    let text = |t: String| json!({"tag": "text", "text": t});
    let mut lines = vec![vec![text(notification.headline())]];
    lines.extend(
        notification
            .facts()
            .into_iter()
            .map(|(label, value)| vec![text(format!("{label}: {value}"))]),
    );
    if let Some(link) = ctx.link {
        lines.push(vec![
            json!({"tag": "a", "text": "Open in the console", "href": link}),
        ]);
    }
    let mut body = json!({
        "msg_type": "post",
        "content": {"post": {"zh_cn": {"title": notification.title(), "content": lines}}},
    });
    if let Some(secret) = ctx.secret {
        let timestamp = ctx.unix_secs();
        body["timestamp"] = timestamp.to_string().into();
        body["sign"] = sign::feishu(secret, timestamp).into();
    }
    body
}
