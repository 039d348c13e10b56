//! RFC 6238 TOTP codes (HMAC-SHA1, 6 digits, 30 s steps), computed independently of the
//! bastion so the tests check its implementation against the standard.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Length of one TOTP time step, in seconds.
pub const STEP: u64 = 30;

/// Decodes RFC 4648 base32 (upper or lower case, `=` padding and spaces ignored).
pub fn base32_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u64, 0u32);
    for c in s.bytes().filter(|c| *c != b'=' && !c.is_ascii_whitespace()) {
        let v = ALPHABET
            .iter()
            .position(|a| *a == c.to_ascii_uppercase())
            .unwrap_or_else(|| panic!("not base32: {s:?}")) as u64;
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// The 6-digit code of time step `step` for a base32 `secret` (RFC 4226 truncation).
pub fn code_at(secret: &str, step: u64) -> String {
    let key = base32_decode(secret);
    let mut mac = Hmac::<Sha1>::new_from_slice(&key).expect("hmac key");
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = (h[19] & 0x0f) as usize;
    let bin = u32::from_be_bytes([h[off] & 0x7f, h[off + 1], h[off + 2], h[off + 3]]);
    format!("{:06}", bin % 1_000_000)
}

fn now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock")
}

/// The current step's code and the step number. If fewer than 4 s remain in the current
/// step, first waits for the next one, so the code is still current when it arrives.
pub fn fresh_code(secret: &str) -> (String, u64) {
    let t = now();
    let into = t.as_secs_f64() % STEP as f64;
    if STEP as f64 - into < 4.0 {
        std::thread::sleep(Duration::from_secs_f64(STEP as f64 - into + 0.05));
    }
    let step = now().as_secs() / STEP;
    (code_at(secret, step), step)
}

/// A code that is valid for no step near now (for wrong-code tests): the current code with
/// its last digit changed, checked against the neighbouring steps too.
pub fn wrong_code(secret: &str) -> String {
    let step = now().as_secs() / STEP;
    let near: Vec<String> = (step.saturating_sub(2)..=step + 2)
        .map(|s| code_at(secret, s))
        .collect();
    let base = code_at(secret, step);
    (0..10u8)
        .map(|d| format!("{}{}", &base[..5], d))
        .find(|c| !near.contains(c))
        .expect("some wrong code")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B test vectors for SHA-1 (the 8-digit values' last 6 digits).
    #[test]
    fn rfc6238_vectors() {
        // "12345678901234567890" in base32.
        let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        assert_eq!(code_at(secret, 59 / 30), "287082");
        assert_eq!(code_at(secret, 1111111109 / 30), "081804");
        assert_eq!(code_at(secret, 1234567890 / 30), "005924");
        assert_eq!(code_at(secret, 20000000000 / 30), "353130");
    }

    #[test]
    fn base32_roundtrip_known() {
        assert_eq!(base32_decode("MZXW6YTBOI======"), b"foobar");
        assert_eq!(base32_decode("mzxw6ytboi"), b"foobar");
    }
}
