//! Which Python on the controller runs Ansible's own code for fleet: the module fallback's
//! packager (`fleet_modules::ansible`) and the filters, tests and lookups fleet does not
//! implement ([`crate::ansible_plugins`]). One choice for both, so a run never mixes two
//! ansible-core versions.

use std::path::PathBuf;

/// Environment variable naming the Python to use (a venv's `bin/python`, for example).
pub const PYTHON_ENV: &str = "FLEET_ANSIBLE_PYTHON";

/// The Python to try: `configured`, else the interpreter of the `ansible-playbook` script on
/// `PATH` (so fleet uses the ansible-core the operator already runs), else `python3`.
pub fn pick(configured: Option<PathBuf>) -> PathBuf {
    if let Some(p) = configured {
        return p;
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .iter()
        .find_map(|dir| std::fs::read(dir.join("ansible-playbook")).ok())
        .and_then(|text| shebang_interpreter(&text))
        .unwrap_or_else(|| PathBuf::from("python3"))
}

/// [`pick`] with `FLEET_ANSIBLE_PYTHON` as the configured one.
pub fn from_env() -> PathBuf {
    pick(std::env::var_os(PYTHON_ENV).map(PathBuf::from))
}

/// Whether a helper's first line (`read` is how reading it went) is its `{"ready": true}`
/// handshake.
pub fn is_ready(read: &std::io::Result<usize>, line: &str) -> bool {
    matches!(read, Ok(n) if *n > 0)
        && serde_json::from_str::<serde_json::Value>(line).is_ok_and(|v| v["ready"] == true)
}

/// The one message of both of fleet's Ansible helpers when one is not ready: the Python, and
/// the last line it wrote on stderr (an ImportError, usually).
pub fn cannot_import(python: &std::path::Path, stderr_tail: &str) -> String {
    let last = stderr_tail.lines().last().unwrap_or("no output");
    format!("{} cannot import ansible: {last}", python.display())
}

/// The interpreter a script's `#!` line names (`#!/usr/bin/env python3` gives `python3`).
fn shebang_interpreter(text: &[u8]) -> Option<PathBuf> {
    let first = text.split(|b| *b == b'\n').next()?;
    let first = String::from_utf8_lossy(first);
    let mut words = first.strip_prefix("#!")?.split_whitespace();
    match (words.next()?, words.next()) {
        (env, Some(prog)) if env.ends_with("/env") => Some(PathBuf::from(prog)),
        (path, _) => Some(PathBuf::from(path)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interpreter_of_ansible_playbook_is_read_from_its_shebang() {
        let venv = b"#!/opt/venv/bin/python3.11\n# -*- coding: utf-8 -*-\n";
        assert_eq!(
            shebang_interpreter(venv),
            Some("/opt/venv/bin/python3.11".into())
        );
        let env = b"#!/usr/bin/env python3\nimport sys\n";
        assert_eq!(shebang_interpreter(env), Some("python3".into()));
        assert_eq!(
            shebang_interpreter(b"#!/usr/bin/python3 -I\n"),
            Some("/usr/bin/python3".into())
        );
        assert_eq!(shebang_interpreter(b"\x7fELF..."), None);
    }

    #[test]
    fn a_configured_python_wins() {
        assert_eq!(
            pick(Some(PathBuf::from("/x/python"))),
            PathBuf::from("/x/python")
        );
    }
}
