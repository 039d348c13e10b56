//! `ssh -p 2222 carol@bastion console`: prints a one-time login link for the web console.
//!
//! The SSH login already proved who this is (key, and TOTP where a role requires it), so the
//! console needs no password of its own: the link is valid two minutes, works once, and only
//! for a user whose roles list a console right (checked again when it is opened). `console`
//! is a reserved word in the exec grammar: an inventory host named `console` is reached as
//! `LOGIN@console` or through the menu.

use store::AuditEvent;

use super::UserChannel;
use crate::state::{ConnInfo, Shared};

/// True when an exec request (without a target in the login name) asks for a console link.
pub fn is_console_request(command: &str) -> bool {
    command.trim() == "console"
}

/// Issues and prints the link; returns the exit status.
pub async fn issue(shared: &Shared, conn: &ConnInfo, user: &mut UserChannel) -> u32 {
    let Some(url) = &shared.console_url else {
        user.say("the web console is disabled on this bastion ([web] enabled = false)")
            .await;
        return 1;
    };
    let grant = shared.access().console(&conn.user);
    if grant.rights.is_empty() {
        shared.audit(
            Some(&conn.user),
            Some(&conn.source),
            AuditEvent::ConsoleLoginFailed {
                reason: "no role gives a console right (link refused over SSH)".into(),
            },
        );
        user.say("no role of yours lists a console right (`console:` in policies.yaml)")
            .await;
        return 1;
    }
    let link = match console::new_login_link(&shared.store, &conn.user, url) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("cannot store a console link: {e}");
            user.say("the console link cannot be stored").await;
            return 1;
        }
    };
    let valid = console::LINK_VALIDITY.as_secs();
    if !shared.audit(
        Some(&conn.user),
        Some(&conn.source),
        AuditEvent::ConsoleLinkIssued {
            valid_seconds: valid,
        },
    ) {
        user.say("the audit log cannot be written").await;
        return 1;
    }
    let text = format!(
        "Web console login for {} ({}), single use, valid {} minutes:\r\n{link}\r\n",
        conn.user,
        grant
            .rights
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        valid / 60
    );
    let text = if user.pty.is_some() {
        text
    } else {
        text.replace("\r\n", "\n")
    };
    let _ = user.tx.data_bytes(text.into_bytes()).await;
    0
}
