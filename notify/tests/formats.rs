//! Each format's request, sent by a real [`Notifier`] to a real HTTP receiver, checked field by
//! field against the shape the service documents; signatures recomputed here with the HMAC
//! crate directly (not through `notify::sign`); untrusted text shown to be inert in each format.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use common::{failures, settings, Answer, Receiver};
use hmac::{Hmac, Mac};
use notify::{Notification, Notifier};
use serde_json::{json, Value};
use sha2::Sha256;

const CONSOLE: &str = "https://bastion.example.com:8443";
/// Every kind of markup the five services read, in a command someone typed.
const NASTY: &str = "<!channel> <script>alert(1)</script> & **bold** [x](http://evil) <@all> `tick` <at user_id=\"all\"></at>\n# heading";

fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn b64(bytes: Vec<u8>) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn request() -> Notification {
    Notification::RequestCreated {
        id: "42".into(),
        user: "alice".into(),
        hosts: vec!["db1".into(), "db2".into()],
        login: "postgres".into(),
        duration: Duration::from_secs(2 * 3600),
        reason: Some("INC-4521".into()),
    }
}

fn blocked() -> Notification {
    Notification::CommandBlocked {
        session: "s-7".into(),
        user: "mallory".into(),
        host: "web1".into(),
        login: "root".into(),
        command: NASTY.into(),
        rule: "^rm ".into(),
    }
}

/// A notifier with one webhook of `format` pointing at `receiver`.
fn one_webhook(
    receiver: &Receiver,
    format: &str,
    extra: &str,
) -> (
    Notifier,
    tokio::sync::mpsc::UnboundedReceiver<notify::DeliveryFailure>,
) {
    let text = format!(
        "[notify]\nconsole_url = \"{CONSOLE}\"\n[[notify.webhook]]\nname = \"{format}-hook\"\nformat = \"{format}\"\nurl = \"{}\"\ntries = 1\n{extra}",
        receiver.url("/hook?access_token=tok")
    );
    let (hook, failed) = failures();
    (Notifier::start(settings(&text), hook).unwrap(), failed)
}

#[tokio::test]
async fn generic_json_carries_the_fields_and_a_verifiable_signature() {
    let mut receiver = Receiver::start(Answer::Ok("{}")).await;
    let (notifier, _failed) = one_webhook(&receiver, "generic", "secret = \"s3cret\"");
    notifier.send(request());
    let got = receiver.next().await;

    assert_eq!(got.path, "/hook");
    assert_eq!(got.header("content-type"), Some("application/json"));
    let timestamp = got.header("x-bastion-timestamp").expect("timestamp header");
    let ts: u64 = timestamp.parse().expect("timestamp is unix seconds");
    assert!(ts.abs_diff(now_secs()) < 3600, "timestamp {ts} is not now");
    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(&got.body);
    let expected = format!("sha256={}", hex::encode(hmac(b"s3cret", &signed)));
    assert_eq!(got.header("x-bastion-signature"), Some(expected.as_str()));

    assert_eq!(
        got.json(),
        json!({
            "event": "request_created",
            "id": "42",
            "user": "alice",
            "hosts": ["db1", "db2"],
            "login": "postgres",
            "duration_secs": 7200,
            "reason": "INC-4521",
            "title": "Access request",
            "text": "alice asks for postgres@db1, db2 for 2h",
            "url": "https://bastion.example.com:8443/requests/42",
        })
    );

    // JSON is data: untrusted text arrives exactly as typed, newline included.
    notifier.send(blocked());
    let body = receiver.next().await.json();
    assert_eq!(body["event"], "command_blocked");
    assert_eq!(body["command"], NASTY);
    assert_eq!(body["url"], "https://bastion.example.com:8443/sessions/s-7");
}

#[tokio::test]
async fn generic_without_secret_is_unsigned() {
    let mut receiver = Receiver::start(Answer::Ok("{}")).await;
    let (notifier, _failed) = one_webhook(&receiver, "generic", "");
    notifier.send(Notification::LoginLockout {
        user: "bob smith".into(),
        source: "203.0.113.9".into(),
        failures: 5,
    });
    let got = receiver.next().await;
    assert!(got.header("x-bastion-signature").is_none());
    assert!(got.header("x-bastion-timestamp").is_some());
    let body = got.json();
    assert_eq!(body["failures"], 5);
    assert_eq!(
        body["url"],
        "https://bastion.example.com:8443/audit?user=bob+smith"
    );
}

#[tokio::test]
async fn slack_sends_text_and_blocks_with_control_characters_escaped() {
    let mut receiver = Receiver::start(Answer::Ok("ok")).await;
    let (notifier, _failed) = one_webhook(&receiver, "slack", "");
    notifier.send(request());
    let body = receiver.next().await.json();

    assert_eq!(
        body["text"],
        "Access request: alice asks for postgres@db1, db2 for 2h"
    );
    let blocks = body["blocks"].as_array().expect("blocks");
    assert_eq!(blocks.len(), 4);
    assert_eq!(
        blocks[0],
        json!({"type": "header", "text": {"type": "plain_text", "text": "Access request"}})
    );
    assert_eq!(blocks[1]["type"], "section");
    assert_eq!(blocks[1]["text"]["type"], "mrkdwn");
    let fields = blocks[2]["fields"].as_array().expect("fields");
    assert!(fields.len() <= 10, "Slack allows 10 fields in a section");
    assert_eq!(
        fields[0],
        json!({"type": "mrkdwn", "text": "*Request*\n42"})
    );
    assert_eq!(
        fields[2],
        json!({"type": "mrkdwn", "text": "*Hosts*\ndb1, db2"})
    );
    assert_eq!(
        blocks[3]["text"],
        json!({"type": "mrkdwn", "text": "<https://bastion.example.com:8443/requests/42|Open in the console>"})
    );

    notifier.send(blocked());
    let body = receiver.next().await.json();
    let command = &body["blocks"][2]["fields"][4]["text"];
    assert_eq!(
        command.as_str().unwrap(),
        "*Command*\n&lt;!channel&gt; &lt;script&gt;alert(1)&lt;/script&gt; &amp; **bold** [x](http://evil) &lt;@all&gt; `tick` &lt;at user_id=\"all\"&gt;&lt;/at&gt; # heading"
    );
    for text in all_strings(&body) {
        // The only `<` left is our own console link.
        assert!(
            !text.contains("<!") && !text.contains("<s") && !text.contains("<@"),
            "unescaped: {text}"
        );
    }
}

#[tokio::test]
async fn dingtalk_signs_the_url_and_sends_plain_text() {
    let mut receiver = Receiver::start(Answer::Ok(r#"{"errcode":0,"errmsg":"ok"}"#)).await;
    let (notifier, mut failed) = one_webhook(&receiver, "dingtalk", "secret = \"SECabc+/=\"");
    notifier.send(request());
    let got = receiver.next().await;

    assert_eq!(got.path, "/hook");
    assert_eq!(got.query_value("access_token").as_deref(), Some("tok"));
    let timestamp = got
        .query_value("timestamp")
        .expect("timestamp query parameter");
    let ms: u64 = timestamp.parse().expect("milliseconds");
    assert!(
        (ms / 1000).abs_diff(now_secs()) < 3600,
        "timestamp {ms} is not now in ms"
    );
    let sign = got.query_value("sign").expect("sign query parameter");
    assert_eq!(
        sign,
        b64(hmac(
            b"SECabc+/=",
            format!("{timestamp}\nSECabc+/=").as_bytes()
        ))
    );
    let raw_sign = got
        .query
        .as_deref()
        .unwrap()
        .split("sign=")
        .nth(1)
        .unwrap()
        .to_string();
    assert!(
        !raw_sign.contains(['+', '/', '=']),
        "sign is URL-encoded: {raw_sign}"
    );

    let body = got.json();
    assert_eq!(body["msgtype"], "text");
    assert_eq!(body["at"], json!({"atMobiles": [], "isAtAll": false}));
    assert_eq!(
        body["text"]["content"],
        "[bastion] Access request\nalice asks for postgres@db1, db2 for 2h\nRequest: 42\nUser: alice\nHosts: db1, db2\nLogin: postgres\nDuration: 2h\nReason: INC-4521\nhttps://bastion.example.com:8443/requests/42"
    );

    // The plain text message type reads no markup; the newline in the command cannot start
    // a line of its own.
    notifier.send(blocked());
    let content = receiver.next().await.json()["text"]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(content.contains(&format!("Command: {}", NASTY.replace('\n', " "))));
    assert!(!content.lines().any(|l| l.starts_with('#')));
    assert!(failed.try_recv().is_err(), "errcode 0 is a success");
}

#[tokio::test]
async fn feishu_signs_the_body_and_sends_a_post_of_plain_text() {
    let mut receiver = Receiver::start(Answer::Ok(r#"{"code":0,"msg":"success","data":{}}"#)).await;
    let (notifier, _failed) = one_webhook(&receiver, "feishu", "secret = \"fs-secret\"");
    notifier.send(request());
    let body = receiver.next().await.json();

    let timestamp = body["timestamp"]
        .as_str()
        .expect("timestamp is a string of seconds");
    assert!(timestamp.parse::<u64>().unwrap().abs_diff(now_secs()) < 3600);
    let key = format!("{timestamp}\nfs-secret");
    assert_eq!(
        body["sign"].as_str().unwrap(),
        b64(hmac(key.as_bytes(), b""))
    );
    assert_eq!(body["msg_type"], "post");
    let post = &body["content"]["post"]["zh_cn"];
    assert_eq!(post["title"], "Access request");
    let lines = post["content"].as_array().unwrap();
    assert_eq!(
        lines[0],
        json!([{"tag": "text", "text": "alice asks for postgres@db1, db2 for 2h"}])
    );
    assert_eq!(lines[1], json!([{"tag": "text", "text": "Request: 42"}]));
    assert_eq!(
        lines.last().unwrap(),
        &json!([{"tag": "a", "text": "Open in the console", "href": "https://bastion.example.com:8443/requests/42"}])
    );

    notifier.send(blocked());
    let body = receiver.next().await.json();
    let lines = body["content"]["post"]["zh_cn"]["content"]
        .as_array()
        .unwrap()
        .clone();
    for element in lines.iter().flat_map(|l| l.as_array().unwrap()) {
        // Only plain text elements (no un_escape) and our own link: no at, no img, no md.
        match element["tag"].as_str().unwrap() {
            "text" => assert!(element.get("un_escape").is_none()),
            "a" => assert!(element["href"].as_str().unwrap().starts_with(CONSOLE)),
            other => panic!("unexpected element {other}"),
        }
    }
    let command = format!("Command: {}", NASTY.replace('\n', " "));
    assert!(lines.contains(&json!([{"tag": "text", "text": command}])));
}

#[tokio::test]
async fn wecom_sends_markdown_with_values_in_inert_code_spans() {
    let mut receiver = Receiver::start(Answer::Ok(r#"{"errcode":0,"errmsg":"ok"}"#)).await;
    let (notifier, _failed) = one_webhook(&receiver, "wecom", "");
    notifier.send(request());
    let body = receiver.next().await.json();

    assert_eq!(body["msgtype"], "markdown");
    let content = body["markdown"]["content"].as_str().unwrap();
    assert_eq!(
        content,
        "**Access request**\n> Request: `42`\n> User: `alice`\n> Hosts: `db1, db2`\n> Login: `postgres`\n> Duration: `2h`\n> Reason: `INC-4521`\n[Open in the console](https://bastion.example.com:8443/requests/42)"
    );

    notifier.send(blocked());
    let content = receiver.next().await.json()["markdown"]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(content.len() <= 4096);
    let line = content
        .lines()
        .find(|l| l.starts_with("> Command: "))
        .unwrap();
    assert_eq!(
        line,
        "> Command: `＜!channel＞ ＜script＞alert(1)＜/script＞ & **bold** [x](http://evil) ＜@all＞ ｀tick｀ ＜at user_id=\"all\"＞＜/at＞ # heading`"
    );
    assert!(
        !content.contains('<'),
        "no tag of WeCom's can start: {content}"
    );
    assert_eq!(
        content.lines().count(),
        8,
        "the command's newline did not make a line"
    );
}

/// Every string in a JSON value.
fn all_strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().flat_map(all_strings).collect(),
        Value::Object(map) => map.values().flat_map(all_strings).collect(),
        _ => vec![],
    }
}
