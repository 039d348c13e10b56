//! Authentication decisions: which key belongs to whom, the TOTP second factor, and throttling.
//! Free of SSH protocol details: the russh handler only calls into here.

pub mod login;
mod ratelimit;
pub mod totp;

pub use ratelimit::RateLimiter;
