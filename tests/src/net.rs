//! Loopback addresses, free ports, and waiting for a listener.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

static NEXT_IP: AtomicU32 = AtomicU32::new(0);

/// A fresh loopback address 127.0.1.N (N in 2..=250), spread by process id and a counter so
/// that parallel tests, and parallel test binaries, rarely share one (ports differ anyway).
pub fn loopback_ip() -> Ipv4Addr {
    let n = NEXT_IP.fetch_add(1, Ordering::Relaxed);
    let spread = (std::process::id().wrapping_mul(7919)).wrapping_add(n.wrapping_mul(37));
    Ipv4Addr::new(127, 0, 1, (2 + spread % 249) as u8)
}

/// A TCP port that is free on `ip` right now, for a server a test starts next.
///
/// Not one the kernel picks for port 0: those come from the ephemeral range, where every
/// outgoing connection of every test takes its local port, so between this call and the
/// server's bind another test's client could take it (a CI run failed so: "Address already in
/// use" for the bastion's console on 127.0.0.1). Ports below that range are tried instead,
/// spread by process and a counter, each handed out once per process and checked with a bind.
pub fn free_port(ip: Ipv4Addr) -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let low = ephemeral_low().clamp(2048, 32768);
    let span = u32::from(low) - 1024;
    let mut given = GIVEN.lock().unwrap_or_else(|p| p.into_inner());
    for _ in 0..4096 {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let spread = std::process::id()
            .wrapping_mul(2_654_435_761)
            .wrapping_add(n.wrapping_mul(40_503));
        let port = 1024 + (spread % span) as u16;
        if given.contains(&port) {
            continue;
        }
        if TcpListener::bind((ip, port)).is_ok() {
            given.push(port);
            return port;
        }
    }
    let l = TcpListener::bind((ip, 0)).unwrap_or_else(|e| panic!("bind {ip}:0: {e}"));
    l.local_addr().expect("local_addr").port()
}

/// The first port of the kernel's ephemeral range (`ip_local_port_range`; Linux's default
/// 32768).
fn ephemeral_low() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse().ok())
        .unwrap_or(32768)
}

/// True once a TCP connection to `addr` succeeds; false if none did within `timeout`.
pub fn wait_for_port(addr: SocketAddr, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// A "hung host": accepts TCP connections on a loopback address and never says a word.
/// Used to check that the bastion gives up on a target within its connect timeout.
pub struct SilentListener {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SilentListener {
    /// Binds a fresh 127.0.1.N address on a free port and starts accepting in a thread.
    pub fn start() -> SilentListener {
        let ip = loopback_ip();
        let listener = TcpListener::bind((ip, 0)).expect("bind silent listener");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("local_addr");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut held = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((s, _)) => held.push(s),
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        SilentListener {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    /// The IP address it listens on.
    pub fn ip(&self) -> String {
        self.addr.ip().to_string()
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

impl Drop for SilentListener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
