//! Lazy variables, undefined values, native types, omit, conditionals, rendering of values.

use serde_json::json;

use super::{cond, native, render, render_err, vars};
use fleet_templates::{Templar, TemplateOptions};

#[test]
fn variables_holding_templates_are_templated_when_used() {
    assert_eq!(render("{{ root }}/x"), "/tmp/h1/x");
    assert_eq!(render("{{ nested.path }}"), "/tmp/h1/x");
    assert_eq!(native("{{ nested.list }}"), json!([6, "plain"]));
    assert_eq!(native("{{ native | length }}"), json!(2));
    assert_eq!(native("{{ numstr }}"), json!(5));
    assert_eq!(native("{{ vars['root'] }}"), json!("/tmp/h1"));
}

#[test]
fn self_referencing_variables_are_a_recursive_loop() {
    for text in ["{{ loop1 }}", "{{ me }}", "x{{ me }}"] {
        let err = render_err(text);
        assert!(
            err.contains("recursive loop detected in template"),
            "{text}: {err}"
        );
    }
}

#[test]
fn undefined_variables_are_named_like_ansible() {
    assert_eq!(render_err("{{ foo }}"), "'foo' is undefined");
    assert_eq!(render_err("a {{ foo | upper }} b"), "'foo' is undefined");
    assert_eq!(render_err("{% if foo %}a{% endif %}"), "'foo' is undefined");
    assert_eq!(render_err("{{ foo == 1 }}"), "'foo' is undefined");
    assert_eq!(
        render_err("{{ d.x }}"),
        "object of type 'dict' has no attribute 'x'"
    );
    assert_eq!(
        render_err("{{ d.x.y }}"),
        "object of type 'dict' has no attribute 'x'"
    );
    assert_eq!(
        render_err("{{ 'abc'.x }}"),
        "object of type 'str' has no attribute 'x'"
    );
    assert_eq!(render_err("{{ foo.bar }}"), "'foo' is undefined");
    // a variable whose own template uses an undefined name reports that name
    assert_eq!(render_err("{{ broken }}"), "'nothere' is undefined");
    let err = Templar::new().eval("foo + 1", &vars()).unwrap_err().0;
    assert_eq!(err, "'foo' is undefined");
    let err = Templar::new().eval("d.a.zz", &vars()).unwrap_err().0;
    assert_eq!(err, "object of type 'dict' has no attribute 'zz'");
}

/// Issue 18 (the undefined target): an item that `map(attribute=)` finds without the attribute
/// fails the evaluation that uses it with Ansible's text; one filtered out does not.
#[test]
fn map_attribute_missing_on_an_item_is_named() {
    let vars = json!({"things": [{"name": "one"}, {"notname": 3}], "nested": [{"a": {}}]});
    let templar = Templar::new();
    let err = templar
        .render_str("{{ things | map(attribute='name') | list }}", &vars)
        .unwrap_err()
        .0;
    assert_eq!(err, "object of type 'dict' has no attribute 'name'");
    let err = templar
        .render_str("{{ nested | map(attribute='a.b') | list }}", &vars)
        .unwrap_err()
        .0;
    assert_eq!(err, "object of type 'dict' has no attribute 'b'");
    for text in [
        "x {{ things | map(attribute='name') | list }}",
        "{{ things | map(attribute='name') | join(',') }}",
    ] {
        let err = templar.render_str(text, &vars).unwrap_err().0;
        assert_eq!(
            err, "object of type 'dict' has no attribute 'name'",
            "{text}"
        );
    }
    let kept = "{{ things | map(attribute='name') | select('defined') | list }}";
    assert_eq!(templar.render_str(kept, &vars).unwrap(), "['one']");
    let defaulted = "{{ things | map(attribute='name', default='-') | list }}";
    assert_eq!(
        templar.render_str(defaulted, &vars).unwrap(),
        "['one', '-']"
    );
    // a reason noted by one evaluation is not given to the next one's undefined value
    assert_eq!(
        templar.render_str("{{ zz }}", &vars).unwrap_err().0,
        "'zz' is undefined"
    );
}

/// Ansible's `undef(hint)` global: an undefined value; one that is used fails with its hint.
#[test]
fn undef_makes_an_undefined_value_with_a_hint() {
    assert_eq!(cond("undef() is undefined"), Ok(true));
    assert_eq!(native("{{ undef('x') | default(5) }}"), json!(5));
    assert_eq!(render_err("{{ undef('custom hint') }}"), "custom hint");
}

/// Issue 18 (the assert target): Jinja2's `joiner` and `cycler` globals, and a string literal
/// holding a template inside a function's arguments is left as written.
#[test]
fn joiner_and_cycler_globals() {
    let text = "{% set pipe = joiner('{{ \"dude\" }}') %}x{{ pipe() }}{{ pipe() }}x";
    assert_eq!(render(text), "x{{ \"dude\" }}x");
    let text = "{% set c = cycler('a', 'b') %}{{ c.next() }}{{ c.next() }}{{ c.next() }}";
    assert_eq!(render(text), "aba");
}

/// Issue 18 (the assert target): a lookup's terms are templated first, in templates and
/// conditions alike.
#[test]
fn lookup_terms_are_templated() {
    let t = Templar::new();
    assert_eq!(render("{{ lookup('pipe', 'echo {{ n + 1 }}') }}"), "6");
    assert_eq!(
        cond("lookup('pipe', 'echo {{ \"dude\" }}') == 'dude'"),
        Ok(true)
    );
    assert_eq!(
        t.eval("query('items', '{{ users[0] }}')", &vars()).unwrap(),
        json!(["alice"])
    );
}

/// Issue 18: a comparison with a missing attribute (no position from minijinja) names the
/// access, as Ansible 2.19 does, not the whole expression.
#[test]
fn comparisons_with_missing_attributes_name_the_access() {
    let t = Templar::new();
    for (expr, want) in [
        ("d.b == 1", "object of type 'dict' has no attribute 'b'"),
        ("d.b.c == 1", "object of type 'dict' has no attribute 'b'"),
        (
            "d.a.q != 2 and n == 5",
            "object of type 'dict' has no attribute 'q'",
        ),
        ("lst.x == 1", "object of type 'list' has no attribute 'x'"),
        ("nope.x == 1", "'nope' is undefined"),
        (
            "d.zz | map(attribute='a') | list | length == 1",
            "object of type 'dict' has no attribute 'zz'",
        ),
    ] {
        let err = t.eval(expr, &vars()).unwrap_err().0;
        assert_eq!(err, want, "{expr}");
        let err = render_err(&format!("{{{{ {expr} }}}}"));
        assert_eq!(err, want, "{{{{ {expr} }}}}");
    }
}

#[test]
fn undefined_values_chain_under_default_and_defined() {
    assert_eq!(render("{{ foo | default('z') }}"), "z");
    assert_eq!(render("{{ foo.bar | default('z') }}"), "z");
    assert_eq!(render("{{ d.x.y | d('z') }}"), "z");
    assert_eq!(render("{{ d['x']['y'] | default('z') }}"), "z");
    assert_eq!(render("{{ broken | default('fallback') }}"), "fallback");
    assert_eq!(render("{{ foo.bar is defined }}"), "False");
    assert_eq!(render("{{ d.a.b is defined }}"), "True");
    assert_eq!(render("{{ foo is undefined }}"), "True");
    assert_eq!(render("{{ none | default('x') }}"), "");
    assert_eq!(render("{{ empty | default('x', true) }}"), "x");
    let looped = "{% for i in [{'a': {'b': 1}}, {}] %}{{ i.a.b | default('-') }}{% endfor %}";
    assert_eq!(render(looped), "1-");
}

#[test]
fn omit_is_a_placeholder_the_executor_can_drop() {
    let templar = Templar::new();
    let value = templar
        .template_value(&json!({"mode": "{{ foo | default(omit) }}"}), &vars())
        .unwrap();
    assert!(templar.is_omit(&value["mode"]), "{value}");
    assert!(templar.omit().starts_with("__omit_place_holder__"));
    assert_ne!(templar.omit(), Templar::new().omit());
}

#[test]
fn one_expression_gives_its_native_value() {
    assert_eq!(native("{{ users }}"), json!(["alice", "bob"]));
    assert_eq!(native("{{ n }}"), json!(5));
    assert_eq!(native("{{ true }}"), json!(true));
    assert_eq!(native("{{ none }}"), json!(null));
    assert_eq!(native("{{ 7 / 2 }}"), json!(3.5));
    assert_eq!(native("{{ 7 // 2 }}"), json!(3));
    assert_eq!(
        native("{{ flags }}"),
        json!({"search": true, "beta": false})
    );
    // text around the expression makes a string, even whitespace (ansible-core 2.19)
    assert_eq!(native("a {{ n }}"), json!("a 5"));
    assert_eq!(native("  {{ users }}  "), json!("  ['alice', 'bob']  "));
    assert_eq!(native("{{ 'a' }}{{ 'b' }}"), json!("ab"));
    assert_eq!(native("no markers"), json!("no markers"));
    // Jinja2 drops one final newline (`>` and `|` scalars end with one): the expression alone
    // is still native, and text keeps the newline (the loop-until target)
    assert_eq!(
        native("{{ users + ['c'] }}\n"),
        json!(["alice", "bob", "c"])
    );
    assert_eq!(native("{{ n }}\r\n"), json!(5));
    assert_eq!(native("{{ none }}\n"), json!(null));
    assert_eq!(native("{{ 'abc' }}\n"), json!("abc\n"));
    assert_eq!(native("{{ n }}\n\n"), json!("5\n\n"));
    let templar = Templar::new();
    let value = json!({"k": ["{{ n }}", 1, {"x": "{{ root }}"}], "plain": true});
    assert_eq!(
        templar.template_value(&value, &vars()).unwrap(),
        json!({"k": [5, 1, {"x": "/tmp/h1"}], "plain": true})
    );
}

#[test]
fn values_render_into_text_as_python_prints_them() {
    assert_eq!(render("x{{ [1, 'a'] }}"), "x[1, 'a']");
    assert_eq!(
        render("x{{ {'a': True, 'b': None} }}"),
        "x{'a': True, 'b': None}"
    );
    assert_eq!(render("x{{ true }}"), "xTrue");
    assert_eq!(render("x{{ none }}"), "x");
    assert_eq!(render("{{ 1.0 }}"), "1.0");
    assert_eq!(render("{{ users }}"), "['alice', 'bob']");
    assert_eq!(render("{{ flags }}"), "{'search': True, 'beta': False}");
    assert_eq!(render("{{ [\"it's\"] }}"), "[\"it's\"]");
    assert_eq!(render("{{ true | lower }}"), "true");
    assert_eq!(render("{{ true | string }}"), "True");
}

#[test]
fn trailing_newlines_are_kept_as_in_ansible() {
    assert_eq!(render("host={{ inventory_hostname }}\n"), "host=h1\n");
    assert_eq!(render("a\n\n"), "a\n\n");
    let templar = Templar::new();
    let file = "{% for u in users %}\nuser={{ u }}\n{% endfor %}\n";
    let out = templar
        .render_file_str(file, &vars(), TemplateOptions::default())
        .unwrap();
    assert_eq!(out, "user=alice\nuser=bob\n");
    let options = TemplateOptions {
        trim_blocks: false,
        lstrip_blocks: false,
    };
    let out = templar.render_file_str(file, &vars(), options).unwrap();
    // Jinja2 drops the last newline and the source had only one
    assert_eq!(out, "\nuser=alice\n\nuser=bob\n");
}

#[test]
fn conditionals_must_be_booleans_as_in_ansible_2_19() {
    assert_eq!(cond("inventory_hostname == 'h1'"), Ok(true));
    assert_eq!(cond("flags.search"), Ok(true));
    assert_eq!(cond("foo is defined"), Ok(false));
    assert_eq!(cond("not foo is defined"), Ok(true));
    assert_eq!(cond("n < 3 and foo"), Ok(false));
    assert_eq!(cond("{{ s }}"), Ok(false));
    assert_eq!(cond("result is changed and result is succeeded"), Ok(true));
    let err = cond("s").unwrap_err();
    assert!(
        err.contains("Conditionals must have a boolean result"),
        "{err}"
    );
    assert!(err.contains("type 'str'"), "{err}");
    let err = cond("users").unwrap_err();
    assert!(err.contains("type 'list'"), "{err}");
    assert_eq!(cond("foo and n").unwrap_err(), "'foo' is undefined");
}

#[test]
fn syntax_errors_give_the_position() {
    let err = render_err("line one\n{{ a b }}");
    assert!(err.contains("syntax error"), "{err}");
    assert!(err.contains("line 2"), "{err}");
    let err = Templar::new().eval("1 +", &vars()).unwrap_err().0;
    assert!(err.contains("syntax error"), "{err}");
    // a position that falls inside a character of the text (the fuzzer's find: the `%` is
    // rewritten before compiling, so minijinja's offsets are into other text) is no panic
    let text = "'%| form~t(amert@\u{1f}\\\u{1f}\u{1e}-(\u{6db}\u{547}everse' | form~t(amert)";
    let err = Templar::sandboxed().eval(text, &vars()).unwrap_err().0;
    assert!(err.contains("syntax error"), "{err}");
    // columns count characters, as Python's do
    let err = Templar::new().eval("'é' b", &vars()).unwrap_err().0;
    assert!(err.contains("column 5"), "{err}");
}

#[test]
fn python_methods_work_on_strings_dicts_and_lists() {
    assert_eq!(native("{{ 'a,b'.split(',') }}"), json!(["a", "b"]));
    assert_eq!(native("{{ root.startswith('/tmp') }}"), json!(true));
    assert_eq!(native("{{ 'abc'.upper() }}"), json!("ABC"));
    assert_eq!(
        native("{{ flags.items() | list }}"),
        json!([["search", true], ["beta", false]])
    );
    assert_eq!(
        native("{{ flags.keys() | list }}"),
        json!(["search", "beta"])
    );
    assert_eq!(native("{{ flags.get('nope', 3) }}"), json!(3));
    assert_eq!(native("{{ nested.get('path') }}"), json!("/tmp/h1/x"));
    assert_eq!(native("{{ '{}-{}'.format(1, 'x') }}"), json!("1-x"));
    // Python's whole str.format: specs, keyword fields, steps into values, conversions.
    assert_eq!(
        render("{{ '{:<6}|{:>8,}|{:.2f}'.format('ab', 1234567, 2.345) }}"),
        "ab    |1,234,567|2.35"
    );
    assert_eq!(
        render("{{ '{0}-{host}:{0!r}'.format(n, host=inventory_hostname) }}"),
        "5-h1:5"
    );
    assert_eq!(
        render("{{ '{0[a][b]} {1[2]:03d} {w:{fill}^{size}}'.format(d, lst, w='x', fill='*', size=5) }}"),
        "1 003 **x**"
    );
    assert!(render_err("{{ '{} {0}'.format(1) }}")
        .contains("cannot switch from automatic field numbering to manual field specification"));
    assert!(render_err("{{ '{:d}'.format('a') }}")
        .contains("Unknown format code 'd' for object of type 'str'"));
    assert_eq!(native("{{ lst.index(2) }}"), json!(1));
    assert_eq!(native("{{ '  x '.strip() }}"), json!("x"));
}

#[test]
fn eval_returns_native_values() {
    let templar = Templar::new();
    assert_eq!(templar.eval("lst | sum", &vars()).unwrap(), json!(6));
    assert_eq!(
        templar.eval("root ~ '/y'", &vars()).unwrap(),
        json!("/tmp/h1/y")
    );
    assert_eq!(templar.eval("none", &vars()).unwrap(), json!(null));
}

#[test]
fn a_runaway_loop_runs_out_of_fuel_instead_of_hanging() {
    let started = std::time::Instant::now();
    let err = render_err(
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    );
    assert!(err.contains("fuel"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    // An ordinary loop is far within the budget.
    assert_eq!(render("{% for i in range(10000) %}{% endfor %}ok"), "ok");
}

#[test]
fn the_sandboxed_templar_refuses_lookups_that_touch_the_controller() {
    let templar = Templar::sandboxed();
    for expr in [
        "lookup('pipe', 'echo hi')",
        "lookup('file', '/etc/hostname')",
        "lookup('ansible.builtin.env', 'HOME')",
        "query('first_found', ['/etc/hostname'])",
    ] {
        let err = templar.eval(expr, &vars()).unwrap_err().0;
        assert!(err.contains("disabled"), "{expr}: {err}");
    }
    // ansible-core 2.19 joins only strings; numbers come back as the list
    assert_eq!(
        templar.eval("lookup('list', 1, 2)", &vars()).unwrap(),
        json!([1, 2])
    );
    assert_eq!(
        Templar::new()
            .eval("lookup('pipe', 'echo hi')", &vars())
            .unwrap(),
        json!("hi")
    );
    // issue 18: `lines`, one item per output line
    assert_eq!(
        Templar::new()
            .eval("query('lines', 'printf \"a\\nb\\n\"')", &vars())
            .unwrap(),
        json!(["a", "b"])
    );
    assert!(templar
        .eval("lookup('lines', 'true')", &vars())
        .unwrap_err()
        .0
        .contains("disabled"));
}

#[test]
fn an_expression_closing_a_brace_it_never_opened_is_a_syntax_error_not_a_panic() {
    // Found by the template fuzz target: minijinja's lexer panicked ("empty lexer stack").
    for expr in ["a }} b", "n }}\n", "'%s' | format(n) }}\nx={ | sort %}"] {
        let err = cond(expr).unwrap_err();
        assert!(err.contains("unexpected '}}'"), "{expr}: {err}");
        assert!(Templar::new().eval(expr, &vars()).is_err());
    }
    // Braces inside strings and dict literals are fine.
    assert!(cond("'}} x' != {'a': {'b': 1}}").unwrap());
}

/// Issue 18: the file lookup's `lstrip`, and `now()` with a Python strftime format.
#[test]
fn file_lookup_strips_and_now_formats() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.txt");
    std::fs::write(&path, "   Hello World\n\n").unwrap();
    let p = path.display();
    let templar = Templar::new();
    let eval = |e: &str| templar.eval(e, &vars()).unwrap();
    assert_eq!(
        eval(&format!("lookup('file', '{p}')")),
        json!("   Hello World")
    );
    assert_eq!(
        eval(&format!("q('file', '{p}', lstrip=True)")),
        json!(["Hello World"])
    );
    let stamp = eval("now(fmt='%s.%f')");
    let text = stamp.as_str().unwrap();
    let (secs, micros) = text.split_once('.').unwrap();
    assert!(secs.parse::<u64>().unwrap() > 1_700_000_000, "{text}");
    assert_eq!(micros.len(), 6, "{text}");
    assert!(eval("now(utc=True)").as_str().unwrap().len() == 26);
}

/// Issue 18: the template module's templar finds `{% import %}`/`{% include %}` names in its
/// search path (the role's templates/), as Ansible's loader does.
#[test]
fn templates_import_and_include_from_the_search_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("qux"),
        "{% macro wibble() %}W{% endmacro %}",
    )
    .unwrap();
    std::fs::write(dir.path().join("bar"), "B{{ 1 + 1 }}").unwrap();
    let templar = Templar::for_files(vec![dir.path().join("missing"), dir.path().to_path_buf()]);
    let out = templar
        .render_str(
            "{% import 'qux' as qux with context %}{{ qux.wibble() }}-{% include 'bar' %}",
            &vars(),
        )
        .unwrap();
    assert_eq!(out, "W-B2");
    assert!(Templar::new()
        .render_str("{% include 'bar' %}", &vars())
        .is_err());
}

/// Issue 18: an undefined variable minijinja gives no position for (the `in` operator) is
/// still named, as Ansible's message names it.
#[test]
fn undefined_in_membership_is_named() {
    let templar = Templar::new();
    let err = templar.eval("'x' in y", &vars()).unwrap_err().0;
    assert!(err.contains("'y' is undefined"), "{err}");
    let err = templar.render_str("{{ 'x' in y }}", &vars()).unwrap_err().0;
    assert!(err.contains("'y' is undefined"), "{err}");
}

/// Issue 18: first_found with `{files, paths}` (and as keyword arguments), `a,b` names, skip.
#[test]
fn first_found_with_files_and_paths() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("vars")).unwrap();
    std::fs::write(dir.path().join("vars/default.yml"), "x: 1\n").unwrap();
    let d = dir.path().join("vars").display().to_string();
    let templar = Templar::new();
    let want = json!(format!("{d}/default.yml"));
    let eval = |e: String| templar.eval(&e, &vars()).unwrap();
    assert_eq!(
        eval(format!(
            "lookup('first_found', {{'files': ['Linux.yml', 'default.yml'], 'paths': ['{d}']}})"
        )),
        want
    );
    assert_eq!(
        eval(format!(
            "lookup('first_found', files='nope.yml,default.yml', paths=['{d}'])"
        )),
        want
    );
    assert_eq!(
        eval(format!(
            "query('first_found', {{'files': ['nope.yml'], 'paths': ['{d}'], 'skip': true}})"
        )),
        json!([])
    );
    let err = templar
        .eval("lookup('first_found', ['/nonexistent/x'])", &vars())
        .unwrap_err()
        .0;
    assert!(err.contains("No file was found"), "{err}");
    // within one term, path-major: every name in the first path before the second path; files
    // given as keyword arguments become a term each, so there it is name-major
    std::fs::create_dir(dir.path().join("more")).unwrap();
    std::fs::write(dir.path().join("more/first.yml"), "").unwrap();
    let m = dir.path().join("more").display().to_string();
    assert_eq!(
        eval(format!(
            "lookup('first_found', {{'files': ['first.yml', 'default.yml'], 'paths': ['{d}', '{m}']}})"
        )),
        json!(format!("{d}/default.yml"))
    );
    assert_eq!(
        eval(format!(
            "lookup('first_found', files=['first.yml', 'default.yml'], paths=['{d}', '{m}'])"
        )),
        json!(format!("{m}/first.yml"))
    );
    // a mapping term replaces every option before it, keyword arguments too (skip is off again)
    let err = templar
        .eval(
            &format!(
                "lookup('first_found', {{'files': ['nope.yml'], 'paths': ['{d}']}}, skip=true)"
            ),
            &vars(),
        )
        .unwrap_err()
        .0;
    assert!(err.contains("No file was found"), "{err}");
    // a term of another type is named
    let err = templar
        .eval("lookup('first_found', [1])", &vars())
        .unwrap_err()
        .0;
    assert!(
        err.contains("Invalid term supplied. A string, dict or list is required, not 'int')."),
        "{err}"
    );
    // an undefined keyword argument fails, naming it
    let err = templar
        .eval("lookup('first_found', files=missing_files)", &vars())
        .unwrap_err()
        .0;
    assert!(err.contains("'missing_files' is undefined"), "{err}");
}

/// Python raises on `x / 0` where IEEE floats give infinity (which JSON writes as null):
/// fleet fails the template as Ansible does, in a value and in rendered text.
#[test]
fn division_by_zero_fails() {
    let templar = Templar::new();
    for expr in ["1 / 0", "[1, 2 / 0]", "{'a': 0.0 / 0}"] {
        let err = templar.eval(expr, &vars()).unwrap_err().0;
        assert!(err.contains("division by zero"), "{expr}: {err}");
    }
    let err = templar.render_str("x={{ 1 / 0 }}", &vars()).unwrap_err().0;
    assert!(err.contains("division by zero"), "{err}");
    assert_eq!(templar.eval("10 / 4", &vars()).unwrap(), json!(2.5));
}

/// Issue 18: the template lookup renders a role's template with the current variables; a
/// Python literal result becomes its value (convert_data).
#[test]
fn template_lookup_renders_and_converts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("templates")).unwrap();
    std::fs::write(
        dir.path().join("templates/json_macro.j2"),
        "{% macro m() %}{{ {\"foo\":\"bar\"} }}{% endmacro %}\n{{ m() }}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("templates/hello.j2"), "hello {{ name }}\n").unwrap();
    let vars = json!({"role_path": dir.path().display().to_string(), "name": "w"});
    let templar = Templar::new();
    assert_eq!(
        templar
            .eval("lookup('template', 'json_macro.j2')['foo']", &vars)
            .unwrap(),
        json!("bar")
    );
    assert_eq!(
        templar
            .eval("lookup('template', 'hello.j2')", &vars)
            .unwrap(),
        json!("hello w\n")
    );
}

/// Issue 18: an undefined value reaching a filter fleet routes to Ansible's own code chains
/// under `default` as it does for fleet's own filters (the helper is never asked).
#[test]
fn undefined_values_reaching_ansible_filters_chain_under_default() {
    assert_eq!(render("{{ nope | shout | default('d') }}"), "d");
    assert_eq!(
        render("{{ nope | community.general.dict_kv('k') | default('d') }}"),
        "d"
    );
}

/// Issue 18: a variable's mapping whose member's template fails is a failure when the whole
/// mapping is used (`debug: var=`, a module argument), with the member's message, not `null`.
#[test]
fn a_mapping_with_a_failing_member_fails_whole() {
    let t = Templar::new();
    let v = json!({"d": {"fine": "hi", "bang": "{{ 1 | nosuch_filter_x }}"}, "l": ["{{ 1 | nosuch_filter_x }}"]});
    let err = t.eval("d", &v).unwrap_err().0;
    assert!(err.contains("nosuch_filter_x"), "{err}");
    assert!(t.eval("l", &v).unwrap_err().0.contains("nosuch_filter_x"));
    assert_eq!(t.eval("d.fine", &v).unwrap(), json!("hi"));
}
