//! Replaying scripted sessions through `CommandLog`, whole-chunk and byte by byte.

use recordings::{CommandLog, LoggedCommand};

pub const PROMPT: &str = "\x1b[?2004hroot@web1:~# ";
/// What bash 5.2 prints after Enter before the command runs.
pub const AFTER_ENTER: &str = "\r\n\x1b[?2004l\r";

#[derive(Clone, Debug)]
pub enum Dir {
    In,
    Out,
    /// The terminal's new width in columns, as decimal text.
    Resize,
}

/// A scripted session: input and output chunks in the order the proxy sees them.
#[derive(Clone, Debug)]
pub struct Session {
    pub name: String,
    pub steps: Vec<(Dir, Vec<u8>)>,
    pub expected: Vec<String>,
    /// Text that must never show up in a command or in `pending_line` (passwords).
    pub secrets: Vec<String>,
}

impl Session {
    /// A session whose target has just printed the prompt.
    pub fn new(name: &str) -> Self {
        Session {
            name: name.to_string(),
            steps: Vec::new(),
            expected: Vec::new(),
            secrets: Vec::new(),
        }
        .o(PROMPT)
    }

    pub fn i(mut self, s: &str) -> Self {
        self.steps.push((Dir::In, s.as_bytes().to_vec()));
        self
    }

    pub fn o(mut self, s: &str) -> Self {
        self.steps.push((Dir::Out, s.as_bytes().to_vec()));
        self
    }

    /// Types `s` key by key, each echoed as is.
    pub fn typed(mut self, s: &str) -> Self {
        for c in s.chars() {
            let c = c.to_string();
            self = self.i(&c).o(&c);
        }
        self
    }

    /// Enter, the shell's newline, the command's output and a fresh prompt.
    pub fn enter(self, output: &str) -> Self {
        self.i("\r").o(AFTER_ENTER).o(output).o(PROMPT)
    }

    pub fn expect(mut self, commands: &[&str]) -> Self {
        self.expected = commands.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn secret(mut self, s: &str) -> Self {
        self.secrets.push(s.to_string());
        self
    }
}

/// What a replay produced.
#[derive(Debug, PartialEq)]
pub struct Replay {
    pub commands: Vec<LoggedCommand>,
    /// `pending_line()` after every step (after every byte when byte by byte).
    pub pending: Vec<Option<String>>,
}

/// Replays `session`; step `n` happens at `n` seconds.
pub fn replay(session: &Session, bytewise: bool) -> Replay {
    let mut log = CommandLog::new();
    let mut commands = Vec::new();
    let mut pending = Vec::new();
    for (n, (dir, bytes)) in session.steps.iter().enumerate() {
        let at = n as f64;
        if let Dir::Resize = dir {
            let cols = std::str::from_utf8(bytes)
                .expect("width")
                .parse()
                .expect("width");
            log.set_width(cols);
            continue;
        }
        let chunks: Vec<&[u8]> = if bytewise {
            bytes.chunks(1).collect()
        } else {
            vec![bytes.as_slice()]
        };
        for chunk in chunks {
            commands.extend(match dir {
                Dir::In => log.input(at, chunk),
                Dir::Out => log.output(at, chunk),
                Dir::Resize => unreachable!("handled above"),
            });
            pending.push(log.pending_line());
        }
    }
    commands.extend(log.finish());
    Replay { commands, pending }
}

/// The command texts of a replay, checked for chunking independence and leaked secrets.
pub fn run(session: &Session) -> Vec<String> {
    let whole = replay(session, false);
    let bytewise = replay(session, true);
    assert_eq!(
        whole.commands, bytewise.commands,
        "{}: byte-by-byte replay differs",
        session.name
    );
    for secret in &session.secrets {
        for c in &whole.commands {
            assert!(
                !c.text.contains(secret.as_str()),
                "{}: secret in {c:?}",
                session.name
            );
        }
        for p in whole.pending.iter().chain(&bytewise.pending).flatten() {
            assert!(
                !p.contains(secret.as_str()),
                "{}: secret pending: {p:?}",
                session.name
            );
        }
    }
    whole.commands.into_iter().map(|c| c.text).collect()
}

/// Runs `session` and asserts it found exactly the expected commands.
pub fn check(session: &Session) {
    assert_eq!(run(session), session.expected, "{}", session.name);
}

/// Expected commands found, in order (longest common subsequence), and commands found.
pub fn score(session: &Session) -> (usize, usize) {
    let found = run(session);
    let e = &session.expected;
    let mut table = vec![vec![0usize; found.len() + 1]; e.len() + 1];
    for i in 0..e.len() {
        for j in 0..found.len() {
            table[i + 1][j + 1] = if e[i] == found[j] {
                table[i][j] + 1
            } else {
                table[i][j + 1].max(table[i + 1][j])
            };
        }
    }
    (table[e.len()][found.len()], found.len())
}
