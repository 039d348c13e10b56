//! Issue 16: the web console's server time on a big store — the session list and command
//! search with 1,000,000 sessions and 1,000,000 commands (straight into the bastion's schema,
//! as `bench commands` does), for an auditor of every host and one scoped to some hosts.
//!
//! Each request is a real HTTPS request (curl, the console's self-signed certificate); the
//! server time is curl's `time_starttransfer - time_pretransfer` (request sent to first byte),
//! so TLS set-up and process start are not counted. The same-run reference is a static asset
//! (`/assets/console.css`) over the same path: what any request costs before a query runs.

use std::process::Command;

use anyhow::{ensure, Context, Result};
use e2e::{BastionHome, Client};
use rusqlite::params;

use crate::report::Row;
use crate::stats::summarize;

/// Options of `bench console`.
#[derive(clap::Args)]
pub struct Args {
    /// Sessions and commands in the generated store (each).
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
    /// Requests per query (p50 and p95 reported).
    #[arg(long, default_value_t = 40)]
    repeat: usize,
}

/// Fills the store: `rows` sessions over 50 hosts and 20 users across a year, and `rows`
/// commands spread over them (one in ten a `systemctl`, one in 100,000 a rare token).
fn generate(db: &std::path::Path, rows: usize) -> Result<()> {
    let mut conn = rusqlite::Connection::open(db)?;
    let tx = conn.transaction()?;
    {
        let mut s = tx.prepare(
            "INSERT INTO sessions (user, source, host, login, kind, started_at, ended_at, status, bytes_in, bytes_out)
             VALUES (?1, '10.0.0.1', ?2, 'root', 'shell', ?3, ?4, 'closed', ?5, ?5)",
        )?;
        let mut c = tx.prepare(
            "INSERT INTO commands (session_id, user, host, login, ts, offset, command, exit_status, blocked, origin)
             VALUES (?1, ?2, ?3, 'root', ?4, 1.0, ?5, 0, ?6, 'shell')",
        )?;
        let start = 1_765_000_000.0;
        for i in 0..rows {
            let (user, host) = (format!("user{}", i % 20), format!("web{}", i % 50));
            let at = start + i as f64 * 31.0;
            s.execute(params![user, host, at, at + 60.0, (i % 9973) as i64])?;
            let cmd = if i % 100_000 == 77 {
                format!("openssl rand -hex 16 # rare-token-{i}")
            } else if i % 10 == 3 {
                format!("systemctl restart app{}", i % 97)
            } else {
                format!("ls -la /var/log/app{} # {}", i % 13, i % 1013)
            };
            c.execute(params![
                i as i64 + 1,
                user,
                host,
                at + 1.0,
                cmd,
                i % 1000 == 5
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// The keyset cursor (`STARTED_AT:ID`) of the session `depth` rows down the newest-first list:
/// what the pager's "older" link carries after paging that far.
fn deep_cursor(db: &std::path::Path, depth: usize) -> Result<String> {
    let conn = rusqlite::Connection::open(db)?;
    let (t, id): (f64, i64) = conn.query_row(
        "SELECT started_at, id FROM sessions ORDER BY started_at DESC, id DESC LIMIT 1 OFFSET ?1",
        [depth.saturating_sub(1) as i64],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(format!("{t}:{id}"))
}

/// The server time of one request, ms.
fn server_ms(url: &str, cookie: &str) -> Result<f64> {
    let out = Command::new("curl")
        .args(["-sk", "-o", "/dev/null", "-b", cookie, "-w"])
        .arg("%{http_code} %{time_pretransfer} %{time_starttransfer}")
        .arg(url)
        .output()
        .context("curl")?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let f: Vec<&str> = text.split_whitespace().collect();
    ensure!(f.len() == 3 && f[0] == "200", "{url}: {text}");
    Ok((f[2].parse::<f64>()? - f[1].parse::<f64>()?) * 1000.0)
}

/// A logged-in console cookie for `user` (who must hold a console role).
fn login(home: &BastionHome, user: &e2e::TestUser) -> Result<String> {
    let out = Client::new(home, user).run_ssh(&user.name, &["console"]);
    ensure!(out.success(), "console link: {out}");
    let link = out
        .stdout
        .lines()
        .find(|l| l.starts_with("https://"))
        .context("no link")?;
    let head = Command::new("curl")
        .args(["-sk", "-D", "-", "-o", "/dev/null", link.trim()])
        .output()?;
    let head = String::from_utf8_lossy(&head.stdout).into_owned();
    head.lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .map(str::to_string)
        .context("no session cookie")
}

/// An SSH login that writes to the store (`ssh bastion console`: the user's keys read, a link
/// stored), timed `n` times: while nothing else runs, then while an auditor's heaviest console
/// request (`heavy`, a scan of every command) runs over and over. The console has a store
/// connection of its own, so the login should not queue behind the scan; before it did, a
/// login (or a session start, or a typed command's log row) waited for the scan to finish.
fn login_under_heavy_request(
    home: &BastionHome,
    user: &e2e::TestUser,
    heavy: &str,
    cookie: &str,
    n: usize,
) -> Result<Vec<Row>> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let client = Client::new(home, user);
    let time_login = || -> Result<std::time::Duration> {
        let t = std::time::Instant::now();
        let out = client.run_ssh(&user.name, &["console"]);
        ensure!(out.success(), "console link: {out}");
        Ok(t.elapsed())
    };
    let quiet = (0..n).map(|_| time_login()).collect::<Result<Vec<_>>>()?;
    let stop = AtomicBool::new(false);
    let scans = AtomicUsize::new(0);
    let (longest, busy) = std::thread::scope(|s| -> Result<_> {
        let scanner = s.spawn(|| -> Result<f64> {
            let mut longest: f64 = 0.0;
            while !stop.load(Ordering::Relaxed) {
                longest = longest.max(server_ms(heavy, cookie)?);
                scans.fetch_add(1, Ordering::Relaxed);
            }
            Ok(longest)
        });
        // Let the first scan get under way before each timed login.
        let busy = (0..n)
            .map(|_| {
                std::thread::sleep(std::time::Duration::from_millis(50));
                time_login()
            })
            .collect::<Result<Vec<_>>>();
        stop.store(true, Ordering::Relaxed);
        let longest = scanner.join().expect("scanner thread")?;
        Ok((longest, busy?))
    })?;
    let scans = (scans.into_inner(), longest);
    let (q, b) = (summarize(&quiet), summarize(&busy));
    eprintln!(
        "  login p50 {:.1} ms alone, {:.1} ms during {} console scans (each up to {:.0} ms)",
        q.p50, b.p50, scans.0, scans.1
    );
    Ok(vec![Row::new(
        "16 console",
        format!(
            "`ssh bastion console` (login + a stored link) p50 while an auditor's command scan runs \
             (each scan up to {:.0} ms)",
            scans.1
        ),
        b.p50,
        "ms",
    )
    .vs("the same login, console idle", q.p50)
    .goal("the console never holds up SSH users")])
}

/// Runs the benchmark and returns its rows.
pub fn run(bastion: &str, a: &Args) -> Result<Vec<Row>> {
    let mut home = BastionHome::init(bastion);
    eprintln!("console: generating {} sessions and commands", a.rows);
    generate(&home.data_dir().join("bastion.db"), a.rows)?;
    let deep = deep_cursor(&home.data_dir().join("bastion.db"), a.rows / 2)?;
    home.write_policies(
        "roles:\n  - name: all\n    members: [auditor]\n    hosts: [\"*\"]\n    console: [audit]\n    require_totp: false\n  \
         - name: some\n    members: [scoped]\n    hosts: [\"web1*\", \"web2\"]\n    console: [audit]\n    require_totp: false\n",
    );
    let auditor = home.add_user("auditor", false);
    let scoped = home.add_user("scoped", false);
    home.serve();
    let base = home.console_url();
    let cookies = [
        ("all hosts", login(&home, &auditor)?),
        ("12 of 50 hosts", login(&home, &scoped)?),
    ];
    let deep_page = format!("/sessions?offset={}&after={deep}", a.rows / 2);
    let queries = [
        ("sessions page", "/sessions"),
        ("sessions of one user", "/sessions?user=user7"),
        ("sessions with blocked commands", "/sessions?blocked=on"),
        (
            "sessions, the page after the 500,000th (its pager link)",
            deep_page.as_str(),
        ),
        ("command search 'systemctl'", "/commands?q=systemctl"),
        ("command search, rare token", "/commands?q=rare-token"),
    ];
    let mut rows = Vec::new();
    for (scope, cookie) in &cookies {
        let mut reference = Vec::new();
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); queries.len()];
        for _ in 0..a.repeat {
            reference.push(server_ms(&format!("{base}/assets/console.css"), cookie)?);
            for (i, (_, path)) in queries.iter().enumerate() {
                times[i].push(server_ms(&format!("{base}{path}"), cookie)?);
            }
        }
        let to_d = |v: &[f64]| {
            v.iter()
                .map(|ms| std::time::Duration::from_secs_f64(ms / 1000.0))
                .collect::<Vec<_>>()
        };
        let r = summarize(&to_d(&reference));
        for (i, (name, _)) in queries.iter().enumerate() {
            let s = summarize(&to_d(&times[i]));
            eprintln!(
                "  {scope}: {name}: p50 {:.1} ms, p95 {:.1} ms",
                s.p50, s.p95
            );
            rows.push(
                Row::new(
                    "16 console",
                    format!("{name} ({scope}), server p95"),
                    s.p95,
                    "ms",
                )
                .vs("static asset p95", r.p95)
                .goal("p95 < 50 ms with 1M sessions and commands"),
            );
        }
    }
    // Two characters that match nothing: a scan of every command, no index can serve it.
    let heavy = format!("{base}/commands?q=zq");
    rows.extend(login_under_heavy_request(
        &home,
        &auditor,
        &heavy,
        &cookies[0].1,
        a.repeat,
    )?);
    Ok(rows)
}
