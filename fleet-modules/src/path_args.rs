//! Ansible's `type='path'` arguments. Before a module runs, AnsibleModule turns each one into
//! `os.path.expanduser(os.path.expandvars(value))` on the host, in the module's environment and
//! as the user the module runs as (become's user too): `dest: ~/.bashrc` and
//! `path: $HOME/.ssh/config` name that user's files. Native modules take their paths as
//! written, so [`expand`] does the same expansion for them first, on the host, in one round trip
//! for every value that needs it (a leading `~` or a `$`) and none for the rest, which is
//! nearly every task. Paths on the controller (`copy`'s `src`, `fetch`'s `dest`) are not here,
//! nor `script`'s, which its action plugin takes as text (its `creates` check expands `~` on
//! the host, its messages show the text as written).

use serde_json::Value;

use crate::remote::RemoteError;
use crate::system::words::{expanded_word, EXPAND_PRELUDE};
use crate::{Args, ModuleCtx};

/// The arguments of each native module that Ansible types `path` and reads on the host,
/// aliases included.
const PATH_ARGS: &[(&str, &[&str])] = &[
    ("file", &["path", "dest", "name", "src"]),
    ("copy", &["dest"]),
    ("template", &["dest"]),
    ("lineinfile", &["path", "dest", "destfile", "name"]),
    ("blockinfile", &["path", "dest", "destfile", "name"]),
    ("replace", &["path", "dest", "destfile", "name"]),
    ("assemble", &["dest"]),
    ("stat", &["path", "dest", "name"]),
    ("slurp", &["src", "path"]),
    ("fetch", &["src"]),
    ("get_url", &["dest"]),
    ("tempfile", &["path"]),
    ("wait_for", &["path"]),
    ("command", &["chdir", "creates", "removes"]),
    ("shell", &["chdir", "creates", "removes"]),
    ("cron", &["cron_file"]),
    ("apt", &["deb"]),
];

/// Whether `value` changes under `expanduser(expandvars(..))`: a leading `~` or any `$`.
fn needs_expansion(value: &str) -> bool {
    value.starts_with('~') || value.contains('$')
}

/// `args` with `module`'s path arguments expanded on the host as Ansible expands them; `None`
/// when none needs it (nothing ran).
pub async fn expand(
    module: &str,
    args: &Args,
    ctx: &mut ModuleCtx<'_>,
) -> Result<Option<Args>, RemoteError> {
    let Some((_, names)) = PATH_ARGS.iter().find(|(m, _)| *m == module) else {
        return Ok(None);
    };
    let wanted: Vec<(&str, &str)> = names
        .iter()
        .filter_map(|name| match args.get(*name) {
            Some(Value::String(v)) if needs_expansion(v) => Some((*name, v.as_str())),
            _ => None,
        })
        .collect();
    if wanted.is_empty() {
        return Ok(None);
    }
    let mut script = String::from(EXPAND_PRELUDE);
    for (_, value) in &wanted {
        script.push_str(&format!("printf '%s\\0' {}\n", expanded_word(value)));
    }
    let out = ctx.sh(&script).await?;
    let text = out.stdout_text();
    let expanded: Vec<&str> = text.split('\0').collect();
    if out.rc != 0 || expanded.len() != wanted.len() + 1 {
        // the values stay as written: the module then names the path it could not use
        return Ok(None);
    }
    let mut args = args.clone();
    for ((name, _), value) in wanted.iter().zip(expanded) {
        args.insert((*name).to_string(), Value::String(value.to_string()));
    }
    Ok(Some(args))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_leading_tilde_or_a_variable_needs_the_host() {
        assert!(needs_expansion("~/x"));
        assert!(needs_expansion("~deploy/x"));
        assert!(needs_expansion("$HOME/x"));
        assert!(!needs_expansion("/etc/a~b"));
        assert!(!needs_expansion("relative/path"));
    }

    #[test]
    fn every_listed_module_is_native() {
        for (module, _) in PATH_ARGS {
            assert!(
                crate::find(module).is_some(),
                "{module} is not a native module"
            );
        }
    }
}
