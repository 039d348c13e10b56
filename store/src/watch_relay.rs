//! Watching a session that another node serves: its output relayed through the database.
//!
//! A live session's output exists only in the process that proxies it. When `bastion watch` or
//! the console on node B asks for a session node A serves, B opens a *feed*
//! ([`Store::open_watch_feed`]): a row naming the session, the serving node, and how long the
//! watcher still wants it. A's heartbeat task finds the feeds wanted from it
//! ([`Store::wanted_watch_feeds`]), and for each starts copying the session's screen and then
//! every output chunk into `watch_chunks` ([`Store::push_watch_chunk`]); B reads them in
//! order and deletes what it has read ([`Store::take_watch_chunks`]). B renews the feed every
//! few seconds while its watcher is there; when it stops renewing (the watcher left, or B
//! died), A stops copying and drops the feed. The session ending is a last chunk marked
//! `ended`.
//!
//! Why the database and not a node-to-node connection: the nodes already share it and trust
//! it, so this adds no listener, no certificates and no credentials between nodes, and it
//! works through the same firewall rules. It costs a write per batch of output (A batches
//! what arrives within ~50 ms) and a read per poll on B, only while somebody watches. Output is
//! stored as hex text (the store's values are text or numbers on both engines; chunks are
//! small and short-lived).

use super::{now_ts, Result, Store};
use crate::db::params;

/// A feed this node must fill: another node's watcher of session `session`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchFeed {
    pub id: i64,
    pub session: i64,
}

/// What a watcher reads from its feed: the terminal size once the serving node started the
/// feed, then output chunks in order; `ended` once the session is over (or the feed is gone).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FeedChunks {
    pub size: Option<(u32, u32)>,
    pub chunks: Vec<(i64, Vec<u8>)>,
    pub ended: bool,
}

impl Store {
    /// Opens a feed of session `session`, served by `node`, wanted for `for_secs` seconds
    /// unless renewed; returns its id.
    pub fn open_watch_feed(&self, session: i64, node: &str, for_secs: f64) -> Result<i64> {
        let row = self.conn().query_opt(
            "INSERT INTO watch_feeds(session, node, wanted_until) VALUES (?1, ?2, ?3) RETURNING id",
            params![session, node, now_ts() + for_secs],
        )?;
        row.expect("INSERT … RETURNING gives a row").get(0)
    }

    /// The watcher is still there: keep feed `feed` for `for_secs` more seconds. False when
    /// the feed is gone (the serving node dropped it).
    pub fn renew_watch_feed(&self, feed: i64, for_secs: f64) -> Result<bool> {
        let changed = self.conn().execute(
            "UPDATE watch_feeds SET wanted_until = ?2 WHERE id = ?1",
            params![feed, now_ts() + for_secs],
        )?;
        Ok(changed > 0)
    }

    /// Feeds other nodes want from this one, still wanted now.
    pub fn wanted_watch_feeds(&self) -> Result<Vec<WatchFeed>> {
        let Some(node) = self.node() else {
            return Ok(Vec::new());
        };
        let rows = self.conn().query(
            "SELECT id, session FROM watch_feeds WHERE node = ?1 AND wanted_until > ?2 ORDER BY id",
            params![node, now_ts()],
        )?;
        rows.iter()
            .map(|r| {
                Ok(WatchFeed {
                    id: r.get(0)?,
                    session: r.get(1)?,
                })
            })
            .collect()
    }

    /// Whether feed `feed` is still wanted (its watcher renewed it in time).
    pub fn watch_feed_wanted(&self, feed: i64) -> Result<bool> {
        let row = self.conn().query_opt(
            "SELECT 1 FROM watch_feeds WHERE id = ?1 AND wanted_until > ?2",
            params![feed, now_ts()],
        )?;
        Ok(row.is_some())
    }

    /// The serving node starts feed `feed`: the terminal's size and the screen so far (chunk 0).
    pub fn start_watch_feed(&self, feed: i64, cols: u32, rows: u32, screen: &[u8]) -> Result<()> {
        self.conn().execute(
            "UPDATE watch_feeds SET term_cols = ?2, term_rows = ?3 WHERE id = ?1",
            params![feed, cols, rows],
        )?;
        self.push_watch_chunk(feed, 0, screen, false)
    }

    /// Appends output chunk `seq` (1, 2, … after the screen) to feed `feed`; `ended` marks the
    /// session's end.
    pub fn push_watch_chunk(&self, feed: i64, seq: i64, data: &[u8], ended: bool) -> Result<()> {
        self.conn().execute(
            "INSERT INTO watch_chunks(feed, seq, data, ended, at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![feed, seq, hex::encode(data), ended, now_ts()],
        )?;
        Ok(())
    }

    /// Reads (and deletes) the chunks of feed `feed` after `after` in order. A feed that is
    /// gone reads as ended.
    pub fn take_watch_chunks(&self, feed: i64, after: i64) -> Result<FeedChunks> {
        let mut conn = self.conn();
        let Some(head) = conn.query_opt(
            "SELECT term_cols, term_rows FROM watch_feeds WHERE id = ?1",
            params![feed],
        )?
        else {
            return Ok(FeedChunks {
                ended: true,
                ..FeedChunks::default()
            });
        };
        let cols: Option<i64> = head.get(0)?;
        let rows: Option<i64> = head.get(1)?;
        let mut out = FeedChunks {
            size: cols.zip(rows).map(|(c, r)| (c as u32, r as u32)),
            ..FeedChunks::default()
        };
        let rows = conn.query(
            "SELECT seq, data, ended FROM watch_chunks WHERE feed = ?1 AND seq > ?2 ORDER BY seq",
            params![feed, after],
        )?;
        for r in &rows {
            let seq: i64 = r.get(0)?;
            let data: String = r.get(1)?;
            let data = hex::decode(&data).map_err(|e| {
                crate::StoreError::Invalid(format!("watch chunk {feed}/{seq}: {e}"))
            })?;
            out.chunks.push((seq, data));
            out.ended |= r.get::<i64>(2)? != 0;
        }
        if let Some((last, _)) = out.chunks.last() {
            conn.execute(
                "DELETE FROM watch_chunks WHERE feed = ?1 AND seq <= ?2",
                params![feed, *last],
            )?;
        }
        Ok(out)
    }

    /// Drops feed `feed` and whatever of it was not read.
    pub fn close_watch_feed(&self, feed: i64) -> Result<()> {
        let mut conn = self.conn();
        conn.execute("DELETE FROM watch_chunks WHERE feed = ?1", params![feed])?;
        conn.execute("DELETE FROM watch_feeds WHERE id = ?1", params![feed])?;
        Ok(())
    }

    /// Drops feeds nobody has wanted for `stale_for` seconds (their watcher's node died), with
    /// their chunks.
    pub fn drop_stale_watch_feeds(&self, stale_for: f64) -> Result<u64> {
        let mut conn = self.conn();
        let cutoff = now_ts() - stale_for;
        conn.execute(
            "DELETE FROM watch_chunks WHERE feed IN
             (SELECT id FROM watch_feeds WHERE wanted_until < ?1)",
            params![cutoff],
        )?;
        conn.execute(
            "DELETE FROM watch_feeds WHERE wanted_until < ?1",
            params![cutoff],
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::{both_backends, store_on, Backend};
    use crate::FeedChunks;

    fn a_feed_carries_the_screen_then_chunks_in_order_once(b: Backend) {
        let (_dir, s, _vk) = store_on(b);
        s.set_node("node-a");
        let feed = s.open_watch_feed(42, "node-a", 10.0).unwrap();
        let wanted = s.wanted_watch_feeds().unwrap();
        assert_eq!(wanted.len(), 1);
        assert_eq!((wanted[0].id, wanted[0].session), (feed, 42));
        // Nothing yet: the serving node has not started it.
        assert_eq!(
            s.take_watch_chunks(feed, -1).unwrap(),
            FeedChunks::default()
        );
        s.start_watch_feed(feed, 120, 40, b"\x1b[Hscreen").unwrap();
        s.push_watch_chunk(feed, 1, &[0xff, 0x00, b'a'], false)
            .unwrap();
        let got = s.take_watch_chunks(feed, -1).unwrap();
        assert_eq!(got.size, Some((120, 40)));
        assert_eq!(
            got.chunks,
            vec![(0, b"\x1b[Hscreen".to_vec()), (1, vec![0xff, 0x00, b'a'])]
        );
        assert!(!got.ended);
        // Read chunks are gone; the end marker ends the feed.
        s.push_watch_chunk(feed, 2, b"bye", true).unwrap();
        let got = s.take_watch_chunks(feed, 1).unwrap();
        assert_eq!(got.chunks, vec![(2, b"bye".to_vec())]);
        assert!(got.ended);
        assert!(s.take_watch_chunks(feed, 2).unwrap().chunks.is_empty());
        s.close_watch_feed(feed).unwrap();
        assert!(s.take_watch_chunks(feed, 2).unwrap().ended);
    }

    fn a_feed_nobody_renews_is_no_longer_wanted_and_is_dropped(b: Backend) {
        let (_dir, s, _vk) = store_on(b);
        s.set_node("node-a");
        let other = s.open_watch_feed(1, "node-b", 10.0).unwrap();
        let gone = s.open_watch_feed(2, "node-a", -5.0).unwrap();
        assert!(
            s.wanted_watch_feeds().unwrap().is_empty(),
            "node-b's feed, and a lapsed one"
        );
        assert!(!s.watch_feed_wanted(gone).unwrap());
        assert!(s.watch_feed_wanted(other).unwrap());
        assert!(s.renew_watch_feed(gone, 10.0).unwrap());
        assert!(s.watch_feed_wanted(gone).unwrap());
        s.renew_watch_feed(gone, -120.0).unwrap();
        s.push_watch_chunk(gone, 0, b"x", false).unwrap();
        assert_eq!(s.drop_stale_watch_feeds(60.0).unwrap(), 1);
        assert!(!s.renew_watch_feed(gone, 10.0).unwrap());
        assert!(s.watch_feed_wanted(other).unwrap());
    }

    both_backends!(
        a_feed_carries_the_screen_then_chunks_in_order_once,
        a_feed_nobody_renews_is_no_longer_wanted_and_is_dropped,
    );
}
