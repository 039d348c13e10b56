//! `-e` values as ansible-playbook reads them: `@file` (YAML/JSON), inline JSON/YAML mappings,
//! or `key=value` pairs (quoted values allowed).

use anyhow::{bail, Context, Result};
use serde_json::{Map, Value};

/// Merges every `-e` value in order (later ones win).
pub fn parse_all(values: &[String]) -> Result<Map<String, Value>> {
    let mut out = Map::new();
    for v in values {
        out.extend(parse_one(v)?);
    }
    Ok(out)
}

fn parse_one(text: &str) -> Result<Map<String, Value>> {
    if let Some(path) = text.strip_prefix('@') {
        let body = inventory::read_data_file(std::path::Path::new(path))
            .with_context(|| format!("reading extra vars file {path}"))?;
        return mapping(&body, path);
    }
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return mapping(text, "extra vars");
    }
    fleet_playbook::kv::parse_kv(text, false)
        .map_err(|e| anyhow::anyhow!("extra vars {text:?}: {e}"))
}

fn mapping(text: &str, origin: &str) -> Result<Map<String, Value>> {
    match inventory::load_yaml11(text, origin)? {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(Map::new()),
        _ => bail!("{origin}: extra vars must be a mapping"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let m = parse_all(&["a=1 b='two words'".into(), "{\"c\": [1, 2]}".into()]).unwrap();
        assert_eq!(m["a"], Value::String("1".into()));
        assert_eq!(m["b"], Value::String("two words".into()));
        assert_eq!(m["c"], serde_json::json!([1, 2]));
        assert!(parse_all(&["[1]".into()]).is_err());
    }
}
