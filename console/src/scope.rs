//! Which hosts' sessions a viewer may see: the policy's answer (`access::Access::console_sees`)
//! turned into the list the store's queries take. `None` means every host (a role with
//! `hosts: ["*"]`), which also shows audit records that name no host.

use policies::ConsoleRight;

use axum::response::Response;

use crate::auth::Viewer;
use crate::{html, AppState};

/// The viewer's host scope under `right`.
pub fn hosts(
    state: &AppState,
    viewer: &Viewer,
    right: ConsoleRight,
) -> store::Result<Option<Vec<String>>> {
    let access = state.backend.access();
    if access.console_everywhere(&viewer.user, right) {
        return Ok(None);
    }
    let mut candidates = state.backend.store().session_hosts()?;
    candidates.extend(access.inventory.hosts().map(|h| h.name.clone()));
    candidates.sort();
    candidates.dedup();
    Ok(Some(
        candidates
            .into_iter()
            .filter(|h| access.console_sees(&viewer.user, right, h))
            .collect(),
    ))
}

/// Whether the viewer may see what happened on `host` under `right`.
pub fn sees(state: &AppState, viewer: &Viewer, right: ConsoleRight, host: &str) -> bool {
    let access = state.backend.access();
    access.console_everywhere(&viewer.user, right) || access.console_sees(&viewer.user, right, host)
}

/// The audit views' common start: refuses (403, audited) without the `audit` right, else the
/// viewer's host scope for the query.
pub fn audit_hosts(
    state: &AppState,
    viewer: &Viewer,
    request: &str,
) -> Result<Option<Vec<String>>, Response> {
    viewer.require(state, ConsoleRight::Audit, request)?;
    hosts(state, viewer, ConsoleRight::Audit).map_err(|e| html::internal(&e))
}
