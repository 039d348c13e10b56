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

const GATHER_SCRIPT: &str = concat!(include_str!("setup.sh"), include_str!("facts_more.sh"));

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
        let text = out.stdout_text();
        let raw = parse_lines(&text);
        // the host's clock, read anyway: `command` on this connection needs no `date` of its own
        if let (None, Some(local)) = (
            ctx.remote.clock_offset(),
            raw.get("date").and_then(|d| distro::local_micros(d)),
        ) {
            ctx.remote
                .set_clock_offset(local - super::common::controller_micros());
        }
        if raw.contains_key("facts_d") {
            // `*.fact` files (scripts to run, INI or JSON to read): Ansible's setup module
            // reads them, with every other fact
            return Ok(ModuleResult::defer_to_ansible(
                "local facts in /etc/ansible/facts.d",
            ));
        }
        let mut facts = facts(&raw);
        facts.extend(super::facts_more::facts(&raw, &text));
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
            // Ansible's ping raises an exception here; 2.19 words a module's exception so
            return Ok(ModuleResult::fail("Task failed: Module failed: boom").with(
                "exception",
                "Traceback (most recent call last):\nException: boom\n",
            ));
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

/// Ansible facts (`ansible_` prefixed) from the gathered raw items, in Ansible's order.
fn facts(raw: &BTreeMap<String, String>) -> Map<String, Value> {
    let mut f = Facts {
        raw,
        map: Map::new(),
    };
    f.names_and_kernel();
    f.distribution();
    f.processors_and_memory();
    f.network_and_python();
    f.user();
    f.environment_and_managers();
    f.map
}

/// The facts being built from the raw items; each group of facts is one method.
struct Facts<'a> {
    raw: &'a BTreeMap<String, String>,
    map: Map<String, Value>,
}

impl Facts<'_> {
    fn put(&mut self, k: &str, v: Value) {
        self.map.insert(format!("ansible_{k}"), v);
    }

    /// A raw item, empty when the script did not report it.
    fn get(&self, k: &str) -> String {
        self.raw.get(k).cloned().unwrap_or_default()
    }

    fn num(&self, k: &str) -> Option<u64> {
        self.get(k).trim().parse::<u64>().ok()
    }

    /// Host names (the domain from the FQDN), kernel, machine, system and FIPS mode.
    fn names_and_kernel(&mut self) {
        let nodename = self.get("nodename");
        let fqdn = self
            .raw
            .get("fqdn")
            .filter(|s| !s.is_empty())
            .cloned()
            .unwrap_or_else(|| nodename.clone());
        self.put("nodename", json!(nodename));
        self.put("hostname", json!(nodename.split('.').next().unwrap_or("")));
        self.put(
            "domain",
            json!(fqdn.split_once('.').map(|x| x.1).unwrap_or("")),
        );
        self.put("fqdn", json!(fqdn));
        self.put("kernel", json!(self.get("kernel")));
        self.put("kernel_version", json!(self.get("kernel_version")));
        self.put("machine", json!(self.get("machine")));
        self.put("architecture", json!(self.get("machine")));
        self.put("system", json!(self.get("system")));
        // Ansible: fips is True when /proc/sys/crypto/fips_enabled holds 1, else False
        self.put("fips", json!(self.get("fips").trim() == "1"));
    }

    fn distribution(&mut self) {
        let dist = distro::Distribution::from_raw(self.raw);
        self.put("distribution", json!(dist.name));
        self.put("distribution_version", json!(dist.version));
        self.put("distribution_major_version", json!(dist.major_version()));
        // Debian's minor release is in /etc/debian_version (`12.11`), elsewhere in the version
        let minor = match self.raw.get("file.debian_version") {
            Some(v) if dist.os_family == "Debian" => v.split('.').nth(1).map(str::to_string),
            _ => dist.version.split('.').nth(1).map(str::to_string),
        };
        if let Some(minor) =
            minor.filter(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()))
        {
            self.put("distribution_minor_version", json!(minor));
        }
        self.put("distribution_release", json!(dist.release));
        self.put("os_family", json!(dist.os_family));
    }

    /// Sockets, cores, threads and usable CPUs (`Cpus_allowed_list` first, as `nproc`), and
    /// memory and swap in MiB.
    fn processors_and_memory(&mut self) {
        let vcpus = self.num("cpu.vcpus").unwrap_or(1);
        let sockets = self.num("cpu.sockets").filter(|n| *n > 0).unwrap_or(1);
        let cores = self.num("cpu.cores").filter(|n| *n > 0).unwrap_or(1);
        let threads = (vcpus / (sockets * cores)).max(1);
        self.put("processor_count", json!(sockets));
        self.put("processor_cores", json!(cores));
        self.put("processor_threads_per_core", json!(threads));
        self.put("processor_vcpus", json!(threads * cores * sockets));
        let allowed = self.raw.get("cpu.allowed").and_then(|l| cpu_list_len(l));
        let nproc = allowed.or(self.num("cpu.nproc")).unwrap_or(vcpus);
        self.put("processor_nproc", json!(nproc));
        for (fact, key) in [
            ("memtotal_mb", "mem.MemTotal"),
            ("memfree_mb", "mem.MemFree"),
            ("swaptotal_mb", "mem.SwapTotal"),
            ("swapfree_mb", "mem.SwapFree"),
        ] {
            self.put(fact, json!(self.num(key).unwrap_or(0) / 1024));
        }
    }

    fn network_and_python(&mut self) {
        let net = distro::network(self.raw);
        self.put("default_ipv4", net.default_ipv4);
        self.put("all_ipv4_addresses", json!(net.all_ipv4));
        self.put("interfaces", json!(net.interfaces));
        let (python, python_version) = super::python_facts::facts(self.raw);
        self.put("python", python);
        if let Some(version) = python_version {
            self.put("python_version", json!(version));
        }
    }

    /// The connecting user: name, ids, and the GECOS, home and shell fields of its passwd line.
    fn user(&mut self) {
        let passwd: Vec<String> = self
            .get("user.passwd")
            .split(':')
            .map(str::to_string)
            .collect();
        let field = |i: usize| passwd.get(i).cloned().unwrap_or_default();
        self.put("user_id", json!(self.get("user.id")));
        self.put("user_uid", json!(self.num("user.uid").unwrap_or(0)));
        self.put("user_gid", json!(self.num("user.gid").unwrap_or(0)));
        self.put("user_gecos", json!(field(4)));
        self.put("user_dir", json!(field(5)));
        self.put("user_shell", json!(field(6)));
    }

    /// The environment, the date and time, the package and service managers, and the LSB facts.
    fn environment_and_managers(&mut self) {
        let env: Map<String, Value> = self
            .raw
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("env.")?.to_string(), json!(unescape(v)))))
            .collect();
        self.put("env", Value::Object(env));
        self.put("date_time", distro::date_time(&self.get("date")));
        self.put("pkg_mgr", json!(pkg_mgr(&self.get("pkg_mgr"))));
        self.put("service_mgr", json!(service_mgr(self.raw)));
        if let Some(lsb) = distro::lsb(self.raw) {
            self.put("lsb", lsb);
        }
    }
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
    use serde_json::json;

    use super::super::testing::run;
    use super::*;

    fn sh(cmd: &str) -> String {
        let out = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(cmd)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// This machine's facts, gathered by the real script.
    async fn gathered() -> Map<String, Value> {
        let r = run(&Setup, json!({})).await;
        assert!(!r.changed && !r.failed);
        r.data["ansible_facts"].as_object().unwrap().clone()
    }

    #[tokio::test]
    async fn setup_reports_this_machines_facts() {
        let f = gathered().await;
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
    }

    /// The distribution (on a Debian host, its files' own words) and the default route.
    #[tokio::test]
    async fn setup_reports_this_machines_distribution_and_route() {
        let f = gathered().await;
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
    }

    /// Issue 18.7: facts setup.sh now reads without a process of their own are still the
    /// commands' answers: nproc (sched_getaffinity), getent passwd, and lsb_release -a
    /// (Debian's POSIX one is not run but derived from os-release); and the interpreter's.
    #[tokio::test]
    async fn facts_read_without_a_process_are_the_commands_answers() {
        let f = gathered().await;
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
            assert_eq!(f["ansible_lsb"], Value::Object(lsb_release_a()));
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

    /// `ansible_lsb` as Ansible builds it from `lsb_release -a`.
    fn lsb_release_a() -> Map<String, Value> {
        let mut lsb = Map::new();
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
        lsb
    }

    /// Issue 18.7: `Cpus_allowed_list` counted.
    #[test]
    fn cpu_lists_are_counted() {
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
                "ansible_memory_mb",
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
