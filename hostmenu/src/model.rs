//! The menu's state: the filter, the number being typed, the selection and the scroll
//! position, and how each key changes them.

use crate::keys::Key;
use crate::text::sanitize;
use crate::{MenuAction, MenuItem};

/// Screen rows that are not table body: title, filter, table header and status line.
pub const CHROME_ROWS: usize = 4;

/// Longest filter kept, in chars (more typing is ignored).
const MAX_FILTER: usize = 200;

/// Longest number kept, in digits (more than any list can hold).
const MAX_DIGITS: usize = 9;

/// Filter, selection and scroll state over a fixed list of items.
pub struct Model {
    user: String,
    items: Vec<MenuItem>,
    /// Lowercased searchable text of each item, fields separated by newlines.
    haystacks: Vec<String>,
    filter: String,
    number: String,
    visible: Vec<usize>,
    /// Position of the selection within `visible`.
    cursor: usize,
    /// Position within `visible` of the first row shown.
    top: usize,
    /// Table body rows that fit on the screen.
    body_rows: usize,
    message: Option<String>,
}

impl Model {
    /// A model showing all `items`, the first one selected, for a screen `rows` high.
    pub fn new(user: &str, items: Vec<MenuItem>, rows: u16) -> Model {
        let haystacks = items
            .iter()
            .map(|it| {
                format!(
                    "{}\n{}\n{}\n{}",
                    it.host,
                    it.login,
                    it.address,
                    it.groups.join("\n")
                )
                .to_lowercase()
            })
            .collect();
        let mut model = Model {
            user: sanitize(user),
            visible: (0..items.len()).collect(),
            items,
            haystacks,
            filter: String::new(),
            number: String::new(),
            cursor: 0,
            top: 0,
            body_rows: 0,
            message: None,
        };
        model.set_rows(rows);
        model
    }

    /// Adapts the scroll to a screen `rows` high, keeping the selection in view.
    pub fn set_rows(&mut self, rows: u16) {
        self.body_rows = usize::from(rows).saturating_sub(CHROME_ROWS);
        self.scroll_to_cursor();
    }

    /// The (sanitised) user name.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// All items, in their original order.
    pub fn items(&self) -> &[MenuItem] {
        &self.items
    }

    /// Indices of the items matching the filter, in display order.
    pub fn visible(&self) -> &[usize] {
        &self.visible
    }

    /// Index (into `items`) of the selected item, if any item is shown.
    pub fn selected(&self) -> Option<usize> {
        self.visible.get(self.cursor).copied()
    }

    /// Position of the selection within [`Model::visible`].
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Position within [`Model::visible`] of the first table row shown.
    pub fn top(&self) -> usize {
        self.top
    }

    /// What the user typed as a filter.
    pub fn filter(&self) -> &str {
        &self.filter
    }

    /// Digits typed to pick an item by number (only while the filter is empty).
    pub fn number(&self) -> &str {
        &self.number
    }

    /// The status line message, if one is set.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// Sets the status line message until the next key.
    pub fn set_message(&mut self, msg: &str) {
        let line = msg.lines().next().unwrap_or("");
        self.message = Some(sanitize(line));
    }

    /// Applies one key, returning what the caller should do.
    pub fn handle(&mut self, key: Key) -> MenuAction {
        self.message = None;
        if self.items.is_empty() {
            return match key {
                Key::Char('q') | Key::Ctrl('c' | 'd') => MenuAction::Quit,
                _ => MenuAction::None,
            };
        }
        match key {
            Key::Ctrl('c' | 'd') => return MenuAction::Quit,
            Key::Char('q') if self.filter.is_empty() => return MenuAction::Quit,
            Key::Enter => return self.pick(),
            Key::Char(c) if c.is_ascii_digit() && self.filter.is_empty() => self.type_digit(c),
            Key::Char(' ') if self.filter.is_empty() => {}
            Key::Char(c) => self.type_filter(c),
            Key::Backspace => self.backspace(),
            Key::Ctrl('w') => self.delete_word(),
            Key::Ctrl('u') | Key::Esc => self.clear_input(),
            Key::Up | Key::Ctrl('p') => self.move_by(-1),
            Key::Down | Key::Ctrl('n') => self.move_by(1),
            Key::PageUp => self.move_by(-self.page()),
            Key::PageDown => self.move_by(self.page()),
            Key::Home => self.move_to(0),
            Key::End => self.move_to(self.visible.len().saturating_sub(1)),
            _ => {}
        }
        MenuAction::None
    }

    fn page(&self) -> isize {
        isize::try_from(self.body_rows.max(1)).unwrap_or(1)
    }

    fn type_digit(&mut self, c: char) {
        if self.number.len() < MAX_DIGITS {
            self.number.push(c);
        }
        if let Some(pos) = self.number_position() {
            self.move_to(pos);
        }
    }

    /// Position within `visible` of the number typed, if it names a shown row.
    fn number_position(&self) -> Option<usize> {
        let n: usize = self.number.parse().ok()?;
        (1..=self.visible.len()).contains(&n).then(|| n - 1)
    }

    fn type_filter(&mut self, c: char) {
        self.number.clear();
        if self.filter.chars().count() < MAX_FILTER {
            self.filter.push(c);
            self.refilter();
        }
    }

    fn backspace(&mut self) {
        if self.number.pop().is_some() {
            if let Some(pos) = self.number_position() {
                self.move_to(pos);
            }
        } else if self.filter.pop().is_some() {
            self.refilter();
        }
    }

    fn delete_word(&mut self) {
        self.number.clear();
        let kept = self.filter.trim_end().rfind(' ').map_or(0, |i| i + 1);
        self.filter.truncate(kept);
        self.refilter();
    }

    fn clear_input(&mut self) {
        self.number.clear();
        if !self.filter.is_empty() {
            self.filter.clear();
            self.refilter();
        }
    }

    fn move_by(&mut self, delta: isize) {
        self.number.clear();
        let target = self.cursor.saturating_add_signed(delta);
        self.move_to(target.min(self.visible.len().saturating_sub(1)));
    }

    fn move_to(&mut self, pos: usize) {
        self.cursor = pos.min(self.visible.len().saturating_sub(1));
        self.scroll_to_cursor();
    }

    /// Recomputes the visible items, keeping the selected item if it still matches.
    fn refilter(&mut self) {
        let before = self.selected();
        let needle = self.filter.to_lowercase();
        let words: Vec<&str> = needle.split_whitespace().collect();
        self.visible = (0..self.items.len())
            .filter(|&i| words.iter().all(|w| self.haystacks[i].contains(w)))
            .collect();
        self.cursor = before
            .and_then(|b| self.visible.iter().position(|&i| i == b))
            .unwrap_or(0);
        self.scroll_to_cursor();
    }

    fn scroll_to_cursor(&mut self) {
        let page = self.body_rows.max(1);
        if self.cursor < self.top {
            self.top = self.cursor;
        } else if self.cursor >= self.top + page {
            self.top = self.cursor + 1 - page;
        }
        self.top = self.top.min(self.visible.len().saturating_sub(page));
    }

    /// Enter: connects to the selected item (or the one whose number was typed).
    fn pick(&mut self) -> MenuAction {
        if !self.number.is_empty() {
            let typed = std::mem::take(&mut self.number);
            match typed.parse::<usize>() {
                Ok(n) if (1..=self.visible.len()).contains(&n) => self.move_to(n - 1),
                _ => {
                    self.message = Some(format!(
                        "No host number {typed}: pick 1 to {}",
                        self.visible.len()
                    ));
                    return MenuAction::None;
                }
            }
        }
        let Some(index) = self.selected() else {
            self.message = Some("No host matches the filter".to_string());
            return MenuAction::None;
        };
        let item = &self.items[index];
        if !item.within_hours {
            self.message = Some(sanitize(&format!(
                "{}@{} is outside your allowed hours",
                item.login, item.host
            )));
            return MenuAction::None;
        }
        MenuAction::Connect(index)
    }
}
