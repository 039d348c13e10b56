//! Item 4a: many concurrent interactive sessions held open through one bastion, each typing a
//! key and waiting for its echo every few seconds; the bastion's RSS before and after gives the
//! memory per session. The client is this process (russh), not hundreds of `ssh` processes, so
//! the client side costs little and the bastion is what is measured.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use russh::client::{Handle, Msg};
use russh::Channel;
use tokio::sync::Semaphore;

use crate::client::{self, Accept};
use crate::engine::StoreArg;
use crate::report::Row;
use crate::stats::{summarize, Summary};
use crate::world::{World, BUSY_SSHD};

/// Options of `bench sessions`.
#[derive(clap::Args)]
pub struct Args {
    /// Sessions held open at once.
    #[arg(long, default_value_t = 500)]
    sessions: usize,
    /// Sessions per sshd target.
    #[arg(long, default_value_t = 100)]
    per_target: usize,
    /// Seconds the sessions are held (echoing) after all are open.
    #[arg(long, default_value_t = 20)]
    hold: u64,
    /// Seconds between one session's keystrokes.
    #[arg(long, default_value_t = 5)]
    period: u64,
    /// Logins in flight while opening.
    #[arg(long, default_value_t = 16)]
    opening: usize,
    /// The bastion's store (issue 19: a node of several on PostgreSQL).
    #[arg(long, value_enum, default_value_t = StoreArg::Sqlite)]
    store: StoreArg,
}

pub(crate) type Session = (Handle<Accept>, Channel<Msg>);

pub(crate) async fn open(
    (host, port): (String, u16),
    target: usize,
    key: &Arc<russh::keys::PrivateKey>,
) -> Result<Session> {
    let user = format!("bench+t{target}");
    let h = client::login(client::config(), (&host, port), &user, key, None).await?;
    let ch = client::shell(&h).await?;
    Ok((h, ch))
}

/// Types `x`, waits for its echo, then erases it; the echo round trip.
pub(crate) async fn echo(ch: &mut Channel<Msg>) -> Result<Duration> {
    let t = Instant::now();
    ch.data(&b"x"[..]).await?;
    client::wait_for(ch, |d| d.contains(&b'x'), Duration::from_secs(30)).await?;
    let rtt = t.elapsed();
    ch.data(&b"\x7f"[..]).await?;
    client::wait_for(ch, |_| true, Duration::from_secs(30)).await?;
    Ok(rtt)
}

/// Runs the benchmark and returns its rows.
pub fn run(bastion: &str, a: &Args) -> Result<Vec<Row>> {
    let targets = a.sessions.div_ceil(a.per_target).max(1);
    let engine = match a.store.engines()[..] {
        [one] => one,
        _ => anyhow::bail!("bench sessions measures one store at a time"),
    };
    let mut world = World::on(bastion, targets, BUSY_SSHD, engine)?;
    world.serve();
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(held(&world, a, targets))
}

/// Warm-up and baseline, opening, holding, rows: each phase a step of its own (below).
async fn held(world: &World, a: &Args, targets: usize) -> Result<Vec<Row>> {
    let key = client::load_key(&world.key.private)?;
    let rss0 = warm_up(world, targets, &key).await?;
    let (sessions, open_s) = open_all(world, a, targets, &key).await?;
    let n = sessions.len();
    let hold = hold(world, a, sessions).await?;
    Ok(rows(a, n, open_s, rss0, &hold))
}

/// Warms up (first-use allocations, thread pools), then takes the baseline: the idle
/// bastion's RSS in KiB.
async fn warm_up(world: &World, targets: usize, key: &Arc<russh::keys::PrivateKey>) -> Result<u64> {
    for i in 0..4 {
        let (h, mut ch) = open(world.bastion_addr(), i % targets, key).await?;
        echo(&mut ch).await?;
        drop(ch);
        let _ = h.disconnect(russh::Disconnect::ByApplication, "", "").await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    world.bastion_rss_kib()
}

/// Opens `a.sessions` sessions, `a.opening` logins in flight; the sessions that opened and
/// the seconds opening took (failures are counted and the first three printed).
async fn open_all(
    world: &World,
    a: &Args,
    targets: usize,
    key: &Arc<russh::keys::PrivateKey>,
) -> Result<(Vec<Session>, f64)> {
    eprintln!(
        "sessions: opening {} through the bastion ({targets} targets)",
        a.sessions
    );
    let gate = Arc::new(Semaphore::new(a.opening));
    let t_open = Instant::now();
    let mut opening = Vec::new();
    for i in 0..a.sessions {
        let gate = gate.clone();
        let key = key.clone();
        let addr = world.bastion_addr();
        opening.push(tokio::spawn(async move {
            let _permit = gate.acquire().await?;
            open(addr, i % targets, &key).await
        }));
    }
    let mut results = Vec::new();
    for t in opening {
        results.push(t.await?);
    }
    let open_s = t_open.elapsed().as_secs_f64();
    let mut sessions = Vec::new();
    let mut failed = 0;
    for r in results {
        match r {
            Ok(s) => sessions.push(s),
            Err(e) => {
                failed += 1;
                if failed <= 3 {
                    eprintln!("sessions: open failed: {e:#}");
                }
            }
        }
    }
    eprintln!(
        "sessions: {} open in {open_s:.1} s ({failed} failed); holding {} s",
        sessions.len(),
        a.hold
    );
    Ok((sessions, open_s))
}

/// What holding the sessions measured: the echo round trips, the bastion's peak RSS sampled
/// while holding and its RSS at the end (KiB).
struct Held {
    echo: Summary,
    peak: u64,
    rss1: u64,
}

/// Holds `sessions` for `a.hold` seconds, each typing a key every `a.period` seconds (spread
/// evenly over the period), while the bastion's RSS is sampled every half second.
async fn hold(world: &World, a: &Args, sessions: Vec<Session>) -> Result<Held> {
    let n = sessions.len();
    let rtts = Arc::new(Mutex::new(Vec::new()));
    let stop = Instant::now() + Duration::from_secs(a.hold);
    let period = Duration::from_secs(a.period);
    let mut tasks = Vec::new();
    for (i, (h, mut ch)) in sessions.into_iter().enumerate() {
        let rtts = rtts.clone();
        tasks.push(tokio::spawn(async move {
            // Spread the keystrokes evenly over the period.
            tokio::time::sleep(period * i as u32 / n.max(1) as u32).await;
            while Instant::now() < stop {
                if let Ok(rtt) = echo(&mut ch).await {
                    rtts.lock().unwrap().push(rtt);
                }
                tokio::time::sleep(period).await;
            }
            (h, ch)
        }));
    }
    let mut peak = 0;
    while Instant::now() < stop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        peak = peak.max(world.bastion_rss_kib()?);
    }
    let mut kept = Vec::new();
    for t in tasks {
        kept.push(t.await?);
    }
    let rss1 = world.bastion_rss_kib()?;
    let echo = summarize(&rtts.lock().unwrap());
    drop(kept);
    Ok(Held { echo, peak, rss1 })
}

/// The rows: `n` sessions held of those asked for, RSS idle and held, per session (at the
/// end and at the peak), the opening rate and the echo under load.
fn rows(a: &Args, n: usize, open_s: f64, rss0: u64, held: &Held) -> Vec<Row> {
    let Held { echo, peak, rss1 } = *held;
    let per = (rss1.saturating_sub(rss0)) as f64 / n.max(1) as f64;
    let per_peak = (peak.max(rss1).saturating_sub(rss0)) as f64 / n.max(1) as f64;
    let goal = "< 128 KiB per idle session (issue 19; issue 5: < 256 KiB)";
    vec![
        Row::new(
            "4 sessions",
            "sessions held open (russh client, one process)",
            n as f64,
            "sessions",
        )
        .vs("asked for", a.sessions as f64),
        Row::new(
            "4 sessions",
            "bastion RSS, idle",
            rss0 as f64 / 1024.0,
            "MiB",
        ),
        Row::new(
            "4 sessions",
            format!("bastion RSS with {n} sessions"),
            rss1 as f64 / 1024.0,
            "MiB",
        ),
        Row::new("4 sessions", "bastion RSS per session", per, "KiB").goal(goal),
        Row::new(
            "4 sessions",
            "bastion RSS per session (peak)",
            per_peak,
            "KiB",
        )
        .goal(goal),
        Row::new(
            "4 sessions",
            "sessions opened per second",
            n as f64 / open_s,
            "1/s",
        ),
        Row::new(
            "4 sessions",
            format!("echo p50 under load ({} echoes)", echo.n),
            echo.p50,
            "ms",
        ),
        Row::new("4 sessions", "echo p99 under load", echo.p99, "ms"),
    ]
}
