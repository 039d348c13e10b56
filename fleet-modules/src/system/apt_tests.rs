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
