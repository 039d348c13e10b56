//! Questions for the operator on the terminal: `-K`'s sudo password and the plays'
//! `vars_prompt` variables.
//!
//! Both are read from `/dev/tty`, not standard input (which may carry a piped playbook or be
//! closed under CI), without echo for secrets (`stty -echo` around the read). `vars_prompt` is
//! answered before the run starts, play by play, as ansible-playbook asks it before each play:
//! a variable given with `-e` is not asked; without a terminal a variable takes its `default`,
//! and one without a default stops the run, naming it, instead of waiting for input that
//! cannot come. `encrypt` (a passlib hash of the answer) is refused up front: fleet has no
//! passlib, and a clear-text value where a hash was asked for would be wrong silently.

use std::io::{BufRead, Write};

use anyhow::{anyhow, bail, Context, Result};
use fleet_playbook::{Playbook, VarsPrompt};
use serde_json::{Map, Value};

/// Reads one line from the terminal after writing `question`; `echo` false hides the answer.
pub fn ask(question: &str, echo: bool) -> Result<String> {
    let tty = terminal().context("no terminal to ask on")?;
    let echo_off = (!echo).then(|| stty(&tty, "-echo"));
    (&tty).write_all(question.as_bytes())?;
    let mut line = String::new();
    let read = std::io::BufReader::new(&tty).read_line(&mut line);
    if let Some(Ok(_)) = echo_off {
        let _ = stty(&tty, "echo");
        (&tty).write_all(b"\n")?;
    }
    read?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn terminal() -> Option<std::fs::File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .ok()
}

fn stty(tty: &std::fs::File, setting: &str) -> Result<std::process::ExitStatus> {
    Ok(std::process::Command::new("stty")
        .arg(setting)
        .stdin(tty.try_clone()?)
        .status()?)
}

/// Answers every play's `vars_prompt` (see the module doc): each answer becomes a variable of
/// its play, at the play's `vars` level.
pub fn answer_vars_prompts(playbook: &mut Playbook, extra: &Map<String, Value>) -> Result<()> {
    let interactive = terminal().is_some();
    for play in &mut playbook.plays {
        for p in &play.vars_prompt {
            if extra.contains_key(&p.name) {
                continue;
            }
            if let Some(scheme) = &p.encrypt {
                bail!(
                    "vars_prompt '{}': encrypt ({scheme}) is not supported by fleet; \
                     pass the hashed value with -e {}=...",
                    p.name,
                    p.name
                );
            }
            let value = if interactive {
                answer(p)?
            } else {
                p.default.clone().ok_or_else(|| {
                    anyhow!(
                        "vars_prompt '{}' needs an answer and there is no terminal to ask on; \
                         pass it with -e {}=VALUE",
                        p.name,
                        p.name
                    )
                })?
            };
            play.keywords
                .vars
                .insert(p.name.clone(), Value::String(value));
        }
    }
    Ok(())
}

/// Asks one prompt as Ansible words it (`prompt [default]: `), again to confirm when asked.
fn answer(p: &VarsPrompt) -> Result<String> {
    let text = p.prompt.as_deref().unwrap_or(&p.name);
    let question = match &p.default {
        Some(d) => format!("{text} [{d}]: "),
        None => format!("{text}: "),
    };
    loop {
        let mut value = ask(&question, !p.private)?;
        if value.is_empty() {
            value = p.default.clone().unwrap_or_default();
        }
        if !p.confirm {
            return Ok(value);
        }
        let mut again = ask(&format!("confirm {question}"), !p.private)?;
        if again.is_empty() {
            again = p.default.clone().unwrap_or_default();
        }
        if again == value {
            return Ok(value);
        }
        eprintln!("***** VALUES ENTERED DO NOT MATCH ****");
    }
}
