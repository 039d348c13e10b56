//! Item 5: `bastion commands --grep` over a generated command log of a million rows. The rows
//! go straight into the bastion's own schema (made by `bastion init`; the FTS5 index is filled
//! by its triggers), then each query runs as the real CLI, interleaved with the reference
//! `bastion sessions --json` (process start and database open) on the same database.

use std::process::Stdio;
use std::time::Instant;

use anyhow::{ensure, Result};
use e2e::BastionHome;
use rusqlite::params;

use crate::report::Row;
use crate::stats::median;

/// Options of `bench commands`.
#[derive(clap::Args)]
pub struct Args {
    /// Commands in the generated log.
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
    /// Sessions they belong to.
    #[arg(long, default_value_t = 100)]
    sessions: usize,
    /// Runs of each query (the median is reported).
    #[arg(long, default_value_t = 5)]
    repeat: usize,
}

const WORDS: &[&str] = &[
    "ls -la /var/log",
    "systemctl status nginx",
    "tail -n 100 /var/log/syslog",
    "cd /etc",
    "vim /etc/hosts",
    "df -h",
    "free -m",
    "ps aux",
    "grep -r error /var/log/app",
    "journalctl -u sshd --since today",
    "docker ps",
    "kubectl get pods -n prod",
    "cat /proc/meminfo",
    "git pull --rebase",
    "make -j4",
    "apt-get update",
    "top -b -n 1",
    "uptime",
    "whoami",
    "ip addr show",
    "ss -tlnp",
    "du -sh /home/*",
    "find / -name '*.conf'",
    "echo $PATH",
];

/// Fills `db` with `rows` commands in `sessions` sessions; one row in 100,000 holds a rare
/// token and one in ten `systemctl`.
fn generate(db: &std::path::Path, rows: usize, sessions: usize) -> Result<()> {
    let mut conn = rusqlite::Connection::open(db)?;
    let tx = conn.transaction()?;
    for s in 0..sessions {
        tx.execute(
            "INSERT INTO sessions (user, source, host, login, kind, started_at, ended_at, status)
             VALUES (?1, '10.0.0.1', ?2, 'root', 'shell', ?3, ?4, 'closed')",
            params![
                format!("user{}", s % 20),
                format!("web{}", s % 50),
                s as f64,
                s as f64 + 60.0
            ],
        )?;
    }
    {
        let mut ins = tx.prepare(
            "INSERT INTO commands (session_id, user, host, login, ts, offset, command, exit_status, blocked, origin)
             VALUES (?1, ?2, ?3, 'root', ?4, ?5, ?6, 0, 0, 'shell')",
        )?;
        for i in 0..rows {
            let s = i % sessions;
            let cmd = if i % 100_000 == 77 {
                format!("openssl rand -hex 16 # rare-token-{i}")
            } else if i % 10 == 3 {
                format!("systemctl restart app{}", i % 97)
            } else {
                format!("{} # {}", WORDS[i % WORDS.len()], i % 1013)
            };
            ins.execute(params![
                s as i64 + 1,
                format!("user{}", s % 20),
                format!("web{}", s % 50),
                1_700_000_000.0 + i as f64,
                (i / sessions) as f64,
                cmd
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Seconds one CLI run takes, its stdout read to the end (as a pipe or `less` would); and
/// the number of lines it printed.
fn time_cli(home: &BastionHome, args: &[&str]) -> Result<(f64, usize)> {
    let t = Instant::now();
    let out = home.command(args).stderr(Stdio::null()).output()?;
    let s = t.elapsed().as_secs_f64();
    ensure!(out.status.success(), "bastion {args:?} failed");
    Ok((s, out.stdout.iter().filter(|b| **b == b'\n').count()))
}

/// Runs the benchmark and returns its rows.
pub fn run(bastion: &str, a: &Args) -> Result<Vec<Row>> {
    let home = BastionHome::init(bastion);
    eprintln!("commands: generating {} commands", a.rows);
    let t = Instant::now();
    generate(&home.data_dir().join("bastion.db"), a.rows, a.sessions)?;
    let gen_s = t.elapsed().as_secs_f64();
    let db_mib = std::fs::metadata(home.data_dir().join("bastion.db"))?.len() as f64 / 1048576.0;
    let queries: Vec<(&str, Vec<&str>)> = vec![
        (
            "rare (10 rows per million)",
            vec!["commands", "--grep", "rare-token"],
        ),
        ("no match", vec!["commands", "--grep", "zqxjv"]),
        (
            "common (10%), --limit 20",
            vec!["commands", "--grep", "systemctl", "--limit", "20"],
        ),
        (
            "common (10%), all rows",
            vec!["commands", "--grep", "systemctl", "--json"],
        ),
        (
            "2 chars (scan), --limit 20",
            vec!["commands", "--grep", "zq", "--limit", "20"],
        ),
        (
            "rare, --user and --host",
            vec![
                "commands",
                "--grep",
                "rare-token",
                "--user",
                "user17",
                "--host",
                "web27",
            ],
        ),
    ];
    let reference = vec!["sessions", "--json"];
    let mut times = vec![Vec::new(); queries.len()];
    let mut lines = vec![0; queries.len()];
    let mut ref_times = Vec::new();
    // Warm the page cache once, then interleave.
    time_cli(&home, &reference)?;
    for _ in 0..a.repeat {
        for (i, (_, args)) in queries.iter().enumerate() {
            ref_times.push(time_cli(&home, &reference)?.0);
            let (s, n) = time_cli(&home, args)?;
            times[i].push(s);
            lines[i] = n;
        }
    }
    let r = median(&ref_times) * 1e3;
    let mut rows = vec![
        Row::new(
            "5 commands",
            format!(
                "generate {} commands (direct SQLite insert, FTS5 triggers)",
                a.rows
            ),
            gen_s,
            "s",
        ),
        Row::new("5 commands", "database size", db_mib, "MiB"),
    ];
    for (i, (name, _)) in queries.iter().enumerate() {
        rows.push(
            Row::new(
                "5 commands",
                format!("--grep {name} [{} lines]", lines[i]),
                median(&times[i]) * 1e3,
                "ms",
            )
            .vs("bastion sessions --json", r),
        );
    }
    Ok(rows)
}
