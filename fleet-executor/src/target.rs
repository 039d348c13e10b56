//! The connection a task's module runs over: the host's own (opened on its first task and kept),
//! a delegate's (`delegate_to`, one per delegating host so two hosts never share a shell), or the
//! controller itself for `delegate_to: localhost` when the inventory has no such host.
//!
//! Kept apart from execute.rs because choosing and opening a connection is the one place a task
//! can make its host unreachable before any module runs.

use fleet_templates::Vars;
use serde_json::{Map, Value};

use super::context::{PlayCtx, Run};
use super::host::HostState;
use fleet_modules::remote::{LocalRemoteIn, Remote, RemoteError};

/// Whether a delegated task runs on the controller: `localhost` (or `127.0.0.1`) not in the
/// inventory.
pub(super) fn runs_locally(pctx: &PlayCtx<'_>, delegated: Option<&str>) -> bool {
    matches!(delegated, Some("localhost" | "127.0.0.1"))
        && delegated.is_some_and(|d| pctx.inventory.host(d).is_none())
}

/// The remote a task runs on: `local` (see [`runs_locally`]), the delegate's connection, or the
/// host's own, opened from its templated `ansible_*` variables when it has none yet.
pub(super) async fn task_remote<'a>(
    run: &Run,
    pctx: &PlayCtx<'_>,
    host: &'a mut HostState,
    delegated: Option<&str>,
    vars: &Vars,
    local: Option<&'a mut LocalRemoteIn>,
) -> Result<&'a mut dyn Remote, RemoteError> {
    if let Some(local) = local {
        return Ok(local);
    }
    match delegated {
        Some(other) => delegate_remote(run, pctx, host, other, vars).await,
        None => {
            if host.remote.is_none() {
                let templated = connection_vars(run, vars);
                host.remote = Some(run.connector.open(&host.name, &templated).await?);
            }
            Ok(host.remote.as_deref_mut().expect("connected above"))
        }
    }
}

/// The `ansible_*` variables of a host, templated: what its connection is made from (the
/// host's own layer: the shared one holds the play's magic variables, no connection setting).
fn connection_vars(run: &Run, vars: &Vars) -> Map<String, Value> {
    vars.own_map()
        .iter()
        .filter(|(k, _)| k.starts_with("ansible_"))
        .map(|(k, v)| {
            let v = run
                .templar
                .template_value(v, vars)
                .unwrap_or_else(|_| v.clone());
            (k.clone(), v)
        })
        .collect()
}

/// The connection to `other` for tasks `host` delegates to it: made from `other`'s inventory
/// variables, kept for the run (each delegating host has its own, so they never share a shell).
async fn delegate_remote<'h>(
    run: &Run,
    pctx: &PlayCtx<'_>,
    host: &'h mut HostState,
    other: &str,
    vars: &Vars,
) -> Result<&'h mut dyn Remote, RemoteError> {
    if !host.delegates.contains_key(other) {
        let Some(target) = pctx.inventory.host(other) else {
            return Err(RemoteError::Unreachable(format!(
                "delegate_to: {other} is not in the inventory"
            )));
        };
        let mut target_vars = Vars::new(target.vars().clone(), vars.shared_map().clone());
        // Templates in the delegate's variables may refer to play-level variables.
        for (k, val) in vars.own_map() {
            target_vars
                .own_map_mut()
                .entry(k.clone())
                .or_insert_with(|| val.clone());
        }
        let conn = connection_vars(run, &target_vars);
        let remote = run.connector.open(other, &conn).await?;
        host.delegates.insert(other.to_string(), remote);
    }
    Ok(host
        .delegates
        .get_mut(other)
        .expect("inserted above")
        .as_mut())
}

/// Forgets the connection a task found unreachable, so the next task connects again.
pub(super) fn drop_remote(host: &mut HostState, delegated: Option<&str>, local: bool) {
    match delegated {
        Some(other) if !local => {
            host.delegates.remove(other);
        }
        None => host.remote = None,
        _ => {}
    }
}
