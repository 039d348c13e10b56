use std::path::Path;

use serde_json::json;

use super::super::testing::{run_with, Run};
use super::*;

/// A stand-in `systemctl` (and `service`) keeping unit state in files: `units/NAME` marks a known
/// unit, `active/NAME` a running one, `enabled/NAME` an enabled one; every change is logged.
const STAND_IN_SYSTEMCTL: &str = include_str!("../../tests/stand-ins/systemctl");

const STAND_IN_SERVICE: &str = include_str!("../../tests/stand-ins/service");

fn stand_in(dir: &Path, tool: &str, body: &str) -> Run {
    use std::os::unix::fs::PermissionsExt;
    for sub in ["bin", "units", "active", "enabled"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let bin = dir.join("bin").join(tool);
    std::fs::write(&bin, body).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(dir.join("units/web"), "").unwrap();
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
async fn systemd_with_stand_in_systemctl_starts_enables_once() {
    let dir = tempfile::tempdir().unwrap();
    let opts = || stand_in(dir.path(), "systemctl", STAND_IN_SYSTEMCTL);
    let args = json!({"name": "web", "state": "started", "enabled": true, "daemon_reload": true});

    let check = run_with(
        &Systemd,
        args.clone(),
        Run {
            check: true,
            ..opts()
        },
    )
    .await;
    assert!(check.changed && !check.failed, "{check:?}");
    assert_eq!(log(dir.path()), "", "check mode runs nothing");

    let r = run_with(&Systemd, args.clone(), opts()).await;
    assert!(r.changed && !r.failed, "{r:?}");
    assert_eq!(r.data["state"], json!("started"));
    assert_eq!(r.data["enabled"], json!(true));
    assert_eq!(log(dir.path()), "daemon-reload\nenable web\nstart web\n");

    let r = run_with(&Systemd, args, opts()).await;
    assert!(!r.changed && !r.failed, "second run is ok: {r:?}");

    let r = run_with(
        &Systemd,
        json!({"name": "web", "state": "restarted"}),
        opts(),
    )
    .await;
    assert!(r.changed);
    let r = run_with(
        &Systemd,
        json!({"name": "web", "state": "stopped", "enabled": false}),
        opts(),
    )
    .await;
    assert!(r.changed);
    assert!(!dir.path().join("active/web").exists() && !dir.path().join("enabled/web").exists());
    let r = run_with(&Systemd, json!({"name": "web", "state": "stopped"}), opts()).await;
    assert!(!r.changed);
}

#[tokio::test]
async fn systemd_with_stand_in_reports_missing_units_and_failures() {
    let dir = tempfile::tempdir().unwrap();
    let opts = || stand_in(dir.path(), "systemctl", STAND_IN_SYSTEMCTL);
    let r = run_with(
        &Systemd,
        json!({"name": "nope", "state": "started"}),
        opts(),
    )
    .await;
    assert!(r.failed);
    assert_eq!(
        r.msg.as_deref(),
        Some("Could not find the requested service nope: host")
    );
    // known to `show` but failing to start
    let failing = STAND_IN_SYSTEMCTL.replace("touch \"$d/active/$2\"", "echo boom >&2; exit 1");
    let failing_opts = stand_in(dir.path(), "systemctl", &failing);
    let r = run_with(
        &Systemd,
        json!({"name": "web", "state": "started"}),
        failing_opts,
    )
    .await;
    assert!(r.failed);
    assert_eq!(r.msg.as_deref(), Some("Unable to start service web: boom"));
    let r = run_with(&Systemd, json!({"name": "web", "state": "bogus"}), opts()).await;
    assert_eq!(
        r.msg.as_deref(),
        Some("value of state must be one of: started, stopped, restarted, reloaded, got: bogus")
    );
}

#[tokio::test]
async fn service_with_stand_in_service_command_when_systemd_is_not_running() {
    if Path::new("/run/systemd/system").exists() {
        return; // this host runs systemd: `service` would use systemctl, tested above
    }
    let dir = tempfile::tempdir().unwrap();
    let opts = || stand_in(dir.path(), "service", STAND_IN_SERVICE);
    let r = run_with(&Service, json!({"name": "web", "state": "started"}), opts()).await;
    assert!(r.changed && !r.failed, "{r:?}");
    let r = run_with(&Service, json!({"name": "web", "state": "started"}), opts()).await;
    assert!(!r.changed);
    let r = run_with(
        &Service,
        json!({"name": "web", "state": "stopped"}),
        Run {
            check: true,
            ..opts()
        },
    )
    .await;
    assert!(r.changed);
    assert!(
        dir.path().join("active/web").exists(),
        "check mode left it running"
    );
    assert_eq!(log(dir.path()), "start web\n");
}
