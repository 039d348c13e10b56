use std::path::Path;

use serde_json::json;

use super::super::testing::{run_with, Run};
use super::*;

/// A stand-in `crontab` (this machine may not have cron) keeping each user's table in a file.
const STAND_IN_CRONTAB: &str = include_str!("../../tests/stand-ins/crontab");

fn stand_in(dir: &Path, check: bool) -> Run {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    let bin = dir.join("bin/crontab");
    std::fs::write(&bin, STAND_IN_CRONTAB).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        dir.join("bin").display(),
        std::env::var("PATH").unwrap()
    );
    Run {
        check,
        env: vec![
            ("PATH".into(), path),
            ("FLEETUT_STATE".into(), dir.display().to_string()),
        ],
        ..Run::default()
    }
}

#[tokio::test]
async fn cron_with_stand_in_crontab_adds_updates_and_removes_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let table = d.join("fleetut");
    std::fs::write(&table, "MAILTO=ops\n5 * * * * /usr/bin/keep\n").unwrap();
    let add = json!({"name": "backup", "minute": "0", "hour": "2", "job": "/usr/local/bin/backup", "user": "fleetut"});

    let r = run_with(&Cron, add.clone(), stand_in(d, true)).await;
    assert!(r.changed && !r.failed, "{r:?}");
    assert_eq!(
        std::fs::read_to_string(&table).unwrap(),
        "MAILTO=ops\n5 * * * * /usr/bin/keep\n"
    );

    let r = run_with(&Cron, add.clone(), stand_in(d, false)).await;
    assert!(r.changed && !r.failed, "{r:?}");
    assert_eq!(r.data["jobs"], json!(["backup"]));
    assert_eq!(
        std::fs::read_to_string(&table).unwrap(),
        "MAILTO=ops\n5 * * * * /usr/bin/keep\n#Ansible: backup\n0 2 * * * /usr/local/bin/backup\n"
    );
    let r = run_with(&Cron, add.clone(), stand_in(d, false)).await;
    assert!(!r.changed, "second run unchanged");

    let mut second = add.clone();
    second["name"] = json!("weekly");
    second["special_time"] = json!("weekly");
    second["disabled"] = json!(true);
    let r = run_with(&Cron, second, stand_in(d, false)).await;
    assert_eq!(r.data["jobs"], json!(["backup", "weekly"]));

    let mut changed = add.clone();
    changed["hour"] = json!("3");
    run_with(&Cron, changed, stand_in(d, false)).await;
    assert_eq!(
        std::fs::read_to_string(&table).unwrap(),
        "MAILTO=ops\n5 * * * * /usr/bin/keep\n#Ansible: backup\n0 3 * * * /usr/local/bin/backup\n\
         #Ansible: weekly\n#@weekly /usr/local/bin/backup\n"
    );
    let absent = json!({"name": "backup", "state": "absent", "user": "fleetut"});
    let r = run_with(&Cron, absent.clone(), stand_in(d, false)).await;
    assert!(r.changed);
    assert_eq!(
        std::fs::read_to_string(&table).unwrap(),
        "MAILTO=ops\n5 * * * * /usr/bin/keep\n#Ansible: weekly\n#@weekly /usr/local/bin/backup\n"
    );
    let r = run_with(&Cron, absent, stand_in(d, false)).await;
    assert!(!r.changed);
}

#[tokio::test]
async fn cron_file_in_a_temp_dir() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fleetut-job");
    let f = file.display().to_string();
    let args =
        json!({"name": "sync", "job": "run-sync", "cron_file": f, "user": "root", "minute": "*/5"});
    let r = run_with(&Cron, args.clone(), Run::default()).await;
    assert!(r.changed && !r.failed, "{r:?}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "#Ansible: sync\n*/5 * * * * root run-sync\n"
    );
    assert!(!run_with(&Cron, args, Run::default()).await.changed);
    let r = run_with(
        &Cron,
        json!({"name": "sync", "cron_file": f, "state": "absent"}),
        Run::default(),
    )
    .await;
    assert!(r.changed);
    assert!(!file.exists(), "empty cron file removed");
    let r = run_with(
        &Cron,
        json!({"name": "x", "cron_file": f, "job": "y"}),
        Run::default(),
    )
    .await;
    assert_eq!(
        r.msg.as_deref(),
        Some("To use cron_file=... parameter you must specify user=... as well")
    );
}
