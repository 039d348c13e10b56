//! Modules that run commands or manage system state: command, shell, raw, script, apt, package,
//! service, systemd, user, group, cron, wait_for, ping, setup (its facts: `setup.rs`,
//! `facts_more.rs`, `interface_facts.rs`, `virtual_facts.rs`, `distro.rs`, `python_facts.rs`).

use super::Module;

mod apt;
mod command;
pub mod command_job;
mod command_run;
pub(crate) mod common;
mod cron;
mod distro;
mod facts_more;
mod interface_facts;
mod python_facts;
mod script;
mod service;
mod setup;
mod tempfile;
mod users;
mod virtual_facts;
mod wait_for;
pub(crate) mod words;

/// The system modules, for the registry in `modules::all`.
pub fn modules() -> Vec<&'static dyn Module> {
    vec![
        &command::Command,
        &command::Shell,
        &command::Raw,
        &script::Script,
        &service::Service,
        &service::Systemd,
        &apt::Apt,
        &apt::Package,
        &users::User,
        &users::Group,
        &cron::Cron,
        &wait_for::WaitFor,
        &setup::Setup,
        &setup::Ping,
        &tempfile::TempFile,
        &tempfile::GatherFacts,
    ]
}

/// Running a module against this machine through `LocalRemote`, for the module tests.
#[cfg(test)]
pub(crate) mod testing {
    use serde_json::Value;

    use crate::remote::LocalRemote;
    use crate::{Module, ModuleCtx, ModuleResult};

    /// Options of one test run.
    #[derive(Default)]
    pub struct Run {
        pub check: bool,
        pub env: Vec<(String, String)>,
        pub search_dirs: Vec<std::path::PathBuf>,
    }

    /// Runs `module` with `args` (a JSON object) on this machine.
    pub async fn run_with(module: &dyn Module, args: Value, opts: Run) -> ModuleResult {
        let args = args.as_object().expect("args object").clone();
        crate::check_args(module.name(), &module.spec(), &args).expect("valid args");
        let mut remote = LocalRemote;
        let vars = fleet_templates::Vars::default();
        let mut ctx = ModuleCtx {
            remote: &mut remote,
            check_mode: opts.check,
            diff: false,
            become_: None,
            become_password: None,
            env: opts.env,
            vars: &vars,
            inventory_hostname: "localhost".into(),
            search_dirs: opts.search_dirs,
        };
        module
            .run(&args, &mut ctx)
            .await
            .expect("local remote runs")
    }

    /// Runs `module` with `args`, normal mode.
    pub async fn run(module: &dyn Module, args: Value) -> ModuleResult {
        run_with(module, args, Run::default()).await
    }

    /// Runs `module` with `args` in check mode.
    pub async fn check(module: &dyn Module, args: Value) -> ModuleResult {
        run_with(
            module,
            args,
            Run {
                check: true,
                ..Run::default()
            },
        )
        .await
    }

    /// A result key as text.
    pub fn text(r: &ModuleResult, key: &str) -> String {
        match r.data.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
            None => String::new(),
        }
    }
}
