//! A Ctrl-C in a flood of output: the target prints as fast as it can (`yes`), the user presses
//! Ctrl-C, and the shell must come back at once, the session go on, and the recording and the
//! command log stay whole. warpgate, the nearest peer, froze sessions exactly here (its users'
//! report, `../shared/ANCHORS.md`): output filling the pipe between its two SSH legs blocked
//! the user's keys behind it. Here each direction of the pump is its own future
//! (`bastion/src/session/proxy.rs`), so the Ctrl-C overtakes the output still in flight.
//!
//! Both input paths are driven: keys passed as they come (no rules), and keys judged by
//! `deny_commands` (each Enter held until the echo settles, which a flood never lets happen:
//! the wait is bounded), where a rule must still stop a line typed right after the flood.

use std::path::Path;

use e2e::{secs, Client, Lab};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_bastion");

fn policy(rules: &str) -> String {
    format!(
        "roles:\n  - name: ops\n    members: [alice]\n    hosts: [web1]\n    logins: [root]\n    require_totp: false\n    record_input: true\n{rules}"
    )
}

/// Floods the terminal with `yes`, interrupts it with Ctrl-C once the flood is under way, then
/// runs one more command; returns the lab for the checks on what was stored.
fn flood_then_interrupt(rules: &str) -> (Lab, Value) {
    let (lab, alice) = Lab::serving(BIN, &[("web1", &[])], &policy(rules), "alice");
    let client = Client::new(&lab.bastion, &alice);
    let mut sh = client.terminal("alice", &["web1"], 100, 30);
    sh.expect("# ", secs(20));
    sh.send("PS1='PROM''PT$ '\r");
    sh.expect("PROMPT$ ", secs(20));

    // `$((1+1))` so the echo of the command line is not itself a flood line.
    sh.send("yes flood-line-$((1+1))\r");
    for _ in 0..200 {
        sh.expect("flood-line-2\r\n", secs(20));
    }
    sh.send("\x03");
    // The prompt comes back after the output already in flight; a frozen session never shows
    // it (and never runs the next line).
    sh.expect("PROMPT$ ", secs(60));
    sh.send("echo after-$((6*7))\r");
    sh.expect("after-42\r\n", secs(20));
    sh.expect("PROMPT$ ", secs(20));
    if !rules.is_empty() {
        sh.send("echo forbidden-word\r");
        sh.expect("command blocked by policy", secs(20));
        sh.expect("PROMPT$ ", secs(20));
    }
    sh.send("exit\r");
    assert_eq!(sh.wait(secs(30)), Some(0), "{}", sh.screen());
    let session = lab.bastion.sessions()[0].clone();
    (lab, session)
}

/// The recording's output and input, each as one string (`o` and `i` events in order), read by
/// the recordings crate's own reader (which also checks it is asciicast v2).
fn recorded(session: &Value) -> (String, String) {
    let path = session["recording"].as_str().expect("a recording");
    let cast = recordings::read_cast(Path::new(path)).unwrap_or_else(|e| panic!("{e}"));
    let input = cast
        .events
        .iter()
        .filter(|e| e.kind == recordings::EventKind::Input)
        .map(|e| e.data.as_str())
        .collect();
    (cast.output_text(), input)
}

#[test]
fn ctrl_c_stops_a_flood_at_once_and_the_session_goes_on() {
    let (lab, session) = flood_then_interrupt("");
    let (output, input) = recorded(&session);
    assert!(
        output.matches("flood-line-2\r\n").count() >= 200,
        "the flood is in the recording"
    );
    assert!(output.contains("after-42\r\n"), "so is what came after it");
    assert!(input.contains('\u{3}'), "and the Ctrl-C, as input");
    let logged = lab.bastion.command_log(&session["id"]);
    let commands: Vec<&str> = logged.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(
        commands,
        [
            "PS1='PROM''PT$ '",
            "yes flood-line-$((1+1))",
            "echo after-$((6*7))",
            "exit"
        ],
        "{logged:?}"
    );
    lab.bastion.cli(&["audit", "verify"]).assert_success();
}

#[test]
fn after_a_flood_deny_commands_still_stops_the_next_forbidden_line() {
    let (lab, session) = flood_then_interrupt("    deny_commands: ['forbidden-word']\n");
    let (output, _) = recorded(&session);
    assert!(output.contains("after-42\r\n"));
    assert!(
        !output.contains("\r\nforbidden-word\r\n"),
        "the blocked echo never ran"
    );
    let logged = lab.bastion.command_log(&session["id"]);
    let blocked: Vec<&str> = logged
        .iter()
        .filter(|(_, b)| *b)
        .map(|(c, _)| c.as_str())
        .collect();
    assert_eq!(blocked, ["echo forbidden-word"], "{logged:?}");
    assert!(
        logged.iter().any(|(c, b)| c == "echo after-$((6*7))" && !b),
        "{logged:?}"
    );
    let audited = lab.bastion.audit_of("command_blocked");
    assert_eq!(audited.len(), 1, "{audited:?}");
    lab.bastion.cli(&["audit", "verify"]).assert_success();
}
