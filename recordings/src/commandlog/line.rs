//! One terminal row as the target's echo draws it: `char` cells and a cursor.
//!
//! Only what line editors (readline, libedit, zle) use to redraw the command line is modelled:
//! printing, carriage return, backspace, horizontal cursor moves, erasing and inserting or
//! deleting characters. Moving to another row starts a new, empty row.

/// Most cells a row holds; printing beyond is dropped, so memory stays bounded.
pub(crate) const MAX_CELLS: usize = 16 * 1024;

/// A row of cells with a cursor. Cells past the end are blank; the cursor may sit past the end.
#[derive(Debug, Default, Clone)]
pub(crate) struct EchoLine {
    cells: Vec<char>,
    cursor: usize,
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

    /// Writes `c` at the cursor, overwriting, and moves right.
    pub(crate) fn print(&mut self, c: char) {
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
    }

    /// Carriage return: to column 0.
    pub(crate) fn carriage_return(&mut self) {
        self.cursor = 0;
    }

    /// Moves left `n` columns, stopping at column 0 (backspace, `CSI n D`).
    pub(crate) fn left(&mut self, n: usize) {
        self.cursor = self.cursor.saturating_sub(n);
    }

    /// Moves right `n` columns (`CSI n C`).
    pub(crate) fn right(&mut self, n: usize) {
        self.cursor = self.cursor.saturating_add(n).min(MAX_CELLS);
    }

    /// Moves to column `col`, 0-based (`CSI n G`).
    pub(crate) fn set_column(&mut self, col: usize) {
        self.cursor = col.min(MAX_CELLS);
    }

    /// Moves to the next tab stop (every 8 columns).
    pub(crate) fn tab(&mut self) {
        self.right(8 - self.cursor % 8);
    }

    /// Erases from the cursor to the end of the row (`CSI K`).
    pub(crate) fn erase_to_end(&mut self) {
        self.cells.truncate(self.cursor);
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
        self.cells.clear();
    }

    /// Empty row, cursor at column 0.
    pub(crate) fn reset(&mut self) {
        self.cells.clear();
        self.cursor = 0;
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

    #[test]
    fn text_slices() {
        let l = line("root@web1:~# ls -l  ");
        assert_eq!(l.text_from(13), "ls -l");
        assert_eq!(l.text_before(13), "root@web1:~# ");
        assert_eq!(l.text_from(100), "");
        assert_eq!(line("äö€").text_from(1), "ö€");
    }
}
