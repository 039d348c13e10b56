//! `fleet run --via`: a playbook whose every connection goes through the real bastion, with one
//! TOTP prompt for the whole run; the bastion's policy decides which hosts fleet may reach and
//! its command log shows what fleet ran. A module fleet lacks (`getent`, with become) runs
//! through Ansible's code over the same bastion route.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

const FLEET: &str = env!("CARGO_BIN_EXE_fleet");

#[test]
fn a_playbook_through_the_bastion_is_authorized_logged_and_asks_one_code() {
    let bin = e2e::workspace_binary("bastion");
    // INFO: the targets' logs then count the SSH logins the bastion made to them.
    let mut lab = e2e::Lab::with_sshd_config(
        &bin,
        &[("web1", &["web"]), ("web2", &["web"]), ("db1", &["db"])],
        "LogLevel INFO\n",
    );
    lab.bastion.write_policies(
        "roles:\n  - name: deploy\n    members: [alice]\n    hosts: [\"web*\"]\n    logins: [root]\n    channels: [exec]\n    deny_commands: [forbidden-marker]\n",
    );
    let alice = lab.bastion.add_user("alice", true);
    lab.serve();

    let home = tempfile::tempdir().unwrap();
    let ssh_dir = home.path().join(".ssh");
    fs::create_dir_all(&ssh_dir).unwrap();
    let host_pub = Command::new("ssh-keygen")
        .arg("-y")
        .arg("-f")
        .arg(lab.bastion.data_dir().join("host_key"))
        .output()
        .unwrap();
    fs::write(
        ssh_dir.join("known_hosts"),
        format!(
            "[127.0.0.1]:{} {}",
            lab.bastion.port(),
            String::from_utf8_lossy(&host_pub.stdout)
        ),
    )
    .unwrap();
    let (code, _) = e2e::fresh_code(alice.totp_secret.as_deref().unwrap());
    let asked = home.path().join("asked");
    let askpass = home.path().join("askpass.sh");
    fs::write(
        &askpass,
        format!(
            "#!/bin/sh\necho \"$1\" >> '{}'\necho {code}\n",
            asked.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&askpass, fs::Permissions::from_mode(0o755)).unwrap();

    let out_dir = home.path().join("out");
    let inventory = home.path().join("inventory.ini");
    fs::write(
        &inventory,
        "[web]\nweb1\nweb2\n[db]\ndb1\n[all:vars]\nansible_user=root\n",
    )
    .unwrap();
    let playbook = home.path().join("site.yml");
    fs::write(
        &playbook,
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: marker\n      copy:\n        content: \"deployed {{{{ inventory_hostname }}}}\\n\"\n        dest: {}/{{{{ inventory_hostname }}}}.txt\n    - name: who\n      command: id -un\n      register: who\n    - name: blocked on web2\n      command: echo forbidden-marker\n      when: inventory_hostname == 'web2'\n    - getent: database=passwd key=root\n      become: true\n    - assert:\n        that: [\"who.stdout == 'root'\", \"getent_passwd.root[4] == '/root'\"]\n",
            out_dir.display()
        ),
    )
    .unwrap();
    fs::create_dir_all(&out_dir).unwrap();

    let via = format!("alice@127.0.0.1:{}", lab.bastion.port());
    let out = Command::new(FLEET)
        .args(["run"])
        .arg(&playbook)
        .arg("-i")
        .arg(&inventory)
        .args(["--via", &via, "--private-key"])
        .arg(&alice.key.private)
        .env("HOME", home.path())
        .env(
            "FLEET_ANSIBLE_PYTHON",
            e2e::fleet::ansible_venv().join("bin/python"),
        )
        .env("SSH_ASKPASS", &askpass)
        .env("SSH_ASKPASS_REQUIRE", "force")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // db1 is not granted: unreachable through the bastion; web2's blocked task fails (the
    // host stays reachable), web1 runs every task.
    assert_eq!(out.status.code(), Some(4), "{stdout}\n{stderr}");
    assert_eq!(
        fs::read_to_string(out_dir.join("web1.txt")).unwrap(),
        "deployed web1\n"
    );
    assert_eq!(
        fs::read_to_string(out_dir.join("web2.txt")).unwrap(),
        "deployed web2\n"
    );
    assert!(!out_dir.join("db1.txt").exists());
    assert!(stdout.contains("fatal: [db1]: UNREACHABLE!"), "{stdout}");
    let blocked_line = stdout
        .lines()
        .find(|l| l.starts_with("fatal: [web2]"))
        .unwrap_or_default();
    assert!(
        blocked_line.starts_with("fatal: [web2]: FAILED!")
            && blocked_line.contains(
                "bastion: command blocked by policy (role deploy, rule forbidden-marker)"
            ),
        "{stdout}"
    );
    let recap_line = |host: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(host) && l.contains(" : ok="))
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        recap_line("web1"),
        "web1 : ok=4 changed=2 unreachable=0 failed=0 skipped=1 rescued=0 ignored=0"
    );
    assert_eq!(
        recap_line("web2"),
        "web2 : ok=2 changed=2 unreachable=0 failed=1 skipped=0 rescued=0 ignored=0"
    );
    assert_eq!(
        recap_line("db1"),
        "db1 : ok=0 changed=0 unreachable=1 failed=0 skipped=0 rescued=0 ignored=0"
    );
    // One code for the whole run.
    let prompts = fs::read_to_string(&asked).unwrap();
    assert_eq!(prompts.lines().count(), 1, "{prompts}");

    // The bastion logged each task on each granted host by what it is (name, module,
    // arguments), not by fleet's wrapper script, and denied db1.
    let logged = lab.bastion.json_lines(&["commands", "--json"]);
    let rows = |host: &str| -> Vec<(String, String, bool)> {
        logged
            .iter()
            .filter(|c| c["host"] == host)
            .map(|c| {
                let text = c["command"].as_str().unwrap_or_default().to_string();
                (
                    text,
                    c["origin"].as_str().unwrap_or_default().to_string(),
                    c["blocked"] == true,
                )
            })
            .collect()
    };
    for host in ["web1", "web2"] {
        let rows = rows(host);
        let has = |text: &str| {
            rows.iter()
                .any(|(c, o, _)| c.starts_with(text) && o == "fleet")
        };
        assert!(has("TASK [who] command: id -un"), "{host}: {rows:?}");
        assert!(
            has(&format!(
                "TASK [marker] copy: content=deployed {host}\\n dest="
            )),
            "{host}: {rows:?}"
        );
        assert!(
            rows.iter()
                .all(|(c, o, _)| c.starts_with("TASK [") && o == "fleet"),
            "{host}: a row shows a script instead of its task: {rows:?}"
        );
    }
    let web2 = rows("web2");
    assert!(
        web2.iter().any(|(c, _, blocked)| *blocked
            && c == "TASK [blocked on web2] command: echo forbidden-marker"),
        "{web2:?}"
    );
    assert!(rows("web1").iter().all(|(_, _, blocked)| !blocked));
    // Policy saw the script, not the label: the audited block names the rule and the script.
    let audit = lab.bastion.audit_events();
    let blocks: Vec<_> = audit
        .iter()
        .filter(|e| e["event"] == "command_blocked")
        .collect();
    assert_eq!(blocks.len(), 1, "{blocks:?}");
    assert_eq!(
        blocks[0]["detail"]["rule"], "forbidden-marker",
        "{blocks:?}"
    );
    assert!(
        !blocks[0]["detail"]["command"]
            .as_str()
            .unwrap_or_default()
            .starts_with("TASK ["),
        "{blocks:?}"
    );

    // Every task was its own audited session, yet each target saw ONE login from the bastion:
    // the exec channels of fleet's one bastion connection shared the target connection.
    for host in ["web1", "web2"] {
        let starts = audit
            .iter()
            .filter(|e| e["event"] == "session_start" && e["detail"]["host"] == host)
            .count();
        let ends = audit
            .iter()
            .filter(|e| e["event"] == "session_end" && e["detail"]["host"] == host)
            .count();
        assert!(
            starts >= 3 && starts == ends,
            "{host}: {starts} starts, {ends} ends"
        );
        assert_eq!(
            lab.target(host).accepted_logins(),
            1,
            "{host}: {}",
            lab.target(host).log()
        );
    }
    assert_eq!(lab.target("db1").accepted_logins(), 0);
    // fleet has gone: the bastion ends the connections it kept for it.
    for host in ["web1", "web2"] {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !lab.target(host).log().contains("Received disconnect") {
            assert!(
                std::time::Instant::now() < deadline,
                "{host}: the bastion kept its connection after fleet left: {}",
                lab.target(host).log()
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
    let denials: Vec<_> = lab
        .bastion
        .audit_events()
        .into_iter()
        .filter(|e| e["event"] == "policy_deny" || e["event"] == "access_denied")
        .collect();
    assert!(
        denials.iter().any(|e| e.to_string().contains("db1")),
        "{denials:?}"
    );
}
