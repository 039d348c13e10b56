//! Per-interface facts (`ansible_eth0`, `ansible_lo`...), `all_ipv6_addresses` and
//! `default_ipv6`, as Ansible's `LinuxNetwork` builds them: each `/sys/class/net` device with
//! its MAC address, MTU, state, type and promiscuous flag (`nic.DEV` items), and its addresses
//! from one `ip -o addr show` (`ipa.N` items: the first IPv4 address is `ipv4`, the others
//! `ipv4_secondaries`; every IPv6 address is in `ipv6`).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

/// Ansible's names for `/sys/class/net/DEV/type` numbers.
fn interface_type(number: &str) -> &'static str {
    match number {
        "1" => "ether",
        "32" => "infiniband",
        "512" => "ppp",
        "772" => "loopback",
        "65534" => "tunnel",
        _ => "unknown",
    }
}

/// The facts, without the `ansible_` prefix.
pub fn facts(raw: &BTreeMap<String, String>) -> Vec<(String, Value)> {
    let mut interfaces: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for (key, value) in raw {
        let Some(dev) = key.strip_prefix("nic.") else {
            continue;
        };
        interfaces.insert(dev.to_string(), device(dev, value));
    }
    let mut all_ipv6 = Vec::new();
    for line in raw
        .iter()
        .filter(|(k, _)| k.starts_with("ipa."))
        .map(|(_, v)| v)
    {
        let words: Vec<&str> = line.split_whitespace().collect();
        let [dev, family, cidr, rest @ ..] = &words[..] else {
            continue;
        };
        // `eth0@if5` names a veth's peer; the device is the part before `@`
        let dev = dev.split('@').next().unwrap_or(dev);
        let Some(iface) = interfaces.get_mut(dev) else {
            continue;
        };
        let after = |key: &str| {
            rest.iter()
                .position(|w| *w == key)
                .and_then(|i| rest.get(i + 1))
                .map(|s| s.to_string())
        };
        match *family {
            "inet" => {
                let v4 = ipv4(cidr, &after("brd").unwrap_or_default());
                if iface.contains_key("ipv4") {
                    let list = iface.entry("ipv4_secondaries").or_insert_with(|| json!([]));
                    if let Value::Array(list) = list {
                        list.push(Value::Object(v4));
                    }
                } else {
                    iface.insert("ipv4".into(), Value::Object(v4));
                }
            }
            "inet6" => {
                let (address, prefix) = cidr.split_once('/').unwrap_or((cidr, "128"));
                let scope = after("scope").unwrap_or_default();
                if address != "::1" {
                    all_ipv6.push(address.to_string());
                }
                let list = iface.entry("ipv6").or_insert_with(|| json!([]));
                if let Value::Array(list) = list {
                    list.push(json!({"address": address, "prefix": prefix, "scope": scope}));
                }
            }
            _ => {}
        }
    }
    let default6 = default_ipv6(raw.get("route6.get"), &interfaces);
    let mut out: Vec<(String, Value)> = interfaces
        .into_iter()
        .map(|(dev, facts)| (dev.replace(['-', ':', '.'], "_"), Value::Object(facts)))
        .collect();
    out.push(("all_ipv6_addresses".into(), json!(all_ipv6)));
    out.push(("default_ipv6".into(), default6));
    out
}

/// One device from its `nic.DEV` item: `MAC|MTU|operstate|type|flags|speed|kind`.
fn device(dev: &str, item: &str) -> Map<String, Value> {
    let f: Vec<&str> = item.split('|').collect();
    let field = |i: usize| f.get(i).copied().unwrap_or("").trim();
    let mut m = Map::new();
    m.insert("device".into(), json!(dev));
    let mac = field(0);
    if !mac.is_empty() && mac != "00:00:00:00:00:00" {
        m.insert("macaddress".into(), json!(mac));
    }
    if let Ok(mtu) = field(1).parse::<u64>() {
        m.insert("mtu".into(), json!(mtu));
    }
    if !field(2).is_empty() {
        m.insert("active".into(), json!(field(2) != "down"));
    }
    if !field(3).is_empty() {
        m.insert("type".into(), json!(interface_type(field(3))));
    }
    if !field(6).is_empty() {
        m.insert("type".into(), json!(field(6)));
    }
    if let Ok(speed) = field(5).parse::<i64>() {
        m.insert("speed".into(), json!(speed));
    }
    if let Some(flags) = field(4)
        .strip_prefix("0x")
        .and_then(|h| u64::from_str_radix(h, 16).ok())
    {
        m.insert("promisc".into(), json!(flags & 0x100 != 0));
    }
    m
}

/// An IPv4 address's facts from its CIDR form and `ip`'s broadcast address, in Ansible's order.
fn ipv4(cidr: &str, broadcast: &str) -> Map<String, Value> {
    let mut m = Map::new();
    let (addr, prefix) = cidr.split_once('/').unwrap_or((cidr, "32"));
    m.insert("address".into(), json!(addr));
    m.insert("broadcast".into(), json!(broadcast));
    if let (Ok(a), Ok(p)) = (addr.parse::<std::net::Ipv4Addr>(), prefix.parse::<u32>()) {
        let mask = if p == 0 {
            0
        } else {
            u32::MAX << (32 - p.min(32))
        };
        let ip = std::net::Ipv4Addr::from;
        m.insert("netmask".into(), json!(ip(mask).to_string()));
        m.insert("network".into(), json!(ip(u32::from(a) & mask).to_string()));
    }
    m.insert("prefix".into(), json!(prefix));
    m
}

/// `default_ipv6` from `ip -6 route get` (interface, gateway, source address) and that
/// interface's facts (the address's prefix and scope, MAC address, MTU, type).
fn default_ipv6(
    route: Option<&String>,
    interfaces: &BTreeMap<String, Map<String, Value>>,
) -> Value {
    let mut d = Map::new();
    let Some(route) = route.filter(|r| !r.is_empty()) else {
        return Value::Object(d);
    };
    // the route's words in the order `ip` prints them, as Ansible reads them
    let words: Vec<&str> = route.split_whitespace().collect();
    for pair in words.windows(2) {
        let name = match pair[0] {
            "via" => "gateway",
            "dev" => "interface",
            "src" => "address",
            _ => continue,
        };
        d.insert(name.into(), json!(pair[1]));
    }
    let Some(dev) = d
        .get("interface")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return Value::Object(Map::new());
    };
    let src = d.get("address").and_then(Value::as_str).map(str::to_string);
    if let Some(iface) = interfaces.get(&dev) {
        let addrs = iface.get("ipv6").and_then(Value::as_array);
        let mine = addrs
            .into_iter()
            .flatten()
            .find(|a| src.is_none() || a.get("address").and_then(Value::as_str) == src.as_deref());
        if let Some(Value::Object(a)) = mine {
            for k in ["address", "prefix", "scope"] {
                if let Some(v) = a.get(k) {
                    d.insert(k.into(), v.clone());
                }
            }
        }
        for k in ["macaddress", "mtu", "type"] {
            if let Some(v) = iface.get(k) {
                d.insert(k.into(), v.clone());
            }
        }
    }
    Value::Object(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_addresses_become_ansibles_interface_facts() {
        let raw: BTreeMap<String, String> = [
            ("nic.eth0", "02:fc:00:00:00:01|1400|up|1|0x1003||"),
            ("nic.lo", "00:00:00:00:00:00|65536|unknown|772|0x9||"),
            ("ipa.1001", "lo inet 127.0.0.1/8 scope host lo"),
            ("ipa.1002", "lo inet6 ::1/128 scope host noprefixroute"),
            ("ipa.1003", "eth0 inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0"),
            ("ipa.1004", "eth0 inet 192.0.2.9/24 brd 192.0.2.255 scope global secondary eth0"),
            ("ipa.1005", "eth0 inet6 fd00::2/64 scope global"),
            ("route6.get", "2404:6800:400a:800::1012 from :: via fd00::1 dev eth0 proto static src fd00::2 metric 1024 pref medium"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let facts: BTreeMap<String, Value> = facts(&raw).into_iter().collect();
        let eth0 = &facts["eth0"];
        assert_eq!(eth0["ipv4"]["address"], "192.0.2.2");
        assert_eq!(eth0["ipv4"]["netmask"], "255.255.255.0");
        assert_eq!(eth0["ipv4_secondaries"][0]["address"], "192.0.2.9");
        assert_eq!(eth0["ipv6"][0]["scope"], "global");
        assert_eq!(eth0["active"], true);
        assert_eq!(eth0["promisc"], false);
        assert_eq!(facts["lo"]["type"], "loopback");
        assert!(facts["lo"].get("macaddress").is_none());
        assert_eq!(facts["all_ipv6_addresses"], json!(["fd00::2"]));
        assert_eq!(facts["default_ipv6"]["gateway"], "fd00::1");
        assert_eq!(facts["default_ipv6"]["prefix"], "64");
        assert_eq!(facts["default_ipv6"]["mtu"], 1400);
    }
}
