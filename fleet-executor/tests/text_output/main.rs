//! The reporter against real `ansible-playbook` output: ansible-core 2.19.14, captured as
//! `testdata/README.md` describes. Each test replays the events of that run (results shaped
//! as the modules returned them, keys unsorted, internal keys included) and compares bytes.

use std::io::Write;

use regex::Regex;

use fleet_executor::output::*;
mod build;
mod runs;

use build::*;
use runs::*;

fn render(events: &[Event], opts: TextOptions) -> String {
    let mut reporter = TextReporter::new(Vec::new(), opts);
    for event in events {
        reporter.report(event);
    }
    String::from_utf8(reporter.into_inner()).unwrap()
}

fn opts(verbose: u8, diff: bool, color: bool) -> TextOptions {
    TextOptions {
        color,
        verbose,
        diff,
        progress: false,
        width: 80,
    }
}

/// Real output minus what the reporter leaves to others (see testdata/README.md): the CLI's
/// config-file line and 2.19's `[ERROR]: ... Origin:` source excerpt before a failure.
fn real(text: &str) -> String {
    let config = Regex::new(r"(?m)^No config file found; using defaults\n").unwrap();
    let excerpt = Regex::new(r"(?m)^(\x1b\[0;31m)?\[ERROR\]: Task failed: [\s\S]*?column \d+(\x1b\[0m)?\n(\x1b\[0;31m\x1b\[0m)?\n").unwrap();
    excerpt
        .replace_all(&config.replace_all(text, ""), "")
        .into_owned()
}

/// Command timings differ between runs; compare everything else.
fn without_times(text: &str) -> String {
    let times = Regex::new(r#""(start|end|delta)": "[^"]*""#).unwrap();
    times.replace_all(text, "\"$1\": \"-\"").into_owned()
}

#[test]
fn playbook_run_matches_ansible() {
    let want = real(include_str!("testdata/x_plain.txt"));
    assert_eq!(
        without_times(&render(&x_events(), opts(0, false, false))),
        without_times(&want)
    );
}

#[test]
fn verbose_run_prints_result_dictionaries_like_ansible() {
    let want = real(include_str!("testdata/x_v.txt"));
    assert_eq!(render(&x_events(), opts(1, false, false)), want);
}

#[test]
fn loops_retries_skips_and_diffs_match_ansible() {
    let events = y_events();
    assert_eq!(
        render(&events, opts(0, false, false)),
        real(include_str!("testdata/y_plain.txt"))
    );
    assert_eq!(
        render(&events, opts(0, true, false)),
        real(include_str!("testdata/y_diff.txt"))
    );
    assert_eq!(
        render(&events, opts(1, true, false)),
        real(include_str!("testdata/y_diff_v.txt"))
    );
}

#[test]
fn colours_match_ansible_and_recap_is_coloured_per_count() {
    let got = render(&y_events(), opts(0, true, true));
    assert_eq!(got, real(include_str!("testdata/y_diff_color.txt")));
}

#[test]
fn unreachable_and_failed_hosts_match_ansible() {
    for (color, real_text) in [
        (false, include_str!("testdata/z_plain.txt")),
        (true, include_str!("testdata/z_color.txt")),
    ] {
        let got = render(&z_events(), opts(0, false, color));
        assert_eq!(without_times(&got), without_times(&real(real_text)));
    }
}

#[test]
fn no_escape_codes_without_colour() {
    for events in [x_events(), y_events(), z_events()] {
        assert!(!render(&events, opts(1, true, false)).contains('\x1b'));
    }
}

#[test]
fn banners_fill_the_terminal_but_never_less_than_80_columns() {
    let banner = |width: usize, title: &str| {
        let out = render(
            &[play(title, &["h"])],
            TextOptions {
                width,
                ..opts(0, false, false)
            },
        );
        out.trim_start_matches('\n').trim_end().to_string()
    };
    assert_eq!(banner(120, "p").len(), 120);
    assert_eq!(banner(40, "p").len(), 80);
    assert_eq!(
        banner(80, &"x".repeat(100)),
        format!("PLAY [{}] ***", "x".repeat(100))
    );
    assert_eq!(banner(80, "").len(), 80);
    assert!(banner(80, "").starts_with("PLAY **"));
}

#[test]
fn progress_line_is_redrawn_in_place_and_erased_before_output() {
    let events = x_events();
    let mut options = opts(0, false, false);
    options.progress = true;
    let with_progress = render(&events, options);
    assert!(with_progress.contains("TASK [run cmd] ****"));
    assert!(with_progress.contains("*\n\r\x1b[K  [0/2 hosts] run cmd\r\x1b[Kchanged: [web1]\n\r\x1b[K  [1/2 hosts] run cmd\r\x1b[Kchanged: [web2]\n"));
    let progress = Regex::new(r"\r\x1b\[K(  \[\d+/\d+ hosts\] [^\r\n]*)?").unwrap();
    assert_eq!(
        progress.replace_all(&with_progress, ""),
        render(&events, opts(0, false, false))
    );
    // Loop items do not count as hosts done; only each host's loop result does.
    assert!(with_progress.contains("changed: [web1] => (item=b)\n\r\x1b[K  [0/2 hosts] loop items"));
    assert!(with_progress.ends_with("ignored=2   \n\n"));
}

#[test]
fn warnings_go_to_their_own_writer() {
    use std::sync::{Arc, Mutex};
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().write(buf)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let err = Shared::default();
    let mut reporter =
        TextReporter::new(Vec::new(), opts(0, false, false)).warnings_to(Box::new(err.clone()));
    reporter.report(&Event::Warning("something odd".into()));
    assert!(reporter.into_inner().is_empty());
    assert_eq!(
        String::from_utf8(err.0.lock().unwrap().clone()).unwrap(),
        "[WARNING]: something odd\n"
    );
}

#[test]
fn no_more_hosts_banner() {
    let out = render(&[Event::NoMoreHosts], opts(0, false, false));
    assert_eq!(out, format!("\nNO MORE HOSTS LEFT {}\n", "*".repeat(61)));
}

#[test]
fn play_without_hosts_says_so() {
    // `ansible-playbook -i inv.ini nomatch.yml`, stderr and stdout together.
    let events = [
        Event::Warning("Could not match supplied host pattern, ignoring: nosuch".into()),
        play("nomatch", &[]),
        play("second", &["web1"]),
        task("debug", 1),
        res("web1", "debug", Status::Ok, debug_msg("y")).ev(),
        Event::Recap(vec![("web1".into(), stats(1, 0, 0, 0, 0, 0))]),
    ];
    let want = include_str!("testdata/nomatch.txt");
    assert_eq!(render(&events, opts(0, false, false)), want);
}
