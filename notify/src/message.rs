//! What the bastion announces: one [`Notification`] per event, independent of any chat service.
//!
//! Each notification knows its event name (the word used in `events = [...]` and in the generic
//! JSON), a fixed title, a one-line headline, labelled facts, and the console page that shows it.
//! The formats only decide how to draw these, so the wording is written once and the five
//! services say the same thing.
//!
//! Nearly every value here comes from someone else: user names typed at the SSH login prompt
//! (a lockout's user is whatever an attacker tried), reasons typed by requesters, commands
//! typed in sessions. [`Notification::headline`] and [`Notification::facts`] therefore give
//! them as *plain text on one line* (control characters and newlines become spaces, so a reason
//! cannot start a new markdown heading or quote), cut to a readable length; each format then
//! escapes that plain text for its own markup.

use std::time::Duration;

use serde::{Deserialize, Serialize, Serializer};

/// Longest value shown in a chat message, in characters; longer ones end with "…". The generic
/// JSON format carries values whole.
pub const MAX_VALUE_CHARS: usize = 300;

/// The kinds of event, as named in `events = [...]` and in the generic JSON's `"event"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    RequestCreated,
    RequestDecided,
    CommandReview,
    ReviewDecided,
    CommandBlocked,
    LoginLockout,
}

impl EventKind {
    /// Every kind, the default of `events`.
    pub const ALL: [EventKind; 6] = [
        EventKind::RequestCreated,
        EventKind::RequestDecided,
        EventKind::CommandReview,
        EventKind::ReviewDecided,
        EventKind::CommandBlocked,
        EventKind::LoginLockout,
    ];

    /// The snake_case word, e.g. "request_created".
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::RequestCreated => "request_created",
            EventKind::RequestDecided => "request_decided",
            EventKind::CommandReview => "command_review",
            EventKind::ReviewDecided => "review_decided",
            EventKind::CommandBlocked => "command_blocked",
            EventKind::LoginLockout => "login_lockout",
        }
    }
}

/// One event to announce. Ids are the bastion's own (request, review and session ids), carried
/// as text so the library does not fix their type.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Notification {
    /// Someone asks for time-boxed access to hosts that need an approval.
    RequestCreated {
        id: String,
        user: String,
        hosts: Vec<String>,
        login: String,
        #[serde(rename = "duration_secs", serialize_with = "secs")]
        duration: Duration,
        reason: Option<String>,
    },
    /// An approver approved or denied a request.
    RequestDecided {
        id: String,
        user: String,
        approver: String,
        approved: bool,
        #[serde(rename = "duration_secs", serialize_with = "secs")]
        duration: Duration,
        reason: Option<String>,
    },
    /// A command line is held until a second person approves it.
    CommandReview {
        id: String,
        user: String,
        host: String,
        login: String,
        command: String,
    },
    /// A held command was approved, denied, or nobody answered in time (`approver` is None).
    ReviewDecided {
        id: String,
        user: String,
        host: String,
        command: String,
        approver: Option<String>,
        approved: bool,
    },
    /// A command line matched a deny rule and was wiped.
    CommandBlocked {
        session: String,
        user: String,
        host: String,
        login: String,
        command: String,
        rule: String,
    },
    /// Too many failed logins: the user is locked out for a while.
    LoginLockout {
        user: String,
        source: String,
        failures: u32,
    },
}

/// A console page: path segments (each percent-encoded when joined) and an optional query pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsolePath {
    pub segments: Vec<String>,
    pub query: Option<(&'static str, String)>,
}

impl Notification {
    /// The event's kind.
    pub fn kind(&self) -> EventKind {
        match self {
            Notification::RequestCreated { .. } => EventKind::RequestCreated,
            Notification::RequestDecided { .. } => EventKind::RequestDecided,
            Notification::CommandReview { .. } => EventKind::CommandReview,
            Notification::ReviewDecided { .. } => EventKind::ReviewDecided,
            Notification::CommandBlocked { .. } => EventKind::CommandBlocked,
            Notification::LoginLockout { .. } => EventKind::LoginLockout,
        }
    }

    /// A fixed title (no user-supplied text in it).
    pub fn title(&self) -> &'static str {
        match self {
            Notification::RequestCreated { .. } => "Access request",
            Notification::RequestDecided { approved: true, .. } => "Access request approved",
            Notification::RequestDecided { .. } => "Access request denied",
            Notification::CommandReview { .. } => "Command awaiting review",
            Notification::ReviewDecided { approved: true, .. } => "Command review approved",
            Notification::ReviewDecided { approver: None, .. } => "Command review timed out",
            Notification::ReviewDecided { .. } => "Command review denied",
            Notification::CommandBlocked { .. } => "Command blocked",
            Notification::LoginLockout { .. } => "Login locked out",
        }
    }

    /// One plain-text sentence saying what happened (untrusted parts made one-line; not escaped).
    pub fn headline(&self) -> String {
        let p = plain;
        match self {
            Notification::RequestCreated {
                user,
                hosts,
                login,
                duration,
                ..
            } => format!(
                "{} asks for {}@{} for {}",
                p(user),
                p(login),
                p(&hosts.join(", ")),
                human(*duration)
            ),
            Notification::RequestDecided {
                user,
                approver,
                approved,
                duration,
                ..
            } => match approved {
                true => format!(
                    "{} approved {} for {}",
                    p(approver),
                    p(user),
                    human(*duration)
                ),
                false => format!("{} denied {}'s request", p(approver), p(user)),
            },
            Notification::CommandReview { user, host, .. } => {
                format!(
                    "{} on {} runs a command that needs a review",
                    p(user),
                    p(host)
                )
            }
            Notification::ReviewDecided {
                user,
                approver,
                approved,
                ..
            } => match (approver, approved) {
                (Some(a), true) => format!("{} approved {}'s command", p(a), p(user)),
                (Some(a), false) => format!("{} denied {}'s command", p(a), p(user)),
                (None, _) => format!(
                    "nobody reviewed {}'s command in time: it was wiped",
                    p(user)
                ),
            },
            Notification::CommandBlocked { user, host, .. } => {
                format!("{} on {}: a command was blocked", p(user), p(host))
            }
            Notification::LoginLockout {
                user,
                source,
                failures,
            } => format!(
                "{} is locked out after {} failed logins from {}",
                p(user),
                failures,
                p(source)
            ),
        }
    }

    /// Labelled values, in the order shown; values are plain one-line text, not escaped.
    pub fn facts(&self) -> Vec<(&'static str, String)> {
        self.request_facts()
            .or_else(|| self.review_facts())
            .unwrap_or_else(|| self.session_facts())
    }

    /// The facts of an access request or its decision.
    fn request_facts(&self) -> Option<Vec<(&'static str, String)>> {
        let p = plain;
        let reason = |r: &Option<String>| r.as_deref().map(p).unwrap_or_else(|| "-".into());
        let facts = match self {
            Notification::RequestCreated {
                id,
                user,
                hosts,
                login,
                duration,
                reason: r,
            } => vec![
                ("Request", p(id)),
                ("User", p(user)),
                ("Hosts", p(&hosts.join(", "))),
                ("Login", p(login)),
                ("Duration", human(*duration)),
                ("Reason", reason(r)),
            ],
            Notification::RequestDecided {
                id,
                user,
                approver,
                duration,
                reason: r,
                ..
            } => vec![
                ("Request", p(id)),
                ("User", p(user)),
                ("Approver", p(approver)),
                ("Duration", human(*duration)),
                ("Reason", reason(r)),
            ],
            _ => return None,
        };
        Some(facts)
    }

    /// The facts of a command review or its outcome.
    fn review_facts(&self) -> Option<Vec<(&'static str, String)>> {
        let p = plain;
        let facts = match self {
            Notification::CommandReview {
                id,
                user,
                host,
                login,
                command,
            } => vec![
                ("Review", p(id)),
                ("User", p(user)),
                ("Host", p(host)),
                ("Login", p(login)),
                ("Command", p(command)),
            ],
            Notification::ReviewDecided {
                id,
                user,
                host,
                command,
                approver,
                ..
            } => vec![
                ("Review", p(id)),
                ("User", p(user)),
                ("Host", p(host)),
                ("Command", p(command)),
                (
                    "Approver",
                    approver.as_deref().map(p).unwrap_or_else(|| "-".into()),
                ),
            ],
            _ => return None,
        };
        Some(facts)
    }

    /// The facts of a blocked command or a lockout.
    fn session_facts(&self) -> Vec<(&'static str, String)> {
        let p = plain;
        match self {
            Notification::CommandBlocked {
                session,
                user,
                host,
                login,
                command,
                rule,
            } => vec![
                ("Session", p(session)),
                ("User", p(user)),
                ("Host", p(host)),
                ("Login", p(login)),
                ("Command", p(command)),
                ("Rule", p(rule)),
            ],
            Notification::LoginLockout {
                user,
                source,
                failures,
            } => vec![
                ("User", p(user)),
                ("From", p(source)),
                ("Failures", failures.to_string()),
            ],
            _ => Vec::new(),
        }
    }

    /// The console page showing this event.
    pub fn console_path(&self) -> ConsolePath {
        let page = |a: &str, b: &str| ConsolePath {
            segments: vec![a.to_string(), b.to_string()],
            query: None,
        };
        match self {
            Notification::RequestCreated { id, .. } | Notification::RequestDecided { id, .. } => {
                page("requests", id)
            }
            Notification::CommandReview { id, .. } | Notification::ReviewDecided { id, .. } => {
                page("reviews", id)
            }
            Notification::CommandBlocked { session, .. } => page("sessions", session),
            Notification::LoginLockout { user, .. } => ConsolePath {
                segments: vec!["audit".into()],
                query: Some(("user", user.clone())),
            },
        }
    }

    /// The full link: `console_url` with this event's page joined on (None without a console URL).
    pub fn link(&self, console_url: Option<&str>) -> Option<String> {
        let mut url = url::Url::parse(console_url?).ok()?;
        let path = self.console_path();
        url.path_segments_mut()
            .ok()?
            .pop_if_empty()
            .extend(path.segments.iter());
        if let Some((key, value)) = &path.query {
            url.query_pairs_mut().clear().append_pair(key, value);
        }
        Some(url.to_string())
    }
}

/// Untrusted text made one line (control characters become spaces) and cut to
/// [`MAX_VALUE_CHARS`].
pub fn plain(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if breaks_line(c) { ' ' } else { c })
        .take(MAX_VALUE_CHARS)
        .collect();
    if text.chars().count() > MAX_VALUE_CHARS {
        out.push('…');
    }
    out
}

/// Control characters, Unicode line/paragraph separators and bidirectional overrides (which
/// could make a command read differently from what runs).
fn breaks_line(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A duration as people write it: "2h", "1h 30m".
pub fn human(duration: Duration) -> String {
    humantime::format_duration(Duration::from_secs(duration.as_secs())).to_string()
}

fn secs<S: Serializer>(duration: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(duration.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review(id: &str) -> Notification {
        Notification::CommandReview {
            id: id.into(),
            user: "alice".into(),
            host: "db1".into(),
            login: "postgres".into(),
            command: "DROP TABLE t".into(),
        }
    }

    #[test]
    fn links_join_onto_the_console_url_and_encode_ids() {
        let n = review("7");
        assert_eq!(n.link(None), None);
        assert_eq!(
            n.link(Some("https://b.example:8443")).unwrap(),
            "https://b.example:8443/reviews/7"
        );
        assert_eq!(
            n.link(Some("https://b.example/console/")).unwrap(),
            "https://b.example/console/reviews/7"
        );
        let odd = review("a/b c?#<>");
        assert_eq!(
            odd.link(Some("https://b.example")).unwrap(),
            "https://b.example/reviews/a%2Fb%20c%3F%23%3C%3E"
        );
        let lockout = Notification::LoginLockout {
            user: "x&y=z".into(),
            source: "192.0.2.1".into(),
            failures: 5,
        };
        assert_eq!(
            lockout.link(Some("https://b.example")).unwrap(),
            "https://b.example/audit?user=x%26y%3Dz"
        );
    }

    #[test]
    fn plain_text_is_one_line_and_bounded() {
        assert_eq!(plain("a\nb\r\tc\u{2028}d\u{202E}e"), "a b  c d e");
        let long = "x".repeat(MAX_VALUE_CHARS + 5);
        let shown = plain(&long);
        assert_eq!(shown.chars().count(), MAX_VALUE_CHARS + 1);
        assert!(shown.ends_with('…'));
        assert_eq!(
            plain(&"y".repeat(MAX_VALUE_CHARS)),
            "y".repeat(MAX_VALUE_CHARS)
        );
    }

    #[test]
    fn every_kind_has_a_title_headline_and_facts() {
        let decided = Notification::ReviewDecided {
            id: "1".into(),
            user: "alice".into(),
            host: "db1".into(),
            command: "DROP".into(),
            approver: None,
            approved: false,
        };
        assert_eq!(decided.title(), "Command review timed out");
        assert_eq!(
            decided.headline(),
            "nobody reviewed alice's command in time: it was wiped"
        );
        assert_eq!(decided.kind().as_str(), "review_decided");
        let denied = Notification::RequestDecided {
            id: "2".into(),
            user: "alice".into(),
            approver: "bob".into(),
            approved: false,
            duration: Duration::from_secs(5400),
            reason: None,
        };
        assert_eq!(denied.title(), "Access request denied");
        assert_eq!(denied.facts()[3], ("Duration", "1h 30m".to_string()));
        assert_eq!(denied.facts()[4], ("Reason", "-".to_string()));
    }
}
