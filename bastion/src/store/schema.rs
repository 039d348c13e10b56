//! Schema and migrations, applied in order and recorded in `user_version`.

use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    r#"
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
    r#"
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
];

/// Brings the database up to the latest schema.
pub fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
    }
    Ok(())
}
