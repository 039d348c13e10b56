//! fleet's Jinja2 templar on an arbitrary template or expression, against a small fixed set of
//! variables, in the sandboxed templar (no `pipe`/`file`/`env` lookups). The first byte picks
//! the entry point: playbook string, template file (each trim/lstrip option), expression,
//! condition, or a value holding the text. Invariants: never panics, never hangs (the
//! templar's fuel budget), memory stays under libFuzzer's RSS limit.
#![no_main]

use std::sync::OnceLock;

use fleet_templates::{Templar, TemplateOptions};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

fn fixture() -> &'static (Templar, Value) {
    static FIXTURE: OnceLock<(Templar, Value)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let vars = json!({
            "inventory_hostname": "web1",
            "name": "web1",
            "port": 8080,
            "ratio": 0.5,
            "flag": true,
            "nothing": null,
            "items": [1, 2, 3],
            "users": [{"name": "alice", "uid": 1000}, {"name": "bob", "uid": 1001}],
            "conf": {"a": 1, "b": "x", "c": [true, false]},
            "greeting": "hello {{ name }}",
            "groups": {"all": ["web1", "db1"], "web": ["web1"]},
        });
        (Templar::sandboxed(), vars)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let (templar, vars) = fixture();
    match mode % 8 {
        0 => drop(templar.render_str(text, vars)),
        1..=4 => {
            let options = TemplateOptions {
                trim_blocks: mode & 1 == 1,
                lstrip_blocks: mode & 2 == 2,
            };
            drop(templar.render_file_str(text, vars, options));
        }
        5 => drop(templar.eval(text, vars)),
        6 => drop(templar.eval_bool(text, vars)),
        _ => drop(templar.template_value(&json!({"k": [text]}), vars)),
    }
});
