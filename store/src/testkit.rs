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
