//! `setup` (fact gathering) and `ping`.
//!
//! One shell script (`setup.sh`) collects everything in a single round trip as `key=value` lines;
//! [`facts`] turns them into Ansible's `ansible_*` facts, including its distribution and OS family
//! naming. The executor exposes them as top-level variables and, unprefixed, under `ansible_facts`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::common::{opt_list, opt_str};
use super::distro;
use crate::remote::RemoteError;
use crate::{ArgSpec, Args, Module, ModuleCtx, ModuleResult};

const GATHER_SCRIPT: &str = include_str!("setup.sh");

/// `ansible.builtin.setup`.
pub struct Setup;
/// `ansible.builtin.ping`.
pub struct Ping;

#[async_trait]
impl Module for Setup {
    fn name(&self) -> &'static str {
        "setup"
    }
    fn spec(&self) -> ArgSpec {
        ArgSpec {
            free_form: false,
            params: &["filter", "gather_subset", "gather_timeout", "fact_path"],
            required: &[],
        }
    }
    async fn run(&self, args: &Args, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError> {
        let out = ctx.sh(GATHER_SCRIPT).await?;
        let mut facts = facts(&parse_lines(&out.stdout_text()));
        let subset = opt_list(args, "gather_subset").unwrap_or_else(|| vec!["all".into()]);
        facts.insert("ansible_gather_subset".into(), json!(subset));
        facts.insert("module_setup".into(), Value::Bool(true));
        if let Some(patterns) = opt_list(args, "filter").filter(|p| !p.is_empty()) {
            let mut set = globset::GlobSetBuilder::new();
            for p in &patterns {
                match globset::Glob::new(p) {
                    Ok(g) => {
                        set.add(g);
                    }
                    Err(e) => return Ok(ModuleResult::fail(format!("bad filter {p}: {e}"))),
                }
            }
            let set = set.build().expect("globs built");
            facts.retain(|k, _| set.is_match(k));
        }
        Ok(ModuleResult::ok().with("ansible_facts", Value::Object(facts)))
    }
}

#[async_trait]
impl Module for Ping {
    fn name(&self) -> &'static str {
        "ping"
    }
    fn spec(&self) -> ArgSpec {
        ArgSpec {
            free_form: false,
            params: &["data"],
            required: &[],
        }
    }
    async fn run(&self, args: &Args, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError> {
        let data = opt_str(args, "data").unwrap_or_else(|| "pong".into());
        if data == "crash" {
            return Ok(ModuleResult::fail("boom"));
        }
        let out = ctx.sh("echo pong").await?;
        if out.rc != 0 || out.stdout_text().trim() != "pong" {
            return Ok(ModuleResult::fail(format!(
                "ping failed (rc {}): {}",
                out.rc,
                out.stderr_text().trim()
            )));
        }
        Ok(ModuleResult::ok().with("ping", data))
    }
}

/// The `key=value` lines of the gather script (later keys win).
fn parse_lines(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Ansible facts (`ansible_` prefixed) from the gathered raw items.
fn facts(raw: &BTreeMap<String, String>) -> Map<String, Value> {
    let get = |k: &str| raw.get(k).cloned().unwrap_or_default();
    let mut f = Map::new();
    let mut put = |k: &str, v: Value| {
        f.insert(format!("ansible_{k}"), v);
    };

    let nodename = get("nodename");
    let fqdn = raw
        .get("fqdn")
        .filter(|s| !s.is_empty())
        .cloned()
        .unwrap_or_else(|| nodename.clone());
    put("nodename", json!(nodename));
    put("hostname", json!(nodename.split('.').next().unwrap_or("")));
    put(
        "domain",
        json!(fqdn.split_once('.').map(|x| x.1).unwrap_or("")),
    );
    put("fqdn", json!(fqdn));
    put("kernel", json!(get("kernel")));
    put("kernel_version", json!(get("kernel_version")));
    put("machine", json!(get("machine")));
    put("architecture", json!(get("machine")));
    put("system", json!(get("system")));

    let dist = distro::Distribution::from_raw(raw);
    put("distribution", json!(dist.name));
    put("distribution_version", json!(dist.version));
    put("distribution_major_version", json!(dist.major_version()));
    put("distribution_release", json!(dist.release));
    put("os_family", json!(dist.os_family));

    let num = |k: &str| get(k).trim().parse::<u64>().ok();
    let vcpus = num("cpu.vcpus").unwrap_or(1);
    let sockets = num("cpu.sockets").filter(|n| *n > 0).unwrap_or(1);
    let cores = num("cpu.cores").filter(|n| *n > 0).unwrap_or(1);
    let threads = (vcpus / (sockets * cores)).max(1);
    put("processor_count", json!(sockets));
    put("processor_cores", json!(cores));
    put("processor_threads_per_core", json!(threads));
    put("processor_vcpus", json!(threads * cores * sockets));
    put("processor_nproc", json!(num("cpu.nproc").unwrap_or(vcpus)));
    for (fact, key) in [
        ("memtotal_mb", "mem.MemTotal"),
        ("memfree_mb", "mem.MemFree"),
        ("swaptotal_mb", "mem.SwapTotal"),
        ("swapfree_mb", "mem.SwapFree"),
    ] {
        put(fact, json!(num(key).unwrap_or(0) / 1024));
    }

    let net = distro::network(raw);
    put("default_ipv4", net.default_ipv4);
    put("all_ipv4_addresses", json!(net.all_ipv4));
    put("interfaces", json!(net.interfaces));

    match (raw.get("python.executable"), raw.get("python.version")) {
        (Some(exe), Some(version)) => {
            let parts: Vec<&str> = version.split_whitespace().collect();
            let n = |i: usize| {
                parts
                    .get(i)
                    .and_then(|p| p.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            let level = parts.get(3).copied().unwrap_or("final");
            put(
                "python",
                json!({
                    "executable": exe, "has_sslcontext": true, "type": "cpython",
                    "version": {"major": n(0), "minor": n(1), "micro": n(2),
                                "releaselevel": level, "serial": n(4)},
                    "version_info": [n(0), n(1), n(2), level, n(4)],
                }),
            );
            put(
                "python_version",
                json!(format!("{}.{}.{}", n(0), n(1), n(2))),
            );
        }
        _ => put("python", json!({})),
    }

    let passwd: Vec<String> = get("user.passwd").split(':').map(str::to_string).collect();
    let field = |i: usize| passwd.get(i).cloned().unwrap_or_default();
    put("user_id", json!(get("user.id")));
    put("user_uid", json!(num("user.uid").unwrap_or(0)));
    put("user_gid", json!(num("user.gid").unwrap_or(0)));
    put("user_gecos", json!(field(4)));
    put("user_dir", json!(field(5)));
    put("user_shell", json!(field(6)));

    let env: Map<String, Value> = raw
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("env.")?.to_string(), json!(unescape(v)))))
        .collect();
    put("env", Value::Object(env));
    put("date_time", distro::date_time(&get("date")));
    put("pkg_mgr", json!(pkg_mgr(&get("pkg_mgr"))));
    put("service_mgr", json!(service_mgr(raw)));
    if let Some(lsb) = distro::lsb(raw) {
        put("lsb", lsb);
    }
    f
}

fn unescape(v: &str) -> String {
    let mut out = String::new();
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        match (c, chars.clone().next()) {
            ('\\', Some('n')) => {
                out.push('\n');
                chars.next();
            }
            ('\\', Some('\\')) => {
                out.push('\\');
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

fn pkg_mgr(found: &str) -> &str {
    match found {
        "apt-get" => "apt",
        "" => "unknown",
        other => other,
    }
}

/// Ansible's service manager detection: PID 1's name unless it is a generic `init` or a shell,
/// then systemd, openrc, sysvinit, else `service`.
fn service_mgr(raw: &BTreeMap<String, String>) -> String {
    let proc1 = raw.get("proc1").map(|p| {
        let p = p.trim();
        p.rsplit('/').next().unwrap_or(p).to_string()
    });
    let proc1 = proc1.filter(|p| !p.is_empty() && p != "init" && !p.ends_with("sh"));
    if let Some(p) = proc1 {
        return match p.as_str() {
            "runit-init" => "runit".into(),
            "openrc-init" => "openrc".into(),
            _ => p,
        };
    }
    if raw.contains_key("systemd_running") {
        "systemd".into()
    } else if raw.contains_key("openrc") {
        "openrc".into()
    } else if raw.get("init_link").is_some_and(|l| l.ends_with("systemd")) {
        "systemd".into()
    } else if raw.contains_key("sysvinit") {
        "sysvinit".into()
    } else {
        "service".into()
    }
}

#[cfg(test)]
#[path = "setup_tests.rs"]
mod tests;
