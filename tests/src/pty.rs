//! Driving a program through a real pseudo-terminal, expect-style, with a vt100 screen model
//! so tests can assert what a user would see.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty, PtySize};

/// A child process on a PTY; output is collected by a reader thread.
pub struct PtySession {
    child: Box<dyn Child + Send + Sync>,
    master: Box<dyn MasterPty + Send>,
    writer: Box<dyn Write + Send>,
    output: Arc<Mutex<Vec<u8>>>,
    /// The reader thread has seen the end of the output (every slave side closed).
    drained: Arc<AtomicBool>,
    /// How far `expect` has consumed the output.
    cursor: usize,
    size: (u16, u16),
}

impl PtySession {
    /// Spawns `argv` on a `cols`x`rows` PTY with extra environment.
    pub fn spawn(argv: &[String], env: &[(String, String)], cols: u16, rows: u16) -> PtySession {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("openpty");
        let mut cmd = CommandBuilder::new(&argv[0]);
        cmd.args(&argv[1..]);
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("SSH_AUTH_SOCK");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pty.slave.spawn_command(cmd).expect("spawn on pty");
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().expect("pty reader");
        let writer = pty.master.take_writer().expect("pty writer");
        let output = Arc::new(Mutex::new(Vec::new()));
        let sink = output.clone();
        let drained = Arc::new(AtomicBool::new(false));
        let done = drained.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
            done.store(true, Ordering::Release);
        });
        PtySession {
            child,
            master: pty.master,
            writer,
            output,
            drained,
            cursor: 0,
            size: (cols, rows),
        }
    }

    /// Everything the program printed so far, lossy UTF-8.
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }

    /// Waits until `needle` appears in output not yet consumed; consumes through it.
    /// Panics with the output so far after `timeout`.
    pub fn expect(&mut self, needle: &str, timeout: Duration) {
        if let Err(e) = self.try_expect(needle, timeout) {
            panic!("{e}");
        }
    }

    /// Like [`PtySession::expect`] but returns the failure instead of panicking.
    pub fn try_expect(&mut self, needle: &str, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            {
                let out = self.output.lock().unwrap();
                let hay = String::from_utf8_lossy(&out[self.cursor.min(out.len())..]).into_owned();
                if let Some(pos) = hay.find(needle) {
                    // Advance by the byte length of the lossy prefix; exact for valid UTF-8.
                    self.cursor += pos + needle.len();
                    return Ok(());
                }
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "timed out after {timeout:?} waiting for {needle:?}; screen:\n{}\nraw tail: {:?}",
                    self.screen(),
                    tail(&self.output(), 600)
                ));
            }
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    /// Waits until the rendered screen contains `needle`.
    pub fn expect_screen(&mut self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !self.screen().contains(needle) {
            if Instant::now() >= deadline {
                panic!(
                    "timed out waiting for {needle:?} on screen:\n{}",
                    self.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(30));
        }
        self.cursor = self.output.lock().unwrap().len();
    }

    /// Types bytes.
    pub fn send(&mut self, bytes: &str) {
        self.writer
            .write_all(bytes.as_bytes())
            .expect("write to pty");
        self.writer.flush().expect("flush pty");
    }

    /// Resizes the terminal (the program gets SIGWINCH).
    pub fn resize(&mut self, cols: u16, rows: u16) {
        self.master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("resize pty");
        self.size = (cols, rows);
    }

    /// The screen as a terminal of the current size would show it after all output so far.
    pub fn screen(&self) -> String {
        let mut parser = vt100::Parser::new(self.size.1, self.size.0, 0);
        parser.process(&self.output.lock().unwrap());
        parser.screen().contents()
    }

    /// Waits for the program to exit; its exit code, or `None` on timeout (then it is killed).
    /// Once it has exited, what it printed last is read before this returns (for up to 2 s).
    pub fn wait(&mut self, timeout: Duration) -> Option<u32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let drain_until = Instant::now() + Duration::from_secs(2);
                while !self.drained.load(Ordering::Acquire) && Instant::now() < drain_until {
                    std::thread::sleep(Duration::from_millis(10));
                }
                return Some(status.exit_code());
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for PtySession {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tail(s: &str, n: usize) -> &str {
    let mut start = s.len().saturating_sub(n);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}
