//! A whole test world: one bastion, some real sshd targets trusting its client key, and an
//! inventory naming them.

use crate::bastion::{BastionHome, TestUser};
use crate::net::SilentListener;
use crate::sshd::TargetSshd;

/// A bastion plus named targets, written into its inventory.
pub struct Lab {
    pub bastion: BastionHome,
    targets: Vec<(String, Vec<String>, TargetSshd)>,
}

impl Lab {
    /// Initializes a bastion (`bin` = `env!("CARGO_BIN_EXE_bastion")`) and starts one sshd
    /// per `(name, groups)`; the inventory lists them all. The server is not started yet so
    /// tests can add users, policies and settings first; call [`Lab::serve`].
    pub fn new(bin: &str, hosts: &[(&str, &[&str])]) -> Lab {
        Lab::with_sshd_config(bin, hosts, "")
    }

    /// Like [`Lab::new`], with `sshd_config` lines added to every target (e.g. raised
    /// `MaxStartups` for load tests).
    pub fn with_sshd_config(bin: &str, hosts: &[(&str, &[&str])], sshd_config: &str) -> Lab {
        let bastion = BastionHome::init(bin);
        let key = bastion.client_pubkey();
        let targets = hosts
            .iter()
            .map(|(name, groups)| {
                (
                    name.to_string(),
                    groups.iter().map(|g| g.to_string()).collect(),
                    TargetSshd::start_with(std::slice::from_ref(&key), sshd_config),
                )
            })
            .collect();
        let lab = Lab { bastion, targets };
        lab.write_inventory();
        lab
    }

    /// The common set-up: targets, `policy` as policies.yaml, one user without TOTP (the policy
    /// must waive it for them), and the server started.
    pub fn serving(
        bin: &str,
        hosts: &[(&str, &[&str])],
        policy: &str,
        user: &str,
    ) -> (Lab, TestUser) {
        let mut lab = Lab::new(bin, hosts);
        lab.bastion.write_policies(policy);
        let test_user = lab.bastion.add_user(user, false);
        lab.serve();
        (lab, test_user)
    }

    /// Starts `bastion serve`.
    pub fn serve(&mut self) {
        self.bastion.serve();
    }

    /// The target named `name`.
    pub fn target(&self, name: &str) -> &TargetSshd {
        &self
            .targets
            .iter()
            .find(|(n, _, _)| n == name)
            .unwrap_or_else(|| panic!("no target {name}"))
            .2
    }

    /// The target named `name`, mutably (to stop or re-key it).
    pub fn target_mut(&mut self, name: &str) -> &mut TargetSshd {
        &mut self
            .targets
            .iter_mut()
            .find(|(n, _, _)| n == name)
            .unwrap_or_else(|| panic!("no target {name}"))
            .2
    }

    /// Inventory YAML for the targets (Ansible format), plus `extra_hosts` lines appended
    /// under `all.hosts` verbatim (e.g. hosts that point nowhere).
    pub fn inventory_yaml(&self, extra_hosts: &str) -> String {
        let mut out = String::from("all:\n  hosts:\n");
        for (name, _, t) in &self.targets {
            out.push_str(&format!(
                "    {name}:\n      ansible_host: {}\n      ansible_port: {}\n",
                t.addr(),
                t.port()
            ));
        }
        out.push_str(extra_hosts);
        let mut groups: Vec<&String> = self.targets.iter().flat_map(|(_, g, _)| g).collect();
        groups.sort();
        groups.dedup();
        if !groups.is_empty() {
            out.push_str("  children:\n");
            for g in groups {
                out.push_str(&format!("    {g}:\n      hosts:\n"));
                for (name, gs, _) in &self.targets {
                    if gs.contains(g) {
                        out.push_str(&format!("        {name}: {{}}\n"));
                    }
                }
            }
        }
        out
    }

    fn write_inventory(&self) {
        self.bastion.write_inventory(&self.inventory_yaml(""));
    }

    /// Adds inventory host `name` on a listener that accepts connections and never speaks (a
    /// hung sshd); keep the listener alive as long as the host should hang.
    pub fn add_hung_host(&self, name: &str) -> SilentListener {
        let hung = SilentListener::start();
        self.bastion.write_inventory(&self.inventory_yaml(&format!(
            "    {name}:\n      ansible_host: {}\n      ansible_port: {}\n",
            hung.ip(),
            hung.port()
        )));
        hung
    }
}
