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
        let raw = parse_lines(&out.stdout_text());
        // the host's clock, read anyway: `command` on this connection needs no `date` of its own
        if let (None, Some(local)) = (
            ctx.remote.clock_offset(),
            raw.get("date").and_then(|d| distro::local_micros(d)),
        ) {
            ctx.remote
                .set_clock_offset(local - super::common::controller_micros());
        }
        let mut facts = facts(&raw);
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
    // Ansible: fips is True when /proc/sys/crypto/fips_enabled holds 1, else False
    put("fips", json!(get("fips").trim() == "1"));

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
    let allowed = raw.get("cpu.allowed").and_then(|l| cpu_list_len(l));
    put(
        "processor_nproc",
        json!(allowed.or(num("cpu.nproc")).unwrap_or(vcpus)),
    );
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

    let (python, python_version) = super::python_facts::facts(raw);
    put("python", python);
    if let Some(version) = python_version {
        put("python_version", json!(version));
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

/// How many CPUs a list like `0-3,8,10-11` (`Cpus_allowed_list`) names.
fn cpu_list_len(list: &str) -> Option<u64> {
    let mut n = 0;
    for part in list.trim().split(',') {
        n += match part.split_once('-') {
            Some((a, b)) => b.parse::<u64>().ok()?.checked_sub(a.parse().ok()?)? + 1,
            None => part.parse::<u64>().map(|_| 1).ok()?,
        };
    }
    Some(n)
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
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::super::distro::Distribution;
    use super::super::testing::run;
    use super::*;

    fn os_release(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// os-release items and the expected (distribution, version, release, os_family).
    type DistroCase = (
        &'static [(&'static str, &'static str)],
        (&'static str, &'static str, &'static str, &'static str),
    );

    #[test]
    fn distributions_are_named_like_ansible() {
        let cases: &[DistroCase] = &[
            (
                &[
                    ("osr.ID", "ubuntu"),
                    ("osr.ID_LIKE", "debian"),
                    ("osr.VERSION_ID", "22.04"),
                    ("osr.VERSION_CODENAME", "jammy"),
                    ("file.debian_version", "bookworm/sid"),
                ],
                ("Ubuntu", "22.04", "jammy", "Debian"),
            ),
            (
                &[
                    ("osr.ID", "centos"),
                    ("osr.ID_LIKE", "rhel fedora"),
                    ("osr.VERSION_ID", "7"),
                    ("osr.VERSION", "7 (Core)"),
                    (
                        "file.centos-release",
                        "CentOS Linux release 7.9.2009 (Core)",
                    ),
                ],
                ("CentOS", "7.9", "Core", "RedHat"),
            ),
            (
                &[
                    ("osr.ID", "rocky"),
                    ("osr.ID_LIKE", "rhel centos fedora"),
                    ("osr.VERSION_ID", "9.3"),
                    ("osr.VERSION", "9.3 (Blue Onyx)"),
                ],
                ("Rocky", "9.3", "Blue Onyx", "RedHat"),
            ),
            (
                &[
                    ("osr.ID", "alpine"),
                    ("osr.VERSION_ID", "3.19.1"),
                    ("file.alpine-release", "3.19.1"),
                ],
                ("Alpine", "3.19.1", "NA", "Alpine"),
            ),
            (
                &[
                    ("osr.ID", "opensuse-leap"),
                    ("osr.ID_LIKE", "suse opensuse"),
                    ("osr.VERSION_ID", "15.5"),
                ],
                ("openSUSE Leap", "15.5", "NA", "Suse"),
            ),
            (
                &[("osr.ID", "arch")],
                ("Archlinux", "NA", "NA", "Archlinux"),
            ),
            (
                &[
                    ("osr.ID", "debian"),
                    ("osr.VERSION_ID", "12"),
                    ("osr.PRETTY_NAME", "Debian GNU/Linux 12 (bookworm)"),
                    ("file.debian_version", "12.5"),
                ],
                ("Debian", "12.5", "bookworm", "Debian"),
            ),
            (
                &[
                    ("osr.ID", "mydistro"),
                    ("osr.ID_LIKE", "ubuntu debian"),
                    ("osr.VERSION_ID", "1"),
                ],
                ("Mydistro", "1", "NA", "Debian"),
            ),
        ];
        for (raw, (name, version, release, family)) in cases {
            let d = Distribution::from_raw(&os_release(raw));
            assert_eq!(
                (
                    d.name.as_str(),
                    d.version.as_str(),
                    d.release.as_str(),
                    d.os_family.as_str()
                ),
                (*name, *version, *release, *family),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn proc_net_route_gives_the_gateway() {
        let raw = os_release(&[
            ("route.proc", "eth0 0102000A"),
            ("addr.eth0", "10.0.2.15/24"),
        ]);
        let net = super::super::distro::network(&raw);
        assert_eq!(net.default_ipv4["gateway"], json!("10.0.2.1"));
        assert_eq!(net.default_ipv4["network"], json!("10.0.2.0"));
        assert_eq!(net.default_ipv4["broadcast"], json!("10.0.2.255"));
    }

    fn sh(cmd: &str) -> String {
        let out = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(cmd)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    #[tokio::test]
    async fn setup_reports_this_machines_facts() {
        let r = run(&Setup, json!({})).await;
        assert!(!r.changed && !r.failed);
        let f = r.data["ansible_facts"].as_object().unwrap();
        assert_eq!(f["ansible_system"], json!(sh("uname -s")));
        assert_eq!(f["ansible_architecture"], json!(sh("uname -m")));
        assert_eq!(f["ansible_kernel"], json!(sh("uname -r")));
        assert_eq!(f["ansible_nodename"], json!(sh("uname -n")));
        assert_eq!(f["ansible_user_id"], json!(sh("id -un")));
        // issue 18: ansible_fips, from the kernel's switch (absent: False)
        let fips = std::fs::read_to_string("/proc/sys/crypto/fips_enabled").unwrap_or_default();
        assert_eq!(f["ansible_fips"], json!(fips.trim() == "1"));
        assert_eq!(
            f["ansible_processor_vcpus"],
            json!(sh("grep -c ^processor /proc/cpuinfo")
                .parse::<u64>()
                .unwrap())
        );
        let mem_kb: u64 = sh("awk '/^MemTotal/ {print $2}' /proc/meminfo")
            .parse()
            .unwrap();
        assert_eq!(f["ansible_memtotal_mb"], json!(mem_kb / 1024));
        assert_eq!(
            f["ansible_env"]["PATH"],
            json!(std::env::var("PATH").unwrap())
        );
        let epoch: i64 = sh("date +%s").parse().unwrap();
        let fact_epoch: i64 = f["ansible_date_time"]["epoch"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((epoch - fact_epoch).abs() < 5);
        let id = sh(". /etc/os-release; echo $ID");
        if id == "debian" {
            assert_eq!(f["ansible_distribution"], json!("Debian"));
            assert_eq!(f["ansible_os_family"], json!("Debian"));
            assert_eq!(
                f["ansible_distribution_version"],
                json!(sh("cat /etc/debian_version"))
            );
            assert_eq!(
                f["ansible_distribution_release"],
                json!(sh(". /etc/os-release; echo $VERSION_CODENAME"))
            );
            assert_eq!(
                f["ansible_distribution_major_version"],
                json!(sh(". /etc/os-release; echo $VERSION_ID"))
            );
            assert_eq!(f["ansible_pkg_mgr"], json!("apt"));
        }
        let route = sh("ip -4 route get 8.8.8.8 2>/dev/null | head -n1");
        if let Some(dev) = route.split_whitespace().skip_while(|w| *w != "dev").nth(1) {
            assert_eq!(f["ansible_default_ipv4"]["interface"], json!(dev));
            let addr = f["ansible_default_ipv4"]["address"].as_str().unwrap();
            assert!(f["ansible_all_ipv4_addresses"]
                .as_array()
                .unwrap()
                .contains(&json!(addr)));
        }
        // issue 18.7: facts setup.sh now reads without a process of their own are still the
        // commands' answers: nproc (sched_getaffinity), getent passwd, and lsb_release -a
        // (Debian's POSIX one is not run but derived from os-release)
        assert_eq!(
            f["ansible_processor_nproc"],
            json!(sh("nproc").parse::<u64>().unwrap())
        );
        let pw: Vec<String> = sh("getent passwd $(id -un)")
            .split(':')
            .map(str::to_string)
            .collect();
        assert_eq!(f["ansible_user_dir"], json!(pw[5]));
        assert_eq!(f["ansible_user_shell"], json!(pw[6]));
        if !sh("command -v lsb_release").is_empty() {
            let mut lsb = serde_json::Map::new();
            for line in sh("lsb_release -a 2>/dev/null").lines() {
                let (k, v) = line.split_once(':').unwrap();
                let key = match k {
                    "Distributor ID" => "id",
                    "Description" => "description",
                    "Release" => "release",
                    "Codename" => "codename",
                    _ => continue,
                };
                lsb.insert(key.into(), json!(v.trim()));
            }
            let major = lsb["release"].as_str().unwrap().split('.').next().unwrap();
            lsb.insert("major_release".into(), json!(major));
            assert_eq!(f["ansible_lsb"], Value::Object(lsb));
        }
        if sh("command -v python3").is_empty() {
            assert_eq!(f["ansible_python"], json!({}));
        } else {
            let v = sh("python3 -c 'import platform; print(platform.python_version())'");
            assert_eq!(f["ansible_python_version"], json!(v));
            // what Ansible's own setup reads from the interpreter, asked of the interpreter
            let info =
                sh("python3 -c 'import sys; print(sys.executable); print(list(sys.version_info))'");
            let (exe, list) = info.split_once('\n').unwrap();
            assert_eq!(f["ansible_python"]["executable"], json!(exe));
            let list: Value = serde_json::from_str(&list.replace('\'', "\"")).unwrap();
            assert_eq!(f["ansible_python"]["version_info"], list);
        }
    }

    /// Issue 18.7: `lsb_release -a` of Debian's POSIX script, derived from os-release, and
    /// `Cpus_allowed_list` counted.
    #[test]
    fn lsb_from_os_release_and_cpu_lists() {
        let lsb = |pairs: &[(&str, &str)]| {
            let mut raw = os_release(pairs);
            raw.insert("lsbr.from_os_release".into(), "1".into());
            distro::lsb(&raw).unwrap()
        };
        assert_eq!(
            lsb(&[
                ("osr.ID", "debian"),
                ("osr.NAME", "Debian GNU/Linux"),
                ("osr.PRETTY_NAME", "Debian GNU/Linux 12 (bookworm)"),
                ("osr.VERSION_ID", "12"),
                ("osr.VERSION_CODENAME", "bookworm"),
            ]),
            json!({"id": "Debian", "description": "Debian GNU/Linux 12 (bookworm)",
                   "release": "12", "codename": "bookworm", "major_release": "12"})
        );
        // NAME in another case wins; what is missing is n/a
        assert_eq!(
            lsb(&[("osr.ID", "linuxmint"), ("osr.NAME", "LinuxMint")]),
            json!({"id": "LinuxMint", "description": "n/a", "release": "n/a",
                   "codename": "n/a", "major_release": "n/a"})
        );
        assert_eq!(cpu_list_len("0-3,8,10-11"), Some(7));
        assert_eq!(cpu_list_len("0"), Some(1));
        assert_eq!(cpu_list_len("3-1"), None);
    }

    #[tokio::test]
    async fn setup_filter_and_ping() {
        let r = run(&Setup, json!({"filter": ["ansible_os_family", "*_mb"]})).await;
        let mut keys: Vec<&String> = r.data["ansible_facts"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "ansible_memfree_mb",
                "ansible_memtotal_mb",
                "ansible_os_family",
                "ansible_swapfree_mb",
                "ansible_swaptotal_mb"
            ]
        );
        let r = run(&Ping, json!({})).await;
        assert_eq!(r.data["ping"], json!("pong"));
        let r = run(&Ping, json!({"data": "crash"})).await;
        assert!(r.failed);
    }
}
