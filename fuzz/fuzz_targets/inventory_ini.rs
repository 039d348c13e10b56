//! INI inventories (inventory crate): parse arbitrary text, then use the result the way fleet
//! and the bastion do (see [`bastion_fuzz::check_inventory`]). Invariants: never panics; errors
//! carry a 1-based position; `all` selects every host.
#![no_main]

use inventory::Inventory;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    bastion_fuzz::check_inventory(Inventory::parse_ini(text, "fuzz.ini"));
});
