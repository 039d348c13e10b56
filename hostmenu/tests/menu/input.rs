//! Keys → filtering, selection and actions.

use super::{item, many, menu, sample, screen_of};
use hostmenu::{Menu, MenuAction};

fn hosts(m: &Menu) -> Vec<String> {
    m.visible()
        .iter()
        .map(|&i| m.items()[i].host.clone())
        .collect()
}

#[test]
fn starts_with_everything_shown_and_first_selected() {
    let m = menu(sample());
    assert_eq!(m.visible(), (0..12).collect::<Vec<_>>());
    assert_eq!(m.selected(), Some(0));
    assert_eq!(m.items().len(), 12);
}

#[test]
fn filter_is_a_case_insensitive_substring_over_all_fields() {
    let mut m = menu(sample());
    assert_eq!(m.feed(b"WEB"), MenuAction::None);
    assert_eq!(hosts(&m), ["web1", "web2", "web3-staging"]);

    let mut m = menu(sample());
    m.feed(b"postgres");
    assert_eq!(hosts(&m), ["db1", "db2"]);

    let mut m = menu(sample());
    m.feed(b"example.COM");
    assert_eq!(hosts(&m), ["mail"]);

    let mut m = menu(sample());
    m.feed(b"edge");
    assert_eq!(hosts(&m), ["vpn-gw"]);
}

#[test]
fn every_word_of_the_filter_must_match() {
    let mut m = menu(sample());
    m.feed(b"prod alice");
    assert_eq!(hosts(&m), ["web1", "web2", "monitor"]);
    m.feed(b" 10.0.0");
    assert_eq!(hosts(&m), ["web1", "web2"]);
    // A word may not span two fields.
    let mut m = menu(sample());
    m.feed(b"web1alice");
    assert!(m.visible().is_empty());
    assert_eq!(m.selected(), None);
}

#[test]
fn backspace_ctrl_u_and_esc_edit_the_filter() {
    let mut m = menu(sample());
    m.feed(b"web1");
    assert_eq!(hosts(&m), ["web1"]);
    m.feed(b"\x7f");
    assert_eq!(hosts(&m).len(), 3);
    m.feed(b"\x08\x08\x08");
    assert_eq!(hosts(&m).len(), 12);
    m.feed(b"mail\x15");
    assert_eq!(hosts(&m).len(), 12);
    m.feed(b"mail\x1b");
    m.flush_pending_escape();
    assert_eq!(hosts(&m).len(), 12);
    m.feed(b"build-01 ci\x17");
    assert_eq!(hosts(&m), ["build-01"]);
}

#[test]
fn selection_follows_the_item_through_filtering() {
    let mut m = menu(sample());
    m.feed(b"\x1b[B"); // web2
    m.feed(b"web");
    assert_eq!(m.selected(), Some(1));
    m.feed(b"1");
    assert_eq!(m.selected(), Some(0), "web2 gone: first match selected");
}

#[test]
fn digits_pick_by_number_when_filter_is_empty() {
    let mut m = menu(sample());
    assert_eq!(m.feed(b"1"), MenuAction::None);
    assert_eq!(m.selected(), Some(0));
    assert_eq!(m.feed(b"2"), MenuAction::None);
    assert_eq!(m.selected(), Some(11));
    assert_eq!(m.visible().len(), 12, "digits are not a filter");
    assert_eq!(m.feed(b"\r"), MenuAction::Connect(11));

    let mut m = menu(sample());
    assert_eq!(m.feed(b"12\r"), MenuAction::Connect(11));
    let mut m = menu(sample());
    assert_eq!(m.feed(b"7\n"), MenuAction::Connect(6));
    let mut m = menu(sample());
    assert_eq!(m.feed(b"13\x7f\r"), MenuAction::Connect(0));
}

#[test]
fn digits_pick_over_the_filtered_list_numbering() {
    // Numbers are positions in the shown list; after Esc the list is whole again.
    let mut m = menu(sample());
    m.feed(b"db");
    m.feed(b"\x1b");
    m.flush_pending_escape();
    assert_eq!(m.feed(b"5\r"), MenuAction::Connect(4));
}

#[test]
fn out_of_range_number_is_refused_with_a_message() {
    let mut m = menu(sample());
    assert_eq!(m.feed(b"99\r"), MenuAction::None);
    let s = screen_of(&mut m, 80, 24);
    assert!(s[23].contains("No host number 99"), "{s:?}");
    assert_eq!(m.feed(b"0\r"), MenuAction::None);
    // Typing 9 had selected item 9; the number is reset, so Enter connects to it.
    assert_eq!(m.feed(b"\r"), MenuAction::Connect(8));
}

#[test]
fn digits_are_filter_text_once_filtering() {
    let mut m = menu(sample());
    m.feed(b"web2");
    assert_eq!(hosts(&m), ["web2"]);
    m.feed(b"\x15build-0");
    m.feed(b"2");
    assert_eq!(hosts(&m), ["build-02"]);
    assert_eq!(m.feed(b"\r"), MenuAction::Connect(8));
}

#[test]
fn arrows_in_both_forms_move_and_enter_connects() {
    let mut m = menu(sample());
    m.feed(b"\x1b[B\x1bOB\x0e");
    assert_eq!(m.selected(), Some(3));
    m.feed(b"\x1b[A\x10");
    assert_eq!(m.selected(), Some(1));
    m.feed(b"\x1bOA\x1b[A\x1b[A");
    assert_eq!(m.selected(), Some(0), "stops at the top");
    m.feed(b"\x1b[F");
    assert_eq!(m.selected(), Some(11));
    m.feed(b"\x1b[B");
    assert_eq!(m.selected(), Some(11), "stops at the bottom");
    m.feed(b"\x1b[H");
    assert_eq!(m.selected(), Some(0));
    assert_eq!(m.feed(b"\x1b[B\r"), MenuAction::Connect(1));
}

#[test]
fn paging_and_ends_over_500_items() {
    let mut m = menu(many(500));
    let page = 24 - 4;
    m.feed(b"\x1b[6~");
    assert_eq!(m.selected(), Some(page));
    m.feed(b"\x1b[6~\x1b[5~\x1b[5~\x1b[5~");
    assert_eq!(m.selected(), Some(0));
    m.feed(b"\x1b[4~");
    assert_eq!(m.selected(), Some(499));
    m.feed(b"\x1b[1~");
    assert_eq!(m.selected(), Some(0));
    assert_eq!(m.feed(b"250\r"), MenuAction::Connect(249));
}

#[test]
fn q_quits_only_with_an_empty_filter() {
    let mut m = menu(sample());
    assert_eq!(m.feed(b"q"), MenuAction::Quit);

    let mut m = menu(sample());
    assert_eq!(m.feed(b"bq"), MenuAction::None);
    assert_eq!(m.visible(), Vec::<usize>::new());
    assert_eq!(m.feed(b"\x7fu"), MenuAction::None);
    assert_eq!(hosts(&m), ["build-01", "build-02"]);
    assert_eq!(m.feed(b"\x15q"), MenuAction::Quit);
}

#[test]
fn ctrl_c_and_ctrl_d_always_quit() {
    for key in [b"\x03", b"\x04"] {
        let mut m = menu(sample());
        m.feed(b"web");
        assert_eq!(m.feed(key), MenuAction::Quit);
        assert_eq!(menu(Vec::new()).feed(key), MenuAction::Quit);
    }
}

#[test]
fn input_after_an_action_is_discarded() {
    let mut m = menu(sample());
    assert_eq!(m.feed(b"\x1b[B\rq\x1b"), MenuAction::Connect(1));
    assert!(!m.has_pending_escape());
    assert_eq!(m.selected(), Some(1));
}

#[test]
fn escape_sequences_split_across_feeds() {
    let mut m = menu(sample());
    assert_eq!(m.feed(b"\x1b"), MenuAction::None);
    assert!(m.has_pending_escape());
    m.feed(b"[");
    m.feed(b"B");
    assert!(!m.has_pending_escape());
    assert_eq!(m.selected(), Some(1));
    m.feed(b"\x1bO");
    m.feed(b"B\x1b[");
    m.feed(b"6");
    m.feed(b"~");
    assert_eq!(m.selected(), Some(11));
    assert_eq!(m.visible().len(), 12, "no stray bytes reached the filter");
}

#[test]
fn lone_esc_clears_the_filter_only_once_known_to_be_alone() {
    let mut m = menu(sample());
    m.feed(b"web\x1b");
    assert_eq!(hosts(&m).len(), 3, "ESC held: might start a sequence");
    assert!(m.has_pending_escape());
    assert_eq!(m.flush_pending_escape(), MenuAction::None);
    assert_eq!(hosts(&m).len(), 12);
    assert!(!m.has_pending_escape());

    // Next chunk does not continue a sequence: Esc, then the new typing.
    let mut m = menu(sample());
    m.feed(b"web\x1b");
    m.feed(b"db");
    assert_eq!(hosts(&m), ["db1", "db2"]);
}

#[test]
fn crlf_is_one_enter() {
    let mut m = menu(sample());
    m.feed(b"\x1b[B\x1b[B\x1b[B"); // db1, outside hours
    assert_eq!(m.feed(b"\r"), MenuAction::None);
    m.set_message("marker");
    // The LF completing that CRLF is no key: the marker message stays.
    assert_eq!(m.feed(b"\n"), MenuAction::None);
    assert_eq!(screen_of(&mut m, 80, 24)[23], "marker");
    assert_eq!(m.feed(b"\x1b[B\r\n"), MenuAction::Connect(4));
}

#[test]
fn outside_hours_item_is_refused_with_a_message() {
    let mut m = menu(sample());
    assert_eq!(m.feed(b"4\r"), MenuAction::None);
    assert_eq!(m.selected(), Some(3));
    let s = screen_of(&mut m, 80, 24);
    assert!(
        s[23].contains("postgres@db1 is outside your allowed hours"),
        "{s:?}"
    );
    // The next key clears the message.
    m.feed(b"\x1b[B");
    let s = screen_of(&mut m, 80, 24);
    assert!(s[23].starts_with("↑/↓ move  Enter connect"), "{s:?}");
}

#[test]
fn enter_with_nothing_matching_does_nothing() {
    let mut m = menu(sample());
    m.feed(b"nothing-like-this");
    assert_eq!(m.feed(b"\r"), MenuAction::None);
    let s = screen_of(&mut m, 80, 24);
    assert!(s[23].contains("No host matches"), "{s:?}");
}

#[test]
fn set_message_lasts_until_the_next_key() {
    let mut m = menu(sample());
    m.set_message("connection to web1 failed: timeout\nsecond line \x1b[2J");
    let s = screen_of(&mut m, 80, 24);
    assert_eq!(s[23], "connection to web1 failed: timeout");
    m.feed(b"w");
    assert!(!screen_of(&mut m, 80, 24)[23].contains("timeout"));
}

#[test]
fn empty_list_only_quits() {
    let mut m = menu(Vec::new());
    assert_eq!(m.feed(b"web\r1\r\x1b[B\x15"), MenuAction::None);
    m.flush_pending_escape();
    assert_eq!(m.selected(), None);
    assert_eq!(m.feed(b"q"), MenuAction::Quit);
}

#[test]
fn selection_survives_a_resize() {
    let mut m = menu(many(500));
    m.feed(b"\x1b[4~");
    m.resize(40, 10);
    assert_eq!(m.selected(), Some(499));
    m.resize(200, 60);
    assert_eq!(m.selected(), Some(499));
    m.feed(b"\x1b[5~");
    assert_eq!(m.selected(), Some(499 - 56));
}

#[test]
fn unicode_filter_and_hosts() {
    let mut m = menu(vec![
        item("サーバー1", "alice", "10.0.0.1", &["日本"], true),
        item("Ünïcode", "bob", "10.0.0.2", &["eu"], true),
    ]);
    m.feed("ünï".as_bytes());
    assert_eq!(m.visible(), [1]);
    m.feed(b"\x15");
    m.feed(&"日本".as_bytes()[..4]);
    m.feed(&"日本".as_bytes()[4..]);
    assert_eq!(m.visible(), [0]);
}
