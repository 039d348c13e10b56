//! `fetch`: copies a file from the host to the controller, by default to
//! `dest/<inventory_hostname>/<src path>`. One round trip: the script is told the sha1 of the
//! local copy and sends the bytes only when the remote file differs.

use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::args;
use super::remote_file::{find, parse_report, sha1_hex, Record};
use crate::remote::{shell_quote, RemoteError};
use crate::{ArgSpec, Args, BadArg, Module, ModuleCtx, ModuleResult};

/// The `fetch` module.
pub struct Fetch;

const SCRIPT: &str = r#"
[ -e "$P" ] || { echo "missing the remote file does not exist"; exit 0; }
[ -d "$P" ] && { echo "missing remote file is a directory, fetch cannot work on directories"; exit 0; }
[ -r "$P" ] || { echo "missing no read permission on remote file"; exit 0; }
_sum=$(sha1sum < "$P" | cut -c1-40)
echo "sum $_sum"
echo "mode $(stat -L -c %a -- "$P")"
if [ "$_sum" != "$HAVE" ]; then fleet_blob "$P"; echo "data"; fi
"#;

const BLOB_FN: &str =
    "fleet_blob() { printf 'blob %s\\n' \"$(stat -L -c %s -- \"$1\")\"; cat -- \"$1\"; }\n";

#[async_trait]
impl Module for Fetch {
    fn name(&self) -> &'static str {
        "fetch"
    }

    fn spec(&self) -> ArgSpec {
        ArgSpec {
            free_form: false,
            params: &[
                "src",
                "dest",
                "flat",
                "fail_on_missing",
                "validate_checksum",
            ],
            required: &[&["src"], &["dest"]],
        }
    }

    async fn run(&self, args: &Args, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError> {
        if ctx.check_mode {
            // As Ansible's fetch action: it does not run in check mode at all.
            return Ok(ModuleResult {
                msg: Some("check mode not (yet) supported for this module".into()),
                ..ModuleResult::ok().with("skipped", true)
            });
        }
        let src = args::text(args, &["src"]).unwrap_or_default();
        let dest_arg = args::text(args, &["dest"]).unwrap_or_default();
        let (flat, fail_on_missing, validate) = match flags(args) {
            Ok(flags) => flags,
            Err(e) => return Ok(e.into()),
        };
        let dest = local_dest(
            &src,
            &dest_arg,
            flat,
            &ctx.inventory_hostname,
            ctx.search_dirs.last(),
        );
        let local = std::fs::read(&dest).ok();
        let have = local.as_deref().map(sha1_hex).unwrap_or_default();
        let script = format!(
            "P={}\nHAVE={}\n{BLOB_FN}{SCRIPT}",
            shell_quote(&src),
            shell_quote(&have)
        );
        let out = ctx.sh(&script).await?;
        let records = parse_report(&out.stdout);
        if let Some(missing) = find(&records, "missing") {
            return Ok(missing_result(src, &missing.rest, fail_on_missing));
        }
        let Some(sum) = find(&records, "sum").map(|r| r.rest.clone()) else {
            return Ok(ModuleResult::fail(format!(
                "unable to calculate the checksum of the remote file: {}",
                out.stderr_text().trim()
            )));
        };
        let dest_text = dest.to_string_lossy().into_owned();
        if sum == have {
            return Ok(ModuleResult::ok()
                .with("file", src)
                .with("dest", dest_text)
                .with("checksum", sum));
        }
        Ok(save_fetched(&records, src, &dest, dest_text, sum, validate))
    }
}

/// `flat`, `fail_on_missing` and `validate_checksum`.
fn flags(args: &Args) -> Result<(bool, bool, bool), BadArg> {
    Ok((
        args::flag(args, "flat", false)?,
        args::flag(args, "fail_on_missing", true)?,
        args::flag(args, "validate_checksum", true)?,
    ))
}

/// The remote file is missing or unreadable (`why`): a failure, or with `fail_on_missing: false`
/// an ignored note.
fn missing_result(src: String, why: &str, fail_on_missing: bool) -> ModuleResult {
    let mut result = ModuleResult::ok().with("file", src);
    if fail_on_missing {
        result.failed = true;
        result.msg = Some(why.to_string());
    } else {
        result.msg = Some(format!("{why}, not transferring, ignored"));
    }
    result
}

/// The remote file differed: its bytes (the `data` record) written to `dest` with the remote
/// mode, then checked against the remote checksum `sum` when `validate`.
fn save_fetched(
    records: &[Record],
    src: String,
    dest: &Path,
    dest_text: String,
    sum: String,
    validate: bool,
) -> ModuleResult {
    let data = find(records, "data")
        .and_then(|r| r.blob.clone())
        .unwrap_or_default();
    let mode = find(records, "mode").and_then(|r| u32::from_str_radix(r.rest.trim(), 8).ok());
    if let Err(e) = write_local(dest, &data, mode) {
        return ModuleResult::fail(format!("Failed to write {dest_text}: {e}"));
    }
    let new_sum = sha1_hex(&data);
    if validate && new_sum != sum {
        return ModuleResult::fail("checksum mismatch")
            .with("file", src)
            .with("dest", dest_text)
            .with("checksum", new_sum)
            .with("remote_checksum", sum);
    }
    ModuleResult::changed()
        .with("dest", dest_text)
        .with("checksum", new_sum)
        .with("remote_checksum", sum)
}

/// Where Ansible puts the fetched file: `dest/<host>/<src>` or, with `flat`, `dest` itself
/// (`dest/<basename>` when `dest` ends in `/`). Relative destinations are taken from the
/// playbook's directory.
fn local_dest(src: &str, dest: &str, flat: bool, host: &str, base: Option<&PathBuf>) -> PathBuf {
    let mut path = if flat {
        if dest.ends_with('/') {
            format!(
                "{dest}{}",
                src.trim_end_matches('/').rsplit('/').next().unwrap_or(src)
            )
        } else {
            dest.to_string()
        }
    } else {
        format!("{dest}/{host}/{src}")
    };
    while path.contains("//") {
        path = path.replace("//", "/");
    }
    let path = Path::new(&path);
    match base {
        Some(base) if path.is_relative() => base.join(path),
        _ => path.to_path_buf(),
    }
}

/// Writes the fetched bytes atomically. Like OpenSSH's sftp download (which ansible-playbook
/// uses), a new file gets the remote file's permission bits less the umask, owner-writable;
/// an existing file keeps its mode.
fn write_local(dest: &Path, data: &[u8], remote_mode: Option<u32>) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let dir = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.fleet_tmp.{}",
        dest.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    let existing = std::fs::metadata(dest)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777);
    let create_mode = remote_mode.map_or(0o666, |m| (m & 0o777) | 0o200);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(create_mode)
        .open(&tmp)?;
    std::io::Write::write_all(&mut file, data)?;
    drop(file);
    if let Some(mode) = existing {
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))?;
    }
    std::fs::rename(&tmp, dest)
}

#[cfg(test)]
mod tests {
    use std::fs;

    use serde_json::json;

    use super::*;
    use crate::files::testkit::Harness;

    #[tokio::test]
    async fn fetches_to_the_host_layout_once() {
        let h = Harness::new();
        let remote = h.path("remote/etc/motd");
        fs::create_dir_all(h.path("remote/etc")).unwrap();
        fs::write(&remote, "welcome\n").unwrap();
        let args = json!({"src": remote, "dest": h.path("backup")});
        let r = h.run(&Fetch, args.clone()).await;
        assert!(r.changed && !r.failed, "{:?}", r.to_json());
        let local = format!("{}/testhost{}", h.path("backup"), remote);
        assert_eq!(fs::read_to_string(&local).unwrap(), "welcome\n");
        assert_eq!(r.to_json()["dest"], local);
        assert!(!h.run(&Fetch, args).await.changed);

        let r = h
            .run(
                &Fetch,
                json!({"src": remote, "dest": h.path("flat/"), "flat": true}),
            )
            .await;
        assert!(r.changed);
        assert_eq!(
            fs::read_to_string(h.path("flat/motd")).unwrap(),
            "welcome\n"
        );
    }

    #[tokio::test]
    async fn missing_files_fail_unless_told_not_to_and_check_mode_skips() {
        let mut h = Harness::new();
        let r = h
            .run(
                &Fetch,
                json!({"src": "/nonexistent/x", "dest": h.path("d")}),
            )
            .await;
        assert!(r.failed);
        assert_eq!(r.msg.as_deref(), Some("the remote file does not exist"));
        let r = h
            .run(
                &Fetch,
                json!({"src": "/nonexistent/x", "dest": h.path("d"), "fail_on_missing": false}),
            )
            .await;
        assert!(!r.failed && !r.changed);
        assert_eq!(
            r.msg.as_deref(),
            Some("the remote file does not exist, not transferring, ignored")
        );
        fs::write(h.path("f"), "x").unwrap();
        h.check = true;
        let r = h
            .run(
                &Fetch,
                json!({"src": h.path("f"), "dest": h.path("out"), "flat": true}),
            )
            .await;
        assert!(
            !r.changed && r.to_json()["skipped"] == true,
            "{:?}",
            r.to_json()
        );
        assert!(!h.root().join("out").exists());
    }

    #[tokio::test]
    async fn a_new_local_copy_takes_the_remote_mode_and_an_existing_one_keeps_its_own() {
        use std::os::unix::fs::PermissionsExt;
        let h = Harness::new();
        let remote = h.path("secret");
        fs::write(&remote, "s\n").unwrap();
        fs::set_permissions(&remote, fs::Permissions::from_mode(0o640)).unwrap();
        let mode = |p: &str| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let args = json!({"src": remote, "dest": h.path("copy"), "flat": true});
        assert!(h.run(&Fetch, args.clone()).await.changed);
        assert_eq!(mode(&h.path("copy")), 0o640);
        fs::set_permissions(h.path("copy"), fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(&remote, "changed\n").unwrap();
        assert!(h.run(&Fetch, args).await.changed);
        assert_eq!(fs::read_to_string(h.path("copy")).unwrap(), "changed\n");
        assert_eq!(mode(&h.path("copy")), 0o600);
    }
}
