//! A small filesystem of its own (tmpfs, else a loop-mounted ext4 image) for disk-full tests.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;

use crate::proc::run;

/// A mounted filesystem of a fixed size on a temp dir; unmounted on drop.
pub struct SmallFs {
    dir: TempDir,
    kind: &'static str,
    mounted: bool,
}

impl SmallFs {
    /// Mounts a `kib` KiB tmpfs on a fresh temp dir, or, if tmpfs cannot be mounted, a loop
    /// mounted ext4 image of that size. `Err` says why neither works (not root, no mount
    /// permission in this sandbox, no mkfs.ext4).
    pub fn mount(kib: u64) -> Result<SmallFs, String> {
        let dir = tempfile::Builder::new()
            .prefix("e2e-smallfs-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let mnt = dir.path().join("mnt");
        fs::create_dir(&mnt).map_err(|e| e.to_string())?;
        let tmpfs = run(
            Command::new("mount")
                .args([
                    "-t",
                    "tmpfs",
                    "-o",
                    &format!("size={kib}k,mode=0700"),
                    "tmpfs",
                ])
                .arg(&mnt),
            Duration::from_secs(20),
        );
        if tmpfs.success() {
            return Ok(SmallFs {
                dir,
                kind: "tmpfs",
                mounted: true,
            });
        }
        let image = dir.path().join("fs.img");
        let loop_fs = (|| {
            let f = fs::File::create(&image).map_err(|e| e.to_string())?;
            f.set_len(kib.max(1024) * 1024).map_err(|e| e.to_string())?;
            let mkfs = run(
                Command::new("mkfs.ext4").args(["-q", "-F"]).arg(&image),
                Duration::from_secs(30),
            );
            if !mkfs.success() {
                return Err(format!("{mkfs}"));
            }
            let m = run(
                Command::new("mount")
                    .args(["-o", "loop"])
                    .arg(&image)
                    .arg(&mnt),
                Duration::from_secs(20),
            );
            if m.success() {
                Ok(())
            } else {
                Err(format!("{m}"))
            }
        })();
        match loop_fs {
            Ok(()) => Ok(SmallFs {
                dir,
                kind: "loop ext4",
                mounted: true,
            }),
            Err(e) => Err(format!(
                "cannot mount a small filesystem: tmpfs: {}; loop ext4: {e}",
                tmpfs.stderr.trim()
            )),
        }
    }

    /// The mount point.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("mnt")
    }

    /// `tmpfs` or `loop ext4`.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// Writes `name` until the filesystem refuses more (ENOSPC); returns the bytes written.
    pub fn fill(&self, name: &str) -> u64 {
        fill_file(&self.path().join(name))
    }
}

/// Appends to `path` in shrinking chunks until nothing more fits.
fn fill_file(path: &Path) -> u64 {
    let mut f = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open filler");
    let mut total = 0u64;
    let mut chunk = 64 * 1024;
    while chunk >= 1 {
        let buf = vec![b'x'; chunk];
        match f.write(&buf) {
            Ok(0) | Err(_) => chunk /= 2,
            Ok(n) => total += n as u64,
        }
    }
    let _ = f.sync_all();
    total
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        if self.mounted {
            let _ = Command::new("umount").arg("-l").arg(self.path()).status();
        }
    }
}
