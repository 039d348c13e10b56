//! `apt` and `package`: install, upgrade or remove Debian packages in one round trip. `apt.sh`
//! asks `dpkg-query` what is installed first, so a second run changes nothing; check mode reports
//! what would be installed or removed.

use async_trait::async_trait;

use super::common::{self, bool_or, choice, opt_bool, opt_f64, opt_list, opt_str, BadArg};
use crate::remote::{shell_quote, RemoteError};
use crate::{ArgSpec, Args, Module, ModuleCtx, ModuleResult};

const APT_SCRIPT: &str = include_str!("apt.sh");

/// `ansible.builtin.apt`.
pub struct Apt;
/// `ansible.builtin.package`: the host's package manager (apt only, for now).
pub struct Package;

#[async_trait]
impl Module for Apt {
    fn name(&self) -> &'static str {
        "apt"
    }
    fn spec(&self) -> ArgSpec {
        ArgSpec {
            free_form: false,
            params: &[
                "name",
                "pkg",
                "package",
                "state",
                "update_cache",
                "update-cache",
                "cache_valid_time",
                "purge",
                "autoremove",
                "install_recommends",
                "install-recommends",
                "force",
                "dpkg_options",
                "default_release",
                "lock_timeout",
                "allow_unauthenticated",
            ],
            required: &[],
        }
    }
    async fn run(&self, args: &Args, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError> {
        apt(args, ctx).await
    }
}

#[async_trait]
impl Module for Package {
    fn name(&self) -> &'static str {
        "package"
    }
    fn spec(&self) -> ArgSpec {
        ArgSpec {
            free_form: false,
            params: &["name", "state", "use"],
            required: &[&["name"]],
        }
    }
    async fn run(&self, args: &Args, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError> {
        match opt_str(args, "use").as_deref() {
            None | Some("auto") | Some("apt") => {}
            Some(other) => {
                return Ok(ModuleResult::fail(format!(
                    "Could not find a module for {other}."
                )))
            }
        }
        let mut args = args.clone();
        args.remove("use");
        apt(&args, ctx).await
    }
}

/// What an `apt` task asks for.
struct Request {
    names: Vec<String>,
    state: String,
    update_cache: bool,
    cache_valid_time: u64,
    purge: bool,
    autoremove: bool,
    recommends: Option<bool>,
    /// `default_release`, for `apt-get -t` and the candidate version.
    default_release: Option<String>,
    /// apt-get options for an install and for a removal, each word shell-quoted.
    install_opts: String,
    remove_opts: String,
}

fn request(args: &Args) -> Result<Request, BadArg> {
    let names = ["name", "pkg", "package"]
        .iter()
        .find_map(|k| opt_list(args, k))
        .unwrap_or_default();
    let state = choice(
        args,
        "state",
        &["absent", "build-dep", "latest", "present", "fixed"],
        Some("present"),
    )?
    .unwrap_or_default();
    if state == "build-dep" || state == "fixed" {
        return Err(BadArg(format!("state={state} is not supported by fleet")));
    }
    let cache_valid_time = opt_f64(args, "cache_valid_time")?.unwrap_or(0.0).max(0.0) as u64;
    let update_cache = opt_bool(args, "update_cache")?
        .or(opt_bool(args, "update-cache")?)
        .unwrap_or(false)
        // Ansible: cache_valid_time implies update_cache
        || cache_valid_time > 0;
    let default_release = opt_str(args, "default_release").filter(|r| !r.is_empty());
    let (install_opts, remove_opts) = apt_get_options(args, default_release.as_deref())?;
    Ok(Request {
        default_release,
        install_opts,
        remove_opts,
        names,
        state,
        update_cache,
        cache_valid_time,
        purge: bool_or(args, "purge", false)?,
        autoremove: bool_or(args, "autoremove", false)?,
        recommends: opt_bool(args, "install_recommends")?.or(opt_bool(args, "install-recommends")?),
    })
}

/// The apt-get options Ansible's `apt` adds: `dpkg_options` (default `force-confdef,
/// force-confold`) as `-o Dpkg::Options::=--OPT`, `lock_timeout` (default 60 s) as apt's own
/// wait for the dpkg lock, `force` as `--force-yes`; for an install also `-t default_release`
/// and `--allow-unauthenticated`.
fn apt_get_options(args: &Args, release: Option<&str>) -> Result<(String, String), BadArg> {
    let dpkg = opt_list(args, "dpkg_options")
        .unwrap_or_else(|| vec!["force-confdef".into(), "force-confold".into()]);
    let lock = opt_f64(args, "lock_timeout")?.unwrap_or(60.0) as i64;
    let mut common: Vec<String> = Vec::new();
    for option in dpkg.iter().filter(|o| !o.is_empty()) {
        common.extend([
            "-o".into(),
            shell_quote(&format!("Dpkg::Options::=--{option}")),
        ]);
    }
    common.extend(["-o".into(), format!("DPkg::Lock::Timeout={lock}")]);
    if bool_or(args, "force", false)? {
        common.push("--force-yes".into());
    }
    let mut install = common.clone();
    if let Some(release) = release {
        install.extend(["-t".into(), shell_quote(release)]);
    }
    if bool_or(args, "allow_unauthenticated", false)? {
        install.push("--allow-unauthenticated".into());
    }
    Ok((install.join(" "), common.join(" ")))
}

async fn apt(args: &Args, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError> {
    let req = match request(args) {
        Ok(r) => r,
        Err(e) => return Ok(e.into()),
    };
    if req.names.is_empty() && !req.update_cache {
        return Ok(ModuleResult::fail(
            "one of the following is required: name, package, upgrade, update_cache, deb",
        ));
    }
    let out = ctx.sh(&req.script(ctx.check_mode)).await?;
    let text = out.stdout_text();
    if out.rc != 0 {
        return Ok(ModuleResult::fail(format!(
            "apt script failed (rc {}): {}",
            out.rc,
            out.stderr_text().trim()
        )));
    }
    let mut result = script_report(&text);
    if req.names.is_empty() {
        result.data.retain(|k, _| k.starts_with("cache_"));
    }
    Ok(result)
}

impl Request {
    /// `apt.sh` behind the request's settings as shell variables (the package names are its
    /// positional parameters).
    fn script(&self, check_mode: bool) -> String {
        let specs: Vec<String> = self.names.iter().map(|n| shell_quote(n)).collect();
        format!(
            "set -- {}\nSTATE={} UPDATE={} VALID={} PURGE={} AUTOREMOVE={} RECOMMENDS={} CHECK={}\n\
             REL={} INSTALL_OPTS={} REMOVE_OPTS={}\n{APT_SCRIPT}",
            specs.join(" "),
            self.state,
            u8::from(self.update_cache),
            self.cache_valid_time,
            u8::from(self.purge),
            u8::from(self.autoremove),
            match self.recommends {
                Some(true) => "yes",
                Some(false) => "no",
                None => "''",
            },
            u8::from(check_mode),
            shell_quote(self.default_release.as_deref().unwrap_or("")),
            shell_quote(&self.install_opts),
            shell_quote(&self.remove_opts),
        )
    }
}

/// The result from what `apt.sh` printed: `key=value` status lines, then (when apt-get ran)
/// its output between `@@out@@`, `@@err@@` and `@@end@@` marks.
fn script_report(text: &str) -> ModuleResult {
    let (head, apt_output) = match text.split_once("@@out@@\n") {
        Some((h, rest)) => (h, Some(rest)),
        None => (text, None),
    };
    let mut result = ModuleResult::ok();
    let mut cache_updated = false;
    let mut cmd = String::new();
    for line in head.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        match key {
            "nopkgmgr" => {
                return ModuleResult::fail(
                    "no supported package manager found on the host (apt-get is missing)",
                )
            }
            "failed" => {
                let msg = head.split_once("failed=").map(|x| x.1).unwrap_or(value);
                result.failed = true;
                result.msg = Some(msg.trim_end().to_string());
                break;
            }
            "cache_updated" => cache_updated = value == "1",
            "cache_update_time" => {
                result = result.with("cache_update_time", value.parse::<u64>().unwrap_or(0))
            }
            "install" | "remove" => result.changed = true,
            "cmd" => cmd = value.to_string(),
            _ => {}
        }
    }
    result.changed |= cache_updated;
    result = result.with("cache_updated", cache_updated);
    match apt_output {
        Some(rest) => with_apt_get_output(result, rest, &cmd),
        None if !result.failed => result.with("stdout", "").with("stderr", ""),
        None => result,
    }
}

/// apt-get's stdout, stderr and exit status (`rest` starts after `@@out@@`); a failure is
/// reported as `'CMD' failed: STDERR` and changes nothing.
fn with_apt_get_output(result: ModuleResult, rest: &str, cmd: &str) -> ModuleResult {
    let (stdout, rest) = rest.split_once("@@err@@\n").unwrap_or((rest, ""));
    let (stderr, tail) = rest.split_once("@@end@@\n").unwrap_or((rest, ""));
    let rc: i32 = tail
        .lines()
        .find_map(|l| l.strip_prefix("rc="))
        .and_then(|r| r.parse().ok())
        .unwrap_or(1);
    let mut result = common::with_output(result, rc, stdout, stderr);
    if rc != 0 {
        result.failed = true;
        result.changed = false;
        result.msg = Some(format!("'{cmd}' failed: {stderr}"));
    } else {
        result.data.remove("rc");
    }
    result
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::super::testing::{run, run_with, text, Run};
    use super::*;

    /// Stand-ins for dpkg-query, apt-cache and apt-get keeping package state in files:
    /// `available/PKG` holds the candidate version, `installed/PKG` the installed one.
    const STAND_INS: &[(&str, &str)] = &[
        (
            "dpkg-query",
            include_str!("../../tests/stand-ins/dpkg-query"),
        ),
        ("apt-cache", include_str!("../../tests/stand-ins/apt-cache")),
        ("apt-get", include_str!("../../tests/stand-ins/apt-get")),
    ];

    fn stand_ins(dir: &Path) -> Run {
        use std::os::unix::fs::PermissionsExt;
        for sub in ["bin", "available", "installed"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        for (name, body) in STAND_INS {
            let bin = dir.join("bin").join(name);
            std::fs::write(&bin, body).unwrap();
            std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let path = format!(
            "{}:{}",
            dir.join("bin").display(),
            std::env::var("PATH").unwrap()
        );
        Run {
            env: vec![
                ("PATH".into(), path),
                ("FLEETUT_STATE".into(), dir.display().to_string()),
            ],
            ..Run::default()
        }
    }

    fn log(dir: &Path) -> String {
        std::fs::read_to_string(dir.join("log")).unwrap_or_default()
    }

    #[tokio::test]
    async fn apt_with_stand_ins_installs_once_upgrades_and_removes() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let opts = || stand_ins(d);
        std::fs::create_dir_all(d.join("available")).unwrap();
        std::fs::write(d.join("available/tool"), "1.0").unwrap();
        let args = json!({"name": ["tool"], "state": "present"});

        let r = run_with(
            &Apt,
            args.clone(),
            Run {
                check: true,
                ..opts()
            },
        )
        .await;
        assert!(r.changed && !r.failed, "{r:?}");
        assert_eq!(log(d), "", "check mode runs no apt-get");

        let r = run_with(&Apt, args.clone(), opts()).await;
        assert!(r.changed && !r.failed, "{r:?}");
        assert_eq!(text(&r, "stdout"), "Setting up tool\n");
        assert_eq!(
            std::fs::read_to_string(d.join("installed/tool")).unwrap(),
            "1.0"
        );

        let r = run_with(&Apt, args.clone(), opts()).await;
        assert!(!r.changed && !r.failed, "{r:?}");

        std::fs::write(d.join("available/tool"), "2.0").unwrap();
        let r = run_with(
            &Package,
            json!({"name": "tool", "state": "present"}),
            opts(),
        )
        .await;
        assert!(!r.changed, "present does not upgrade");
        let r = run_with(&Apt, json!({"name": "tool", "state": "latest"}), opts()).await;
        assert!(r.changed);
        assert_eq!(
            std::fs::read_to_string(d.join("installed/tool")).unwrap(),
            "2.0"
        );

        let r = run_with(
            &Apt,
            json!({"name": "tool", "state": "absent", "purge": true}),
            opts(),
        )
        .await;
        assert!(r.changed && !d.join("installed/tool").exists());
        assert!(
            log(d).ends_with("remove tool\n") && log(d).contains("--purge"),
            "{}",
            log(d)
        );
        let r = run_with(&Apt, json!({"name": "tool", "state": "absent"}), opts()).await;
        assert!(!r.changed);
    }

    #[tokio::test]
    async fn apt_with_stand_ins_reports_unknown_packages_and_cache_updates() {
        let dir = tempfile::tempdir().unwrap();
        let opts = || stand_ins(dir.path());
        let r = run_with(&Apt, json!({"name": "fleetut-nope"}), opts()).await;
        assert!(r.failed);
        assert_eq!(
            r.msg.as_deref(),
            Some("No package matching 'fleetut-nope' is available")
        );
        let r = run_with(&Apt, json!({"update_cache": true}), opts()).await;
        assert!(r.changed && r.data["cache_updated"] == json!(true), "{r:?}");
        assert!(log(dir.path()).contains("apt-get update"));
        if Path::new("/var/lib/apt/lists").exists() {
            let r = run_with(
                &Apt,
                json!({"update_cache": true, "cache_valid_time": 400_000_000}),
                opts(),
            )
            .await;
            assert!(
                !r.changed && r.data["cache_updated"] == json!(false),
                "{r:?}"
            );
        }
    }

    #[tokio::test]
    async fn apt_reads_this_machines_dpkg_state() {
        if !Path::new("/usr/bin/dpkg-query").exists() {
            return;
        }
        let r = run(&Apt, json!({"name": "coreutils"})).await;
        assert!(!r.changed && !r.failed, "installed package is ok: {r:?}");
        let r = run(
            &Apt,
            json!({"name": "fleetut-never-installed", "state": "absent"}),
        )
        .await;
        assert!(!r.changed && !r.failed, "{r:?}");
    }
}
