//! Interpreting gathered host data the way Ansible names it: distribution and OS family from
//! `/etc/os-release`, the default IPv4 route, `ansible_date_time`, `ansible_lsb`.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use serde_json::{json, Map, Value};

/// Ansible's `OS_FAMILY_MAP` (distribution name → family).
const OS_FAMILY: &[(&str, &[&str])] = &[
    (
        "RedHat",
        &[
            "RedHat",
            "RHEL",
            "Fedora",
            "CentOS",
            "Scientific",
            "SLC",
            "Ascendos",
            "CloudLinux",
            "PSBM",
            "OracleLinux",
            "OVS",
            "OEL",
            "Amazon",
            "Virtuozzo",
            "XenServer",
            "Alibaba",
            "EulerOS",
            "openEuler",
            "AlmaLinux",
            "Rocky",
            "TencentOS",
            "EuroLinux",
        ],
    ),
    (
        "Debian",
        &[
            "Debian",
            "Ubuntu",
            "Raspbian",
            "Neon",
            "KDE neon",
            "Linux Mint",
            "SteamOS",
            "Devuan",
            "Kali",
            "Cumulus Linux",
            "Pop!_OS",
            "Parrot",
            "Pardus GNU/Linux",
            "Uos",
            "Deepin",
            "OSMC",
        ],
    ),
    (
        "Suse",
        &[
            "SuSE",
            "SLES",
            "SLED",
            "openSUSE",
            "openSUSE Tumbleweed",
            "SLES_SAP",
            "SUSE_LINUX",
            "openSUSE Leap",
            "ALP-Dolomite",
        ],
    ),
    ("Archlinux", &["Archlinux", "Antergos", "Manjaro"]),
    ("Mandrake", &["Mandrake", "Mandriva"]),
    ("Gentoo", &["Gentoo", "Funtoo"]),
    ("Alpine", &["Alpine"]),
    ("Altlinux", &["Altlinux"]),
    ("ClearLinux", &["Clear Linux OS", "Clear Linux Mix"]),
    ("Slackware", &["Slackware"]),
];

/// os-release `ID` → Ansible's distribution name, where it differs from capitalizing the ID.
const DIST_NAMES: &[(&str, &str)] = &[
    ("rhel", "RedHat"),
    ("redhat", "RedHat"),
    ("centos", "CentOS"),
    ("arch", "Archlinux"),
    ("archarm", "Archlinux"),
    ("amzn", "Amazon"),
    ("ol", "OracleLinux"),
    ("almalinux", "AlmaLinux"),
    ("linuxmint", "Linux Mint"),
    ("raspbian", "Debian"),
    ("pop", "Pop!_OS"),
    ("opensuse", "openSUSE"),
    ("opensuse-leap", "openSUSE Leap"),
    ("opensuse-tumbleweed", "openSUSE Tumbleweed"),
    ("sles", "SLES"),
    ("sled", "SLED"),
    ("sles_sap", "SLES_SAP"),
    ("openeuler", "openEuler"),
    ("euleros", "EulerOS"),
    ("clear-linux-os", "ClearLinux"),
    ("neon", "KDE neon"),
];

/// The distribution facts of one host.
#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    /// `ansible_distribution`.
    pub name: String,
    /// `ansible_distribution_version`.
    pub version: String,
    /// `ansible_distribution_release` (codename).
    pub release: String,
    /// `ansible_os_family`.
    pub os_family: String,
}

impl Distribution {
    /// Reads `osr.*` (os-release) and `file.*` (release files) items.
    pub fn from_raw(raw: &BTreeMap<String, String>) -> Distribution {
        let osr = |k: &str| raw.get(&format!("osr.{k}")).cloned().unwrap_or_default();
        let file = |k: &str| raw.get(&format!("file.{k}")).map(|s| s.trim().to_string());
        let id = osr("ID").to_lowercase();
        let name = if id.is_empty() {
            if file("alpine-release").is_some() {
                "Alpine".to_string()
            } else {
                raw.get("system").cloned().unwrap_or_else(|| "NA".into())
            }
        } else if let Some((_, n)) = DIST_NAMES.iter().find(|(i, _)| *i == id) {
            n.to_string()
        } else {
            capitalize(&id)
        };
        let starts_digit = |s: &String| s.starts_with(|c: char| c.is_ascii_digit());
        let version = match id.as_str() {
            "debian" => file("debian_version").filter(starts_digit),
            "centos" => file("centos-release").and_then(|line| {
                let v = line
                    .split_whitespace()
                    .find(|w| starts_digit(&w.to_string()))?;
                Some(v.split('.').take(2).collect::<Vec<_>>().join("."))
            }),
            "alpine" => file("alpine-release"),
            _ => None,
        }
        .or_else(|| Some(osr("VERSION_ID")).filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "NA".into());
        let release = [osr("VERSION_CODENAME"), osr("UBUNTU_CODENAME")]
            .into_iter()
            .find(|c| !c.is_empty())
            .or_else(|| parenthesized(&osr("PRETTY_NAME")))
            .or_else(|| parenthesized(&osr("VERSION")))
            .unwrap_or_else(|| "NA".into());
        let family_of = |n: &str| {
            OS_FAMILY
                .iter()
                .find(|(_, members)| members.contains(&n))
                .map(|(family, _)| family.to_string())
        };
        let os_family = family_of(&name)
            .or_else(|| {
                osr("ID_LIKE").split_whitespace().find_map(|like| {
                    let like_name = DIST_NAMES
                        .iter()
                        .find(|(i, _)| *i == like)
                        .map(|(_, n)| n.to_string())
                        .unwrap_or_else(|| capitalize(like));
                    family_of(&like_name).or_else(|| like.contains("suse").then(|| "Suse".into()))
                })
            })
            .unwrap_or_else(|| name.clone());
        Distribution {
            name,
            version,
            release,
            os_family,
        }
    }

    /// `ansible_distribution_major_version`.
    pub fn major_version(&self) -> String {
        self.version.split('.').next().unwrap_or("NA").to_string()
    }
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c
            .to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect(),
        None => String::new(),
    }
}

fn parenthesized(s: &str) -> Option<String> {
    let start = s.find('(')?;
    let end = s[start..].find(')')? + start;
    let inner = s[start + 1..end].trim();
    (!inner.is_empty()).then(|| inner.to_string())
}

/// Network facts.
pub struct Network {
    /// `ansible_default_ipv4` (empty object when there is no default route).
    pub default_ipv4: Value,
    /// `ansible_all_ipv4_addresses` (loopback excluded).
    pub all_ipv4: Vec<String>,
    /// `ansible_interfaces`.
    pub interfaces: Vec<String>,
}

/// Builds network facts from `route.get` (`ip route get`), `route.proc` (`/proc/net/route`),
/// `addr.DEV` (CIDR addresses) and `if.DEV` (MAC and MTU) items.
pub fn network(raw: &BTreeMap<String, String>) -> Network {
    let mut addrs: Vec<(String, String)> = Vec::new();
    let mut interfaces = Vec::new();
    for (k, v) in raw {
        if let Some(dev) = k.strip_prefix("addr.") {
            addrs.push((dev.to_string(), v.clone()));
        }
        if let Some(dev) = k.strip_prefix("if.") {
            interfaces.push(dev.to_string());
        }
    }
    let all_ipv4 = addrs
        .iter()
        .map(|(_, cidr)| cidr.split('/').next().unwrap_or("").to_string())
        .filter(|a| !a.starts_with("127."))
        .collect();
    let mut default = default_route(raw);
    add_interface_facts(&mut default, &addrs, raw);
    Network {
        default_ipv4: Value::Object(default),
        all_ipv4,
        interfaces,
    }
}

/// The default route's interface (and alias), gateway and source address: from `ip route get`
/// when the host has `ip`, else from `/proc/net/route`.
fn default_route(raw: &BTreeMap<String, String>) -> Map<String, Value> {
    let mut default = Map::new();
    if let Some(route) = raw.get("route.get").filter(|r| !r.is_empty()) {
        let words: Vec<&str> = route.split_whitespace().collect();
        let after = |key: &str| {
            let i = words.iter().position(|w| *w == key)?;
            words.get(i + 1).map(|s| s.to_string())
        };
        if let Some(dev) = after("dev") {
            default.insert("interface".into(), json!(dev));
            default.insert("alias".into(), json!(dev));
            if let Some(gw) = after("via") {
                default.insert("gateway".into(), json!(gw));
            }
            if let Some(src) = after("src") {
                default.insert("address".into(), json!(src));
            }
        }
    } else if let Some(line) = raw.get("route.proc") {
        if let Some((dev, gw)) = line.split_once(' ') {
            default.insert("interface".into(), json!(dev));
            default.insert("alias".into(), json!(dev));
            if let Ok(n) = u32::from_str_radix(gw.trim(), 16) {
                let ip = std::net::Ipv4Addr::from(n.swap_bytes());
                default.insert("gateway".into(), json!(ip.to_string()));
            }
        }
    }
    default
}

/// The default interface's address facts (its CIDR address matching the route's source),
/// MAC address, type and MTU.
fn add_interface_facts(
    default: &mut Map<String, Value>,
    addrs: &[(String, String)],
    raw: &BTreeMap<String, String>,
) {
    let Some(dev) = default
        .get("interface")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return;
    };
    let want = default
        .get("address")
        .and_then(Value::as_str)
        .map(str::to_string);
    let cidr = addrs.iter().find(|(d, c)| {
        *d == dev
            && want
                .as_deref()
                .is_none_or(|w| c.split('/').next() == Some(w))
    });
    if let Some((_, cidr)) = cidr {
        add_prefix_facts(default, cidr);
    }
    if let Some(info) = raw.get(&format!("if.{dev}")) {
        let mut it = info.split_whitespace();
        if let Some(mac) = it.next() {
            default.insert("macaddress".into(), json!(mac));
            default.insert(
                "type".into(),
                json!(if dev == "lo" { "loopback" } else { "ether" }),
            );
        }
        if let Some(mtu) = it.next().and_then(|m| m.parse::<u64>().ok()) {
            default.insert("mtu".into(), json!(mtu));
        }
    }
}

fn add_prefix_facts(default: &mut Map<String, Value>, cidr: &str) {
    let Some((addr, prefix)) = cidr.split_once('/') else {
        return;
    };
    let (Ok(addr), Ok(prefix)) = (addr.parse::<std::net::Ipv4Addr>(), prefix.parse::<u32>()) else {
        return;
    };
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix.min(32))
    };
    let net = u32::from(addr) & mask;
    let ip = std::net::Ipv4Addr::from;
    default.insert("address".into(), json!(addr.to_string()));
    default.insert("prefix".into(), json!(prefix.to_string()));
    default.insert("netmask".into(), json!(ip(mask).to_string()));
    default.insert("network".into(), json!(ip(net).to_string()));
    default.insert("broadcast".into(), json!(ip(net | !mask).to_string()));
}

/// `ansible_date_time` from `date '+%s %N %z %Z'` on the host.
pub fn date_time(line: &str) -> Value {
    let parts: Vec<&str> = line.split_whitespace().collect();
    let epoch: i64 = parts.first().and_then(|s| s.parse().ok()).unwrap_or(0);
    let nanos: u32 = parts.get(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let offset_text = parts.get(2).copied().unwrap_or("+0000");
    let tz = parts.get(3).copied().unwrap_or("UTC");
    let offset_secs = parse_offset(offset_text).unwrap_or(0);
    let offset = FixedOffset::east_opt(offset_secs).unwrap_or(FixedOffset::east_opt(0).unwrap());
    let utc = DateTime::from_timestamp(epoch, nanos).unwrap_or_default();
    let local = utc.with_timezone(&offset);
    let micro = nanos / 1000;
    let l = |f: &str| local.format(f).to_string();
    json!({
        "year": l("%Y"), "month": l("%m"), "weekday": l("%A"), "weekday_number": l("%w"),
        "weeknumber": l("%W"), "day": l("%d"), "hour": l("%H"), "minute": l("%M"),
        "second": l("%S"), "epoch": epoch.to_string(), "epoch_int": epoch.to_string(),
        "date": l("%Y-%m-%d"), "time": l("%H:%M:%S"),
        "iso8601_micro": format!("{}.{micro:06}Z", utc.format("%Y-%m-%dT%H:%M:%S")),
        "iso8601": utc.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "iso8601_basic": format!("{}{micro:06}", l("%Y%m%dT%H%M%S")),
        "iso8601_basic_short": l("%Y%m%dT%H%M%S"),
        "tz": tz, "tz_dst": tz, "tz_offset": offset_text,
    })
}

/// The host's local clock in microseconds since 1970-01-01 00:00 of that clock, from the same
/// `date '+%s %N %z %Z'` line; `None` when the line does not read.
pub fn local_micros(line: &str) -> Option<i64> {
    let mut parts = line.split_whitespace();
    let epoch: i64 = parts.next()?.parse().ok()?;
    let nanos: i64 = parts.next()?.parse().ok()?;
    let offset = i64::from(parse_offset(parts.next()?)?);
    Some((epoch + offset) * 1_000_000 + nanos / 1000)
}

fn parse_offset(text: &str) -> Option<i32> {
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits = &text[1..];
    let h: i32 = digits.get(..2)?.parse().ok()?;
    let m: i32 = digits.get(2..4)?.parse().ok()?;
    Some(sign * (h * 3600 + m * 60))
}

/// What Debian's POSIX `lsb_release -a` prints, from the os-release items (`osr.*`) it reads:
/// `ID` with its first letter upper-cased (`NAME` instead when it is `ID` in another case),
/// `PRETTY_NAME`, `VERSION_ID` and `VERSION_CODENAME`, each `n/a` when empty (setup.sh says
/// `lsbr.from_os_release` when that is the host's `lsb_release`).
fn lsb_release_from_os_release(raw: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let osr = |k: &str| raw.get(&format!("osr.{k}")).cloned().unwrap_or_default();
    let id = osr("ID");
    let mut id = match id.as_bytes().first() {
        Some(first) => format!("{}{}", first.to_ascii_uppercase() as char, &id[1..]),
        None => id,
    };
    // the script tests `${NAME-x}`: a NAME of "x" counts as unset
    if let Some(name) = raw.get("osr.NAME").filter(|n| *n != "x") {
        if id.eq_ignore_ascii_case(name) {
            id = name.clone();
        }
    }
    let or_na = |v: String| if v.is_empty() { "n/a".to_string() } else { v };
    BTreeMap::from([
        ("lsbr.Distributor ID".to_string(), or_na(id)),
        ("lsbr.Description".to_string(), or_na(osr("PRETTY_NAME"))),
        ("lsbr.Release".to_string(), or_na(osr("VERSION_ID"))),
        ("lsbr.Codename".to_string(), or_na(osr("VERSION_CODENAME"))),
    ])
}

/// `ansible_lsb` from `lsb_release -a` (`lsbr.*`) or `/etc/lsb-release` (`lsb.*`).
pub fn lsb(raw: &BTreeMap<String, String>) -> Option<Value> {
    let derived;
    let raw = if raw.contains_key("lsbr.from_os_release") {
        let mut all = raw.clone();
        all.extend(lsb_release_from_os_release(raw));
        derived = all;
        &derived
    } else {
        raw
    };
    let mut m = Map::new();
    for (key, from_cmd, from_file) in [
        ("id", "lsbr.Distributor ID", "lsb.DISTRIB_ID"),
        ("description", "lsbr.Description", "lsb.DISTRIB_DESCRIPTION"),
        ("release", "lsbr.Release", "lsb.DISTRIB_RELEASE"),
        ("codename", "lsbr.Codename", "lsb.DISTRIB_CODENAME"),
    ] {
        if let Some(v) = raw.get(from_cmd).or_else(|| raw.get(from_file)) {
            m.insert(key.into(), json!(v));
        }
    }
    let release = m.get("release").and_then(Value::as_str).map(str::to_string);
    if let Some(r) = release {
        m.insert(
            "major_release".into(),
            json!(r.split('.').next().unwrap_or("")),
        );
    }
    (!m.is_empty()).then_some(Value::Object(m))
}

#[cfg(test)]
#[path = "distro_tests.rs"]
mod tests;
