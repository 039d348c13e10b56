//! Task keywords that need the host's variables: `become`, `environment`.

use serde_json::Value;

use super::context::Run;
use super::task::flag;
use fleet_playbook::Keywords;

/// `become`/`become_user` (or `ansible_become*` variables): the sudo target, if any.
pub fn become_user(run: &Run, kw: &Keywords, vars: &Value) -> Result<Option<String>, String> {
    let var = |name: &str| vars.get(name).cloned();
    let become_ = match &kw.become_ {
        Some(_) => flag(run, &kw.become_, vars, false).map_err(|e| e.to_string())?,
        None => match var("ansible_become") {
            Some(Value::Bool(b)) => b,
            Some(Value::String(s)) => {
                matches!(s.to_lowercase().as_str(), "yes" | "true" | "1" | "on")
            }
            _ => false,
        },
    };
    if !become_ {
        return Ok(None);
    }
    if let Some(method) = kw.become_method.as_deref().or(var("ansible_become_method")
        .as_ref()
        .and_then(Value::as_str))
    {
        if method != "sudo" {
            return Err(format!(
                "become_method {method} is not supported (only sudo)"
            ));
        }
    }
    let user = match &kw.become_user {
        Some(u) => run.templar.render_str(u, vars).map_err(|e| e.to_string())?,
        None => var("ansible_become_user")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "root".into()),
    };
    Ok(Some(user))
}

/// `environment:` dictionaries, templated, outermost first (inner keys win).
pub fn environment(
    run: &Run,
    kw: &Keywords,
    vars: &Value,
) -> Result<Vec<(String, String)>, String> {
    let mut env: Vec<(String, String)> = Vec::new();
    for layer in &kw.environment {
        let value = run
            .templar
            .template_value(layer, vars)
            .map_err(|e| e.to_string())?;
        let Value::Object(map) = value else {
            return Err("environment must be a dictionary".into());
        };
        for (k, v) in map {
            let v = match v {
                Value::String(s) => s,
                other => other.to_string(),
            };
            env.retain(|(key, _)| key != &k);
            env.push((k, v));
        }
    }
    Ok(env)
}
