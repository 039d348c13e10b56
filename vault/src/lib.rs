//! Ansible Vault: the `$ANSIBLE_VAULT;1.1;AES256` (and `1.2`, with a vault id) envelope that
//! playbooks use for secrets, as a `!vault` value inside YAML or as a whole encrypted file.
//!
//! Why here, and by hand on RustCrypto's primitives: fleet must read the same files
//! ansible-playbook reads, and the one crate for the envelope (`ansible-vault` 0.2) reads only
//! format 1.1 (no vault ids) and pins RustCrypto releases of 2021 (aes-ctr 0.6, hmac 0.10),
//! a second, outdated copy of the primitives russh already builds here. The format is
//! Ansible's `VaultAES256`: PBKDF2-HMAC-SHA256 (10,000 rounds, the salt from the envelope)
//! derives 80 bytes: an AES-256 key, an HMAC-SHA256 key and the initial counter block; the
//! ciphertext is AES-256-CTR of the PKCS#7-padded plaintext, authenticated by HMAC-SHA256
//! (checked in constant time before anything is decrypted). The body is
//! `hex(hex(salt) \n hex(hmac) \n hex(ciphertext))`, wrapped at 80 columns.
//!
//! The run's secrets (from `--vault-password-file`, `--vault-id`, `--ask-vault-pass`) live in
//! [`secrets`]; data loaders call [`decrypt_with_run_secrets`] and never see a password.

pub mod secrets;

use aes::cipher::{KeyIvInit, StreamCipher};
use hmac::{Hmac, KeyInit, Mac};
use sha2_v11::Sha256;

pub use secrets::{Secret, Secrets};

/// What every vault envelope starts with.
pub const HEADER: &str = "$ANSIBLE_VAULT;";

/// The template function a `!vault` value that cannot be opened becomes a call of: the value
/// fails when a task uses it, with the reason, as in Ansible (a play that never uses it runs).
pub const UNDECRYPTABLE_FN: &str = "fleet_vault_undecryptable";

/// What a `!vault` value stands for in loaded data: its plaintext, or, when no secret of the run
/// opens it, a template that fails with the reason when used ([`UNDECRYPTABLE_FN`]).
pub fn open_inline(text: &str) -> Result<String, String> {
    decrypt_with_run_secrets(text).map_err(|e| {
        format!(
            "{{{{ {UNDECRYPTABLE_FN}('{}') }}}}",
            e.to_string().replace('\'', "")
        )
    })
}

/// A data file's text (inventory, vars, playbook): decrypted first when the whole file is a
/// vault, as Ansible's loader does; the error names the file.
pub fn read_data_file(path: &std::path::Path) -> std::io::Result<String> {
    let text = std::fs::read_to_string(path)?;
    if !is_vault(&text) {
        return Ok(text);
    }
    decrypt_with_run_secrets(&text).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{e} (vault-encrypted file {})", path.display()),
        )
    })
}

/// PBKDF2 rounds of Ansible's `VaultAES256`.
const ROUNDS: u32 = 10_000;

/// Why a vault could not be opened; the texts are Ansible's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// No secret was given for the run.
    #[error("Attempting to decrypt but no vault secrets found")]
    NoSecrets,
    /// No given secret opens it (a wrong password, or data altered).
    #[error("Decryption failed (no vault secrets were found that could decrypt)")]
    NoMatchingSecret,
    /// Not a vault envelope fleet can read.
    #[error("{0}")]
    Format(String),
}

/// Whether `text` is a vault envelope (after leading whitespace).
pub fn is_vault(text: &str) -> bool {
    text.trim_start().starts_with(HEADER)
}

/// A parsed envelope: its vault id (format 1.2) and the three binary parts.
struct Envelope {
    vault_id: Option<String>,
    salt: Vec<u8>,
    hmac: Vec<u8>,
    ciphertext: Vec<u8>,
}

fn parse(text: &str) -> Result<Envelope, VaultError> {
    let text = text.trim_start();
    let (header, body) = text.split_once('\n').unwrap_or((text, ""));
    let fields: Vec<&str> = header.trim().split(';').collect();
    let (version, cipher) = match fields.as_slice() {
        ["$ANSIBLE_VAULT", version, cipher, ..] => (*version, *cipher),
        _ => return Err(VaultError::Format("Invalid vault header".into())),
    };
    if !matches!(version, "1.1" | "1.2") {
        return Err(VaultError::Format(format!(
            "Vault format version {version} is not supported"
        )));
    }
    if cipher.trim() != "AES256" {
        return Err(VaultError::Format(format!(
            "Vault cipher {cipher} is not supported (only AES256)"
        )));
    }
    let vault_id = fields.get(3).map(|id| id.trim().to_string());
    let hex_body: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let inner = hex::decode(&hex_body).map_err(|_| {
        VaultError::Format("Vault format unhexlify error: Odd-length string".into())
    })?;
    let inner = String::from_utf8(inner)
        .map_err(|_| VaultError::Format("Vault contains invalid data".into()))?;
    let mut parts = inner.split('\n');
    let mut next = |what: &str| {
        parts
            .next()
            .and_then(|p| hex::decode(p.trim()).ok())
            .ok_or_else(|| VaultError::Format(format!("Vault contains an invalid {what}")))
    };
    Ok(Envelope {
        vault_id,
        salt: next("salt")?,
        hmac: next("hmac")?,
        ciphertext: next("ciphertext")?,
    })
}

/// Opens `text` with the first of `secrets` that authenticates it: those whose vault id is the
/// envelope's first (format 1.2), then the others, as Ansible tries them.
pub fn decrypt(text: &str, secrets: &Secrets) -> Result<Vec<u8>, VaultError> {
    if secrets.is_empty() {
        return Err(VaultError::NoSecrets);
    }
    let envelope = parse(text)?;
    let wanted = envelope.vault_id.as_deref();
    let ordered = secrets
        .iter()
        .filter(|s| wanted.is_some() && s.id.as_deref() == wanted)
        .chain(
            secrets
                .iter()
                .filter(|s| wanted.is_none() || s.id.as_deref() != wanted),
        );
    for secret in ordered {
        if let Some(plain) = open(&envelope, secret.password()) {
            return Ok(plain);
        }
    }
    Err(VaultError::NoMatchingSecret)
}

/// [`decrypt`] as text (vaulted YAML values and files are text).
pub fn decrypt_str(text: &str, secrets: &Secrets) -> Result<String, VaultError> {
    let plain = decrypt(text, secrets)?;
    String::from_utf8(plain)
        .map_err(|_| VaultError::Format("the decrypted data is not UTF-8".into()))
}

/// [`decrypt_str`] with the secrets of this run ([`secrets::run_secrets`]).
pub fn decrypt_with_run_secrets(text: &str) -> Result<String, VaultError> {
    decrypt_str(text, &secrets::run_secrets())
}

/// The plaintext when `password` authenticates the envelope, else `None`.
fn open(envelope: &Envelope, password: &[u8]) -> Option<Vec<u8>> {
    let mut keys = [0u8; 80];
    pbkdf2::pbkdf2_hmac::<Sha256>(password, &envelope.salt, ROUNDS, &mut keys);
    let (cipher_key, rest) = keys.split_at(32);
    let (hmac_key, counter) = rest.split_at(32);
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(hmac_key).ok()?;
    mac.update(&envelope.ciphertext);
    mac.verify_slice(&envelope.hmac).ok()?;
    let mut data = envelope.ciphertext.clone();
    let mut cipher = ctr::Ctr128BE::<aes::Aes256>::new_from_slices(cipher_key, counter).ok()?;
    cipher.apply_keystream(&mut data);
    unpad(data)
}

/// Drops PKCS#7 padding (Ansible pads to the AES block even in CTR mode).
fn unpad(mut data: Vec<u8>) -> Option<Vec<u8>> {
    let pad = usize::from(*data.last()?);
    if pad == 0 || pad > 16 || pad > data.len() {
        return None;
    }
    if !data[data.len() - pad..]
        .iter()
        .all(|b| usize::from(*b) == pad)
    {
        return None;
    }
    data.truncate(data.len() - pad);
    Some(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `'secret' | vault('test', vault_id='filter_default', salt=7)` from ansible-core's
    /// filter_encryption integration target.
    const WITH_ID: &str = "$ANSIBLE_VAULT;1.2;AES256;filter_default
33370a34333734353636633035656232613935353432656132646533346233326431346232616261
6133383034376566366261316365633931356133633337396363370a376664386236313834326561
6338373864623763613165366636633031303739
";

    fn secrets(passwords: &[(&str, Option<&str>)]) -> Secrets {
        passwords
            .iter()
            .map(|(p, id)| Secret::new(id.map(str::to_string), p.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn opens_ansibles_own_envelope() {
        assert_eq!(
            decrypt_str(WITH_ID, &secrets(&[("test", None)])).unwrap(),
            "secret"
        );
        // a wrong password first, and one labelled for another id, are skipped
        let several = secrets(&[("nope", Some("other")), ("test", Some("x"))]);
        assert_eq!(decrypt_str(WITH_ID, &several).unwrap(), "secret");
    }

    #[test]
    fn refuses_without_the_right_secret_or_with_altered_data() {
        assert_eq!(
            decrypt_str(WITH_ID, &Secrets::default()),
            Err(VaultError::NoSecrets)
        );
        assert_eq!(
            decrypt_str(WITH_ID, &secrets(&[("wrong", None)])),
            Err(VaultError::NoMatchingSecret)
        );
        // one hex digit of the ciphertext changed: the HMAC no longer matches
        let altered = WITH_ID.replacen("6338373864623763", "6338373864623764", 1);
        assert_eq!(
            decrypt_str(&altered, &secrets(&[("test", None)])),
            Err(VaultError::NoMatchingSecret)
        );
        assert!(matches!(
            decrypt_str("$ANSIBLE_VAULT;1.1;DES\nab\n", &secrets(&[("test", None)])),
            Err(VaultError::Format(_))
        ));
        assert!(matches!(
            decrypt_str(
                "$ANSIBLE_VAULT;1.1;AES256\nzz\n",
                &secrets(&[("test", None)])
            ),
            Err(VaultError::Format(_))
        ));
    }

    #[test]
    fn envelopes_are_recognised_after_leading_space() {
        assert!(is_vault("  $ANSIBLE_VAULT;1.1;AES256\n"));
        assert!(!is_vault("ANSIBLE_VAULT"));
    }
}
