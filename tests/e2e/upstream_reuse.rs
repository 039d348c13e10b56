//! One target connection per client connection and target: exec channels multiplexed on one
//! connection to the bastion (OpenSSH `ControlMaster` here, `fleet run --via` in
//! fleet/tests/via_bastion.rs) reuse the bastion's connection to the target instead of logging
//! in again for each, while each exec stays its own audited, logged session. A target
//! connection that died is replaced on the next exec; the kept connections end with the
//! client's.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use e2e::{poll, secs, Client, Lab};

const BIN: &str = env!("CARGO_BIN_EXE_bastion");

const POLICY: &str = "roles:
  - name: ops
    members: [alice]
    hosts: [\"web*\"]
    logins: [root]
    require_totp: false
    deny_commands: [forbidden-word]
";

/// An `ssh -M -N` master connection to the bastion; killed when dropped.
struct Master {
    child: Child,
    socket: PathBuf,
}

impl Master {
    fn start(client: &Client) -> Master {
        let socket = client.dir().join("cm.sock");
        let child = client
            .ssh("alice", &["-M", "-N", "-o", &control_path(&socket)])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn ssh -M");
        let master = Master { child, socket };
        poll(secs(15), || master.socket.exists().then_some(()))
            .expect("the master connection never opened its control socket");
        master
    }

    /// Runs `ssh ... web1 COMMAND` as a channel of the master connection.
    fn exec(&self, client: &Client, command: &str) -> e2e::Outcome {
        client.run_ssh(
            "alice",
            &[
                "-o",
                &control_path(&self.socket),
                "-o",
                "ControlMaster=no",
                "web1",
                command,
            ],
        )
    }
}

impl Drop for Master {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn control_path(socket: &Path) -> String {
    format!("ControlPath={}", socket.display())
}

#[test]
fn exec_channels_of_one_connection_share_one_target_login() {
    // INFO: the target's log then shows each login the bastion makes.
    let mut lab = Lab::with_sshd_config(BIN, &[("web1", &[])], "LogLevel INFO\n");
    lab.bastion.write_policies(POLICY);
    let alice = lab.bastion.add_user("alice", false);
    lab.serve();
    let client = Client::new(&lab.bastion, &alice);
    let master = Master::start(&client);

    for i in 0..3 {
        let out = master.exec(&client, &format!("echo run-{i}; exit {i}"));
        assert_eq!(out.code, Some(i), "{out}");
        assert_eq!(out.stdout, format!("run-{i}\n"), "{out}");
    }
    // A blocked command is refused before the target, with its own status, and costs the
    // kept connection nothing.
    let blocked = master.exec(&client, "echo forbidden-word");
    assert_eq!(blocked.code, Some(126), "{blocked}");
    assert_eq!(
        blocked.stderr.trim_end(),
        "bastion: command blocked by policy (role ops, rule forbidden-word)",
        "{blocked}"
    );
    assert_eq!(master.exec(&client, "true").code, Some(0));
    assert_eq!(
        lab.target("web1").accepted_logins(),
        1,
        "{}",
        lab.target("web1").log()
    );
    // ...yet every exec was a session of its own, audited from start to end.
    let audit = lab.bastion.audit_events();
    let count = |kind: &str| audit.iter().filter(|e| e["event"] == kind).count();
    assert_eq!((count("session_start"), count("session_end")), (5, 5));
    let logged = lab.bastion.json_lines(&["commands", "--json"]);
    assert_eq!(logged.len(), 5, "{logged:?}");

    // The target dies and comes back: the kept connection is gone, the next exec logs in anew.
    lab.target_mut("web1").crash();
    lab.target_mut("web1").restart();
    let out = master.exec(&client, "echo again");
    assert_eq!(out.code, Some(0), "{out}");
    assert_eq!(out.stdout, "again\n");
    assert_eq!(
        lab.target("web1").accepted_logins(),
        1,
        "{}",
        lab.target("web1").log()
    );

    // The client leaves: the bastion says goodbye to the target.
    drop(master);
    poll(secs(10), || {
        lab.target("web1")
            .log()
            .contains("Received disconnect")
            .then_some(())
    })
    .unwrap_or_else(|| {
        panic!(
            "connection kept after the client left: {}",
            lab.target("web1").log()
        )
    });
}
