//! The stored name of each audit event (the `event` column), as a small `Copy` enum for
//! queries that select by name (`report`, seals, checkpoints, the command log's chain check)
//! without building an [`AuditEvent`]. The names are the serde tags of [`AuditEvent`]; the test
//! `kind_names_are_the_serialised_names_and_events_round_trip` (`events_tests.rs`) keeps them
//! equal.

use crate::events::AuditEvent;

/// The stored name of each event, for queries that select by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    LoginOk,
    LoginFailed,
    TotpFailed,
    JumpLogin,
    PolicyAllow,
    PolicyDeny,
    SessionStart,
    SessionEnd,
    SessionInterrupted,
    NodeFenced,
    SessionFailed,
    SessionKilled,
    SessionWatched,
    FileTransfer,
    CommandBlocked,
    RecordingUnavailable,
    HostKeyPinned,
    HostKeyMismatch,
    TargetConnectFailed,
    PortForward,
    RequestRefused,
    PolicyReloaded,
    PolicyReloadFailed,
    StoreMigrated,
    Admin,
    CommandLogged,
    ConsoleLinkIssued,
    ConsoleLogin,
    ConsoleLoginFailed,
    ConsoleLogout,
    ConsoleDenied,
    RecordingViewed,
    RequestCreated,
    RequestApproved,
    RequestDenied,
    RequestExpired,
    RequestRevoked,
    LoginLockout,
    NotifyFailed,
    Checkpoint,
}

impl EventKind {
    /// The name stored in the audit table's `event` column.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::LoginOk => "login_ok",
            EventKind::LoginFailed => "login_failed",
            EventKind::TotpFailed => "totp_failed",
            EventKind::JumpLogin => "jump_login",
            EventKind::PolicyAllow => "policy_allow",
            EventKind::PolicyDeny => "policy_deny",
            EventKind::SessionStart => "session_start",
            EventKind::SessionEnd => "session_end",
            EventKind::SessionInterrupted => "session_interrupted",
            EventKind::NodeFenced => "node_fenced",
            EventKind::SessionFailed => "session_failed",
            EventKind::SessionKilled => "session_killed",
            EventKind::SessionWatched => "session_watched",
            EventKind::FileTransfer => "file_transfer",
            EventKind::CommandBlocked => "command_blocked",
            EventKind::RecordingUnavailable => "recording_unavailable",
            EventKind::HostKeyPinned => "host_key_pinned",
            EventKind::HostKeyMismatch => "host_key_mismatch",
            EventKind::TargetConnectFailed => "target_connect_failed",
            EventKind::PortForward => "port_forward",
            EventKind::RequestRefused => "request_refused",
            EventKind::PolicyReloaded => "policy_reloaded",
            EventKind::PolicyReloadFailed => "policy_reload_failed",
            EventKind::StoreMigrated => "store_migrated",
            EventKind::Admin => "admin",
            EventKind::CommandLogged => "command_logged",
            EventKind::ConsoleLinkIssued => "console_link_issued",
            EventKind::ConsoleLogin => "console_login",
            EventKind::ConsoleLoginFailed => "console_login_failed",
            EventKind::ConsoleLogout => "console_logout",
            EventKind::ConsoleDenied => "console_denied",
            EventKind::RecordingViewed => "recording_viewed",
            EventKind::RequestCreated => "request_created",
            EventKind::RequestApproved => "request_approved",
            EventKind::RequestDenied => "request_denied",
            EventKind::RequestExpired => "request_expired",
            EventKind::RequestRevoked => "request_revoked",
            EventKind::LoginLockout => "login_lockout",
            EventKind::NotifyFailed => "notify_failed",
            EventKind::Checkpoint => "checkpoint",
        }
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AuditEvent {
    /// Which event this is.
    pub fn kind(&self) -> EventKind {
        match self {
            AuditEvent::LoginOk { .. } => EventKind::LoginOk,
            AuditEvent::LoginFailed { .. } => EventKind::LoginFailed,
            AuditEvent::TotpFailed { .. } => EventKind::TotpFailed,
            AuditEvent::JumpLogin { .. } => EventKind::JumpLogin,
            AuditEvent::PolicyAllow { .. } => EventKind::PolicyAllow,
            AuditEvent::PolicyDeny { .. } => EventKind::PolicyDeny,
            AuditEvent::SessionStart { .. } => EventKind::SessionStart,
            AuditEvent::SessionEnd { .. } => EventKind::SessionEnd,
            AuditEvent::SessionInterrupted { .. } => EventKind::SessionInterrupted,
            AuditEvent::NodeFenced { .. } => EventKind::NodeFenced,
            AuditEvent::SessionFailed { .. } => EventKind::SessionFailed,
            AuditEvent::SessionKilled { .. } => EventKind::SessionKilled,
            AuditEvent::SessionWatched { .. } => EventKind::SessionWatched,
            AuditEvent::FileTransfer { .. } => EventKind::FileTransfer,
            AuditEvent::CommandBlocked { .. } => EventKind::CommandBlocked,
            AuditEvent::RecordingUnavailable { .. } => EventKind::RecordingUnavailable,
            AuditEvent::HostKeyPinned { .. } => EventKind::HostKeyPinned,
            AuditEvent::HostKeyMismatch { .. } => EventKind::HostKeyMismatch,
            AuditEvent::TargetConnectFailed { .. } => EventKind::TargetConnectFailed,
            AuditEvent::PortForward { .. } => EventKind::PortForward,
            AuditEvent::RequestRefused { .. } => EventKind::RequestRefused,
            AuditEvent::PolicyReloaded { .. } => EventKind::PolicyReloaded,
            AuditEvent::PolicyReloadFailed { .. } => EventKind::PolicyReloadFailed,
            AuditEvent::StoreMigrated { .. } => EventKind::StoreMigrated,
            AuditEvent::Admin { .. } => EventKind::Admin,
            AuditEvent::CommandLogged { .. } => EventKind::CommandLogged,
            AuditEvent::ConsoleLinkIssued { .. } => EventKind::ConsoleLinkIssued,
            AuditEvent::ConsoleLogin { .. } => EventKind::ConsoleLogin,
            AuditEvent::ConsoleLoginFailed { .. } => EventKind::ConsoleLoginFailed,
            AuditEvent::ConsoleLogout { .. } => EventKind::ConsoleLogout,
            AuditEvent::ConsoleDenied { .. } => EventKind::ConsoleDenied,
            AuditEvent::RecordingViewed { .. } => EventKind::RecordingViewed,
            AuditEvent::RequestCreated { .. } => EventKind::RequestCreated,
            AuditEvent::RequestApproved { .. } => EventKind::RequestApproved,
            AuditEvent::RequestDenied { .. } => EventKind::RequestDenied,
            AuditEvent::RequestExpired { .. } => EventKind::RequestExpired,
            AuditEvent::RequestRevoked { .. } => EventKind::RequestRevoked,
            AuditEvent::LoginLockout { .. } => EventKind::LoginLockout,
            AuditEvent::NotifyFailed { .. } => EventKind::NotifyFailed,
            AuditEvent::Checkpoint { .. } => EventKind::Checkpoint,
        }
    }
}
