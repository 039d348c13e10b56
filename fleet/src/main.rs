//! `fleet` command line.

fn main() -> anyhow::Result<()> {
    anyhow::bail!("fleet: not yet implemented")
}
