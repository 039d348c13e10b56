//! The interactive host menu a bastion user sees after login.
//!
//! The menu is drawn over an SSH channel: it only gets a byte stream in (keys), window
//! sizes, and gives back bytes to write. Everything here is pure and synchronous:
//!
//! - [`keys`]: input bytes → key events (with `vte`), coping with sequences split across reads;
//! - [`model`]: filter, number picking, selection and scrolling;
//! - [`render`]: state → ANSI bytes, fitted to any screen size;
//! - [`text`]: display-width aware truncation and padding.
//!
//! [`Menu`] ties them together and is all a caller needs. It must not know SSH, policies or
//! the inventory: the caller hands it the items a user may pick and writes its bytes out.

mod keys;
mod model;
mod render;
mod text;

use keys::{Key, KeyDecoder};
use model::Model;
use render::Renderer;

/// One (host, login) pair the user may use.
#[derive(Clone, Debug)]
pub struct MenuItem {
    /// Host name as in the inventory.
    pub host: String,
    /// Login (remote account) on that host.
    pub login: String,
    /// Address shown for information.
    pub address: String,
    /// Inventory groups of the host.
    pub groups: Vec<String>,
    /// False when policy hours forbid it now: shown dimmed and cannot be picked.
    pub within_hours: bool,
    /// Reachable only through an approved request not yet held: marked, and picking it asks.
    pub needs_request: bool,
}

/// What the caller should do after some input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MenuAction {
    /// Nothing: render and wait for more input.
    None,
    /// Connect to this item (an index into the items given to [`Menu::new`]).
    Connect(usize),
    /// The user wants to leave.
    Quit,
}

/// A full-screen host menu: feed it input, write what `render` returns.
pub struct Menu {
    model: Model,
    keys: KeyDecoder,
    screen: Renderer,
}

impl Menu {
    /// A menu for `user` over `items`, on a `cols` x `rows` terminal.
    pub fn new(user: &str, items: Vec<MenuItem>, cols: u16, rows: u16) -> Menu {
        Menu {
            screen: Renderer::new(&items, cols, rows),
            model: Model::new(user, items, rows),
            keys: KeyDecoder::new(),
        }
    }

    /// Processes input bytes. Returns the first `Connect` or `Quit` met; input after it is
    /// discarded. A trailing lone ESC is held until more input or
    /// [`Menu::flush_pending_escape`].
    pub fn feed(&mut self, bytes: &[u8]) -> MenuAction {
        let keys = self.keys.decode(bytes);
        self.apply(keys)
    }

    /// Whether input is held waiting for the rest of an escape sequence; if so the caller
    /// should call [`Menu::flush_pending_escape`] when no more input comes shortly (~50 ms).
    pub fn has_pending_escape(&self) -> bool {
        self.keys.pending()
    }

    /// Treats a held lone ESC as the Esc key (and drops an unfinished sequence).
    pub fn flush_pending_escape(&mut self) -> MenuAction {
        let keys = self.keys.flush();
        self.apply(keys)
    }

    /// Adapts to a new terminal size; the next render is a full redraw.
    pub fn resize(&mut self, cols: u16, rows: u16) {
        self.model.set_rows(rows);
        self.screen.resize(cols, rows);
    }

    /// Shows a one-line message in the status line until the next key.
    pub fn set_message(&mut self, msg: &str) {
        self.model.set_message(msg);
    }

    /// The bytes to write to bring the user's screen up to date.
    pub fn render(&mut self) -> Vec<u8> {
        self.screen.render(&self.model)
    }

    /// The bytes that restore the user's terminal before connecting to a host or quitting.
    pub fn leave(&mut self) -> Vec<u8> {
        self.screen.leave()
    }

    /// The items given to [`Menu::new`], in their original order.
    pub fn items(&self) -> &[MenuItem] {
        self.model.items()
    }

    /// Indices into [`Menu::items`] of the items shown, in display order.
    pub fn visible(&self) -> Vec<usize> {
        self.model.visible().to_vec()
    }

    /// Index into [`Menu::items`] of the selected item, if any is shown.
    pub fn selected(&self) -> Option<usize> {
        self.model.selected()
    }

    fn apply(&mut self, keys: Vec<Key>) -> MenuAction {
        for key in keys {
            if key == Key::Ctrl('l') {
                self.screen.invalidate();
                continue;
            }
            let action = self.model.handle(key);
            if action != MenuAction::None {
                self.keys.reset();
                return action;
            }
        }
        MenuAction::None
    }
}
