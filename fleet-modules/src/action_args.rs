//! Argument checks for the actions the executor runs itself (`debug`, `assert`, `pause`,
//! `async_status`, `include_vars`, `fail`, `group_by`).
//!
//! Why: these actions are no [`crate::Module`], so nothing checked their keys and a typo
//! (`debug: {mgs: x}`) printed "Hello world!" instead of failing. Ansible's action plugins
//! refuse unknown keys when the task runs; `fleet check` reports them up front and `fleet run`
//! fails the task, with Ansible's words.

use crate::{check_args, ArgSpec, Args, BadArg};

const DEBUG: ArgSpec = ArgSpec {
    free_form: false,
    params: &["msg", "var", "verbosity"],
    required: &[],
};

const ASSERT: ArgSpec = ArgSpec {
    free_form: false,
    params: &["that", "fail_msg", "msg", "success_msg", "quiet"],
    required: &[&["that"]],
};

const PAUSE: ArgSpec = ArgSpec {
    free_form: false,
    params: &["minutes", "seconds", "prompt", "echo"],
    required: &[],
};

const GROUP_BY: ArgSpec = ArgSpec {
    free_form: false,
    params: &["key", "parents"],
    // its action says "the 'key' param is required when using group_by" when the task runs
    required: &[],
};

const ASYNC_STATUS: ArgSpec = ArgSpec {
    free_form: false,
    params: &["jid", "mode"],
    required: &[&["jid"]],
};

/// `include_vars`' keys, as its action plugin lists them: those for a directory, those for a
/// file (the two may not be mixed), and those for either.
pub const INCLUDE_VARS_DIR_ARGS: &[&str] = &[
    "dir",
    "depth",
    "files_matching",
    "ignore_files",
    "extensions",
    "ignore_unknown_extensions",
];
pub const INCLUDE_VARS_FILE_ARGS: &[&str] = &["file", "_raw_params"];
const INCLUDE_VARS_COMMON_ARGS: &[&str] = &["name", "hash_behaviour"];

/// Checks the keys of an executor action's arguments; other actions pass. Arguments that
/// come whole from a variable (`_variable_params`) are checked by nobody, as for modules.
pub fn check_action_args(action: &str, args: &Args) -> Result<(), BadArg> {
    if args.contains_key("_variable_params") {
        return Ok(());
    }
    let action = crate::short_name(action);
    match action {
        "debug" => check_args(action, &DEBUG, args)?,
        "assert" => check_args(action, &ASSERT, args)?,
        "pause" => check_args(action, &PAUSE, args)?,
        "async_status" => check_args(action, &ASYNC_STATUS, args)?,
        "group_by" => check_args(action, &GROUP_BY, args)?,
        "include_vars" => {
            let known = |k: &str| {
                [
                    INCLUDE_VARS_DIR_ARGS,
                    INCLUDE_VARS_FILE_ARGS,
                    INCLUDE_VARS_COMMON_ARGS,
                ]
                .iter()
                .any(|group| group.contains(&k))
            };
            if let Some(key) = args.keys().find(|k| !known(k)) {
                return Err(format!("{key} is not a valid option in include_vars").into());
            }
        }
        "fail" => {
            let bad: Vec<&str> = args
                .keys()
                .map(String::as_str)
                .filter(|k| *k != "msg")
                .collect();
            if !bad.is_empty() {
                return Err(format!("Invalid options for fail: {}", bad.join(",")).into());
            }
        }
        _ => {}
    }
    if action == "debug" && args.contains_key("msg") && args.contains_key("var") {
        return Err("parameters are mutually exclusive: msg|var".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(action: &str, v: serde_json::Value) -> Result<(), String> {
        let args = v.as_object().cloned().unwrap_or_default();
        check_action_args(action, &args).map_err(|e| e.to_string())
    }

    #[test]
    fn unknown_keys_of_executor_actions_are_errors_naming_them() {
        assert_eq!(
            check("debug", json!({"mgs": "x"})).unwrap_err(),
            "Unsupported parameters for (debug) module: mgs. Supported parameters include: \
             msg, var, verbosity."
        );
        assert!(check("ansible.builtin.debug", json!({"msg": "x"})).is_ok());
        assert!(check("debug", json!({"msg": "x", "var": "y"})).is_err());
        let e = check("assert", json!({"that": "true", "bogus": 1})).unwrap_err();
        assert!(e.contains("(assert) module: bogus"), "{e}");
        assert!(check("assert", json!({"that": ["a"], "quiet": true})).is_ok());
        let e = check("pause", json!({"seconds": 0, "secs": 1})).unwrap_err();
        assert!(e.contains("(pause) module: secs"), "{e}");
        assert_eq!(
            check("include_vars", json!({"file": "a.yml", "bogus": 1})).unwrap_err(),
            "bogus is not a valid option in include_vars"
        );
        assert!(check("include_vars", json!({"_raw_params": "a.yml"})).is_ok());
        assert_eq!(
            check("fail", json!({"mgs": "x"})).unwrap_err(),
            "Invalid options for fail: mgs"
        );
        assert!(check("set_fact", json!({"anything": 1})).is_ok());
        assert!(check("debug", json!({"_variable_params": "{{ x }}"})).is_ok());
    }
}
