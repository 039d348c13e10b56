//! The run's options completed from Ansible's configuration (`ansible_cfg`): what the command
//! line leaves unset comes from `ANSIBLE_*` variables or `ansible.cfg`, then fleet's defaults.
//! Done once, before anything runs, so the rest of the program reads one set of options.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use super::ansible_cfg::AnsibleConfig;
use super::vault_args::VaultArgs;
use super::Common;

/// Ansible's inventory when nothing names one.
const DEFAULT_INVENTORY: &str = "/etc/ansible/hosts";
const DEFAULT_FORKS: usize = 50;
const DEFAULT_TIMEOUT: u64 = 10;

/// Whether `path` is Ansible's default inventory, which nothing named.
pub fn is_default_inventory(path: &Path) -> bool {
    path == Path::new(DEFAULT_INVENTORY)
}

/// `-i`, else the configuration's one inventory, else Ansible's default.
pub fn inventory(given: Option<PathBuf>, config: &AnsibleConfig) -> Result<PathBuf> {
    if let Some(path) = given {
        return Ok(path);
    }
    let mut listed = config.path_list("ANSIBLE_INVENTORY", "inventory");
    match listed.len() {
        0 => Ok(PathBuf::from(DEFAULT_INVENTORY)),
        1 => Ok(listed.remove(0)),
        n => bail!(
            "{n} inventories are configured (ANSIBLE_INVENTORY or `inventory` in ansible.cfg); \
             fleet reads one: give it with -i (a directory may hold several files)"
        ),
    }
}

impl Common {
    /// These options with what the command line left unset taken from the configuration.
    pub fn with_config(mut self, config: &AnsibleConfig) -> Result<Common> {
        self.inventory = Some(inventory(self.inventory.take(), config)?);
        self.roles_path = config.roles_path();
        if self.forks.is_none() {
            self.forks = config
                .number("ANSIBLE_FORKS", "forks")?
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX));
        }
        if self.timeout.is_none() {
            self.timeout = config.number("ANSIBLE_TIMEOUT", "timeout")?;
        }
        if self.user.is_none() {
            self.user = config.text("ANSIBLE_REMOTE_USER", "remote_user");
        }
        if self.private_key.is_none() {
            self.private_key = config.path("ANSIBLE_PRIVATE_KEY_FILE", "private_key_file");
        }
        if self.host_key_checking.is_none() {
            if let Some((source, value)) =
                config.raw("ANSIBLE_HOST_KEY_CHECKING", "host_key_checking")
            {
                if fleet_templates::boolean::parse_str(&value).is_none() {
                    bail!("{source}: expected true or false, got {value:?}");
                }
                self.host_key_checking = Some(value);
            }
        }
        Ok(self)
    }

    /// The inventory to read.
    pub fn inventory_path(&self) -> &Path {
        self.inventory
            .as_deref()
            .unwrap_or(Path::new(DEFAULT_INVENTORY))
    }

    /// Hosts in flight at once.
    pub fn forks(&self) -> usize {
        self.forks.unwrap_or(DEFAULT_FORKS).max(1)
    }

    /// Seconds allowed to connect to a host.
    pub fn timeout(&self) -> u64 {
        self.timeout.unwrap_or(DEFAULT_TIMEOUT)
    }
}

impl VaultArgs {
    /// These options, with the configuration's `vault_password_file` when none names a
    /// password (`ANSIBLE_VAULT_PASSWORD_FILE` is already read as the option's variable).
    pub fn with_config(mut self, config: &AnsibleConfig) -> VaultArgs {
        let none_given =
            self.password_files.is_empty() && self.vault_ids.is_empty() && !self.ask_vault_pass;
        if none_given {
            if let Some(file) = config.path("ANSIBLE_VAULT_PASSWORD_FILE", "vault_password_file") {
                self.password_files.push(file);
            }
        }
        self
    }
}
