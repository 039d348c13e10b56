//! A real HTTP receiver on 127.0.0.1 for the tests: it records every request it is sent (path,
//! query, headers, body, arrival time) and answers as told — 200 with a body, an error status,
//! or nothing at all until the test releases it (a webhook that hangs).
//!
//! Each test waits on the receiver's events rather than sleeping; [`Receiver::next`] has a
//! generous safety net so a broken notifier fails the test instead of hanging it, but no
//! assertion depends on how fast anything is.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::Router;
use tokio::sync::{mpsc, watch};

/// How long a test waits for something that should come before calling the notifier broken.
pub const SAFETY_NET: Duration = Duration::from_secs(30);

/// How the receiver answers.
#[derive(Clone, Debug)]
pub enum Answer {
    /// 200 with this JSON body.
    Ok(&'static str),
    /// This status, empty body.
    Status(u16),
    /// Nothing, until [`Receiver::release`]; then 200 with this body.
    Hold(&'static str),
}

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("ASCII header"))
    }

    /// The query's decoded pairs.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.query.as_deref().unwrap_or("").as_bytes())
            .into_owned()
            .collect()
    }

    pub fn query_value(&self, key: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }
}

#[derive(Clone)]
struct Shared {
    answer: Answer,
    seen: mpsc::UnboundedSender<Received>,
    released: watch::Receiver<bool>,
}

/// A running receiver.
pub struct Receiver {
    /// Its base URL, e.g. `http://127.0.0.1:41234`.
    pub base: String,
    seen: mpsc::UnboundedReceiver<Received>,
    release: Arc<watch::Sender<bool>>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    pub async fn start(answer: Answer) -> Receiver {
        let (seen_tx, seen) = mpsc::unbounded_channel();
        let (release, released) = watch::channel(false);
        let shared = Shared {
            answer,
            seen: seen_tx,
            released,
        };
        let app = Router::new().fallback(handle).with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver {
            base,
            seen,
            release: Arc::new(release),
            task,
        }
    }

    /// The URL of `path` on this receiver.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The next request, in arrival order.
    pub async fn next(&mut self) -> Received {
        tokio::time::timeout(SAFETY_NET, self.seen.recv())
            .await
            .expect("the receiver got nothing within the safety net")
            .expect("receiver stopped")
    }

    /// A request already received, if any (never waits).
    pub fn try_next(&mut self) -> Option<Received> {
        self.seen.try_recv().ok()
    }

    /// Lets held requests (and later ones) be answered.
    pub fn release(&self) {
        self.release.send_replace(true);
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    State(shared): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let _ = shared.seen.send(Received {
        path: uri.path().to_string(),
        query: uri.query().map(str::to_string),
        headers,
        body: body.to_vec(),
        at: Instant::now(),
    });
    match shared.answer {
        Answer::Ok(body) => (StatusCode::OK, body.to_string()),
        Answer::Status(code) => (StatusCode::from_u16(code).unwrap(), String::new()),
        Answer::Hold(body) => {
            let mut released = shared.released.clone();
            let _ = released.wait_for(|r| *r).await;
            (StatusCode::OK, body.to_string())
        }
    }
}

/// A failure hook that forwards every report to a channel the test reads.
pub fn failures() -> (
    notify::FailureHook,
    mpsc::UnboundedReceiver<notify::DeliveryFailure>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    (Box::new(move |f| drop(tx.send(f))), rx)
}

/// The next failure report.
pub async fn next_failure(
    rx: &mut mpsc::UnboundedReceiver<notify::DeliveryFailure>,
) -> notify::DeliveryFailure {
    tokio::time::timeout(SAFETY_NET, rx.recv())
        .await
        .expect("no failure was reported within the safety net")
        .expect("notifier gone")
}

/// Settings from a bastion.toml fragment, validated.
pub fn settings(toml_text: &str) -> notify::NotifySettings {
    #[derive(serde::Deserialize)]
    struct File {
        notify: notify::NotifySettings,
    }
    let file: File = toml::from_str(toml_text).unwrap_or_else(|e| panic!("{e}"));
    file.notify.validate().unwrap();
    file.notify
}
