//! Issue 16: 100 console users browsing while 200 SSH sessions run must not slow the SSH users
//! down — keystroke p50 through the bastion within 5% of the same run without the console load.
//!
//! 200 interactive sessions are held open through the bastion, each typing a key every 5 s (as
//! `bench sessions` does). One more session measures the echo round trip of a key, over and
//! over: first with no console user, then while 100 console users (each logged in by the link
//! `ssh bastion console` prints, one HTTPS client each, in this process) browse: a page every
//! second or so, cycling through the session list, a filter, a command search, the live list
//! and a session page. Phases alternate (quiet, busy, quiet, busy) so drift of the machine
//! shows as disagreement between the two quiet phases rather than as a console cost.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use e2e::Client;

use crate::client;
use crate::report::Row;
use crate::sessions::{echo, open, Session};
use crate::stats::summarize;
use crate::world::{World, BUSY_SSHD};

/// Options of `bench console-load`.
#[derive(clap::Args)]
pub struct Args {
    /// SSH sessions held open.
    #[arg(long, default_value_t = 200)]
    sessions: usize,
    /// Console users browsing.
    #[arg(long, default_value_t = 100)]
    users: usize,
    /// Keystrokes measured per phase.
    #[arg(long, default_value_t = 400)]
    keys: usize,
}

const PAGES: [&str; 5] = [
    "/sessions",
    "/sessions?user=bench&sort=oldest",
    "/commands?q=echo",
    "/live",
    "/sessions/1",
];

/// Runs the benchmark and returns its rows.
pub fn run(bastion: &str, a: &Args) -> Result<Vec<Row>> {
    let targets = a.sessions.div_ceil(100).max(1);
    let mut world = World::new(bastion, targets, BUSY_SSHD)?;
    world.home.write_policies(
        "roles:\n  - name: bench\n    members: [bench]\n    hosts: [\"*\"]\n    logins: [root]\n    require_totp: false\n    console: [audit, live]\n",
    );
    world.serve();
    let links = console_links(&world, a.users)?;
    // The console users' HTTPS clients run on a runtime of their own at the lowest priority:
    // on this one machine they stand in for browsers on other machines, so their own CPU
    // should not be what slows the measured keystrokes.
    let browsers = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .on_thread_start(|| {
            // SAFETY: setpriority reads its integer arguments; `who = 0` is this thread.
            unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 19) };
        })
        .build()?;
    let rt = tokio::runtime::Runtime::new()?;
    let rows = rt.block_on(measure(&world, a, targets, links, browsers.handle()));
    drop(rt);
    drop(browsers);
    rows
}

/// One-time console links for the bench user, from `ssh bastion console`.
fn console_links(world: &World, n: usize) -> Result<Vec<String>> {
    let user = e2e::TestUser {
        name: "bench".into(),
        key: world.key.clone(),
        totp_secret: None,
    };
    let client = Client::new(&world.home, &user);
    Ok((0..n).map(|_| client.console_link("bench")).collect())
}

/// Sessions held and typing, a warmed-up probe, the console users logged in; then the
/// alternating phases, then the rows.
async fn measure(
    world: &World,
    a: &Args,
    targets: usize,
    links: Vec<String>,
    elsewhere: &tokio::runtime::Handle,
) -> Result<Vec<Row>> {
    let key = client::load_key(&world.key.private)?;
    let mut held: Vec<Session> = Vec::new();
    for i in 0..a.sessions {
        held.push(open(world.bastion_addr(), i % targets, &key).await?);
    }
    eprintln!("console-load: {} sessions open", held.len());
    let stop = Arc::new(AtomicBool::new(false));
    let _typists = typists(held, a.sessions, &stop);
    let (_h, mut probe) = open(world.bastion_addr(), 0, &key).await?;
    for _ in 0..50 {
        echo(&mut probe).await?;
    }
    let mut browsers = Vec::new();
    for link in links {
        browsers.push(
            elsewhere
                .spawn(async move { Browsing::login(&link).await })
                .await??,
        );
    }
    let (quiet, busy) = phases(&mut probe, &browsers, a.keys, elsewhere).await?;
    stop.store(true, Ordering::Relaxed);
    Ok(rows(a, &quiet, &busy))
}

/// The held sessions typing a key every 5 s (spread over the 5 s by `n`) until `stop`.
fn typists(
    held: Vec<Session>,
    n: usize,
    stop: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut typists = Vec::new();
    for (i, (h, mut ch)) in held.into_iter().enumerate() {
        let stop = stop.clone();
        typists.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(5) * i as u32 / n as u32).await;
            while !stop.load(Ordering::Relaxed) {
                let _ = echo(&mut ch).await;
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
            drop((h, ch));
        }));
    }
    typists
}

/// Two rounds of `keys` probe echoes quiet, then `keys` while every console user browses (on
/// `elsewhere`, from 2 s before until the last key); the quiet and the busy round trips.
async fn phases(
    probe: &mut russh::Channel<russh::client::Msg>,
    browsers: &[Browsing],
    keys_per_phase: usize,
    elsewhere: &tokio::runtime::Handle,
) -> Result<(Vec<Duration>, Vec<Duration>)> {
    let requests = Arc::new(AtomicU64::new(0));
    let (mut quiet, mut busy) = (Vec::new(), Vec::new());
    for round in 0..2 {
        quiet.extend(keys(probe, keys_per_phase).await?);
        let browsing = Arc::new(AtomicBool::new(true));
        let started = Instant::now();
        let before = requests.load(Ordering::Relaxed);
        let tasks: Vec<_> = browsers
            .iter()
            .enumerate()
            .map(|(i, b)| elsewhere.spawn(b.clone().browse(i, browsing.clone(), requests.clone())))
            .collect();
        tokio::time::sleep(Duration::from_secs(2)).await;
        busy.extend(keys(probe, keys_per_phase).await?);
        browsing.store(false, Ordering::Relaxed);
        for t in tasks {
            t.await??;
        }
        let rate =
            (requests.load(Ordering::Relaxed) - before) as f64 / started.elapsed().as_secs_f64();
        eprintln!("console-load: round {round}: {rate:.0} console requests/s while measuring");
    }
    Ok((quiet, busy))
}

/// The busy keystroke p50 and p99 against the quiet ones.
fn rows(a: &Args, quiet: &[Duration], busy: &[Duration]) -> Vec<Row> {
    let q = summarize(quiet);
    let b = summarize(busy);
    eprintln!(
        "console-load: keystroke p50 {:.3} ms quiet, {:.3} ms with {} console users",
        q.p50, b.p50, a.users
    );
    vec![
        Row::new(
            "16 console",
            format!(
                "keystroke p50 through the bastion, {} sessions open, {} console users browsing",
                a.sessions, a.users
            ),
            b.p50,
            "ms",
        )
        .vs("the same run without console users", q.p50)
        .goal("within 5% of the run without the console load"),
        Row::new("16 console", "the same, p99", b.p99, "ms").vs("without", q.p99),
    ]
}

/// `n` echo round trips on `ch`.
async fn keys(ch: &mut russh::Channel<russh::client::Msg>, n: usize) -> Result<Vec<Duration>> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(echo(ch).await?);
    }
    Ok(out)
}

/// One console user: an HTTPS client holding its session cookie.
#[derive(Clone)]
struct Browsing {
    http: reqwest::Client,
    base: String,
}

impl Browsing {
    async fn login(link: &str) -> Result<Browsing> {
        // The console's certificate is self-signed for this machine; the bench trusts it as
        // a browser would after the user accepted it.
        let http = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .cookie_store(true)
            .build()?;
        let res = http.get(link).send().await?;
        anyhow::ensure!(res.status().is_success(), "console login: {}", res.status());
        let base = link.split("/login/").next().unwrap_or_default().to_string();
        Ok(Browsing { http, base })
    }

    /// Requests a page every ~second (spread over users) until `on` turns false.
    async fn browse(self, i: usize, on: Arc<AtomicBool>, count: Arc<AtomicU64>) -> Result<()> {
        tokio::time::sleep(Duration::from_millis((i as u64 * 37) % 1000)).await;
        let mut n = i;
        while on.load(Ordering::Relaxed) {
            let page = PAGES[n % PAGES.len()];
            let res = self.http.get(format!("{}{page}", self.base)).send().await?;
            anyhow::ensure!(res.status().is_success(), "{page}: {}", res.status());
            let _ = res.bytes().await?;
            count.fetch_add(1, Ordering::Relaxed);
            n += 1;
            tokio::time::sleep(Duration::from_millis(1000)).await;
        }
        Ok(())
    }
}
