//! Snapshots of what a run left on the targets: every file (mode and content), directory (mode)
//! and symlink (target) under a root, keyed by host-normalized path, and their differences.
//!
//! Output can agree while the targets differ (or the reverse), so comparisons check the
//! resulting state itself; normalizing host names lets two labs' snapshots compare equal.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::{FleetLab, SAMPLES_ROOT};

impl FleetLab {
    /// Every file, directory and symlink under `root` for each host, where `root` names the
    /// host as `{host}` (e.g. `/tmp/fleet-samples/{host}`). Keys are `lab-hN/relative/path`;
    /// contents are normalized like host names.
    pub fn snapshot(&self, root: &str) -> Snapshot {
        let mut snap = Snapshot::new();
        for (name, _) in &self.hosts {
            let base = PathBuf::from(root.replace("{host}", name));
            let label = self.normalize(name);
            walk(&base, &base, &mut |rel, entry| {
                let key = if rel.is_empty() {
                    label.clone()
                } else {
                    format!("{label}/{rel}")
                };
                let entry = match entry {
                    Entry::File { mode, content } => Entry::File {
                        mode,
                        content: self.normalize(&content),
                    },
                    Entry::Symlink { target } => Entry::Symlink {
                        target: self.normalize(&target),
                    },
                    dir => dir,
                };
                snap.insert(self.normalize(&key), entry);
            });
        }
        snap
    }

    /// [`FleetLab::snapshot`] of `/tmp/fleet-samples/{host}`, where the playbooks write.
    pub fn samples_snapshot(&self) -> Snapshot {
        self.snapshot(&format!("{SAMPLES_ROOT}/{{host}}"))
    }
}

/// What a path on a target is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Dir { mode: u32 },
    File { mode: u32, content: String },
    Symlink { target: String },
}

impl std::fmt::Display for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Entry::Dir { mode } => write!(f, "dir {mode:04o}"),
            Entry::File { mode, content } => write!(f, "file {mode:04o} {content:?}"),
            Entry::Symlink { target } => write!(f, "symlink -> {target}"),
        }
    }
}

/// Target state: normalized path -> entry.
pub type Snapshot = BTreeMap<String, Entry>;

fn walk(base: &Path, path: &Path, visit: &mut dyn FnMut(String, Entry)) {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return;
    };
    let rel = path
        .strip_prefix(base)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mode = meta.permissions().mode() & 0o7777;
    if meta.file_type().is_symlink() {
        let target = fs::read_link(path).map(|t| t.to_string_lossy().into_owned());
        visit(
            rel,
            Entry::Symlink {
                target: target.unwrap_or_default(),
            },
        );
    } else if meta.is_dir() {
        visit(rel, Entry::Dir { mode });
        let mut children: Vec<PathBuf> = fs::read_dir(path)
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        children.sort();
        for child in children {
            walk(base, &child, visit);
        }
    } else {
        let content = fs::read(path).unwrap_or_default();
        visit(
            rel,
            Entry::File {
                mode,
                content: String::from_utf8_lossy(&content).into_owned(),
            },
        );
    }
}

/// Lines describing how `actual` differs from `expected` (empty if they are equal).
pub fn diff_snapshots(expected: &Snapshot, actual: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    for (path, want) in expected {
        match actual.get(path) {
            None => out.push(format!("{path}: missing (expected {want})")),
            Some(got) if got != want => out.push(format!("{path}: {got}, expected {want}")),
            Some(_) => {}
        }
    }
    for (path, got) in actual {
        if !expected.contains_key(path) {
            out.push(format!("{path}: unexpected {got}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_record_modes_and_contents_and_diff() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir(d.path().join("sub")).unwrap();
        fs::write(d.path().join("sub/f"), "x\n").unwrap();
        fs::set_permissions(d.path().join("sub/f"), fs::Permissions::from_mode(0o640)).unwrap();
        let mut got = Snapshot::new();
        walk(d.path(), d.path(), &mut |rel, e| {
            got.insert(rel, e);
        });
        assert_eq!(
            got["sub/f"],
            Entry::File {
                mode: 0o640,
                content: "x\n".into()
            }
        );
        assert!(matches!(got["sub"], Entry::Dir { .. }));
        let mut other = got.clone();
        other.insert(
            "sub/f".into(),
            Entry::File {
                mode: 0o644,
                content: "x\n".into(),
            },
        );
        let diff = diff_snapshots(&got, &other);
        assert_eq!(diff.len(), 1, "{diff:?}");
        assert!(diff[0].contains("0644") && diff[0].contains("0640"));
        assert!(diff_snapshots(&got, &got).is_empty());
    }
}
