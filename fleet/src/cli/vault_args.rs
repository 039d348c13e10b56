//! Vault options, as ansible-playbook takes them: `--vault-password-file FILE` (a file, or a
//! script whose output is the password; also `ANSIBLE_VAULT_PASSWORD_FILE`), `--vault-id
//! [LABEL@]SOURCE` (SOURCE a file or `prompt`) and `--ask-vault-pass`. The passwords become the
//! run's vault secrets before any inventory or playbook file is read.

use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;

use vault::secrets::{self, Secret, Secrets};

/// Options of every command that reads playbooks or inventories.
#[derive(Args, Clone, Default)]
pub struct VaultArgs {
    /// A vault password file (or an executable printing the password); may be repeated.
    #[arg(
        long = "vault-password-file",
        visible_alias = "vault-pass-file",
        env = "ANSIBLE_VAULT_PASSWORD_FILE",
        value_name = "FILE"
    )]
    pub password_files: Vec<PathBuf>,
    /// A vault identity, `[LABEL@]SOURCE`: SOURCE is a password file or `prompt`.
    #[arg(long = "vault-id", value_name = "ID")]
    pub vault_ids: Vec<String>,
    /// Ask for the vault password on the terminal.
    #[arg(long = "ask-vault-pass", visible_alias = "ask-vault-password")]
    pub ask_vault_pass: bool,
}

impl VaultArgs {
    /// Reads every password the options name and makes them the run's vault secrets.
    pub fn install(&self) -> Result<()> {
        let mut all = Secrets::default();
        for (id, source) in self.sources() {
            all.push(read(id, &source)?);
        }
        secrets::set_run_secrets(all);
        Ok(())
    }

    /// `(label, source)` for each password, in the order Ansible tries them.
    fn sources(&self) -> Vec<(Option<String>, String)> {
        let mut out: Vec<(Option<String>, String)> = self
            .vault_ids
            .iter()
            .map(|spec| {
                let (id, source) = secrets::split_vault_id(spec);
                (id, source.to_string())
            })
            .collect();
        out.extend(
            self.password_files
                .iter()
                .map(|p| (None, p.to_string_lossy().into_owned())),
        );
        if self.ask_vault_pass {
            out.push((None, "prompt".into()));
        }
        out
    }
}

fn read(id: Option<String>, source: &str) -> Result<Secret> {
    if source == "prompt" {
        let question = match &id {
            Some(label) => format!("Vault password ({label}): "),
            None => "Vault password: ".to_string(),
        };
        let password = super::prompt::ask(&question, false)
            .context("--ask-vault-pass needs a terminal to ask on")?;
        return Ok(Secret::new(id, password.into_bytes()));
    }
    secrets::from_file(std::path::Path::new(source), id).map_err(anyhow::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_come_first_then_files_then_the_prompt() {
        let args = VaultArgs {
            password_files: vec![PathBuf::from("/f")],
            vault_ids: vec!["prod@/p".into(), "/q".into()],
            ask_vault_pass: true,
        };
        assert_eq!(
            args.sources(),
            vec![
                (Some("prod".into()), "/p".into()),
                (None, "/q".into()),
                (None, "/f".into()),
                (None, "prompt".into()),
            ]
        );
    }
}
