//! `virtualization_type`, `_role`, `_tech_guest` and `_tech_host`: Ansible's
//! `LinuxVirtual.get_virtual_facts`, check by check in its order, from the items
//! `facts_more.sh` gathers (PID 1's cgroups, `/run/systemd/container`, `/.dockerenv`,
//! `/proc/xen`, `/proc/vz`, DMI names, the CPU model, kernel modules, `/dev/kvm`). The
//! technologies are sets in Ansible (in no order); here they are sorted. Not checked:
//! `container=` in PID 1's environment (only root may read it), `dmidecode` and VServer.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

/// Ansible's `LinuxVirtual.get_virtual_facts`, check by check in its order (the first finding
/// decides type and role; every finding joins the guest or host technologies).
pub fn facts(raw: &BTreeMap<String, String>) -> Vec<(String, Value)> {
    let has = |k: &str| raw.contains_key(k);
    let get = |k: &str| raw.get(k).map(|v| v.trim()).unwrap_or_default();
    let mut v = Virt::default();
    for (key, tech) in [
        ("virt.cg_docker", "docker"),
        ("virt.cg_lxc", "lxc"),
        ("virt.cg_containerd", "containerd"),
    ] {
        if has(key) {
            v.guest(tech, Some("guest"));
        }
    }
    if let Some(role) = raw.get("virt.openvz") {
        v.type_ = Some("openvz".into());
        if role == "host" {
            v.host.insert("openvz".into());
        } else {
            v.guest.insert("openvz".into());
        }
        v.role.get_or_insert_with(|| role.clone());
        v.found = true;
    }
    let systemd_container = get("virt.systemd_container");
    if !systemd_container.is_empty() {
        v.guest(systemd_container, Some("guest"));
    }
    if has("virt.dockerenv") {
        v.guest("docker", Some("guest"));
    }
    let containers = ["docker", "lxc", "podman", "openvz", "containerd"];
    if containers.iter().any(|c| v.guest.contains(*c)) || !systemd_container.is_empty() {
        v.guest.insert("container".into());
    }
    if let Some(xen) = raw.get("virt.xen") {
        if xen == "host" {
            v.host.insert("xen".into());
        }
        if !v.found {
            v.type_ = Some("xen".into());
            v.role = Some(xen.clone());
        }
        v.found = true;
    }
    let tentative = !v.found;
    if tentative {
        v.role = Some("guest".into());
    }
    let product = get("dmi.product_name");
    let vendor = get("dmi.sys_vendor");
    let family = get("dmi.product_family");
    let bios = get("dmi.bios_vendor");
    let by_dmi: &[(bool, &str)] = &[
        (
            [
                "KVM",
                "KVM Server",
                "Bochs",
                "AHV",
                "CloudStack KVM Hypervisor",
            ]
            .contains(&product),
            "kvm",
        ),
        (vendor == "oVirt", "oVirt"),
        (vendor == "Red Hat" && family == "RHV", "RHV"),
        (
            vendor == "Red Hat" && family != "RHV" && product == "RHEV Hypervisor",
            "RHEV",
        ),
        (product.starts_with("VMware"), "VMware"),
        (
            ["OpenStack Compute", "OpenStack Nova"].contains(&product),
            "openstack",
        ),
        (bios == "Xen", "xen"),
        (bios == "innotek GmbH", "virtualbox"),
        (
            ["Amazon EC2", "DigitalOcean", "Hetzner", "Linode"].contains(&bios),
            "kvm",
        ),
        (
            [
                "QEMU",
                "Amazon EC2",
                "DigitalOcean",
                "Google",
                "Scaleway",
                "Nutanix",
            ]
            .contains(&vendor),
            "kvm",
        ),
        (vendor == "KubeVirt", "KubeVirt"),
        (vendor == "Microsoft Corporation", "VirtualPC"),
        (
            vendor == "Parallels Software International Inc.",
            "parallels",
        ),
        (vendor == "OpenStack Foundation", "openstack"),
    ];
    for &(hit, tech) in by_dmi {
        if hit {
            v.guest(tech, None);
        }
    }
    if !v.found {
        v.role = None;
    }
    if get("cpu.model").contains("QEMU Virtual CPU") {
        v.guest("kvm", Some("guest"));
    }
    if has("virt.mod_kvm") {
        v.host.insert("kvm".into());
        if !v.found {
            v.type_ = Some("kvm".into());
            v.role = Some("host".into());
        }
        v.found = true;
    }
    if has("virt.mod_vboxdrv") {
        v.host_found("virtualbox");
    }
    if has("virt.mod_virtio") {
        v.host.insert("kvm".into());
        if !v.found {
            v.type_ = Some("kvm".into());
            v.role = Some("guest".into());
            v.found = true;
        }
    }
    if has("virt.dev_kvm") {
        v.host_found("kvm");
    }
    let mut out = vec![
        (
            "virtualization_type".to_string(),
            json!(v.type_.clone().unwrap_or("NA".into())),
        ),
        (
            "virtualization_role".to_string(),
            json!(v.role.clone().unwrap_or("NA".into())),
        ),
    ];
    if !v.found {
        out[0].1 = json!("NA");
        out[1].1 = json!("NA");
    }
    out.push(("virtualization_tech_guest".into(), json!(v.guest)));
    out.push(("virtualization_tech_host".into(), json!(v.host)));
    out
}

#[derive(Default)]
struct Virt {
    found: bool,
    type_: Option<String>,
    role: Option<String>,
    guest: BTreeSet<String>,
    host: BTreeSet<String>,
}

impl Virt {
    /// A guest technology found; the first finding sets the type (and `role`, when given).
    fn guest(&mut self, tech: &str, role: Option<&str>) {
        self.guest.insert(tech.to_string());
        if !self.found {
            self.type_ = Some(tech.to_string());
            if let Some(role) = role {
                self.role = Some(role.to_string());
            }
            self.found = true;
        }
    }

    /// A host technology found; the first finding sets type and role `host`.
    fn host_found(&mut self, tech: &str) {
        self.host.insert(tech.to_string());
        if !self.found {
            self.type_ = Some(tech.to_string());
            self.role = Some("host".into());
            self.found = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn virt(items: &[(&str, &str)]) -> BTreeMap<String, Value> {
        let raw = items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        facts(&raw).into_iter().collect()
    }

    #[test]
    fn the_first_finding_decides_type_and_role_as_in_ansible() {
        let docker = virt(&[("virt.cg_docker", "1"), ("virt.dev_kvm", "1")]);
        assert_eq!(docker["virtualization_type"], "docker");
        assert_eq!(docker["virtualization_role"], "guest");
        assert_eq!(
            docker["virtualization_tech_guest"],
            json!(["container", "docker"])
        );
        assert_eq!(docker["virtualization_tech_host"], json!(["kvm"]));
        let vm = virt(&[("dmi.sys_vendor", "QEMU")]);
        assert_eq!(vm["virtualization_type"], "kvm");
        assert_eq!(vm["virtualization_role"], "guest");
        let host = virt(&[("virt.mod_kvm", "1")]);
        assert_eq!(host["virtualization_role"], "host");
        let bare = virt(&[]);
        assert_eq!(bare["virtualization_type"], "NA");
        assert_eq!(bare["virtualization_role"], "NA");
        assert_eq!(bare["virtualization_tech_guest"], json!([]));
    }
}
