//! The shell session's protocol against a real local `sh` (no SSH): byte-exact output and
//! stdin, the serving shell surviving `exit`/`cd`/syntax errors, the prelude defined once, and
//! markers split across chunks. Kept beside shell_session.rs so that file reads as the protocol.

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
    let nobody = fleet_modules::remote::Become::sudo_as("nobody");
    let as_other_user = Exec {
        become_: Some(&nobody),
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
