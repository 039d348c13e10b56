//! Shared recordings (issue 19): recordings reach shared storage while the session runs, in
//! whole-line chunks, and are sealed at its end; a node without the file (here: the local copy
//! removed, as on another node) replays, exports and verifies it from shared storage; chunks
//! edited in storage are refused against the seal signed in the audit log.
//!
//! Both kinds of shared storage: a shared directory (`file://`) and an S3 bucket on a real
//! S3-compatible server (`s3s-fs` from crates.io, `e2e::s3`: Debian packages none, and the
//! Python ones on PyPI are mocks), spoken to over HTTP with SigV4 like any bucket.

use std::path::{Path, PathBuf};

use e2e::{poll, secs, Client, Lab};

const BIN: &str = env!("CARGO_BIN_EXE_bastion");

const POLICY: &str = "roles:
  - name: ops
    members: [alice]
    hosts: [web1]
    logins: [root]
    require_totp: false
";

/// Every chunk of the recording `name` in the shared directory, concatenated in order.
fn shipped(shared: &Path, name: &str) -> String {
    let dir = shared.join(name);
    let mut parts: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    parts.retain(|p| p.extension().is_some_and(|e| e == "part"));
    parts.sort();
    parts
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

#[test]
fn recordings_ship_to_a_shared_directory_and_any_node_reads_them_from_there() {
    let store = tempfile::tempdir().unwrap();
    let url = format!("file://{}", store.path().display());
    ship_and_read(&url, store.path(), &[]);
}

#[test]
fn recordings_ship_to_an_s3_bucket_and_any_node_reads_them_from_there() {
    let server = e2e::s3::S3Server::start("recordings");
    let env = server.env();
    ship_and_read(&server.url("node-a"), &server.dir("node-a"), &env);
}

/// The whole story against the storage at `url`, whose objects the test finds as files under
/// `stored`; `env` is what a client of that storage needs.
fn ship_and_read(url: &str, stored: &Path, env: &[(&str, String)]) {
    let mut lab = Lab::new(BIN, &[("web1", &[])]);
    lab.bastion.write_policies(POLICY);
    for (k, v) in env {
        lab.bastion.set_env(k, v);
    }
    lab.bastion.set(&format!(
        "[shared_recordings]\nurl = \"{url}\"\ninterval = \"1s\""
    ));
    let alice = lab.bastion.add_user("alice", false);
    lab.serve();
    let client = Client::new(&lab.bastion, &alice);

    let mut pty = client.terminal("alice", &["web1"], 80, 24);
    pty.send("echo LIVE-$((6*7))\r");
    pty.expect("LIVE-42", secs(20));
    let session = poll(secs(10), || {
        lab.bastion
            .sessions()
            .into_iter()
            .find(|s| s["status"] == "active")
    })
    .expect("the shell is an active session");
    let recorded = session["recording"].as_str().unwrap().to_string();
    let name = Path::new(&recorded).file_name().unwrap().to_str().unwrap();
    // While the session runs, its output reaches shared storage within the interval.
    let live = poll(secs(15), || {
        let text = shipped(stored, name);
        text.contains("LIVE-42").then_some(text)
    })
    .unwrap_or_else(|| panic!("the live output never shipped; log: {}", lab.bastion.log()));
    assert!(
        live.ends_with('\n'),
        "a live chunk holds whole lines: {live:?}"
    );
    assert!(!stored.join(name).join("sealed").exists());

    pty.send("echo LATE-$((7*7))\r");
    pty.expect("LATE-49", secs(20));
    pty.send("exit\r");
    assert_eq!(pty.wait(secs(20)), Some(0), "{}", pty.output());
    poll(secs(15), || {
        stored.join(name).join("sealed").exists().then_some(())
    })
    .expect("the ended session's recording was never sealed in shared storage");
    let local = std::fs::read_to_string(&recorded).unwrap();
    assert_eq!(shipped(stored, name), local, "storage holds the whole file");

    // This node loses its copy (as another node never had it): export, replay and verify
    // read it from shared storage.
    std::fs::remove_file(&recorded).unwrap();
    let id = session["id"].to_string();
    let export = lab.bastion.cli(&["export", &id]);
    export.assert_success();
    assert_eq!(export.stdout, local);
    let verify = lab.bastion.cli(&["audit", "verify"]);
    assert_eq!(verify.code, Some(0), "{verify}");
    let replay = lab.bastion.cli(&["replay", &id, "--speed", "1000"]);
    assert!(replay.stdout.contains("LATE-49"), "{replay}");

    // Chunks edited in storage no longer add up to the seal the audit log signed.
    std::fs::remove_file(lab.bastion.data_dir().join("recordings").join(name)).unwrap();
    std::fs::remove_file(&recorded).ok();
    let part = std::fs::read_dir(stored.join(name))
        .unwrap()
        .map(|p| p.unwrap().path())
        .find(|p| {
            p.extension().is_some_and(|e| e == "part")
                && std::fs::read_to_string(p).unwrap().contains("LIVE-42")
        })
        .expect("a chunk holds the LIVE-42 line");
    let forged = std::fs::read_to_string(&part)
        .unwrap()
        .replace("LIVE-42", "LIVE-43");
    std::fs::write(&part, forged).unwrap();
    let export = lab.bastion.cli(&["export", &id]);
    assert_ne!(export.code, Some(0), "{export}");
    assert!(!export.stdout.contains("LIVE-43"), "{export}");
    assert!(export.stderr.contains("the seal says"), "{export}");
}
