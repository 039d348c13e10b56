//! Unit tests of the console's paged, scoped queries (`browse.rs`), kept beside it so that file stays readable.

use super::*;
use crate::{NewCommand, NewSession};

fn session(store: &Store, user: &str, host: &str) -> i64 {
    store
        .start_session(&NewSession {
            user,
            source: "127.0.0.1",
            host,
            login: "root",
            kind: "shell",
            command: None,
            recording: None,
        })
        .unwrap()
}

fn command(store: &Store, sid: i64, host: &str, text: &str, blocked: bool) {
    store
        .log_command(&NewCommand {
            session_id: sid,
            user: "alice",
            host,
            login: "root",
            offset: 1.5,
            command: text,
            exit_status: None,
            blocked,
            origin: "shell",
        })
        .unwrap();
}

fn keyset_pages_walk_the_list_both_ways_like_offsets_do(b: Backend) {
    let (_dir, store, _) = crate::testkit::store_on(b);
    for i in 0..7 {
        session(&store, "alice", if i % 2 == 0 { "web1" } else { "db1" });
    }
    for sort in [SessionSort::Newest, SessionSort::Oldest] {
        let page = |offset: u64, cursor: Option<SessionCursor>| {
            let q = SessionQuery {
                sort,
                offset,
                cursor,
                limit: 3,
                ..Default::default()
            };
            let p = store.browse_sessions(&q).unwrap();
            p.items.iter().map(|s| s.id).collect::<Vec<_>>()
        };
        let all = store
            .browse_sessions(&SessionQuery {
                sort,
                limit: 50,
                ..Default::default()
            })
            .unwrap()
            .items;
        let at = |i: usize, backward: bool| {
            SessionCursor::parse(&SessionCursor::text_of(&all[i]), backward)
        };
        // The page after row 2 is the page at offset 3; the page before row 3 is offset 0.
        assert_eq!(page(3, at(2, false)), page(3, None), "{sort:?}");
        assert_eq!(page(6, at(5, false)), page(6, None), "{sort:?}");
        assert_eq!(page(0, at(3, true)), page(0, None), "{sort:?}");
        assert_eq!(page(3, at(6, true)), page(3, None), "{sort:?}");
    }
    assert!(SessionCursor::parse("x:1", false).is_none());
    assert!(SessionCursor::parse("1.5", false).is_none());
    assert!(SessionCursor::parse("inf:1", false).is_none());
}

fn pages_are_scoped_filtered_and_counted_in_the_query(b: Backend) {
    let (_dir, store, _) = crate::testkit::store_on(b);
    let web: Vec<i64> = (0..5).map(|_| session(&store, "alice", "web1")).collect();
    let db = session(&store, "bob", "db1");
    command(&store, web[0], "web1", "systemctl restart nginx", false);
    command(&store, web[1], "web1", "rm -rf /srv/old", true);
    command(&store, db, "db1", "psql -c 'drop table nginx_logs'", false);

    let scoped = Some(vec!["web1".to_string()]);
    let page = store
        .browse_sessions(&SessionQuery {
            hosts: scoped.clone(),
            limit: 2,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(page.total, 5);
    assert_eq!(
        page.items.iter().map(|s| s.id).collect::<Vec<_>>(),
        [web[4], web[3]]
    );
    let blocked = store
        .browse_sessions(&SessionQuery {
            with_blocked: true,
            limit: 50,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        blocked.items.iter().map(|s| s.id).collect::<Vec<_>>(),
        [web[1]]
    );
    let nobody = store
        .browse_sessions(&SessionQuery {
            hosts: Some(Vec::new()),
            limit: 50,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(nobody.total, 0);

    // "nginx" is in a web1 and a db1 command: the web1 auditor finds only the first.
    let found = store
        .browse_commands(&CommandQuery {
            hosts: scoped.clone(),
            text: Some("NGINX".into()),
            limit: 50,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(found.total, 1);
    assert_eq!(found.items[0].command, "systemctl restart nginx");
    let all = store
        .browse_commands(&CommandQuery {
            text: Some("nginx".into()),
            limit: 50,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(all.total, 2);

    // Audit records are scoped by the host they name.
    for host in ["db1", "web1"] {
        let deny = crate::AuditEvent::PolicyDeny {
            host: host.into(),
            login: None,
            channel: "shell".into(),
            reason: "test".into(),
        };
        store.audit(Some("alice"), None, &deny).unwrap();
    }
    let audit = store
        .browse_audit(&AuditQuery {
            hosts: Some(vec!["db1".into()]),
            limit: 500,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(audit.total, 1);
    assert!(
        audit.items.iter().all(|r| r.detail["host"] == "db1"),
        "{:?}",
        audit.items
    );
    let of_session = store
        .browse_audit(&AuditQuery {
            session: Some(web[1]),
            limit: 500,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(of_session.total, 1, "its command_logged record");
    assert_eq!(of_session.items[0].detail["session"], web[1]);
    assert_eq!(store.session_hosts().unwrap(), ["db1", "web1"]);
}

fn a_common_word_is_paged_newest_first_and_its_count_capped(b: Backend) {
    let (_dir, store, _) = crate::testkit::store_on(b);
    let sid = session(&store, "alice", "web1");
    {
        let mut conn = store.conn();
        for i in 0..(COUNT_CAP + 5) {
            conn.execute(
                "INSERT INTO commands (session_id, \"user\", host, login, ts, \"offset\", command, blocked, origin)
                 VALUES (?1, 'alice', 'web1', 'root', ?2, 0, ?3, 0, 'shell')",
                crate::db::params![sid, i as f64, format!("systemctl status app{i}")],
            )
            .unwrap();
        }
    }
    let page = store
        .browse_commands(&CommandQuery {
            text: Some("systemctl".into()),
            limit: 3,
            ..Default::default()
        })
        .unwrap();
    assert!(page.capped);
    assert_eq!(page.total, COUNT_CAP);
    let newest = format!("systemctl status app{}", COUNT_CAP + 4);
    assert_eq!(page.items[0].command, newest);
    let few = store
        .browse_commands(&CommandQuery {
            text: Some(format!("app{}", COUNT_CAP + 4)),
            limit: 3,
            ..Default::default()
        })
        .unwrap();
    assert_eq!((few.total, few.capped), (1, false));
}

use crate::testkit::{both_backends, Backend};

both_backends!(
    keyset_pages_walk_the_list_both_ways_like_offsets_do,
    pages_are_scoped_filtered_and_counted_in_the_query,
    a_common_word_is_paged_newest_first_and_its_count_capped,
);
