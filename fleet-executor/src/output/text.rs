//! The ansible-playbook screen: banners, one line per result, `--diff`, `-v` result
//! dictionaries and the `PLAY RECAP`, as ansible-core's `default` stdout callback prints them,
//! plus an optional live progress line that never shows up in the normal output.

use std::collections::HashSet;
use std::io::Write;

use unicode_width::UnicodeWidthStr;

use super::color::{self, Color, Palette};
use super::dump::{displayable, python_json, Verbosity};
use super::{diff, Event, HostResult, HostStats, Reporter, Status};

/// How [`TextReporter`] prints: what the command line and the terminal decided.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    /// ANSI colours (a terminal, and no `NO_COLOR`); never an escape code when false.
    pub color: bool,
    /// The `-v` count: 1 prints every result dictionary, 3 indents them and keeps `invocation`.
    pub verbose: u8,
    /// `--diff`: print before/after unified diffs of changed results.
    pub diff: bool,
    /// Redraw a `  [done/total hosts] task` line under the task banner (terminals only).
    pub progress: bool,
    /// Terminal width in columns (80 when not a terminal); banners are never shorter than 80.
    pub width: usize,
}

/// Renders events the way `ansible-playbook` shows them (its `default` callback).
///
/// A loop is reported as each item's result (`item_label` set), then the loop's overall result
/// for that host (no `item_label`): that last one prints nothing unless the loop was skipped,
/// unreachable or had an ignored failure, exactly like Ansible. The recap lists hosts sorted by
/// name, as Ansible does. A play started with no hosts prints `skipping: no hosts matched`, so
/// `PlayStart.hosts` must be what the pattern matched (failed hosts included: a play whose hosts
/// all failed earlier prints just its banner). Warnings go to the writer given to [`TextReporter::warnings_to`]
/// (Ansible writes them to stderr), else to the main writer.
pub struct TextReporter<W: Write + Send> {
    out: W,
    warnings: Option<Box<dyn Write + Send>>,
    opts: TextOptions,
    palette: Palette,
    task: Option<TaskProgress>,
    /// Hosts that reported loop items in the current task: their next plain result is the
    /// loop's summary.
    looped: HashSet<String>,
    progress_shown: bool,
}

/// The running task, for retry lines and the progress line.
struct TaskProgress {
    name: String,
    hosts: usize,
    done: usize,
}

impl<W: Write + Send> TextReporter<W> {
    /// A reporter writing to `out` (usually stdout).
    pub fn new(out: W, opts: TextOptions) -> Self {
        TextReporter {
            out,
            warnings: None,
            palette: Palette {
                enabled: opts.color,
            },
            opts,
            task: None,
            looped: HashSet::new(),
            progress_shown: false,
        }
    }

    /// Sends `[WARNING]: ...` lines to `err` (stderr, as Ansible does) instead of `out`.
    pub fn warnings_to(mut self, err: Box<dyn Write + Send>) -> Self {
        self.warnings = Some(err);
        self
    }

    /// The writer back (tests read what was printed).
    pub fn into_inner(self) -> W {
        self.out
    }

    /// Ansible's `Display.display`, after erasing the progress line if it is up.
    fn display(&mut self, msg: &str, color: Option<Color>) {
        self.erase_progress();
        let text = self.palette.line(msg, color);
        let _ = self.out.write_all(text.as_bytes());
    }

    /// Ansible's `Display.banner`: a blank line, the title, then stars to the terminal width.
    fn banner(&mut self, title: &str) {
        let title = title.trim();
        let columns = 79.max(self.opts.width.saturating_sub(1));
        let stars = columns.saturating_sub(title.width()).max(3);
        self.display(&format!("\n{title} {}", "*".repeat(stars)), None);
    }

    fn erase_progress(&mut self) {
        if self.progress_shown {
            let _ = self.out.write_all(b"\r\x1b[K");
            self.progress_shown = false;
        }
    }

    /// Draws `  [done/total hosts] task` in place while the task still has hosts running.
    fn draw_progress(&mut self) {
        if !self.opts.progress {
            return;
        }
        let Some(task) = &self.task else { return };
        if task.done >= task.hosts {
            self.erase_progress();
            return;
        }
        let line = format!("  [{}/{} hosts] {}", task.done, task.hosts, task.name);
        let line = truncate_to_width(&line, self.opts.width.saturating_sub(1).max(1));
        let _ = write!(self.out, "\r\x1b[K{line}");
        self.progress_shown = true;
    }

    fn task_name(&self) -> &str {
        self.task.as_ref().map(|t| t.name.as_str()).unwrap_or("")
    }

    fn dump(&self, r: &HostResult, verbosity: Verbosity, loop_summary: bool) -> String {
        let shown = displayable(&r.result, &r.action, self.opts.verbose, loop_summary);
        python_json(&shown, verbosity.indent())
    }

    fn result(&mut self, r: &HostResult) {
        let verbosity = Verbosity::of(
            &r.result,
            &r.action,
            r.status == Status::Skipped,
            self.opts.verbose,
        );
        if let Some(left) = r.retries_left {
            let mut msg = format!(
                "FAILED - RETRYING: [{}]: {} ({left} retries left).",
                host_label(r),
                self.task_name()
            );
            if verbosity.shows_result(2) {
                msg.push_str(&format!("Result was: {}", self.dump(r, verbosity, false)));
            }
            return self.display(&msg, Some(color::DEBUG));
        }
        // a module's own warnings (`module.warn`), before its line, as ansible-playbook shows them
        if let Some(serde_json::Value::Array(warnings)) = r.result.get("warnings") {
            for w in warnings.iter().filter_map(serde_json::Value::as_str) {
                self.warning(w);
            }
        }
        if let Some(label) = &r.item_label {
            self.looped.insert(r.host.clone());
            return self.item(r, label, verbosity);
        }
        if let Some(task) = &mut self.task {
            task.done += 1;
        }
        if self.looped.remove(&r.host) {
            self.loop_summary(r, verbosity)
        } else {
            self.single(r, verbosity)
        }
    }

    /// A task's result without a loop (`v2_runner_on_ok`/`failed`/`skipped`/`unreachable`).
    fn single(&mut self, r: &HostResult, verbosity: Verbosity) {
        match r.status {
            Status::Ok | Status::Changed => {
                self.file_diff(r);
                let (word, color) = ok_or_changed(r.status);
                let mut msg = format!("{word}: [{}]", host_label(r));
                if verbosity.shows_result(0) {
                    msg.push_str(&format!(" => {}", self.dump(r, verbosity, false)));
                }
                self.display(&msg, Some(color));
            }
            Status::Failed => {
                let msg = format!(
                    "fatal: [{}]: FAILED! => {}",
                    host_label(r),
                    self.dump(r, verbosity, false)
                );
                self.display(&msg, Some(color::ERROR));
                self.ignoring(r);
            }
            Status::Skipped => self.skipping(r, verbosity),
            Status::Unreachable => self.unreachable(r, verbosity),
        }
    }

    /// A loop's overall result: Ansible drops `results` and prints only what is listed here.
    fn loop_summary(&mut self, r: &HostResult, verbosity: Verbosity) {
        match r.status {
            Status::Ok | Status::Changed => {}
            Status::Failed => self.ignoring(r),
            Status::Skipped => self.skipping(r, verbosity),
            Status::Unreachable => self.unreachable(r, verbosity),
        }
    }

    /// One loop item (`v2_runner_item_on_ok`/`failed`/`skipped`).
    fn item(&mut self, r: &HostResult, label: &str, verbosity: Verbosity) {
        match r.status {
            Status::Ok | Status::Changed => {
                self.file_diff(r);
                let (word, color) = ok_or_changed(r.status);
                let mut msg = format!("{word}: [{}] => (item={label})", host_label(r));
                if verbosity.shows_result(0) {
                    msg.push_str(&format!(" => {}", self.dump(r, verbosity, false)));
                }
                self.display(&msg, Some(color));
            }
            Status::Failed | Status::Unreachable => {
                let msg = format!(
                    "failed: [{}] (item={label}) => {}",
                    host_label(r),
                    self.dump(r, verbosity, false)
                );
                self.display(&msg, Some(color::ERROR));
            }
            Status::Skipped => {
                // The trailing space is Ansible's.
                let mut msg = format!("skipping: [{}] => (item={label}) ", r.host);
                if verbosity.shows_result(0) {
                    msg.push_str(&format!(" => {}", self.dump(r, verbosity, false)));
                }
                self.display(&msg, Some(color::SKIP));
            }
        }
    }

    /// `skipping: [host]` names the host alone, even when delegated. A skipped loop's `results`
    /// (also the empty list of a loop over nothing) are never shown.
    fn skipping(&mut self, r: &HostResult, verbosity: Verbosity) {
        let mut msg = format!("skipping: [{}]", r.host);
        if verbosity.shows_result(0) {
            msg.push_str(&format!(" => {}", self.dump(r, verbosity, true)));
        }
        self.display(&msg, Some(color::SKIP));
    }

    fn unreachable(&mut self, r: &HostResult, verbosity: Verbosity) {
        let msg = format!(
            "fatal: [{}]: UNREACHABLE! => {}",
            host_label(r),
            self.dump(r, verbosity, true)
        );
        self.display(&msg, Some(color::UNREACHABLE));
        self.ignoring(r);
    }

    fn ignoring(&mut self, r: &HostResult) {
        if r.ignored {
            self.display("...ignoring", Some(color::SKIP));
        }
    }

    /// `v2_on_file_diff`: printed before the result line, for changed results only.
    fn file_diff(&mut self, r: &HostResult) {
        let changed = r.status == Status::Changed || r.result.get("changed") == Some(&true.into());
        if !self.opts.diff || !changed || r.diffs.is_empty() {
            return;
        }
        let text = diff::render(&r.diffs, self.palette);
        if !text.is_empty() {
            self.display(&text, None);
        }
    }

    fn warning(&mut self, msg: &str) {
        let text = self
            .palette
            .line(&format!("[WARNING]: {msg}"), Some(color::WARN));
        match &mut self.warnings {
            Some(err) => {
                let _ = err.write_all(text.as_bytes());
                let _ = err.flush();
            }
            None => self.display(&format!("[WARNING]: {msg}"), Some(color::WARN)),
        }
    }

    /// `PLAY RECAP`, one line per host sorted by name, then a blank line.
    fn recap(&mut self, stats: &[(String, HostStats)]) {
        self.task = None;
        self.banner("PLAY RECAP");
        let mut sorted: Vec<&(String, HostStats)> = stats.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        for (host, s) in sorted {
            let line = recap_line(host, s, self.palette);
            self.display(&line, None);
        }
        self.display("", None);
    }
}

impl<W: Write + Send> Reporter for TextReporter<W> {
    fn report(&mut self, event: &Event) {
        match event {
            Event::PlayStart { name, hosts } => {
                self.task = None;
                self.looped.clear();
                let name = name.trim();
                let title = if name.is_empty() {
                    "PLAY".to_string()
                } else {
                    format!("PLAY [{name}]")
                };
                self.banner(&title);
                if hosts.is_empty() {
                    self.display("skipping: no hosts matched", Some(color::SKIP));
                }
            }
            Event::TaskStart {
                name,
                handler,
                hosts,
            } => {
                self.looped.clear();
                let prefix = if *handler { "RUNNING HANDLER" } else { "TASK" };
                self.banner(&format!("{prefix} [{}]", name.trim()));
                self.task = Some(TaskProgress {
                    name: name.trim().to_string(),
                    hosts: *hosts,
                    done: 0,
                });
            }
            Event::Result(r) => self.result(r),
            Event::Included {
                file,
                hosts,
                item_label,
            } => {
                let item = item_label
                    .as_ref()
                    .map(|l| format!(" => (item={l})"))
                    .unwrap_or_default();
                self.display(
                    &format!("included: {file} for {}{item}", hosts.join(", ")),
                    Some(color::SKIP),
                );
            }
            Event::NoMoreHosts => {
                self.task = None;
                self.banner("NO MORE HOSTS LEFT");
            }
            Event::Warning(msg) => self.warning(msg),
            Event::Verbose(msg) if self.opts.verbose > 0 => self.display(msg, None),
            Event::Verbose(_) => {}
            Event::Recap(stats) => self.recap(stats),
        }
        self.draw_progress();
        let _ = self.out.flush();
    }
}

/// `host` or `host -> delegate` (Ansible's `host_label`).
fn host_label(r: &HostResult) -> String {
    match &r.delegated_to {
        Some(other) if *other != r.host => format!("{} -> {other}", r.host),
        _ => r.host.clone(),
    }
}

fn ok_or_changed(status: Status) -> (&'static str, Color) {
    if status == Status::Changed {
        ("changed", color::CHANGED)
    } else {
        ("ok", color::OK)
    }
}

/// One recap line: `hostcolor` pads to 26 (37 with colour codes), `colorize` pads each count to 4
/// and colours non-zero counts.
fn recap_line(host: &str, s: &HostStats, palette: Palette) -> String {
    let host = if palette.enabled {
        let color = if s.failed != 0 || s.unreachable != 0 {
            color::ERROR
        } else if s.changed != 0 {
            color::CHANGED
        } else {
            color::OK
        };
        format!("{:<37}", palette.paint(host, Some(color)))
    } else {
        format!("{host:<26}")
    };
    let count = |lead: &str, n: u32, color: Color| {
        let text = format!("{lead}={n:<4}");
        if n != 0 {
            palette.paint(&text, Some(color))
        } else {
            text
        }
    };
    format!(
        "{host} : {} {} {} {} {} {} {}",
        count("ok", s.ok, color::OK),
        count("changed", s.changed, color::CHANGED),
        count("unreachable", s.unreachable, color::UNREACHABLE),
        count("failed", s.failed, color::ERROR),
        count("skipped", s.skipped, color::SKIP),
        count("rescued", s.rescued, color::OK),
        count("ignored", s.ignored, color::WARN),
    )
}

/// The longest prefix of `text` that fits in `columns` terminal columns.
fn truncate_to_width(text: &str, columns: usize) -> &str {
    let mut used = 0;
    for (i, c) in text.char_indices() {
        used += unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used > columns {
            return &text[..i];
        }
    }
    text
}
