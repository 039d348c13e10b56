//! Drawing the model as ANSI bytes: screen layout, column fitting and frame output.
//!
//! Every row is drawn with absolute cursor positioning and never wider than the screen, so
//! nothing wraps or scrolls whatever the terminal does at the right margin. After the first
//! frame only rows whose bytes changed are sent again.

use crate::model::{Model, CHROME_ROWS};
use crate::text::{
    fit, pad, pad_left, sanitize, truncate, truncate_left, width, with_suffix, wrap,
};
use crate::MenuItem;

/// Column titles: number, host, login, address, groups.
const HEADERS: [&str; 5] = ["#", "Host", "Login", "Address", "Groups"];
/// Spaces between two columns.
const SEP: usize = 2;
/// Width under which a column is not shrunk before dropping columns from the right.
const MIN_COL: usize = 6;
/// Appended to the host of an item that cannot be used now.
const OUTSIDE: &str = " (outside hours)";
/// Marks a host that needs an approved request first.
const REQUEST: &str = " (request)";
/// The help shown in the status line when there is no message.
const HELP: &str = "↑/↓ move  Enter connect  number+Enter pick  type to filter  Esc clear  q quit";
/// The help shown when the user may reach no host.
const HELP_EMPTY: &str = "q quit";

const SGR_RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const REVERSE: &str = "\x1b[7m";
const DIM_REVERSE: &str = "\x1b[2;7m";

/// One screen row before encoding: plain text plus the attributes for all of it.
struct Line {
    text: String,
    style: &'static str,
    /// Pad with spaces to the full width (so a reverse-video bar spans the screen).
    fill: bool,
}

impl Line {
    fn plain(text: String) -> Line {
        Line::styled(text, "")
    }

    fn styled(text: String, style: &'static str) -> Line {
        Line {
            text,
            style,
            fill: false,
        }
    }
}

/// Turns successive model states into the bytes to send, remembering what is on screen.
pub struct Renderer {
    cols: usize,
    rows: usize,
    /// Widest content of each column over all items, headers included.
    natural: [usize; 5],
    /// The alternate screen is on.
    entered: bool,
    /// The next frame clears the screen and draws every row.
    full: bool,
    /// Bytes of each row as last drawn.
    prev: Vec<Vec<u8>>,
}

impl Renderer {
    /// A renderer for `items` on a `cols` x `rows` screen; the first frame is a full one.
    pub fn new(items: &[MenuItem], cols: u16, rows: u16) -> Renderer {
        let mut natural = HEADERS.map(width);
        natural[0] = natural[0].max(items.len().to_string().len());
        for item in items {
            let suffix = suffix(item).map_or(0, width);
            let cells = cells(item);
            natural[1] = natural[1].max(width(&cells[0]) + suffix);
            for (n, cell) in natural[2..].iter_mut().zip(&cells[1..]) {
                *n = (*n).max(width(cell));
            }
        }
        Renderer {
            cols: usize::from(cols),
            rows: usize::from(rows),
            natural,
            entered: false,
            full: true,
            prev: Vec::new(),
        }
    }

    /// Adopts a new screen size; the next frame is a full redraw.
    pub fn resize(&mut self, cols: u16, rows: u16) {
        self.cols = usize::from(cols);
        self.rows = usize::from(rows);
        self.full = true;
    }

    /// Makes the next frame a full redraw.
    pub fn invalidate(&mut self) {
        self.full = true;
    }

    /// The bytes that bring the screen up to date with `model`.
    pub fn render(&mut self, model: &Model) -> Vec<u8> {
        let mut out = String::new();
        if !self.entered {
            out.push_str("\x1b[?1049h");
            self.entered = true;
            self.full = true;
        }
        out.push_str("\x1b[?25l");
        if self.full {
            out.push_str(SGR_RESET);
            out.push_str("\x1b[H\x1b[2J");
            self.prev.clear();
        }
        let (lines, cursor) = self.compose(model);
        let mut bytes = out.into_bytes();
        let mut drawn = Vec::with_capacity(lines.len());
        for (row, line) in lines.iter().enumerate() {
            let last = row + 1 == lines.len();
            let encoded = self.encode(line, last);
            if self.full || self.prev.get(row) != Some(&encoded) {
                bytes.extend_from_slice(format!("\x1b[{};1H", row + 1).as_bytes());
                bytes.extend_from_slice(&encoded);
            }
            drawn.push(encoded);
        }
        self.prev = drawn;
        self.full = false;
        if let Some(col) = cursor {
            bytes.extend_from_slice(format!("\x1b[2;{}H\x1b[?25h", col + 1).as_bytes());
        }
        bytes
    }

    /// Bytes that give the terminal back: attributes reset, screen cleared, cursor shown,
    /// alternate screen left. A later frame starts over with a full redraw.
    pub fn leave(&mut self) -> Vec<u8> {
        self.entered = false;
        self.full = true;
        format!("{SGR_RESET}\x1b[H\x1b[2J\x1b[?25h\x1b[?1049l").into_bytes()
    }

    /// One row's bytes: attributes, text cut to the width, then erase-to-end-of-line unless
    /// the text reaches the margin (where erasing would remove the last character).
    fn encode(&self, line: &Line, last: bool) -> Vec<u8> {
        // Keep the bottom-right cell free so no terminal ever scrolls.
        let limit = if last {
            self.cols.saturating_sub(1)
        } else {
            self.cols
        };
        let mut text = truncate(&line.text, limit);
        if line.fill {
            text = pad(&text, limit);
        }
        let mut out = String::new();
        out.push_str(line.style);
        out.push_str(&text);
        if !line.style.is_empty() {
            out.push_str(SGR_RESET);
        }
        if width(&text) < self.cols {
            out.push_str("\x1b[K");
        }
        out.into_bytes()
    }

    /// All rows of the screen, and the column of the input cursor on the filter row.
    fn compose(&self, model: &Model) -> (Vec<Line>, Option<usize>) {
        let cols = self.cols;
        if cols == 0 || self.rows == 0 {
            return (Vec::new(), None);
        }
        let items = model.items();
        let count = format!("{} of {}", model.visible().len(), items.len());
        let heading = format!("Bastion — hosts for {}", model.user());
        let mut lines = vec![Line::styled(title(&heading, &count, cols), BOLD)];
        let body_rows = self.rows.saturating_sub(CHROME_ROWS);
        let mut cursor = None;
        let help = if items.is_empty() {
            lines.push(Line::plain(String::new()));
            let text = format!(
                "No hosts available for {} — ask an administrator for access.",
                model.user()
            );
            lines.extend(wrap(&text, cols).into_iter().map(Line::plain));
            HELP_EMPTY
        } else {
            let (input, at) = input_line(model, cols);
            lines.push(Line::plain(input));
            cursor = Some(at);
            let widths = column_widths(self.natural, cols);
            lines.push(Line::styled(
                row_text(HEADERS.map(String::from), &widths),
                BOLD,
            ));
            lines.extend(self.body(model, &widths, body_rows));
            HELP
        };
        let status = match model.message() {
            Some(msg) => Line::styled(msg.to_string(), BOLD),
            None => Line::plain(help.to_string()),
        };
        lines.truncate(self.rows - 1);
        lines.resize_with(self.rows - 1, || Line::plain(String::new()));
        lines.push(status);
        if self.rows < 3 {
            cursor = None;
        }
        (lines, cursor)
    }

    /// The table rows in view.
    fn body(&self, model: &Model, widths: &[usize; 5], body_rows: usize) -> Vec<Line> {
        let visible = model.visible();
        if visible.is_empty() {
            let text = format!("  No hosts match \"{}\"", sanitize(model.filter()));
            return vec![Line::styled(text, DIM)];
        }
        let items = model.items();
        let end = visible.len().min(model.top() + body_rows);
        let mut lines = Vec::with_capacity(body_rows);
        for pos in model.top()..end {
            let item = &items[visible[pos]];
            let [host, login, address, groups] = cells(item);
            let host = match suffix(item) {
                None => host,
                Some(s) => with_suffix(&host, s, widths[1]),
            };
            let text = row_text(
                [(pos + 1).to_string(), host, login, address, groups],
                widths,
            );
            let selected = pos == model.cursor();
            let style = match (selected, item.within_hours) {
                (true, true) => REVERSE,
                (true, false) => DIM_REVERSE,
                (false, false) => DIM,
                (false, true) => "",
            };
            lines.push(Line {
                text,
                style,
                fill: selected,
            });
        }
        lines
    }
}

/// What follows the host name: why it cannot be used now, or that it must be asked for.
fn suffix(item: &MenuItem) -> Option<&'static str> {
    match (item.within_hours, item.needs_request) {
        (false, _) => Some(OUTSIDE),
        (true, true) => Some(REQUEST),
        (true, false) => None,
    }
}

/// An item's host, login, address and groups, safe to print.
fn cells(item: &MenuItem) -> [String; 4] {
    [
        sanitize(&item.host),
        sanitize(&item.login),
        sanitize(&item.address),
        sanitize(&item.groups.join(", ")),
    ]
}

/// `left` and `right` on one line of `cols`: `left` is cut first, and `right` is dropped when
/// too little of `left` would remain.
fn title(left: &str, right: &str, cols: usize) -> String {
    let (wl, wr) = (width(left), width(right));
    if wl + 1 + wr <= cols {
        format!("{left}{}{right}", " ".repeat(cols - wl - wr))
    } else if cols >= wr + 1 + MIN_COL {
        format!("{} {right}", fit(left, cols - wr - 1))
    } else {
        truncate(left, cols)
    }
}

/// The filter row (or the number being typed), and where the input cursor goes on it.
fn input_line(model: &Model, cols: usize) -> (String, usize) {
    let (label, typed) = if model.number().is_empty() {
        ("Filter: ", sanitize(model.filter()))
    } else {
        ("Pick number: ", model.number().to_string())
    };
    let room = cols.saturating_sub(width(label) + 1);
    let text = format!("{label}{}", truncate_left(&typed, room));
    let text = truncate(&text, cols);
    let at = width(&text).min(cols.saturating_sub(1));
    (text, at)
}

/// One table row: each shown column fitted to its width, separated by spaces.
fn row_text(cells: [String; 5], widths: &[usize; 5]) -> String {
    let mut parts = Vec::with_capacity(5);
    for (i, (cell, &w)) in cells.iter().zip(widths).enumerate() {
        if w == 0 && i > 0 {
            continue;
        }
        parts.push(if i == 0 {
            pad_left(cell, w)
        } else {
            fit(cell, w)
        });
    }
    parts.join(&" ".repeat(SEP)).trim_end().to_string()
}

/// Widths for the five columns within `avail` columns (0 hides a column). The number keeps
/// its width; columns are dropped from the right while even narrow ones would not fit.
/// Host, login and address share the room fairly, short ones getting their full width
/// first; groups, the least useful, get what is left (but at least a narrow column).
fn column_widths(natural: [usize; 5], avail: usize) -> [usize; 5] {
    let narrow = |i: usize| natural[i].min(MIN_COL);
    let mut shown = 5;
    while shown > 2 {
        let need = natural[0] + (1..shown).map(narrow).sum::<usize>() + SEP * (shown - 1);
        if need <= avail {
            break;
        }
        shown -= 1;
    }
    let mut widths = [0; 5];
    widths[0] = natural[0];
    let mut remaining = avail.saturating_sub(natural[0] + SEP * (shown - 1));
    let reserved = if shown == 5 { narrow(4) } else { 0 };
    remaining -= reserved.min(remaining);
    let mut order: Vec<usize> = (1..shown.min(4)).collect();
    order.sort_by_key(|&i| natural[i]);
    let n = order.len();
    for (k, &i) in order.iter().enumerate() {
        widths[i] = natural[i].min(remaining / (n - k));
        remaining -= widths[i];
    }
    if shown == 5 {
        widths[4] = natural[4].min(remaining + reserved);
    }
    widths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fit_and_share_fairly() {
        let w = column_widths([3, 60, 5, 15, 40], 80);
        assert_eq!(w, [3, 43, 5, 15, 6]);
        let w = column_widths([3, 30, 5, 15, 40], 80);
        assert_eq!(w, [3, 30, 5, 15, 19]);
        let w = column_widths([3, 60, 40, 50, 40], 80);
        assert_eq!(w, [3, 21, 21, 21, 6]);
    }

    #[test]
    fn columns_all_natural_when_room() {
        assert_eq!(column_widths([2, 10, 5, 8, 6], 200), [2, 10, 5, 8, 6]);
    }

    #[test]
    fn columns_dropped_from_the_right_when_narrow() {
        let w = column_widths([3, 30, 8, 15, 20], 20);
        assert_eq!(w[4], 0);
        assert_eq!(w[3], 0);
        assert!(w.iter().sum::<usize>() + SEP * 2 <= 20, "{w:?}");
        let w = column_widths([3, 30, 8, 15, 20], 0);
        assert_eq!(w[2..], [0, 0, 0]);
    }

    #[test]
    fn title_keeps_the_count_visible() {
        assert_eq!(title("Bastion", "1 of 2", 20), "Bastion       1 of 2");
        assert_eq!(
            title("Bastion hosts for alice", "1 of 2", 20),
            "Bastion host… 1 of 2"
        );
        assert_eq!(title("Bastion hosts", "1 of 2", 12), "Bastion hos…");
        assert_eq!(title("Bastion", "1 of 2", 4), "Bas…");
    }
}
