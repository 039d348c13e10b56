//! The controller-side walk of a directory `copy`, as Ansible's copy action walks it
//! (`_walk_dirs`): which entries become directories, files and symlinks on the host.
//!
//! Why its own module: symlinks decide the shape of the copy. With `local_follow: false` every
//! symlink is copied as a symlink; with `local_follow: true` (the default) links to files are
//! copied as the files and links to directories are walked, except a link back into a
//! directory being copied (a circle), which stays a symlink so the walk ends. A plain
//! recursive walk that follows links never ends on such trees.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::put::{Source, Upload};
use crate::ModuleError;

/// What a directory copy puts on the host.
#[derive(Debug, Default)]
pub struct Tree {
    /// Directories to create, parents first.
    pub dirs: Vec<String>,
    /// Files to put.
    pub uploads: Vec<Upload>,
    /// Symlinks to make: (path on the host, link target as read).
    pub links: Vec<(String, String)>,
    /// Refuse vault-encrypted files (`decrypt`, see [`read_source`]).
    pub decrypt: bool,
}

type Id = (u64, u64);

fn id_of(path: &Path) -> Option<Id> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

fn read_link(path: &Path) -> Result<String, ModuleError> {
    std::fs::read_link(path)
        .map(|t| t.to_string_lossy().into_owned())
        .map_err(|e| ModuleError::Local(format!("Could not read link {}: {e}", path.display())))
}

/// Walks the controller directory `top` into host directory `root` (which is in `dirs`).
pub fn walk(
    top: &Path,
    root: &str,
    local_follow: bool,
    decrypt: bool,
) -> Result<Tree, ModuleError> {
    let mut tree = Tree {
        dirs: vec![root.to_string()],
        decrypt,
        ..Tree::default()
    };
    let parents: HashSet<Id> = id_of(top).into_iter().collect();
    recurse(&mut tree, top, root, &parents, local_follow)?;
    Ok(tree)
}

/// The bytes of controller file `path` for a copy: a vault-encrypted file is sent decrypted
/// with the run's vault secrets (unless `decrypt` is off), or fails with Ansible's message.
pub fn read_source(path: &Path, decrypt: bool) -> Result<Vec<u8>, ModuleError> {
    let bytes = std::fs::read(path)
        .map_err(|e| ModuleError::Local(format!("Could not read {}: {e}", path.display())))?;
    if !decrypt || !bytes.starts_with(vault::HEADER.as_bytes()) {
        return Ok(bytes);
    }
    let text = String::from_utf8_lossy(&bytes);
    vault::decrypt(&text, &vault::secrets::run_secrets()).map_err(|e| {
        ModuleError::Local(match e {
            vault::VaultError::NoSecrets => format!(
                "A vault password or secret must be specified to decrypt {}",
                path.display()
            ),
            other => format!("{other} ({})", path.display()),
        })
    })
}

fn recurse(
    tree: &mut Tree,
    dir: &Path,
    remote: &str,
    parents: &HashSet<Id>,
    follow: bool,
) -> Result<(), ModuleError> {
    let mut entries: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| ModuleError::Local(format!("Could not read {}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    // a directory's files before its subdirectories, as os.walk gives them
    let is_dir = |p: &std::path::PathBuf| std::fs::metadata(p).is_ok_and(|m| m.is_dir());
    entries.sort_by_key(is_dir);
    for path in entries {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let dest = format!("{remote}/{name}");
        let is_link = path.symlink_metadata().is_ok_and(|m| m.is_symlink());
        let target = std::fs::metadata(&path).ok();
        match target {
            Some(m) if m.is_dir() && is_link => {
                let id = (m.dev(), m.ino());
                let circle = !follow || parents.contains(&id) || {
                    // the directories holding the link, up to one already being copied
                    let mut new_parents = HashSet::new();
                    for ancestor in path.parent().into_iter().flat_map(Path::ancestors) {
                        match id_of(ancestor) {
                            Some(a) if parents.contains(&a) => break,
                            Some(a) => {
                                new_parents.insert(a);
                            }
                            None => break,
                        }
                    }
                    new_parents.contains(&id)
                };
                if circle {
                    tree.links.push((dest, read_link(&path)?));
                    continue;
                }
                let real = std::fs::canonicalize(&path).map_err(|e| {
                    ModuleError::Local(format!("Could not resolve {}: {e}", path.display()))
                })?;
                let mut inner = parents.clone();
                inner.insert(id);
                tree.dirs.push(dest.clone());
                recurse(tree, &real, &dest, &inner, follow)?;
            }
            Some(m) if m.is_dir() => {
                let mut inner = parents.clone();
                inner.insert((m.dev(), m.ino()));
                tree.dirs.push(dest.clone());
                recurse(tree, &path, &dest, &inner, follow)?;
            }
            Some(m) if m.is_file() && (follow || !is_link) => {
                let bytes = read_source(&path, tree.decrypt)?;
                tree.uploads.push(Upload {
                    dest,
                    into_dir_as: None,
                    source: Source::Bytes(bytes),
                });
            }
            _ if is_link => tree.links.push((dest, read_link(&path)?)),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    fn names(tree: &Tree) -> (Vec<&str>, Vec<&str>, Vec<(&str, &str)>) {
        (
            tree.dirs.iter().map(String::as_str).collect(),
            tree.uploads.iter().map(|u| u.dest.as_str()).collect(),
            tree.links
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect(),
        )
    }

    /// Issue 18 (the copy target's tree): circles stay links, links to files and outside
    /// directories are followed unless `local_follow: false`, broken links stay links.
    #[test]
    fn follows_links_like_ansibles_copy_action() {
        let tmp = tempfile::tempdir().unwrap();
        let top = tmp.path().join("top");
        let outside = tmp.path().join("outside");
        std::fs::create_dir_all(top.join("sub")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(top.join("z"), "z").unwrap();
        std::fs::write(top.join("f"), "f").unwrap();
        std::fs::write(outside.join("o"), "o").unwrap();
        symlink("..", top.join("sub/circle")).unwrap();
        symlink("../f", top.join("sub/to_f")).unwrap();
        symlink(&outside, top.join("sub/out")).unwrap();
        symlink("nowhere", top.join("sub/broken")).unwrap();

        let followed = walk(&top, "/d", true, true).unwrap();
        let out = outside.to_string_lossy().into_owned();
        assert_eq!(
            names(&followed),
            (
                vec!["/d", "/d/sub", "/d/sub/out"],
                vec!["/d/f", "/d/z", "/d/sub/to_f", "/d/sub/out/o"],
                vec![("/d/sub/broken", "nowhere"), ("/d/sub/circle", "..")]
            )
        );
        let kept = walk(&top, "/d", false, true).unwrap();
        assert_eq!(
            names(&kept),
            (
                vec!["/d", "/d/sub"],
                vec!["/d/f", "/d/z"],
                vec![
                    ("/d/sub/broken", "nowhere"),
                    ("/d/sub/to_f", "../f"),
                    ("/d/sub/circle", ".."),
                    ("/d/sub/out", out.as_str()),
                ]
            )
        );
        // a vault file is refused unless decrypt is off
        std::fs::write(top.join("sub/v"), "$ANSIBLE_VAULT;1.1;AES256\n1234\n").unwrap();
        let err = walk(&top, "/d", true, true).unwrap_err().to_string();
        let want = format!(
            "A vault password or secret must be specified to decrypt {}",
            top.join("sub/v").display()
        );
        assert_eq!(err, want);
        assert!(walk(&top, "/d", true, false).is_ok());
    }
}
