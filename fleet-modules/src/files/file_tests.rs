use std::fs;
use std::os::unix::fs::MetadataExt;

use serde_json::json;

use super::File;
use crate::files::testkit::{mode_of, Harness};

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
