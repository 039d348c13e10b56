//! The command-line state machine: which line is being typed, which lines were submitted and
//! are waiting for the target's echo, and how a submitted line's text is read off the echo.
//!
//! The command text always comes from the echo, never from the keystrokes. Keystrokes only say
//! *when* a line was submitted or cancelled, and, for a line typed as plain characters, what
//! the echo must show: a line whose echo does not show what was typed (a password typed with
//! echo off) yields nothing.

use std::collections::VecDeque;

use super::input::Key;
use super::line::{EchoLine, MAX_CELLS};
use super::{CommandExit, LoggedCommand};

/// Most submitted lines kept waiting for their echo; older ones are dropped.
const MAX_QUEUE: usize = 64;
/// Type-ahead lines still unmatched this long after submission are given up when a new line
/// starts.
const STALE_SECS: f64 = 30.0;

/// The line being typed: at least one key seen since the last Enter, Ctrl-C or prompt.
#[derive(Debug, Clone)]
struct Typing {
    /// Echo column where the user started typing, i.e. where the prompt ends. `None` when it
    /// cannot be known: the previous line's echo had not arrived yet (type-ahead), or the row
    /// was empty (the prompt had not been drawn yet).
    start: Option<usize>,
    /// The typed characters, while the line holds nothing but printable characters. Kept only
    /// to check the echo against; never reported.
    plain: Option<String>,
    /// The target drew on the row while this line was typed.
    echoed: bool,
    /// The row left of `start` when typing began. If it changes, the keys went to a program
    /// that has since given the row back (top, a pager without alternate screen, ...), and the
    /// line starts afresh at the next key.
    prompt: String,
    /// [`Core::rows`] at the last key.
    rows: u64,
    /// Typing began while an earlier line still waited for its echo: keys typed ahead for the
    /// shell, which reads them once the running command ends. Rows changing meanwhile is
    /// expected, so it does not make the line stale.
    ahead: bool,
}

/// A line the user submitted with Enter, waiting for its echo to be complete.
#[derive(Debug)]
struct Submission {
    at: f64,
    typing: Typing,
    /// Output arrived after the Enter.
    output_seen: bool,
}

/// What a submitted line turned out to be, judged from the echo.
enum Verdict {
    Command(String),
    /// Not a command: empty, or not echoed (typed blind).
    Nothing,
    /// Not this row: keep waiting (type-ahead lines only).
    NoMatch,
}

/// Everything but the parsers; the output parser drives it through [`vte::Perform`].
#[derive(Debug, Default)]
pub(super) struct Core {
    pub(super) line: EchoLine,
    pub(super) fullscreen: bool,
    typing: Option<Typing>,
    queue: VecDeque<Submission>,
    /// The text left of the start column, last time the start column was known.
    prompt: Option<String>,
    in_paste: bool,
    /// Column of an OSC 133 `B` mark (end of prompt) not yet used.
    pub(super) start_hint: Option<usize>,
    pub(super) done: Vec<LoggedCommand>,
    /// Exit statuses reported by the shell, not yet taken.
    pub(super) exits: Vec<CommandExit>,
    /// Number the next logged command gets.
    next_seq: u64,
    /// The last logged command, while no exit status has been reported after it.
    awaiting_exit: Option<u64>,
    /// How often the cursor left the row; tells whether rows changed between two keys.
    rows: u64,
}

impl Core {
    /// One key from the user.
    pub(super) fn key(&mut self, at: f64, key: Key) {
        if self.fullscreen {
            return;
        }
        self.finalize_stale();
        if self
            .typing
            .as_ref()
            .is_some_and(|t| self.typing_is_stale(t))
        {
            self.typing = None;
        }
        match key {
            Key::PasteStart => self.in_paste = true,
            Key::PasteEnd => self.in_paste = false,
            Key::Interrupt if !self.in_paste => self.typing = None,
            Key::Char(c) => {
                let t = self.typing(at);
                if let Some(p) = &mut t.plain {
                    if p.len() < MAX_CELLS {
                        p.push(c);
                    } else {
                        t.plain = None;
                    }
                }
            }
            Key::Interrupt | Key::Edit => self.typing(at).plain = None,
            Key::Enter => {
                self.typing(at);
                if let Some(typing) = self.typing.take() {
                    if self.queue.len() >= MAX_QUEUE {
                        self.queue.pop_front();
                    }
                    self.queue.push_back(Submission {
                        at,
                        typing,
                        output_seen: false,
                    });
                }
            }
        }
    }

    /// The line being typed, starting it if needed.
    fn typing(&mut self, at: f64) -> &mut Typing {
        if self.typing.is_none() {
            self.typing = Some(self.start_typing(at));
        }
        let rows = self.rows;
        let typing = self.typing.as_mut().expect("typing was just started");
        typing.rows = rows;
        typing
    }

    /// Whether the keys typed so far went to a program rather than to the line editor whose
    /// prompt is now on the row: the prompt left of the start column changed, or, with the
    /// start unknown, the cursor changed rows and the row does not end with what was typed.
    fn typing_is_stale(&self, t: &Typing) -> bool {
        match t.start {
            Some(c) => self.line.text_before(c) != t.prompt,
            None => {
                !t.ahead
                    && t.rows != self.rows
                    && !t
                        .plain
                        .as_deref()
                        .is_some_and(|p| self.line.text().ends_with(p.trim_end()))
            }
        }
    }

    /// The cursor moved to another row, whose content is unknown.
    pub(super) fn new_row(&mut self) {
        self.line.new_row();
        self.rows += 1;
    }

    /// A new line begins: find where the prompt ends.
    fn start_typing(&mut self, at: f64) -> Typing {
        let hint = self.start_hint.take();
        if self
            .queue
            .iter()
            .all(|s| s.typing.start.is_none() && s.output_seen && at - s.at > STALE_SECS)
        {
            self.queue.clear();
        }
        let ahead = !self.queue.is_empty();
        let start = if ahead {
            None
        } else if hint.is_some() {
            hint
        } else if let Some(end) = self.known_prompt_end() {
            // The row starts with the last prompt seen: the line begins after it, even when
            // the cursor is elsewhere (a recalled or wrapped line being edited).
            Some(end)
        } else if self.line.cursor() == 0 && self.line.is_blank() {
            None
        } else {
            Some(self.line.cursor())
        };
        let prompt = start.map_or_else(String::new, |c| self.line.text_before(c));
        if !prompt.trim().is_empty() {
            self.prompt = Some(prompt.clone());
        }
        Typing {
            start,
            plain: Some(String::new()),
            echoed: false,
            prompt,
            rows: self.rows,
            ahead,
        }
    }

    /// Output is about to be processed.
    pub(super) fn output_begins(&mut self) {
        self.queue.iter_mut().for_each(|s| s.output_seen = true);
    }

    /// The target changed the row.
    pub(super) fn drew(&mut self) {
        if let Some(t) = &mut self.typing {
            t.echoed = true;
        }
    }

    /// The cursor leaves the row downwards: the echo of a submitted line is complete.
    pub(super) fn line_feed(&mut self) {
        let Some(head) = self.queue.front() else {
            return;
        };
        if head.typing.start.is_some() {
            let head = self.queue.pop_front().expect("front exists");
            self.conclude(&head);
            return;
        }
        // Type-ahead lines: the first one whose echo is on this row; the ones before it are
        // given up (typed blind, or their echo was never recognised).
        for i in 0..self.queue.len() {
            match self.judge(&self.queue[i]) {
                Verdict::Command(text) => {
                    let at = self.queue[i].at;
                    self.queue.drain(..=i);
                    self.emit(at, text);
                    return;
                }
                Verdict::Nothing if i == 0 => {
                    self.queue.pop_front();
                    return;
                }
                _ => {}
            }
        }
    }

    /// A full-screen program takes over (`enter`) or gives the screen back.
    pub(super) fn alternate_screen(&mut self, enter: bool) {
        if enter && !self.fullscreen {
            self.conclude_known_head();
            self.queue.clear();
        }
        self.fullscreen = enter;
        self.typing = None;
        self.in_paste = false;
        self.start_hint = None;
        self.line.reset();
        self.rows += 1;
    }

    /// The session ended: lines still waiting are judged on the echo as it stands.
    pub(super) fn finish(&mut self) {
        self.conclude_known_head();
        while let Some(s) = self.queue.pop_front() {
            if let Verdict::Command(text) = self.judge(&s) {
                self.emit(s.at, text);
            }
        }
        self.typing = None;
    }

    /// The command being typed, as echoed so far.
    pub(super) fn pending_line(&self) -> Option<String> {
        if self.fullscreen {
            return None;
        }
        let typing = self.typing.as_ref()?;
        let text = match typing.start {
            Some(c) => self.line.text_from(c),
            None => self.after_prompt()?,
        };
        (!text.is_empty()).then_some(text)
    }

    /// The keys of the line being typed, when they were all plain characters (outside
    /// full-screen programs): what the line will say even before its echo can be read (keys
    /// typed ahead while a command still runs, before the prompt is drawn).
    pub(super) fn pending_keys(&self) -> Option<String> {
        if self.fullscreen {
            return None;
        }
        self.typing
            .as_ref()?
            .plain
            .clone()
            .filter(|p| !p.is_empty())
    }

    /// A submitted line whose row was redrawn without a line feed (a program that does not
    /// echo the newline, like `read -s`) is judged as soon as the user types again.
    fn finalize_stale(&mut self) {
        if self
            .queue
            .front()
            .is_some_and(|s| s.typing.start.is_some() && s.output_seen)
        {
            self.conclude_known_head();
        }
    }

    fn conclude_known_head(&mut self) {
        if self.queue.front().is_some_and(|s| s.typing.start.is_some()) {
            let head = self.queue.pop_front().expect("front exists");
            self.conclude(&head);
        }
    }

    fn conclude(&mut self, s: &Submission) {
        if let Verdict::Command(text) = self.judge(s) {
            self.emit(s.at, text);
        }
    }

    fn emit(&mut self, at: f64, text: String) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.awaiting_exit = Some(seq);
        self.done.push(LoggedCommand {
            at,
            text,
            exit_status: None,
            seq,
        });
    }

    /// The shell reported the exit status of the last command (`OSC 133 ; D ; N`). Reports
    /// after an empty line (no command since the last report) are ignored. A command still
    /// waiting for its echo to complete is concluded first, so the status finds it.
    pub(super) fn command_finished(&mut self, status: i32) {
        self.conclude_known_head();
        if let Some(seq) = self.awaiting_exit.take() {
            self.exits.push(CommandExit { seq, status });
        }
    }

    /// Column where the last known prompt ends, if the row starts with it and the cursor is
    /// past it.
    fn known_prompt_end(&self) -> Option<usize> {
        let prompt = self.prompt.as_deref()?;
        let end = prompt.chars().count();
        (self.line.cursor() >= end && self.line.text_before(end) == prompt).then_some(end)
    }

    /// The row's text after the last known prompt, if the row holds it. Usually the row starts
    /// with the prompt, but what the terminal driver echoed while the shell was busy (control
    /// keys typed ahead show as `^[[D`) can stand before it: the shell draws its prompt after
    /// that text, believing itself at the row's start.
    fn after_prompt(&self) -> Option<String> {
        let prompt = self.prompt.as_deref()?;
        let row = self.line.text_before(MAX_CELLS);
        let rest = row
            .strip_prefix(prompt)
            .or_else(|| row.find(prompt).map(|i| &row[i + prompt.len()..]))?;
        Some(rest.trim_end().to_string())
    }

    fn judge(&self, s: &Submission) -> Verdict {
        let row = self.line.text();
        match (&s.typing.plain, s.typing.start) {
            (Some(typed), start) => {
                let typed = typed.trim_end();
                if typed.trim_start().is_empty() {
                    return Verdict::Nothing;
                }
                let at_start = start.map(|c| self.line.text_from(c));
                // What was typed must be on the row: right at the start column (perhaps
                // followed by an autosuggestion or right prompt), or at the row's end.
                if at_start.is_some_and(|t| t.starts_with(typed)) || row.ends_with(typed) {
                    Verdict::Command(typed.to_string())
                } else if start.is_some() {
                    Verdict::Nothing
                } else {
                    Verdict::NoMatch
                }
            }
            (None, Some(c)) => {
                let text = self.line.text_from(c);
                if !s.typing.echoed || text.is_empty() {
                    Verdict::Nothing
                } else {
                    Verdict::Command(text)
                }
            }
            (None, None) => match self.after_prompt() {
                Some(text) if !text.is_empty() => Verdict::Command(text),
                _ => Verdict::NoMatch,
            },
        }
    }
}
