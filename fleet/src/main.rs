//! `fleet`: run Ansible-syntax playbooks and ad-hoc tasks over SSH on many hosts at once.
//! Commands and flags follow PRODUCT.md section 2.1.
//!
//! The thin binary: flags, prompts and the choice of reporter, then the library crates do the
//! work: `fleet-playbook` parses, `fleet-executor` runs (over `fleet-modules`, with
//! `fleet-templates` for expressions). Owns: the command line and exit codes. Must not know how
//! a playbook is parsed, a module works or a host is reached.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Usage errors exit 1 as documented (clap's own 2 is fleet's "a host failed"); help and
    // version requests print and exit 0.
    let args = match cli::Cli::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 1 } else { 0 });
        }
    };
    match cli::dispatch(args) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("ERROR! {e:#}");
            ExitCode::from(1)
        }
    }
}
