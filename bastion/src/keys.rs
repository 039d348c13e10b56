//! The bastion's four ed25519 keys: SSH host key, target-login client key, audit signing key,
//! and the host CA that certifies the bastion's host key for inventory hosts reached by ProxyJump.
//!
//! All are stored in OpenSSH private-key format with mode 0600, created once and never overwritten.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{Context, Result};
use rand::RngCore;
use russh::keys::ssh_key::{private::Ed25519Keypair, LineEnding};
use russh::keys::{HashAlg, PrivateKey, PublicKey};

/// Creates an ed25519 key at `path` (and `path.pub`) unless one exists.
pub fn ensure_ed25519(path: &Path, comment: &str) -> Result<()> {
    if path.exists() {
        return Ok(());
    }
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    let mut key = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
    key.set_comment(comment);
    let pem = key
        .to_openssh(LineEnding::LF)
        .context("encoding private key")?;
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(pem.as_bytes())?;
    f.sync_all()?;
    let public = key
        .public_key()
        .to_openssh()
        .context("encoding public key")?;
    fs::write(path.with_extension("pub"), format!("{public}\n"))
        .with_context(|| format!("writing {}.pub", path.display()))?;
    Ok(())
}

/// Loads an OpenSSH private key written by [`ensure_ed25519`].
pub fn load_private(path: &Path) -> Result<PrivateKey> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    PrivateKey::from_openssh(text.as_bytes()).with_context(|| format!("parsing {}", path.display()))
}

/// The ed25519-dalek signing key behind an OpenSSH ed25519 private key (for audit signatures).
pub fn load_signing_key(path: &Path) -> Result<ed25519_dalek::SigningKey> {
    let key = load_private(path)?;
    let pair = key
        .key_data()
        .ed25519()
        .with_context(|| format!("{} is not an ed25519 key", path.display()))?;
    Ok(ed25519_dalek::SigningKey::from_bytes(
        &pair.private.to_bytes(),
    ))
}

/// Parses one authorized_keys-style line (`ssh-ed25519 AAAA... comment`).
pub fn parse_public_line(line: &str) -> Result<PublicKey> {
    PublicKey::from_openssh(line.trim()).context("not an OpenSSH public key line")
}

/// The SHA256 fingerprint as `ssh-keygen -l` prints it (`SHA256:...`).
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// The audit signing key's fingerprint (`SHA256:...`, as `ssh-keygen -lf signing_key.pub`
/// shows it), read from the private key: that is the key that really signs.
pub fn audit_fingerprint(signing_key: &Path) -> Result<String> {
    Ok(fingerprint(load_private(signing_key)?.public_key()))
}

/// The public key as a single authorized_keys line without comment.
pub fn public_line(key: &PublicKey) -> String {
    let mut k = key.clone();
    k.set_comment("");
    k.to_openssh().unwrap_or_default()
}
