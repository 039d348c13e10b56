//! `--start-at-task NAME`: a run that begins at one task, as ansible-playbook's option does
//! (to resume a run that stopped half-way, without rewriting the playbook).
//!
//! Ansible's play iterator skips, host by host, every task before the first whose name matches
//! (the name as written, or as its banner shows it, `role : name`; `*`, `?` and `[...]` as in
//! Python's `fnmatch`). From that task on the host runs everything, and once a play has found
//! it every later play runs whole. A play without the task does nothing, not even gather facts:
//! only its banner shows. Tasks inside a dynamic include cannot be the start (the iterator does
//! not expand includes while it looks); static imports can. A name nothing matches ends the
//! run with Ansible's error.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use globset::{GlobBuilder, GlobMatcher};

use fleet_playbook::{Play, TaskItem};

/// Where the run starts, and which hosts got there.
#[derive(Debug, Default)]
pub struct StartAt {
    /// The name as given, and as a pattern; `None`: the run starts at its first task.
    wanted: Option<(String, GlobMatcher)>,
    /// A play before this one found the task: every task runs.
    done: AtomicBool,
    /// The hosts that reached the task in the current play.
    reached: Mutex<HashSet<usize>>,
}

impl StartAt {
    /// `--start-at-task`'s value, if given; a pattern `fnmatch` would refuse is an error.
    pub fn new(name: Option<&str>) -> Result<Self, globset::Error> {
        let wanted = match name {
            None => None,
            Some(n) => {
                let glob = GlobBuilder::new(n)
                    .literal_separator(false)
                    .backslash_escape(false)
                    .build()?;
                Some((n.to_string(), glob.compile_matcher()))
            }
        };
        Ok(StartAt {
            wanted,
            ..StartAt::default()
        })
    }

    /// Whether tasks are still being skipped.
    pub fn waiting(&self) -> bool {
        self.wanted.is_some() && !self.done.load(Ordering::Relaxed)
    }

    fn matches(&self, name: Option<&str>, banner: &str) -> bool {
        let Some((text, glob)) = &self.wanted else {
            return true;
        };
        name.is_some_and(|n| n == text || glob.is_match(n)) || glob.is_match(banner)
    }

    /// The hosts of `ids` that run a task named `name` (`banner` with its role): those that
    /// reached the start before, and all of them when this is the start.
    pub fn admitted(&self, ids: &[usize], name: Option<&str>, banner: &str) -> Vec<usize> {
        if !self.waiting() {
            return ids.to_vec();
        }
        let mut reached = self.reached.lock().unwrap_or_else(|p| p.into_inner());
        let here = self.matches(name, banner);
        ids.iter()
            .copied()
            .filter(|i| here && reached.insert(*i) || reached.contains(i))
            .collect()
    }

    /// Whether `play` may hold the start: a task of it (in blocks and imported roles) matches,
    /// or a static import whose tasks are only read when it runs may hold it.
    pub fn play_may_start(&self, play: &Play) -> bool {
        if !self.waiting() {
            return true;
        }
        let roles = play
            .roles
            .iter()
            .map(|r| (Some(r.name.as_str()), &r.tasks[..]));
        let sections = [&play.pre_tasks, &play.tasks, &play.post_tasks]
            .into_iter()
            .map(|items| (None, &items[..]));
        roles
            .chain(sections)
            .any(|(role, items)| self.may_hold(role, items))
    }

    fn may_hold(&self, role: Option<&str>, items: &[TaskItem]) -> bool {
        items.iter().any(|item| match item {
            TaskItem::Task(task) => {
                let short = fleet_modules::short_name(&task.action);
                if matches!(short, "import_tasks" | "import_role") {
                    return true;
                }
                let name = task.name.as_deref();
                let shown = name.unwrap_or_else(|| task.display_name());
                let banner = match role {
                    Some(r) => format!("{r} : {shown}"),
                    None => shown.to_string(),
                };
                self.matches(name, &banner)
            }
            TaskItem::Block(b) => [&b.block, &b.rescue, &b.always]
                .into_iter()
                .any(|items| self.may_hold(role, items)),
            TaskItem::Role(r) => self.may_hold(Some(&r.name), &r.tasks),
        })
    }

    /// At the end of a play: once a host found the start, later plays run whole.
    pub fn play_ended(&self) {
        let mut reached = self.reached.lock().unwrap_or_else(|p| p.into_inner());
        if !reached.is_empty() {
            self.done.store(true, Ordering::Relaxed);
            reached.clear();
        }
    }

    /// At the end of the run: the name given if no task matched it.
    pub fn never_found(&self) -> Option<&str> {
        self.waiting()
            .then(|| self.wanted.as_ref().map(|(n, _)| n.as_str()))
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_start_at_the_first_match_and_stay_started() {
        let s = StartAt::new(Some("web : start*")).unwrap();
        assert!(s.waiting());
        assert!(s.admitted(&[0, 1], Some("start"), "start").is_empty());
        // the banner with its role matches (a free strategy's host 1 got there first)
        assert_eq!(
            s.admitted(&[1], Some("start here"), "web : start here"),
            [1]
        );
        assert_eq!(s.admitted(&[0, 1], Some("after"), "web : after"), [1]);
        assert_eq!(s.admitted(&[0, 1], Some("x"), "web : start x"), [0, 1]);
        s.play_ended();
        assert!(!s.waiting());
        assert_eq!(s.never_found(), None);
        assert_eq!(s.admitted(&[2], Some("x"), "x"), [2]);
    }

    #[test]
    fn no_option_admits_everything_and_brackets_are_classes() {
        let s = StartAt::new(None).unwrap();
        assert!(!s.waiting());
        assert_eq!(s.admitted(&[3], Some("x"), "x"), [3]);
        let s = StartAt::new(Some("task [ab]")).unwrap();
        assert!(s.admitted(&[0], Some("task c"), "task c").is_empty());
        assert_eq!(s.admitted(&[0], Some("task b"), "task b"), [0]);
        // the name as given matches itself, whatever its brackets mean as a pattern
        let s = StartAt::new(Some("task [ab]")).unwrap();
        assert_eq!(s.admitted(&[0], Some("task [ab]"), "task [ab]"), [0]);
        let s = StartAt::new(Some("never")).unwrap();
        s.play_ended();
        assert_eq!(s.never_found(), Some("never"));
    }
}
