//! The command line as the target's echo draws it: `char` cells and a cursor.
//!
//! Only what line editors (readline, libedit, zle) use to redraw the command line is modelled:
//! printing, carriage return, backspace, horizontal cursor moves, erasing and inserting or
//! deleting characters. Moving to another row starts a new, empty row.
//!
//! When the terminal width is known, a line longer than the terminal is one logical line over
//! several physical rows, as the terminal wraps it: carriage return, backspace, column moves and
//! erase-to-end act on the physical row; cursor up/down (and a line feed) that stay within the
//! wrapped line move between its rows instead of leaving it.

/// Most cells a row holds; printing beyond is dropped, so memory stays bounded.
pub(crate) const MAX_CELLS: usize = 16 * 1024;

/// A row of cells with a cursor. Cells past the end are blank; the cursor may sit past the end.
#[derive(Debug, Default, Clone)]
pub(crate) struct EchoLine {
    cells: Vec<char>,
    /// Logical position: physical row within the line × width + column.
    cursor: usize,
    /// Terminal columns; 0 when unknown (one unbounded row).
    width: usize,
    /// The last column was just written: the terminal wraps on the next printed character.
    pending_wrap: bool,
    /// One past the furthest cell ever printed on this line. The rows up to it stay part of
    /// the line when erased: a line editor that blanks a continuation row and then moves down
    /// into it (bash does, deleting back across a wrap) is still on its own line.
    reach: usize,
}

impl EchoLine {
    /// The cursor column, 0-based.
    pub(crate) fn cursor(&self) -> usize {
        self.cursor
    }

    /// Whether the row holds nothing but blanks.
    pub(crate) fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| *c == ' ')
    }

    /// Sets the terminal width (0: unknown). Takes effect for what is drawn next.
    pub(crate) fn set_width(&mut self, width: usize) {
        self.width = width;
        self.pending_wrap = false;
    }

    /// Where the terminal's cursor really is (the last column while a wrap is pending).
    fn physical(&self) -> usize {
        if self.pending_wrap {
            self.cursor - 1
        } else {
            self.cursor
        }
    }

    /// Start of the physical row holding `pos`, and its column.
    fn row_start(&self, pos: usize) -> (usize, usize) {
        if self.width == 0 {
            (0, pos)
        } else {
            (pos - pos % self.width, pos % self.width)
        }
    }

    /// End (exclusive) of the physical row holding `pos`.
    fn row_end(&self, pos: usize) -> usize {
        if self.width == 0 {
            MAX_CELLS + 1
        } else {
            (self.row_start(pos).0 + self.width).min(MAX_CELLS)
        }
    }

    /// Writes `c` at the cursor, overwriting, and moves right (wrapping at the last column).
    pub(crate) fn print(&mut self, c: char) {
        self.pending_wrap = false;
        if self.cursor >= MAX_CELLS {
            return;
        }
        if self.cursor >= self.cells.len() {
            self.cells.resize(self.cursor, ' ');
            self.cells.push(c);
        } else {
            self.cells[self.cursor] = c;
        }
        self.cursor += 1;
        self.reach = self.reach.max(self.cursor);
        self.pending_wrap = self.width > 0 && self.cursor.is_multiple_of(self.width);
    }

    /// Carriage return: to column 0 of the physical row.
    pub(crate) fn carriage_return(&mut self) {
        self.cursor = self.row_start(self.physical()).0;
        self.pending_wrap = false;
    }

    /// Moves left `n` columns, stopping at column 0 (backspace, `CSI n D`).
    pub(crate) fn left(&mut self, n: usize) {
        let pos = self.physical();
        let (_, col) = self.row_start(pos);
        self.cursor = pos - n.min(col);
        self.pending_wrap = false;
    }

    /// Moves right `n` columns, stopping at the last column (`CSI n C`).
    pub(crate) fn right(&mut self, n: usize) {
        let pos = self.physical();
        let last = self.row_end(pos) - 1;
        self.cursor = pos.saturating_add(n).min(last.max(pos)).min(MAX_CELLS);
        self.pending_wrap = false;
    }

    /// Moves to column `col`, 0-based (`CSI n G`).
    pub(crate) fn set_column(&mut self, col: usize) {
        let (start, _) = self.row_start(self.physical());
        let col = if self.width == 0 {
            col
        } else {
            col.min(self.width - 1)
        };
        self.cursor = (start + col).min(MAX_CELLS);
        self.pending_wrap = false;
    }

    /// Moves up `n` rows if they belong to this wrapped line; false when the move leaves it.
    pub(crate) fn up(&mut self, n: usize) -> bool {
        let pos = self.physical();
        match n.checked_mul(self.width) {
            Some(d) if self.width > 0 && d <= pos => {
                self.cursor = pos - d;
                self.pending_wrap = false;
                true
            }
            _ => false,
        }
    }

    /// Moves down `n` rows if the wrapped line continues there; false when the move leaves it.
    pub(crate) fn down(&mut self, n: usize) -> bool {
        let pos = self.physical();
        match n.checked_mul(self.width) {
            Some(d) if self.width > 0 && self.row_start(pos).0 + d < self.end_of_rows() => {
                self.cursor = pos + d;
                self.pending_wrap = false;
                true
            }
            _ => false,
        }
    }

    /// One past the last cell of the rows this line has occupied.
    fn end_of_rows(&self) -> usize {
        self.reach.max(self.cells.len())
    }

    /// Moves to the next tab stop (every 8 columns).
    pub(crate) fn tab(&mut self) {
        self.right(8 - self.cursor % 8);
    }

    /// Erases from the cursor to the end of the physical row (`CSI K`).
    pub(crate) fn erase_to_end(&mut self) {
        let pos = self.physical();
        let end = self.row_end(pos);
        if end >= self.cells.len() {
            self.cells.truncate(pos);
        } else {
            self.cells[pos..end].fill(' ');
        }
    }

    /// Erases from the cursor to the end of the line, rows below included (`CSI J`).
    pub(crate) fn erase_below(&mut self) {
        self.cells.truncate(self.physical());
    }

    /// Erases from the start of the row through the cursor (`CSI 1 K`).
    pub(crate) fn erase_to_start(&mut self) {
        let end = (self.cursor + 1).min(self.cells.len());
        self.cells[..end].fill(' ');
    }

    /// Blanks the whole row; the cursor stays (`CSI 2 K`).
    pub(crate) fn erase_all(&mut self) {
        self.cells.clear();
    }

    /// Blanks `n` cells from the cursor without moving anything (`CSI n X`).
    pub(crate) fn erase_chars(&mut self, n: usize) {
        let end = self.cursor.saturating_add(n).min(self.cells.len());
        if self.cursor < end {
            self.cells[self.cursor..end].fill(' ');
        }
    }

    /// Deletes `n` cells at the cursor, pulling the rest left (`CSI n P`).
    pub(crate) fn delete_chars(&mut self, n: usize) {
        if self.cursor < self.cells.len() {
            let end = self.cursor.saturating_add(n).min(self.cells.len());
            self.cells.drain(self.cursor..end);
        }
    }

    /// Inserts `n` blanks at the cursor, pushing the rest right (`CSI n @`).
    pub(crate) fn insert_blanks(&mut self, n: usize) {
        if self.cursor < self.cells.len() {
            let n = n.min(MAX_CELLS - self.cells.len());
            self.cells
                .splice(self.cursor..self.cursor, std::iter::repeat_n(' ', n));
            self.cells.truncate(MAX_CELLS);
        }
    }

    /// A new row below: empty, the cursor keeps its column (a bare line feed).
    pub(crate) fn new_row(&mut self) {
        self.cursor = self.row_start(self.physical()).1;
        self.pending_wrap = false;
        self.cells.clear();
        self.reach = 0;
    }

    /// Empty row, cursor at column 0.
    pub(crate) fn reset(&mut self) {
        self.cells.clear();
        self.cursor = 0;
        self.pending_wrap = false;
        self.reach = 0;
    }

    /// The text from column `from` to the end, trailing blanks removed.
    pub(crate) fn text_from(&self, from: usize) -> String {
        let s: String = self.cells.get(from..).unwrap_or(&[]).iter().collect();
        s.trim_end().to_string()
    }

    /// The text of columns `..to`, as it stands.
    pub(crate) fn text_before(&self, to: usize) -> String {
        let to = to.min(self.cells.len());
        self.cells[..to].iter().collect()
    }

    /// The whole row, trailing blanks removed.
    pub(crate) fn text(&self) -> String {
        self.text_from(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(s: &str) -> EchoLine {
        let mut l = EchoLine::default();
        s.chars().for_each(|c| l.print(c));
        l
    }

    #[test]
    fn print_overwrites_and_pads() {
        let mut l = line("abc");
        l.left(2);
        l.print('X');
        assert_eq!(l.text(), "aXc");
        l.right(4);
        l.print('Z');
        assert_eq!(l.text(), "aXc   Z");
        assert_eq!(l.cursor(), 7);
    }

    #[test]
    fn erase_insert_delete() {
        let mut l = line("hello world");
        l.set_column(5);
        l.delete_chars(1);
        assert_eq!(l.text(), "helloworld");
        l.insert_blanks(2);
        assert_eq!(l.text(), "hello  world");
        l.erase_chars(7);
        assert_eq!(l.text(), "hello");
        let mut l = line("hello world");
        l.set_column(5);
        l.erase_to_end();
        assert_eq!(l.text(), "hello");
        l.set_column(1);
        l.erase_to_start();
        assert_eq!(l.text(), "  llo");
        l.erase_all();
        assert!(l.is_blank());
        assert_eq!(l.cursor(), 1);
    }

    #[test]
    fn cursor_limits() {
        let mut l = line("ab");
        l.left(10);
        assert_eq!(l.cursor(), 0);
        l.right(usize::MAX);
        assert_eq!(l.cursor(), MAX_CELLS);
        l.print('x');
        assert_eq!(l.text(), "ab");
        l.carriage_return();
        l.tab();
        assert_eq!(l.cursor(), 8);
    }

    #[test]
    fn bounded() {
        let mut l = EchoLine::default();
        for _ in 0..(MAX_CELLS + 100) {
            l.print('a');
        }
        assert_eq!(l.text().chars().count(), MAX_CELLS);
        l.set_column(0);
        l.insert_blanks(50);
        assert_eq!(l.text_from(0).chars().count(), MAX_CELLS);
    }

    fn wrapped(width: usize, s: &str) -> EchoLine {
        let mut l = EchoLine::default();
        l.set_width(width);
        s.chars().for_each(|c| l.print(c));
        l
    }

    #[test]
    fn a_line_wider_than_the_terminal_wraps_onto_the_next_row() {
        // readline's wrap at the last column: a space to force the wrap, then CR.
        let mut l = wrapped(10, "$ echo abc");
        l.print(' ');
        l.carriage_return();
        "defg".chars().for_each(|c| l.print(c));
        assert_eq!(l.text(), "$ echo abcdefg");
        // Backspace stops at column 0; going back across the wrap takes cursor-up.
        l.left(10);
        assert_eq!(l.cursor(), 10);
        assert!(l.up(1));
        l.set_column(9);
        l.print('X');
        assert_eq!(l.text(), "$ echo abXdefg");
        assert_eq!(l.cursor(), 10);
        // Erase to the end of the (second) row only.
        assert!(l.down(1));
        l.set_column(2);
        l.erase_to_end();
        assert_eq!(l.text(), "$ echo abXde");
        // Cursor up from the first row leaves the line; down past its last row too.
        l.carriage_return();
        assert!(l.up(1));
        assert!(!l.up(1));
        assert!(l.down(1));
        assert!(!l.down(1));
    }

    #[test]
    fn a_continuation_row_erased_whole_still_belongs_to_the_line() {
        // bash deleting back across the wrap: blank the second row, go up, then down into
        // the blank row and up again (`CR ESC[K ESC[A ... CR LF CR ESC[K ESC[A`).
        let mut l = wrapped(10, "$ echo abcdef");
        l.carriage_return();
        l.erase_to_end();
        assert!(l.up(1));
        assert_eq!(l.text(), "$ echo abc");
        l.carriage_return();
        assert!(l.down(1), "the blank second row is still the line's");
        assert!(l.up(1));
        assert_eq!(l.text(), "$ echo abc");
        // A new row forgets how far the line reached.
        l.new_row();
        assert!(!l.down(1));
    }

    #[test]
    fn carriage_return_after_the_last_column_stays_on_that_row() {
        let mut l = wrapped(5, "abcde");
        l.carriage_return();
        l.print('X');
        assert_eq!(l.text(), "Xbcde");
        l.erase_below();
        assert_eq!(l.text(), "X");
    }

    #[test]
    fn text_slices() {
        let l = line("root@web1:~# ls -l  ");
        assert_eq!(l.text_from(13), "ls -l");
        assert_eq!(l.text_before(13), "root@web1:~# ");
        assert_eq!(l.text_from(100), "");
        assert_eq!(line("äö€").text_from(1), "ö€");
    }
}
