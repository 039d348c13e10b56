//! The shared sample playbooks parse into the expected model.

use serde_json::json;

use super::*;

#[test]
fn basic_sample() {
    let path = samples_dir().join("basic.yml");
    let playbook = parse_playbook(&path, &ParseOptions::default()).expect("basic.yml parses");
    assert_eq!(playbook.plays.len(), 1);
    let play = &playbook.plays[0];
    assert_eq!(play.name.as_deref(), Some("basic configuration"));
    assert_eq!(play.hosts, "targets");
    assert_eq!(play.gather_facts, Flag::Literal(false));
    assert_eq!(play.strategy, Strategy::Linear);
    assert_eq!(
        Value::Object(play.keywords.vars.clone()),
        json!({"base": "/tmp/fleet-samples/{{ inventory_hostname }}"})
    );
    assert_eq!(play.base_dir, samples_dir());
    assert_eq!((play.position.line, play.position.col), (1, 3));

    let names: Vec<&str> = play.tasks.iter().map(|t| task(t).display_name()).collect();
    assert_eq!(
        names,
        [
            "ensure directory",
            "write config",
            "set port line",
            "run a command",
            "shell pipeline",
            "check output"
        ]
    );
    let actions: Vec<&str> = play.tasks.iter().map(|t| task(t).action.as_str()).collect();
    assert_eq!(
        actions,
        ["file", "copy", "lineinfile", "command", "shell", "assert"]
    );
    assert_eq!(
        args(&play.tasks[0]),
        json!({"path": "{{ base }}", "state": "directory", "mode": "0755"})
    );
    assert_eq!(
        args(&play.tasks[1]),
        json!({"content": "host={{ inventory_hostname }}\n", "dest": "{{ base }}/app.conf", "mode": "0644"})
    );
    assert_eq!(args(&play.tasks[2])["create"], json!(true));
    assert_eq!(args(&play.tasks[3]), json!({"_raw_params": "uname -a"}));
    assert_eq!(task(&play.tasks[3]).changed_when, ["False"]);
    let shell = task(&play.tasks[4]);
    assert_eq!(
        args(&play.tasks[4]),
        json!({"_raw_params": "echo hello | tr a-z A-Z"})
    );
    assert_eq!(shell.register.as_deref(), Some("out"));
    assert_eq!(
        args(&play.tasks[5]),
        json!({"that": ["out.stdout == 'HELLO'"]})
    );
    let position = &task(&play.tasks[1]).position;
    assert_eq!(position.to_string(), format!("{}:9:7", path.display()));
}

#[test]
fn webapp_sample_with_its_role() {
    let path = samples_dir().join("webapp.yml");
    let playbook = parse_playbook(&path, &ParseOptions::default()).expect("webapp.yml parses");
    let play = &playbook.plays[0];
    assert_eq!(play.gather_facts, Flag::Literal(true));
    assert_eq!(
        play.keywords.vars["app_users"],
        json!(["alice", "bob", "carol"])
    );
    assert_eq!(
        play.keywords.vars["feature_flags"],
        json!({"search": true, "beta": false})
    );

    assert_eq!(play.roles.len(), 1);
    let role = &play.roles[0];
    assert_eq!(role.name, "app");
    assert_eq!(role.dir, samples_dir().join("roles/app"));
    assert_eq!(
        Value::Object(role.params.clone()),
        json!({"app_port": 8081})
    );
    assert_eq!(
        Value::Object(role.defaults.clone()),
        json!({"app_port": 8080, "app_name": "demo"})
    );
    assert!(role.vars.is_empty());
    assert!(role.dependencies.is_empty());
    assert_eq!((role.position.line, role.position.col), (9, 7));
    let role_tasks: Vec<&str> = role.tasks.iter().map(|t| task(t).action.as_str()).collect();
    assert_eq!(role_tasks, ["file", "template", "copy", "replace"]);
    assert_eq!(task(&role.tasks[1]).notify, ["restart app"]);
    assert_eq!(args(&role.tasks[1])["src"], json!("app.conf.j2"));
    assert_eq!(args(&role.tasks[2])["force"], json!(false));
    assert_eq!(args(&role.tasks[3])["regexp"], json!("^mode=.*$"));
    assert_eq!(
        task(&role.tasks[0]).position.file.as_ref(),
        samples_dir().join("roles/app/tasks/main.yml")
    );
    assert_eq!(role.handlers.len(), 1);
    assert_eq!(task(&role.handlers[0]).display_name(), "restart app");

    assert_eq!(play.tasks.len(), 6);
    let dirs = task(&play.tasks[0]);
    assert_eq!(
        dirs.loop_,
        Some(Loop {
            kind: LoopKind::Loop,
            items: json!("{{ app_users }}"),
            lookup: None,
        })
    );
    assert_eq!(
        task(&play.tasks[1]).keywords.when,
        [r#"ansible_os_family == "Debian""#]
    );
    assert_eq!(task(&play.tasks[2]).register.as_deref(), Some("probe"));
    assert_eq!(task(&play.tasks[3]).action, "debug");

    let risky = block(&play.tasks[4]);
    assert_eq!(risky.name.as_deref(), Some("risky step with recovery"));
    assert_eq!(risky.block.len(), 2);
    assert_eq!(args(&risky.block[0]), json!({"_raw_params": "/bin/false"}));
    assert_eq!(task(&risky.rescue[0]).display_name(), "record the rescue");
    assert_eq!(task(&risky.always[0]).action, "lineinfile");

    let flags = task(&play.tasks[5]);
    assert_eq!(
        flags.loop_.as_ref().map(|l| l.items.clone()),
        Some(json!("{{ feature_flags | dict2items }}"))
    );
}

#[test]
fn samples_pass_fleet_check() {
    for name in ["basic.yml", "webapp.yml"] {
        let report = check_playbook(&samples_dir().join(name), &ParseOptions::default());
        assert!(report.is_ok(), "{report}");
        assert_eq!(report.plays, 1);
    }
    let report = check_playbook(&samples_dir().join("webapp.yml"), &ParseOptions::default());
    // 4 role tasks + 1 role handler + 5 plain tasks + 4 inside the block.
    assert_eq!((report.tasks, report.roles), (14, 1));
    assert!(
        report
            .to_string()
            .ends_with("webapp.yml: ok (1 play, 14 tasks, 1 role)"),
        "{report}"
    );
}
