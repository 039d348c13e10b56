//! Ansible's configuration file, as far as fleet honours it.
//!
//! Projects keep their settings in `ansible.cfg` and operators in `ANSIBLE_*` variables; a
//! playbook whose roles come from `roles_path` (`ansible-galaxy install` puts them in
//! `~/.ansible/roles`) does not run without them. Which file applies is Ansible's own choice,
//! the first of: `$ANSIBLE_CONFIG` (a file, or a directory holding `ansible.cfg`),
//! `./ansible.cfg` (skipped when the working directory is world-writable, as Ansible does),
//! `~/.ansible.cfg`, `/etc/ansible/ansible.cfg`. Python's configparser format is read with the
//! `configparser` crate, set up as Ansible sets Python's (`;` starts an inline comment).
//!
//! Honoured, each from `[defaults]` or its environment variable (which wins), a command-line
//! flag winning over both, as in Ansible; relative paths in the file are relative to the file,
//! in a variable to the working directory:
//!
//! | setting | variable | fleet |
//! |---|---|---|
//! | `inventory` | `ANSIBLE_INVENTORY` | `-i` (one inventory; default `/etc/ansible/hosts`) |
//! | `remote_user` | `ANSIBLE_REMOTE_USER` | `-u` |
//! | `private_key_file` | `ANSIBLE_PRIVATE_KEY_FILE` | `--private-key` |
//! | `forks` | `ANSIBLE_FORKS` | `-f` (fleet's default stays 50) |
//! | `timeout` | `ANSIBLE_TIMEOUT` | `--timeout` |
//! | `host_key_checking` | `ANSIBLE_HOST_KEY_CHECKING` | `--host-key-checking` |
//! | `vault_password_file` | `ANSIBLE_VAULT_PASSWORD_FILE` | `--vault-password-file` |
//! | `roles_path` | `ANSIBLE_ROLES_PATH` | default `ANSIBLE_HOME/roles:/usr/share/ansible/roles:/etc/ansible/roles`, `ANSIBLE_HOME` being `$ANSIBLE_HOME`, `home`, or `~/.ansible` |
//!
//! Not honoured yet: `[privilege_escalation]` (`become` for every play), `gathering`, `library`
//! and `collections_path` (the Ansible that runs fleet's fallback modules reads those itself).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use configparser::ini::{Ini, IniDefault};

/// The configuration file that applies, read.
pub struct AnsibleConfig {
    /// The file, if one was found.
    file: Option<PathBuf>,
    ini: Ini,
}

impl AnsibleConfig {
    /// Finds and reads the file that applies (none is fine); an unreadable or malformed one is
    /// an error naming it, as in Ansible.
    pub fn load() -> Result<AnsibleConfig> {
        let mut defaults = IniDefault::default();
        defaults.inline_comment_symbols = Some(vec![';']);
        defaults.multiline = true;
        let mut ini = Ini::new_from_defaults(defaults);
        let file = find_file();
        if let Some(path) = &file {
            ini.load(path)
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("Error reading config file ({})", path.display()))?;
        }
        Ok(AnsibleConfig { file, ini })
    }

    /// A `[defaults]` setting: the environment variable `env`, else `key` in the file, with
    /// the directory relative paths in it are relative to (`None`: the working directory).
    fn setting(&self, env: &str, key: &str) -> Option<(String, Option<&Path>)> {
        if let Some(value) = std::env::var_os(env) {
            return Some((value.to_string_lossy().into_owned(), None));
        }
        let value = self.ini.get("defaults", key)?;
        Some((value, self.file.as_deref().and_then(Path::parent)))
    }

    /// Where a setting came from, for error messages: the variable, or the file and key.
    fn source(&self, env: &str, key: &str) -> String {
        match (std::env::var_os(env), &self.file) {
            (None, Some(file)) => format!("{} [defaults] {key}", file.display()),
            _ => env.to_string(),
        }
    }

    /// A text setting (`remote_user`).
    pub fn text(&self, env: &str, key: &str) -> Option<String> {
        self.setting(env, key).map(|(value, _)| value)
    }

    /// A path setting (`private_key_file`), `~` expanded and made absolute.
    pub fn path(&self, env: &str, key: &str) -> Option<PathBuf> {
        self.setting(env, key)
            .filter(|(value, _)| !value.trim().is_empty())
            .map(|(value, base)| resolve(value.trim(), base))
    }

    /// A comma-separated list of paths (`inventory`: Ansible's `pathlist`).
    pub fn path_list(&self, env: &str, key: &str) -> Vec<PathBuf> {
        match self.setting(env, key) {
            Some((value, base)) => value
                .split(',')
                .filter(|p| !p.trim().is_empty())
                .map(|p| resolve(p.trim(), base))
                .collect(),
            None => Vec::new(),
        }
    }

    /// A whole-number setting (`forks`); anything else is an error naming where it came from.
    pub fn number(&self, env: &str, key: &str) -> Result<Option<u64>> {
        match self.setting(env, key) {
            None => Ok(None),
            Some((value, _)) => value.trim().parse().map(Some).map_err(|_| {
                anyhow::anyhow!(
                    "{}: expected a whole number, got {value:?}",
                    self.source(env, key)
                )
            }),
        }
    }

    /// The setting's source and value, for a caller that checks the value itself.
    pub fn raw(&self, env: &str, key: &str) -> Option<(String, String)> {
        self.text(env, key).map(|v| (self.source(env, key), v))
    }

    /// `roles_path`: where roles are looked for after `roles/` beside the playbook.
    pub fn roles_path(&self) -> Vec<PathBuf> {
        match self.setting("ANSIBLE_ROLES_PATH", "roles_path") {
            Some((value, base)) => pathspec(&value, base),
            None => {
                let home = match self.setting("ANSIBLE_HOME", "home") {
                    Some((value, base)) => resolve(&value, base),
                    None => resolve("~/.ansible", None),
                };
                let mut paths = vec![home.join("roles")];
                paths.extend(["/usr/share/ansible/roles", "/etc/ansible/roles"].map(PathBuf::from));
                paths
            }
        }
    }
}

/// The configuration file that applies, if any exists (Ansible's `find_ini_config_file`).
fn find_file() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(from_env) = std::env::var_os("ANSIBLE_CONFIG") {
        let path = resolve(&from_env.to_string_lossy(), None);
        candidates.push(match path.is_dir() {
            true => path.join("ansible.cfg"),
            false => path,
        });
    }
    if let Ok(cwd) = std::env::current_dir() {
        if !world_writable(&cwd) {
            candidates.push(cwd.join("ansible.cfg"));
        }
    }
    candidates.push(resolve("~/.ansible.cfg", None));
    candidates.push(PathBuf::from("/etc/ansible/ansible.cfg"));
    candidates.into_iter().find(|p| p.is_file())
}

fn world_writable(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o002 != 0)
}

/// A colon-separated list of paths (Ansible's `pathspec`), each resolved.
fn pathspec(value: &str, base: Option<&Path>) -> Vec<PathBuf> {
    value
        .split(':')
        .filter(|p| !p.trim().is_empty())
        .map(|p| resolve(p.trim(), base))
        .collect()
}

/// `~` expanded, then made absolute against `base` (or the working directory).
fn resolve(path: &str, base: Option<&Path>) -> PathBuf {
    let expanded = match (path.strip_prefix('~'), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            PathBuf::from(format!("{}{rest}", home.to_string_lossy()))
        }
        _ => PathBuf::from(path),
    };
    if expanded.is_absolute() {
        return expanded;
    }
    match base {
        Some(base) => base.join(expanded),
        None => std::env::current_dir().unwrap_or_default().join(expanded),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_in_the_file_are_relative_to_it_and_tilde_expands() {
        let base = Path::new("/etc/project");
        assert_eq!(
            pathspec("roles: /srv/roles::shared/roles", Some(base)),
            [
                PathBuf::from("/etc/project/roles"),
                PathBuf::from("/srv/roles"),
                PathBuf::from("/etc/project/shared/roles"),
            ]
        );
        let home = std::env::var("HOME").unwrap();
        assert_eq!(
            resolve("~/r", Some(base)),
            PathBuf::from(format!("{home}/r"))
        );
        assert_eq!(resolve("~user/r", Some(base)), base.join("~user/r"));
    }
}
