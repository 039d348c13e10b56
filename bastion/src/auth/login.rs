//! The login sequence: public key first, then (when any role requires it) a TOTP code.
//! Every outcome is audited with the source address and key fingerprint.

use store::AuditEvent;

use crate::state::Shared;
use crate::target::{parse_login_name, valid_name, LoginName};

/// What the key step concluded.
#[derive(Debug, PartialEq, Eq)]
pub enum KeyOutcome {
    /// Logged in.
    Accepted,
    /// Key is right; a TOTP code must follow.
    NeedTotp,
    /// Refused (reason already audited).
    Rejected,
}

fn throttle_keys(user: &str, ip: &str) -> [String; 2] {
    [format!("user:{user}"), format!("ip:{ip}")]
}

/// True when this user/key pair may even be tried (cheap pre-check before signature work).
pub fn key_is_known(shared: &Shared, login_name: &str, fingerprint: &str) -> bool {
    let Some(name) = parse_login_name(login_name) else {
        return false;
    };
    match shared.store.user_keys(&name.user) {
        Ok(keys) => keys.iter().any(|k| k.fingerprint == fingerprint),
        Err(_) => false,
    }
}

/// Audits a key offered for a login name it does not belong to. Not counted for throttling:
/// clients with an agent offer every key they hold, and guessing keys is hopeless anyway.
pub fn audit_unknown_key(shared: &Shared, login_name: &str, ip: &str, fingerprint: &str) {
    let user = parse_login_name(login_name).map(|l| l.user);
    let reason = match &user {
        None => "malformed login name",
        Some(u) => match shared.store.user(u) {
            Ok(Some(_)) => "key not registered for this user",
            _ => "unknown user",
        },
    };
    shared.audit(
        Some(user.as_deref().unwrap_or(login_name)),
        Some(ip),
        login_failed(reason, fingerprint, login_name),
    );
}

fn login_failed(reason: &str, fingerprint: &str, login_name: &str) -> AuditEvent {
    AuditEvent::LoginFailed {
        reason: reason.to_string(),
        key: fingerprint.to_string(),
        login_name: login_name.to_string(),
    }
}

/// Checks a verified public key for a login name.
pub fn check_key(shared: &Shared, login_name: &str, ip: &str, fingerprint: &str) -> KeyOutcome {
    let fail = |user: &str, reason: &str| {
        shared.audit(
            Some(user),
            Some(ip),
            login_failed(reason, fingerprint, login_name),
        );
        KeyOutcome::Rejected
    };
    let Some(LoginName { user, .. }) = parse_login_name(login_name) else {
        return fail(login_name, "malformed login name");
    };
    let keys = throttle_keys(&user, ip);
    let keys: [&str; 2] = [&keys[0], &keys[1]];
    if shared.limiter.is_locked(&keys) {
        return fail(&user, "too many recent failures (throttled)");
    }
    let record = |reason: &str| {
        note_failure(shared, &user, ip, &keys);
        fail(&user, reason)
    };
    let row = match shared.store.user(&user) {
        Ok(Some(row)) => row,
        Ok(None) => return record("unknown user"),
        Err(e) => return record(&format!("store error: {e}")),
    };
    if row.disabled {
        return record("user disabled");
    }
    if !key_is_known(shared, login_name, fingerprint) {
        return record("key not registered for this user");
    }
    let needs_totp = shared.access().requires_totp(&user);
    if needs_totp {
        if row.totp_secret.is_none() {
            return record("a role requires TOTP but the user has no TOTP secret");
        }
        return KeyOutcome::NeedTotp;
    }
    accepted(shared, &user, ip, fingerprint, "publickey")
}

fn accepted(shared: &Shared, user: &str, ip: &str, fp: &str, method: &str) -> KeyOutcome {
    let ok = shared.audit(
        Some(user),
        Some(ip),
        AuditEvent::LoginOk {
            key: fp.to_string(),
            method: method.to_string(),
        },
    );
    if !ok {
        // Fail closed: a login we cannot audit does not happen.
        return KeyOutcome::Rejected;
    }
    shared.limiter.record_success(&format!("user:{user}"));
    KeyOutcome::Accepted
}

/// Checks the inner login of a ProxyJump (`ssh -J user@bastion login@host`): `key` must be
/// one of `user`'s registered keys, `user` still enabled; the login name is the target login.
/// TOTP was asked on the outer connection, so none is asked here. Audited either way.
pub fn check_jump_key(
    shared: &Shared,
    (user, host, login): (&str, &str, &str),
    ip: &str,
    fingerprint: &str,
) -> bool {
    let shown = format!("{login}@{host} (ProxyJump)");
    let keys = throttle_keys(user, ip);
    let keys: [&str; 2] = [&keys[0], &keys[1]];
    let fail = |reason: &str| {
        note_failure(shared, user, ip, &keys);
        shared.audit(
            Some(user),
            Some(ip),
            login_failed(reason, fingerprint, &shown),
        );
        false
    };
    if shared.limiter.is_locked(&keys) {
        return fail("too many recent failures (throttled)");
    }
    if !valid_name(login) {
        return fail("malformed target login");
    }
    match shared.store.user(user) {
        Ok(Some(row)) if !row.disabled => {}
        Ok(Some(_)) => return fail("user disabled"),
        Ok(None) => return fail("unknown user"),
        Err(e) => return fail(&format!("store error: {e}")),
    }
    if !key_is_known(shared, user, fingerprint) {
        return fail("key not registered for this user");
    }
    // Fail closed: a login we cannot audit does not happen.
    shared.audit(
        Some(user),
        Some(ip),
        AuditEvent::JumpLogin {
            host: host.to_string(),
            login: login.to_string(),
            key: fingerprint.to_string(),
        },
    )
}

/// Counts a failed attempt; when it locks the user or the address, audits `login_lockout`
/// (once, as the lockout begins).
fn note_failure(shared: &Shared, user: &str, ip: &str, keys: &[&str]) {
    let locked = shared.limiter.record_failure(keys);
    if locked.is_empty() {
        return;
    }
    let (failures, window) = shared.limiter.limits();
    shared.audit(
        Some(user),
        Some(ip),
        AuditEvent::LoginLockout {
            locked,
            failures,
            seconds: window.as_secs(),
        },
    );
}

/// Checks the TOTP answer after a successful key step; `true` logs the user in.
pub fn check_totp(shared: &Shared, user: &str, ip: &str, fingerprint: &str, code: &str) -> bool {
    let keys = throttle_keys(user, ip);
    let keys: [&str; 2] = [&keys[0], &keys[1]];
    let fail = |reason: &str| {
        note_failure(shared, user, ip, &keys);
        shared.audit(
            Some(user),
            Some(ip),
            AuditEvent::TotpFailed {
                reason: reason.to_string(),
                key: fingerprint.to_string(),
            },
        );
        false
    };
    if shared.limiter.is_locked(&keys) {
        return fail("too many recent failures (throttled)");
    }
    let secret = match shared.store.user(user) {
        Ok(Some(row)) if !row.disabled => row.totp_secret,
        _ => return fail("user vanished or was disabled"),
    };
    let Some(secret) = secret else {
        return fail("no TOTP secret");
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let Some(step) = super::totp::matching_step(&secret, code, now) else {
        return fail("wrong code");
    };
    match shared.store.consume_totp_step(user, step) {
        Ok(true) => {
            accepted(shared, user, ip, fingerprint, "publickey+totp") == KeyOutcome::Accepted
        }
        Ok(false) => fail("code already used (replay)"),
        Err(e) => fail(&format!("store error: {e}")),
    }
}
