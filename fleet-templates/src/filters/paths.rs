//! Path filters with Python's `os.path` semantics (`basename('/a/b/')` is `''`).

use minijinja::value::{Value, ValueKind};
use minijinja::{Environment, Error};

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("basename", |p: String| basename(&p).to_string());
    env.add_filter("dirname", |p: String| dirname(&p).to_string());
    env.add_filter("expanduser", |p: String| expanduser(&p));
    env.add_filter("realpath", |p: String| realpath(&p));
    env.add_filter("splitext", |p: String| {
        let (root, ext) = splitext(&p);
        vec![root.to_string(), ext.to_string()]
    });
    env.add_filter("path_join", path_join);
    env.add_filter("win_basename", |p: String| {
        p.rsplit(['\\', '/']).next().unwrap_or_default().to_string()
    });
}

/// Ansible's `path_join`: `os.path.join` of a list's items (or of one string): an absolute
/// component starts over, and a `/` goes between components unless one is already there.
fn path_join(paths: &Value) -> Result<String, Error> {
    let parts: Vec<String> = match paths.kind() {
        ValueKind::String => vec![paths.as_str().unwrap_or_default().to_string()],
        ValueKind::Seq | ValueKind::Iterable => paths
            .try_iter()?
            .map(|p| match p.as_str() {
                Some(s) => Ok(s.to_string()),
                None => Err(super::fail(format!(
                    "expected str, bytes or os.PathLike object, not {}",
                    crate::repr::py_type_name(&p)
                ))),
            })
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(super::fail(format!(
                "|path_join expects string or sequence, got {} instead.",
                crate::repr::py_type_name(paths)
            )))
        }
    };
    let mut out = String::new();
    for part in parts {
        if part.starts_with('/') || out.is_empty() {
            out = part;
        } else {
            if !out.ends_with('/') {
                out.push('/');
            }
            out.push_str(&part);
        }
    }
    Ok(out)
}

/// `os.path.basename`: everything after the last `/`.
pub(crate) fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// `os.path.dirname`: everything before the last `/`, trailing slashes removed unless it is
/// the root.
pub(crate) fn dirname(p: &str) -> &str {
    match p.rfind('/') {
        Some(i) => {
            let head = &p[..=i];
            let trimmed = head.trim_end_matches('/');
            if trimmed.is_empty() {
                head
            } else {
                trimmed
            }
        }
        None => "",
    }
}

/// `os.path.splitext`: the extension is from the last dot of the last component, unless the
/// component only starts with dots.
pub(crate) fn splitext(p: &str) -> (&str, &str) {
    let base_start = p.rfind('/').map_or(0, |i| i + 1);
    let base = &p[base_start..];
    let leading_dots = base.len() - base.trim_start_matches('.').len();
    match base.rfind('.') {
        Some(dot) if dot >= leading_dots && dot > 0 => p.split_at(base_start + dot),
        _ => (p, ""),
    }
}

/// `os.path.expanduser` on the controller.
pub(crate) fn expanduser(p: &str) -> String {
    let home = std::env::var("HOME").unwrap_or_default();
    if p == "~" {
        home
    } else if let Some(rest) = p.strip_prefix("~/") {
        format!("{}/{rest}", home.trim_end_matches('/'))
    } else {
        p.to_string()
    }
}

/// `os.path.realpath` on the controller: symlinks resolved when the path exists, otherwise
/// made absolute and normalised.
pub(crate) fn realpath(p: &str) -> String {
    if let Ok(real) = std::fs::canonicalize(p) {
        return real.to_string_lossy().into_owned();
    }
    abspath(p)
}

/// `os.path.abspath` on the controller: made absolute against the working directory and
/// normalised (`.` and `..` taken out), symlinks left as they are.
pub(crate) fn abspath(p: &str) -> String {
    let absolute = if p.starts_with('/') {
        p.to_string()
    } else {
        let cwd = std::env::current_dir().unwrap_or_default();
        format!("{}/{p}", cwd.to_string_lossy())
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in absolute.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}
