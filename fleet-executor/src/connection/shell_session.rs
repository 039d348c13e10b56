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
    if req.become_user.is_some() || !req.env.is_empty() {
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
mod tests {
    use super::*;
    use std::process::Stdio;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::sync::mpsc;

    struct LocalInput(tokio::process::ChildStdin);

    #[async_trait]
    impl ShellInput for LocalInput {
        async fn send(&mut self, data: &[u8]) -> Result<(), ShellGone> {
            self.0.write_all(data).await.map_err(|_| ShellGone)
        }
    }

    struct LocalOutput(mpsc::Receiver<Chunk>);

    #[async_trait]
    impl ShellOutput for LocalOutput {
        async fn next(&mut self) -> Option<Chunk> {
            self.0.recv().await
        }
    }

    fn pump(
        mut from: impl tokio::io::AsyncRead + Unpin + Send + 'static,
        to: mpsc::Sender<Chunk>,
        wrap: fn(Vec<u8>) -> Chunk,
    ) {
        tokio::spawn(async move {
            let mut buf = vec![0u8; 7919]; // odd size: markers get split across chunks
            while let Ok(n) = from.read(&mut buf).await {
                if n == 0 || to.send(wrap(buf[..n].to_vec())).await.is_err() {
                    break;
                }
            }
        });
    }

    /// A session on a local `sh`, with the same protocol as over SSH.
    fn local_session() -> (ShellSession, tokio::process::Child) {
        let mut child = tokio::process::Command::new("sh")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel(16);
        pump(child.stdout.take().unwrap(), tx.clone(), Chunk::Stdout);
        pump(child.stderr.take().unwrap(), tx, Chunk::Stderr);
        let input = LocalInput(child.stdin.take().unwrap());
        (
            ShellSession::new(Box::new(input), Box::new(LocalOutput(rx))),
            child,
        )
    }

    async fn run(s: &mut ShellSession, script: &str, stdin: &[u8]) -> CmdOutput {
        s.run(&Exec {
            script,
            stdin,
            ..Default::default()
        })
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn output_is_byte_exact_with_and_without_trailing_newline() {
        let (mut s, _child) = local_session();
        let out = run(&mut s, "printf 'a\\nb'; printf 'e' >&2; exit 7", b"").await;
        assert_eq!(
            (out.rc, &out.stdout[..], &out.stderr[..]),
            (7, &b"a\nb"[..], &b"e"[..])
        );
        let out = run(&mut s, "echo hi; echo err >&2", b"").await;
        assert_eq!(
            (out.rc, &out.stdout[..], &out.stderr[..]),
            (0, &b"hi\n"[..], &b"err\n"[..])
        );
        let out = run(&mut s, "printf '\\n\\n'", b"").await;
        assert_eq!(out.stdout, b"\n\n");
        let out = run(&mut s, "true", b"").await;
        assert_eq!((out.rc, out.stdout.len(), out.stderr.len()), (0, 0, 0));
    }

    #[tokio::test]
    async fn binary_stdin_round_trips_and_quotes_survive() {
        let (mut s, _child) = local_session();
        let payload: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 256) as u8).collect();
        let out = run(&mut s, "cat", &payload).await;
        assert_eq!(out.rc, 0);
        assert_eq!(out.stdout, payload);
        let out = run(&mut s, "echo \"it's\" '$HOME' \\\\", b"").await;
        assert_eq!(out.stdout_text(), "it's $HOME \\\n");
    }

    /// Text goes as a plain here-document, the rest in base64; both arrive byte-exact.
    #[tokio::test]
    async fn text_and_other_stdin_arrive_byte_exact() {
        let (mut s, _child) = local_session();
        let tag = format!("__fleet_{}_{}", s.nonce, s.seq + 1);
        let payloads: Vec<Vec<u8>> = vec![
            b"mode=development\n".to_vec(),
            b"no newline at the end".to_vec(),
            b"$HOME `id` \\\n'quoted' \"double\"\n\n\t\r\n".to_vec(),
            b"nul \0 inside\n".to_vec(),
            "caf\u{e9} \u{1f600}\n".as_bytes().to_vec(),
            b"\xff\xfe not UTF-8\n".to_vec(),
            format!("before\n{tag}\nafter\n").into_bytes(),
            "x".repeat(300_000)
                .into_bytes()
                .into_iter()
                .chain(*b"\n")
                .collect(),
        ];
        assert!(fits_a_heredoc(&tag, &payloads[0]));
        assert!(!fits_a_heredoc(&tag, &payloads[1]) && !fits_a_heredoc(&tag, &payloads[3]));
        assert!(
            !fits_a_heredoc(&tag, &payloads[6]),
            "a line equal to the delimiter"
        );
        for payload in &payloads {
            let out = run(&mut s, "cat; echo done", payload).await;
            assert_eq!(out.rc, 0);
            let mut want = payload.clone();
            want.extend_from_slice(b"done\n");
            assert_eq!(out.stdout, want, "{:?}", String::from_utf8_lossy(payload));
        }
    }

    #[tokio::test]
    async fn exit_cd_and_syntax_errors_do_not_touch_the_serving_shell() {
        let (mut s, _child) = local_session();
        let before = run(&mut s, "echo $$; pwd", b"").await.stdout;
        assert_eq!(run(&mut s, "cd /; exit 3", b"").await.rc, 3);
        let out = run(&mut s, "if then fi (", b"").await;
        assert_eq!(out.rc, 2);
        assert!(!out.stderr.is_empty());
        assert_eq!(run(&mut s, "set -e; false; echo no", b"").await.stdout, b"");
        let after = run(&mut s, "echo $$; pwd", b"").await.stdout;
        assert_eq!(before, after);
    }

    /// The file modules' prelude is sent once per session, and every request that starts with
    /// it still behaves as if it were inline, including after one that changed its variables.
    #[tokio::test]
    async fn the_prelude_is_defined_once_and_inherited() {
        let (mut s, _child) = local_session();
        let script = format!("{PRELUDE}fleet_parent /a/b/; echo \"$_parent $attrs_changed\"");
        let out = run(&mut s, &script, b"").await;
        assert_eq!(out.stdout_text(), "/a 0\n");
        assert!(s.prelude_defined);
        let dirty = format!("{PRELUDE}attrs_changed=1; fleet_parent x; echo \"$_parent\"");
        assert_eq!(run(&mut s, &dirty, b"").await.stdout_text(), ".\n");
        // the subshell's changes stayed there: the next request sees the prelude's values
        let out = run(&mut s, &script, b"text\n").await;
        assert_eq!((out.rc, out.stdout_text().as_str()), (0, "/a 0\n"));
        // later requests carry only their own part
        let req = Exec {
            script: &script,
            ..Default::default()
        };
        assert_eq!(without_prelude(&req), Some(&script[PRELUDE.len()..]));
        let as_other_user = Exec {
            become_user: Some("nobody"),
            ..req
        };
        assert_eq!(without_prelude(&as_other_user), None);
        let env = [("nl".to_string(), "x".to_string())];
        let with_env = Exec { env: &env, ..req };
        assert_eq!(without_prelude(&with_env), None);
    }

    #[tokio::test]
    async fn the_shell_pid_is_the_serving_shells() {
        let (mut s, child) = local_session();
        let pid = s.shell_pid().await.unwrap();
        assert_eq!(pid, child.id());
        // and the session still serves requests after it
        assert_eq!(
            run(&mut s, "echo $$", b"").await.stdout_text(),
            format!("{}\n", child.id().unwrap())
        );
    }

    #[tokio::test]
    async fn a_dead_shell_is_reported() {
        let (mut s, _child) = local_session();
        let err = s
            .run(&Exec {
                script: "kill -9 $$",
                ..Default::default()
            })
            .await;
        assert!(err.is_err());
    }

    #[test]
    fn markers_split_across_chunks_are_found() {
        let tag = "__fleet_x_1";
        let stream = format!("data\n{tag} 42\n");
        for split in 0..stream.len() {
            let mut r = FrameReader::new(tag);
            r.feed(Chunk::Stdout(stream.as_bytes()[..split].to_vec()));
            r.feed(Chunk::Stdout(stream.as_bytes()[split..].to_vec()));
            r.feed(Chunk::Stderr(format!("\n{tag}\n").into_bytes()));
            assert!(r.done(), "split at {split}");
            let out = r.finish();
            assert_eq!((out.rc, &out.stdout[..]), (42, &b"data"[..]));
        }
    }

    #[test]
    fn find_locates_needles() {
        assert_eq!(find(b"abcabd", b"abd", 0), Some(3));
        assert_eq!(find(b"abcabd", b"abd", 4), None);
        assert_eq!(find(b"ab", b"abc", 0), None);
    }
}
