//! `ansible-inventory --graph` rendering.

use crate::model::Inventory;

impl Inventory {
    /// The group tree as `ansible-inventory --graph` prints it: groups as `@name:`, children
    /// before hosts, both in declaration order, `all`'s own hosts shown under `ungrouped`.
    ///
    /// ```text
    /// @all:
    ///   |--@ungrouped:
    ///   |--@web:
    ///   |  |--web1
    /// ```
    pub fn graph(&self) -> String {
        let mut out = String::new();
        // Explicit stack (group chains can be deep); items are (is_group, name, depth).
        let mut stack: Vec<(bool, &str, usize)> = vec![(true, "all", 0)];
        while let Some((is_group, name, depth)) = stack.pop() {
            for _ in 0..depth {
                out.push_str("  |");
            }
            if depth > 0 {
                out.push_str("--");
            }
            if !is_group {
                out.push_str(name);
                out.push('\n');
                continue;
            }
            out.push('@');
            out.push_str(name);
            out.push_str(":\n");
            let Some(group) = self.group(name) else {
                continue;
            };
            if name != "all" {
                for h in group.hosts.iter().rev() {
                    stack.push((false, h, depth + 1));
                }
            }
            for c in group.children.iter().rev() {
                stack.push((true, c, depth + 1));
            }
        }
        out
    }
}
