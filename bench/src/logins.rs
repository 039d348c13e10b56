//! Item 4b: login rate. Key + TOTP logins to the bastion per second, sequential and parallel,
//! against the same client's key logins to a plain sshd and OpenSSH `ssh target true` runs, in
//! alternating rounds. TOTP codes are single-use per time step and user, so every bastion login
//! is a different user. Then `perf record` on the bastion during more logins says where the
//! time goes.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use russh::keys::PrivateKey;

use crate::client;
use crate::engine::StoreArg;
use crate::report::Row;
use crate::world::{World, BUSY_SSHD};

/// Options of `bench logins`.
#[derive(clap::Args)]
pub struct Args {
    /// Logins per measured variant (split over the rounds).
    #[arg(long, default_value_t = 100)]
    logins: usize,
    /// Alternating rounds.
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    /// Logins in flight in the parallel variants.
    #[arg(long, default_value_t = 8)]
    parallel: usize,
    /// Skip the perf profile.
    #[arg(long)]
    no_profile: bool,
    /// The bastion's store: SQLite, PostgreSQL, or both bastions measured in the same run.
    #[arg(long, value_enum, default_value_t = StoreArg::Sqlite)]
    store: StoreArg,
}

/// One login to run: address, user, key, optional TOTP secret.
#[derive(Clone)]
struct Login {
    addr: (String, u16),
    user: String,
    key: Arc<PrivateKey>,
    secret: Option<String>,
}

async fn login_once(l: Login) -> Result<()> {
    let code = l.secret.as_deref().map(|s| {
        let step = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs()
            / e2e::totp::STEP;
        e2e::code_at(s, step)
    });
    let addr = (l.addr.0.as_str(), l.addr.1);
    let h = client::login(client::config(), addr, &l.user, &l.key, code.as_deref()).await?;
    let _ = h.disconnect(russh::Disconnect::ByApplication, "", "").await;
    Ok(())
}

/// Runs `logins` with `parallel` in flight; logins per second.
async fn rate(logins: Vec<Login>, parallel: usize) -> Result<f64> {
    let n = logins.len();
    let gate = Arc::new(tokio::sync::Semaphore::new(parallel));
    let t = Instant::now();
    let tasks: Vec<_> = logins
        .into_iter()
        .map(|l| {
            let gate = gate.clone();
            tokio::spawn(async move {
                let _p = gate.acquire().await?;
                login_once(l).await
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    Ok(n as f64 / t.elapsed().as_secs_f64())
}

/// `n` OpenSSH `ssh target true` runs, `parallel` at a time; runs per second.
fn ssh_true_rate(world: &World, n: usize, parallel: usize) -> Result<f64> {
    let t0 = &world.targets[0];
    let mut argv = world.ssh_base();
    argv.extend([
        "-p".into(),
        t0.port().to_string(),
        format!("root@{}", t0.addr()),
        "true".into(),
    ]);
    let t = Instant::now();
    let mut left = n;
    while left > 0 {
        let k = left.min(parallel);
        let children: Vec<_> = (0..k)
            .map(|_| {
                Command::new(&argv[0])
                    .args(&argv[1..])
                    .stdin(Stdio::null())
                    .spawn()
            })
            .collect::<std::io::Result<_>>()?;
        for mut c in children {
            if !c.wait()?.success() {
                bail!("ssh target true failed");
            }
        }
        left -= k;
    }
    Ok(n as f64 / t.elapsed().as_secs_f64())
}

/// One bastion's logins to run: key + TOTP users (each used once) and the key-only user.
struct Bastion {
    totp: std::vec::IntoIter<Login>,
    key_only: Login,
}

impl Bastion {
    fn new(world: &World) -> Result<Bastion> {
        let mut totp = Vec::new();
        for (name, secret, k) in &world.totp_users {
            totp.push(Login {
                addr: world.bastion_addr(),
                user: name.clone(),
                key: client::load_key(&k.private)?,
                secret: Some(secret.clone()),
            });
        }
        Ok(Bastion {
            totp: totp.into_iter(),
            key_only: Login {
                addr: world.bastion_addr(),
                user: "bench".into(),
                key: client::load_key(&world.key.private)?,
                secret: None,
            },
        })
    }

    fn take(&mut self, n: usize) -> Vec<Login> {
        self.totp.by_ref().take(n).collect()
    }
}

/// The bastion variants, measured on every engine's bastion.
const VARIANTS: [&str; 3] = [
    "bastion key+TOTP, sequential",
    "bastion key only, sequential",
    "bastion key+TOTP, parallel",
];
/// The references, measured once per round against the first world's target.
const REFS: [&str; 4] = [
    "sshd key, sequential",
    "sshd key, parallel",
    "ssh target true, sequential",
    "ssh target true, parallel",
];

/// Runs the benchmark and returns its rows.
pub fn run(bastion: &str, a: &Args) -> Result<Vec<Row>> {
    let per_round = a.logins.div_ceil(a.rounds).max(1);
    let engines = a.store.engines();
    let profile_n = if a.no_profile { 0 } else { per_round * 2 };
    let mut worlds = Vec::new();
    for (i, engine) in engines.iter().enumerate() {
        let mut world = World::on(bastion, 1, BUSY_SSHD, *engine)?;
        let users = a.rounds * per_round * 2 + if i == 0 { profile_n } else { 0 };
        eprintln!("logins: adding {users} TOTP users ({})", engine.name());
        world.add_totp_users(users);
        world.serve();
        worlds.push(world);
    }
    let rt = tokio::runtime::Runtime::new()?;
    let key = client::load_key(&worlds[0].key.private)?;
    let t0 = &worlds[0].targets[0];
    let sshd = Login {
        addr: (t0.addr(), t0.port()),
        user: "root".into(),
        key: key.clone(),
        secret: None,
    };
    let mut bastions = worlds
        .iter()
        .map(Bastion::new)
        .collect::<Result<Vec<_>>>()?;
    let mut got = vec![vec![Vec::new(); VARIANTS.len()]; engines.len()];
    let mut refs = vec![Vec::new(); REFS.len()];
    let p = a.parallel;
    for round in 0..a.rounds {
        eprintln!("logins: round {}/{}", round + 1, a.rounds);
        // Alternate which engine goes first.
        for k in 0..bastions.len() {
            let e = (k + round) % bastions.len();
            let b = &mut bastions[e];
            got[e][0].push(rt.block_on(rate(b.take(per_round), 1))?);
            got[e][1].push(rt.block_on(rate(vec![b.key_only.clone(); per_round], 1))?);
            got[e][2].push(rt.block_on(rate(b.take(per_round), p))?);
        }
        refs[0].push(rt.block_on(rate(vec![sshd.clone(); per_round], 1))?);
        refs[1].push(rt.block_on(rate(vec![sshd.clone(); per_round], p))?);
        refs[2].push(ssh_true_rate(&worlds[0], per_round, 1)?);
        refs[3].push(ssh_true_rate(&worlds[0], per_round, p)?);
    }
    let mean = |v: &Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;
    let r: Vec<f64> = refs.iter().map(mean).collect();
    let mut rows = Vec::new();
    for (e, engine) in engines.iter().enumerate() {
        let m: Vec<f64> = got[e].iter().map(mean).collect();
        rows.append(&mut against_sshd(engine.name(), &m, &r, p));
    }
    if let [sqlite, pg] = &got[..] {
        rows.append(&mut pg_vs_sqlite(sqlite, pg, p));
    }
    if profile_n > 0 {
        match profile(&worlds[0], &rt, bastions[0].take(profile_n), a.parallel) {
            Ok(mut p) => rows.append(&mut p),
            Err(e) => eprintln!("logins: no profile: {e:#}"),
        }
    }
    Ok(rows)
}

/// One engine's bastion figures `m` (by [`VARIANTS`]) against the references `r` ([`REFS`]).
fn against_sshd(engine: &str, m: &[f64], r: &[f64], p: usize) -> Vec<Row> {
    let goal = "limited by crypto, not our code (see profile)";
    let name = |v: &str| format!("{v} ({engine} store)");
    let par = |v: &str| format!("{v} ({p}, {engine} store)");
    vec![
        Row::new("4 logins", name(VARIANTS[0]), m[0], "1/s")
            .vs(REFS[0], r[0])
            .goal(goal),
        Row::new("4 logins", name(VARIANTS[1]), m[1], "1/s").vs(REFS[0], r[0]),
        Row::new("4 logins", par(VARIANTS[2]), m[2], "1/s")
            .vs(REFS[1], r[1])
            .goal(goal),
        Row::new("4 logins", name(VARIANTS[0]), m[0], "1/s").vs(REFS[2], r[2]),
        Row::new("4 logins", par(VARIANTS[2]), m[2], "1/s").vs(REFS[3], r[3]),
    ]
}

/// The PostgreSQL bastion's figures against the SQLite bastion's, same run (ratio PG/SQLite).
fn pg_vs_sqlite(sqlite: &[Vec<f64>], pg: &[Vec<f64>], p: usize) -> Vec<Row> {
    let mean = |v: &Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;
    VARIANTS
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let v = if i == 2 {
                format!("{v} ({p})")
            } else {
                v.to_string()
            };
            Row::new(
                "19 bench logins",
                format!("{v}, PostgreSQL store"),
                mean(&pg[i]),
                "1/s",
            )
            .vs("the same, SQLite store", mean(&sqlite[i]))
        })
        .collect()
}

/// `perf record` on the bastion during `logins`; the top symbols as rows (percent of samples).
fn profile(
    world: &World,
    rt: &tokio::runtime::Runtime,
    logins: Vec<Login>,
    parallel: usize,
) -> Result<Vec<Row>> {
    let n = logins.len();
    let data = record(world, rt, logins, parallel)?;
    let text = perf_report(&data)?;
    let (mut rows, groups) = top_symbols(&text);
    let mut out_rows = vec![Row::new(
        "4 login profile",
        format!("perf record -g on the bastion during {n} parallel key+TOTP logins: top symbols"),
        n as f64,
        "logins",
    )];
    out_rows.append(&mut rows);
    for (l, v) in LABELS.iter().zip(groups) {
        out_rows.push(Row::new("4 login profile", format!("share: {l}"), v, "%"));
    }
    Ok(out_rows)
}

/// Runs `logins` (`parallel` in flight) under `perf record -g` attached to the bastion; the
/// path of the perf data.
fn record(
    world: &World,
    rt: &tokio::runtime::Runtime,
    logins: Vec<Login>,
    parallel: usize,
) -> Result<PathBuf> {
    let pid = world.home.pid().context("not serving")?;
    let data = world.home.data_dir().join("perf.data");
    let mut perf = Command::new("perf")
        .args(["record", "-q", "-F", "1999", "-g", "-o"])
        .arg(&data)
        .args(["-p", &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("perf")?;
    std::thread::sleep(std::time::Duration::from_millis(500));
    let r = rt.block_on(rate(logins, parallel));
    let _ = Command::new("kill")
        .args(["-INT", &perf.id().to_string()])
        .status();
    perf.wait()?;
    r?;
    Ok(data)
}

/// `perf report` of `data`: self time by symbol, flat, every symbol.
fn perf_report(data: &Path) -> Result<String> {
    let out = Command::new("perf")
        .args([
            "report",
            "--no-children",
            "--sort",
            "symbol",
            "--stdio",
            "-g",
            "none",
            "--percent-limit",
            "0",
            "-i",
        ])
        .arg(data)
        .stderr(Stdio::null())
        .output()?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The groups symbols are summed into, indexed by [`category`].
const LABELS: [&str; 8] = [
    "crypto",
    "kernel",
    "sqlite",
    "everything else",
    "russh protocol",
    "malloc/memcpy",
    "tokio",
    "regex/globset (policy)",
];

/// The first 12 symbols of a `perf report` as rows, and every symbol's percent summed by
/// group ([`LABELS`]).
fn top_symbols(text: &str) -> (Vec<Row>, [f64; 8]) {
    let mut rows = Vec::new();
    let mut groups = [0.0f64; 8];
    for line in text.lines() {
        let line = line.trim();
        let Some((pct, sym)) = line.split_once('%') else {
            continue;
        };
        let Ok(pct) = pct.trim().parse::<f64>() else {
            continue;
        };
        let kernel = sym.trim().starts_with("[k]");
        let sym = sym
            .trim()
            .trim_start_matches("[.]")
            .trim_start_matches("[k]")
            .trim();
        groups[if kernel { 1 } else { category(sym) }] += pct;
        if rows.len() < 12 {
            let short: String = sym.chars().take(70).collect();
            rows.push(Row::new("4 login profile", short, pct, "%"));
        }
    }
    (rows, groups)
}

/// The [`LABELS`] index of a user-space symbol (1, kernel, is perf's `[k]`), by its name.
fn category(sym: &str) -> usize {
    let s = sym.to_ascii_lowercase();
    const CRYPTO: &[&str] = &[
        "sha",
        "ed25519",
        "curve25519",
        "x25519",
        "chacha",
        "poly1305",
        "aes",
        "gcm",
        "ring_core",
        "fe_",
        "ge_",
        "sc_",
        "scalar",
        "field",
        "montgomery",
        "edwards",
        "bn_",
        "mul",
        "hmac",
        "curve",
        "keccak",
        "blake",
        "dalek",
        "digest",
        "ml_kem",
        "lattice",
    ];
    if CRYPTO.iter().any(|c| s.contains(c)) {
        0
    } else if s.contains("sqlite") {
        2
    } else if s.contains("russh") {
        4
    } else if s.contains("malloc")
        || s.contains("free")
        || s.contains("memmove")
        || s.contains("memcpy")
        || s.contains("memset")
    {
        5
    } else if s.contains("tokio") {
        6
    } else if s.contains("regex") || s.contains("globset") || s.contains("aho_corasick") {
        7
    } else {
        3
    }
}
