//! The inventory changing during a run: `group_by` puts a host into a group (made when new,
//! under its parents), as Ansible's strategy applies an action's `add_group`. A group made this
//! way gets its `group_vars/` files from every vars directory already read, as Ansible's
//! `host_group_vars` plugin reads them for any group it is asked about.

use crate::error::InventoryError;
use crate::model::Inventory;
use crate::vars_dirs::read_kind;

/// One host into one group, under its parents, as `group_by` asks.
pub struct GroupJoin<'a> {
    /// The inventory name of the host.
    pub host: &'a str,
    /// The group it joins (made when new).
    pub group: &'a str,
    /// The groups the group goes under (each made when new).
    pub parents: &'a [String],
}

impl Inventory {
    /// Puts each host into its group under its parents (each made when new; a new group with no
    /// parent goes under `all`), then recomputes every host's groups and variables once. Per
    /// join, `Ok(true)` when the host was not in the group before (Ansible reports the task as
    /// changed then).
    pub fn add_to_groups<'a>(
        &mut self,
        joins: impl IntoIterator<Item = GroupJoin<'a>>,
    ) -> Vec<Result<bool, InventoryError>> {
        let results = joins.into_iter().map(|j| self.join_group(&j)).collect();
        self.finalize();
        results
    }

    /// One join, without recomputing the hosts (see [`Inventory::add_to_groups`]).
    fn join_group(&mut self, join: &GroupJoin<'_>) -> Result<bool, InventoryError> {
        let GroupJoin {
            host,
            group,
            parents,
        } = *join;
        let bad = |why: String| InventoryError::parse("group_by", 1, 1, why);
        if self.host(host).is_none() {
            return Err(bad(format!("host {host} is not in the inventory")));
        }
        crate::yaml::check_group_name(group).map_err(bad)?;
        let new_groups: Vec<String> = std::iter::once(group)
            .chain(parents.iter().map(String::as_str))
            .filter(|g| self.group(g).is_none())
            .map(str::to_string)
            .collect();
        for parent in parents {
            crate::yaml::check_group_name(parent).map_err(bad)?;
            self.ensure_group(parent);
            if parent != group {
                self.add_child(parent, group).map_err(bad)?;
            }
        }
        let before = self
            .host(host)
            .is_some_and(|h| h.direct_groups.iter().any(|g| g == group));
        self.add_host_to_group(host, group);
        for layer in &mut self.layers {
            let Some(dir) = layer.dir.clone() else {
                continue;
            };
            let read = read_kind(&dir.join("group_vars"), &new_groups)?;
            layer.groups.extend(read);
        }
        Ok(!before)
    }
}

#[cfg(test)]
mod tests {
    use super::GroupJoin;
    use crate::{Inventory, InventoryError};

    fn join(
        inv: &mut Inventory,
        host: &str,
        group: &str,
        parents: &[String],
    ) -> Result<bool, InventoryError> {
        let joined = GroupJoin {
            host,
            group,
            parents,
        };
        inv.add_to_groups([joined]).pop().unwrap()
    }

    #[test]
    fn a_host_joins_a_new_group_with_its_group_vars() {
        let dir = tempfile::tempdir().unwrap();
        let inv_path = dir.path().join("hosts.yml");
        std::fs::write(&inv_path, "all:\n  hosts:\n    a: {}\n    b: {}\n").unwrap();
        std::fs::create_dir(dir.path().join("group_vars")).unwrap();
        std::fs::write(
            dir.path().join("group_vars/os_debian.yml"),
            "flavour: apt\n",
        )
        .unwrap();
        let mut inv = Inventory::load(&inv_path).unwrap();
        let parents = vec!["os".to_string()];
        assert!(join(&mut inv, "a", "os_debian", &parents).unwrap());
        assert!(!join(&mut inv, "a", "os_debian", &parents).unwrap());
        let a = inv.host("a").unwrap();
        assert!(a.groups().iter().any(|g| g == "os_debian"));
        assert!(a.groups().iter().any(|g| g == "os"));
        assert_eq!(a.vars().get("flavour"), Some(&serde_json::json!("apt")));
        assert!(inv.host("b").unwrap().vars().get("flavour").is_none());
        let names: Vec<String> = inv
            .select("os")
            .unwrap()
            .iter()
            .map(|h| h.name.clone())
            .collect();
        assert_eq!(names, ["a"]);
        assert!(join(&mut inv, "nope", "x", &[]).is_err());
        assert!(join(&mut inv, "a", " ", &[]).is_err());
    }
}
