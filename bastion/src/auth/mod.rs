//! Authentication decisions: which key belongs to whom, the TOTP second factor, and throttling
//! (the failure counters themselves are shared state: `state::RateLimiter`).
//! Free of SSH protocol details: the russh handler only calls into here.

pub mod login;
pub mod totp;
