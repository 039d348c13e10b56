//! `bastion watch ID` running in the background, its output gathered as it arrives, so a test
//! can wait for what an auditor would see.

use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::BastionHome;

/// A running `bastion watch`.
pub struct Watcher {
    child: Child,
    seen: Arc<Mutex<Vec<u8>>>,
    reader: Option<JoinHandle<()>>,
}

impl Watcher {
    /// Starts `bastion watch id` on `node`.
    pub fn start(node: &BastionHome, id: i64) -> Watcher {
        let mut child = node
            .command(&["watch", &id.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start bastion watch");
        let mut out = child.stdout.take().expect("stdout");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = std::io::Read::read(&mut out, &mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Watcher {
            child,
            seen,
            reader: Some(reader),
        }
    }

    /// Everything the watcher printed so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().unwrap()).into_owned()
    }

    /// Waits until the output contains `needle`; panics with what it printed otherwise.
    pub fn expect(&mut self, needle: &str, within: Duration) {
        if crate::poll(within, || self.text().contains(needle).then_some(())).is_none() {
            let err = self.stderr_if_exited();
            panic!(
                "the watcher never showed {needle:?}: {:?}{err}",
                self.text()
            );
        }
    }

    /// Waits for the watcher to end by itself; its exit success, or panics after `within`.
    pub fn wait(&mut self, within: Duration) -> bool {
        let code = crate::proc::wait_child(&mut self.child, within)
            .unwrap_or_else(|| panic!("the watcher did not end: {:?}", self.text()));
        if let Some(r) = self.reader.take() {
            r.join().unwrap();
        }
        code == 0
    }

    fn stderr_if_exited(&mut self) -> String {
        match self.child.try_wait() {
            Ok(Some(status)) => {
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                format!("; it exited ({status}): {err}")
            }
            _ => String::new(),
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
