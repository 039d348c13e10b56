//! Which database the benchmarked bastion keeps its store in (issue 19): the embedded SQLite
//! file (the default, nothing to set up) or PostgreSQL (several nodes on one database).
//!
//! Why both in one run: the machine's other load is not controlled, so a PostgreSQL figure
//! only means something next to the SQLite figure measured in the same run, interleaved. The
//! PostgreSQL server is the tests' own throwaway cluster (`pgtest`: Debian's PostgreSQL 15 on
//! 127.0.0.1, one new database per bastion), so the bench needs nothing set up either. That
//! cluster runs with `fsync=off` and `synchronous_commit=off`; the bastion's SQLite store does
//! not wait for the disk on commit either (WAL, `synchronous=NORMAL`), so neither engine's
//! figure includes a disk flush.

use e2e::BastionHome;

/// `--store`: one engine or both.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreArg {
    Sqlite,
    Postgres,
    Both,
}

/// One engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl StoreArg {
    /// The engines to measure, SQLite (the reference) first.
    pub fn engines(self) -> Vec<Engine> {
        match self {
            StoreArg::Sqlite => vec![Engine::Sqlite],
            StoreArg::Postgres => vec![Engine::Postgres],
            StoreArg::Both => vec![Engine::Sqlite, Engine::Postgres],
        }
    }
}

impl Engine {
    /// How rows name it.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "SQLite",
            Engine::Postgres => "PostgreSQL",
        }
    }

    /// Points a freshly initialised bastion home at this engine: for PostgreSQL, a new
    /// database in the shared throwaway cluster (`[store] url` in bastion.toml). Returns the
    /// database URL (None for SQLite, whose file is `bastion.db` in the data directory).
    pub fn attach(self, home: &BastionHome) -> Option<String> {
        match self {
            Engine::Sqlite => None,
            Engine::Postgres => {
                let url = pgtest::database();
                home.set(&format!("[store]\nurl = \"{url}\""));
                Some(url)
            }
        }
    }
}
