//! Issue 19: command-log appends per second, PostgreSQL vs SQLite in the same run. Each append
//! is what the bastion does for every command a user runs: the `commands` row and its signed
//! `command_logged` audit record in one transaction holding the chain's lock (the store's own
//! `log_command`, called here directly: the bastion adds nothing to it but the call).
//!
//! Two shapes: one store handle appending (one node), and two handles on two threads appending
//! at once (two nodes on one database; on SQLite, two processes' worth of connections to one
//! file). After each, the whole chain must verify: more appends per second that broke the one
//! global order would be no figure at all.

use std::path::Path;
use std::time::Instant;

use anyhow::{ensure, Context, Result};
use store::{NewCommand, NewSession, Store};

use crate::engine::{Engine, StoreArg};
use crate::report::Row;

/// Options of `bench appends`.
#[derive(clap::Args)]
pub struct Args {
    /// Appends per measured variant and round.
    #[arg(long, default_value_t = 2000)]
    appends: usize,
    /// Alternating rounds (engines swap places each round).
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    /// The stores compared.
    #[arg(long, value_enum, default_value_t = StoreArg::Both)]
    store: StoreArg,
}

/// The signing key of the bench's stores (any key: nothing outside this run reads them).
fn key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[19u8; 32])
}

/// Where one engine's store lives.
enum Place {
    Sqlite(std::path::PathBuf),
    Postgres(String, std::path::PathBuf),
}

impl Place {
    fn open(&self) -> Result<Store> {
        Ok(match self {
            Place::Sqlite(p) => Store::open(p, Some(key()))?,
            // As the bastion keeps it: this node's own audit head file beside the database.
            Place::Postgres(url, head) => {
                Store::connect(url, Some(key()))?.with_audit_head(head.clone())
            }
        })
    }
}

fn place(engine: Engine, dir: &Path) -> Place {
    match engine {
        Engine::Sqlite => Place::Sqlite(dir.join("bench.db")),
        Engine::Postgres => Place::Postgres(pgtest::database(), dir.join("node.audit-head")),
    }
}

/// `n` appends by `writers` handles on as many threads, at once; appends per second.
fn rate(place: &Place, n: usize, writers: usize) -> Result<f64> {
    let stores = (0..writers)
        .map(|_| place.open())
        .collect::<Result<Vec<_>>>()?;
    let session = stores[0].start_session(&NewSession {
        user: "alice",
        source: "127.0.0.1",
        host: "web1",
        login: "root",
        kind: "shell",
        command: None,
        recording: None,
    })?;
    let per = n / writers;
    let t = Instant::now();
    std::thread::scope(|s| {
        let handles: Vec<_> = stores
            .iter()
            .map(|st| {
                s.spawn(move || -> Result<()> {
                    for i in 0..per {
                        st.log_command(&NewCommand {
                            session_id: session,
                            user: "alice",
                            host: "web1",
                            login: "root",
                            offset: i as f64,
                            command: &format!("systemctl restart app{i}"),
                            exit_status: None,
                            blocked: false,
                            origin: "shell",
                        })?;
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .try_for_each(|h| h.join().expect("an appending thread panicked"))
    })?;
    let rate = (per * writers) as f64 / t.elapsed().as_secs_f64();
    let bad = stores[0].verify_audit(&key().verifying_key())?;
    ensure!(bad.is_none(), "the audit chain does not verify: {bad:?}");
    Ok(rate)
}

/// Runs the benchmark and returns its rows.
pub fn run(_bastion: &str, a: &Args) -> Result<Vec<Row>> {
    let dir = tempfile::Builder::new()
        .prefix("bench-appends-")
        .tempdir()?;
    let engines = a.store.engines();
    let places: Vec<Place> = engines
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let d = dir.path().join(i.to_string());
            std::fs::create_dir_all(&d).map(|_| place(*e, &d))
        })
        .collect::<std::io::Result<_>>()
        .context("scratch directory")?;
    // [engine][writers - 1] -> rates per round
    let mut got = vec![vec![Vec::new(); 2]; engines.len()];
    for round in 0..a.rounds {
        eprintln!("appends: round {}/{}", round + 1, a.rounds);
        for k in 0..places.len() {
            let e = (k + round) % places.len();
            for writers in [1, 2] {
                got[e][writers - 1].push(rate(&places[e], a.appends, writers)?);
            }
        }
    }
    let mean = |v: &Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;
    let mut rows = Vec::new();
    for (e, engine) in engines.iter().enumerate() {
        for w in [1, 2] {
            rows.push(Row::new(
                "19 bench appends",
                format!(
                    "command-log appends, {w} writer(s), {} store",
                    engine.name()
                ),
                mean(&got[e][w - 1]),
                "1/s",
            ));
        }
    }
    if let [sqlite, pg] = &got[..] {
        for w in [1, 2] {
            rows.push(
                Row::new(
                    "19 bench appends",
                    format!("command-log appends, {w} writer(s), PostgreSQL store"),
                    mean(&pg[w - 1]),
                    "1/s",
                )
                .vs("the same, SQLite store", mean(&sqlite[w - 1])),
            );
        }
    }
    Ok(rows)
}
