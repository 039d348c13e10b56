//! Reconstructing the commands a user ran in an interactive shell from the two PTY streams.
//!
//! The target's line editor (readline, libedit, zle, ...) echoes and redraws the command line
//! as the user edits it; history recall and tab completion show up only there. So the command
//! text is read off the *output*: a one-row model of the terminal ([`line`]) follows the echo
//! through `vte`, including backspaces, cursor moves, erase, insert and delete. The *input*
//! only tells when a line is submitted (Enter), cancelled (Ctrl-C), where a bracketed paste
//! begins and ends, and where on the row the user started typing (the end of the prompt).
//!
//! - Enter does not conclude a line at once: the echo of the last keys may still be on its way.
//!   The line is read when the echo moves to the next row (the shell's `\r\n`), when the user
//!   types again after more output came, when a full-screen program starts, or at
//!   [`CommandLog::finish`].
//! - Nothing typed blind ends up in a command: a line typed as plain characters counts only
//!   if the echo shows exactly those characters, and an edited line only if the target drew
//!   anything while it was typed. A password typed at a `sudo` prompt yields nothing.
//! - Inside full-screen programs (alternate screen: vim, less, top, ...) nothing is detected.
//! - Lines typed before the previous command's echo arrived (type-ahead, unbracketed pastes)
//!   are matched against later rows: by the typed text for plain lines, by the last prompt
//!   seen for edited ones.
//! - Memory is bounded: one row of at most 16 Ki cells, at most 64 lines waiting, OSC strings
//!   cut off at 4 KiB.

mod input;
mod line;
mod output;
mod state;

use input::{Key, KeyDecoder};
use output::OutputParser;
use state::Core;

/// A command the user ran.
#[derive(Clone, Debug, PartialEq)]
pub struct LoggedCommand {
    /// Session time of the Enter key, in seconds, as passed to [`CommandLog::input`].
    pub at: f64,
    /// The command line as the target echoed it, prompt and trailing blanks removed.
    pub text: String,
    /// Exit status, when known at the time the command is reported (never, so far: it comes
    /// later as a [`CommandExit`]).
    pub exit_status: Option<i32>,
    /// Number of the command in this session (0, 1, ...), for matching a later [`CommandExit`].
    pub seq: u64,
}

/// The exit status of an earlier [`LoggedCommand`], reported by the shell's integration
/// sequence `OSC 133 ; D ; STATUS` (also `OSC 633 ; D`, VS Code's dialect) before its next
/// prompt. Shells send it when configured for it (fish does by default; bash and zsh with
/// shell-integration scripts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandExit {
    /// [`LoggedCommand::seq`] of the command that ended.
    pub seq: u64,
    /// Its exit status.
    pub status: i32,
}

/// The command log of one interactive session. Feed it both directions of the PTY, in the
/// order they were seen.
#[derive(Default)]
pub struct CommandLog {
    keys: KeyDecoder,
    parser: OutputParser,
    core: Core,
    scratch: Vec<Key>,
}

impl std::fmt::Debug for CommandLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandLog")
            .field("fullscreen", &self.core.fullscreen)
            .field("pending_line", &self.pending_line())
            .finish_non_exhaustive()
    }
}

impl CommandLog {
    /// An empty log, for a session that has not started yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The terminal's width in columns, at the start and after each resize: lines longer than
    /// the terminal wrap, and line editors redraw them row by row.
    pub fn set_width(&mut self, cols: u32) {
        self.core
            .line
            .set_width(cols.min(line::MAX_CELLS as u32) as usize);
    }

    /// The user's keystrokes (client → target) at session time `at`. Returns the commands this
    /// input concluded: earlier submitted lines that were still waiting for their echo.
    pub fn input(&mut self, at: f64, bytes: &[u8]) -> Vec<LoggedCommand> {
        let mut keys = std::mem::take(&mut self.scratch);
        self.keys.decode(bytes, &mut keys);
        for key in keys.drain(..) {
            self.core.key(at, key);
        }
        self.scratch = keys;
        std::mem::take(&mut self.core.done)
    }

    /// The target's output (target → client) at session time `at`. Returns the commands whose
    /// echo this output completed.
    pub fn output(&mut self, _at: f64, bytes: &[u8]) -> Vec<LoggedCommand> {
        if !bytes.is_empty() {
            self.core.output_begins();
            self.parser.advance(&mut self.core, bytes);
        }
        std::mem::take(&mut self.core.done)
    }

    /// The command line being typed, as echoed so far; `None` when nothing is typed, the start
    /// of the line is unknown, or a full-screen program runs.
    pub fn pending_line(&self) -> Option<String> {
        self.core.pending_line()
    }

    /// The keys of the line being typed, when all plain characters; `None` otherwise or in a
    /// full-screen program. Never a command-log entry (that comes from the echo): `deny_commands`
    /// checks it beside [`CommandLog::pending_line`], so a line typed before its prompt was
    /// drawn, whose echo position is unknown, is still checked.
    pub fn pending_keys(&self) -> Option<String> {
        self.core.pending_keys()
    }

    /// Exit statuses reported since the last call.
    pub fn take_exits(&mut self) -> Vec<CommandExit> {
        std::mem::take(&mut self.core.exits)
    }

    /// The session ended. Submitted lines still waiting are read off the echo as it stands; a
    /// line that was never submitted is not a command.
    pub fn finish(&mut self) -> Vec<LoggedCommand> {
        self.core.finish();
        std::mem::take(&mut self.core.done)
    }
}

#[cfg(test)]
mod exit_tests {
    use super::*;

    fn osc_d(status: i32) -> Vec<u8> {
        format!("\x1b]133;D;{status}\x07").into_bytes()
    }

    #[test]
    fn shell_integration_reports_exit_statuses_of_the_logged_commands() {
        let mut log = CommandLog::new();
        let mut cmds = Vec::new();
        let mut exits = Vec::new();
        let mut step = |log: &mut CommandLog, input: &[u8], output: &[u8]| {
            cmds.extend(log.input(0.0, input));
            cmds.extend(log.output(0.0, output));
            exits.extend(log.take_exits());
        };
        step(&mut log, b"", b"\x1b]133;A\x07$ \x1b]133;B\x07");
        for (typed, out) in [("false", 1), ("true", 0)] {
            step(&mut log, typed.as_bytes(), typed.as_bytes());
            let mut echo = b"\r\n".to_vec();
            echo.extend(osc_d(out));
            echo.extend(b"\x1b]133;A\x07$ \x1b]133;B\x07");
            step(&mut log, b"\r", &echo);
        }
        // An empty line: the shell reports the last status again; nothing to attach it to.
        let mut echo = b"\r\n".to_vec();
        echo.extend(osc_d(0));
        echo.extend(b"$ ");
        step(&mut log, b"\r", &echo);
        // VS Code's dialect.
        step(&mut log, b"exit 7", b"exit 7");
        step(&mut log, b"\r", b"\r\n\x1b]633;D;7\x07");

        let texts: Vec<(&str, u64)> = cmds.iter().map(|c| (c.text.as_str(), c.seq)).collect();
        assert_eq!(texts, [("false", 0), ("true", 1), ("exit 7", 2)]);
        assert_eq!(
            exits,
            [
                CommandExit { seq: 0, status: 1 },
                CommandExit { seq: 1, status: 0 },
                CommandExit { seq: 2, status: 7 },
            ]
        );
    }
}

#[cfg(test)]
mod type_ahead_tests {
    use super::*;

    #[test]
    fn a_line_typed_ahead_while_a_command_runs_is_logged_when_the_shell_reads_it() {
        // Captured through the bastion: "exit" typed before `touch`'s echo newline arrived.
        let steps: &[(&str, &str)] = &[
            ("o", "PROMPT$ "),
            ("i", "touch allowed.txt"),
            ("o", "touch allowed.txt"),
            ("i", "\r"),
            ("i", "exit"),
            ("o", "\r\n\x1b[?2004l\r"),
            ("i", "\r"),
            ("o", "\r\n"),
            ("o", "\x1b[?2004hPROMPT$ exit\r\n\x1b[?2004l\rlogout\r\n"),
        ];
        let mut log = CommandLog::new();
        let mut got = Vec::new();
        for (dir, bytes) in steps {
            got.extend(match *dir {
                "i" => log.input(0.0, bytes.as_bytes()),
                _ => log.output(0.0, bytes.as_bytes()),
            });
        }
        got.extend(log.finish());
        let texts: Vec<&str> = got.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, ["touch allowed.txt", "exit"]);
    }
}

#[cfg(test)]
mod control_char_tests {
    use super::*;

    #[test]
    fn del_and_c1_controls_in_the_echo_stay_out_of_the_command_text() {
        // Found by the commandlog fuzz target: vte passes 0x7f to `print`, and the row kept it.
        let mut log = CommandLog::new();
        let mut cmds = Vec::new();
        cmds.extend(log.output(0.0, b"$ "));
        cmds.extend(log.input(0.0, b"l\x01s"));
        cmds.extend(log.output(0.0, "l\x7f\u{85}s".as_bytes()));
        cmds.extend(log.input(0.0, b"\r"));
        cmds.extend(log.output(0.0, b"\r\n$ "));
        cmds.extend(log.finish());
        let texts: Vec<&str> = cmds.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, ["ls"]);
    }
}
