//! One request per service: how a [`Notification`] becomes the URL, headers and body that a
//! given webhook documents, and how its answer tells success from failure.
//!
//! Each service is one file. They share the wording from [`crate::message`] and differ in markup
//! and in what counts as safe: Slack's mrkdwn needs `&`, `<`, `>` escaped; DingTalk is sent as
//! its plain `text` message; Feishu as a `post` made of plain `text` elements; WeCom's markdown
//! has no documented escape for its `<@userid>` and `<font>` tags, so untrusted values go inside
//! code spans with the tag characters replaced by look-alikes. Rendering is pure (the clock is
//! passed in), so a retry simply renders again with a fresh timestamp for the signature.

pub mod dingtalk;
pub mod feishu;
pub mod generic;
pub mod slack;
pub mod wecom;

use std::time::{SystemTime, UNIX_EPOCH};

use crate::message::Notification;
use crate::settings::Format;

/// One HTTP POST, ready to send.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub url: url::Url,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// What a format needs besides the notification.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// The webhook's endpoint.
    pub url: &'a url::Url,
    /// The webhook's secret, if any.
    pub secret: Option<&'a str>,
    /// The link to the console page, if a console URL is set.
    pub link: Option<&'a str>,
    /// The time to sign with.
    pub now: SystemTime,
}

impl Context<'_> {
    pub(crate) fn unix_secs(&self) -> u64 {
        self.now
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs()
    }

    pub(crate) fn unix_millis(&self) -> u64 {
        self.now
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64
    }
}

/// The request for `notification` in `format`.
pub fn render(format: Format, notification: &Notification, ctx: &Context<'_>) -> Outgoing {
    let (url, headers, body) = match format {
        Format::Generic => return generic::render(notification, ctx),
        Format::Slack => (ctx.url.clone(), vec![], slack::body(notification, ctx.link)),
        Format::Dingtalk => (
            dingtalk::url(ctx),
            vec![],
            dingtalk::body(notification, ctx.link),
        ),
        Format::Feishu => (ctx.url.clone(), vec![], feishu::body(notification, ctx)),
        Format::Wecom => (ctx.url.clone(), vec![], wecom::body(notification, ctx.link)),
    };
    let mut headers = headers;
    headers.push(("content-type", "application/json".to_string()));
    Outgoing {
        url,
        headers,
        body: serde_json::to_vec(&body).expect("a JSON value always serializes"),
    }
}

/// Whether an answer with HTTP 2xx status is a success: the Chinese robots answer 200 with an
/// error code in the body when they refuse (bad signature, keyword missing, rate limit).
pub fn check_answer(format: Format, body: &[u8]) -> Result<(), String> {
    let field = match format {
        Format::Dingtalk | Format::Wecom => "errcode",
        Format::Feishu => "code",
        Format::Generic | Format::Slack => return Ok(()),
    };
    let Ok(answer) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Ok(());
    };
    match answer.get(field).and_then(|c| c.as_i64()) {
        Some(0) | None => Ok(()),
        Some(code) => {
            let message = ["errmsg", "msg"]
                .iter()
                .find_map(|k| answer.get(*k).and_then(|m| m.as_str()))
                .unwrap_or("");
            Err(format!(
                "refused with {field} {code}: {}",
                crate::message::plain(message)
            ))
        }
    }
}
