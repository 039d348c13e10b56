//! Task keywords that need the host's variables: `become`, `environment`.

use fleet_templates::boolean;
use fleet_templates::Vars;
use serde_json::Value;

use super::error::ExecError;
use fleet_modules::remote::Become;
use fleet_playbook::{Keywords, Templatable};
use fleet_templates::Templar;

/// `become` with `become_user`, `become_exe`, `become_flags` (or their `ansible_become_*`
/// variables, and the older `ansible_sudo_*`): how the task becomes another user, if it does.
/// The keyword wins over the variable here, as `become_user` always has in fleet.
pub fn become_settings(
    templar: &Templar,
    kw: &Keywords,
    vars: &Vars,
) -> Result<Option<Become>, ExecError> {
    let var = |name: &str| vars.get(name).cloned();
    let become_ = match &kw.become_ {
        Some(Templatable::Literal(b)) => *b,
        Some(Templatable::Template(t)) => templar.eval_bool(t, vars)?,
        None => var("ansible_become")
            .as_ref()
            .and_then(boolean::from_json)
            .unwrap_or(false),
    };
    if !become_ {
        return Ok(None);
    }
    if let Some(method) = kw.become_method.as_deref().or(var("ansible_become_method")
        .as_ref()
        .and_then(Value::as_str))
    {
        if method != "sudo" {
            return Err(ExecError::BecomeMethod(method.to_string()));
        }
    }
    let setting = |keyword: &Option<String>, names: &[&str]| -> Result<Option<String>, ExecError> {
        if let Some(text) = keyword {
            return Ok(Some(templar.render_str(text, vars)?));
        }
        let Some(value) = names.iter().find_map(|n| var(n)) else {
            return Ok(None);
        };
        Ok(templar
            .template_value(&value, vars)?
            .as_str()
            .map(str::to_string))
    };
    let mut how = Become::sudo_as("root");
    if let Some(user) = setting(
        &kw.become_user,
        &["ansible_become_user", "ansible_sudo_user"],
    )? {
        how.user = user;
    }
    if let Some(exe) = setting(&kw.become_exe, &["ansible_become_exe", "ansible_sudo_exe"])? {
        how.exe = exe;
    }
    let flags = ["ansible_become_flags", "ansible_sudo_flags"];
    if let Some(flags) = setting(&kw.become_flags, &flags)? {
        how.flags = flags;
    }
    Ok(Some(how))
}

/// `environment:` dictionaries, templated, outermost first (inner keys win). A layer may be a
/// list of dictionaries, merged in order; an item or a value that is `omit` is left out, as in
/// Ansible. While facts are being gathered (`gathering`), a value that needs `ansible_env`,
/// which those facts bring, is left out instead of failing the task, as Ansible does.
pub fn environment(
    templar: &Templar,
    kw: &Keywords,
    vars: &Vars,
    gathering: bool,
) -> Result<Vec<(String, String)>, ExecError> {
    let mut env: Vec<(String, String)> = Vec::new();
    for layer in &kw.environment {
        let templated = match layer {
            Value::Object(map) if gathering => {
                let mut out = serde_json::Map::new();
                for (k, v) in map {
                    match templar.template_value(v, vars) {
                        Ok(v) => {
                            out.insert(k.clone(), v);
                        }
                        Err(e) if e.to_string().contains("ansible_env") => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                Value::Object(out)
            }
            _ => templar.template_value(layer, vars)?,
        };
        let dicts = match templated {
            Value::Array(items) => items,
            one => vec![one],
        };
        for dict in dicts {
            let map = match dict {
                Value::Object(map) => map,
                omitted if templar.is_omit(&omitted) => continue,
                _ => return Err(ExecError::EnvironmentNotDict),
            };
            for (k, v) in map {
                if templar.is_omit(&v) {
                    continue;
                }
                let v = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                env.retain(|(key, _)| key != &k);
                env.push((k, v));
            }
        }
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn ansible_become_y_enables_become() {
        let templar = Templar::new();
        let kw = Keywords::default();
        for yes in [
            json!("y"),
            json!("Y"),
            json!("yes"),
            json!("on"),
            json!(true),
            json!(1),
        ] {
            let vars = Vars::from_map(json!({"ansible_become": yes}).as_object().cloned().unwrap());
            assert_eq!(
                become_settings(&templar, &kw, &vars)
                    .unwrap()
                    .map(|b| b.user),
                Some("root".to_string()),
                "ansible_become: {yes}"
            );
        }
        for no in [json!("n"), json!("no"), json!(false), json!(0)] {
            let vars = Vars::from_map(
                json!({"ansible_become": no, "ansible_become_user": "app"})
                    .as_object()
                    .cloned()
                    .unwrap(),
            );
            assert_eq!(
                become_settings(&templar, &kw, &vars)
                    .unwrap()
                    .map(|b| b.user),
                None,
                "{no}"
            );
        }
        let vars = Vars::from_map(
            json!({"ansible_become": "y", "ansible_become_user": "app"})
                .as_object()
                .cloned()
                .unwrap(),
        );
        assert_eq!(
            become_settings(&templar, &kw, &vars)
                .unwrap()
                .map(|b| b.user),
            Some("app".to_string())
        );
    }
}
