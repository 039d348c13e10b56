//! Every event the bastion writes to its audit log, as one typed enum.
//!
//! Writers build an [`AuditEvent`]; the store turns it into the `event` name and the `detail`
//! JSON object that the hash chain signs. Readers (`bastion audit`, `report`, recording seals,
//! the console) parse records back with [`AuditEvent::parse`], so a field is named in exactly
//! one place. The names and fields are those the bastion wrote before this enum existed, so
//! chains written by older versions still verify (the chain signs the stored text, never a
//! re-serialisation) and still parse: `tests/migrate.rs` parses every record of such a database.
//!
//! One shape is new: a recording's seal. `session_end` used to write `recording_sha256` and
//! `recording_size`, crash recovery `sha256` and `size`; both now write [`Seal`]
//! (`recording`, `recording_sha256`, `recording_size`), and the old names are read as aliases.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A recording's seal as signed into `session_end` and `session_interrupted`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seal {
    /// The recording file; `None` for unrecorded channels.
    #[serde(default)]
    pub recording: Option<String>,
    #[serde(default, alias = "sha256")]
    pub recording_sha256: Option<String>,
    #[serde(default, alias = "size")]
    pub recording_size: Option<u64>,
}

/// What moved in a `file_transfer` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Transfer {
    /// scp or rsync over an exec channel: the whole stream.
    Stream {
        command: Option<String>,
        bytes_up: u64,
        bytes_down: u64,
        exit_status: Option<u32>,
    },
    /// One file operation: an SFTP one (`read`, `write`, `remove`, `rename`, `mkdir`,
    /// `rmdir`), or a file sent or received over the legacy scp protocol (`write`, `read`).
    FileOp {
        op: String,
        path: String,
        #[serde(default)]
        to: Option<String>,
        bytes: u64,
    },
    /// SFTP operations past the per-session limit, counted only (`op` is `more`).
    SftpMore { op: String, count: u64 },
}

/// An administrator's change, in `admin` events (`action` names it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum AdminChange {
    UserAdd {
        keys: Vec<String>,
        totp: bool,
    },
    UserDisable,
    UserEnable,
    UserRm,
    KeyAdd {
        key: String,
    },
    KeyRm {
        key: String,
    },
    TotpReset,
    HostKeyForgotten {
        host: String,
        endpoint: String,
        had_pin: bool,
    },
}

/// Every event of the audit log. The variant name, in snake case, is the stored `event`; the
/// fields are the stored `detail` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", content = "detail", rename_all = "snake_case")]
pub enum AuditEvent {
    LoginOk {
        key: String,
        method: String,
    },
    LoginFailed {
        reason: String,
        key: String,
        login_name: String,
    },
    TotpFailed {
        reason: String,
        key: String,
    },
    /// The inner login of a ProxyJump connection (`ssh -J`), which the bastion terminates.
    JumpLogin {
        host: String,
        login: String,
        key: String,
    },
    PolicyAllow {
        host: String,
        login: String,
        channel: String,
        reason: String,
        /// Every role that granted the request (absent in records written before roles combined).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        roles: Vec<String>,
    },
    PolicyDeny {
        host: String,
        login: Option<String>,
        channel: String,
        reason: String,
    },
    SessionStart {
        session: i64,
        host: String,
        login: String,
        kind: String,
        command: Option<String>,
        key: String,
        /// `proxyjump` when the user came through the bastion with `ssh -J` (absent: logged
        /// in to the bastion itself).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        via: Option<String>,
        /// The approved request the session runs under (absent: standing access).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grant: Option<i64>,
    },
    SessionEnd {
        session: i64,
        host: String,
        login: String,
        kind: String,
        exit_status: Option<u32>,
        exit_signal: Option<String>,
        bytes_in: u64,
        bytes_out: u64,
        reason: String,
        #[serde(flatten)]
        seal: Seal,
    },
    /// A session that ended without its normal end (a crash, a failed session task).
    SessionInterrupted {
        session: i64,
        host: String,
        login: String,
        reason: String,
        #[serde(flatten)]
        seal: Seal,
        /// Bytes of a torn last line cut from the recording.
        bytes_dropped: u64,
    },
    /// A node that learned it had been taken for dead (its heartbeats stalled past
    /// `node_timeout` while its process lived on: stopped, partitioned) ended its sessions,
    /// which a survivor seals as interrupted, without writing to their sealed recordings or
    /// sealing them again. `unsealed` names the node's own copies of the recordings already
    /// sealed, moved aside: what they hold past the seal is kept as evidence, outside every
    /// seal.
    NodeFenced {
        node: String,
        sessions: Vec<i64>,
        reason: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        unsealed: Vec<String>,
    },
    /// A session task that panicked; the session itself is sealed as interrupted.
    SessionFailed {
        channel: u32,
        error: String,
    },
    SessionKilled {
        session: i64,
        target: String,
        by: String,
    },
    SessionWatched {
        session: i64,
        target: String,
        by: String,
    },
    FileTransfer {
        session: i64,
        host: String,
        #[serde(default)]
        login: Option<String>,
        kind: String,
        #[serde(flatten)]
        transfer: Transfer,
    },
    CommandBlocked {
        session: i64,
        host: String,
        login: String,
        command: String,
        /// The role whose rule matched.
        role: String,
        rule: String,
        /// `shell` or `exec`.
        origin: String,
    },
    RecordingUnavailable {
        session: i64,
        host: String,
        error: String,
        /// `session refused` or `session continues unrecorded`.
        action: String,
    },
    HostKeyPinned {
        host: String,
        endpoint: String,
        key: String,
    },
    HostKeyMismatch {
        host: String,
        endpoint: String,
        pinned: String,
        offered: String,
    },
    TargetConnectFailed {
        host: String,
        endpoint: String,
        login: String,
        error: String,
    },
    /// One forwarded TCP connection (`ssh -L`) to a port of a host, when it ended.
    PortForward {
        host: String,
        port: u16,
        /// The account the bastion logged in as to open it.
        login: String,
        /// The client-side address that connected to the user's listener.
        originator: String,
        bytes_up: u64,
        bytes_down: u64,
        seconds: f64,
        /// Why it could not be opened, if it could not.
        error: Option<String>,
    },
    /// A request the bastion refused outright on a logged-in connection: agent or X11
    /// forwarding, an environment variable, an unknown subsystem, a forward it does not serve.
    RequestRefused {
        /// `agent_forward`, `x11`, `env`, `subsystem`, `port_forward`, `remote_forward`,
        /// `streamlocal`.
        request: String,
        /// What was asked (a variable's name, a subsystem, `host:port`, a socket path).
        detail: String,
        reason: String,
    },
    PolicyReloaded {
        roles: usize,
        hosts: usize,
    },
    PolicyReloadFailed {
        error: String,
    },
    /// `bastion migrate` copied an embedded store (`from`, with `records` audit records) into
    /// this one: the first record a store written by several nodes adds to the copied chain.
    StoreMigrated {
        from: String,
        records: u64,
        by: String,
    },
    Admin {
        target_user: String,
        by: String,
        #[serde(flatten)]
        change: AdminChange,
    },
    /// A row of the command log, bound into the chain: `sha256` hashes the row's content
    /// (`command_audit.rs` says which fields), so editing what `bastion commands` shows is caught.
    CommandLogged {
        session: i64,
        command_id: i64,
        sha256: String,
    },
    /// `ssh bastion console` issued a one-time login link (valid `valid_seconds`).
    ConsoleLinkIssued {
        valid_seconds: u64,
    },
    /// A console login link opened a browser session.
    ConsoleLogin {
        rights: Vec<String>,
        roles: Vec<String>,
    },
    /// A console login refused: a reused, expired or unknown link, or no console right.
    ConsoleLoginFailed {
        reason: String,
    },
    ConsoleLogout {},
    /// A console request refused: a page, session or action outside the user's rights.
    ConsoleDenied {
        request: String,
        reason: String,
    },
    /// A recording shown in the console's player (`download`: saved as a file).
    RecordingViewed {
        session: i64,
        host: String,
        download: bool,
    },
    /// A request for access (`kind: access`) or for a held command line (`kind: command`).
    RequestCreated {
        request: i64,
        kind: String,
        host: String,
        login: String,
        /// Access: why the user asks. Command: the line held.
        text: String,
        /// Command: the review rule that held it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<String>,
        /// Command: the session it was typed in.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session: Option<i64>,
        /// Access: the duration asked for, in seconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seconds: Option<i64>,
        approvers: Vec<String>,
    },
    RequestApproved {
        request: i64,
        kind: String,
        by: String,
        /// Access: the grant's end (RFC 3339).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session: Option<i64>,
    },
    RequestDenied {
        request: i64,
        kind: String,
        by: String,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session: Option<i64>,
    },
    /// A grant that reached its end, a review nobody answered in time, or a pending request
    /// its user left.
    RequestExpired {
        request: i64,
        kind: String,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session: Option<i64>,
    },
    RequestRevoked {
        request: i64,
        by: String,
    },
    /// Too many failed logins: `locked` (`u:NAME`, `ip:ADDRESS`) refused for `seconds`.
    LoginLockout {
        locked: Vec<String>,
        failures: u32,
        seconds: u64,
    },
    /// A webhook that could not be delivered (after its retries).
    NotifyFailed {
        webhook: String,
        error: String,
    },
    /// Every `CHECKPOINT_EVERY` records: how many records precede it and the newest one's hash,
    /// and how many command rows existed up to which id (`checkpoint.rs`).
    Checkpoint {
        records: i64,
        last_hash: String,
        commands: i64,
        last_command: Option<i64>,
    },
}

impl AuditEvent {
    /// The `detail` object stored (and signed) for this event.
    pub fn detail(&self) -> Value {
        match serde_json::to_value(self) {
            Ok(Value::Object(mut m)) => m.remove("detail").unwrap_or(Value::Null),
            // Every variant is a struct of plain fields: serialising cannot fail.
            _ => Value::Null,
        }
    }

    /// Reads a stored record back: its `event` name and `detail` object.
    pub fn parse(event: &str, detail: &Value) -> Result<AuditEvent, serde_json::Error> {
        serde_json::from_value(serde_json::json!({"event": event, "detail": detail}))
    }

    /// The recording seal this event signs, if it is one that seals a session.
    pub fn seal(&self) -> Option<(i64, &Seal)> {
        match self {
            AuditEvent::SessionEnd { session, seal, .. }
            | AuditEvent::SessionInterrupted { session, seal, .. } => Some((*session, seal)),
            _ => None,
        }
    }
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;
