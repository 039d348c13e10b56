//! `fleet run` end to end against real OpenSSH targets on loopback: the playbook language
//! (conditions, loops, register, handlers, blocks, roles, includes, tags, limit, become),
//! failures and unreachable hosts, check and diff mode, parse errors.
//!
//! One test binary, split by theme so each file reads as one concept: every test starts its own
//! [`lab::Lab`] of real sshd targets, so the modules share nothing but that lab. Keeping them in
//! one binary (rather than one per theme) means the fleet binary and the lab are linked once.

#[path = "../lab/mod.rs"]
mod lab;

mod cli;
mod failures;
mod language;
mod ordering;
mod privilege;
mod prompts;
mod vault;
