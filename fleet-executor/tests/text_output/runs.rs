//! The events of the captured runs (testdata/x.yml, y.yml, z.yml), values from those runs.

use serde_json::json;

use super::build::*;
use fleet_executor::output::*;

/// The run of testdata/x.yml (timings from the `-v` run).
pub(super) fn x_events() -> Vec<Event> {
    use Status::*;
    let echo = |w: &str| json!(["echo", w]);
    let exit = |n: &str| json!(["sh", "-c", format!("exit {n}")]);
    let items = |host: &str, ta: [&str; 3], tb: [&str; 3]| {
        vec![
            res(
                host,
                "command",
                Ok,
                looped(cmd(echo("a"), 0, "a", false, ta), json!("a")),
            )
            .item("a")
            .ev(),
            res(
                host,
                "command",
                Changed,
                looped(cmd(echo("b"), 0, "b", true, tb), json!("b")),
            )
            .item("b")
            .ev(),
            res(
                host,
                "command",
                Changed,
                json!({"changed": true, "results": [], "msg": "All items completed"}),
            )
            .ev(),
        ]
    };
    let loop_fail = |host: &str, t0: [&str; 3], t3: [&str; 3]| {
        vec![
            res(host, "command", Changed, looped(cmd(exit("0"), 0, "", true, t0), json!(0))).item("0").ev(),
            res(host, "command", Failed, looped(cmd(exit("3"), 3, "", true, t3), json!(3))).item("3").ev(),
            res(host, "command", Failed, json!({"changed": true, "failed": true, "results": [], "msg": "One or more items failed"})).ignored().ev(),
        ]
    };
    let mut events = vec![
        play("demo play", &["web1", "web2"]),
        task("say hello", 2),
        res("web1", "debug", Ok, debug_msg("hello web1")).ev(),
        res("web2", "debug", Ok, debug_msg("hello web2")).ev(),
        task("run cmd", 2),
        res(
            "web1",
            "command",
            Changed,
            cmd(
                echo("hi"),
                0,
                "hi",
                true,
                ["10:55:02.242977", "10:55:02.252306", "009329"],
            ),
        )
        .ev(),
        res(
            "web2",
            "command",
            Changed,
            cmd(
                echo("hi"),
                0,
                "hi",
                true,
                ["10:55:02.770364", "10:55:02.779290", "008926"],
            ),
        )
        .ev(),
        task("skip me", 2),
        res(
            "web1",
            "command",
            Changed,
            cmd(
                echo("no"),
                0,
                "no",
                true,
                ["10:55:03.346138", "10:55:03.356466", "010328"],
            ),
        )
        .ev(),
        res(
            "web2",
            "command",
            Skipped,
            skipped(json!("inventory_hostname == 'web1'")),
        )
        .ev(),
        task("fail ignored", 2),
        res(
            "web1",
            "command",
            Failed,
            cmd(
                json!(["/bin/false"]),
                1,
                "",
                true,
                ["10:55:03.882788", "10:55:03.899477", "016689"],
            ),
        )
        .ignored()
        .ev(),
        res(
            "web2",
            "command",
            Failed,
            cmd(
                json!(["/bin/false"]),
                1,
                "",
                true,
                ["10:55:04.473848", "10:55:04.484342", "010494"],
            ),
        )
        .ignored()
        .ev(),
        task("loop items", 2),
    ];
    events.extend(items(
        "web1",
        ["10:55:05.129050", "10:55:05.138723", "009673"],
        ["10:55:05.825704", "10:55:05.835717", "010013"],
    ));
    events.extend(items(
        "web2",
        ["10:55:06.233839", "10:55:06.239693", "005854"],
        ["10:55:06.614655", "10:55:06.624182", "009527"],
    ));
    events.push(task("loop fail", 2));
    events.extend(loop_fail(
        "web1",
        ["10:55:07.276268", "10:55:07.283278", "007010"],
        ["10:55:07.973131", "10:55:07.985370", "012239"],
    ));
    events.extend(loop_fail(
        "web2",
        ["10:55:08.698014", "10:55:08.703652", "005638"],
        ["10:55:09.195634", "10:55:09.203152", "007518"],
    ));
    events.extend([
        task("delegated", 2),
        res(
            "web1",
            "command",
            Ok,
            cmd(
                echo("d"),
                0,
                "d",
                false,
                ["10:55:09.979306", "10:55:09.988976", "009670"],
            ),
        )
        .delegated("web2")
        .ev(),
        res(
            "web2",
            "command",
            Ok,
            cmd(
                echo("d"),
                0,
                "d",
                false,
                ["10:55:10.664152", "10:55:10.670094", "005942"],
            ),
        )
        .delegated("web2")
        .ev(),
        task("notify", 2),
        res(
            "web1",
            "command",
            Changed,
            cmd(
                echo("n"),
                0,
                "n",
                true,
                ["10:55:11.393072", "10:55:11.405078", "012006"],
            ),
        )
        .ev(),
        res(
            "web2",
            "command",
            Skipped,
            skipped(json!("inventory_hostname == 'web1'")),
        )
        .ev(),
        Event::TaskStart {
            name: "h1".into(),
            handler: true,
            hosts: 1,
        },
        res("web1", "debug", Ok, debug_msg("handled")).ev(),
        Event::Recap(vec![
            ("web1".into(), stats(9, 6, 0, 0, 0, 2)),
            ("web2".into(), stats(6, 4, 0, 0, 2, 2)),
        ]),
    ]);
    events
}

/// The run of testdata/y.yml (the `-v --diff` run's values).
pub(super) fn y_events() -> Vec<Event> {
    use Status::*;
    let hosts = ["web1", "web2", "db1"];
    let mut events = vec![play("second", &hosts), task("skip loop", 3)];
    for host in hosts {
        for item in ["a", "b"] {
            let r = looped(skipped(json!(false)), json!(item));
            events.push(res(host, "debug", Skipped, r).item(item).ev());
        }
        let summary = json!({"changed": false, "msg": "All items skipped", "skipped": true, "results": [{"item": "a"}]});
        events.push(res(host, "debug", Skipped, summary).ev());
    }
    events.push(task("empty loop", 3));
    for host in hosts {
        let r = json!({"changed": false, "skipped": true, "skipped_reason": "No items in the list", "results": []});
        events.push(res(host, "debug", Skipped, r).ev());
    }
    let shell = "test -f /tmp/ans/flag-web1 || (touch /tmp/ans/flag-web1; exit 1)";
    let mut retried = cmd(
        json!(shell),
        0,
        "",
        true,
        ["10:55:38.962349", "10:55:38.968013", "005664"],
    );
    retried["attempts"] = 2.into();
    let copied = |host: &str, src: &str| {
        json!({"changed": true, "dest": format!("/tmp/ans/f-{host}.txt"), "src": src,
               "md5sum": "40c53c58fdafacc83cfff6ee3d2f6d69", "checksum": "3ca69e8d6c234a469d16ac28a4a658c92267c423",
               "mode": "0644", "state": "file", "uid": 0, "gid": 0, "owner": "root", "group": "root", "size": 6,
               "diff": [{"before": "", "after": "a\nb\nc\n"}], "invocation": {"module_args": {}}})
    };
    let registered = json!({"skipped": true, "changed": false, "skip_reason": "Conditional result was False", "false_condition": "inventory_hostname == 'web1'"});
    events.extend([
        task("retry", 3),
        res("web1", "shell", Failed, json!({"failed": true, "rc": 1, "attempts": 1, "retries": 4})).retry(3).ev(),
        res("web1", "shell", Changed, retried).ev(),
        res("web2", "shell", Skipped, skipped(json!("inventory_hostname == 'web1'"))).ev(),
        res("db1", "shell", Skipped, skipped(json!("inventory_hostname == 'web1'"))).ev(),
        task("write file", 3),
        res("web1", "copy", Changed, copied("web1", "/root/.ansible/tmp/ansible-tmp-1795604139.116913-8985-262157573625143/.source.txt"))
            .diff("/tmp/ans/f-web1.txt", "a\nB\nc\n", "/tmp/ans/f-web1.txt", "a\nb\nc\n").ev(),
        res("web2", "copy", Changed, copied("web2", "/root/.ansible/tmp/ansible-tmp-1795604145.4625516-10232-253533198089832/.source.txt"))
            .diff("", "", "/tmp/ans/f-web2.txt", "a\nb\nc\n").ev(),
        res("db1", "copy", Skipped, skipped(json!("inventory_hostname != 'db1'"))).ev(),
        task("debug var", 3),
        res("web1", "debug", Skipped, skipped(json!("inventory_hostname == 'web2'"))).ev(),
        res("web2", "debug", Ok, json!({"r": registered, "changed": false, "_ansible_verbose_always": true})).ev(),
        res("db1", "debug", Skipped, skipped(json!("inventory_hostname == 'web2'"))).ev(),
        task("fail web2", 3),
        res("web1", "fail", Skipped, skipped(json!("inventory_hostname == 'web2'"))).ev(),
        res("web2", "fail", Failed, json!({"msg": "boom", "changed": false, "failed": true})).ev(),
        res("db1", "fail", Skipped, skipped(json!("inventory_hostname == 'web2'"))).ev(),
        task("after", 2),
        res("web1", "debug", Ok, debug_msg("x")).ev(),
        res("db1", "debug", Ok, debug_msg("x")).ev(),
        play("third", &["web2"]),
        Event::Recap(vec![
            ("web1".into(), stats(3, 2, 0, 0, 4, 0)),
            ("web2".into(), stats(2, 1, 0, 1, 3, 0)),
            ("db1".into(), stats(1, 0, 0, 0, 6, 0)),
        ]),
    ]);
    events
}

pub(super) fn z_events() -> Vec<Event> {
    use Status::*;
    let unreachable = json!({"unreachable": true, "msg": "Task failed: Failed to connect to the host via ssh: ssh: connect to host 127.0.0.1 port 1: Connection refused", "changed": false});
    let t = ["10:56:11.835371", "10:56:11.840509", "005138"];
    vec![
        play("unreach", &["web1", "web2", "db1"]),
        task("ping it", 3),
        res(
            "web1",
            "command",
            Ok,
            cmd(json!(["echo", "hi"]), 0, "hi", false, t),
        )
        .ev(),
        res(
            "web2",
            "command",
            Ok,
            cmd(json!(["echo", "hi"]), 0, "hi", false, t),
        )
        .ev(),
        res("db1", "command", Unreachable, unreachable).ev(),
        task("fail all", 2),
        res(
            "web1",
            "command",
            Failed,
            cmd(json!(["/bin/false"]), 1, "", true, t),
        )
        .ev(),
        res(
            "web2",
            "command",
            Failed,
            cmd(json!(["/bin/false"]), 1, "", true, t),
        )
        .ev(),
        Event::Recap(vec![
            ("web1".into(), stats(1, 0, 0, 1, 0, 0)),
            ("web2".into(), stats(1, 0, 0, 1, 0, 0)),
            ("db1".into(), stats(0, 0, 1, 0, 0, 0)),
        ]),
    ]
}
