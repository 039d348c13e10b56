//! Item 3: keystroke latency. `ssh -tt` runs on a real PTY (as a user's terminal would), the
//! target's shell is switched to `stty raw -echo; exec cat`, and one byte at a time is written
//! and timed until it comes back. Five sessions are open side by side — direct, through the
//! bastion, through the bastion with `ssh -J` (which it terminates and records), an OpenSSH
//! double hop (`ssh -J` through a plain sshd), and direct through a client-side process that
//! only relays bytes (the share of `-J`'s cost that is the client's own extra process) — and
//! measured in rotating batches, so machine noise hits all alike.

use std::io::{Read, Write};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use portable_pty::{native_pty_system, Child, CommandBuilder, PtySize};

use crate::report::Row;
use crate::stats::{summarize, Summary};
use crate::world::World;

/// Options of `bench latency`.
#[derive(clap::Args)]
pub struct Args {
    /// Keystrokes per path.
    #[arg(long, default_value_t = 1000)]
    keys: usize,
    /// Keystrokes per batch before switching path.
    #[arg(long, default_value_t = 50)]
    batch: usize,
    /// Pause between keystrokes, ms (typing, not a flood).
    #[arg(long, default_value_t = 5)]
    gap_ms: u64,
    /// Only these paths (direct, bastion, jump, double, relay), for profiling one path with `perf`;
    /// the ratio rows need all five, so a subset prints each path's figures alone.
    #[arg(long, value_delimiter = ',')]
    paths: Vec<String>,
}

/// A `ssh -tt` client on a PTY, its output arriving through a reader thread.
struct Term {
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    output: Receiver<(Instant, Vec<u8>)>,
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Term {
    fn spawn(argv: &[String]) -> Result<Term> {
        let pty = native_pty_system().openpty(PtySize {
            rows: 24,
            cols: 80,
            pixel_width: 0,
            pixel_height: 0,
        })?;
        let mut cmd = CommandBuilder::new(&argv[0]);
        cmd.args(&argv[1..]);
        cmd.env("TERM", "xterm");
        cmd.env_remove("SSH_AUTH_SOCK");
        let child = pty.slave.spawn_command(cmd)?;
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader()?;
        let writer = pty.master.take_writer()?;
        let (tx, output) = channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send((Instant::now(), buf[..n].to_vec())).is_err() {
                    break;
                }
            }
        });
        Ok(Term {
            child,
            writer,
            output,
            _master: pty.master,
        })
    }

    fn send(&mut self, bytes: &[u8]) -> Result<Instant> {
        let t = Instant::now();
        self.writer.write_all(bytes)?;
        self.writer.flush()?;
        Ok(t)
    }

    /// Reads until `needle` has arrived; the arrival time of the chunk that completed it.
    fn expect(&mut self, needle: &[u8], timeout: Duration) -> Result<Instant> {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (at, chunk) = self
                .output
                .recv_timeout(left)
                .with_context(|| format!("waiting for {:?}; got {:?}", needle, tail(&seen)))?;
            seen.extend_from_slice(&chunk);
            if seen.windows(needle.len()).any(|w| w == needle) {
                return Ok(at);
            }
        }
    }

    /// Switches the remote shell to a raw echoing `cat` and synchronises on a marker.
    fn start_cat(&mut self) -> Result<()> {
        self.expect(b"# ", Duration::from_secs(30))
            .context("no shell prompt")?;
        self.send(b"stty raw -echo; echo RE''ADY; exec cat\r")?;
        self.expect(b"READY", Duration::from_secs(30))?;
        std::thread::sleep(Duration::from_millis(300));
        while self.output.try_recv().is_ok() {}
        self.send(b"S")?;
        self.expect(b"S", Duration::from_secs(10))?;
        Ok(())
    }

    /// One keystroke's round trip.
    fn keystroke(&mut self, b: u8) -> Result<Duration> {
        let t = self.send(&[b])?;
        let at = self.expect(&[b], Duration::from_secs(10))?;
        Ok(at.duration_since(t))
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tail(b: &[u8]) -> String {
    String::from_utf8_lossy(&b[b.len().saturating_sub(200)..]).into_owned()
}

/// The paths measured side by side: (name, `ssh -tt` argv).
fn paths(world: &World) -> Result<Vec<(&'static str, Vec<String>)>> {
    let (t, mid) = (&world.targets[0], &world.targets[1]);
    let port = world.home.port();
    let mut direct = world.ssh_base();
    direct.extend(["-tt".into(), "-p".into(), t.port().to_string()]);
    direct.push(format!("root@{}", t.addr()));
    let mut via = world.ssh_base();
    via.extend(["-tt".into(), "-p".into(), port.to_string()]);
    via.extend(["bench@127.0.0.1".into(), "t0".into()]);
    // `ssh -J bench@bastion root@t0`: the bastion terminates the inner connection (recorded).
    let mut jump = world.ssh_jump_base()?;
    jump.extend(["-tt".into(), "-J".into(), format!("bench@127.0.0.1:{port}")]);
    jump.push("root@t0".into());
    // The reference: an OpenSSH double hop through a plain sshd (`ssh -J root@mid root@t0`).
    let mut double = world.ssh_jump_base()?;
    double.extend([
        "-tt".into(),
        "-J".into(),
        format!("root@{}:{}", mid.addr(), mid.port()),
        "-p".into(),
        t.port().to_string(),
        format!("root@{}", t.addr()),
    ]);
    // Direct, but through an extra client-side process that only copies bytes (`bench relay`
    // as the ProxyCommand): the part of `-J`'s cost that is the client's own relay process,
    // which `ssh -J` always starts and no jump host can avoid.
    let mut relayed = world.ssh_base();
    let exe = std::env::current_exe()?;
    relayed.extend([
        "-tt".into(),
        "-o".into(),
        format!("ProxyCommand={} relay %h %p", exe.display()),
        "-p".into(),
        t.port().to_string(),
        format!("root@{}", t.addr()),
    ]);
    Ok(vec![
        ("direct", direct),
        ("bastion", via),
        ("bastion -J", jump),
        ("OpenSSH double hop", double),
        ("direct through a relay process", relayed),
    ])
}

/// The `--paths` word of each path, in the order of [`paths`].
const PATH_WORDS: [&str; 5] = ["direct", "bastion", "jump", "double", "relay"];

/// `bench relay HOST PORT`: stdin to the TCP connection and the connection to stdout, one
/// thread each way, no buffering beyond one read.
pub fn relay(host: &str, port: u16) -> Result<()> {
    let sock = std::net::TcpStream::connect((host, port))?;
    sock.set_nodelay(true)?;
    let mut to_sock = sock.try_clone()?;
    let up = std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = [0u8; 16384];
        while let Ok(n) = stdin.read(&mut buf) {
            if n == 0 || to_sock.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to_sock.shutdown(std::net::Shutdown::Write);
    });
    let mut from_sock = sock;
    let mut stdout = std::io::stdout().lock();
    let mut buf = [0u8; 16384];
    while let Ok(n) = from_sock.read(&mut buf) {
        if n == 0 || stdout.write_all(&buf[..n]).is_err() || stdout.flush().is_err() {
            break;
        }
    }
    let _ = up.join();
    Ok(())
}

/// Runs the benchmark and returns its rows.
pub fn run(bastion: &str, a: &Args) -> Result<Vec<Row>> {
    let mut world = World::new(bastion, 2, "")?;
    world.serve();
    let paths = chosen_paths(&world, a)?;
    eprintln!("bastion pid {:?}", world.home.pid());
    let mut terms = Vec::new();
    for (name, argv) in &paths {
        let mut term = Term::spawn(argv)?;
        term.start_cat().with_context(|| format!("path {name}"))?;
        terms.push(term);
    }
    eprintln!(
        "latency: {} keystrokes per path ({}), batches of {}",
        a.keys,
        paths.iter().map(|p| p.0).collect::<Vec<_>>().join(", "),
        a.batch
    );
    let samples = keystrokes(&mut terms, a)?;
    let s: Vec<_> = samples.iter().map(|x| summarize(x)).collect();
    if s.iter().any(|x| x.n == 0) {
        bail!("no samples");
    }
    if s.len() < PATH_WORDS.len() {
        return Ok(per_path_rows(&paths, &s));
    }
    Ok(ratio_rows(&s))
}

/// [`paths`], kept to those named by `--paths` (all of them when it is empty); an unknown
/// word is an error naming the known ones.
fn chosen_paths(world: &World, a: &Args) -> Result<Vec<(&'static str, Vec<String>)>> {
    let mut paths = paths(world)?;
    if let Some(unknown) = a.paths.iter().find(|p| !PATH_WORDS.contains(&p.as_str())) {
        bail!(
            "--paths: unknown path {unknown:?} (known: {})",
            PATH_WORDS.join(", ")
        );
    }
    if !a.paths.is_empty() {
        let mut words = PATH_WORDS.iter();
        paths.retain(|_| words.next().is_some_and(|w| a.paths.iter().any(|p| p == w)));
    }
    Ok(paths)
}

/// `a.keys` keystrokes on each of `terms`, in batches of `a.batch` per path, rotating which
/// path goes first each batch so machine noise hits all alike; the round trips per path.
fn keystrokes(terms: &mut [Term], a: &Args) -> Result<Vec<Vec<Duration>>> {
    let n = terms.len();
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); n];
    let gap = Duration::from_millis(a.gap_ms);
    let mut batch = 0;
    while samples.iter().any(|s| s.len() < a.keys) {
        // Rotate which path goes first, too.
        for k in (0..n).map(|i| (i + batch) % n) {
            for _ in 0..a.batch.min(a.keys - samples[k].len()) {
                let b = b'a' + (samples[k].len() % 26) as u8;
                samples[k].push(terms[k].keystroke(b)?);
                std::thread::sleep(gap);
            }
        }
        batch += 1;
    }
    Ok(samples)
}

/// A subset of the paths (`--paths`): each path's p50 and p99 alone, without ratios.
fn per_path_rows(paths: &[(&'static str, Vec<String>)], s: &[Summary]) -> Vec<Row> {
    paths
        .iter()
        .zip(s)
        .flat_map(|((name, _), x)| {
            [
                Row::new("3 latency", format!("keystroke p50, {name}"), x.p50, "ms"),
                Row::new("3 latency", format!("keystroke p99, {name}"), x.p99, "ms"),
            ]
        })
        .collect()
}

/// All five paths (`s` in the order of [`paths`]): the bastion against direct, `-J` against
/// the bastion and the OpenSSH double hop, and what a client-side relay process adds.
fn ratio_rows(s: &[Summary]) -> Vec<Row> {
    let (d, v, j, h, r) = (&s[0], &s[1], &s[2], &s[3], &s[4]);
    let goal = "< 1 ms added at p99 (idle machine)";
    let jump_goal = "-J within 1.1x of the direct bastion path";
    vec![
        Row::new("3 latency", "keystroke p50 via bastion", v.p50, "ms").vs("direct", d.p50),
        Row::new("3 latency", "keystroke p99 via bastion", v.p99, "ms")
            .vs("direct", d.p99)
            .goal(goal),
        Row::new("3 latency", "keystroke mean via bastion", v.mean, "ms").vs("direct", d.mean),
        Row::new("3 latency", "keystroke max via bastion", v.max, "ms").vs("direct", d.max),
        Row::new("3 latency", "added at p50", v.p50 - d.p50, "ms"),
        Row::new("3 latency", "added at p99", v.p99 - d.p99, "ms").goal(goal),
        Row::new("3 latency", "keystroke p50 via bastion -J", j.p50, "ms")
            .vs("bastion, direct path", v.p50)
            .goal(jump_goal),
        Row::new("3 latency", "keystroke p99 via bastion -J", j.p99, "ms")
            .vs("bastion, direct path", v.p99)
            .goal(jump_goal),
        Row::new("3 latency", "keystroke p50 via bastion -J", j.p50, "ms")
            .vs("OpenSSH double hop", h.p50),
        Row::new("3 latency", "keystroke p99 via bastion -J", j.p99, "ms")
            .vs("OpenSSH double hop", h.p99),
        Row::new(
            "3 latency",
            "-J added over the bastion path, p50",
            j.p50 - v.p50,
            "ms",
        ),
        Row::new(
            "3 latency",
            "a client-side relay process added over direct, p50",
            r.p50 - d.p50,
            "ms",
        ),
    ]
}
