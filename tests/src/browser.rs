//! A real browser for the console tests: Debian's `chromium`, headless, driven through
//! `chromedriver` (WebDriver) by fantoccini. Each [`Browser`] starts its own chromedriver on a
//! free port with its own profile directory, so tests run in parallel; methods are blocking
//! (a private tokio runtime) like the rest of the harness, and every wait has a timeout.
//! Screenshots go to `target/screenshots/`.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::net::{free_port, wait_for_port};

/// A headless chromium and its chromedriver.
pub struct Browser {
    rt: tokio::runtime::Runtime,
    client: Option<Client>,
    driver: Child,
    _profile: TempDir,
}

/// Where screenshots are written.
pub fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

impl Browser {
    /// Starts chromedriver and a headless chromium that accepts the console's self-signed
    /// certificate. Panics with a clear message when either is missing (`.ci/run` installs
    /// `chromium` and `chromium-driver`).
    pub fn start() -> Browser {
        let port = free_port(Ipv4Addr::LOCALHOST);
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian package chromium-driver) must be installed");
        assert!(
            wait_for_port(
                SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
                Duration::from_secs(20)
            ),
            "chromedriver did not listen on {port}"
        );
        let profile = tempfile::Builder::new()
            .prefix("e2e-chromium-")
            .tempdir()
            .expect("profile dir");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let caps = json!({
            "browserName": "chrome",
            "acceptInsecureCerts": true,
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    "--window-size=1400,1000", format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let caps = match caps {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        let client = rt
            .block_on(
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                    .capabilities(caps)
                    .connect(&format!("http://127.0.0.1:{port}")),
            )
            .expect("a chromium session through chromedriver");
        Browser {
            rt,
            client: Some(client),
            driver,
            _profile: profile,
        }
    }

    fn c(&self) -> &Client {
        self.client.as_ref().expect("browser open")
    }

    /// Opens a URL and waits for the page to load.
    pub fn goto(&self, url: &str) {
        self.rt
            .block_on(self.c().goto(url))
            .unwrap_or_else(|e| panic!("opening {url}: {e}"));
    }

    /// The current URL.
    pub fn url(&self) -> String {
        self.rt
            .block_on(self.c().current_url())
            .expect("url")
            .to_string()
    }

    /// The visible text of the whole page.
    pub fn text(&self) -> String {
        self.text_of("body").unwrap_or_default()
    }

    /// The visible text of the first element matching `css`, if any.
    pub fn text_of(&self, css: &str) -> Option<String> {
        self.rt.block_on(async {
            let el = self.c().find(Locator::Css(css)).await.ok()?;
            el.text().await.ok()
        })
    }

    /// Clicks the first element matching `css`.
    pub fn click(&self, css: &str) {
        self.rt
            .block_on(async {
                let el = self.c().find(Locator::Css(css)).await?;
                el.click().await
            })
            .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
    }

    /// Types `text` into the first element matching `css`.
    pub fn fill(&self, css: &str, text: &str) {
        self.rt
            .block_on(async {
                let el = self.c().find(Locator::Css(css)).await?;
                el.send_keys(text).await
            })
            .unwrap_or_else(|e| panic!("typing into {css}: {e}"));
    }

    /// Runs `script` (a function body; `arguments` are none) and returns its value.
    pub fn eval(&self, script: &str) -> Value {
        self.rt
            .block_on(self.c().execute(script, vec![]))
            .unwrap_or_else(|e| panic!("running {script}: {e}"))
    }

    /// Waits until the text of `css` contains `needle`; returns how long that took, or panics
    /// with what it saw.
    pub fn wait_for_text(&self, css: &str, needle: &str, timeout: Duration) -> Duration {
        let start = Instant::now();
        let deadline = start + timeout;
        loop {
            let seen = self.text_of(css).unwrap_or_default();
            if seen.contains(needle) {
                return start.elapsed();
            }
            if Instant::now() >= deadline {
                panic!("waited {timeout:?} for {needle:?} in {css}; it shows:\n{seen}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// On the console at `console_url` (logged in): opens the live list, waits for `listed`
    /// in it, and watches the first session; returns once the player shows `on_screen`.
    pub fn watch_first_live_session(&self, console_url: &str, listed: &str, on_screen: &str) {
        self.goto(&format!("{console_url}/live"));
        self.wait_for_text("#live", listed, Duration::from_secs(10));
        self.click("#live a.watch");
        self.wait_for_text(".ap-term", on_screen, Duration::from_secs(15));
    }

    /// On a watch page: kills the session with `message` for its user.
    pub fn kill_watched_session(&self, message: &str) {
        self.fill("form.kill input[name=message]", message);
        self.click("form.kill button");
    }

    /// Saves a PNG of the window as `target/screenshots/NAME.png`.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.rt.block_on(self.c().screenshot()).expect("screenshot");
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            let _ = self.rt.block_on(c.close());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
