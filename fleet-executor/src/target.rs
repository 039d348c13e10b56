//! The connection a task's module runs over: the host's own (opened on its first task and kept),
//! a delegate's (`delegate_to`, one per delegating host so two hosts never share a shell), or the
//! controller itself for `delegate_to: localhost` when the inventory has no such host.
//!
//! Kept apart from execute.rs because choosing and opening a connection is the one place a task
//! can make its host unreachable before any module runs.

use fleet_playbook::Keywords;
use fleet_templates::{TemplateError, Vars};
use serde_json::{Map, Value};

use super::context::{PlayCtx, Run};
use super::host::HostState;
use fleet_modules::remote::{LocalRemoteIn, Remote, RemoteError};

/// Whether a delegated task runs on the controller: `localhost` (or `127.0.0.1`) not listed
/// in the inventory (absent, or Ansible's implicit one).
pub(super) fn runs_locally(pctx: &PlayCtx<'_>, delegated: Option<&str>) -> bool {
    matches!(delegated, Some("localhost" | "127.0.0.1"))
        && delegated.is_some_and(|d| pctx.inventory.host(d).is_none_or(|h| h.is_implicit()))
}

/// A task's `remote_user` and `port` keywords, templated. They apply where the host's
/// variables set no `ansible_user`/`ansible_port` (in Ansible, variables win over keywords),
/// and over `-u`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Login {
    user: Option<String>,
    port: Option<i64>,
}

impl Login {
    /// The keywords in force for a task.
    pub(super) fn of(run: &Run, kw: &Keywords, vars: &Vars) -> Result<Login, TemplateError> {
        let user = match &kw.remote_user {
            Some(u) => Some(run.templar.render_str(u, vars)?),
            None => None,
        };
        let port = super::task::integer(run, kw.port.as_ref(), vars);
        Ok(Login { user, port })
    }

    /// Sets the keywords in `conn` (templated connection variables) where no variable did.
    fn apply(&self, conn: &mut Map<String, Value>) {
        if let Some(user) = &self.user {
            if !conn.contains_key("ansible_ssh_user") {
                conn.entry("ansible_user")
                    .or_insert_with(|| Value::String(user.clone()));
            }
        }
        if let Some(port) = self.port {
            if !conn.contains_key("ansible_ssh_port") {
                conn.entry("ansible_port").or_insert_with(|| port.into());
            }
        }
    }
}

/// The login and port a connection was opened with, as its variables said.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Identity(Option<Value>, Option<Value>);

impl Identity {
    fn of(conn: &Map<String, Value>) -> Identity {
        let first = |keys: [&str; 2]| keys.iter().find_map(|k| conn.get(*k).cloned());
        Identity(
            first(["ansible_user", "ansible_ssh_user"]),
            first(["ansible_port", "ansible_ssh_port"]),
        )
    }
}

/// The remote a task runs on: `local` (see [`runs_locally`]), the delegate's connection, or the
/// host's own, opened from its templated `ansible_*` variables (and the task's `remote_user`
/// and `port` keywords) when it has none yet or those name another login or port.
pub(super) async fn task_remote<'a>(
    run: &Run,
    pctx: &PlayCtx<'_>,
    host: &'a mut HostState,
    delegated: Option<&str>,
    (vars, login): (&Vars, &Login),
    local: Option<&'a mut LocalRemoteIn>,
) -> Result<&'a mut dyn Remote, RemoteError> {
    if let Some(local) = local {
        return Ok(local);
    }
    match delegated {
        Some(other) => delegate_remote(run, pctx, host, other, (vars, login)).await,
        None => {
            // the keywords of the task that opened it: the same connection, without templating
            if host.remote.is_none() || host.remote_login.0 != *login {
                let mut templated = connection_vars(run, vars);
                login.apply(&mut templated);
                let identity = Identity::of(&templated);
                if host.remote.is_none() || host.remote_login.1 != identity {
                    host.remote = None;
                    host.remote = Some(run.connector.open(&host.name, &templated).await?);
                }
                host.remote_login = (login.clone(), identity);
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
    (vars, login): (&Vars, &Login),
) -> Result<&'h mut dyn Remote, RemoteError> {
    if !host.delegates.contains_key(other) {
        // a host of the play's inventory, or one `add_host` added during the play
        let own = match pctx.inventory.host(other) {
            Some(target) => target.vars().clone(),
            None => super::dynamic_inventory::view(run)
                .and_then(|view| view.added.get(other)?.as_object().cloned())
                .ok_or_else(|| {
                    RemoteError::Unreachable(format!(
                        "delegate_to: {other} is not in the inventory"
                    ))
                })?,
        };
        let mut target_vars = Vars::new(own, vars.shared_map().clone());
        // Templates in the delegate's variables may refer to play-level variables.
        for (k, val) in vars.own_map() {
            target_vars
                .own_map_mut()
                .entry(k.clone())
                .or_insert_with(|| val.clone());
        }
        let mut conn = connection_vars(run, &target_vars);
        login.apply(&mut conn);
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
