//! Tests of Ansible's naming of gathered data: distributions and OS families from os-release
//! items, the default route from `/proc/net/route`, and `lsb_release -a` derived from
//! os-release.

use std::collections::BTreeMap;

use serde_json::json;

use super::{lsb, network, Distribution};

fn raw_items(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
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

/// What Ansible's setup reports on each of these hosts (a table, one case per distribution).
const DISTROS: &[DistroCase] = &[
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

#[test]
fn distributions_are_named_like_ansible() {
    for (raw, (name, version, release, family)) in DISTROS {
        let d = Distribution::from_raw(&raw_items(raw));
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
    let raw = raw_items(&[
        ("route.proc", "eth0 0102000A"),
        ("addr.eth0", "10.0.2.15/24"),
    ]);
    let net = network(&raw);
    assert_eq!(net.default_ipv4["gateway"], json!("10.0.2.1"));
    assert_eq!(net.default_ipv4["network"], json!("10.0.2.0"));
    assert_eq!(net.default_ipv4["broadcast"], json!("10.0.2.255"));
}

/// Issue 18.7: `lsb_release -a` of Debian's POSIX script, derived from os-release.
#[test]
fn lsb_from_os_release() {
    let lsb = |pairs: &[(&str, &str)]| {
        let mut raw = raw_items(pairs);
        raw.insert("lsbr.from_os_release".into(), "1".into());
        lsb(&raw).unwrap()
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
}
