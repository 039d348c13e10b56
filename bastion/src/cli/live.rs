//! `bastion watch ID` and `bastion kill ID`: talk to the running server over its control socket.

use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::json;

use crate::datadir::DataDir;

/// Sends one request; returns the connection positioned after the server's answer line.
/// The server's answer and the stream after it (a watch goes on streaming).
type Answer = (serde_json::Value, BufReader<UnixStream>);

fn request(dir: &Path, cmd: &str, id: i64) -> Result<Result<Answer, String>> {
    let data = DataDir::open_existing(dir)?;
    let path = data.control_socket_path();
    let mut stream = UnixStream::connect(&path).with_context(|| {
        format!(
            "connecting to {} (is `bastion serve` running on this data directory?)",
            path.display()
        )
    })?;
    writeln!(
        stream,
        "{}",
        json!({"cmd": cmd, "id": id, "by": super::operator()})
    )?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let answer: serde_json::Value =
        serde_json::from_str(&line).context("bad answer from the server")?;
    if answer["ok"] == true {
        Ok(Ok((answer, reader)))
    } else {
        Ok(Err(answer["error"]
            .as_str()
            .unwrap_or("refused")
            .to_string()))
    }
}

/// Follows a live session's output read-only until it ends (or Ctrl-C).
pub fn watch(dir: &Path, id: i64) -> Result<ExitCode> {
    let mut reader = match request(dir, "watch", id)? {
        Ok((_, r)) => r,
        Err(e) => {
            eprintln!("bastion: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    if std::io::stderr().is_terminal() {
        eprintln!("watching session {id} read-only; Ctrl-C stops watching");
    }
    let mut out = std::io::stdout().lock();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = std::io::Read::read(&mut reader, &mut buf)?;
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n])?;
        out.flush()?;
    }
    if std::io::stderr().is_terminal() {
        eprintln!("\r\nsession {id} ended");
    }
    Ok(ExitCode::SUCCESS)
}

/// Ends a live session with a message to its user.
pub fn kill(dir: &Path, id: i64) -> Result<ExitCode> {
    match request(dir, "kill", id)? {
        Ok((reply, _)) => {
            match reply["node"].as_str() {
                Some(node) => println!("session {id}: node {node}, which serves it, ends it"),
                None => println!("session {id} terminated"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("bastion: {e}");
            Ok(ExitCode::from(1))
        }
    }
}
