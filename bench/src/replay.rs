//! Issue 16: a 50 MiB recording starts playing in the console in under a second.
//!
//! A recording of `--mib` MiB (a terminal printing numbered lines for a long while) is written
//! straight into the bastion's recordings directory with its session row, then opened in
//! headless Chromium the way an auditor opens it, with `#t=0` so the player plays at once:
//! the time is from asking for the page until the player's terminal shows the recording's
//! first line. The same-run reference is what the player would have to do first without
//! parts: fetch the whole file (a synchronous request from the same page, timed there).

use std::io::Write;
use std::time::Instant;

use anyhow::{Context, Result};
use e2e::{BastionHome, Browser, Client};

use crate::report::Row;
use crate::stats::summarize;

/// Options of `bench replay`.
#[derive(clap::Args)]
pub struct Args {
    /// Size of the recording, MiB.
    #[arg(long, default_value_t = 50)]
    mib: u64,
    /// Page loads measured.
    #[arg(long, default_value_t = 5)]
    repeat: usize,
}

/// Writes a recording of about `mib` MiB: 100 lines a second of numbered output.
fn write_recording(path: &std::path::Path, mib: u64) -> Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        f,
        "{{\"version\": 2, \"width\": 100, \"height\": 30, \"timestamp\": 1765000000}}"
    )?;
    let mut written = 0u64;
    let mut i = 0u64;
    while written < mib << 20 {
        let line = format!(
            "[{:.6}, \"o\", \"replay-row-{i}-of-a-long-recording-padding-padding\\r\\n\"]\n",
            i as f64 / 100.0
        );
        written += line.len() as u64;
        f.write_all(line.as_bytes())?;
        i += 1;
    }
    f.flush()?;
    Ok(())
}

/// Runs the benchmark and returns its rows.
pub fn run(bastion: &str, a: &Args) -> Result<Vec<Row>> {
    let mut home = BastionHome::init(bastion);
    home.write_policies(
        "roles:\n  - name: auditors\n    members: [auditor]\n    hosts: [\"*\"]\n    console: [audit]\n    require_totp: false\n",
    );
    let auditor = home.add_user("auditor", false);
    let cast = home.data_dir().join("recordings").join("1-alice-web1.cast");
    std::fs::create_dir_all(cast.parent().unwrap())?;
    write_recording(&cast, a.mib)?;
    let conn = rusqlite::Connection::open(home.data_dir().join("bastion.db"))?;
    conn.execute(
        "INSERT INTO sessions (id, user, source, host, login, kind, started_at, ended_at, status, recording)
         VALUES (1, 'alice', '10.0.0.1', 'web1', 'root', 'shell', 1765000000, 1765003600, 'closed', ?1)",
        [cast.to_string_lossy()],
    )?;
    drop(conn);
    home.serve();
    let link = Client::new(&home, &auditor).console_link("auditor");
    let browser = Browser::start();
    browser.goto(&link);
    let page = format!("{}/sessions/1#t=0", home.console_url());
    let mut starts = Vec::new();
    let mut whole = Vec::new();
    for _ in 0..a.repeat {
        browser.goto("about:blank");
        let t0 = Instant::now();
        browser.goto(&page);
        browser.wait_for_text(
            ".ap-term",
            "replay-row-0-of",
            std::time::Duration::from_secs(60),
        );
        starts.push(t0.elapsed());
        let ms = browser.eval(
            "const t = performance.now(); const x = new XMLHttpRequest(); \
             x.open('GET', '/sessions/1/cast', false); x.send(); \
             return x.responseText.length > 0 ? performance.now() - t : -1;",
        );
        let ms = ms.as_f64().context("whole-file fetch failed")?;
        whole.push(std::time::Duration::from_secs_f64(ms / 1000.0));
    }
    let s = summarize(&starts);
    let w = summarize(&whole);
    eprintln!(
        "replay of {} MiB: first frame p50 {:.0} ms (max {:.0}); fetching the whole file p50 {:.0} ms",
        a.mib, s.p50, s.max, w.p50
    );
    Ok(vec![Row::new(
        "16 console",
        format!(
            "replay of a {} MiB recording: page asked → first frame, p50 (max)",
            a.mib
        ),
        s.p50,
        "ms",
    )
    .vs("fetching the whole file alone, p50", w.p50)
    .goal("starts playing in < 1 s")])
}
