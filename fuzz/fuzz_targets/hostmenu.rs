//! The host menu a user sees after login, fed arbitrary keystrokes, resizes and redraws.
//!
//! Every authenticated user's keystrokes reach this state machine before any policy is asked,
//! so it must never panic, whatever the bytes or the terminal size.
//!
//! The data is a list of chunks: a tag byte, a length byte, then that many payload bytes. The
//! tag's low two bits say what the chunk is (0 keystrokes, 1 a resize to `length` columns and
//! `tag >> 2` rows with no payload, 2 a redraw, 3 an Esc key timeout); for keystrokes, its upper
//! six bits say where to split the payload for the second run.
//!
//! Invariants: never panics; a `Connect` names an item that is shown and within its hours;
//! the selection is always one of the shown items; and splitting every chunk of keystrokes into
//! two reads changes neither the actions nor what is shown and selected (SSH packets split
//! keystrokes wherever they like).
#![no_main]

use hostmenu::{Menu, MenuAction, MenuItem};
use libfuzzer_sys::fuzz_target;

enum Chunk<'a> {
    Keys(&'a [u8], usize),
    Resize(u16, u16),
    Render,
    EscTimeout,
}

fn chunks(mut data: &[u8]) -> Vec<Chunk<'_>> {
    let mut out = Vec::new();
    while let [tag, len, rest @ ..] = data {
        let (tag, len) = (*tag, usize::from(*len));
        match tag & 3 {
            0 => {
                let len = len.min(rest.len());
                let (payload, tail) = rest.split_at(len);
                out.push(Chunk::Keys(
                    payload,
                    payload.len() * usize::from(tag >> 2) / 63,
                ));
                data = tail;
            }
            1 => {
                out.push(Chunk::Resize(len as u16, u16::from(tag >> 2)));
                data = rest;
            }
            2 => {
                out.push(Chunk::Render);
                data = rest;
            }
            _ => {
                out.push(Chunk::EscTimeout);
                data = rest;
            }
        }
    }
    out
}

fn items() -> Vec<MenuItem> {
    let item = |host: &str, login: &str, within_hours: bool, needs_request: bool| MenuItem {
        host: host.into(),
        login: login.into(),
        address: "127.0.1.1".into(),
        groups: vec!["web".into(), "数据库".into()],
        within_hours,
        needs_request,
    };
    vec![
        item("web1", "root", true, false),
        item("web2", "deploy", true, true),
        item("db-東京-1", "postgres", true, false),
        item("🦀-wide-emoji-host", "root", false, false),
        item("e\u{301}-combining", "root", true, false),
        item(&"long".repeat(40), "x", true, false),
    ]
}

/// What a run saw after each chunk.
#[derive(Debug, PartialEq)]
struct Seen {
    action: MenuAction,
    visible: Vec<usize>,
    selected: Option<usize>,
}

fn check(menu: &Menu, action: MenuAction) -> Seen {
    let visible = menu.visible();
    let selected = menu.selected();
    if let Some(s) = selected {
        assert!(visible.contains(&s), "selected {s} not among {visible:?}");
    }
    if let MenuAction::Connect(i) = action {
        assert!(visible.contains(&i), "connect to {i}, not shown");
        assert!(
            menu.items()[i].within_hours,
            "connect to {i}, outside its hours"
        );
    }
    Seen {
        action,
        visible,
        selected,
    }
}

fn run(chunks: &[Chunk<'_>], split: bool) -> Vec<Seen> {
    let mut menu = Menu::new("alice", items(), 80, 24);
    let _ = menu.render();
    let mut seen = Vec::new();
    for chunk in chunks {
        let action = match *chunk {
            Chunk::Keys(bytes, cut) => {
                let (first, second) = if split {
                    bytes.split_at(cut)
                } else {
                    (bytes, &[][..])
                };
                // Input after an action is discarded, so the second read is fed only if the
                // first ended without one, as the session does.
                match menu.feed(first) {
                    MenuAction::None => menu.feed(second),
                    action => action,
                }
            }
            Chunk::Resize(cols, rows) => {
                menu.resize(cols, rows);
                MenuAction::None
            }
            Chunk::Render => {
                let _ = menu.render();
                MenuAction::None
            }
            Chunk::EscTimeout => menu.flush_pending_escape(),
        };
        seen.push(check(&menu, action));
    }
    let _ = menu.render();
    let _ = menu.leave();
    seen
}

fuzz_target!(|data: &[u8]| {
    let chunks = chunks(data);
    let whole = run(&chunks, false);
    let split = run(&chunks, true);
    assert_eq!(whole, split, "splitting keystrokes changed the menu");
});
