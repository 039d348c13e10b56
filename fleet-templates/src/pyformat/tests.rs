//! `str.format` against Python itself: every case runs through `python3` and through
//! [`str_format`], and the two must give the same text, or both refuse with Python's message.

use std::io::Write;
use std::process::{Command, Stdio};

use minijinja::value::{Kwargs, Value};
use serde_json::{json, Value as Json};

use super::str_format;

/// `(format, positional arguments, keyword arguments)`.
fn cases() -> Vec<(&'static str, Json, Json)> {
    let none = || json!({});
    let mut cases: Vec<(&str, Json, Json)> = vec![
        // Fields: automatic, numbered, named, attribute and index steps, escapes.
        ("{}-{}", json!([1, "x"]), none()),
        ("{0}{1}{0}", json!(["a", "b"]), none()),
        ("{0}-{name}", json!([1]), json!({"name": "x"})),
        ("{name}", json!([]), json!({"name": null})),
        (
            "{0[a]} {name} {0[b][1]}",
            json!([{"a": "x", "b": [1, 2]}]),
            json!({"name": "n"}),
        ),
        ("{0[0]}", json!([[5]]), none()),
        ("{0[1]}", json!([{"1": "x"}]), none()),
        ("{0[2]}", json!([[5]]), none()),
        ("{0.a}", json!([{"a": 1}]), none()),
        ("{{}} {{0}} a}}b {}", json!([1]), none()),
        ("{!r} {!s} {!a}", json!(["é'", "é", "é€😀\u{1}"]), none()),
        ("{!r:>8}", json!(["ab"]), none()),
        ("{}", json!([[1, "a", null, true]]), none()),
        ("{}|{}|{}", json!([null, true, {"k": 1.5}]), none()),
        ("{:{}}|{:{}.{}}", json!(["a", 5, 12.34567, 8, 3]), none()),
        ("{0:{1}}", json!(["a", 3]), none()),
        ("{0:>{width}}", json!(["a"]), json!({"width": 4})),
        ("{0[0]}{0[2]}", json!(["abc"]), none()),
        ("{0[a]}", json!(["abc"]), none()),
        ("{0[a]}", json!([[1]]), none()),
        ("{0[a]}", json!([1]), none()),
        (
            "{0[:]}|{0[!]}|{0[}]}",
            json!([{":": 1, "!": 2, "}": 3}]),
            none(),
        ),
        ("{:}|{!r}|{0!s:>5}", json!([1.5]), none()),
        ("{!s:>6}|{!r:^9}", json!([null, "a"]), none()),
        ("{!}", json!([1]), none()),
        ("{!r", json!([1]), none()),
        ("{0:", json!([1]), none()),
    ];
    // Strings.
    for spec in [
        "", "5", "<5", ">5", "^6", "*^7", "05", ".3", ">10.3", "=^9", "s", "é>4", "}>3",
    ] {
        cases.push((leak(format!("{{:{spec}}}")), json!(["abc"]), none()));
    }
    cases.push(("{:.3}", json!(["abcdef"]), none()));
    cases.push(("{:>10.3}", json!(["ééééé"]), none()));
    // Integers and booleans.
    for spec in [
        "",
        "d",
        "5",
        "<5",
        "^+9",
        " ",
        "x<6",
        "0=+8",
        "08",
        ",",
        "_",
        "08,",
        "010,",
        "06,",
        "b",
        "#b",
        "_b",
        "o",
        "#o",
        "x",
        "#x",
        "X",
        "#X",
        "#_x",
        "08_x",
        "#010b",
        "c",
        "n",
        "e",
        ".2e",
        "f",
        "%",
        ".2%",
        "g",
        "G",
        "+,",
        "=10",
        "z",
        ".2d",
        "s",
        "+c",
        "#c",
        ",x",
        ",n",
        ",_",
        "zz",
        ".",
        "99999999999",
    ] {
        for n in [
            json!(1234567),
            json!(-255),
            json!(0),
            json!(65),
            json!(true),
        ] {
            cases.push((leak(format!("{{:{spec}}}")), json!([n]), none()));
        }
    }
    cases.push(("{:c}", json!([-1]), none()));
    cases.push(("{:c}", json!([1114112]), none()));
    // Floats.
    for spec in [
        "", ".3", ".0", "10", "<10", "^+10", "08", "010,.2f", ",", "_", ",.2f", "e", ".2e", "E",
        "#.0e", "f", ".0f", ".1f", "#.0f", "F", "g", ".3g", "#g", "G", "%", ".1%", "n", ".10n",
        "z.1f", "z", "+", " ", "x", "d", ".2s", "=+12,.3f",
    ] {
        for x in [
            1234.5,
            -1234.5,
            100.0,
            1.0,
            2.5,
            3.5,
            0.05,
            -0.04,
            0.0,
            1e16,
            1e-5,
            1.5e-7,
            0.1,
            123456789.0,
            1e15,
            1.5e300,
            5e-324,
            0.0001234,
            1.234e-5,
            12345.678,
        ] {
            cases.push((leak(format!("{{:{spec}}}")), json!([x]), none()));
        }
    }
    // Malformed format strings.
    for text in [
        "{", "}", "a}b", "{0", "{0[}", "{0.}", "{!x}", "{!rr}", "{} {0}", "{0} {}", "{1}", "{x}",
        "{0[0]x}", "{:{:{}}}", "{0[a}", "{a{b}",
    ] {
        cases.push((text, json!([1]), none()));
    }
    // Values no spec suits.
    for value in [json!([1]), json!(null), json!({"a": 1})] {
        cases.push(("{:5}", json!([value]), none()));
    }
    cases
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// Python's answer for each case: `{"ok": text}` or `{"error": message}`.
fn python_answers(cases: &[(&str, Json, Json)]) -> Vec<Json> {
    let program = r#"
import json, sys
out = []
for fmt, args, kwargs in json.load(sys.stdin):
    try:
        out.append({"ok": fmt.format(*args, **kwargs)})
    except Exception as e:
        out.append({"error": str(e)})
json.dump(out, sys.stdout)
"#;
    let mut child = Command::new("python3")
        .args(["-c", program])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs (the comparison needs it; .ci/run installs it)");
    let input = serde_json::to_vec(cases).expect("cases are JSON");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&input)
        .expect("python3 reads the cases");
    let output = child.wait_with_output().expect("python3 finishes");
    assert!(output.status.success(), "python3 failed");
    serde_json::from_slice(&output.stdout).expect("python3 answers JSON")
}

fn ours(format: &str, args: &Json, kwargs: &Json) -> Result<String, String> {
    let mut values: Vec<Value> = args
        .as_array()
        .expect("positional arguments are a list")
        .iter()
        .map(Value::from_serialize)
        .collect();
    let keywords = kwargs.as_object().expect("keyword arguments are a map");
    if !keywords.is_empty() {
        let kwargs: Kwargs = keywords
            .iter()
            .map(|(k, v)| (k.as_str(), Value::from_serialize(v)))
            .collect();
        values.push(Value::from(kwargs));
    }
    str_format(format, &values).map_err(|e| e.to_string())
}

#[test]
fn str_format_matches_python() {
    let cases = cases();
    let answers = python_answers(&cases);
    assert_eq!(answers.len(), cases.len());
    let mut wrong = Vec::new();
    for ((format, args, kwargs), python) in cases.iter().zip(&answers) {
        let ours = ours(format, args, kwargs);
        let same = match (&ours, python.get("ok"), python.get("error")) {
            (Ok(text), Some(want), _) => want.as_str() == Some(text.as_str()),
            (Err(message), None, Some(want)) => message.contains(want.as_str().unwrap_or("")),
            _ => false,
        };
        if !same {
            wrong.push(format!(
                "{format:?} {args} {kwargs}: ours {ours:?}, Python {python}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases differ from Python:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
}

#[test]
fn undefined_arguments_are_undefined_errors() {
    let err = str_format("{}", &[Value::UNDEFINED]).unwrap_err();
    assert_eq!(err.kind(), minijinja::ErrorKind::UndefinedError);
}

#[test]
fn huge_fields_are_refused_before_any_allocation() {
    for format in ["{:99999999999}", "{:.99999999999f}", "{:10000001}"] {
        let err = str_format(format, &[Value::from(1.5)]).unwrap_err();
        assert!(
            err.to_string().contains("Too many decimal digits"),
            "{format}: {err}"
        );
    }
}
