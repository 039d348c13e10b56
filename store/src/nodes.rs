//! Several bastion nodes on one database: which node serves a session, each node's heartbeat,
//! and sealing a session exactly once when its node is gone.
//!
//! A node names itself ([`Store::set_node`]); every session it starts carries that name. It
//! beats every second ([`Store::heartbeat`]). A node that has not beaten for the configured
//! time is taken for dead by the others ([`Store::silent_nodes`]): a survivor first claims it
//! ([`Store::claim_silent_node`], which negates its `last_seen` only if it is still silent:
//! one row update, so either the node's heartbeat or the claim comes first, never both; a node
//! whose next beat finds itself claimed or forgotten knows it was taken for dead and fences
//! itself). Then its still-active sessions are sealed as interrupted by whichever survivor
//! gets there first:
//! [`Store::interrupt_session`] changes only a row that is still `active` and writes the
//! `session_interrupted` record in the same transaction, so two survivors sealing at once (or a
//! node restarting while another seals its sessions) produce one record, never two.

use super::{now_ts, Result, Store};
use crate::db::params;
use crate::events::{AuditEvent, Seal};
use crate::SessionRow;

/// What [`Store::heartbeat`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Beat {
    /// This node's row was there: nobody took it for dead.
    Renewed,
    /// This node had no row, or a claimed one, and now has its own: it is new (or restarted
    /// after its row was forgotten), or, if it had beaten before, the others took it for dead
    /// and seal (or sealed) its sessions.
    Registered,
}

impl Store {
    /// Names this node; the sessions it starts from now on carry the name. Set once.
    pub fn set_node(&self, name: &str) {
        let _ = self.node.set(name.to_string());
    }

    /// This node's name, if set.
    pub fn node(&self) -> Option<&str> {
        self.node.get().map(String::as_str)
    }

    /// The time heartbeats are written and judged by: on PostgreSQL the database server's
    /// clock, so nodes on machines whose clocks disagree still agree on who is silent; on
    /// SQLite (one machine) this process's.
    fn clock(&self) -> Result<f64> {
        if !self.pg {
            return Ok(now_ts());
        }
        let row = self
            .conn()
            .query_opt("SELECT EXTRACT(EPOCH FROM clock_timestamp())::float8", &[])?;
        row.expect("SELECT gives a row").get(0)
    }

    /// Records that this node is alive now, and says whether its row was still its own.
    ///
    /// A survivor claims a silent node before sealing its sessions and forgets it after
    /// ([`Store::claim_silent_node`], [`Store::forget_node`]), so a node that finds its row
    /// claimed or gone after it had beaten before was taken for dead while it was out of
    /// contact (stopped, partitioned, its connection stalled): it must fence itself
    /// (`bastion/src/state/fence.rs`) before it writes anything more for its sessions.
    pub fn heartbeat(&self) -> Result<Beat> {
        let Some(node) = self.node() else {
            return Ok(Beat::Renewed);
        };
        let now = self.clock()?;
        let mut conn = self.conn();
        // A claimed row (last_seen negated) is not renewed: the node was taken for dead.
        let renewed = conn.execute(
            "UPDATE nodes SET last_seen = ?2 WHERE name = ?1 AND last_seen > 0",
            params![node, now],
        )?;
        if renewed == 1 {
            return Ok(Beat::Renewed);
        }
        conn.execute(
            "INSERT INTO nodes(name, last_seen) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET last_seen = excluded.last_seen",
            params![node, now],
        )?;
        Ok(Beat::Registered)
    }

    /// Other nodes whose last heartbeat is older than `silent_for` seconds, with that age
    /// (claimed ones too, until the survivor that claimed them forgets them).
    pub fn silent_nodes(&self, silent_for: f64) -> Result<Vec<(String, f64)>> {
        let now = self.clock()?;
        let rows = self.conn().query(
            "SELECT name, ABS(last_seen) FROM nodes WHERE ABS(last_seen) < ?1 AND name <> ?2
             ORDER BY name",
            params![now - silent_for, self.node().unwrap_or("")],
        )?;
        rows.iter()
            .map(|r| Ok((r.get::<String>(0)?, now - r.get::<f64>(1)?)))
            .collect()
    }

    /// Claims a node silent for longer than `silent_for` seconds, before sealing its sessions
    /// (its `last_seen` negated, so its age stays known): true if it was still silent (or
    /// already claimed by a survivor that may have died while sealing). From then on the
    /// node's own heartbeat finds itself claimed ([`Beat::Registered`]).
    pub fn claim_silent_node(&self, name: &str, silent_for: f64) -> Result<bool> {
        let now = self.clock()?;
        let claimed = self.conn().execute(
            "UPDATE nodes SET last_seen = -ABS(last_seen) WHERE name = ?1 AND ABS(last_seen) < ?2",
            params![name, now - silent_for],
        )?;
        Ok(claimed == 1)
    }

    /// Forgets a claimed node once its sessions are all sealed, so it is not reported silent
    /// again; a node that beat again since (it registered anew) stays.
    pub fn forget_node(&self, name: &str) -> Result<()> {
        self.conn().execute(
            "DELETE FROM nodes WHERE name = ?1 AND last_seen < 0",
            params![name],
        )?;
        Ok(())
    }

    /// Asks `node` to end `session`, telling its user `message` (audited by that node as
    /// `session_killed` by `by`); a second order for the same session is ignored.
    pub fn order_kill(&self, session: i64, node: &str, by: &str, message: &str) -> Result<()> {
        self.conn().execute(
            "INSERT INTO kill_orders(session, node, by_user, message, at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(session) DO NOTHING",
            params![session, node, by, message, now_ts()],
        )?;
        Ok(())
    }

    /// Takes (and deletes) the kill orders for this node: (session, by, message).
    pub fn take_kill_orders(&self) -> Result<Vec<(i64, String, String)>> {
        let Some(node) = self.node() else {
            return Ok(Vec::new());
        };
        let rows = self.conn().query(
            "DELETE FROM kill_orders WHERE node = ?1 RETURNING session, by_user, message",
            params![node],
        )?;
        rows.iter()
            .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .collect()
    }

    /// Marks `s` interrupted with its recording's `seal` and audits `session_interrupted`, in
    /// one transaction, if it is still active; false when another node (or an earlier call)
    /// sealed it first.
    pub fn interrupt_session(
        &self,
        s: &SessionRow,
        seal: &Seal,
        reason: &str,
        bytes_dropped: u64,
    ) -> Result<bool> {
        self.audited_change(Some(&s.user), Some(&s.source), |tx| {
            let changed = tx.execute(
                "UPDATE sessions SET status = 'interrupted', ended_at = ?2, rec_sha256 = ?3,
                 rec_size = ?4, end_reason = ?5 WHERE id = ?1 AND status = 'active'",
                params![
                    s.id,
                    now_ts(),
                    &seal.recording_sha256,
                    seal.recording_size.map(|v| v as i64),
                    reason
                ],
            )?;
            if changed == 0 {
                return Ok((false, Vec::new()));
            }
            let event = AuditEvent::SessionInterrupted {
                session: s.id,
                host: s.host.clone(),
                login: s.login.clone(),
                reason: reason.to_string(),
                seal: seal.clone(),
                bytes_dropped,
            };
            Ok((true, vec![event]))
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::{both_backends, session, store_on, Backend};
    use crate::{Beat, EventKind, Seal, SessionEnd};

    fn a_session_is_sealed_once_and_names_its_node(b: Backend) {
        let (_dir, s, _vk) = store_on(b);
        s.set_node("node-a");
        let id = session(&s, Some("/data/1-alice-web1.cast"));
        let row = s.session(id).unwrap().unwrap();
        assert_eq!(row.node.as_deref(), Some("node-a"));
        let seal = Seal {
            recording: row.recording.clone(),
            recording_sha256: Some("ab".repeat(32)),
            recording_size: Some(10),
        };
        assert!(s
            .interrupt_session(&row, &seal, "node-a stopped", 0)
            .unwrap());
        assert!(!s
            .interrupt_session(&row, &seal, "node-a stopped", 0)
            .unwrap());
        let sealed = s.session(id).unwrap().unwrap();
        assert_eq!(sealed.status, "interrupted");
        let records = s.audit_records(None).unwrap();
        let interrupted = records
            .iter()
            .filter(|r| r.parsed().unwrap().kind() == EventKind::SessionInterrupted)
            .count();
        assert_eq!(interrupted, 1);
    }

    fn silent_nodes_are_the_others_that_stopped_beating(b: Backend) {
        let (_dir, s, _vk) = store_on(b);
        s.set_node("me");
        s.heartbeat().unwrap();
        s.conn()
            .execute(
                "INSERT INTO nodes(name, last_seen) VALUES ('gone', ?1), ('alive', ?2)",
                crate::db::params![crate::now_ts() - 60.0, crate::now_ts()],
            )
            .unwrap();
        let silent = s.silent_nodes(30.0).unwrap();
        assert_eq!(silent.len(), 1, "{silent:?}");
        assert_eq!(silent[0].0, "gone");
        assert!(silent[0].1 >= 60.0);
        // Still beating: not claimed. Silent: claimed, then forgotten.
        assert!(!s.claim_silent_node("alive", 30.0).unwrap());
        assert!(s.claim_silent_node("gone", 30.0).unwrap());
        // Claimed, it is still silent, as long as before, until forgotten.
        let silent = s.silent_nodes(30.0).unwrap();
        assert_eq!(silent.len(), 1, "{silent:?}");
        assert!(silent[0].1 >= 60.0 && silent[0].1 < 120.0, "{silent:?}");
        s.forget_node("gone").unwrap();
        assert!(s.silent_nodes(30.0).unwrap().is_empty());
        // Beating again moves a node's time forward.
        s.heartbeat().unwrap();
        assert!(s.silent_nodes(0.0).unwrap().iter().all(|(n, _)| n != "me"));
    }

    fn kill_orders_go_to_their_node_once(b: Backend) {
        let (_dir, s, _vk) = store_on(b);
        s.set_node("node-b");
        s.order_kill(7, "node-b", "root (uid 0)", "terminated")
            .unwrap();
        s.order_kill(7, "node-b", "someone else", "again").unwrap();
        s.order_kill(8, "node-c", "root (uid 0)", "not mine")
            .unwrap();
        assert_eq!(
            s.take_kill_orders().unwrap(),
            vec![(7, "root (uid 0)".to_string(), "terminated".to_string())]
        );
        assert!(s.take_kill_orders().unwrap().is_empty());
    }

    /// The compare-and-set both ways: whichever of the node's own end and a survivor's
    /// interrupt comes first seals the session; the other writes nothing.
    fn a_session_is_sealed_by_its_end_or_its_interrupt_never_both(b: Backend) {
        let (_dir, s, _vk) = store_on(b);
        s.set_node("node-a");
        let survivor_seal = Seal {
            recording: Some("/data/1-alice-web1.cast".into()),
            recording_sha256: Some("ab".repeat(32)),
            recording_size: Some(10),
        };
        let own_end = SessionEnd {
            exit_status: Some(0),
            reason: "the node's own end".into(),
            seal: Seal {
                recording_sha256: Some("cd".repeat(32)),
                recording_size: Some(20),
                ..survivor_seal.clone()
            },
            ..SessionEnd::default()
        };
        // Sealed by a survivor first: the node's own end finds it sealed and changes nothing.
        let first = session(&s, Some("/data/1-alice-web1.cast"));
        let row = s.session(first).unwrap().unwrap();
        assert!(s
            .interrupt_session(&row, &survivor_seal, "node-a stopped", 0)
            .unwrap());
        assert!(!s.end_session(first, &own_end).unwrap());
        let sealed = s.session(first).unwrap().unwrap();
        assert_eq!(sealed.status, "interrupted");
        assert_eq!(sealed.end_reason.as_deref(), Some("node-a stopped"));
        assert_eq!(sealed.rec_sha256, survivor_seal.recording_sha256);
        // Ended by its node first: a survivor's late interrupt (and a second end) do nothing.
        let second = session(&s, Some("/data/2-alice-web1.cast"));
        let row = s.session(second).unwrap().unwrap();
        assert!(s.end_session(second, &own_end).unwrap());
        assert!(!s
            .interrupt_session(&row, &survivor_seal, "node-a stopped", 0)
            .unwrap());
        assert!(!s.end_session(second, &own_end).unwrap());
        let closed = s.session(second).unwrap().unwrap();
        assert_eq!(closed.status, "closed");
        assert_eq!(closed.rec_sha256, own_end.seal.recording_sha256);
        let interrupted = s
            .audit_records(None)
            .unwrap()
            .iter()
            .filter(|r| r.parsed().unwrap().kind() == EventKind::SessionInterrupted)
            .count();
        assert_eq!(interrupted, 1);
    }

    /// A node finds out from its own heartbeat that the others took it for dead, whether a
    /// survivor only claimed it (sealing its sessions) or already forgot it; a node that beat
    /// first is not claimed, and one that registered anew is not forgotten.
    fn a_node_claimed_while_silent_learns_it_from_its_next_beat(b: Backend) {
        let (_dir, s, _vk) = store_on(b);
        s.set_node("node-a");
        assert_eq!(s.heartbeat().unwrap(), Beat::Registered);
        assert_eq!(s.heartbeat().unwrap(), Beat::Renewed);
        // It beat just now: a survivor cannot claim it.
        assert!(!s.claim_silent_node("node-a", 5.0).unwrap());
        // Silent (as a survivor's clock sees it): claimed; its next beat says so.
        assert!(s.claim_silent_node("node-a", -60.0).unwrap());
        assert_eq!(s.heartbeat().unwrap(), Beat::Registered);
        // The survivor that sealed its sessions forgets it: the node, beating again, stays.
        s.forget_node("node-a").unwrap();
        assert_eq!(s.heartbeat().unwrap(), Beat::Renewed);
        // Claimed and forgotten before its next beat: the same.
        assert!(s.claim_silent_node("node-a", -60.0).unwrap());
        s.forget_node("node-a").unwrap();
        assert_eq!(s.heartbeat().unwrap(), Beat::Registered);
        assert_eq!(s.heartbeat().unwrap(), Beat::Renewed);
        let rows = s.conn().query("SELECT name FROM nodes", &[]).unwrap().len();
        assert_eq!(rows, 1);
    }

    both_backends!(
        a_session_is_sealed_by_its_end_or_its_interrupt_never_both,
        a_node_claimed_while_silent_learns_it_from_its_next_beat,
        kill_orders_go_to_their_node_once,
        a_session_is_sealed_once_and_names_its_node,
        silent_nodes_are_the_others_that_stopped_beating
    );
}
