//! Locking that survives a panicked holder: a session task that panics (see
//! `session::supervise`) must not take the recorder, the live registry or the stream taps down
//! for everyone else, so a poisoned mutex is used as it is.

use std::sync::{Mutex, MutexGuard};

/// Locks `m`, ignoring poisoning.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
