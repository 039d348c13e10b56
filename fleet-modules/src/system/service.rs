//! `service` and `systemd`: start, stop, restart, reload, enable and mask services in one round
//! trip (`service.sh` looks at the current state and acts only when it differs). `systemd` always
//! uses `systemctl`; `service` uses it when systemd runs the host, else `service NAME ...` or the
//! init script.

use async_trait::async_trait;
use serde_json::Value;

use super::common::{bool_or, choice, opt_bool, opt_str_any, BadArg};
use crate::remote::{shell_quote, RemoteError};
use crate::{ArgSpec, Args, Module, ModuleCtx, ModuleResult};

const SERVICE_SCRIPT: &str = include_str!("service.sh");
const STATES: &[&str] = &["started", "stopped", "restarted", "reloaded"];

/// `ansible.builtin.service`.
pub struct Service;
/// `ansible.builtin.systemd` (also `systemd_service`).
pub struct Systemd;

#[async_trait]
impl Module for Service {
    fn name(&self) -> &'static str {
        "service"
    }
    fn spec(&self) -> ArgSpec {
        ArgSpec {
            free_form: false,
            params: &[
                "name",
                "state",
                "enabled",
                "sleep",
                "pattern",
                "runlevel",
                "arguments",
                "args",
                "use",
            ],
            required: &[&["name"]],
        }
    }
    async fn run(&self, args: &Args, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError> {
        let backend = match opt_str_any(args, &["use"]).as_deref() {
            Some("systemd") => "systemctl",
            _ => "auto",
        };
        manage(args, ctx, backend).await
    }
}

#[async_trait]
impl Module for Systemd {
    fn name(&self) -> &'static str {
        "systemd"
    }
    fn spec(&self) -> ArgSpec {
        ArgSpec {
            free_form: false,
            params: &[
                "name",
                "service",
                "unit",
                "state",
                "enabled",
                "masked",
                "daemon_reload",
                "daemon-reload",
                "daemon_reexec",
                "daemon-reexec",
                "scope",
                "no_block",
                "force",
            ],
            required: &[],
        }
    }
    async fn run(&self, args: &Args, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError> {
        manage(args, ctx, "systemctl").await
    }
}

/// What the task asks for.
struct Wanted {
    name: Option<String>,
    state: Option<String>,
    enabled: Option<bool>,
    masked: Option<bool>,
    daemon_reload: bool,
}

fn wanted(args: &Args) -> Result<Wanted, BadArg> {
    let daemon_reload =
        bool_or(args, "daemon_reload", false)? || bool_or(args, "daemon-reload", false)?;
    let w = Wanted {
        name: opt_str_any(args, &["name", "service", "unit"]),
        state: choice(args, "state", STATES, None)?,
        enabled: opt_bool(args, "enabled")?,
        masked: opt_bool(args, "masked")?,
        daemon_reload,
    };
    if w.name.is_none() && !w.daemon_reload {
        return Err(BadArg("missing required arguments: name".into()));
    }
    if w.name.is_some()
        && w.state.is_none()
        && w.enabled.is_none()
        && w.masked.is_none()
        && !w.daemon_reload
    {
        return Err(BadArg(
            "one of the following is required: state, enabled, masked, daemon_reload".into(),
        ));
    }
    Ok(w)
}

async fn manage(
    args: &Args,
    ctx: &mut ModuleCtx<'_>,
    backend: &str,
) -> Result<ModuleResult, RemoteError> {
    let w = match wanted(args) {
        Ok(w) => w,
        Err(e) => return Ok(e.into()),
    };
    let yes_no = |b: Option<bool>| match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "",
    };
    let name = w.name.clone().unwrap_or_default();
    let script = format!(
        "N={} BACKEND={backend} WANT_STATE={} WANT_ENABLED={} WANT_MASKED={} DAEMON_RELOAD={} CHECK={}\n{}",
        shell_quote(&name),
        w.state.as_deref().unwrap_or(""),
        yes_no(w.enabled),
        yes_no(w.masked),
        u8::from(w.daemon_reload),
        u8::from(ctx.check_mode),
        if name.is_empty() {
            // only a daemon-reload
            "[ \"$CHECK\" = 1 ] || systemctl daemon-reload >/dev/null 2>&1 || \
             { echo 'failed=failure during daemon-reload'; exit 0; }\nexit 0\n"
        } else {
            SERVICE_SCRIPT
        }
    );
    let out = ctx.sh(&script).await?;
    let stdout = out.stdout_text();
    if out.rc != 0 {
        return Ok(ModuleResult::fail(format!(
            "service script failed (rc {}): {}",
            out.rc,
            out.stderr_text().trim()
        )));
    }
    let mut result = ModuleResult::ok();
    if !name.is_empty() {
        result = result.with("name", name.as_str());
    }
    if let Some((_, msg)) = stdout.split_once("failed=") {
        result.failed = true;
        result.msg = Some(msg.trim_end().to_string());
    }
    for line in stdout.lines().take_while(|l| !l.starts_with("failed=")) {
        match line.split_once('=') {
            Some(("changed", _)) => result.changed = true,
            Some(("state", s)) => result = result.with("state", s),
            Some(("enabled", e)) => result = result.with("enabled", Value::Bool(e == "yes")),
            _ => {}
        }
    }
    Ok(result)
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
