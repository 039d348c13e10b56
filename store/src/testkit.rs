//! A store in a temporary directory, for the unit tests of every module.

use crate::Store;

/// A fresh store signing with a fixed key, its directory, and the key's public half.
pub fn store() -> (tempfile::TempDir, Store, ed25519_dalek::VerifyingKey) {
    let dir = tempfile::tempdir().unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let vk = key.verifying_key();
    let s = Store::open(&dir.path().join("db"), Some(key)).unwrap();
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
