//! Checks shared by several fuzz targets.

use inventory::{Inventory, InventoryError};

/// Uses a parsed inventory the way fleet and the bastion do, asserting what must hold for any
/// input: errors carry a 1-based position, `all` selects every host (unless a host is named `all`), `--graph` renders.
pub fn check_inventory(result: Result<Inventory, InventoryError>) {
    let inv = match result {
        Ok(inv) => inv,
        Err(InventoryError::Parse { line, col, .. }) => {
            assert!(line >= 1 && col >= 1);
            return;
        }
        Err(e) => panic!("not a parse error: {e}"),
    };
    // As in Ansible, a plain host name wins over a group of that name: with a host called
    // `all`, the pattern `all` is that host.
    if inv.host("all").is_none() {
        let count = inv.hosts().count();
        assert_eq!(inv.select("all").map(|h| h.len()).unwrap_or(0), count);
    }
    let _ = inv.graph();
    for pattern in ["web*:&db", "all:!ungrouped", "~^w", "all[0:1]", "*"] {
        let _ = inv.select(pattern);
    }
    for host in inv.hosts().take(16) {
        let _ = (host.address(), host.port(), host.user(), host.groups());
        let _ = inv.host_vars(&host.name);
    }
}
