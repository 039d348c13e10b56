//! Issue 18 item 5: template expressions real playbooks use give what ansible-playbook gives.
//! One play on `localhost` (connection `local`) holds a `debug: msg="{{ EXPR }}"` task per
//! expression; both tools run it and each task must either give the same `msg` under both or
//! fail under both. The expressions cover Python's `str.format` and `%` formatting, the
//! filters minijinja lacks (Jinja2's `center`, `truncate`, `wordcount`; Ansible's `comment`,
//! `product`, `human_readable`, `human_to_bytes`, `to_uuid`, `urlsplit`, `strftime`, `min`/`max`
//! by attribute, `urldecode`), `str.rsplit`, qualified names (`ansible.builtin.upper`), the
//! `sequence` lookup's keyword options and ansible-core 2.19's reading of its numbers, and an
//! empty `msg`, an undefined value inside a built list (a failure, not `null`), `host_vars/`
//! next to the playbook as well as next to the inventory, Python's datetimes (`to_datetime`,
//! `now()`: attributes, methods, order, differences, text), `**` with a negative exponent,
//! the `varnames` lookup, `sum` with `start`, `path_join` and the `subelements` filter. Two
//! tasks before them are read through expressions too: a loop over nothing
//! (skipped, registered as Ansible registers it) and `debug: var=` on a failing expression
//! (a failed task, not "VARIABLE IS NOT DEFINED!"); and `with_nested`, `with_subelements`
//! loops, which run any lookup by its name. Filters, tests and lookups fleet does not implement
//! (a collection's, ansible.builtin's `vault` filter and `password`, `csvfile`, `ini`,
//! `config`, `inventory_hostnames` lookups, the playbook's `filter_plugins/`, `test_plugins/`,
//! `lookup_plugins/`) run through Ansible's own code and must give what it gives, unknown
//! names failing under both.

use std::path::Path;
use std::process::Command;

use e2e::fleet::ansible_venv;
use serde_json::{json, Value};

/// Expressions (Jinja2 source) whose results the two tools must agree on.
const EXPRESSIONS: &[&str] = &[
    // str.format and float repr
    "'{:<6}|{:>8,}|{:.2f}|{:^7}|{:#x}|{:+.3e}|{:%}'.format('ab', 1234567, 2.345, 'c', 255, 12345.678, 0.25)",
    "'{0}-{host}:{0!r}:{1[a]}'.format('x', {'a': 5}, host='h')",
    "'{:{w}.{p}f}|{:08_d}'.format(3.14159, 1234, w=9, p=2)",
    "'{} {}'.format(1.0, 1e16) ~ ' ' ~ (1e-05 | string)",
    "'{:d}'.format('a')",
    "'{} {0}'.format(1)",
    // % formatting, as an operator and as the format filter
    "'%s|%5s|%-5s|%.2s|%r' % ('x', 'ab', 'ab', 'abc', 'y')",
    "'%d|%05d|%+d|% d|%.3d|%5.3d|%i' % (1, -4, 5, 6, 7, 8, 9.9)",
    "'%x|%X|%#x|%#o|%f|%.2f|%e|%g|%010.3f' % (255, 255, 255, 8, 1.5, 2.345, 12345.678, 1e-5, -3.14159)",
    "'%(a)s-%(b)05d' % {'a': 'x', 'b': 3}",
    "'x=%s' % 5 ~ ('%s' % none) ~ ('%s' % true)",
    "'%s' % [1, 'a']",
    "'%*d|%-*d|%.*f|%%|%c' % (5, 1, 4, 2, 1, 2.55, 65)",
    "'%s-%s' % ('a', 'b') ~ '!'",
    "'%s.%s' | format('a', 'b')",
    "'%(k)s' | format(k='v')",
    "'%s %s' % ('a',)",
    "'%d' % 'x'",
    // text filters minijinja lacks
    "'abc' | center(9) ~ '|' ~ ('abcd' | center(9)) ~ '|'",
    "'hello_world foo-bar 42' | wordcount",
    "'hello world foo' | truncate(9)",
    "'hello world foo bar baz' | truncate(12, false, '', 0)",
    "'hello world foo bar' | truncate(10, leeway=20)",
    "'abc' | truncate(2)",
    "'some text' | comment",
    "'some\\ntext' | comment('cblock')",
    "'x' | comment('c', prefix='/*', postfix='*/', prefix_count=2)",
    "'x' | comment('xml')",
    // sizes, uuids, urls, times
    "[0, 1023, 1024, 1234567, 1.5] | map('human_readable') | list",
    "12345678901 | human_readable(unit='K') ~ ' ' ~ (1024 | human_readable(isbits=true))",
    "['10', '10 K', '10KB', '1.5 GB', '10 kilobyte'] | map('human_to_bytes') | list",
    "'2' | human_to_bytes(default_unit='M')",
    "'10 Kb' | human_to_bytes(isbits=true)",
    "'1.5x' | human_to_bytes",
    "'x' | to_uuid ~ ' ' ~ ('x' | to_uuid(namespace='6ba7b810-9dad-11d1-80b4-00c04fd430c8'))",
    "'https://user:pw@Example.COM:8443/p/a?q=1&r=2#frag' | urlsplit",
    "'https://Example.COM/p' | urlsplit('hostname')",
    "'//host/p' | urlsplit('netloc')",
    "'https://x' | urlsplit('bogus')",
    "{'a b': 'c/d', 'e': 1} | urlencode",
    "'a/b c' | urlencode",
    "'%Y-%m-%d' | strftime(1700000000.9, utc=true)",
    "'%Y' | strftime('abc')",
    // lists
    "[1,2] | product([3], ['a','b']) | list",
    "[{'a': 'B'}, {'a': 'a'}, {'a': 'C'}] | min(attribute='a')",
    "['B', 'a', 'C'] | max ~ (['B', 'a', 'C'] | max(case_sensitive=true))",
    "[{'a': {'b': 2}}, {'a': {'b': 9}}] | max(attribute='a.b')",
    "['a', 'b'] | zip([1, 2]) | list | items2dict(key_name=0, value_name=1)",
    // methods and qualified names
    "'  a b  c '.rsplit(None, 1) + 'a,b,c'.rsplit(',') + ' a  b c '.rsplit()",
    "'a b' | ansible.builtin.upper",
    "'1.2' is ansible.builtin.version('1.0', '>')",
    "''",
    // urldecode, the sequence lookup
    "'key%3D%22%40%7B%7D%C3%A9%26%25%C2%A3+foo%20bar' | urldecode",
    "query('sequence', count=5, start=10) + query('sequence', 'count=2 start=0', '3-4', stride=2)",
    "query('sequence', 'start=010 end=12') + query('sequence', '1-4/0')",
    "query('sequence', 'start=0x0a count=3')",
    "query('sequence', 'A-4/2')",
    "query('sequence', '1-4:%x')",
    // unique as Ansible calls Jinja2's (case-insensitive unless told), min/max, math errors
    "[['a', 'b', 'A', 'B'] | unique, ['a', 'b', 'A', 'B'] | unique(case_sensitive=True)]",
    "[{'foo': 'bar', 'moo': 'cow'}, {'foo': 'bar', 'moo': 'mar'}] | unique(attribute='foo')",
    "[{'foo': 'bar'}, {'foo': 'bar'}, {'x': 1}] | unique",
    "[{'foo': 'bar'}] | unique(case_sensitive=False)",
    "true | unique",
    "[100 | log(10), 8 | log(2), 2 | pow(4), 9 | root(2), 27 | root(3)]",
    "'yo' | log",
    "[{'p': 'a', 's': 1}, {'p': 'b', 's': 2}] | rekey_on_member('p')",
    "[{'p': 'a'}, {'p': 'a'}] | rekey_on_member('p')",
    // an undefined value inside a list or dict the expression builds fails it, as in Ansible
    "[1, nope]",
    "{'a': {'b': nope}}",
    "[1, nope] | length",
    "[1, nope] | select('defined') | list",
    // host_vars next to the inventory and next to the playbook (which wins)
    "[inv_var, pb_var, both_var]",
    // the list lookups behind with_nested, with_subelements, with_dict, with_indexed_items
    "query('nested', [1, 2], ['a', 'b'], [[true]])",
    "query('cartesian', [1], 'x')",
    "query('subelements', [{'n': 'a', 'g': ['x', 'y']}, {'n': 'b', 'g': []}], 'g')",
    "query('subelements', [{'n': 'a', 'o': {'g': [1]}}, {'n': 'b'}], 'o.g', {'skip_missing': true})",
    "query('subelements', [{'n': 'a'}], 'g')",
    "query('dict', {'a': 1, 'b': [2]})",
    "query('indexed_items', 'a', 'b')",
    "query('random_choice', 'only')",
    "nested_loop",
    "subelements_loop",
    // datetimes: to_datetime (Python's strptime), now(), their attributes, methods, order,
    // text and arithmetic; Python's ** with a negative exponent; int's positional base
    "(('2024-03-01 10:00:00' | to_datetime) - ('2024-02-28 09:30:00' | to_datetime)).days",
    "(('2024-03-01 10:00:00' | to_datetime) - ('2024-02-28 09:30:00' | to_datetime)).total_seconds()",
    "(('2024-02-28 09:30:00' | to_datetime) - ('2024-03-01 10:00:00' | to_datetime)) | string",
    "[('2024-03-01' | to_datetime('%Y-%m-%d')).year, ('01/Mar/2024:10:00:05' | to_datetime('%d/%b/%Y:%H:%M:%S')).month]",
    "('2024-03-01 10:00:05.25' | to_datetime('%Y-%m-%d %H:%M:%S.%f')).microsecond",
    "'at ' ~ ('2024-03-01 10:00:05' | to_datetime) ~ ' ' ~ ('%s' % ('2024-03-01 10:00:05' | to_datetime))",
    "[('2024-03-01 10:00:05' | to_datetime)] | string",
    "('2024-03-01 10:00:05' | to_datetime).replace(year=2020, microsecond=5) | string",
    "[('2024-03-01 10:00:05' | to_datetime).weekday(), ('2024-03-01 10:00:05' | to_datetime).isoformat()]",
    "('2024-03-01 10:00:05' | to_datetime).strftime('%d/%m/%Y %H%M %j %a %b')",
    "'2024-13-01' | to_datetime('%Y-%m-%d')",
    "'2024-03-01 x' | to_datetime('%Y-%m-%d')",
    "['2024-03-02', '2024-01-05', '2024-02-01'] | map('to_datetime', '%Y-%m-%d') | sort | map('string') | list",
    "('2024-03-01 10:00:00' | to_datetime) - ('2024-03-01 09:00:00' | to_datetime) > ('2024-03-01 10:00:00' | to_datetime) - ('2024-03-01 09:30:00' | to_datetime)",
    "[now().year > 2020, now(true).year > 2020, now(utc=true, fmt='%Y') | int > 2020, (now() - now()).days <= 0]",
    "now() > ('2020-01-01' | to_datetime('%Y-%m-%d')) and now().strftime('%Y') | int > 2020",
    "[2 ** -2, (-2) ** -1, 2 ** 3 ** 2]",
    "0 ** -1",
    "['0x1A' | int(0, 16), '7' | int(0)]",
    // the varnames lookup; indexed_items flattens its terms one level
    "query('varnames', '^zz_.', 'nomatch') + [lookup('varnames', '^zz_')]",
    "lookup('varnames', '(')",
    "lookup('indexed_items', ['a', ['b', 'c']])",
    // Jinja2's sum with start and attribute, Ansible's path_join and subelements filter
    "[[[1], [2, 3]] | sum(start=[]), [1, 2, 3.5] | sum, [1, 2] | sum(start=10), [true, true] | sum]",
    "[{'a': 1}, {'a': 2}] | sum(attribute='a')",
    "['a', 'b'] | sum",
    "[[1], 2] | sum(start=[])",
    "[['/etc', 'x', 'y'] | path_join, ['/etc', '/abs', 'y/'] | path_join, '/etc' | path_join]",
    "5 | path_join",
    "[{'n': 'a', 'l': [1, 2]}] | subelements('l') | list",
    "{'x': {'n': 'a', 'o': {'l': [3]}}} | subelements('o.l')",
    "[{'n': 'a'}] | subelements('l', skip_missing=true)",
    "[{'n': 'a'}] | subelements('l')",
    "[{'n': 'a', 'l': 5}] | subelements('l')",
    // errors= forgives a lookup's failure (None, or no items); an empty lookup is a list;
    // the vars lookup's default and refusals; the connection's variables in every task
    "[lookup('first_found', ['nope.yml'], errors='ignore') is none, query('first_found', ['nope.yml'], errors='warn')]",
    "lookup('items', [])",
    "lookup('vars', 'nope_var', default='d') ~ lookup('vars', 'zz_first')",
    "lookup('vars', 'nope_var')",
    "lookup('vars', 1)",
    "[ansible_host, ansible_ssh_host, ansible_shell_executable]",
    // filters, tests and lookups fleet lacks, through Ansible's own code: a collection's,
    // ansible.builtin's, the playbook's filter_plugins/, test_plugins/ and lookup_plugins/
    "1 | community.general.dict_kv('k')",
    "[{'k': 1, 'a': 1}] | community.general.lists_mergeby([{'k': 1, 'b': 2}], 'k')",
    "'x' is community.general.fqdn_valid ~ ('a.example.com' is community.general.fqdn_valid(min_labels=2))",
    "'secret' | vault('pw') | unvault('pw')",
    "lookup('password', 'creds/pw')",
    "lookup('csvfile', 'b file=data.csv delimiter=,') ~ '|' ~ lookup('csvfile', 'a file=data.csv delimiter=, col=2')",
    "lookup('ini', 'user section=db file=data.ini')",
    "query('inventory_hostnames', 'all')",
    "lookup('config', 'DEFAULT_TIMEOUT')",
    "'ab' | shout(n=2) ~ ('x' | shout)",
    "['ab' is even_length, 'abc' is even_length, 'abc' is not even_length]",
    "lookup('yield_terms', 'a', 5)",
    "query('yield_terms', 'a') + lookup('yield_terms', 'b', wantlist=true)",
    "lookup('yield_terms', '{{ zz_first + 1 }}')",
    "1 | community.general.nosuch",
    "1 | nosuch_filter(2)",
    "1 is nosuch_test",
    "lookup('nosuch_lookup', 'a')",
    "lookup('community.general.nosuch', 'a')",
    "nope_var | shout | default('d')",
    // the tasks before the expressions
    "empty_loop",
    "bad_var is failed and 'unknown URL component' in bad_var.msg",
];

/// Tasks run before the expressions, which read their registered results.
fn setup_tasks() -> Vec<Value> {
    vec![
        json!({"name": "setup empty loop", "debug": {"msg": "x"}, "loop": [],
               "register": "empty_loop"}),
        json!({"name": "setup bad var", "debug": {"var": "'http://x' | urlsplit('bogus')"},
               "register": "bad_var", "ignore_errors": true}),
        json!({"name": "setup nested loop", "set_fact": {"nested_loop": "{{ (nested_loop | default([])) + [item] }}"},
               "with_nested": [[1, 2], ["a"]]}),
        json!({"name": "setup subelements loop",
               "set_fact": {"subelements_loop": "{{ (subelements_loop | default([])) + [item.0.n ~ '/' ~ item.1 ~ '/' ~ (item.0.g is defined)] }}"},
               "with_subelements": [[{"n": "a", "g": ["x", "y"]}], "g"]}),
    ]
}

fn playbook() -> Value {
    let mut tasks = setup_tasks();
    tasks.extend(EXPRESSIONS.iter().enumerate().map(|(i, expr)| {
        json!({"name": format!("e{i:03}"), "debug": {"msg": format!("{{{{ {expr} }}}}")},
               "ignore_errors": true})
    }));
    json!([{"hosts": "localhost", "gather_facts": false, "tasks": tasks,
            "vars": {"zz_first": 1, "zz_second": 2}}])
}

/// Each task's `msg`, or `None` when the task failed, from ansible-playbook's output with
/// `ANSIBLE_CALLBACK_RESULT_FORMAT=json` (`ok: [localhost] => {...}` after `TASK [eNNN]`).
fn ansible_results(stdout: &str) -> Vec<Option<Value>> {
    let mut results = vec![None; EXPRESSIONS.len()];
    for block in stdout.split("\nTASK [e").skip(1) {
        let Some(index) = block.get(..3).and_then(|n| n.parse::<usize>().ok()) else {
            continue;
        };
        let Some(start) = block.find("\nok: [localhost] => {") else {
            continue;
        };
        let body = &block[start + "\nok: [localhost] => ".len()..];
        let Some(end) = body.find("\n}") else {
            continue;
        };
        let parsed: Value = serde_json::from_str(&body[..end + 2])
            .unwrap_or_else(|e| panic!("task e{index:03}: {e}: {}", &body[..end + 2]));
        results[index] = Some(parsed.get("msg").cloned().unwrap_or(Value::Null));
    }
    results
}

/// The same from `fleet run --json`.
fn fleet_results(stdout: &str) -> Vec<Option<Value>> {
    let mut results = vec![None; EXPRESSIONS.len()];
    for line in stdout.lines() {
        let event: Value = serde_json::from_str(line).unwrap_or(Value::Null);
        if event["event"] != "result" {
            continue;
        }
        let name = event["task"].as_str().unwrap_or("");
        let Some(index) = name.strip_prefix('e').and_then(|n| n.parse::<usize>().ok()) else {
            continue;
        };
        if event["status"] != "failed" {
            results[index] = Some(event["result"].get("msg").cloned().unwrap_or(Value::Null));
        }
    }
    results
}

#[test]
fn template_expressions_match_ansible_playbook() {
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("expressions.yml");
    std::fs::write(&pb, serde_json::to_string_pretty(&playbook()).unwrap()).unwrap();
    let inv_dir = dir.path().join("inventory");
    for (vars_dir, text) in [
        (
            inv_dir.join("host_vars"),
            "inv_var: inv\nboth_var: from-inventory\n",
        ),
        (
            dir.path().join("host_vars"),
            "pb_var: pb\nboth_var: from-playbook\n",
        ),
    ] {
        std::fs::create_dir_all(&vars_dir).unwrap();
        std::fs::write(vars_dir.join("localhost.yml"), text).unwrap();
    }
    for (file, text) in [
        ("creds/pw", "s3cret\n"),
        ("files/data.csv", "a,1,x\nb,2,y\n"),
        ("files/data.ini", "[db]\nuser = dbuser\n"),
        (
            "filter_plugins/shout.py",
            "class FilterModule:\n    def filters(self):\n        \
             return {'shout': lambda s, n=1: s.upper() + '!' * n}\n",
        ),
        (
            "test_plugins/lengths.py",
            "class TestModule:\n    def tests(self):\n        \
             return {'even_length': lambda s: len(s) % 2 == 0}\n",
        ),
        // the assert target's lookup plugin
        (
            "lookup_plugins/yield_terms.py",
            "from ansible.plugins.lookup import LookupBase\n\n\
             class LookupModule(LookupBase):\n    accept_args_markers = True\n\n    \
             def run(self, terms, variables=None, **kwargs):\n        return terms\n",
        ),
    ] {
        let path = dir.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let collections = e2e::collections::community_general();
    let inv = inv_dir.join("inventory.ini");
    let python = if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    };
    std::fs::write(
        &inv,
        format!("localhost ansible_connection=local ansible_python_interpreter={python}\n"),
    )
    .unwrap();
    let ansible = Command::new(ansible_venv().join("bin/ansible-playbook"))
        .args(["-i", inv.to_str().unwrap(), pb.to_str().unwrap()])
        .env("ANSIBLE_CALLBACK_RESULT_FORMAT", "json")
        .env("ANSIBLE_LOCALHOST_WARNING", "0")
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_HOME", dir.path().join("ansible-home"))
        .env("ANSIBLE_COLLECTIONS_PATH", &collections)
        .env("HOME", dir.path())
        .env("TZ", "UTC")
        .output()
        .expect("ansible-playbook runs");
    let ansible_out = String::from_utf8_lossy(&ansible.stdout);
    assert!(
        ansible.status.success(),
        "ansible-playbook failed:\n{ansible_out}"
    );
    let fleet = Command::new(env!("CARGO_BIN_EXE_fleet"))
        .args([
            "run",
            pb.to_str().unwrap(),
            "-i",
            inv.to_str().unwrap(),
            "--json",
        ])
        .env("HOME", dir.path())
        .env("TZ", "UTC")
        .env("ANSIBLE_COLLECTIONS_PATH", &collections)
        .env("ANSIBLE_HOME", dir.path().join("ansible-home"))
        .env("FLEET_ANSIBLE_PYTHON", ansible_venv().join("bin/python"))
        .output()
        .expect("fleet runs");
    let fleet_out = String::from_utf8_lossy(&fleet.stdout);
    assert!(fleet.status.success(), "fleet failed:\n{fleet_out}");
    let (want, got) = (ansible_results(&ansible_out), fleet_results(&fleet_out));
    assert!(
        want.iter().filter(|w| w.is_some()).count() > EXPRESSIONS.len() / 2,
        "ansible-playbook's output was not read (the test is broken):\n{ansible_out}"
    );
    let wrong: Vec<String> = EXPRESSIONS
        .iter()
        .zip(want.iter().zip(&got))
        .filter(|(_, (w, g))| w != g)
        .map(|(expr, (w, g))| {
            format!("{expr}\n  ansible-playbook: {w:?}\n  fleet:            {g:?}")
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{} expressions differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
