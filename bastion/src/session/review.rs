//! Command review (`deny_commands: [{pattern: '^DROP ', action: review}]`): a matching line is
//! held, as a blocked line is, while an approver decides. The user is told it waits for
//! review; approved, the line runs as typed; denied, or undecided when the rule's timeout
//! passes, it is refused like a blocked line. The same holding works for exec requests,
//! shells without a terminal (line by line) and terminal shells (the Enter key held).

use std::time::{Duration, Instant};

use policies::{approvers_text, ReviewRule, SessionLimits};
use store::RequestRow;

use crate::requests::ask::{self, HeldLine};
use crate::requests::wait;
use crate::state::{ConnInfo, Shared};

/// Everything a session needs to hold a line for review.
pub struct Reviewer<'a> {
    pub shared: &'a Shared,
    pub conn: &'a ConnInfo,
    pub session: i64,
    pub host: &'a str,
    pub login: &'a str,
    pub limits: &'a SessionLimits,
}

/// A held line, once stored.
pub struct Held {
    pub row: RequestRow,
    timeout: Duration,
}

impl Held {
    /// What the user is told while the line waits.
    pub fn waiting_text(&self) -> String {
        format!(
            "waiting for review (request {}) by {}: {} (at most {})",
            self.row.id,
            approvers_text(&self.row.approvers),
            self.row.text,
            policies::format_duration(self.timeout)
        )
    }
}

impl Reviewer<'_> {
    /// The review rule holding `line`, if any (a blocking rule matching it wins).
    pub fn rule_for(&self, line: &str) -> Option<&ReviewRule> {
        self.limits.review_for(line.trim())
    }

    /// Stores the held line as a request. `Err`: the message to refuse the line with.
    pub fn hold(&self, line: &str, rule: &ReviewRule) -> Result<Held, String> {
        let row = ask::command(
            self.shared,
            self.conn,
            &HeldLine {
                session: self.session,
                host: self.host,
                login: self.login,
                line: line.trim(),
                rule,
            },
        )?;
        Ok(Held {
            row,
            timeout: rule.timeout,
        })
    }

    /// Waits for the decision: `Ok` to run the line (the approval, for the user), `Err` with
    /// why it is refused (denied, or no decision in time: then the request is closed as
    /// expired, so a late approval cannot release it).
    pub async fn decision(&self, held: &Held) -> Result<String, String> {
        let deadline = Instant::now() + held.timeout;
        let id = held.row.id;
        match wait::decided(self.shared, id, Some(deadline)).await {
            Some(r) if r.status == "approved" => Ok(format!(
                "request {id} approved by {}",
                r.decided_by.unwrap_or_default()
            )),
            Some(r) if r.status == "denied" => Err(format!(
                "request {id} denied by {}: {}",
                r.decided_by.unwrap_or_default(),
                r.note.unwrap_or_default()
            )),
            _ => {
                let why = format!(
                    "no decision within {}",
                    policies::format_duration(held.timeout)
                );
                match self.shared.store.expire_request(id, &why) {
                    // An approval that won the race still counts.
                    Ok(None) => match self.shared.store.request(id) {
                        Ok(Some(r)) if r.status == "approved" => {
                            return Ok(format!("request {id} approved"))
                        }
                        _ => {}
                    },
                    Ok(Some(_)) => self.shared.requests_changed(),
                    Err(e) => tracing::error!("cannot expire request {id}: {e}"),
                }
                Err(format!("request {id}: {why}"))
            }
        }
    }
}

impl Reviewer<'_> {
    /// An exec request's command: `Ok` when no review rule holds it or an approver let it
    /// run; `Err((rule, why))` when it is refused (the caller logs and audits it as blocked).
    pub async fn exec(
        &self,
        command: &str,
        user: &mut super::UserChannel,
    ) -> Result<(), (String, String)> {
        let Some(rule) = self.rule_for(command) else {
            return Ok(());
        };
        let pattern = rule.pattern.as_str().to_string();
        let held = self.hold(command, rule).map_err(|e| (pattern.clone(), e))?;
        user.say(&held.waiting_text()).await;
        match self.decision(&held).await {
            Ok(approved) => {
                user.say(&approved).await;
                Ok(())
            }
            Err(why) => Err((pattern, why)),
        }
    }
}
