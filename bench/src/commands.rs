//! Item 5: `bastion commands --grep` over a generated command log of a million rows. The rows
//! go straight into the bastion's own schema (`commands_gen.rs`), then each query runs as the
//! real CLI, interleaved with the reference `bastion sessions --json` (process start and
//! database open) on the same database. With `--store both` (issue 19) the same rows are in a
//! SQLite bastion and a PostgreSQL one, queried alternately, and each query's PostgreSQL time
//! is reported against SQLite's. Each query is also timed inside one process, on a store opened
//! once (`Store::commands`, as the CLI and the console call it): the search itself, without the
//! process start and the connection that every CLI run pays (on PostgreSQL a new backend
//! process per connection, most of a rare search's CLI time).

use std::process::Stdio;
use std::time::Instant;

use anyhow::{ensure, Result};
use e2e::BastionHome;
use store::CommandFilter;

use crate::commands_gen;
use crate::engine::{Engine, StoreArg};
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
    /// The bastion's store: SQLite, PostgreSQL, or both, queried alternately in the same run.
    #[arg(long, value_enum, default_value_t = StoreArg::Sqlite)]
    store: StoreArg,
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

/// One bastion home with its generated log.
struct Home {
    engine: Engine,
    home: BastionHome,
    gen_s: f64,
    db_mib: f64,
    /// The store, opened once, for the in-process timings.
    store: store::Store,
}

/// A bastion home on `engine` holding the generated log.
fn prepare(bastion: &str, engine: Engine, a: &Args) -> Result<Home> {
    let home = BastionHome::init(bastion);
    let url = engine.attach(&home);
    eprintln!(
        "commands: generating {} commands ({})",
        a.rows,
        engine.name()
    );
    let t = Instant::now();
    let sqlite_path = home.data_dir().join("bastion.db");
    let (db_mib, target) = match url {
        None => (
            commands_gen::sqlite(&sqlite_path, a.rows, a.sessions)?,
            sqlite_path.display().to_string(),
        ),
        Some(url) => {
            // The bastion makes its schema on first open.
            time_cli(&home, &["sessions", "--json"])?;
            (commands_gen::postgres(&url, a.rows, a.sessions)?, url)
        }
    };
    let gen_s = t.elapsed().as_secs_f64();
    Ok(Home {
        engine,
        home,
        gen_s,
        db_mib,
        store: store::Store::connect(&target, None)?,
    })
}

fn queries() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
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
    ]
}

/// The filter `bastion commands ARGS` passes to the store.
fn filter_of(args: &[&str]) -> CommandFilter {
    let value = |flag: &str| {
        args.iter()
            .position(|a| *a == flag)
            .and_then(|i| args.get(i + 1))
            .map(|v| v.to_string())
    };
    CommandFilter {
        grep: value("--grep"),
        user: value("--user"),
        host: value("--host"),
        limit: value("--limit").and_then(|l| l.parse().ok()),
        ..CommandFilter::default()
    }
}

/// Seconds `Store::commands` takes for `args`' filter on an open store, and the rows found.
fn time_in_process(store: &store::Store, args: &[&str]) -> Result<(f64, usize)> {
    let filter = filter_of(args);
    let t = Instant::now();
    let rows = store.commands(&filter)?;
    Ok((t.elapsed().as_secs_f64(), rows.len()))
}

/// What one home measured: per query its times and lines; the reference's times; per query
/// the in-process times and rows.
struct Measured {
    times: Vec<Vec<f64>>,
    lines: Vec<usize>,
    ref_times: Vec<f64>,
    inner: Vec<Vec<f64>>,
    inner_rows: Vec<usize>,
}

/// Runs the benchmark and returns its rows.
pub fn run(bastion: &str, a: &Args) -> Result<Vec<Row>> {
    let homes = a
        .store
        .engines()
        .into_iter()
        .map(|e| prepare(bastion, e, a))
        .collect::<Result<Vec<_>>>()?;
    let queries = queries();
    let m = measure(&homes, &queries, a.repeat)?;
    let mut rows = Vec::new();
    for (h, m) in homes.iter().zip(&m) {
        rows.append(&mut engine_rows(h, m, &queries, a.rows));
    }
    if let [sqlite, pg] = &m[..] {
        rows.append(&mut pg_vs_sqlite(sqlite, pg, &queries)?);
    }
    Ok(rows)
}

/// The CLI to compare each query with: process start and store open, no search.
const REFERENCE: [&str; 2] = ["sessions", "--json"];

/// Warms the page cache once, then runs every query `repeat` times, interleaving queries and
/// homes (engines); before each query the reference, after it the in-process search.
fn measure(
    homes: &[Home],
    queries: &[(&'static str, Vec<&'static str>)],
    repeat: usize,
) -> Result<Vec<Measured>> {
    let mut m: Vec<Measured> = homes
        .iter()
        .map(|_| Measured {
            times: vec![Vec::new(); queries.len()],
            lines: vec![0; queries.len()],
            ref_times: Vec::new(),
            inner: vec![Vec::new(); queries.len()],
            inner_rows: vec![0; queries.len()],
        })
        .collect();
    // Warm the page cache once, then interleave queries and engines.
    for h in homes {
        time_cli(&h.home, &REFERENCE)?;
    }
    for _ in 0..repeat {
        for (i, (_, args)) in queries.iter().enumerate() {
            for (h, m) in homes.iter().zip(m.iter_mut()) {
                m.ref_times.push(time_cli(&h.home, &REFERENCE)?.0);
                let (s, n) = time_cli(&h.home, args)?;
                m.times[i].push(s);
                m.lines[i] = n;
                let (s, n) = time_in_process(&h.store, args)?;
                m.inner[i].push(s);
                m.inner_rows[i] = n;
            }
        }
    }
    Ok(m)
}

/// With `--store both`: each query's PostgreSQL time against SQLite's, as the CLI and in
/// process, then the reference; an error if the two stores found different rows.
fn pg_vs_sqlite(
    sqlite: &Measured,
    pg: &Measured,
    queries: &[(&'static str, Vec<&'static str>)],
) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for (i, (name, _)) in queries.iter().enumerate() {
        ensure!(
            sqlite.lines[i] == pg.lines[i],
            "--grep {name}: {} lines on SQLite, {} on PostgreSQL",
            sqlite.lines[i],
            pg.lines[i]
        );
        rows.push(
            Row::new(
                "19 bench commands",
                format!("--grep {name} [{} lines], PostgreSQL store", pg.lines[i]),
                median(&pg.times[i]) * 1e3,
                "ms",
            )
            .vs("the same, SQLite store", median(&sqlite.times[i]) * 1e3),
        );
    }
    for (i, (name, _)) in queries.iter().enumerate() {
        ensure!(
            sqlite.inner_rows[i] == pg.inner_rows[i],
            "{name} in process: {} rows on SQLite, {} on PostgreSQL",
            sqlite.inner_rows[i],
            pg.inner_rows[i]
        );
        rows.push(
            Row::new(
                "19 bench commands",
                format!(
                    "Store::commands in process, {name} [{} rows], PostgreSQL",
                    pg.inner_rows[i]
                ),
                median(&pg.inner[i]) * 1e3,
                "ms",
            )
            .vs("the same, SQLite", median(&sqlite.inner[i]) * 1e3)
            .goal("as fast as FTS5 on 1M rows"),
        );
    }
    rows.push(
        Row::new(
            "19 bench commands",
            "bastion sessions --json (process start, store open), PostgreSQL store",
            median(&pg.ref_times) * 1e3,
            "ms",
        )
        .vs("the same, SQLite store", median(&sqlite.ref_times) * 1e3),
    );
    Ok(rows)
}

/// One engine's rows: generation, size, each query against `sessions --json` on the same store.
fn engine_rows(h: &Home, m: &Measured, queries: &[(&str, Vec<&str>)], n: usize) -> Vec<Row> {
    let e = h.engine.name();
    let r = median(&m.ref_times) * 1e3;
    let mut rows = vec![
        Row::new(
            "5 commands",
            format!("generate {n} commands ({e}, straight into the bastion's schema)"),
            h.gen_s,
            "s",
        ),
        Row::new(
            "5 commands",
            format!("database size ({e})"),
            h.db_mib,
            "MiB",
        ),
    ];
    for (i, (name, _)) in queries.iter().enumerate() {
        rows.push(
            Row::new(
                "5 commands",
                format!("--grep {name} [{} lines] ({e})", m.lines[i]),
                median(&m.times[i]) * 1e3,
                "ms",
            )
            .vs(format!("bastion sessions --json ({e})"), r),
        );
    }
    rows
}
