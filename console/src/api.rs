//! The OpenAPI 3 document of `/api/v1`, written out here: the API is a handful of read-only
//! queries whose parameters are the pages' filters, and a generator crate would add a derive
//! to every type for a document this short. `schemathesis` checks it against the server.

use axum::Json;
use serde_json::{json, Value};

fn param(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

fn string(name: &str, description: &str) -> Value {
    param(name, description, json!({"type": "string"}))
}

/// A keyset cursor `STARTED_AT:ID` (or empty: none). With a sort other than newest or oldest
/// the page is chosen by `offset` alone.
fn cursor(name: &str, description: &str) -> Value {
    param(
        name,
        &format!("keyset paging: {description}; sort newest or oldest (others page by offset)"),
        json!({"type": "string", "pattern": "^([0-9]{1,12}(\\.[0-9]{1,9})?:[0-9]{1,18})?$"}),
    )
}

/// A time filter: a date, an RFC 3339 time, or empty (no filter).
fn time(name: &str, description: &str) -> Value {
    param(
        name,
        description,
        json!({"anyOf": [
            {"type": "string", "format": "date"},
            {"type": "string", "format": "date-time"},
            {"type": "string", "maxLength": 0}
        ]}),
    )
}

fn paging() -> [Value; 2] {
    [
        param(
            "offset",
            "rows to skip",
            json!({"type": "integer", "minimum": 0, "maximum": i64::MAX}),
        ),
        param(
            "limit",
            "rows per page (1-500)",
            json!({"type": "integer", "minimum": 1, "maximum": 500}),
        ),
    ]
}

fn get(summary: &str, params: Vec<Value>) -> Value {
    json!({
        "get": {
            "summary": summary,
            "parameters": params,
            "responses": {
                "200": {"description": "the result", "content": {"application/json": {"schema": {"type": "object"}}}},
                "400": {"description": "a malformed parameter"},
                "401": {"description": "not logged in"},
                "403": {"description": "no console right for this"},
                "404": {"description": "no such thing the viewer may see"}
            }
        }
    })
}

/// `GET /api/v1/openapi.json` (public: it describes, it does not show data).
pub async fn openapi() -> Json<Value> {
    let when = "`YYYY-MM-DD` (local day) or RFC 3339";
    let mut sessions = vec![
        string("user", "bastion user"),
        string("host", "inventory host"),
        string("login", "target account"),
        string("kind", "shell, exec, scp, rsync or sftp"),
        time("from", &format!("started at or after: {when}")),
        time("to", &format!("started before the end of: {when}")),
        string("active", "`true`: only running sessions"),
        string("blocked", "`true`: only sessions with a blocked command"),
        param(
            "sort",
            "newest (default), oldest, user, host or bytes",
            json!({"type": "string", "enum": ["newest", "oldest", "user", "host", "bytes", ""]}),
        ),
        cursor(
            "after",
            "the page after this session (its pager link's `STARTED_AT:ID`)",
        ),
        cursor(
            "before",
            "the page before this session (when `after` is given too, `after` decides)",
        ),
    ];
    sessions.extend(paging());
    let mut commands = vec![
        string("q", "case-insensitive substring of the command line"),
        string("user", "bastion user"),
        string("host", "inventory host"),
        time("from", when),
        time("to", when),
        string("blocked", "`true`: only blocked commands"),
    ];
    commands.extend(paging());
    let mut audit = vec![
        string("event", "event name, e.g. policy_deny"),
        string("user", "bastion user"),
        time("from", when),
        time("to", when),
    ];
    audit.extend(paging());
    let session_id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "format": "int64"}});
    let mut one_session = get(
        "one session with its commands and audit records",
        vec![session_id],
    );
    one_session["get"]["parameters"][0]["description"] = json!("session id");
    Json(json!({
        "openapi": "3.0.3",
        "info": {
            "title": "bastion console API",
            "version": "1",
            "description": "Read what the console shows. Log in with the link `ssh BASTION console` prints; the session cookie it sets (`__Host-bastion-console`) authenticates every call. State-changing calls need the `X-CSRF-Token` header."
        },
        "paths": {
            "/api/v1/sessions": get("sessions the viewer may see, filtered and paged", sessions),
            "/api/v1/sessions/{id}": one_session,
            "/api/v1/commands": get("command search", commands),
            "/api/v1/audit": get("audit records, newest first", audit),
            "/api/v1/live": get("sessions in progress the viewer may watch", vec![]),
            "/api/v1/requests": get("access requests and held command lines on the viewer's hosts (approve right); pending first, then the latest decided", vec![string("pending", "`true`: only those waiting for a decision")]),
            "/api/v1/reports": get("totals per day, user and host over a range (default the last 30 days)", vec![time("from", when), time("to", when)]),
            "/api/v1/audit/verify": {
                "post": {
                    "summary": "verify the audit chain, command hashes, checkpoints and recording seals",
                    "parameters": [{"name": "X-CSRF-Token", "in": "header", "required": true, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {"description": "the verification's result", "content": {"application/json": {"schema": {"type": "object"}}}},
                        "401": {"description": "not logged in"},
                        "403": {"description": "no audit right, or a bad CSRF token"}
                    }
                }
            }
        }
    }))
}
