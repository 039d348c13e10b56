//! `fleet`: run Ansible-syntax playbooks and ad-hoc tasks over SSH on many hosts at once.
//! Commands and flags follow PRODUCT.md section 2.1.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::dispatch(args) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("ERROR! {e:#}");
            ExitCode::from(1)
        }
    }
}
