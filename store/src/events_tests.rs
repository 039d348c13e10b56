//! Unit tests of audit events (`events.rs`), kept beside it so that file stays readable.

use super::*;
use serde_json::json;

fn samples() -> Vec<AuditEvent> {
    vec![
        AuditEvent::LoginOk {
            key: "SHA256:k".into(),
            method: "publickey".into(),
        },
        AuditEvent::SessionEnd {
            session: 3,
            host: "web1".into(),
            login: "root".into(),
            kind: "shell".into(),
            exit_status: Some(0),
            exit_signal: None,
            bytes_in: 5,
            bytes_out: 7,
            reason: "closed".into(),
            seal: Seal {
                recording: Some("/r/3.cast".into()),
                recording_sha256: Some("ab".into()),
                recording_size: Some(9),
            },
        },
        AuditEvent::FileTransfer {
            session: 4,
            host: "web1".into(),
            login: None,
            kind: "sftp".into(),
            transfer: Transfer::SftpMore {
                op: "more".into(),
                count: 2,
            },
        },
        AuditEvent::Admin {
            target_user: "bob".into(),
            by: "root".into(),
            change: AdminChange::UserAdd {
                keys: vec!["SHA256:x".into()],
                totp: true,
            },
        },
        AuditEvent::CommandLogged {
            session: 2,
            command_id: 9,
            sha256: "ef".into(),
        },
        AuditEvent::NodeFenced {
            node: "node-a".into(),
            sessions: vec![3, 4],
            reason: "taken for dead".into(),
            unsealed: vec!["/r/3.cast.unsealed".into()],
        },
        AuditEvent::Checkpoint {
            records: 1000,
            last_hash: "01".into(),
            commands: 3,
            last_command: Some(3),
        },
    ]
}

#[test]
fn kind_names_are_the_serialised_names_and_events_round_trip() {
    for ev in samples() {
        let whole = serde_json::to_value(&ev).unwrap();
        assert_eq!(whole["event"], ev.kind().as_str(), "{whole}");
        assert_eq!(
            AuditEvent::parse(ev.kind().as_str(), &ev.detail()).unwrap(),
            ev
        );
    }
}

#[test]
fn the_seal_reads_both_the_old_and_the_new_field_names() {
    let old = json!({"session": 2, "host": "web1", "login": "root", "reason": "crash",
                     "recording": "/r/2.cast", "sha256": "cd", "size": 10, "bytes_dropped": 3});
    let ev = AuditEvent::parse("session_interrupted", &old).unwrap();
    let (session, seal) = ev.seal().unwrap();
    assert_eq!(session, 2);
    assert_eq!(seal.recording_sha256.as_deref(), Some("cd"));
    assert_eq!(seal.recording_size, Some(10));
    let new = ev.detail();
    assert_eq!(new["recording_sha256"], "cd");
    assert_eq!(new["recording_size"], 10);
    assert!(new.get("sha256").is_none(), "{new}");
}

#[test]
fn every_file_transfer_shape_parses_to_its_own_variant() {
    let stream = json!({"session": 1, "host": "h", "login": "root", "kind": "scp",
                        "command": "scp -t /tmp", "bytes_up": 5, "bytes_down": 0, "exit_status": 0});
    let op = json!({"session": 1, "host": "h", "login": "root", "kind": "sftp",
                    "op": "read", "path": "/etc/hosts", "to": null, "bytes": 12});
    let more = json!({"session": 1, "host": "h", "kind": "sftp", "op": "more", "count": 4});
    let shape = |v: &Value| match AuditEvent::parse("file_transfer", v).unwrap() {
        AuditEvent::FileTransfer { transfer, .. } => transfer,
        other => panic!("{other:?}"),
    };
    assert!(matches!(
        shape(&stream),
        Transfer::Stream { bytes_up: 5, .. }
    ));
    assert!(matches!(shape(&op), Transfer::FileOp { bytes: 12, .. }));
    assert!(matches!(shape(&more), Transfer::SftpMore { count: 4, .. }));
}

#[test]
fn admin_changes_keep_their_action_name_beside_the_common_fields() {
    let d = AuditEvent::Admin {
        target_user: "-".into(),
        by: "root".into(),
        change: AdminChange::HostKeyForgotten {
            host: "web1".into(),
            endpoint: "127.0.1.1:22".into(),
            had_pin: true,
        },
    }
    .detail();
    assert_eq!(d["action"], "host_key_forgotten");
    assert_eq!(d["target_user"], "-");
    assert_eq!(d["had_pin"], true);
}

#[test]
fn an_unknown_event_or_a_missing_field_is_an_error() {
    assert!(AuditEvent::parse("teleport", &json!({})).is_err());
    assert!(AuditEvent::parse("login_ok", &json!({"key": "k"})).is_err());
}
