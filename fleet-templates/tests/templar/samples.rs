//! The values templated by /work/shared/fleet-samples (basic.yml, webapp.yml, the app role).

use serde_json::json;

use fleet_templates::{Templar, TemplateOptions};

#[test]
fn webapp_sample_values() {
    let templar = Templar::new();
    let vars = json!({
        "inventory_hostname": "web1",
        "root": "/tmp/fleet-samples/{{ inventory_hostname }}",
        "app_users": ["alice", "bob", "carol"],
        "feature_flags": {"search": true, "beta": false},
        "app_port": 8081, "app_name": "demo",
        "ansible_os_family": "Debian",
        "ansible_facts": {"os_family": "Debian"},
        "probe": {"stat": {"exists": false}, "changed": false},
    });
    let loop_items = templar
        .template_value(&json!("{{ feature_flags | dict2items }}"), &vars)
        .unwrap();
    assert_eq!(
        loop_items,
        json!([{"key": "search", "value": true}, {"key": "beta", "value": false}])
    );
    let mut lines = Vec::new();
    for item in loop_items.as_array().unwrap() {
        let mut item_vars = vars.clone();
        item_vars["item"] = item.clone();
        lines.push(
            templar
                .render_str("{{ item.key }}={{ item.value | lower }}", &item_vars)
                .unwrap(),
        );
    }
    assert_eq!(lines, ["search=true", "beta=false"]);
    assert_eq!(
        templar
            .template_value(&json!("{{ app_users }}"), &vars)
            .unwrap(),
        json!(["alice", "bob", "carol"])
    );
    let mut item_vars = vars.clone();
    item_vars["item"] = json!("bob");
    assert_eq!(
        templar
            .render_str("{{ root }}/home/{{ item }}", &item_vars)
            .unwrap(),
        "/tmp/fleet-samples/web1/home/bob"
    );
    assert!(templar
        .eval_bool("ansible_os_family == \"Debian\"", &vars)
        .unwrap());
    assert_eq!(
        templar
            .render_str(
                "os={{ ansible_facts['os_family'] | default(ansible_os_family) }}\n",
                &vars
            )
            .unwrap(),
        "os=Debian\n"
    );
    assert_eq!(
        templar
            .render_str("missing file is absent: {{ not probe.stat.exists }}", &vars)
            .unwrap(),
        "missing file is absent: True"
    );
    let template = "# managed by playbook\nname={{ app_name }}\nport={{ app_port }}\n\
                    host={{ inventory_hostname }}\n{% for u in app_users | sort %}\n\
                    user.{{ loop.index }}={{ u }}\n{% endfor %}\n";
    assert_eq!(
        templar
            .render_file_str(template, &vars, TemplateOptions::default())
            .unwrap(),
        "# managed by playbook\nname=demo\nport=8081\nhost=web1\n\
         user.1=alice\nuser.2=bob\nuser.3=carol\n"
    );
}

#[test]
fn basic_sample_values() {
    let templar = Templar::new();
    let vars = json!({
        "inventory_hostname": "h2",
        "base": "/tmp/fleet-samples/{{ inventory_hostname }}",
        "out": {"stdout": "HELLO", "rc": 0, "changed": false},
    });
    let args = json!({"content": "host={{ inventory_hostname }}\n", "dest": "{{ base }}/app.conf", "mode": "0644"});
    assert_eq!(
        templar.template_value(&args, &vars).unwrap(),
        json!({"content": "host=h2\n", "dest": "/tmp/fleet-samples/h2/app.conf", "mode": "0644"})
    );
    assert!(templar.eval_bool("out.stdout == 'HELLO'", &vars).unwrap());
}
