//! WeCom (企业微信) group robot ("群机器人").
//!
//! WeCom documents a POST of JSON to `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`
//! with `msgtype` text, markdown, image or news; markdown is `{"msgtype": "markdown",
//! "markdown": {"content": "…"}}` (at most 4096 bytes) in a subset of markdown — headings,
//! bold, links, quotes, inline code — plus `<font color="info|comment|warning">` tags, and in
//! both text and markdown `<@userid>` mentions a member. It answers `{"errcode": 0, "errmsg":
//! "ok"}`. The robot has no signing: the `key` in the URL is the credential.
//!
//! We send markdown (a titled message with a clickable console link). WeCom documents no
//! escape, so each untrusted value is shown inside an inline code span, where markdown is not
//! read, after replacing the characters that could still act — the backtick that would end the
//! span and the `<` `>` of its tag syntax — with full-width look-alikes (｀ ＜ ＞). What the
//! reader sees is then exactly what was typed except for those three characters; the linked
//! console page shows the original.

use serde_json::{json, Value};

use crate::message::Notification;

/// An untrusted value as an inline code span WeCom cannot read markup from.
pub fn code(text: &str) -> String {
    let inert: String = text
        .chars()
        .map(|c| match c {
            '`' => '｀',
            '<' => '＜',
            '>' => '＞',
            c => c,
        })
        .collect();
    format!("`{inert}`")
}

/// WeCom's limit on markdown content, in bytes.
pub const MAX_CONTENT_BYTES: usize = 4096;

/// The JSON body.
pub fn body(notification: &Notification, link: Option<&str>) -> Value {
    let mut content = content(notification, link, usize::MAX);
    if content.len() > MAX_CONTENT_BYTES {
        // Long commands in three-byte characters: shorten every value rather than cut the
        // markup (and the link) off the end.
        content = content_shortened(notification, link);
    }
    json!({"msgtype": "markdown", "markdown": {"content": content}})
}

fn content_shortened(notification: &Notification, link: Option<&str>) -> String {
    let mut chars = 120;
    loop {
        let content = content(notification, link, chars);
        if content.len() <= MAX_CONTENT_BYTES || chars <= 10 {
            return content;
        }
        chars /= 2;
    }
}

fn content(notification: &Notification, link: Option<&str>, max_chars: usize) -> String {
    let mut lines = vec![format!("**{}**", notification.title())];
    lines.extend(notification.facts().into_iter().map(|(label, value)| {
        let mut shown: String = value.chars().take(max_chars).collect();
        if shown.len() < value.len() {
            shown.push('…');
        }
        format!("> {label}: {}", code(&shown))
    }));
    if let Some(link) = link {
        // Our own URL, percent-encoded by construction; parentheses too, so none ends it early.
        let target = link.replace('(', "%28").replace(')', "%29");
        lines.push(format!("[Open in the console]({target})"));
    }
    lines.join("\n")
}
