//! The run's vault secrets: where passwords come from (a password file, or a script whose
//! output is the password, as `--vault-password-file` and `--vault-id label@source` name them)
//! and the one process-wide set every data loader decrypts with.
//!
//! Why process-wide: vaulted values sit in inventories, group_vars, vars files, playbooks and
//! `-e @file`, read by three crates at different times; the secrets are known once, before any
//! of them is read, and never change during a run. Passwords never appear in `Debug` output.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

/// One vault password, with the vault id it is meant for (`--vault-id prod@file`), if any.
#[derive(Clone)]
pub struct Secret {
    /// The vault id label; `None` for a password that is tried on every vault.
    pub id: Option<String>,
    password: Vec<u8>,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secret")
            .field("id", &self.id)
            .field("password", &"<hidden>")
            .finish()
    }
}

impl Secret {
    pub fn new(id: Option<String>, password: Vec<u8>) -> Secret {
        Secret { id, password }
    }

    pub(crate) fn password(&self) -> &[u8] {
        &self.password
    }

    /// The password itself, for handing it to Ansible's own code on the controller (fleet's
    /// plugin helper, over a pipe): never to be printed or logged.
    pub fn expose_password(&self) -> &[u8] {
        &self.password
    }
}

/// The secrets of a run, in the order they were given.
#[derive(Debug, Clone, Default)]
pub struct Secrets(Vec<Secret>);

impl Secrets {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Secret> {
        self.0.iter()
    }

    pub fn push(&mut self, secret: Secret) {
        self.0.push(secret);
    }
}

impl FromIterator<Secret> for Secrets {
    fn from_iter<I: IntoIterator<Item = Secret>>(iter: I) -> Self {
        Secrets(iter.into_iter().collect())
    }
}

/// Why a password source gave no password.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("The vault password file {0} was not found")]
    Missing(String),
    #[error("Could not read vault password file {path}: {why}")]
    Unreadable { path: String, why: String },
    #[error("Vault password script {path} returned non-zero ({code}): {stderr}")]
    ScriptFailed {
        path: String,
        code: i32,
        stderr: String,
    },
    #[error("Invalid vault password was provided from file ({0})")]
    Empty(String),
}

static RUN_SECRETS: OnceLock<Secrets> = OnceLock::new();

/// Sets the run's secrets; the first call wins (a run sets them once, before loading data).
pub fn set_run_secrets(secrets: Secrets) {
    let _ = RUN_SECRETS.set(secrets);
}

/// The run's secrets (none when the run was given none).
pub fn run_secrets() -> Secrets {
    RUN_SECRETS.get().cloned().unwrap_or_default()
}

/// `label@source` or `source`, as `--vault-id` takes it.
pub fn split_vault_id(spec: &str) -> (Option<String>, &str) {
    match spec.split_once('@') {
        Some((label, source)) if !label.is_empty() => (Some(label.to_string()), source),
        _ => (None, spec),
    }
}

/// The password in file `path`, or printed by it when it is executable (Ansible runs such a
/// file as a script), without the trailing newline and spaces.
pub fn from_file(path: &Path, id: Option<String>) -> Result<Secret, SecretError> {
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|_| SecretError::Missing(shown.clone()))?;
    let executable = std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o111 != 0;
    let bytes = if executable {
        let out = Command::new(path)
            .output()
            .map_err(|e| SecretError::Unreadable {
                path: shown.clone(),
                why: e.to_string(),
            })?;
        if !out.status.success() {
            return Err(SecretError::ScriptFailed {
                path: shown,
                code: out.status.code().unwrap_or(-1),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        out.stdout
    } else {
        std::fs::read(path).map_err(|e| SecretError::Unreadable {
            path: shown.clone(),
            why: e.to_string(),
        })?
    };
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    if end == 0 {
        return Err(SecretError::Empty(shown));
    }
    Ok(Secret::new(id, bytes[..end].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_scripts_give_their_password_without_the_newline() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "test\n").unwrap();
        let s = from_file(&file, None).unwrap();
        assert_eq!(s.password(), b"test");
        let script = dir.path().join("pw.sh");
        std::fs::write(&script, "#!/bin/sh\necho 'from script  '\n").unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let s = from_file(&script, Some("prod".into())).unwrap();
        assert_eq!(
            (s.password(), s.id.as_deref()),
            (&b"from script"[..], Some("prod"))
        );
        assert!(!format!("{s:?}").contains("from script"));
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n").unwrap();
        assert!(matches!(
            from_file(&empty, None),
            Err(SecretError::Empty(_))
        ));
        assert!(matches!(
            from_file(&dir.path().join("nope"), None),
            Err(SecretError::Missing(_))
        ));
    }

    #[test]
    fn vault_ids_split_at_the_label() {
        assert_eq!(split_vault_id("prod@/x/pw"), (Some("prod".into()), "/x/pw"));
        assert_eq!(split_vault_id("/x/pw"), (None, "/x/pw"));
        assert_eq!(split_vault_id("@prompt"), (None, "@prompt"));
    }
}
