//! Test harness for the file modules: runs a module against this machine through `LocalRemote`
//! inside a temporary directory.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::remote::LocalRemote;
use crate::{check_args, Args, Module, ModuleCtx, ModuleResult};

/// A scratch directory and the knobs of a module run.
pub struct Harness {
    /// Scratch directory; also the local search directory for `src`.
    pub dir: tempfile::TempDir,
    /// Run in check mode.
    pub check: bool,
    /// Run in diff mode.
    pub diff: bool,
    /// Variables for templates.
    pub vars: fleet_templates::Vars,
    /// The task's `environment:`.
    pub env: Vec<(String, String)>,
}

impl Harness {
    /// A fresh scratch directory, normal mode.
    pub fn new() -> Self {
        Harness {
            dir: tempfile::tempdir().expect("tempdir"),
            check: false,
            diff: false,
            vars: fleet_templates::Vars::default(),
            env: Vec::new(),
        }
    }

    /// A path inside the scratch directory, as text.
    pub fn path(&self, rel: &str) -> String {
        self.dir.path().join(rel).to_string_lossy().into_owned()
    }

    /// The scratch directory.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `module` with `args` (a JSON object), checking them against the module's spec first.
    pub async fn run(&self, module: &dyn Module, args: Value) -> ModuleResult {
        let args: Args = args.as_object().expect("args object").clone();
        check_args(module.name(), &module.spec(), &args).expect("args accepted by spec");
        let mut remote = LocalRemote;
        let mut ctx = ModuleCtx {
            remote: &mut remote,
            check_mode: self.check,
            diff: self.diff,
            become_: None,
            become_password: None,
            env: self.env.clone(),
            vars: &self.vars,
            inventory_hostname: "testhost".into(),
            search_dirs: vec![PathBuf::from(self.dir.path())],
        };
        module
            .run(&args, &mut ctx)
            .await
            .expect("local remote works")
    }
}

/// The permission bits of a local path.
pub fn mode_of(path: &str) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path)
        .expect("path exists")
        .permissions()
        .mode()
        & 0o7777
}
