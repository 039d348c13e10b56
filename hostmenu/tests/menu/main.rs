//! Whole-menu tests: keys in, actions and screens out. Screens are checked by replaying the
//! rendered bytes into `vt100`, a terminal model, and reading back what a user would see.

mod input;
mod screen;

use hostmenu::{Menu, MenuItem};

/// One item.
fn item(host: &str, login: &str, address: &str, groups: &[&str], within_hours: bool) -> MenuItem {
    MenuItem {
        host: host.to_string(),
        login: login.to_string(),
        address: address.to_string(),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        within_hours,
        needs_request: host == "db2",
    }
}

/// Twelve items; item 3 (index 3, `db1`) is outside hours.
fn sample() -> Vec<MenuItem> {
    vec![
        item("web1", "alice", "10.0.0.1", &["web", "prod"], true),
        item("web2", "alice", "10.0.0.2", &["web", "prod"], true),
        item(
            "web3-staging",
            "deploy",
            "10.0.2.3",
            &["web", "staging"],
            true,
        ),
        item("db1", "postgres", "10.0.1.1", &["db", "prod"], false),
        item("db2", "postgres", "10.0.1.2", &["db", "prod"], true),
        item("cache1", "alice", "10.0.3.1", &["cache"], true),
        item("mail", "root", "mail.example.com", &["infra"], true),
        item("build-01", "ci", "10.0.4.1", &["build"], true),
        item("build-02", "ci", "10.0.4.2", &["build"], true),
        item("monitor", "alice", "10.0.5.1", &["infra", "prod"], true),
        item("vpn-gw", "admin", "192.168.1.1", &["infra", "EDGE"], true),
        item("backup", "alice", "10.0.6.1", &["infra"], true),
    ]
}

/// `n` items `host-001` … with addresses and groups.
fn many(n: usize) -> Vec<MenuItem> {
    (1..=n)
        .map(|i| {
            let group = if i % 2 == 0 { "even" } else { "odd" };
            item(
                &format!("host-{i:03}"),
                "alice",
                &format!("10.1.{}.{}", i / 256, i % 256),
                &[group],
                true,
            )
        })
        .collect()
}

/// A menu for alice over `items` on 80x24.
fn menu(items: Vec<MenuItem>) -> Menu {
    Menu::new("alice", items, 80, 24)
}

/// A terminal model the rendered bytes are played into.
struct Term {
    vt: vt100::Parser,
}

impl Term {
    /// A terminal of `cols` x `rows`.
    fn new(cols: u16, rows: u16) -> Term {
        Term {
            vt: vt100::Parser::new(rows, cols, 0),
        }
    }

    /// Renders `menu` and plays the bytes in.
    fn draw(&mut self, menu: &mut Menu) -> Vec<u8> {
        let bytes = menu.render();
        self.vt.process(&bytes);
        bytes
    }

    /// The text of each row, trailing spaces removed.
    fn rows(&self) -> Vec<String> {
        let (_, cols) = self.vt.screen().size();
        self.vt
            .screen()
            .rows(0, cols)
            .map(|r| r.trim_end().to_string())
            .collect()
    }

    /// The row whose cells are shown in reverse video, if exactly one row is.
    fn reversed_row(&self) -> Option<String> {
        let (rows, _) = self.vt.screen().size();
        let hits: Vec<u16> = (0..rows).filter(|&r| self.cell_inverse(r, 0)).collect();
        match hits[..] {
            [r] => Some(self.rows()[usize::from(r)].clone()),
            _ => None,
        }
    }

    fn cell_inverse(&self, row: u16, col: u16) -> bool {
        self.vt.screen().cell(row, col).is_some_and(|c| c.inverse())
    }

    /// Columns used on `row` (the last non-blank cell + 1).
    fn used_width(&self, row: u16) -> u16 {
        let (_, cols) = self.vt.screen().size();
        (0..cols)
            .rev()
            .find(|&c| {
                self.vt
                    .screen()
                    .cell(row, c)
                    .is_some_and(|x| x.has_contents() && x.contents() != " ")
            })
            .map_or(0, |c| c + 1)
    }
}

/// Renders `menu` at its size into a fresh terminal and returns the rows.
fn screen_of(menu: &mut Menu, cols: u16, rows: u16) -> Vec<String> {
    let mut t = Term::new(cols, rows);
    t.draw(menu);
    t.rows()
}
