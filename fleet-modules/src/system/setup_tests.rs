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
    if sh("command -v python3").is_empty() {
        assert_eq!(f["ansible_python"], json!({}));
    } else {
        let v = sh("python3 -c 'import platform; print(platform.python_version())'");
        assert_eq!(f["ansible_python_version"], json!(v));
    }
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
