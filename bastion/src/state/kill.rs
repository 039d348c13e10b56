//! Ending a session wherever it runs. A session served by this node is ended here; one that
//! another node serves (several nodes on one database) gets a kill order in the database, which
//! that node carries out within a second (`server/nodes.rs` calls [`carry_out_orders`]) and
//! audits as usual, so `bastion kill` and the console's kill work from any node.

use anyhow::Result;
use store::AuditEvent;

use super::Shared;

/// What [`end_session`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// Ended on this node.
    Here,
    /// Ordered ended by the node that serves it.
    Ordered { node: String },
    /// No such live session.
    NotLive,
}

/// Ends session `id`, telling its user `message`; `by` names who ended it in the audit log.
pub fn end_session(shared: &Shared, id: i64, by: &str, message: &str) -> Result<Ended> {
    if end_here(shared, id, by, message) {
        return Ok(Ended::Here);
    }
    let me = shared.dir.settings.node.as_str();
    match shared.store.session(id)? {
        Some(s) if s.status == "active" => match s.node {
            Some(node) if node != me => {
                shared.store.order_kill(id, &node, by, message)?;
                Ok(Ended::Ordered { node })
            }
            _ => Ok(Ended::NotLive),
        },
        _ => Ok(Ended::NotLive),
    }
}

/// Carries out the kill orders other nodes left for this one.
pub fn carry_out_orders(shared: &Shared) -> Result<()> {
    for (id, by, message) in shared.store.take_kill_orders()? {
        if !end_here(shared, id, &by, &message) {
            tracing::info!("kill order for session {id}: it already ended");
        }
    }
    Ok(())
}

fn end_here(shared: &Shared, id: i64, by: &str, message: &str) -> bool {
    let Some(live) = shared.live.get(id) else {
        return false;
    };
    shared.audit(
        Some(&live.user),
        None,
        AuditEvent::SessionKilled {
            session: id,
            target: live.target.clone(),
            by: by.to_string(),
        },
    );
    live.kill(message.to_string());
    true
}
