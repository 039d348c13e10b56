//! The three HMAC-SHA256 signatures webhooks use, each exactly as its receiver recomputes it.
//!
//! * generic: `X-Bastion-Signature: sha256=<hex>` over `"<timestamp>.<body>"` keyed by the
//!   webhook's secret, with the same timestamp in `X-Bastion-Timestamp` (seconds since the
//!   epoch). Signing the timestamp with the body lets a receiver refuse replays of old
//!   deliveries; the receiver should compare in constant time.
//! * DingTalk custom robot ("加签"): `sign = base64(HMAC-SHA256(key = secret, message =
//!   timestamp + "\n" + secret))`, timestamp in milliseconds, both sent as query parameters
//!   (URL-encoded: base64 has `+`, `/`, `=`).
//! * Feishu/Lark custom bot ("签名校验"): `sign = base64(HMAC-SHA256(key = timestamp + "\n" +
//!   secret, message = ""))`, timestamp in seconds, both sent in the JSON body. Note the key and
//!   message are the other way round from DingTalk's: a common integration mistake.
//!
//! DingTalk and Feishu refuse timestamps more than an hour off, so the deliverer signs each
//! attempt afresh rather than once per notification.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so new_from_slice cannot fail.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// The generic format's `X-Bastion-Signature` value: `sha256=` and the hex HMAC of
/// `"<timestamp>.<body>"`.
pub fn generic(secret: &str, timestamp_secs: u64, body: &[u8]) -> String {
    let mut message = format!("{timestamp_secs}.").into_bytes();
    message.extend_from_slice(body);
    format!(
        "sha256={}",
        hex::encode(hmac_sha256(secret.as_bytes(), &message))
    )
}

/// DingTalk's `sign` query parameter (before URL-encoding), for a millisecond timestamp.
pub fn dingtalk(secret: &str, timestamp_millis: u64) -> String {
    let message = format!("{timestamp_millis}\n{secret}");
    let mac = hmac_sha256(secret.as_bytes(), message.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac)
}

/// Feishu's `sign` body field, for a timestamp in seconds.
pub fn feishu(secret: &str, timestamp_secs: u64) -> String {
    let key = format!("{timestamp_secs}\n{secret}");
    let mac = hmac_sha256(key.as_bytes(), b"");
    base64::engine::general_purpose::STANDARD.encode(mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2 ("Jefe"), to pin the HMAC itself independently of our framing.
    #[test]
    fn hmac_matches_rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn generic_signs_timestamp_dot_body() {
        let by_hand = hex::encode(hmac_sha256(b"k", b"17.{\"a\":1}"));
        assert_eq!(generic("k", 17, b"{\"a\":1}"), format!("sha256={by_hand}"));
    }

    #[test]
    fn dingtalk_and_feishu_swap_key_and_message() {
        let b64 = |v: Vec<u8>| base64::engine::general_purpose::STANDARD.encode(v);
        assert_eq!(dingtalk("s", 1000), b64(hmac_sha256(b"s", b"1000\ns")));
        assert_eq!(feishu("s", 1), b64(hmac_sha256(b"1\ns", b"")));
        assert_ne!(dingtalk("s", 1), feishu("s", 1));
    }
}
