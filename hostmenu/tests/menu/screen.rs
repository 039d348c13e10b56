//! Rendering, checked through the `vt100` terminal model.

use super::{item, many, menu, sample, screen_of, Term};
use hostmenu::{Menu, MenuItem};

const LONG: &str =
    "very-long-host-name-for-the-primary-database-cluster-node-0001.dc1.example.internal";

fn long_items() -> Vec<MenuItem> {
    vec![
        item(LONG, "alice", "10.0.0.1", &["db", "prod"], true),
        item(
            "short",
            "a-really-long-login-name-here",
            "fe80::1234:5678:9abc:def0",
            &["g"; 30],
            true,
        ),
        item("db1", "postgres", "10.0.1.1", &["db"], false),
    ]
}

/// Asserts that nothing was drawn past column `cols` of a wider terminal.
fn assert_fits(t: &Term, cols: u16) {
    let (rows, _) = t.vt.screen().size();
    for r in 0..rows {
        assert!(
            t.used_width(r) <= cols,
            "row {r} too wide: {:?}",
            t.rows()[usize::from(r)]
        );
    }
}

#[test]
fn first_frame_layout_at_80x24() {
    let mut m = menu(sample());
    let mut t = Term::new(80, 24);
    let bytes = t.draw(&mut m);
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("\x1b[?1049h\x1b[?25l"), "{text:?}");
    assert!(text.contains("\x1b[H\x1b[2J"));
    assert!(t.vt.screen().alternate_screen());

    let s = t.rows();
    assert!(s[0].starts_with("Bastion — hosts for alice"), "{s:?}");
    assert!(s[0].ends_with("12 of 12"));
    assert_eq!(t.used_width(0), 80, "count is right-aligned");
    assert_eq!(s[1], "Filter:");
    for h in ["#", "Host", "Login", "Address", "Groups"] {
        assert!(s[2].contains(h), "{s:?}");
    }
    assert!(s[3].starts_with(" 1  web1"), "{s:?}");
    assert!(s[3].contains("alice") && s[3].contains("10.0.0.1") && s[3].contains("web, prod"));
    assert!(s[14].starts_with("12  backup"), "{s:?}");
    assert_eq!(s[15], "");
    assert_eq!(
        s[23],
        "↑/↓ move  Enter connect  number+Enter pick  type to filter  Esc clear  q quit"
    );

    assert_eq!(t.reversed_row().as_deref(), Some(s[3].as_str()));
    assert!(!t.vt.screen().hide_cursor(), "cursor shown at the filter");
    assert_eq!(t.vt.screen().cursor_position(), (1, 8));
}

#[test]
fn outside_hours_rows_are_dimmed_and_marked() {
    let mut m = menu(sample());
    let mut t = Term::new(80, 24);
    t.draw(&mut m);
    let s = t.rows();
    assert!(s[6].contains("db1 (outside hours)"), "{s:?}");
    assert!(t.vt.screen().cell(6, 4).is_some_and(|c| c.dim()));
    assert!(!t.vt.screen().cell(7, 4).is_some_and(|c| c.dim()));
}

#[test]
fn hosts_that_need_a_request_are_marked_but_not_dimmed() {
    let mut m = menu(sample());
    let mut t = Term::new(80, 24);
    t.draw(&mut m);
    let s = t.rows();
    assert!(s[7].contains("db2 (request)"), "{s:?}");
    assert!(!s[6].contains("(request)"), "{s:?}");
    assert!(!t.vt.screen().cell(7, 4).is_some_and(|c| c.dim()));
}

#[test]
fn filter_shows_typed_text_count_and_cursor() {
    let mut m = menu(sample());
    m.feed(b"web");
    let mut t = Term::new(80, 24);
    t.draw(&mut m);
    let s = t.rows();
    assert!(s[0].ends_with("3 of 12"), "{s:?}");
    assert_eq!(s[1], "Filter: web");
    assert_eq!(t.vt.screen().cursor_position(), (1, 11));
    assert!(s[5].contains("web3-staging"));
    assert_eq!(s[6], "");

    m.feed(b"zzz");
    let s = screen_of(&mut m, 80, 24);
    assert!(s[0].ends_with("0 of 12"));
    assert!(s[3].contains("No hosts match \"webzzz\""), "{s:?}");
}

#[test]
fn typed_number_is_shown() {
    let mut m = menu(sample());
    m.feed(b"12");
    let mut t = Term::new(80, 24);
    t.draw(&mut m);
    assert_eq!(t.rows()[1], "Pick number: 12");
    assert!(t.reversed_row().unwrap().starts_with("12  backup"));
}

#[test]
fn scrolling_500_items_keeps_the_selection_visible() {
    let mut m = menu(many(500));
    let mut t = Term::new(80, 24);
    t.draw(&mut m);
    assert!(t.rows()[0].ends_with("500 of 500"));
    for _ in 0..30 {
        m.feed(b"\x1b[B");
        t.draw(&mut m);
    }
    let s = t.rows();
    assert!(s[22].starts_with(" 31  host-031"), "{s:?}");
    assert!(s[3].starts_with(" 12  host-012"), "{s:?}");
    assert_eq!(t.reversed_row().as_deref(), Some(s[22].as_str()));

    m.feed(b"\x1b[F");
    t.draw(&mut m);
    let s = t.rows();
    assert!(s[22].starts_with("500  host-500"), "{s:?}");
    assert_eq!(t.reversed_row().as_deref(), Some(s[22].as_str()));

    m.feed(b"\x1b[5~");
    t.draw(&mut m);
    assert!(t.reversed_row().unwrap().starts_with("480  host-480"));
    assert!(t.rows()[3].starts_with("480"), "scrolled up by a page");

    m.feed(b"host-1");
    t.draw(&mut m);
    let s = t.rows();
    assert!(s[0].ends_with("100 of 500"), "{s:?}");
    assert!(s[3].starts_with("  1  host-100"), "{s:?}");
}

#[test]
fn later_frames_redraw_only_changes_and_match_a_full_redraw() {
    let mut m = menu(many(500));
    let mut t = Term::new(80, 24);
    t.draw(&mut m);
    let same = t.draw(&mut m);
    assert!(!String::from_utf8_lossy(&same).contains("\x1b[2J"));
    assert!(same.len() < 40, "nothing changed: {same:?}");

    for keys in [
        &b"\x1b[B"[..],
        b"\x1b[6~",
        b"ho",
        b"st-2",
        b"\x7f\x7f",
        b"\x1b",
        b"99",
        b"\r",
    ] {
        m.feed(keys);
        let bytes = t.draw(&mut m);
        assert!(!String::from_utf8_lossy(&bytes).contains("\x1b[2J"));
        m.resize(80, 24);
        let mut fresh = Term::new(80, 24);
        fresh.draw(&mut m);
        assert_eq!(t.rows(), fresh.rows());
        assert_eq!(t.reversed_row(), fresh.reversed_row());
    }
}

#[test]
fn resize_redraws_fully_and_keeps_selection_in_view() {
    let mut m = menu(many(500));
    let mut t = Term::new(80, 24);
    m.feed(b"\x1b[F");
    t.draw(&mut m);
    m.resize(40, 10);
    t.vt.screen_mut().set_size(10, 40);
    let bytes = t.draw(&mut m);
    assert!(String::from_utf8_lossy(&bytes).contains("\x1b[H\x1b[2J"));
    let s = t.rows();
    assert!(s[8].starts_with("500  host-500"), "{s:?}");
    assert_eq!(t.reversed_row().as_deref(), Some(s[8].as_str()));
    assert!(s[9].ends_with('…') && s[9].starts_with("↑/↓ move"), "{s:?}");
    assert_fits(&t, 40);

    m.feed(b"\x1b[H");
    m.resize(120, 50);
    t.vt.screen_mut().set_size(50, 120);
    t.draw(&mut m);
    let s = t.rows();
    assert!(s[3].starts_with("  1  host-001"), "{s:?}");
    assert!(s[48].starts_with(" 46  host-046"), "{s:?}");
}

#[test]
fn long_names_fit_in_40_columns() {
    let mut m = Menu::new("alice", long_items(), 40, 10);
    let mut t = Term::new(80, 10);
    t.draw(&mut m);
    assert_fits(&t, 40);
    let s = t.rows();
    assert!(
        s[0].starts_with("Bastion — hosts for alice") && s[0].ends_with("3 of 3"),
        "{s:?}"
    );
    assert!(s[3].starts_with("1  very-lon"), "{s:?}");
    assert!(
        s[3].contains('…') && s[3].contains("alice") && s[3].contains("10.0.0.1"),
        "{s:?}"
    );
    assert!(s[5].starts_with("3  db1 (out…"), "marker cut last: {s:?}");
    assert!(t.vt.screen().cell(5, 3).is_some_and(|c| c.dim()));
    assert!(s[9].starts_with("↑/↓") && s[9].ends_with('…'));
    assert_eq!(t.used_width(9), 39, "bottom-right cell left free");
}

#[test]
fn long_names_shown_whole_in_200_columns() {
    let mut m = Menu::new("alice", long_items(), 200, 30);
    let mut t = Term::new(260, 30);
    t.draw(&mut m);
    assert_fits(&t, 200);
    let s = t.rows();
    assert!(s[0].ends_with("3 of 3") && t.used_width(0) == 200, "{s:?}");
    assert!(s[3].contains(LONG) && s[3].contains("alice"), "{s:?}");
    assert!(s[4].contains("fe80::1234:5678:9abc:def0"), "{s:?}");
    assert!(s[4].contains("a-really-long-login-name-here"), "{s:?}");
    assert!(s[5].contains("db1 (outside hours)"), "{s:?}");
    // The selected row is a reverse-video bar across the whole width.
    assert!(t.cell_inverse(3, 199) && !t.cell_inverse(3, 200));
}

#[test]
fn empty_list_explains_and_offers_quit() {
    let mut m = menu(Vec::new());
    let mut t = Term::new(80, 24);
    t.draw(&mut m);
    let s = t.rows();
    assert!(s[0].starts_with("Bastion — hosts for alice"), "{s:?}");
    assert_eq!(
        s[2],
        "No hosts available for alice — ask an administrator for access."
    );
    assert_eq!(s[23], "q quit");
    assert!(t.vt.screen().hide_cursor());

    let mut m = Menu::new("alice", Vec::new(), 40, 10);
    let s = screen_of(&mut m, 40, 10);
    let joined = s[2..5].join(" ");
    assert!(
        joined.contains("No hosts available for alice — ask an administrator for access."),
        "{s:?}"
    );
}

#[test]
fn leave_restores_the_terminal() {
    let mut m = menu(sample());
    let mut t = Term::new(80, 24);
    t.draw(&mut m);
    let bytes = m.leave();
    t.vt.process(&bytes);
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("\x1b[0m") && text.contains("\x1b[?25h") && text.ends_with("\x1b[?1049l")
    );
    assert!(!t.vt.screen().alternate_screen());
    assert!(!t.vt.screen().hide_cursor());
    // Drawing again re-enters the alternate screen with a full frame.
    let again = String::from_utf8_lossy(&m.render()).into_owned();
    assert!(again.starts_with("\x1b[?1049h") && again.contains("\x1b[2J"));
}

#[test]
fn hostile_text_is_not_interpreted_by_the_terminal() {
    let mut m = Menu::new(
        "al\x1b]0;x\x07ice",
        vec![item("evil\x1b[2J\x1b[31m", "r\no", "a", &["g\x07"], true)],
        80,
        24,
    );
    m.set_message("bad \x1b[?1049l");
    let mut t = Term::new(80, 24);
    t.draw(&mut m);
    let s = t.rows();
    assert!(s[0].starts_with("Bastion — hosts for al?]0;x?ice"), "{s:?}");
    assert!(
        s[3].contains("evil?[2J?[31m") && s[3].contains("r?o"),
        "{s:?}"
    );
    assert_eq!(s[23], "bad ?[?1049l");
    assert!(t.vt.screen().alternate_screen());
}

#[test]
fn tiny_and_odd_sizes_never_panic_or_overflow() {
    for (cols, rows) in [
        (0, 0),
        (1, 1),
        (2, 2),
        (5, 3),
        (10, 4),
        (12, 5),
        (40, 10),
        (300, 3),
    ] {
        for items in [sample(), Vec::new(), long_items()] {
            let mut m = Menu::new("alice", items, cols, rows);
            m.feed(b"\x1b[B\x1b[6~");
            let bytes = m.render();
            if cols > 0 && rows > 0 {
                let mut t = Term::new(cols + 10, rows);
                t.vt.process(&bytes);
                assert_fits(&t, cols);
                if rows >= 2 {
                    assert!(
                        t.rows()[0]
                            .starts_with(&"Bastion"[..usize::from(cols).saturating_sub(1).min(7)]),
                        "{cols}x{rows}: {:?}",
                        t.rows()
                    );
                }
            }
        }
    }
}

#[test]
fn random_input_and_resizes_never_panic() {
    let mut m = menu(many(300));
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let alphabet = b"\x1b[OAB~56HF0123456789qwe \r\n\x7f\x08\x15\x0e\x10\x17\x0c\xc3\xa9";
    for round in 0..3000 {
        let n = (next() % 8) as usize;
        let chunk: Vec<u8> = (0..n)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        let _ = m.feed(&chunk);
        if round % 7 == 0 {
            let _ = m.flush_pending_escape();
        }
        if round % 97 == 0 {
            let cols = (next() % 250) as u16;
            let rows = (next() % 80) as u16;
            m.resize(cols, rows);
        }
        if round % 13 == 0 {
            m.set_message("msg");
        }
        let _ = m.render();
        assert!(m.selected().is_none_or(|i| i < 300));
    }
}
