//! A store in a temporary directory, for the unit tests of every module, on either engine:
//! each test that touches the database runs twice, on SQLite and on PostgreSQL
//! ([`both_backends!`]), so "works the same on both" is what the suite checks.

use crate::Store;

/// Which engine a test's store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The fixed signing key of every test store.
pub fn key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[7u8; 32])
}

/// A fresh store signing with a fixed key, its directory, and the key's public half.
/// PostgreSQL: a new database in the test cluster (the `pgtest` crate), with this node's audit
/// head file in the directory, as the bastion keeps it.
pub fn store_on(b: Backend) -> (tempfile::TempDir, Store, ed25519_dalek::VerifyingKey) {
    let dir = tempfile::tempdir().unwrap();
    let vk = key().verifying_key();
    let s = match b {
        Backend::Sqlite => Store::open(&dir.path().join("db"), Some(key())).unwrap(),
        Backend::Postgres => {
            let url = pgtest::database();
            Store::connect(&url, Some(key()))
                .unwrap()
                .with_audit_head(dir.path().join("node.audit-head"))
        }
    };
    (dir, s, vk)
}

/// Starts a session of alice as root on web1 (a shell, recorded to `recording` if given).
pub fn session(store: &Store, recording: Option<&str>) -> i64 {
    store
        .start_session(&crate::NewSession {
            user: "alice",
            source: "127.0.0.1",
            host: "web1",
            login: "root",
            kind: "shell",
            command: None,
            recording,
        })
        .unwrap()
}

/// For each `fn name(b: Backend)`, a module `name` with the tests `sqlite` and `postgres`.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn sqlite() {
                super::$name($crate::testkit::Backend::Sqlite)
            }
            #[test]
            fn postgres() {
                super::$name($crate::testkit::Backend::Postgres)
            }
        }
    )*};
}
pub(crate) use both_backends;
