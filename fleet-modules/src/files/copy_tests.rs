//! Tests of the `copy` module against a real directory: content, controller files and trees,
//! `remote_src`, check and diff mode, and Ansible's messages for what cannot be copied.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use serde_json::json;

use super::Copy;
use crate::files::remote_file::{md5_hex, sha1_hex};
use crate::files::testkit::{mode_of, Harness};

/// Issue 18: an empty `src` is no source, and no `dest` is the action's own error, with
/// Ansible's messages.
#[tokio::test]
async fn empty_src_and_missing_dest_errors() {
    let h = Harness::new();
    let r = h.run(&Copy, json!({"src": "", "dest": h.path("x")})).await;
    assert!(r.failed);
    assert_eq!(r.msg.as_deref(), Some("src (or content) is required"));
    let r = h.run(&Copy, json!({"src": "foo.txt"})).await;
    assert_eq!(r.msg.as_deref(), Some("dest is required"));
    let dir = h.path("d");
    fs::create_dir(&dir).unwrap();
    let r = h.run(&Copy, json!({"content": "x", "dest": dir})).await;
    assert_eq!(
        r.msg.as_deref(),
        Some("can not use content with a dir as dest")
    );
}

#[tokio::test]
async fn content_is_written_once_then_left_alone() {
    let h = Harness::new();
    let dest = h.path("app.conf");
    let args = json!({"content": "host=a\n", "dest": dest, "mode": "0640"});
    let r = h.run(&Copy, args.clone()).await;
    assert!(r.changed && !r.failed, "{:?}", r.to_json());
    assert_eq!(fs::read_to_string(&dest).unwrap(), "host=a\n");
    assert_eq!(mode_of(&dest), 0o640);
    let j = r.to_json();
    assert_eq!(j["checksum"], sha1_hex(b"host=a\n"));
    assert_eq!(j["md5sum"], md5_hex(b"host=a\n"));
    assert_eq!(j["mode"], "0640");
    assert_eq!(j["size"], 7);
    assert_eq!(j["dest"], dest);

    let again = h.run(&Copy, args).await;
    assert!(!again.changed && !again.failed, "{:?}", again.to_json());
    // a mode change alone is a change
    let r = h
        .run(
            &Copy,
            json!({"content": "host=a\n", "dest": dest, "mode": 0o600}),
        )
        .await;
    assert!(r.changed);
    assert_eq!(mode_of(&dest), 0o600);
}

#[tokio::test]
async fn existing_mode_is_kept_and_backup_made() {
    let h = Harness::new();
    let dest = h.path("f");
    fs::write(&dest, "old\n").unwrap();
    fs::set_permissions(&dest, fs::Permissions::from_mode(0o604)).unwrap();
    let r = h
        .run(
            &Copy,
            json!({"content": "new\n", "dest": dest, "backup": true}),
        )
        .await;
    assert!(r.changed);
    assert_eq!(mode_of(&dest), 0o604);
    let backup = r.to_json()["backup_file"].as_str().unwrap().to_string();
    assert!(backup.starts_with(&dest) && backup.ends_with('~'));
    assert_eq!(fs::read_to_string(backup).unwrap(), "old\n");
}

#[tokio::test]
async fn check_mode_reports_without_writing_and_diff_shows_content() {
    let mut h = Harness::new();
    let dest = h.path("f");
    fs::write(&dest, "one\n").unwrap();
    h.check = true;
    h.diff = true;
    let r = h
        .run(&Copy, json!({"content": "two\n", "dest": dest}))
        .await;
    assert!(r.changed && !r.failed);
    assert_eq!(fs::read_to_string(&dest).unwrap(), "one\n");
    assert_eq!(r.diffs.len(), 1);
    assert_eq!(r.diffs[0].before, "one\n");
    assert_eq!(r.diffs[0].after, "two\n");
    let r = h
        .run(&Copy, json!({"content": "x", "dest": h.path("new")}))
        .await;
    assert!(r.changed);
    assert!(!h.root().join("new").exists());
}

#[tokio::test]
async fn force_false_keeps_an_existing_file() {
    let h = Harness::new();
    let dest = h.path("mode.conf");
    let args = json!({"content": "mode=development\n", "dest": dest, "force": false});
    assert!(h.run(&Copy, args.clone()).await.changed);
    fs::write(&dest, "mode=production\n").unwrap();
    let r = h.run(&Copy, args).await;
    assert!(!r.changed && !r.failed);
    assert_eq!(fs::read_to_string(&dest).unwrap(), "mode=production\n");
}

#[tokio::test]
async fn missing_src_and_missing_parent_fail_like_ansible() {
    let h = Harness::new();
    let r = h
        .run(&Copy, json!({"src": "nope.txt", "dest": h.path("x")}))
        .await;
    assert!(r.failed);
    assert!(r
        .msg
        .unwrap()
        .starts_with("Could not find or access 'nope.txt'"));
    let r = h
        .run(&Copy, json!({"content": "a", "dest": h.path("no/such/x")}))
        .await;
    assert!(r.failed);
    assert!(r.msg.unwrap().contains("does not exist"));
}

#[tokio::test]
async fn a_mebibyte_of_binary_round_trips_exactly() {
    use rand::RngCore;
    let h = Harness::new();
    let mut data = vec![0u8; 1 << 20];
    rand::thread_rng().fill_bytes(&mut data);
    fs::create_dir(h.root().join("files")).unwrap();
    fs::write(h.root().join("files/blob.bin"), &data).unwrap();
    let dest = h.path("out/");
    let r = h.run(&Copy, json!({"src": "blob.bin", "dest": dest})).await;
    assert!(r.changed && !r.failed, "{:?}", r.to_json());
    let written = fs::read(h.root().join("out/blob.bin")).unwrap();
    assert!(written == data, "content differs");
    let r = h.run(&Copy, json!({"src": "blob.bin", "dest": dest})).await;
    assert!(!r.changed, "{:?}", r.to_json());
    assert_eq!(r.to_json()["checksum"], sha1_hex(&data));
}

#[tokio::test]
async fn directories_copy_recursively_and_into_existing_dirs() {
    let h = Harness::new();
    let tree = h.root().join("tree");
    fs::create_dir_all(tree.join("sub/empty")).unwrap();
    fs::write(tree.join("a"), "A").unwrap();
    fs::write(tree.join("sub/b"), "B").unwrap();
    let dest = h.path("target");
    let args = json!({"src": tree.to_str().unwrap(), "dest": dest, "directory_mode": "0750"});
    let r = h.run(&Copy, args.clone()).await;
    assert!(r.changed && !r.failed, "{:?}", r.to_json());
    assert_eq!(
        fs::read_to_string(h.root().join("target/tree/sub/b")).unwrap(),
        "B"
    );
    assert!(h.root().join("target/tree/sub/empty").is_dir());
    assert_eq!(mode_of(&h.path("target/tree/sub")), 0o750);
    assert!(!h.run(&Copy, args).await.changed);

    // a file copied onto an existing directory lands inside it
    let r = h
        .run(
            &Copy,
            json!({"src": tree.join("a").to_str().unwrap(), "dest": dest}),
        )
        .await;
    assert!(r.changed);
    assert_eq!(fs::read_to_string(h.root().join("target/a")).unwrap(), "A");
}

#[tokio::test]
async fn remote_src_copies_on_the_host() {
    let h = Harness::new();
    fs::write(h.path("from"), "data\n").unwrap();
    let args = json!({"src": h.path("from"), "dest": h.path("to"), "remote_src": true});
    assert!(h.run(&Copy, args.clone()).await.changed);
    assert_eq!(fs::read_to_string(h.path("to")).unwrap(), "data\n");
    assert!(!h.run(&Copy, args).await.changed);
}

/// Issue 18: a `remote_src` copy of a directory is left to Ansible's copy module (its
/// copy_directory semantics); a file stays native.
#[tokio::test]
async fn remote_src_directory_defers_to_ansible() {
    let h = Harness::new();
    fs::create_dir(h.path("tree")).unwrap();
    for src in [h.path("tree"), format!("{}/", h.path("tree"))] {
        let args = json!({"src": src, "dest": h.path("out/"), "remote_src": true});
        let r = h.run(&Copy, args).await;
        assert_eq!(
            r.defer_to_ansible.as_deref(),
            Some("a remote_src copy of a directory")
        );
        assert!(!h.root().join("out").exists(), "nothing done natively");
    }
    fs::write(h.path("tree/f"), "x").unwrap();
    let args = json!({"src": h.path("tree/f"), "dest": h.path("g"), "remote_src": true});
    let r = h.run(&Copy, args).await;
    assert!(r.defer_to_ansible.is_none() && r.changed);
    // neither a file nor a directory: Ansible's message
    let args = json!({"src": "/dev/null", "dest": h.path("n"), "remote_src": true});
    let r = h.run(&Copy, args).await;
    assert_eq!(
        r.msg.as_deref(),
        Some("Cannot copy invalid source '/dev/null': not a file")
    );
}

#[tokio::test]
async fn validate_rejects_bad_content() {
    let h = Harness::new();
    let dest = h.path("v");
    let r = h
        .run(
            &Copy,
            json!({"content": "bad\n", "dest": dest, "validate": "grep -q good %s"}),
        )
        .await;
    assert!(r.failed, "{:?}", r.to_json());
    assert!(!h.root().join("v").exists());
    let leftovers = fs::read_dir(h.root()).unwrap().count();
    assert_eq!(leftovers, 0, "no temporary file left behind");
    let r = h
        .run(
            &Copy,
            json!({"content": "good\n", "dest": dest, "validate": "grep -q good %s"}),
        )
        .await;
    assert!(r.changed && !r.failed);
}

#[tokio::test]
async fn mode_preserve_takes_the_source_mode() {
    let h = Harness::new();
    let src = h.path("script.sh");
    fs::write(&src, "#!/bin/sh\n").unwrap();
    fs::set_permissions(&src, fs::Permissions::from_mode(0o751)).unwrap();
    let r = h
        .run(
            &Copy,
            json!({"src": src, "dest": h.path("out.sh"), "mode": "preserve"}),
        )
        .await;
    assert!(r.changed && !r.failed, "{:?}", r.to_json());
    assert_eq!(mode_of(&h.path("out.sh")), 0o751);
    // issue 18: with remote_src the host file's mode
    fs::set_permissions(&src, fs::Permissions::from_mode(0o547)).unwrap();
    let args = json!({"src": src, "dest": h.path("out2.sh"), "mode": "preserve",
                      "remote_src": true});
    let r = h.run(&Copy, args).await;
    assert!(r.changed && !r.failed, "{:?}", r.to_json());
    assert_eq!(mode_of(&h.path("out2.sh")), 0o547);
    assert_eq!(r.to_json()["mode"], "0547");
}
