//! Who is looking: one-time links issued over SSH open browser sessions; every request after
//! that is a [`Viewer`] found by its cookie.
//!
//! - `ssh bastion console` (key and TOTP, as every login) calls [`new_login_link`]: a 256-bit
//!   random token, stored only as its hash, valid [`LINK_VALIDITY`] and once.
//! - `GET /login/TOKEN` redeems it (`store::Store::redeem_console_link`), checks that the user
//!   still holds a console right and is enabled, and opens a browser session: a second random
//!   id in a `__Host-` cookie (HttpOnly, Secure, SameSite=Strict, path `/`), plus a CSRF token
//!   that every state-changing request must echo (a form field or the `X-CSRF-Token` header),
//!   compared in constant time.
//! - The session ends after `idle` without requests, at `max_age`, or at logout. Rights are
//!   read from the policy on every request, so a role removed from policies.yaml takes effect
//!   at once.
//!
//! Every login, refused login and logout is audited with the browser's address.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::header::{COOKIE, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use base64::Engine as _;
use policies::{ConsoleGrant, ConsoleRight};
use rand::RngCore;
use store::{AuditEvent, Store};
use subtle::ConstantTimeEq;

use crate::html;
use crate::AppState;

/// How long a login link printed over SSH stays valid.
pub const LINK_VALIDITY: std::time::Duration = std::time::Duration::from_secs(120);

/// The session cookie. `__Host-` makes browsers refuse it unless Secure, path `/`, no domain.
const COOKIE_NAME: &str = "__Host-bastion-console";

/// A random URL-safe secret (256 bits).
fn secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Stores a new single-use login link for `user` and returns its URL.
pub fn new_login_link(store: &Store, user: &str, public_url: &str) -> store::Result<String> {
    let token = secret();
    let now = store::now_ts();
    store.add_console_link(&token, user, now, now + LINK_VALIDITY.as_secs_f64())?;
    Ok(format!(
        "{}/login/{token}",
        public_url.trim_end_matches('/')
    ))
}

/// The person behind a request, with the rights the policy gives them now.
pub struct Viewer {
    pub user: String,
    pub csrf: String,
    pub grant: ConsoleGrant,
    /// The browser's address, for audit records.
    pub source: String,
    session_id: String,
}

impl Viewer {
    /// True when `given` is this session's CSRF token.
    pub fn csrf_ok(&self, given: &str) -> bool {
        self.csrf.as_bytes().ct_eq(given.as_bytes()).into()
    }

    /// Refuses (403, audited as `console_denied`) unless the viewer holds `right`.
    pub fn require(
        &self,
        state: &AppState,
        right: ConsoleRight,
        request: &str,
    ) -> Result<(), Response> {
        if self.grant.has(right) {
            return Ok(());
        }
        Err(self.deny(
            state,
            request,
            &format!("no role of {} gives the console right {right}", self.user),
            StatusCode::FORBIDDEN,
        ))
    }

    /// Audits a refused request and answers `status` (404 for things the viewer may not
    /// know exist, so a guessed id tells nothing).
    pub fn deny(
        &self,
        state: &AppState,
        request: &str,
        reason: &str,
        status: StatusCode,
    ) -> Response {
        state.backend.audit(
            Some(&self.user),
            Some(&self.source),
            AuditEvent::ConsoleDenied {
                request: request.to_string(),
                reason: reason.to_string(),
            },
        );
        let text = if status == StatusCode::NOT_FOUND {
            "Not found."
        } else {
            "Your roles do not allow this."
        };
        (status, html::message_page("Refused", text)).into_response()
    }
}

fn source_of(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == COOKIE_NAME).then(|| v.to_string())
        })
}

/// Not logged in: JSON 401 under `/api`, otherwise a page saying how to get a link.
fn not_logged_in(parts: &Parts) -> Response {
    if parts.uri.path().starts_with("/api/") {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({"error": "not logged in"})),
        )
            .into_response();
    }
    (
        StatusCode::UNAUTHORIZED,
        html::message_page(
            "Log in",
            "Log in over SSH: `ssh -p PORT YOU@BASTION console` prints a one-time link (valid two minutes).",
        ),
    )
        .into_response()
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(id) = cookie_value(&parts.headers) else {
            return Err(not_logged_in(parts));
        };
        // Off the runtime like every store query of the console (`pages::off_runtime`).
        let (on, cookie) = (state.clone(), id.clone());
        let session = crate::pages::off_runtime(move || {
            let idle = on.config.idle.as_secs_f64();
            (on.backend.store()).console_session(&cookie, store::now_ts(), idle)
        })
        .await
        .map_err(|e| html::internal(&e))?;
        let Some(session) = session else {
            return Err(not_logged_in(parts));
        };
        let grant = state.backend.access().console(&session.user);
        if grant.rights.is_empty() {
            return Err(not_logged_in(parts));
        }
        Ok(Viewer {
            user: session.user,
            csrf: session.csrf,
            grant,
            source: source_of(parts),
            session_id: id,
        })
    }
}

/// `GET /login/TOKEN`: redeems a link and opens a browser session.
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
) -> Response {
    crate::pages::off_runtime(move || login_blocking(state, peer, token)).await
}

fn login_blocking(state: AppState, peer: SocketAddr, token: String) -> Response {
    let source = peer.ip().to_string();
    let store = state.backend.store();
    let now = store::now_ts();
    let refuse = |user: Option<&str>, reason: &str| {
        state.backend.audit(
            user,
            Some(&source),
            AuditEvent::ConsoleLoginFailed {
                reason: reason.to_string(),
            },
        );
        (
            StatusCode::FORBIDDEN,
            html::message_page(
                "Login refused",
                "This login link cannot be used: links work once, for two minutes, and only for users with a console role. Run `ssh ... console` again for a new one.",
            ),
        )
            .into_response()
    };
    let user = match store.redeem_console_link(&token, now) {
        Ok(Ok(user)) => user,
        Ok(Err(why)) => return refuse(None, why.as_str()),
        Err(e) => return html::internal(&e),
    };
    match store.user(&user) {
        Ok(Some(row)) if !row.disabled => {}
        _ => return refuse(Some(&user), "user disabled or removed"),
    }
    let grant = state.backend.access().console(&user);
    if grant.rights.is_empty() {
        return refuse(Some(&user), "no role gives a console right");
    }
    let (sid, csrf) = (secret(), secret());
    let max_age = state.config.max_age.as_secs();
    if let Err(e) = store.open_console_session(&sid, &user, &csrf, now, now + max_age as f64) {
        return html::internal(&e);
    }
    let audited = state.backend.audit(
        Some(&user),
        Some(&source),
        AuditEvent::ConsoleLogin {
            rights: grant.rights.iter().map(|r| r.to_string()).collect(),
            roles: grant.roles.clone(),
        },
    );
    if !audited {
        let _ = store.end_console_session(&sid, now);
        return html::message_page("Unavailable", "The audit log cannot be written.")
            .into_response();
    }
    let cookie = format!(
        "{COOKIE_NAME}={sid}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={max_age}"
    );
    (
        StatusCode::SEE_OTHER,
        [(SET_COOKIE, cookie), (LOCATION, "/sessions".to_string())],
    )
        .into_response()
}

#[derive(serde::Deserialize)]
pub struct CsrfForm {
    pub csrf: String,
}

/// `POST /logout`.
pub async fn logout(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(f): Form<CsrfForm>,
) -> Response {
    crate::pages::off_runtime(move || logout_blocking(state, viewer, f)).await
}

fn logout_blocking(state: AppState, viewer: Viewer, f: CsrfForm) -> Response {
    if !viewer.csrf_ok(&f.csrf) {
        return viewer.deny(&state, "logout", "bad CSRF token", StatusCode::FORBIDDEN);
    }
    let _ = state
        .backend
        .store()
        .end_console_session(&viewer.session_id, store::now_ts());
    state.backend.audit(
        Some(&viewer.user),
        Some(&viewer.source),
        AuditEvent::ConsoleLogout {},
    );
    let clear = format!("{COOKIE_NAME}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
    (
        [(SET_COOKIE, clear)],
        html::message_page("Logged out", "You are logged out of the console."),
    )
        .into_response()
}
