//! The long-lived remote shell: one `sh` per host serves every task, so a task costs the
//! target one `fork` (the subshell that isolates it), not a new SSH channel and login shell.
//!
//! Protocol. Each request is written to the shell's standard input as
//!
//! ```text
//! __fleet_s='<wrapped script, single-quoted>'
//! ( eval "$__fleet_s" ) </dev/null; printf '\n%s %d\n' TAG "$?"; printf '\n%s\n' TAG >&2
//! ```
//!
//! and, when the request has standard input, the second line is instead
//! `( eval "$__fleet_s" ) <<'TAG'; ...` followed by the payload as it is and `TAG`, when a
//! here-document carries it byte-exact (text ending in a newline), else
//! `base64 -d <<'TAG' | ( eval "$__fleet_s" ); ...` followed by the payload in base64 and `TAG`.
//! The subshell keeps `exit`, `cd`, `set -e` and syntax errors (rc 2) away from the serving shell.
//! TAG is a random per-connection nonce plus a sequence number, so output cannot fake it.
//! Each marker is printed after a newline of its own; exactly that newline is stripped, so the
//! command's output comes back byte-exact whether or not it ends in a newline.
//!
//! Shared prelude. Most file-module scripts start with the same ~7 KB of `sh` functions
//! ([`PRELUDE`]). Parsing it costs the target's shell about 0.2 ms per task, and sending it costs
//! both ends the bytes, on every host. So the first request that starts with it defines it in
//! the serving shell itself, once per session (assignments and function definitions only, no
//! output); later requests leave it out, and their subshells inherit the same definitions.
//! Requests that run as another user (`sudo ... /bin/sh -c`, a new shell that inherits
//! nothing) or export an `environment:` (which the prelude's variables must follow) keep it
//! inline.

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use rand::Rng;

use fleet_modules::files::remote_file::PRELUDE;
use fleet_modules::remote::{shell_quote, wrap_script, CmdOutput, Exec};

/// A piece of what the remote shell wrote.
#[derive(Debug)]
pub enum Chunk {
    /// Bytes on standard output.
    Stdout(Vec<u8>),
    /// Bytes on standard error.
    Stderr(Vec<u8>),
}

/// Where the shell's standard input goes (an SSH channel, or a local pipe in tests).
#[async_trait]
pub trait ShellInput: Send + Sync {
    /// Sends all of `data`; an error means the shell is gone.
    async fn send(&mut self, data: &[u8]) -> Result<(), ShellGone>;

    /// Ends the shell's input and the channel (best effort).
    async fn close(&mut self) {}
}

/// Where the shell's output comes from.
#[async_trait]
pub trait ShellOutput: Send + Sync {
    /// The next piece of output; `None` once the shell (or the connection) is gone.
    async fn next(&mut self) -> Option<Chunk>;
}

/// The serving shell ended or its connection broke; the session cannot be used any more.
#[derive(Debug, thiserror::Error)]
#[error("the remote shell is gone")]
pub struct ShellGone;

/// One running `sh` and the framing state needed to run requests on it, one at a time.
pub struct ShellSession {
    input: Box<dyn ShellInput>,
    output: Box<dyn ShellOutput>,
    nonce: String,
    seq: u64,
    /// [`PRELUDE`] is defined in the serving shell.
    prelude_defined: bool,
}

impl ShellSession {
    /// Wraps a freshly started `sh` (not a login shell, no PTY).
    pub fn new(input: Box<dyn ShellInput>, output: Box<dyn ShellOutput>) -> ShellSession {
        let nonce: u64 = rand::thread_rng().gen();
        ShellSession {
            input,
            output,
            nonce: format!("{nonce:016x}"),
            seq: 0,
            prelude_defined: false,
        }
    }

    /// Ends the session: the shell sees end of input and the channel is closed.
    pub async fn close(&mut self) {
        self.input.close().await;
    }

    /// Runs one request and returns its exact exit status and output.
    pub async fn run(&mut self, req: &Exec<'_>) -> Result<CmdOutput, ShellGone> {
        self.seq += 1;
        let tag = format!("__fleet_{}_{}", self.nonce, self.seq);
        let command = match without_prelude(req) {
            Some(rest) => {
                let mut bytes = Vec::new();
                if !self.prelude_defined {
                    // one write with the request: the shell reads the definitions first
                    bytes.extend_from_slice(PRELUDE.as_bytes());
                    bytes.push(b'\n');
                    self.prelude_defined = true;
                }
                let script = wrap_script(&Exec {
                    script: rest,
                    ..req.clone()
                });
                bytes.extend(frame_request(&tag, &script, req.stdin));
                bytes
            }
            None => frame_request(&tag, &wrap_script(req), req.stdin),
        };
        self.exchange(&tag, &command).await
    }

    /// The serving shell's process id. Asked of the shell itself, with the end markers only
    /// (the status field carries `$$`): no subshell, so no process on the target.
    pub async fn shell_pid(&mut self) -> Result<Option<u32>, ShellGone> {
        self.seq += 1;
        let tag = format!("__fleet_{}_{}", self.nonce, self.seq);
        let line = format!("printf '\\n%s %d\\n' {tag} \"$$\"; printf '\\n%s\\n' {tag} >&2\n");
        let out = self.exchange(&tag, line.as_bytes()).await?;
        Ok(u32::try_from(out.rc).ok().filter(|&pid| pid > 0))
    }

    /// Sends one framed request tagged `tag` and reads its output up to both end markers.
    async fn exchange(&mut self, tag: &str, command: &[u8]) -> Result<CmdOutput, ShellGone> {
        self.input.send(command).await?;
        let mut reader = FrameReader::new(tag);
        while !reader.done() {
            match self.output.next().await {
                Some(chunk) => reader.feed(chunk),
                None => return Err(ShellGone),
            }
        }
        Ok(reader.finish())
    }
}

/// The request's script after [`PRELUDE`], when the serving shell's own definitions can stand
/// in for it: the script runs in a subshell of the serving shell (not as another user), and no
/// `environment:` export could come before the prelude's own variables.
fn without_prelude<'a>(req: &Exec<'a>) -> Option<&'a str> {
    if req.become_.is_some() || !req.env.is_empty() {
        return None;
    }
    req.script.strip_prefix(PRELUDE)
}

/// The bytes written to the shell for one request tagged `tag`.
pub fn frame_request(tag: &str, script: &str, stdin: &[u8]) -> Vec<u8> {
    let mut out = format!("__fleet_s={}\n", shell_quote_always(script));
    let trailer = format!("; printf '\\n%s %d\\n' {tag} \"$?\"; printf '\\n%s\\n' {tag} >&2\n");
    if stdin.is_empty() {
        out.push_str("( eval \"$__fleet_s\" ) </dev/null");
        out.push_str(&trailer);
    } else if fits_a_heredoc(tag, stdin) {
        // Text as it is: no `base64` process on the target for the common case (file contents).
        out.push_str(&format!("( eval \"$__fleet_s\" ) <<'{tag}'{trailer}"));
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(stdin);
        bytes.extend_from_slice(tag.as_bytes());
        bytes.push(b'\n');
        return bytes;
    } else {
        out.push_str(&format!(
            "base64 -d <<'{tag}' | ( eval \"$__fleet_s\" ){trailer}"
        ));
        let encoded = BASE64.encode(stdin);
        out.reserve(encoded.len() + encoded.len() / 76 + tag.len() + 2);
        for line in encoded.as_bytes().chunks(76) {
            // base64 output is ASCII, so each chunk is valid UTF-8.
            out.push_str(std::str::from_utf8(line).unwrap_or_default());
            out.push('\n');
        }
        out.push_str(tag);
        out.push('\n');
    }
    out.into_bytes()
}

/// Whether `stdin` reaches the script byte-exact as the body of a quoted here-document: it
/// ends in a newline (a here-document's body always does), has no NUL (shells drop them) and
/// no line that is the delimiter.
fn fits_a_heredoc(tag: &str, stdin: &[u8]) -> bool {
    stdin.ends_with(b"\n")
        && !stdin.contains(&0)
        && !stdin
            .split(|&b| b == b'\n')
            .any(|line| line == tag.as_bytes())
}

/// Single-quotes even plain words, so the assignment never sees an empty right-hand side
/// or a word that `shell_quote` left bare.
fn shell_quote_always(s: &str) -> String {
    let quoted = shell_quote(s);
    if quoted.starts_with('\'') {
        quoted
    } else {
        format!("'{quoted}'")
    }
}

/// Collects one request's output and recognizes its two end markers.
pub struct FrameReader {
    stdout_marker: Vec<u8>,
    stderr_marker: Vec<u8>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    /// Where to resume looking for the marker (so big outputs are scanned once).
    stdout_scan: usize,
    stderr_scan: usize,
    /// Set when the stdout marker line is complete: (end of output, exit status).
    rc: Option<(usize, i32)>,
    stderr_end: Option<usize>,
}

impl FrameReader {
    /// A reader for the request tagged `tag`.
    pub fn new(tag: &str) -> FrameReader {
        FrameReader {
            stdout_marker: format!("\n{tag} ").into_bytes(),
            stderr_marker: format!("\n{tag}\n").into_bytes(),
            stdout: Vec::new(),
            stderr: Vec::new(),
            stdout_scan: 0,
            stderr_scan: 0,
            rc: None,
            stderr_end: None,
        }
    }

    /// Takes in one piece of output.
    pub fn feed(&mut self, chunk: Chunk) {
        match chunk {
            Chunk::Stdout(data) => {
                if self.rc.is_some() {
                    return; // late output of a background process: not this request's
                }
                self.stdout.extend_from_slice(&data);
                self.scan_stdout();
            }
            Chunk::Stderr(data) => {
                if self.stderr_end.is_some() {
                    return;
                }
                self.stderr.extend_from_slice(&data);
                if let Some(at) = find(&self.stderr, &self.stderr_marker, self.stderr_scan) {
                    self.stderr_end = Some(at);
                } else {
                    self.stderr_scan = resume_point(self.stderr.len(), &self.stderr_marker);
                }
            }
        }
    }

    fn scan_stdout(&mut self) {
        let Some(at) = find(&self.stdout, &self.stdout_marker, self.stdout_scan) else {
            self.stdout_scan = resume_point(self.stdout.len(), &self.stdout_marker);
            return;
        };
        // Wait for the rest of the marker line: the exit status and its newline.
        self.stdout_scan = at;
        let status_start = at + self.stdout_marker.len();
        let Some(len) = self.stdout[status_start..].iter().position(|&b| b == b'\n') else {
            return;
        };
        let status = std::str::from_utf8(&self.stdout[status_start..status_start + len])
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(-1);
        self.rc = Some((at, status));
    }

    /// True once both markers have been seen.
    pub fn done(&self) -> bool {
        self.rc.is_some() && self.stderr_end.is_some()
    }

    /// The request's result, markers removed. Only meaningful once [`FrameReader::done`].
    pub fn finish(mut self) -> CmdOutput {
        let (out_end, rc) = self.rc.unwrap_or((self.stdout.len(), -1));
        self.stdout.truncate(out_end);
        self.stderr
            .truncate(self.stderr_end.unwrap_or(self.stderr.len()));
        CmdOutput {
            rc,
            stdout: self.stdout,
            stderr: self.stderr,
        }
    }
}

/// First index of `needle` in `hay` at or after `from`.
fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = needle[0];
    let mut i = from;
    while i + needle.len() <= hay.len() {
        match hay[i..hay.len() + 1 - needle.len()]
            .iter()
            .position(|&b| b == first)
        {
            None => return None,
            Some(off) => {
                i += off;
                if &hay[i..i + needle.len()] == needle {
                    return Some(i);
                }
                i += 1;
            }
        }
    }
    None
}

/// Where the next search must start so a marker split across chunks is still found.
fn resume_point(len: usize, marker: &[u8]) -> usize {
    len.saturating_sub(marker.len() - 1)
}

#[cfg(test)]
mod tests;
