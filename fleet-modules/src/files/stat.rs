//! `stat`: reports facts about a path (type, mode, owner, times, checksum) in Ansible's `stat`
//! dictionary, from one `stat -c` call plus a few tests.

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::args;
use super::remote_file::{find, parse_report};
use crate::remote::{shell_quote, RemoteError};
use crate::{ArgSpec, Args, BadArg, Module, ModuleCtx, ModuleResult};

/// The `stat` module.
pub struct Stat;

const ALGORITHMS: &[&str] = &["md5", "sha1", "sha224", "sha256", "sha384", "sha512"];

const SCRIPT: &str = r#"
if [ "$FOLLOW" = 1 ]; then L=-L; [ -e "$P" ] || { echo "absent"; exit 0; }
else L=; [ -e "$P" ] || [ -L "$P" ] || { echo "absent"; exit 0; }; fi
stat $L -c 'raw %f|%u|%g|%s|%i|%d|%h|%.9X|%.9Y|%.9Z|%U|%G|%b|%B|%t|%T' -- "$P" || exit 1
[ -r "$P" ] && echo "readable"
[ -w "$P" ] && echo "writeable"
[ -x "$P" ] && echo "executable"
if [ -z "$L" ] && [ -L "$P" ]; then
  echo "lnk_target $(readlink -- "$P")"; echo "lnk_source $(readlink -f -- "$P")"
fi
if [ -n "$ALG" ] && [ -f "$P" ] && [ -r "$P" ]; then echo "checksum $("${ALG}sum" < "$P" | cut -d' ' -f1)"; fi
if [ "$MIME" = 1 ] && command -v file >/dev/null 2>&1; then
  echo "mimetype $(file -b -L --mime-type -- "$P")"; echo "charset $(file -b -L --mime-encoding -- "$P")"
fi
"#;

#[async_trait]
impl Module for Stat {
    fn name(&self) -> &'static str {
        "stat"
    }

    fn spec(&self) -> ArgSpec {
        ArgSpec {
            free_form: false,
            params: &[
                "path",
                "dest",
                "name",
                "follow",
                "get_checksum",
                "checksum_algorithm",
                "checksum",
                "checksum_algo",
                "get_mime",
                "get_attributes",
                "mime",
                "mime_type",
                "mime-type",
                "attr",
                "attributes",
            ],
            required: &[&["path", "dest", "name"]],
        }
    }

    async fn run(&self, args: &Args, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError> {
        let path = args::text(args, &["path", "dest", "name"]).unwrap_or_default();
        let options = (|| -> Result<(bool, String, bool), BadArg> {
            let algorithm = args::text(args, &["checksum_algorithm", "checksum", "checksum_algo"])
                .unwrap_or_else(|| "sha1".into());
            if !ALGORITHMS.contains(&algorithm.as_str()) {
                return Err(format!(
                    "value of checksum_algorithm must be one of: {}, got: {algorithm}",
                    ALGORITHMS.join(", ")
                )
                .into());
            }
            let get_checksum = args::flag(args, "get_checksum", true)?;
            let mime = ["get_mime", "mime", "mime_type", "mime-type"]
                .iter()
                .find(|k| args.contains_key(**k))
                .map_or(Ok(true), |k| args::flag(args, k, true))?;
            Ok((
                args::flag(args, "follow", false)?,
                if get_checksum {
                    algorithm
                } else {
                    String::new()
                },
                mime,
            ))
        })();
        let (follow, algorithm, mime) = match options {
            Ok(options) => options,
            Err(e) => return Ok(e.into()),
        };
        let script = format!(
            "P={}\nFOLLOW={}\nALG={}\nMIME={}\n{SCRIPT}",
            shell_quote(&path),
            u8::from(follow),
            shell_quote(&algorithm),
            u8::from(mime)
        );
        let out = ctx.sh(&script).await?;
        let records = parse_report(&out.stdout);
        if find(&records, "absent").is_some() {
            return Ok(ModuleResult::ok().with("stat", json!({"exists": false})));
        }
        let Some(raw) = find(&records, "raw").and_then(|r| parse_raw(&r.rest, &path)) else {
            return Ok(ModuleResult::fail(format!(
                "Permission denied or stat failed on {path}: {}",
                out.stderr_text().trim()
            )));
        };
        let mut stat = raw;
        for key in ["readable", "writeable", "executable"] {
            stat.insert(key.into(), find(&records, key).is_some().into());
        }
        for key in [
            "lnk_target",
            "lnk_source",
            "checksum",
            "mimetype",
            "charset",
        ] {
            if let Some(r) = find(&records, key) {
                stat.insert(key.into(), r.rest.clone().into());
            }
        }
        if mime && !stat.contains_key("mimetype") {
            stat.insert("mimetype".into(), "unknown".into());
            stat.insert("charset".into(), "unknown".into());
        }
        Ok(ModuleResult::ok().with("stat", Value::Object(stat)))
    }
}

/// Builds Ansible's stat dictionary from the `raw` line (`%f|%u|%g|%s|%i|%d|%h|times|names|...`).
fn parse_raw(rest: &str, path: &str) -> Option<Map<String, Value>> {
    let f: Vec<&str> = rest.split('|').collect();
    if f.len() != 16 {
        return None;
    }
    let raw_mode = u32::from_str_radix(f[0], 16).ok()?;
    let num = |i: usize| f[i].parse::<u64>().ok();
    let time = |i: usize| f[i].parse::<f64>().ok();
    let kind = raw_mode & 0o170000;
    let bit = |mask: u32| raw_mode & mask != 0;
    let (major, minor) = (
        u64::from_str_radix(f[14], 16).ok()?,
        u64::from_str_radix(f[15], 16).ok()?,
    );
    let rdev = ((major & 0xfff) << 8)
        | (minor & 0xff)
        | ((minor & !0xff) << 12)
        | ((major & !0xfff) << 32);
    let stat = json!({
        "exists": true,
        "path": path,
        "mode": format!("{:04o}", raw_mode & 0o7777),
        "isdir": kind == 0o040000,
        "ischr": kind == 0o020000,
        "isblk": kind == 0o060000,
        "isreg": kind == 0o100000,
        "isfifo": kind == 0o010000,
        "islnk": kind == 0o120000,
        "issock": kind == 0o140000,
        "uid": num(1)?, "gid": num(2)?, "size": num(3)?, "inode": num(4)?, "dev": num(5)?,
        "nlink": num(6)?, "atime": time(7)?, "mtime": time(8)?, "ctime": time(9)?,
        "pw_name": f[10], "gr_name": f[11],
        "blocks": num(12)?, "block_size": num(13)?, "device_type": rdev,
        "wusr": bit(0o200), "rusr": bit(0o400), "xusr": bit(0o100),
        "wgrp": bit(0o020), "rgrp": bit(0o040), "xgrp": bit(0o010),
        "woth": bit(0o002), "roth": bit(0o004), "xoth": bit(0o001),
        "isuid": bit(0o4000), "isgid": bit(0o2000),
    });
    stat.as_object().cloned()
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::files::remote_file::sha1_hex;
    use crate::files::testkit::Harness;

    #[tokio::test]
    async fn reports_files_dirs_links_and_absence() {
        let h = Harness::new();
        let file = h.path("f");
        fs::write(&file, "hello\n").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o640)).unwrap();
        let r = h.run(&Stat, json!({"path": file})).await;
        assert!(!r.changed && !r.failed);
        let st = &r.to_json()["stat"];
        assert_eq!(st["exists"], true);
        assert_eq!(st["mode"], "0640");
        assert_eq!(
            (st["isreg"].clone(), st["isdir"].clone()),
            (json!(true), json!(false))
        );
        assert_eq!(st["size"], 6);
        assert_eq!(st["checksum"], sha1_hex(b"hello\n"));
        assert_eq!(st["pw_name"], "root");
        assert_eq!(
            (st["rusr"].clone(), st["roth"].clone()),
            (json!(true), json!(false))
        );
        let mtime = fs::metadata(&file).unwrap().modified().unwrap();
        let secs = mtime
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        assert!((st["mtime"].as_f64().unwrap() - secs).abs() < 0.001);

        std::os::unix::fs::symlink(&file, h.path("l")).unwrap();
        let r = h.run(&Stat, json!({"path": h.path("l")})).await;
        let st = &r.to_json()["stat"];
        assert_eq!(
            (st["islnk"].clone(), st["lnk_source"].clone()),
            (json!(true), json!(file))
        );
        let r = h
            .run(&Stat, json!({"path": h.path("l"), "follow": true}))
            .await;
        assert_eq!(r.to_json()["stat"]["isreg"], true);

        let r = h
            .run(
                &Stat,
                json!({"path": h.root().to_str(), "get_checksum": false}),
            )
            .await;
        assert_eq!(r.to_json()["stat"]["isdir"], true);
        let r = h.run(&Stat, json!({"path": h.path("missing")})).await;
        assert_eq!(r.to_json()["stat"], json!({"exists": false}));
    }
}
