//! Host certificates for ProxyJump: how `ssh -J alice@bastion root@web1` can check that it
//! reached "web1" while the bastion, not web1's sshd, answers.
//!
//! The bastion terminates a jumped connection itself (so it can record and guard it, see
//! `server::jump`). The client then checks the host key it is shown against `web1` in its
//! known_hosts. Showing web1's real key is impossible (the bastion does not have its private
//! half), and showing the bastion's own key under web1's name would teach users to accept
//! whatever key appears. Instead the bastion presents its host key inside an OpenSSH host
//! certificate naming exactly that inventory host — its inventory name and its address — signed
//! by the data directory's `host_ca` key. Users trust that CA once, for exactly the inventory's
//! names, with the `@cert-authority` line `bastion known-hosts` prints.
//!
//! A certificate is issued per jumped connection, from the inventory as it is then, so a host
//! removed from the inventory stops being certified at once. It is valid from a few minutes ago
//! (clock skew) for [`VALIDITY`]: a client checks the certificate again on every re-key, so it
//! must outlive the longest session; it certifies a public key, so a longer life gives away
//! nothing while the host key stays private.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::RngCore;
use russh::keys::ssh_key::certificate::{Builder, CertType};
use russh::keys::{Certificate, PrivateKey};

/// How long an issued host certificate stays valid.
pub const VALIDITY: Duration = Duration::from_secs(30 * 24 * 3600);

/// Backdating of `valid_after`, for clients whose clock runs behind the bastion's.
const SKEW: Duration = Duration::from_secs(300);

/// Certifies `host_key` as the host named by each of `principals` (an inventory name and
/// address; never a wildcard), signed by `ca`.
pub fn issue(
    ca: &PrivateKey,
    host_key: &PrivateKey,
    host: &str,
    principals: &[&str],
) -> Result<Certificate, russh::keys::ssh_key::Error> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let mut nonce = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let mut builder = Builder::new(
        nonce.to_vec(),
        host_key.public_key().key_data().clone(),
        now.saturating_sub(SKEW).as_secs(),
        (now + VALIDITY).as_secs(),
    )?;
    builder
        .serial(rand::rngs::OsRng.next_u64())?
        .cert_type(CertType::Host)?
        .key_id(format!("bastion jump host {host}"))?;
    for p in principals {
        builder.valid_principal(*p)?;
    }
    builder.sign(ca)
}

/// The `@cert-authority` known_hosts line for `ca`, trusted for exactly `patterns`.
pub fn cert_authority_line(ca: &PrivateKey, patterns: &[String]) -> String {
    format!(
        "@cert-authority {} {} bastion-host-ca",
        patterns.join(","),
        crate::keys::public_line(ca.public_key())
    )
}

/// How a client names `host` at `port` in known_hosts: `host` for port 22, `[host]:port`
/// otherwise.
pub fn known_hosts_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use russh::keys::ssh_key::private::Ed25519Keypair;

    fn key(seed: u8) -> PrivateKey {
        PrivateKey::from(Ed25519Keypair::from_seed(&[seed; 32]))
    }

    #[test]
    fn a_certificate_names_exactly_the_host_and_verifies_against_the_ca() {
        let (ca, host_key) = (key(1), key(2));
        let cert = issue(&ca, &host_key, "web1", &["web1", "127.0.1.5"]).unwrap();
        assert_eq!(cert.cert_type(), CertType::Host);
        assert_eq!(cert.valid_principals(), ["web1", "127.0.1.5"]);
        assert_eq!(cert.public_key(), host_key.public_key().key_data());
        let ca_fp = ca.public_key().fingerprint(Default::default());
        cert.validate([&ca_fp]).expect("valid against the CA now");
        let other = key(3).public_key().fingerprint(Default::default());
        assert!(cert.validate([&other]).is_err(), "another CA accepted");
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        assert!(cert
            .validate_at((now + VALIDITY + SKEW).as_secs(), [&ca_fp])
            .is_err());
    }

    #[test]
    fn known_hosts_names_carry_the_port_unless_it_is_22() {
        assert_eq!(known_hosts_name("web1", 22), "web1");
        assert_eq!(known_hosts_name("127.0.1.5", 2201), "[127.0.1.5]:2201");
        let line = cert_authority_line(&key(1), &["web1".into(), "[10.0.0.1]:2201".into()]);
        assert!(
            line.starts_with("@cert-authority web1,[10.0.0.1]:2201 ssh-ed25519 AAAA"),
            "{line}"
        );
    }
}
