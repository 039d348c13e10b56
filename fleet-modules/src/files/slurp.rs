//! `slurp`: returns a remote file's content, base64-encoded, in one round trip.

use async_trait::async_trait;

use super::args;
use super::remote_file::{failure, find, parse_report};
use crate::remote::{shell_quote, RemoteError};
use crate::{ArgSpec, Args, Module, ModuleCtx, ModuleResult};

/// The `slurp` module.
pub struct Slurp;

const SCRIPT: &str = r#"
[ -e "$P" ] || { echo "fail file not found: $P"; exit 0; }
[ -d "$P" ] && { echo "fail source is a directory and must be a file"; exit 0; }
[ -r "$P" ] || { echo "fail file is not readable: $P"; exit 0; }
printf 'content '; base64 -w 0 -- "$P" || exit 1; echo
"#;

#[async_trait]
impl Module for Slurp {
    fn name(&self) -> &'static str {
        "slurp"
    }

    fn spec(&self) -> ArgSpec {
        ArgSpec {
            free_form: false,
            params: &["src", "path"],
            required: &[&["src", "path"]],
        }
    }

    async fn run(&self, args: &Args, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError> {
        let src = args::text(args, &["src", "path"]).unwrap_or_default();
        let out = ctx
            .sh(&format!("P={}\n{SCRIPT}", shell_quote(&src)))
            .await?;
        let records = parse_report(&out.stdout);
        if let Some(msg) = failure(&records) {
            return Ok(ModuleResult::fail(msg));
        }
        match find(&records, "content") {
            Some(content) if out.rc == 0 => Ok(ModuleResult::ok()
                .with("content", content.rest.clone())
                .with("encoding", "base64")
                .with("source", src)),
            _ => Ok(ModuleResult::fail(format!(
                "unable to slurp file: {}",
                out.stderr_text().trim()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::files::testkit::Harness;

    #[tokio::test]
    async fn returns_base64_and_fails_on_missing_or_dir() {
        let h = Harness::new();
        std::fs::write(h.path("f"), b"hi\x00\n").unwrap();
        let r = h.run(&Slurp, json!({"src": h.path("f")})).await;
        assert!(!r.changed && !r.failed);
        let j = r.to_json();
        assert_eq!(
            (j["content"].as_str(), j["encoding"].as_str()),
            (Some("aGkACg=="), Some("base64"))
        );
        let r = h.run(&Slurp, json!({"src": h.path("nope")})).await;
        assert_eq!(r.msg, Some(format!("file not found: {}", h.path("nope"))));
        let r = h.run(&Slurp, json!({"path": h.root().to_str()})).await;
        assert_eq!(
            r.msg.as_deref(),
            Some("source is a directory and must be a file")
        );
    }
}
