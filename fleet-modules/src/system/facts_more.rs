//! The rest of Ansible's default facts, from the items of `facts_more.sh` and `setup.sh`: the
//! machine's identity (`machine_id`, DMI `bios_*`/`board_*`/`chassis_*`/`product_*`,
//! `system_vendor`, `form_factor`, the SSH host keys), `virtualization_*`
//! (`virtual_facts.rs`), `memory_mb`, `processor` and `flags`,
//! `uptime_seconds`, `loadavg`, `mounts` (with their sizes), `dns`, `selinux`, `apparmor`,
//! `cmdline`, the process's ids, `userspace_*`, `is_chroot`, and the per-interface facts
//! (`ansible_eth0`...), `all_ipv6_addresses`, `default_ipv6` and `locally_reachable_ips`.
//!
//! Not gathered (Ansible runs a program or walks `/sys` at length for them): `devices`,
//! `device_links`, `lvm`, `system_capabilities`, an interface's `features`, `module`,
//! `pciid` and timestamping; containers recognised only by `container=` in PID 1's
//! environment (which only root may read) are not recognised.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

/// Ansible's names for DMI `chassis_type` numbers (`form_factor`).
const FORM_FACTOR: &[&str] = &[
    "Unknown",
    "Other",
    "Unknown",
    "Desktop",
    "Low Profile Desktop",
    "Pizza Box",
    "Mini Tower",
    "Tower",
    "Portable",
    "Laptop",
    "Notebook",
    "Hand Held",
    "Docking Station",
    "All In One",
    "Sub Notebook",
    "Space-saving",
    "Lunch Box",
    "Main Server Chassis",
    "Expansion Chassis",
    "Sub Chassis",
    "Bus Expansion Chassis",
    "Peripheral Chassis",
    "RAID Chassis",
    "Rack Mount Chassis",
    "Sealed-case PC",
    "Multi-system",
    "CompactPCI",
    "AdvancedTCA",
    "Blade",
    "Blade Enclosure",
    "Tablet",
    "Convertible",
    "Detachable",
    "IoT Gateway",
    "Embedded PC",
    "Mini PC",
    "Stick PC",
];

/// The facts this module adds, `ansible_` prefixed; `text` is the gather script's output
/// (for the items that come several times: mounts, name servers, addresses).
pub fn facts(raw: &BTreeMap<String, String>, text: &str) -> Map<String, Value> {
    let get = |k: &str| raw.get(k).map(String::as_str);
    let mut out = Map::new();
    let mut put = |k: &str, v: Value| {
        out.insert(format!("ansible_{k}"), v);
    };
    if let Some(id) = get("machine_id") {
        put("machine_id", json!(id));
    }
    for (k, v) in dmi(raw) {
        put(&k, v);
    }
    for (algo, line) in raw
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("sshkey.")?, v)))
    {
        if let Some((keytype, key)) = line.split_once(' ') {
            put(&format!("ssh_host_key_{algo}_public"), json!(key));
            put(
                &format!("ssh_host_key_{algo}_public_keytype"),
                json!(keytype),
            );
        }
    }
    for (k, v) in super::virtual_facts::facts(raw) {
        put(&k, v);
    }
    put("memory_mb", memory_mb(raw));
    let items: Vec<&String> = raw
        .iter()
        .filter(|(k, _)| k.starts_with("cpu.item."))
        .map(|(_, v)| v)
        .collect();
    if !items.is_empty() {
        put("processor", json!(items));
    }
    if let Some(flags) = get("cpu.flags") {
        put("flags", json!(flags.split_whitespace().collect::<Vec<_>>()));
    }
    if let Some(up) = get("uptime").and_then(|u| u.split_whitespace().next()) {
        if let Ok(secs) = up.parse::<f64>() {
            put("uptime_seconds", json!(secs as u64));
        }
    }
    if let Some(load) = get("loadavg") {
        let n: Vec<f64> = load
            .split_whitespace()
            .take(3)
            .filter_map(|x| x.parse().ok())
            .collect();
        if n.len() == 3 {
            put("loadavg", json!({"1m": n[0], "5m": n[1], "15m": n[2]}));
        }
    }
    if let Some(line) = get("cmdline") {
        put("cmdline", cmdline(line, false));
        put("proc_cmdline", cmdline(line, true));
    }
    put("mounts", mounts(raw, text));
    put("dns", dns(text));
    put(
        "apparmor",
        json!({"status": if get("apparmor").is_some() { "enabled" } else { "disabled" }}),
    );
    put("selinux_python_present", json!(true));
    put("selinux", selinux(get("selinux.enforce")));
    for (fact, key) in [("user", "user.uids"), ("group", "user.gids")] {
        let ids: Vec<u64> = get(key)
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        if ids.len() >= 2 {
            put(&format!("real_{fact}_id"), json!(ids[0]));
            put(&format!("effective_{fact}_id"), json!(ids[1]));
        }
    }
    let machine = get("machine").unwrap_or_default();
    let bits = if machine.contains("64") || machine == "s390x" {
        "64"
    } else {
        "32"
    };
    put("userspace_bits", json!(bits));
    if machine == "x86_64" {
        put(
            "userspace_architecture",
            json!(if bits == "64" { "x86_64" } else { "i386" }),
        );
    }
    put("is_chroot", json!(get("chroot") == Some("1")));
    put("iscsi_iqn", json!(get("iscsi_iqn").unwrap_or_default()));
    if let Some(nqn) = get("hostnqn") {
        put("hostnqn", json!(nqn));
    }
    let wwn: Vec<String> = raw
        .iter()
        .filter(|(k, _)| k.starts_with("fcwwn."))
        .map(|(_, v)| v.trim_start_matches("0x").to_string())
        .collect();
    put("fibre_channel_wwn", json!(wwn));
    for (k, v) in super::interface_facts::facts(raw) {
        put(&k, v);
    }
    if get("facts_d").is_none() {
        // the one fact whose own name has the prefix: `ansible_local`, and in `ansible_facts`
        out.insert("ansible_local".into(), json!({}));
    }
    out
}

/// DMI facts: each file's text, `NA` when it cannot be read (or when the machine has no DMI).
fn dmi(raw: &BTreeMap<String, String>) -> Vec<(String, Value)> {
    const FILES: &[(&str, &str)] = &[
        ("bios_date", "bios_date"),
        ("bios_vendor", "bios_vendor"),
        ("bios_version", "bios_version"),
        ("board_asset_tag", "board_asset_tag"),
        ("board_name", "board_name"),
        ("board_serial", "board_serial"),
        ("board_vendor", "board_vendor"),
        ("board_version", "board_version"),
        ("chassis_asset_tag", "chassis_asset_tag"),
        ("chassis_serial", "chassis_serial"),
        ("chassis_vendor", "chassis_vendor"),
        ("chassis_version", "chassis_version"),
        ("form_factor", "chassis_type"),
        ("product_name", "product_name"),
        ("product_serial", "product_serial"),
        ("product_uuid", "product_uuid"),
        ("product_version", "product_version"),
        ("system_vendor", "sys_vendor"),
    ];
    FILES
        .iter()
        .map(|(fact, file)| {
            let value = match raw.get(&format!("dmi.{file}")).map(|v| v.trim()) {
                None => "NA".to_string(),
                Some(v) if *fact == "form_factor" => match v.parse::<usize>() {
                    Ok(i) if i < FORM_FACTOR.len() => FORM_FACTOR[i].to_string(),
                    _ => format!("unknown ({v})"),
                },
                Some(v) => v.to_string(),
            };
            (fact.to_string(), json!(value))
        })
        .collect()
}

/// `memory_mb`, from `/proc/meminfo` (kB, each divided down to MiB first, as Ansible does).
fn memory_mb(raw: &BTreeMap<String, String>) -> Value {
    let mb = |k: &str| -> Option<u64> {
        raw.get(&format!("mem.{k}"))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|kb| kb / 1024)
    };
    let (total, free) = (mb("MemTotal"), mb("MemFree"));
    let nocache_free = match (mb("Cached"), free, mb("Buffers")) {
        (Some(c), Some(f), Some(b)) => Some(c + f + b),
        _ => None,
    };
    let sub = |a: Option<u64>, b: Option<u64>| Some(a?.saturating_sub(b?));
    json!({
        "real": {"total": total, "used": sub(total, free), "free": free},
        "nocache": {"free": nocache_free, "used": sub(total, nocache_free)},
        "swap": {
            "total": mb("SwapTotal"),
            "free": mb("SwapFree"),
            "used": sub(mb("SwapTotal"), mb("SwapFree")),
            "cached": mb("SwapCached"),
        },
    })
}

/// The kernel command line as Ansible's `cmdline` (a later key wins) and `proc_cmdline` (a
/// repeated key becomes the list of its values); a bare word is `true`.
fn cmdline(line: &str, lists: bool) -> Value {
    let mut out = Map::new();
    for word in shlex::split(line).unwrap_or_default() {
        let (k, v) = match word.split_once('=') {
            Some((k, v)) => (k.to_string(), json!(v)),
            None => (word.clone(), json!(true)),
        };
        match out.get_mut(&k) {
            Some(Value::Array(items)) if lists => items.push(v),
            Some(old) if lists => *old = json!([old.clone(), v]),
            _ => {
                out.insert(k, v);
            }
        }
    }
    Value::Object(out)
}

/// `mounts`: each real mount of `/proc/mounts` (a device path, a network share or `none`),
/// its sizes from `stat -f` (in the same order), its UUID from `/dev/disk/by-uuid`.
fn mounts(raw: &BTreeMap<String, String>, text: &str) -> Value {
    let uuids: BTreeMap<&str, &str> = raw
        .iter()
        .filter_map(|(k, dev)| Some((dev.as_str(), k.strip_prefix("uuid.")?)))
        .collect();
    let mut sizes = text.lines().filter_map(|l| l.strip_prefix("mntsize="));
    let mut out = Vec::new();
    for line in text.lines().filter_map(|l| l.strip_prefix("mnt.")) {
        let Some((_, fields)) = line.split_once('=') else {
            continue;
        };
        let f: Vec<&str> = fields.split(' ').collect();
        if f.len() < 6 {
            continue;
        }
        let mut m = Map::new();
        m.insert("mount".into(), json!(unescape_octal(f[1])));
        m.insert("device".into(), json!(unescape_octal(f[0])));
        m.insert("fstype".into(), json!(f[2]));
        m.insert("options".into(), json!(f[3]));
        m.insert("dump".into(), json!(f[4].parse::<u64>().unwrap_or(0)));
        m.insert("passno".into(), json!(f[5].parse::<u64>().unwrap_or(0)));
        let n: Vec<u64> = sizes
            .next()
            .unwrap_or_default()
            .split(' ')
            .take(7)
            .filter_map(|x| x.parse().ok())
            .collect();
        if let [frsize, bsize, blocks, bavail, _bfree, files, ffree] = n[..] {
            m.insert("size_total".into(), json!(frsize * blocks));
            m.insert("size_available".into(), json!(frsize * bavail));
            m.insert("block_size".into(), json!(bsize));
            m.insert("block_total".into(), json!(blocks));
            m.insert("block_available".into(), json!(bavail));
            m.insert("block_used".into(), json!(blocks.saturating_sub(bavail)));
            m.insert("inode_total".into(), json!(files));
            m.insert("inode_available".into(), json!(ffree));
            m.insert("inode_used".into(), json!(files.saturating_sub(ffree)));
        }
        let uuid = uuids.get(f[0]).copied().unwrap_or("N/A");
        m.insert("uuid".into(), json!(uuid));
        out.push(Value::Object(m));
    }
    Value::Array(out)
}

/// `/proc/mounts` writes a space as `\040` (and tab, newline, backslash likewise).
fn unescape_octal(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match (b[i], octal) {
            (b'\\', Some(d)) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `dns`: `/etc/resolv.conf` as Ansible reads it (name servers listed, `domain`, `search`,
/// `sortlist`, `options` as a mapping).
fn dns(text: &str) -> Value {
    let mut out = Map::new();
    for line in text.lines().filter_map(|l| l.strip_prefix("dns.")) {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let words: Vec<&str> = value.split_whitespace().collect();
        match key {
            "nameserver" => {
                let list = out.entry("nameservers").or_insert_with(|| json!([]));
                if let (Value::Array(list), Some(first)) = (list, words.first()) {
                    list.push(json!(first));
                }
            }
            "domain" => {
                out.insert("domain".into(), json!(words.first().copied().unwrap_or("")));
            }
            "search" | "sortlist" => {
                out.insert(key.into(), json!(words));
            }
            "options" => {
                let opts = out.entry("options").or_insert_with(|| json!({}));
                if let Value::Object(opts) = opts {
                    for w in words {
                        let (k, v) = w
                            .split_once(':')
                            .map_or((w, json!(true)), |(k, v)| (k, json!(v)));
                        opts.insert(k.into(), v);
                    }
                }
            }
            _ => {}
        }
    }
    Value::Object(out)
}

/// `selinux`: `disabled` without selinuxfs, else its mode.
fn selinux(enforce: Option<&str>) -> Value {
    match enforce.map(str::trim) {
        None => json!({"status": "disabled"}),
        Some(e) => json!({
            "status": "enabled",
            "mode": if e == "1" { "enforcing" } else { "permissive" },
        }),
    }
}
