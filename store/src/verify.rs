//! Everything `audit verify` checks, in one call, for the CLI and the web console alike: the
//! hash chain and its signatures against a given key, each command row against the hash its
//! `command_logged` event signed, each checkpoint against the log, and each sealed recording
//! against its file.

use super::{Result, Store};
use crate::checkpoint::CheckpointReport;
use crate::command_audit::CommandAudit;
use crate::seals::RecordingSeal;

/// What one verification found.
#[derive(Debug)]
pub struct Verification {
    /// Audit records checked.
    pub records: usize,
    /// The first record that breaks the chain or its signature, with why.
    pub chain: Option<(i64, String)>,
    pub commands: CommandAudit,
    pub checkpoints: CheckpointReport,
    pub seals: Vec<RecordingSeal>,
    /// Sealed recordings that no longer match: (session, path, why).
    pub bad_seals: Vec<(i64, String, String)>,
}

impl Verification {
    /// One line per problem found, in the words `audit verify` prints; empty when all is well.
    /// `chain_reason` words a broken chain (tampering, or a key that does not match).
    pub fn problems(&self, chain_reason: &str) -> Vec<String> {
        let mut out = Vec::new();
        if let Some((id, why)) = &self.chain {
            out.push(format!("{chain_reason}: record {id}: {why}"));
        }
        for (id, why) in &self.commands.problems {
            out.push(format!("command log TAMPERED: command row {id}: {why}"));
        }
        for (id, why) in &self.checkpoints.problems {
            out.push(format!("checkpoint TAMPERED: record {id}: {why}"));
        }
        for (session, path, why) in &self.bad_seals {
            out.push(format!(
                "recording TAMPERED: session {session}: {path}: {why}"
            ));
        }
        out
    }

    pub fn is_ok(&self) -> bool {
        self.problems("").is_empty()
    }
}

impl Store {
    /// Runs every check against `key`.
    pub fn verify_all(&self, key: &ed25519_dalek::VerifyingKey) -> Result<Verification> {
        self.verify_all_with(key, &|_| None)
    }

    /// [`verify_all`](Self::verify_all), reading recordings where `locate` finds them.
    pub fn verify_all_with(
        &self,
        key: &ed25519_dalek::VerifyingKey,
        locate: crate::seals::Locate<'_>,
    ) -> Result<Verification> {
        let records = self.audit_records(None)?.len();
        let chain = self.verify_audit(key)?;
        let commands = self.verify_commands()?;
        let checkpoints = self.verify_checkpoints()?;
        let seals = self.recording_seals()?;
        let bad_seals = seals
            .iter()
            .filter_map(|s| {
                s.check_with(locate)
                    .map(|(path, why)| (s.session, path, why))
            })
            .collect();
        Ok(Verification {
            records,
            chain,
            commands,
            checkpoints,
            seals,
            bad_seals,
        })
    }
}
