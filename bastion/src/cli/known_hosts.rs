//! `bastion known-hosts`: the lines a user adds to `~/.ssh/known_hosts` to check, with
//! `StrictHostKeyChecking=yes`, both the bastion and the hosts reached through it by ProxyJump.
//!
//! - The bastion's own host key, under the names users reach it by (`--name`, `--port`).
//! - One `@cert-authority` line for the `host_ca` key that certifies the bastion's host key for
//!   each inventory host it serves by ProxyJump (`host_cert`), restricted to exactly the
//!   inventory's names and addresses — with `[name]:port` forms for hosts whose SSH port is not
//!   22 — never a wildcard, so the CA vouches for nothing else.

use std::path::Path;

use anyhow::{Context, Result};
use clap::Args;

use crate::datadir::DataDir;
use crate::host_cert::{cert_authority_line, known_hosts_name};
use crate::keys;
use crate::state::load_access;

#[derive(Args)]
pub struct KnownHostsArgs {
    /// A name or address users reach the bastion by (repeatable). Default: the listen address,
    /// or this machine's host name when it listens on every address.
    #[arg(long = "name", value_name = "NAME")]
    names: Vec<String>,
    /// The port users reach the bastion on. Default: the listen address's port.
    #[arg(long)]
    port: Option<u16>,
}

pub fn run(dir: &Path, args: KnownHostsArgs) -> Result<std::process::ExitCode> {
    let data = DataDir::open_existing(dir)?;
    let host_key = keys::load_private(&data.host_key_path())?;
    let host_ca = keys::load_private(&data.host_ca_path()).context(
        "the data directory has no host CA yet: `bastion init` (or the next `bastion serve`) makes it",
    )?;
    let access = load_access(&data)?;
    let (listen_host, listen_port) = split_listen(&data.settings.listen)?;
    let port = args.port.unwrap_or(listen_port);
    let names = if args.names.is_empty() {
        vec![default_name(&listen_host)?]
    } else {
        args.names
    };
    let bastion_names: Vec<String> = names.iter().map(|n| known_hosts_name(n, port)).collect();
    println!("# the bastion itself");
    println!(
        "{} {} bastion",
        bastion_names.join(","),
        keys::public_line(host_key.public_key())
    );
    let mut patterns = Vec::new();
    for h in access.inventory.hosts() {
        for name in [h.name.as_str(), h.address()] {
            for pattern in [name.to_string(), known_hosts_name(name, h.port())] {
                if !patterns.contains(&pattern) {
                    patterns.push(pattern);
                }
            }
        }
    }
    if patterns.is_empty() {
        eprintln!("bastion: the inventory has no hosts: no @cert-authority line");
    } else {
        println!("# inventory hosts reached through the bastion with ssh -J (host certificates)");
        println!("{}", cert_authority_line(&host_ca, &patterns));
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// `HOST:PORT` of the listen setting (IPv6 in brackets).
fn split_listen(listen: &str) -> Result<(String, u16)> {
    let (host, port) = listen
        .rsplit_once(':')
        .with_context(|| format!("listen address {listen:?} has no port"))?;
    let port = port
        .parse()
        .with_context(|| format!("listen address {listen:?}: bad port"))?;
    Ok((host.trim_matches(['[', ']']).to_string(), port))
}

/// The listen host, unless it is every address: then the machine's host name.
fn default_name(listen_host: &str) -> Result<String> {
    if !matches!(listen_host, "0.0.0.0" | "::" | "") {
        return Ok(listen_host.to_string());
    }
    let name = crate::datadir::machine_hostname()
        .context("reading this machine's host name (name the bastion with --name)")?;
    eprintln!(
        "bastion: naming the bastion {name} (this machine's host name); use --name for each name users type"
    );
    Ok(name)
}
