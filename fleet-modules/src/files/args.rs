//! Reading module arguments the way Ansible's argument spec coerces them: strings from numbers,
//! booleans from `yes`/`no`/`1`/`0`, and file modes from ints, octal text or symbolic text.

use fleet_templates::boolean;
use serde_json::Value;

use crate::{Args, BadArg};

/// The first present argument among `names` (a key and its aliases), as text. Numbers and
/// booleans are turned into text as Ansible's `str` type does; `null` counts as absent.
pub fn text(args: &Args, names: &[&str]) -> Option<String> {
    names.iter().find_map(|name| match args.get(*name)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(if *b { "True" } else { "False" }.to_string()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    })
}

/// A boolean argument with Ansible's accepted spellings; `default` when absent.
pub fn flag(args: &Args, name: &str, default: bool) -> Result<bool, BadArg> {
    let value = match args.get(name) {
        None | Some(Value::Null) => return Ok(default),
        Some(v) => v,
    };
    match boolean::from_json(value) {
        Some(b) => Ok(b),
        None => Err(format!(
            "argument '{name}' is of type {} and we were unable to convert to bool: The value {value} is not a valid boolean.",
            py_class(value)
        ).into()),
    }
}

/// An integer argument (`timeout: 10` or `timeout: "10"`); `default` when absent.
pub fn int(args: &Args, name: &str, default: i64) -> Result<i64, BadArg> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .ok_or_else(|| BadArg(format!("argument '{name}' is not an integer"))),
        Some(Value::String(s)) => s.trim().parse().map_err(|_| {
            BadArg(format!(
                "argument '{name}' is of type str and we were unable to convert to int: {s}"
            ))
        }),
        Some(other) => Err(format!(
            "argument '{name}' is of type {} and we were unable to convert to int",
            py_class(other)
        )
        .into()),
    }
}

/// A requested file mode: numeric permission bits, or a symbolic expression handed to `chmod`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Permission bits (`0o644`), from an int (already the number) or octal text.
    Octal(u32),
    /// Symbolic text such as `u=rw,g=r,o=r` or `u+x`.
    Symbolic(String),
}

impl Mode {
    /// The argument as `chmod` takes it.
    pub fn chmod_arg(&self) -> String {
        match self {
            Mode::Octal(bits) => format!("{bits:o}"),
            Mode::Symbolic(s) => s.clone(),
        }
    }
}

/// Parses `mode` the way Ansible does: an int is the mode itself (YAML `0644` arrives as 420),
/// digits-only text is octal, anything else must be a valid symbolic mode.
pub fn mode(args: &Args, name: &str) -> Result<Option<Mode>, BadArg> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(bits) if bits <= 0o7777 => Ok(Some(Mode::Octal(bits as u32))),
            _ => Err(format!("mode must be in octal or symbolic form: {n}").into()),
        },
        Some(Value::String(s)) => parse_mode_text(s).map(Some),
        Some(other) => Err(format!("mode must be in octal or symbolic form: {other}").into()),
    }
}

fn parse_mode_text(s: &str) -> Result<Mode, BadArg> {
    let invalid = || {
        BadArg(format!(
            "mode must be in octal or symbolic form (invalid mode: {s})"
        ))
    };
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        let bits = u32::from_str_radix(s, 8).map_err(|_| invalid())?;
        return if bits <= 0o7777 {
            Ok(Mode::Octal(bits))
        } else {
            Err(invalid())
        };
    }
    let symbolic = regex::Regex::new(r"^[ugoa]*([-+=]([rwxXst]*|[ugo]))+$").expect("valid regex");
    if !s.is_empty() && s.split(',').all(|clause| symbolic.is_match(clause)) {
        Ok(Mode::Symbolic(s.to_string()))
    } else {
        Err(invalid())
    }
}

/// `mode`, `owner` and `group` as the file-family modules accept them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileAttrs {
    /// Requested permissions.
    pub mode: Option<Mode>,
    /// Requested owner (name or numeric id).
    pub owner: Option<String>,
    /// Requested group (name or numeric id).
    pub group: Option<String>,
}

impl FileAttrs {
    /// Reads `mode`, `owner` and `group`.
    pub fn from_args(args: &Args) -> Result<Self, BadArg> {
        Ok(FileAttrs {
            mode: mode(args, "mode")?,
            owner: text(args, &["owner"]).filter(|s| !s.is_empty()),
            group: text(args, &["group"]).filter(|s| !s.is_empty()),
        })
    }

    /// Like [`FileAttrs::from_args`], with `mode: preserve` taking the mode of the controller's
    /// `source` file (as `copy` and `template` do).
    pub fn preserving(args: &Args, source: Option<&std::path::Path>) -> Result<Self, BadArg> {
        if text(args, &["mode"]).as_deref() != Some("preserve") {
            return Self::from_args(args);
        }
        use std::os::unix::fs::PermissionsExt;
        let bits = source
            .and_then(|p| std::fs::metadata(p).ok())
            .map(|m| m.permissions().mode() & 0o7777)
            .ok_or_else(|| "mode=preserve needs a source file on the controller".to_string())?;
        let mut without = args.clone();
        without.remove("mode");
        Ok(FileAttrs {
            mode: Some(Mode::Octal(bits)),
            ..Self::from_args(&without)?
        })
    }

    /// Whether any attribute was requested.
    pub fn any(&self) -> bool {
        self.mode.is_some() || self.owner.is_some() || self.group.is_some()
    }
}

/// The argument names every file-family module accepts without acting on them natively (SELinux
/// contexts, chattr attributes, `unsafe_writes`): set to anything but Ansible's default, the first
/// six hand the task to Ansible's module (`crate::ansible_only`); fleet's writes are always atomic,
/// which is what `unsafe_writes: false` asks for.
pub const IGNORED_FILE_PARAMS: &[&str] = &[
    "attributes",
    "attr",
    "seuser",
    "serole",
    "setype",
    "selevel",
    "unsafe_writes",
];

/// `<class 'str'>`: a value's Python type as Ansible's argument checks print it.
fn py_class(value: &Value) -> String {
    format!("<class '{}'>", fleet_templates::py_type_name(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(v: Value) -> Args {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn modes_follow_ansible_interpretation() {
        let m = |v: Value| mode(&args(json!({ "mode": v })), "mode");
        assert_eq!(m(json!(420)).unwrap(), Some(Mode::Octal(0o644)));
        assert_eq!(m(json!("0644")).unwrap(), Some(Mode::Octal(0o644)));
        assert_eq!(m(json!("755")).unwrap(), Some(Mode::Octal(0o755)));
        assert_eq!(m(json!("01777")).unwrap(), Some(Mode::Octal(0o1777)));
        assert_eq!(
            m(json!("u=rw,g=r,o=r")).unwrap(),
            Some(Mode::Symbolic("u=rw,g=r,o=r".into()))
        );
        assert_eq!(m(json!("u+x")).unwrap(), Some(Mode::Symbolic("u+x".into())));
        assert!(m(json!("0899")).is_err());
        assert!(m(json!("rwx")).is_err());
        assert_eq!(Mode::Octal(0o644).chmod_arg(), "644");
    }

    #[test]
    fn booleans_accept_ansible_spellings() {
        let a = args(json!({"a": "yes", "b": "False", "c": 0, "d": "maybe"}));
        assert!(flag(&a, "a", false).unwrap());
        assert!(!flag(&a, "b", true).unwrap());
        assert!(!flag(&a, "c", true).unwrap());
        assert!(flag(&a, "missing", true).unwrap());
        assert!(flag(&a, "d", true)
            .unwrap_err()
            .contains("not a valid boolean"));
    }

    #[test]
    fn an_empty_string_or_a_list_is_not_a_boolean_as_in_ansible() {
        // Ansible's check_type_bool raises for both; reading them as false would quietly
        // turn `force: "{{ unset }}"` into `force: no`.
        let a = args(json!({"empty": "", "list": ["yes"]}));
        for name in ["empty", "list"] {
            let err = flag(&a, name, true).unwrap_err();
            assert!(err.contains("not a valid boolean"), "{name}: {err}");
        }
    }
}
