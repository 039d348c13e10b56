//! Prometheus metrics: what a monitoring system needs to see that the bastion works and how hard.
//!
//! Most counters are derived from the audit events this process appends (`Shared::audit` hands
//! every event to [`Metrics::observe`]): the audit enum is the one list of what happened, so a
//! login or a denial cannot be counted one way and audited another. What no audit event says is
//! counted where it happens: bytes as the pump moves them, command-log rows as they are written,
//! the upstream connect time. Gauges (active sessions, pending requests, the audit chain's
//! length) are read from the store when Prometheus scrapes, so they are the database's truth.
//!
//! Counters are this node's own (each node is its own scrape target; sum them across nodes);
//! the active-sessions gauge counts the sessions this node serves, labelled with its name, while
//! pending requests and the chain's length are the shared database's (take the max).
//!
//! The process has one [`Metrics`] ([`global`]): the counters are observers called from deep in
//! the session code (the command log, the pump), and one process is one Prometheus target, so a
//! handle threaded through every constructor would only add noise.

mod serve;

use std::sync::LazyLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use store::AuditEvent;

pub use serve::serve;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LoginLabels {
    method: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActiveLabels {
    kind: String,
    node: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DirectionLabels {
    direction: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChannelLabels {
    channel: String,
}

/// The bastion's metrics.
pub struct Metrics {
    registry: Registry,
    logins: Family<LoginLabels, Counter>,
    lockouts: Counter,
    sessions_started: Family<KindLabels, Counter>,
    sessions_active: Family<ActiveLabels, Gauge>,
    bytes: Family<DirectionLabels, Counter>,
    /// The two members of `bytes`, looked up once: the pump counts every chunk it moves, and
    /// a family lookup (a lock and a hash of the labels) per keystroke is work it need not do.
    bytes_to_target: std::sync::OnceLock<Counter>,
    bytes_from_target: std::sync::OnceLock<Counter>,
    commands: Family<ResultLabels, Counter>,
    policy_denials: Family<ChannelLabels, Counter>,
    requests_pending: Gauge,
    audit_chain_length: Gauge,
    audit_append_failures: Counter,
    upstream_connect: Histogram,
    upstream_connect_failures: Counter,
    ship_lag: Gauge<f64, std::sync::atomic::AtomicU64>,
    ship_failures: Counter,
}

/// What shared-recording shipping reports at a scrape.
pub struct ShipStatus {
    /// Seconds since every live recording last shipped.
    pub lag_seconds: f64,
    /// Failed shipping attempts since the start.
    pub failures: u64,
}

/// The process's metrics.
pub fn global() -> &'static Metrics {
    static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);
    &METRICS
}

/// Upstream connect buckets, seconds: a loopback target answers in a few milliseconds, a
/// distant one in tens; the top buckets catch the timeouts' neighbourhood.
const CONNECT_BUCKETS: [f64; 12] = [
    0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

impl Metrics {
    /// Every metric and its registration, one after another: a table (each entry a name, a help
    /// text and a type), kept as one list so what `/metrics` exports reads in one place.
    fn new() -> Metrics {
        let mut m = Metrics {
            registry: Registry::with_prefix("bastion"),
            logins: Family::default(),
            lockouts: Counter::default(),
            sessions_started: Family::default(),
            sessions_active: Family::default(),
            bytes: Family::default(),
            bytes_to_target: std::sync::OnceLock::new(),
            bytes_from_target: std::sync::OnceLock::new(),
            commands: Family::default(),
            policy_denials: Family::default(),
            requests_pending: Gauge::default(),
            audit_chain_length: Gauge::default(),
            audit_append_failures: Counter::default(),
            upstream_connect: Histogram::new(CONNECT_BUCKETS),
            upstream_connect_failures: Counter::default(),
            ship_lag: Gauge::default(),
            ship_failures: Counter::default(),
        };
        let r = &mut m.registry;
        r.register("logins", "Logins by method and result", m.logins.clone());
        r.register(
            "login_lockouts",
            "Lockouts begun after repeated login failures",
            m.lockouts.clone(),
        );
        r.register(
            "sessions_started",
            "Sessions started on this node, by kind",
            m.sessions_started.clone(),
        );
        r.register(
            "sessions_active",
            "Sessions active now, by kind and the node serving them",
            m.sessions_active.clone(),
        );
        r.register(
            "proxied_bytes",
            "Bytes proxied between users and targets, by direction",
            m.bytes.clone(),
        );
        r.register(
            "commands",
            "Command-log rows written (logged) and command lines blocked by a rule",
            m.commands.clone(),
        );
        r.register(
            "policy_denials",
            "Requests the policy denied, by channel kind",
            m.policy_denials.clone(),
        );
        r.register(
            "requests_pending",
            "Access requests waiting for a decision",
            m.requests_pending.clone(),
        );
        r.register(
            "audit_chain_length",
            "Records in the signed audit chain",
            m.audit_chain_length.clone(),
        );
        r.register(
            "audit_append_failures",
            "Audit records the store refused; what they were about was denied",
            m.audit_append_failures.clone(),
        );
        r.register_with_unit(
            "upstream_connect",
            "Time to connect and authenticate to a target",
            prometheus_client::registry::Unit::Seconds,
            m.upstream_connect.clone(),
        );
        r.register(
            "upstream_connect_failures",
            "Target connections that failed: refused, timed out, host key mismatch, login refused",
            m.upstream_connect_failures.clone(),
        );
        r.register_with_unit(
            "recording_ship_lag",
            "Time since every live recording last reached shared storage",
            prometheus_client::registry::Unit::Seconds,
            m.ship_lag.clone(),
        );
        r.register(
            "recording_ship_failures",
            "Attempts to ship a recording to shared storage that failed and were retried",
            m.ship_failures.clone(),
        );
        m
    }

    /// Counts what an appended audit event says.
    pub fn observe(&self, event: &AuditEvent) {
        let login = |method: &str, result: &str| {
            self.logins
                .get_or_create(&LoginLabels {
                    method: method.to_string(),
                    result: result.to_string(),
                })
                .inc();
        };
        match event {
            AuditEvent::LoginOk { method, .. } => login(method, "success"),
            AuditEvent::LoginFailed { .. } => login("publickey", "failure"),
            AuditEvent::TotpFailed { .. } => login("keyboard-interactive", "failure"),
            AuditEvent::JumpLogin { .. } => login("proxyjump", "success"),
            AuditEvent::ConsoleLogin { .. } => login("console", "success"),
            AuditEvent::ConsoleLoginFailed { .. } => login("console", "failure"),
            AuditEvent::LoginLockout { .. } => {
                self.lockouts.inc();
            }
            AuditEvent::SessionStart { kind, .. } => {
                self.sessions_started
                    .get_or_create(&KindLabels { kind: kind.clone() })
                    .inc();
            }
            AuditEvent::PolicyDeny { channel, .. } => {
                self.policy_denials
                    .get_or_create(&ChannelLabels {
                        channel: channel.clone(),
                    })
                    .inc();
            }
            AuditEvent::CommandBlocked { .. } => {
                self.commands
                    .get_or_create(&ResultLabels { result: "blocked" })
                    .inc();
            }
            AuditEvent::TargetConnectFailed { .. } => {
                self.upstream_connect_failures.inc();
            }
            _ => {}
        }
    }

    /// An audit append the store refused.
    pub fn audit_append_failed(&self) {
        self.audit_append_failures.inc();
    }

    /// A row written to the command log (a blocked line's row is counted by its
    /// `command_blocked` audit event instead).
    pub fn command_logged(&self, row: &store::NewCommand<'_>) {
        if row.blocked {
            return;
        }
        self.commands
            .get_or_create(&ResultLabels { result: "logged" })
            .inc();
    }

    /// Bytes the pump passed from the user to the target.
    pub fn user_to_target(&self, n: usize) {
        self.direction(&self.bytes_to_target, "to_target")
            .inc_by(n as u64);
    }

    /// Bytes the pump passed from the target to the user.
    pub fn target_to_user(&self, n: usize) {
        self.direction(&self.bytes_from_target, "from_target")
            .inc_by(n as u64);
    }

    /// The `bytes` member of `direction`, created (and so shown) at its first use.
    fn direction<'a>(
        &self,
        slot: &'a std::sync::OnceLock<Counter>,
        direction: &'static str,
    ) -> &'a Counter {
        slot.get_or_init(|| {
            self.bytes
                .get_or_create(&DirectionLabels { direction })
                .clone()
        })
    }

    /// A target connected and authenticated in `took`.
    pub fn upstream_connected(&self, took: Duration) {
        self.upstream_connect.observe(took.as_secs_f64());
    }

    /// Reads the gauges from the store and renders every metric in the text exposition format.
    pub fn render(
        &self,
        store: &store::Store,
        node: &str,
        shipping: Option<ShipStatus>,
    ) -> Result<String, store::StoreError> {
        if let Some(s) = shipping {
            self.ship_lag.set(s.lag_seconds);
            let counted = self.ship_failures.get();
            self.ship_failures
                .inc_by(s.failures.saturating_sub(counted));
        }
        let active = store.active_sessions()?;
        let pending = store.pending_request_count()?;
        let chain = store.newest_audit_id()?;
        self.sessions_active.clear();
        // This node's sessions only (each node is its own target: summing them counts each
        // session once); sessions from before nodes were recorded are the only node's.
        let mine = active
            .iter()
            .filter(|s| s.node.as_deref().is_none_or(|n| n == node));
        for s in mine {
            self.sessions_active
                .get_or_create(&ActiveLabels {
                    kind: s.kind.clone(),
                    node: node.to_string(),
                })
                .inc();
        }
        self.requests_pending.set(pending as i64);
        self.audit_chain_length.set(chain);
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .map_err(|e| store::StoreError::Invalid(format!("encoding metrics: {e}")))?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_events_become_counters_with_their_labels() {
        let m = Metrics::new();
        m.observe(&AuditEvent::LoginOk {
            key: "k".into(),
            method: "publickey+keyboard-interactive".into(),
        });
        m.observe(&AuditEvent::TotpFailed {
            reason: "wrong code".into(),
            key: "k".into(),
        });
        m.observe(&AuditEvent::PolicyDeny {
            host: "web1".into(),
            login: None,
            channel: "shell".into(),
            reason: "no role".into(),
        });
        let row = store::NewCommand {
            session_id: 1,
            user: "u",
            host: "h",
            login: "root",
            offset: 0.0,
            command: "ls",
            exit_status: None,
            blocked: false,
            origin: "exec",
        };
        m.command_logged(&row);
        m.command_logged(&store::NewCommand {
            blocked: true,
            ..row
        });
        m.user_to_target(5);
        m.upstream_connected(Duration::from_millis(3));
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &m.registry).unwrap();
        assert!(out.contains(
            "bastion_logins_total{method=\"publickey+keyboard-interactive\",result=\"success\"} 1"
        ));
        assert!(out.contains(
            "bastion_logins_total{method=\"keyboard-interactive\",result=\"failure\"} 1"
        ));
        assert!(out.contains("bastion_policy_denials_total{channel=\"shell\"} 1"));
        assert!(out.contains("bastion_commands_total{result=\"logged\"} 1"));
        assert!(out.contains("bastion_proxied_bytes_total{direction=\"to_target\"} 5"));
        assert!(out.contains("bastion_upstream_connect_seconds_bucket{le=\"0.005\"} 1"));
        assert!(out.contains("bastion_upstream_connect_seconds_bucket{le=\"0.002\"} 0"));
    }

    /// The Grafana dashboard in the repository queries only metrics this module exports.
    #[test]
    fn the_grafana_dashboard_names_only_exported_metrics() {
        let m = Metrics::new();
        // A family without members prints nothing: give each one.
        m.upstream_connected(Duration::from_millis(3));
        m.observe(&AuditEvent::LoginOk {
            key: "k".into(),
            method: "publickey".into(),
        });
        m.observe(&AuditEvent::PolicyDeny {
            host: "h".into(),
            login: None,
            channel: "shell".into(),
            reason: "r".into(),
        });
        m.observe(&AuditEvent::CommandBlocked {
            session: 1,
            host: "h".into(),
            login: "root".into(),
            command: "c".into(),
            role: "r".into(),
            rule: "x".into(),
            origin: "exec".into(),
        });
        m.user_to_target(1);
        m.sessions_active
            .get_or_create(&ActiveLabels {
                kind: "shell".into(),
                node: "n".into(),
            })
            .inc();
        m.sessions_started
            .get_or_create(&KindLabels {
                kind: "shell".into(),
            })
            .inc();
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &m.registry).unwrap();
        let exported: Vec<&str> = out
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        let dashboard: serde_json::Value =
            serde_json::from_str(include_str!("../../../docs/grafana/bastion.json")).unwrap();
        let mut named = 0;
        for panel in dashboard["panels"].as_array().unwrap() {
            for target in panel["targets"].as_array().unwrap() {
                let expr = target["expr"].as_str().unwrap();
                for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                    if !word.starts_with("bastion_") {
                        continue;
                    }
                    named += 1;
                    let family = ["_total", "_bucket", "_sum", "_count"]
                        .iter()
                        .find_map(|s| word.strip_suffix(s))
                        .unwrap_or(word);
                    assert!(
                        exported.contains(&family),
                        "the dashboard queries {word}, which is not exported: {exported:?}"
                    );
                }
            }
        }
        assert!(named >= 10, "the dashboard names {named} metrics");
    }
}
