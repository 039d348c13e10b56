//! The command log `bench commands` searches: the same million rows on either engine, written
//! straight into the bastion's own schema (made by the bastion itself, so the search index is
//! the one it uses: SQLite's FTS5 trigram table filled by its triggers, PostgreSQL's `pg_trgm`
//! GIN index). Going around the bastion is what makes a million rows take seconds instead of
//! hours of audited appends; what is measured is the search, not the writing.
//!
//! Both engines get the same rows from [`command_at`], so every query must print the same
//! number of lines on both: the runner checks that.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use rusqlite::params;

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

/// Command `i` of the log: (session id, user, host, ts, offset, command line). One row in
/// 100,000 holds a rare token and one in ten `systemctl`.
fn command_at(i: usize, sessions: usize) -> (i64, String, String, f64, f64, String) {
    let s = i % sessions;
    let cmd = if i % 100_000 == 77 {
        format!("openssl rand -hex 16 # rare-token-{i}")
    } else if i % 10 == 3 {
        format!("systemctl restart app{}", i % 97)
    } else {
        format!("{} # {}", WORDS[i % WORDS.len()], i % 1013)
    };
    (
        s as i64 + 1,
        format!("user{}", s % 20),
        format!("web{}", s % 50),
        1_700_000_000.0 + i as f64,
        (i / sessions) as f64,
        cmd,
    )
}

/// Session `s` (0-based; its id is `s + 1`): (user, host, started, ended).
fn session_at(s: usize) -> (String, String, f64, f64) {
    (
        format!("user{}", s % 20),
        format!("web{}", s % 50),
        s as f64,
        s as f64 + 60.0,
    )
}

/// Fills the SQLite store `db`; returns its size in MiB.
pub fn sqlite(db: &Path, rows: usize, sessions: usize) -> Result<f64> {
    let mut conn = rusqlite::Connection::open(db)?;
    let tx = conn.transaction()?;
    for s in 0..sessions {
        let (user, host, start, end) = session_at(s);
        tx.execute(
            "INSERT INTO sessions (user, source, host, login, kind, started_at, ended_at, status)
             VALUES (?1, '10.0.0.1', ?2, 'root', 'shell', ?3, ?4, 'closed')",
            params![user, host, start, end],
        )?;
    }
    {
        let mut ins = tx.prepare(
            "INSERT INTO commands (session_id, user, host, login, ts, offset, command, exit_status, blocked, origin)
             VALUES (?1, ?2, ?3, 'root', ?4, ?5, ?6, 0, 0, 'shell')",
        )?;
        for i in 0..rows {
            let (sid, user, host, ts, offset, cmd) = command_at(i, sessions);
            ins.execute(params![sid, user, host, ts, offset, cmd])?;
        }
    }
    tx.commit()?;
    Ok(std::fs::metadata(db)?.len() as f64 / 1048576.0)
}

/// Fills the PostgreSQL store at `url` (its schema already made by the bastion) with `COPY`,
/// then `ANALYZE`s it as autovacuum would after such a load; returns the database's size in
/// MiB. Runs on a thread of its own: the `postgres` client refuses a tokio runtime's thread.
pub fn postgres(url: &str, rows: usize, sessions: usize) -> Result<f64> {
    let url = url.to_string();
    std::thread::spawn(move || fill_postgres(&url, rows, sessions))
        .join()
        .map_err(|_| anyhow::anyhow!("the PostgreSQL fill panicked"))?
}

fn fill_postgres(url: &str, rows: usize, sessions: usize) -> Result<f64> {
    let mut db = postgres::Client::connect(url, postgres::NoTls).context("connect")?;
    let mut tx = db.transaction()?;
    for s in 0..sessions {
        let (user, host, start, end) = session_at(s);
        tx.execute(
            "INSERT INTO sessions (\"user\", source, host, login, kind, started_at, ended_at, status)
             VALUES ($1, '10.0.0.1', $2, 'root', 'shell', $3, $4, 'closed')",
            &[&user, &host, &start, &end],
        )?;
    }
    let mut copy = tx.copy_in(
        "COPY commands (session_id, \"user\", host, login, ts, \"offset\", command, exit_status, blocked, origin) FROM STDIN",
    )?;
    let mut buf = Vec::with_capacity(1 << 20);
    for i in 0..rows {
        let (sid, user, host, ts, offset, cmd) = command_at(i, sessions);
        writeln!(
            buf,
            "{sid}\t{user}\t{host}\troot\t{ts}\t{offset}\t{}\t0\t0\tshell",
            copy_text(&cmd)
        )?;
        if buf.len() > 1 << 20 {
            copy.write_all(&buf)?;
            buf.clear();
        }
    }
    copy.write_all(&buf)?;
    copy.finish()?;
    tx.commit()?;
    db.batch_execute("ANALYZE")?;
    let size: i64 = db
        .query_one("SELECT pg_database_size(current_database())", &[])?
        .get(0);
    Ok(size as f64 / 1048576.0)
}

/// A value in `COPY`'s text format (backslash, tab and line breaks escaped).
fn copy_text(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}
