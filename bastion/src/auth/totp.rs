//! RFC 6238 TOTP (SHA-1, 6 digits, 30 s): enrolment secrets, URIs and code checks.
//!
//! Codes are compared in constant time and accepted for the current step and one step either
//! side (clock skew). Single use is enforced by the store (`consume_totp_step`).

use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Secret, TOTP};

/// Seconds per TOTP step.
pub const STEP: u64 = 30;
const ISSUER: &str = "Bastion";

/// A fresh random secret, base32-encoded (160 bits, as RFC 4226 recommends).
pub fn new_secret() -> String {
    Secret::generate_secret().to_encoded().to_string()
}

fn totp(secret_b32: &str, account: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret_b32.to_string()).to_bytes().ok()?;
    TOTP::new_unchecked(
        Algorithm::SHA1,
        6,
        1,
        STEP,
        bytes,
        Some(ISSUER.to_string()),
        account.to_string(),
    )
    .into()
}

/// The `otpauth://` URI an authenticator app scans.
pub fn otpauth_uri(secret_b32: &str, account: &str) -> String {
    totp(secret_b32, account)
        .map(|t| t.get_url())
        .unwrap_or_default()
}

/// The code for a given Unix time (tests and tooling).
#[cfg(test)]
pub fn code_at(secret_b32: &str, unix: u64) -> Option<String> {
    totp(secret_b32, "x").map(|t| t.generate(unix))
}

/// Checks `code` against the steps around `unix`; returns the matching step.
pub fn matching_step(secret_b32: &str, code: &str, unix: u64) -> Option<u64> {
    let t = totp(secret_b32, "x")?;
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = unix / STEP;
    let mut found = None;
    // Check every candidate (no early exit) so timing does not reveal which step matched.
    for step in [now.saturating_sub(1), now, now + 1] {
        let expected = t.generate(step * STEP);
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) {
            found = Some(step);
        }
    }
    found
}

/// A QR code of `data` drawn with Unicode half blocks, for `bastion user add`.
pub fn qr_text(data: &str) -> String {
    use qrcode::render::unicode::Dense1x2;
    match qrcode::QrCode::new(data.as_bytes()) {
        Ok(code) => code
            .render::<Dense1x2>()
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_vector() {
        // RFC 6238 appendix B, SHA-1 secret "12345678901234567890", T=59 -> 94287082 (8 digits);
        // with 6 digits the code is the last six: 287082.
        let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        assert_eq!(code_at(secret, 59).unwrap(), "287082");
        assert_eq!(matching_step(secret, "287082", 59), Some(1));
        assert_eq!(
            matching_step(secret, "287082", 89),
            Some(1),
            "one step of skew"
        );
        assert_eq!(matching_step(secret, "287082", 200), None);
        assert_eq!(matching_step(secret, "28708", 59), None);
        assert_eq!(matching_step(secret, "abcdef", 59), None);
    }

    #[test]
    fn uri_has_secret_and_issuer() {
        let s = new_secret();
        let uri = otpauth_uri(&s, "alice");
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert!(uri.contains(&format!("secret={s}")), "{uri}");
        assert!(!qr_text(&uri).is_empty());
    }
}
