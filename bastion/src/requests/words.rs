//! The exec words of requests: `request HOST [--for D] [--reason TEXT] [--no-wait]`,
//! `approve ID [--for D]`, `deny ID --reason TEXT`.
//!
//! ssh joins its command-line words with spaces and the quotes the user typed are gone by
//! then (`--reason "INC-4521 db down"` arrives as `--reason INC-4521 db down`), so a reason
//! runs to the next `--flag` or the end; quotes that do arrive (typed inside other quotes)
//! group words as a shell would.

use std::time::Duration;

use super::ask::AccessAsk;
use super::decide::Answer;

/// A parsed request word.
#[derive(Debug)]
pub enum Word {
    Request { ask: AccessAsk, wait: bool },
    Decide { id: i64, answer: Answer },
}

/// `None` when the command is not a request word; `Some(Err)` when it is one, misused.
pub fn parse_word(command: &str) -> Option<Result<Word, String>> {
    let words = split(command);
    let (first, rest) = words.split_first()?;
    match first.as_str() {
        "request" => Some(request(rest)),
        "approve" => Some(decide(rest, true)),
        "deny" => Some(decide(rest, false)),
        _ => None,
    }
}

const REQUEST_USAGE: &str =
    "usage: request [LOGIN@]HOST [--for DURATION] [--reason TEXT] [--no-wait]";

fn request(words: &[String]) -> Result<Word, String> {
    let Some((target, flags)) = words.split_first() else {
        return Err(REQUEST_USAGE.into());
    };
    if target.starts_with("--") {
        return Err(REQUEST_USAGE.into());
    }
    let (login, host) = match target.split_once('@') {
        Some((l, h)) => (Some(l.to_string()), h.to_string()),
        None => (None, target.clone()),
    };
    let flags = Flags::read(flags, &["--for", "--reason"], &["--no-wait"])?;
    Ok(Word::Request {
        ask: AccessAsk {
            host,
            login,
            duration: flags.duration()?,
            reason: flags.value("--reason").unwrap_or_default(),
        },
        wait: !flags.has("--no-wait"),
    })
}

fn decide(words: &[String], approve: bool) -> Result<Word, String> {
    let usage = if approve {
        "usage: approve ID [--for DURATION]"
    } else {
        "usage: deny ID --reason TEXT"
    };
    let Some((id, flags)) = words.split_first() else {
        return Err(usage.into());
    };
    let id: i64 = id.parse().map_err(|_| usage.to_string())?;
    let answer = if approve {
        let flags = Flags::read(flags, &["--for"], &[])?;
        Answer::Approve {
            duration: flags.duration()?,
        }
    } else {
        let flags = Flags::read(flags, &["--reason"], &[])?;
        Answer::Deny {
            reason: flags.value("--reason").ok_or(usage)?,
        }
    };
    Ok(Word::Decide { id, answer })
}

/// `--flag VALUE...` and `--switch` words.
struct Flags {
    values: Vec<(String, String)>,
    switches: Vec<String>,
}

impl Flags {
    fn read(words: &[String], valued: &[&str], switches: &[&str]) -> Result<Flags, String> {
        let mut out = Flags {
            values: Vec::new(),
            switches: Vec::new(),
        };
        let mut i = 0;
        while i < words.len() {
            let w = words[i].as_str();
            if switches.contains(&w) {
                out.switches.push(w.to_string());
                i += 1;
            } else if valued.contains(&w) {
                let end = (i + 1..words.len())
                    .find(|&j| words[j].starts_with("--"))
                    .unwrap_or(words.len());
                if end == i + 1 {
                    return Err(format!("{w} needs a value"));
                }
                out.values
                    .push((w.to_string(), words[i + 1..end].join(" ")));
                i = end;
            } else {
                return Err(format!("unknown option {w:?}"));
            }
        }
        Ok(out)
    }

    fn value(&self, flag: &str) -> Option<String> {
        self.values
            .iter()
            .rev()
            .find(|(f, _)| f == flag)
            .map(|(_, v)| v.clone())
    }

    fn has(&self, switch: &str) -> bool {
        self.switches.iter().any(|s| s == switch)
    }

    fn duration(&self) -> Result<Option<Duration>, String> {
        self.value("--for")
            .map(|d| policies::parse_duration(&d).map_err(|e| format!("--for: {e}")))
            .transpose()
    }
}

/// Splits on whitespace; single or double quotes group words.
fn split(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in command.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_words_read_as_ssh_delivers_them() {
        let Some(Ok(Word::Request { ask, wait })) =
            parse_word("request postgres@db1 --for 2h --reason INC-4521 db is down")
        else {
            panic!()
        };
        assert_eq!(ask.host, "db1");
        assert_eq!(ask.login.as_deref(), Some("postgres"));
        assert_eq!(ask.duration, Some(Duration::from_secs(7200)));
        assert_eq!(ask.reason, "INC-4521 db is down");
        assert!(wait);
        let Some(Ok(Word::Request { ask, wait })) =
            parse_word("request db1 --reason 'a b' --no-wait")
        else {
            panic!()
        };
        assert_eq!((ask.reason.as_str(), wait, ask.login), ("a b", false, None));
        assert!(parse_word("web1 uptime").is_none());
        assert!(parse_word("request").unwrap().is_err());
        assert!(parse_word("request db1 --for").unwrap().is_err());
        assert!(parse_word("request db1 --for soon").unwrap().is_err());
        assert!(parse_word("request db1 --bogus").unwrap().is_err());
    }

    #[test]
    fn decision_words() {
        let Some(Ok(Word::Decide {
            id: 12,
            answer: Answer::Approve { duration },
        })) = parse_word("approve 12 --for 1h")
        else {
            panic!()
        };
        assert_eq!(duration, Some(Duration::from_secs(3600)));
        let Some(Ok(Word::Decide {
            id: 3,
            answer: Answer::Deny { reason },
        })) = parse_word("deny 3 --reason not during the freeze")
        else {
            panic!()
        };
        assert_eq!(reason, "not during the freeze");
        assert!(parse_word("deny 3").unwrap().is_err());
        assert!(parse_word("approve x").unwrap().is_err());
    }
}
