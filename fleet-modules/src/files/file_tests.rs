//! Tests of the `file` module against a real directory: each state, its idempotence, and the
//! keys, messages and diffs Ansible reports, as the file target asserts them.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use serde_json::json;

use super::File;
use crate::files::testkit::{mode_of, Harness};

/// Issue 18: `_diff_peek` reports whether the file looks binary, changes nothing, warns not.
#[tokio::test]
async fn diff_peek_reports_binary_files() {
    let h = Harness::new();
    let (text, bin) = (h.path("t.txt"), h.path("b.bin"));
    fs::write(&text, "plain\n").unwrap();
    fs::write(&bin, b"a\0b").unwrap();
    let r = h
        .run(&File, json!({"path": text, "_diff_peek": true}))
        .await;
    assert!(!r.changed && !r.failed, "{:?}", r.to_json());
    assert_eq!(r.data["appears_binary"], json!(false));
    assert!(r.data.get("warnings").is_none());
    let r = h.run(&File, json!({"path": bin, "_diff_peek": true})).await;
    assert_eq!(r.data["appears_binary"], json!(true));
}

/// Issue 18: the failures and warnings the file target asserts on, in diff mode as there:
/// Ansible's messages, the keys naming the path, and nothing left behind.
#[tokio::test]
async fn failures_and_warnings_are_ansibles() {
    let mut h = Harness::new();
    let r = h
        .run(&File, json!({"path": h.path("z"), "state": "touch"}))
        .await;
    assert!(r.data.get("diff").is_none(), "only in diff mode");
    assert_eq!(r.data["dest"], json!(h.path("z")), "touch names it dest");
    h.diff = true;
    // src without state: checked against the state the path has (none: file)
    let r = h
        .run(&File, json!({"src": "x", "dest": h.path("nope")}))
        .await;
    assert_eq!(
        r.msg.as_deref(),
        Some("src option requires state to be 'link' or 'hard'")
    );
    let r = h.run(&File, json!({"path": h.path("ghost")})).await;
    assert!(r
        .msg
        .as_deref()
        .unwrap()
        .ends_with("is absent, cannot continue"));
    assert_eq!(r.data["state"], json!("absent"));
    // a touched file whose owner cannot be set is removed again
    let args = json!({"path": h.path("t2"), "state": "touch", "owner": "no-such-user-x"});
    assert!(h.run(&File, args).await.failed);
    assert!(!h.root().join("t2").exists());
    // recurse with follow changes what the tree's links point at, without follow not
    fs::create_dir_all(h.path("rt/in")).unwrap();
    fs::write(h.path("outside"), "o").unwrap();
    std::os::unix::fs::symlink(h.path("outside"), h.path("rt/in/l")).unwrap();
    fs::set_permissions(h.path("outside"), fs::Permissions::from_mode(0o700)).unwrap();
    for (follow, want) in [(false, 0o700), (true, 0o600)] {
        let args = json!({"path": h.path("rt"), "recurse": true, "mode": "a-x", "follow": follow});
        assert!(!h.run(&File, args).await.failed);
        assert_eq!(mode_of(&h.path("outside")), want, "follow={follow}");
    }
    let r = h
        .run(&File, json!({"path": h.path("nl"), "state": "hard"}))
        .await;
    assert_eq!(
        r.msg.as_deref(),
        Some("src is required for creating new hardlinks")
    );
    let r = h
        .run(
            &File,
            json!({"path": h.path("nl"), "src": "nx", "state": "hard"}),
        )
        .await;
    assert_eq!(r.msg.as_deref(), Some("src does not exist"));
    assert_eq!(
        (&r.data["dest"], &r.data["src"]),
        (&json!(h.path("nl")), &json!("nx"))
    );
    // check mode warns of an owner or group that is not there
    h.check = true;
    let args = json!({"path": h.path("z"), "owner": "no-such-user-x", "group": "4242420"});
    let r = h.run(&File, args).await;
    assert_eq!(
        r.data["warnings"],
        json!([
            "failed to look up user no-such-user-x. Create user up to this point in real play",
            "failed to look up group with gid 4242420. Create group up to this point in real play"
        ])
    );
    h.check = false;
    // a sticky bit shows as Python's '0%03o' does
    let r = h
        .run(&File, json!({"path": h.path("z"), "mode": "01444"}))
        .await;
    assert_eq!(r.data["mode"], json!("01444"));
}

/// Issue 18: the `diff` result Ansible's file module always returns (the file target
/// asserts on it): a symlink's old/new src, a removed directory's contents, changed times.
#[tokio::test]
async fn diff_result_has_ansibles_before_and_after() {
    let mut h = Harness::new();
    h.diff = true;
    let (link, target) = (h.path("l"), h.path("t"));
    fs::write(&target, "x").unwrap();
    let args = json!({"src": target, "dest": link, "state": "link"});
    let r = h.run(&File, args).await;
    assert_eq!(
        r.data["diff"]["before"],
        json!({"path": link, "state": "absent"})
    );
    assert_eq!(
        r.data["diff"]["after"],
        json!({"path": link, "state": "link"})
    );
    let r = h
        .run(&File, json!({"src": "t", "dest": link, "state": "link"}))
        .await;
    assert!(r.changed);
    assert_eq!(
        r.data["diff"]["before"],
        json!({"path": link, "src": target})
    );
    assert_eq!(r.data["diff"]["after"], json!({"path": link, "src": "t"}));

    fs::create_dir_all(h.path("d/sub")).unwrap();
    fs::write(h.path("d/sub/f"), "y").unwrap();
    let r = h
        .run(&File, json!({"path": h.path("d"), "state": "absent"}))
        .await;
    assert_eq!(
        r.data["diff"]["before"]["path_content"],
        json!({"directories": [h.path("d/sub")], "files": [h.path("d/sub/f")]})
    );

    let args = json!({"path": target, "modification_time": "202202081414.00",
                      "modification_time_format": "%Y%m%d%H%M.%S", "mode": "0600"});
    let r = h.run(&File, args.clone()).await;
    assert!(r.changed, "{:?}", r.to_json());
    let after = &r.data["diff"]["after"];
    assert!(after["mtime"].is_number(), "{after}");
    assert_eq!(after["mode"], json!("0600"));
    assert_eq!(r.data["diff"]["before"]["mode"], json!("0644"));
    let r = h.run(&File, args).await;
    assert!(!r.changed);
    assert_eq!(r.data["diff"]["after"], json!({"path": target}));
}

#[tokio::test]
async fn directory_is_created_with_parents_then_unchanged() {
    let h = Harness::new();
    let path = h.path("a/b/c");
    let args = json!({"path": path, "state": "directory", "mode": "0750"});
    let r = h.run(&File, args.clone()).await;
    assert!(r.changed && !r.failed, "{:?}", r.to_json());
    assert_eq!(mode_of(&path), 0o750);
    assert_eq!(mode_of(&h.path("a")), 0o750, "new parents get the mode too");
    let j = r.to_json();
    assert_eq!(
        (j["state"].as_str(), j["mode"].as_str()),
        (Some("directory"), Some("0750"))
    );
    assert!(!h.run(&File, args).await.changed);
    let r = h
        .run(
            &File,
            json!({"path": path, "state": "directory", "mode": "u=rwx,g=rx,o=rx"}),
        )
        .await;
    assert!(r.changed);
    assert_eq!(mode_of(&path), 0o755);
}

#[tokio::test]
async fn recurse_sets_modes_below() {
    let h = Harness::new();
    fs::create_dir_all(h.root().join("t/sub")).unwrap();
    fs::write(h.root().join("t/sub/f"), "x").unwrap();
    let args = json!({"path": h.path("t"), "state": "directory", "mode": "0700", "recurse": true});
    assert!(h.run(&File, args.clone()).await.changed);
    assert_eq!(mode_of(&h.path("t/sub/f")), 0o700);
    assert!(!h.run(&File, args).await.changed);
}

#[tokio::test]
async fn check_mode_changes_nothing() {
    let mut h = Harness::new();
    h.check = true;
    h.diff = true;
    let r = h
        .run(&File, json!({"path": h.path("d"), "state": "directory"}))
        .await;
    assert!(r.changed);
    assert!(!h.root().join("d").exists());
    assert!(r.diffs[0].before.contains("\"state\": \"absent\""));
    assert!(r.diffs[0].after.contains("\"state\": \"directory\""));
    fs::write(h.path("f"), "").unwrap();
    let r = h
        .run(&File, json!({"path": h.path("f"), "state": "absent"}))
        .await;
    assert!(r.changed);
    assert!(h.root().join("f").exists());
}

#[tokio::test]
async fn absent_touch_and_file_states() {
    let h = Harness::new();
    let path = h.path("x");
    let r = h.run(&File, json!({"path": path, "state": "absent"})).await;
    assert!(!r.changed && !r.failed);
    let r = h.run(&File, json!({"path": path, "state": "file"})).await;
    assert!(r.failed);
    assert_eq!(
        r.msg.as_deref(),
        Some(format!("file ({path}) is absent, cannot continue").as_str())
    );
    let r = h
        .run(
            &File,
            json!({"path": path, "state": "touch", "mode": "0600"}),
        )
        .await;
    assert!(r.changed && !r.failed, "{:?}", r.to_json());
    assert_eq!(mode_of(&path), 0o600);
    let r = h.run(&File, json!({"path": path, "state": "touch"})).await;
    assert!(r.changed, "touch always changes");
    let r = h
    .run(
        &File,
        json!({"path": path, "state": "touch", "access_time": "preserve", "modification_time": "preserve"}),
    )
    .await;
    assert!(!r.changed);
    let r = h
        .run(&File, json!({"path": path, "state": "directory"}))
        .await;
    assert_eq!(
        r.msg.as_deref(),
        Some(format!("{path} already exists as a file").as_str())
    );
    let r = h.run(&File, json!({"path": path, "state": "absent"})).await;
    assert!(r.changed);
    assert!(!h.root().join("x").exists());
}

#[tokio::test]
async fn symlinks_and_hard_links() {
    let h = Harness::new();
    fs::write(h.path("target"), "t").unwrap();
    let link = h.path("link");
    let args = json!({"path": link, "src": "target", "state": "link"});
    let r = h.run(&File, args.clone()).await;
    assert!(r.changed && !r.failed, "{:?}", r.to_json());
    assert_eq!(fs::read_link(&link).unwrap().to_str(), Some("target"));
    assert_eq!(r.to_json()["dest"], link);
    assert!(!h.run(&File, args).await.changed);

    let r = h
        .run(
            &File,
            json!({"path": link, "src": "nowhere", "state": "link"}),
        )
        .await;
    assert!(r.failed && r.msg.unwrap().starts_with("src file does not exist"));
    let r = h
        .run(
            &File,
            json!({"path": link, "src": "nowhere", "state": "link", "force": true}),
        )
        .await;
    assert!(r.changed && !r.failed);

    let r = h
        .run(
            &File,
            json!({"path": h.path("target"), "src": "/", "state": "link"}),
        )
        .await;
    assert!(r.failed);
    assert!(r
        .msg
        .unwrap()
        .contains("refusing to convert from file to symlink"));

    let hard = h.path("hard");
    let args = json!({"path": hard, "src": h.path("target"), "state": "hard"});
    assert!(h.run(&File, args.clone()).await.changed);
    assert_eq!(
        fs::metadata(&hard).unwrap().ino(),
        fs::metadata(h.path("target")).unwrap().ino()
    );
    assert!(!h.run(&File, args).await.changed);
}
