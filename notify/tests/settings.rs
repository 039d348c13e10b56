//! The `[notify]` section as the bastion reads it from bastion.toml: the documented example
//! parses with its defaults, and each kind of mistake gives an error naming the field (and,
//! for what the toml parser catches, the line and column).

use std::time::Duration;

use notify::{EventKind, Format, NotifySettings, SettingsError};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    notify: NotifySettings,
}

fn parse(text: &str) -> Result<NotifySettings, String> {
    toml::from_str::<File>(text)
        .map(|f| f.notify)
        .map_err(|e| e.to_string())
}

const EXAMPLE: &str = r#"
[notify]
console_url = "https://bastion.example.com:8443"

[[notify.webhook]]
name = "ops-slack"
format = "slack"
url = "https://hooks.slack.com/services/T000/B000/XXXX"
timeout = "5s"

[[notify.webhook]]
name = "dba-ding"
format = "dingtalk"
url = "https://oapi.dingtalk.com/robot/send?access_token=abc"
secret = "SEC123"
events = ["request_created", "request_decided"]
tries = 2
backoff = "500ms"
"#;

#[test]
fn the_documented_example_parses_with_defaults() {
    let settings = parse(EXAMPLE).unwrap();
    settings.validate().unwrap();
    assert_eq!(
        settings.console_url.as_deref(),
        Some("https://bastion.example.com:8443")
    );
    assert_eq!(settings.queue, 256);
    let [slack, ding] = &settings.webhooks[..] else {
        panic!("two webhooks")
    };
    assert_eq!(slack.format, Format::Slack);
    assert_eq!(slack.events, EventKind::ALL.to_vec());
    assert_eq!(
        (slack.timeout, slack.tries, slack.backoff),
        (Duration::from_secs(5), 4, Duration::from_secs(1))
    );
    assert_eq!(
        ding.events,
        [EventKind::RequestCreated, EventKind::RequestDecided]
    );
    assert_eq!((ding.tries, ding.backoff), (2, Duration::from_millis(500)));
    assert!(ding.wants(EventKind::RequestDecided) && !ding.wants(EventKind::LoginLockout));
}

#[test]
fn no_section_means_no_webhooks() {
    let settings = parse("").unwrap();
    settings.validate().unwrap();
    assert!(settings.webhooks.is_empty());
}

#[test]
fn debug_output_hides_the_url_and_secret() {
    let text = format!("{:?}", parse(EXAMPLE).unwrap());
    assert!(
        !text.contains("SEC123") && !text.contains("access_token") && !text.contains("XXXX"),
        "{text}"
    );
    assert!(text.contains("ops-slack"));
}

/// Parse errors: the toml parser names the line, column and field.
#[test]
fn parse_errors_name_the_field_and_its_place() {
    let cases = [
        ("[notify]\nconsol_url = \"x\"\n", "unknown field `consol_url`", "line 2, column 1"),
        (
            "[notify]\n[[notify.webhook]]\nname = \"a\"\nformat = \"teams\"\nurl = \"http://x\"\n",
            "unknown variant `teams`, expected one of `generic`, `slack`, `dingtalk`, `feishu`, `wecom`",
            "line 4, column 10",
        ),
        (
            "[notify]\n[[notify.webhook]]\nname = \"a\"\nformat = \"slack\"\nurl = \"http://x\"\ntimeout = \"soon\"\n",
            "\"soon\" is not a duration like \"5s\" or \"500ms\"",
            "line 6, column 11",
        ),
        (
            "[notify]\n[[notify.webhook]]\nname = \"a\"\nformat = \"slack\"\nurl = \"http://x\"\nevents = [\"request_made\"]\n",
            "unknown variant `request_made`",
            "line 6, column 11",
        ),
        ("[notify]\n[[notify.webhook]]\nname = \"a\"\nformat = \"slack\"\n", "missing field `url`", "line 2"),
        (
            "[notify]\n[[notify.webhook]]\nname = \"a\"\nformat = \"slack\"\nurl = \"http://x\"\nretries = 3\n",
            "unknown field `retries`",
            "line 6, column 1",
        ),
    ];
    for (text, what, place) in cases {
        let error = parse(text).expect_err(text);
        assert!(error.contains(what), "{error:?} should say {what:?}");
        assert!(error.contains(place), "{error:?} should say {place:?}");
    }
}

fn invalid(text: &str) -> SettingsError {
    parse(text).unwrap().validate().expect_err(text)
}

fn webhook(extra: &str) -> String {
    format!("[notify]\n[[notify.webhook]]\nname = \"ops\"\nformat = \"generic\"\nurl = \"http://127.0.0.1/\"\n{extra}\n")
}

/// What only shows once the values are read together.
#[test]
fn validation_errors_name_the_webhook_and_field() {
    let cases = [
        ("[notify]\nconsole_url = \"bastion:8443\"\n".to_string(), "notify.console_url: scheme \"bastion\" is not http or https"),
        ("[notify]\nqueue = 0\n".to_string(), "notify.queue: must be at least 1"),
        (webhook("tries = 0"), "notify.webhook[0] (ops).tries: must be at least 1"),
        (webhook("timeout = \"0s\""), "notify.webhook[0] (ops).timeout: must be more than 0s"),
        (webhook("events = []"), "notify.webhook[0] (ops).events: lists no event"),
        (webhook("secret = \"\""), "notify.webhook[0] (ops).secret: is empty"),
        (
            format!("{}[[notify.webhook]]\nname = \"ops\"\nformat = \"slack\"\nurl = \"https://x/\"\n", webhook("")),
            "notify.webhook[1] (ops).name: a webhook named \"ops\" already exists",
        ),
        (
            "[notify]\n[[notify.webhook]]\nname = \"ftp\"\nformat = \"generic\"\nurl = \"ftp://host/\"\n".to_string(),
            "notify.webhook[0] (ftp).url: scheme \"ftp\" is not http or https",
        ),
        (webhook("ca_file = \"/nonexistent/ca.pem\""), "notify.webhook[0] (ops).ca_file: /nonexistent/ca.pem: No such file"),
    ];
    for (text, expected) in cases {
        let error = invalid(&text).to_string();
        assert!(
            error.starts_with(expected),
            "{error:?} should start with {expected:?}"
        );
    }
    let not_pem = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(not_pem.path(), "hello").unwrap();
    let error = invalid(&webhook(&format!("ca_file = {:?}", not_pem.path()))).to_string();
    assert!(error.ends_with("holds no PEM certificate"), "{error}");
}

#[test]
fn a_url_error_does_not_print_the_url() {
    // A typo in a secret-bearing URL must not put the token in the bastion's error output.
    let error = invalid(&webhook("").replace("http://127.0.0.1/", "htp:/oapi?access_token=SECRET"))
        .to_string();
    assert!(!error.contains("SECRET"), "{error}");
}
