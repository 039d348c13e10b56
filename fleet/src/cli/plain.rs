//! A minimal ansible-style text reporter (stand-in until the full output module lands).

use std::io::Write;

use fleet::output::{Event, Reporter, Status};

/// Prints events the way ansible-playbook's default callback does, without colours.
pub struct Plain<W: Write + Send> {
    out: W,
}

impl<W: Write + Send> Plain<W> {
    pub fn new(out: W) -> Self {
        Plain { out }
    }
}

fn banner(text: &str) -> String {
    let stars = 80usize.saturating_sub(text.len() + 1).max(3);
    format!("\n{text} {}", "*".repeat(stars))
}

impl<W: Write + Send> Reporter for Plain<W> {
    fn report(&mut self, event: &Event) {
        let out = &mut self.out;
        let _ = match event {
            Event::PlayStart { name, .. } => writeln!(out, "{}", banner(&format!("PLAY [{name}]"))),
            Event::TaskStart { name, handler, .. } => {
                let kind = if *handler { "RUNNING HANDLER" } else { "TASK" };
                writeln!(out, "{}", banner(&format!("{kind} [{name}]")))
            }
            Event::Result(r) => {
                let host = match &r.delegated_to {
                    Some(d) => format!("[{} -> {d}]", r.host),
                    None => format!("[{}]", r.host),
                };
                let item = r
                    .item_label
                    .as_ref()
                    .map(|l| format!(" => (item={l})"))
                    .unwrap_or_default();
                let json = serde_json::to_string(&r.result).unwrap_or_default();
                let line = match (r.status, r.retries_left) {
                    (_, Some(left)) => format!("FAILED - RETRYING: {host}: ({left} retries left)."),
                    (Status::Ok, _) if r.action == "debug" => {
                        format!(
                            "ok: {host}{item} => {}",
                            serde_json::to_string_pretty(&r.result).unwrap_or_default()
                        )
                    }
                    (Status::Ok, _) => format!("ok: {host}{item}"),
                    (Status::Changed, _) => format!("changed: {host}{item}"),
                    (Status::Skipped, _) => format!("skipping: {host}{item}"),
                    (Status::Failed, _) if r.item_label.is_some() => {
                        format!("failed: {host}{item} => {json}")
                    }
                    (Status::Failed, _) => format!("fatal: {host}: FAILED! => {json}"),
                    (Status::Unreachable, _) => format!("fatal: {host}: UNREACHABLE! => {json}"),
                };
                writeln!(out, "{line}").and_then(|_| {
                    if r.ignored {
                        writeln!(out, "...ignoring")
                    } else {
                        Ok(())
                    }
                })
            }
            Event::NoMoreHosts => Ok(()),
            Event::Warning(w) => writeln!(out, "[WARNING]: {w}"),
            Event::Recap(hosts) => {
                let _ = writeln!(out, "{}", banner("PLAY RECAP"));
                for (h, s) in hosts {
                    let _ = writeln!(
                        out,
                        "{h:<26} : ok={:<4} changed={:<4} unreachable={:<4} failed={:<4} skipped={:<4} rescued={:<4} ignored={:<4}",
                        s.ok, s.changed, s.unreachable, s.failed, s.skipped, s.rescued, s.ignored
                    );
                }
                writeln!(out)
            }
        };
        let _ = out.flush();
    }
}
