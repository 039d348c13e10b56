use serde_json::json;

use super::super::testing::{check, run};
use super::*;

/// A unique account name; the guard deletes the user and groups with that prefix afterwards.
struct Names(String);

impl Names {
    fn new() -> Names {
        Names(format!("fleetut_{:06x}", rand::random::<u32>() & 0xff_ffff))
    }
    fn sub(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.0)
    }
}

impl Drop for Names {
    fn drop(&mut self) {
        let p = &self.0;
        let script = format!(
            "userdel -r {p} 2>/dev/null; for g in $(cut -d: -f1 /etc/group | grep '^{p}'); do groupdel \"$g\"; done"
        );
        let _ = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(script)
            .output();
    }
}

fn sh(cmd: &str) -> String {
    let out = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(cmd)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Account tests run one at a time: useradd/groupadd pick the next free id, which a parallel test
/// may be about to claim.
static ACCOUNTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn is_root() -> bool {
    sh("id -u") == "0" && !sh("command -v useradd").is_empty()
}

#[tokio::test]
async fn group_create_change_gid_and_remove() {
    if !is_root() {
        return;
    }
    let _serial = ACCOUNTS.lock().await;
    let n = Names::new();
    let g = n.sub("g");
    let r = check(&Group, json!({"name": g})).await;
    assert!(r.changed);
    assert_eq!(
        sh(&format!("getent group {g}")),
        "",
        "check mode created nothing"
    );
    let r = run(&Group, json!({"name": g, "gid": 47123})).await;
    assert!(r.changed && !r.failed, "{r:?}");
    assert_eq!(r.data["gid"], json!(47123));
    assert_eq!(sh(&format!("getent group {g} | cut -d: -f3")), "47123");
    let r = run(&Group, json!({"name": g, "gid": "47123"})).await;
    assert!(!r.changed);
    let r = run(&Group, json!({"name": g, "gid": 47124})).await;
    assert!(r.changed, "{r:?}");
    assert_eq!(sh(&format!("getent group {g} | cut -d: -f3")), "47124");
    let r = run(&Group, json!({"name": g, "state": "absent"})).await;
    assert!(r.changed);
    let r = run(&Group, json!({"name": g, "state": "absent"})).await;
    assert!(!r.changed);
}

#[tokio::test]
async fn user_create_modify_groups_and_remove() {
    if !is_root() {
        return;
    }
    let _serial = ACCOUNTS.lock().await;
    let n = Names::new();
    let u = n.0.clone();
    let (g1, g2) = (n.sub("a"), n.sub("b"));
    for g in [&g1, &g2] {
        assert!(!run(&Group, json!({"name": g})).await.failed);
    }
    let home = format!("/tmp/{u}_home");
    let args = json!({
        "name": u, "uid": 47200, "shell": "/bin/sh", "home": home, "comment": "Fleet Test",
        "groups": [g1], "password": "$6$salt$hash",
    });
    let r = check(&User, args.clone()).await;
    assert!(r.changed);
    assert_eq!(sh(&format!("getent passwd {u}")), "");

    let r = run(&User, args.clone()).await;
    assert!(r.changed && !r.failed, "{r:?}");
    assert_eq!(r.data["uid"], json!(47200));
    assert_eq!(r.data["home"], json!(home));
    assert_eq!(r.data["password"], json!("NOT_LOGGING_PASSWORD"));
    assert!(std::path::Path::new(&home).is_dir(), "home created");
    assert_eq!(
        sh(&format!("getent shadow {u} | cut -d: -f2")),
        "$6$salt$hash"
    );
    assert_eq!(sh(&format!("id -Gn {u}")), format!("{u} {g1}"));

    let r = run(&User, args.clone()).await;
    assert!(!r.changed && !r.failed, "second run unchanged: {r:?}");

    let r = run(
        &User,
        json!({"name": u, "groups": g2, "append": true, "shell": "/bin/bash"}),
    )
    .await;
    assert!(r.changed);
    assert_eq!(sh(&format!("id -Gn {u}")), format!("{u} {g1} {g2}"));
    assert_eq!(sh(&format!("getent passwd {u} | cut -d: -f7")), "/bin/bash");
    let r = run(
        &User,
        json!({"name": u, "groups": [g2, g1], "append": true}),
    )
    .await;
    assert!(!r.changed);
    let r = run(&User, json!({"name": u, "groups": [g2]})).await;
    assert!(r.changed);
    assert_eq!(sh(&format!("id -Gn {u}")), format!("{u} {g2}"));

    let r = run(&User, json!({"name": u, "group": n.sub("missing")})).await;
    assert!(r.failed);
    assert_eq!(
        r.msg,
        Some(format!("Group {} does not exist", n.sub("missing")))
    );

    let r = check(&User, json!({"name": u, "state": "absent", "remove": true})).await;
    assert!(r.changed);
    assert_ne!(sh(&format!("getent passwd {u}")), "");
    let r = run(&User, json!({"name": u, "state": "absent", "remove": true})).await;
    assert!(r.changed && !r.failed, "{r:?}");
    assert_eq!(sh(&format!("getent passwd {u}")), "");
    assert!(!std::path::Path::new(&home).exists(), "home removed");
    let r = run(&User, json!({"name": u, "state": "absent"})).await;
    assert!(!r.changed);
}
