//! Schema and migrations (SQLite's; PostgreSQL's are in `schema_pg.rs`), applied in order inside one transaction each and recorded in
//! SQLite's `user_version` (the number the code trusts) and in `schema_migrations` (when each
//! was applied, for operators). A migration is never edited once released: a change is a new
//! entry at the end. A database newer than this code is refused rather than used half-known.

use std::path::Path;

use rusqlite::Connection;

use crate::StoreError;

/// One step of the schema's history.
pub(crate) struct Migration {
    pub(crate) name: &'static str,
    sql: &'static str,
}

/// The migration that creates `schema_migrations`; it and every later one record themselves.
const HISTORY_FROM: usize = 3;

/// The schema version this code writes: the number of migrations.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        name: "users, keys, sessions, audit log, pinned host keys",
        sql: r#"
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    disabled INTEGER NOT NULL DEFAULT 0,
    totp_secret TEXT,
    totp_last_step INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE TABLE user_keys (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    public_key TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    added_at REAL NOT NULL,
    UNIQUE(user_id, fingerprint)
);
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    user TEXT NOT NULL,
    source TEXT NOT NULL,
    host TEXT NOT NULL,
    login TEXT NOT NULL,
    kind TEXT NOT NULL,
    command TEXT,
    started_at REAL NOT NULL,
    ended_at REAL,
    status TEXT NOT NULL DEFAULT 'active',
    exit_status INTEGER,
    exit_signal TEXT,
    recording TEXT,
    rec_sha256 TEXT,
    rec_size INTEGER,
    bytes_in INTEGER NOT NULL DEFAULT 0,
    bytes_out INTEGER NOT NULL DEFAULT 0,
    end_reason TEXT
);
CREATE INDEX sessions_user ON sessions(user, started_at);
CREATE INDEX sessions_host ON sessions(host, started_at);
CREATE INDEX sessions_status ON sessions(status);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    event TEXT NOT NULL,
    user TEXT,
    source TEXT,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    signature TEXT NOT NULL
);
CREATE INDEX audit_ts ON audit(ts);
CREATE TABLE host_keys (
    endpoint TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    public_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    pinned_at REAL NOT NULL
);
"#,
    },
    Migration {
        name: "command log with a trigram index",
        sql: r#"
CREATE TABLE commands (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    user TEXT NOT NULL,
    host TEXT NOT NULL,
    login TEXT NOT NULL,
    ts REAL NOT NULL,
    offset REAL NOT NULL,
    command TEXT NOT NULL,
    exit_status INTEGER,
    blocked INTEGER NOT NULL DEFAULT 0,
    origin TEXT NOT NULL
);
CREATE INDEX commands_user ON commands(user, ts);
CREATE INDEX commands_host ON commands(host, ts);
CREATE INDEX commands_ts ON commands(ts);
CREATE INDEX commands_session ON commands(session_id);
-- Substring search (`--grep`) through a trigram index kept in step by triggers.
CREATE VIRTUAL TABLE commands_fts USING fts5(command, content='commands', content_rowid='id', tokenize='trigram');
CREATE TRIGGER commands_ai AFTER INSERT ON commands BEGIN
    INSERT INTO commands_fts(rowid, command) VALUES (new.id, new.command);
END;
CREATE TRIGGER commands_ad AFTER DELETE ON commands BEGIN
    INSERT INTO commands_fts(commands_fts, rowid, command) VALUES ('delete', old.id, old.command);
END;
CREATE TRIGGER commands_au AFTER UPDATE OF command ON commands BEGIN
    INSERT INTO commands_fts(commands_fts, rowid, command) VALUES ('delete', old.id, old.command);
    INSERT INTO commands_fts(rowid, command) VALUES (new.id, new.command);
END;
"#,
    },
    Migration {
        name: "migration history; audit events selected by name",
        sql: r#"
CREATE TABLE schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at REAL
);
-- Versions applied before this table existed: their time is not known.
INSERT INTO schema_migrations(version, name, applied_at)
    VALUES (1, 'users, keys, sessions, audit log, pinned host keys', NULL),
           (2, 'command log with a trigram index', NULL);
-- `report` and `audit verify` select records by event name.
CREATE INDEX audit_event ON audit(event, id);
"#,
    },
    Migration {
        name: "web console: one-time login links, browser sessions",
        sql: r#"
-- Only hashes of the secrets are kept: a copy of the database opens no console.
CREATE TABLE console_links (
    token_hash TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    used_at REAL
);
CREATE TABLE console_sessions (
    id_hash TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at REAL NOT NULL,
    last_seen REAL NOT NULL,
    expires_at REAL NOT NULL,
    ended_at REAL
);
-- The console lists sessions newest first over every user and host.
CREATE INDEX sessions_started ON sessions(started_at);
"#,
    },
    Migration {
        name: "blocked commands indexed; the hosts sessions went to",
        sql: r#"
-- The console's "sessions with blocked commands" filter: a handful of rows in millions.
CREATE INDEX commands_blocked ON commands(session_id) WHERE blocked = 1;
-- Every host that has a session, kept by a trigger: the console scopes each request by it,
-- and SELECT DISTINCT over millions of sessions would cost more than the request itself.
CREATE TABLE session_hosts (host TEXT PRIMARY KEY) WITHOUT ROWID;
INSERT OR IGNORE INTO session_hosts(host) SELECT DISTINCT host FROM sessions;
CREATE TRIGGER sessions_host_seen AFTER INSERT ON sessions BEGIN
    INSERT OR IGNORE INTO session_hosts(host) VALUES (new.host);
END;
"#,
    },
    Migration {
        name: "audit records found by session",
        sql: r#"
-- The console's session page lists every audit record about that session.
CREATE INDEX audit_session ON audit(json_extract(detail, '$.session'))
    WHERE json_extract(detail, '$.session') IS NOT NULL;
"#,
    },
    Migration {
        name: "access requests, grants and command reviews",
        sql: r#"
-- One row per request: for access (an approved one is the grant, until granted_until) or for
-- a held command line. Status: pending, approved, denied, expired, revoked.
CREATE TABLE requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('access', 'command')),
    user TEXT NOT NULL,
    host TEXT NOT NULL,
    login TEXT NOT NULL,
    text TEXT NOT NULL,
    rule TEXT,
    session_id INTEGER,
    approvers TEXT NOT NULL,
    seconds INTEGER,
    created_at REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    decided_by TEXT,
    decided_at REAL,
    note TEXT,
    granted_until REAL
);
CREATE INDEX requests_open ON requests(status, user) WHERE status IN ('pending', 'approved');
"#,
    },
    Migration {
        // An auditor scoped to some hosts filtering by user: the count of that page is a few
        // range scans of this index instead of a lookup of every session of the user (33 ms
        // to 1 ms with 1M sessions, `bench console`).
        name: "sessions counted by user and host",
        sql: r#"
CREATE INDEX sessions_user_host ON sessions(user, host, started_at);
"#,
    },
    Migration {
        name: "login failures counted in the database",
        sql: r#"
-- Login throttling's memory when several nodes share the database (`throttle.rs`).
CREATE TABLE auth_failures (key TEXT NOT NULL, ts REAL NOT NULL);
CREATE INDEX auth_failures_key ON auth_failures(key, ts);
CREATE INDEX auth_failures_ts ON auth_failures(ts);
"#,
    },
    Migration {
        name: "the node that serves each session; nodes' heartbeats",
        sql: r#"
-- Several nodes on one database (`nodes.rs`): a session names its node, each node beats every
-- second, and a survivor seals the sessions of a node that stopped beating.
ALTER TABLE sessions ADD COLUMN node TEXT;
CREATE INDEX sessions_node_active ON sessions(node) WHERE status = 'active';
CREATE TABLE nodes (name TEXT PRIMARY KEY, last_seen REAL NOT NULL);
"#,
    },
    Migration {
        name: "kill orders for the node serving a session",
        sql: r#"
-- `bastion kill` or the console on one node ending a session another node serves (`nodes.rs`).
CREATE TABLE kill_orders (
    session INTEGER PRIMARY KEY,
    node TEXT NOT NULL,
    by_user TEXT NOT NULL,
    message TEXT NOT NULL,
    at REAL NOT NULL
);
"#,
    },
    Migration {
        name: "watching a session another node serves",
        sql: r#"
-- `bastion watch` or the console on one node following a session another node serves
-- (`watch_relay.rs`): one feed per watcher, its output chunks relayed through the database.
CREATE TABLE watch_feeds (
    id INTEGER PRIMARY KEY,
    session INTEGER NOT NULL,
    node TEXT NOT NULL,
    wanted_until REAL NOT NULL,
    term_cols INTEGER,
    term_rows INTEGER
);
CREATE INDEX watch_feeds_node ON watch_feeds(node, wanted_until);
CREATE TABLE watch_chunks (
    feed INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    data TEXT NOT NULL,
    ended INTEGER NOT NULL DEFAULT 0,
    at REAL NOT NULL,
    PRIMARY KEY (feed, seq)
);
"#,
    },
    Migration {
        name: "command search on lower-cased text, its index without a pending list",
        // PostgreSQL's step (`schema_pg.rs`); SQLite's FTS5 trigram table folds case already.
        sql: "-- nothing on SQLite",
    },
];

/// Brings the database at `path` up to [`SCHEMA_VERSION`].
pub fn migrate(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.display().to_string(),
            found: version,
            known: SCHEMA_VERSION,
        });
    }
    for (i, m) in MIGRATIONS.iter().enumerate().skip(version) {
        let number = i + 1;
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(m.sql)?;
        if number >= HISTORY_FROM {
            tx.execute(
                "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?1, ?2, ?3)",
                rusqlite::params![number, m.name, crate::now_ts()],
            )?;
        }
        tx.pragma_update(None, "user_version", number)?;
        tx.commit()?;
        // Creating a database is not news; changing an existing one is.
        if version > 0 {
            let path = path.display();
            tracing::info!("{path}: schema migrated to version {number} ({})", m.name);
        }
    }
    Ok(())
}

/// One applied migration, as `schema_migrations` records it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AppliedMigration {
    pub version: usize,
    pub name: String,
    /// `None` for migrations applied before the history was kept.
    pub applied_at: Option<f64>,
}

impl crate::Store {
    /// The database's schema version (after opening: [`SCHEMA_VERSION`]).
    pub fn schema_version(&self) -> crate::Result<usize> {
        let sql = if self.pg {
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"
        } else {
            "PRAGMA user_version"
        };
        self.conn().query_one(sql, &[])?.get(0)
    }

    /// The migrations applied to this database, oldest first.
    pub fn migrations(&self) -> crate::Result<Vec<AppliedMigration>> {
        let rows = self.conn().query(
            "SELECT version, name, applied_at FROM schema_migrations ORDER BY version",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                Ok(AppliedMigration {
                    version: r.get(0)?,
                    name: r.get(1)?,
                    applied_at: r.get(2)?,
                })
            })
            .collect()
    }
}
