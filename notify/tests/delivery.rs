//! Delivery against real HTTP receivers: a webhook that hangs and one that answers 500 are
//! retried with backoff and reported, while a good webhook gets every message and `send()`
//! returns at once; a full queue drops its oldest; a 4xx is not retried; a robot's error code
//! in a 200 answer counts as a failure; `events` filters.
//!
//! Timing claims are made by order of events (what had arrived when something else happened),
//! never by "took less than N ms". The backoff checks are lower bounds: a retry must not come
//! before its wait is over.

mod common;

use std::time::{Duration, Instant};

use common::{failures, next_failure, settings, Answer, Receiver};
use notify::{EventKind, FailureReason, Notification, Notifier};

fn lockout(n: u32) -> Notification {
    Notification::LoginLockout {
        user: format!("user{n}"),
        source: "192.0.2.1".into(),
        failures: n,
    }
}

fn user_of(body: &serde_json::Value) -> String {
    body["user"].as_str().unwrap().to_string()
}

fn hook(name: &str, url: &str, extra: &str) -> String {
    format!(
        "[[notify.webhook]]\nname = \"{name}\"\nformat = \"generic\"\nurl = \"{url}\"\n{extra}\n"
    )
}

/// The bastion shares one notifier between its connection tasks.
#[test]
fn the_notifier_can_be_shared_between_tasks() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<Notifier>();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_and_failing_webhooks_delay_neither_the_good_one_nor_send() {
    let mut hang = Receiver::start(Answer::Hold("{}")).await;
    let mut broken = Receiver::start(Answer::Status(500)).await;
    let mut good = Receiver::start(Answer::Ok("{}")).await;
    let text = format!(
        "[notify]\n{}{}{}",
        hook(
            "hang",
            &hang.url("/"),
            "timeout = \"2s\"\ntries = 2\nbackoff = \"100ms\""
        ),
        hook("broken", &broken.url("/"), "tries = 3\nbackoff = \"200ms\""),
        hook("good", &good.url("/"), ""),
    );
    let (on_failure, mut failed) = failures();
    let notifier = std::sync::Arc::new(Notifier::start(settings(&text), on_failure).unwrap());

    notifier.send(lockout(1));
    // The hanging webhook now holds its first request open…
    let first_hang = hang.next().await;
    assert_eq!(user_of(&first_hang.json()), "user1");
    // …and send() still returns (on a thread of its own, so a send that blocked would fail the
    // test at the safety net rather than hang it).
    let sender = notifier.clone();
    let sends = tokio::task::spawn_blocking(move || (2..=5).for_each(|n| sender.send(lockout(n))));
    tokio::time::timeout(common::SAFETY_NET, sends)
        .await
        .expect("send() blocked while a webhook hangs")
        .unwrap();
    let mut good_users = vec![];
    for _ in 1..=5 {
        good_users.push(user_of(&good.next().await.json()));
    }
    let good_done = Instant::now();
    assert_eq!(good_users, ["user1", "user2", "user3", "user4", "user5"]);
    // Everything reached the good webhook while the hanging one was still on its first attempt:
    // it has made no second request and no failure of its has been reported.
    assert!(
        hang.try_next().is_none(),
        "the hanging webhook retried before the good one finished"
    );
    while let Ok(f) = failed.try_recv() {
        assert_ne!(
            f.webhook, "hang",
            "hang failed before the good webhook got its messages"
        );
    }

    // The broken webhook: 3 attempts for user1, the waits between them at least 200ms then 400ms.
    let attempts: Vec<Instant> = {
        let mut at = vec![];
        for _ in 0..3 {
            let got = broken.next().await;
            assert_eq!(user_of(&got.json()), "user1");
            at.push(got.at);
        }
        at
    };
    assert!(attempts[1] - attempts[0] >= Duration::from_millis(200));
    assert!(attempts[2] - attempts[1] >= Duration::from_millis(400));

    // The hanging webhook: its first attempt times out, the retry comes after the backoff, and
    // after two attempts user1 is reported as not delivered.
    let second_hang = hang.next().await;
    assert_eq!(user_of(&second_hang.json()), "user1");
    assert!(second_hang.at - first_hang.at >= Duration::from_millis(2100));
    assert!(second_hang.at > good_done);
    let mut reported = vec![];
    while reported.len() < 2 {
        let f = next_failure(&mut failed).await;
        if f.notification == lockout(1) {
            reported.push(f);
        }
    }
    reported.sort_by(|a, b| a.webhook.cmp(&b.webhook));
    assert_eq!(reported[0].webhook, "broken");
    assert_eq!(reported[0].attempts, 3);
    assert_eq!(
        reported[0].reason,
        FailureReason::GaveUp("HTTP 500 Internal Server Error".into())
    );
    assert_eq!(reported[1].webhook, "hang");
    assert_eq!(reported[1].attempts, 2);
    assert_eq!(
        reported[1].reason,
        FailureReason::GaveUp("no answer within 2s".into())
    );
    assert_eq!(
        reported[1].to_string(),
        "webhook hang: login_lockout not delivered after 2 attempts: no answer within 2s"
    );
    assert_eq!(notifier.dropped(), 0);
}

#[tokio::test]
async fn a_full_queue_drops_its_oldest_and_counts_them() {
    let mut held = Receiver::start(Answer::Hold("{}")).await;
    let text = format!(
        "[notify]\nqueue = 4\n{}",
        hook("held", &held.url("/"), "timeout = \"60s\"\ntries = 1")
    );
    let (on_failure, mut failed) = failures();
    let notifier = Notifier::start(settings(&text), on_failure).unwrap();

    notifier.send(lockout(1));
    assert_eq!(user_of(&held.next().await.json()), "user1"); // in flight, held
    for n in 2..=11 {
        notifier.send(lockout(n));
    }
    // Queue of 4: 2..=7 were pushed out by newer ones.
    assert_eq!(notifier.dropped(), 6);
    for n in 2..=7 {
        let f = failed.try_recv().expect("a drop is reported as it happens");
        assert_eq!(f.notification, lockout(n));
        assert_eq!(f.reason, FailureReason::Dropped);
        assert_eq!(f.attempts, 0);
        assert_eq!(f.webhook, "held");
    }
    held.release();
    for n in 8..=11 {
        assert_eq!(user_of(&held.next().await.json()), format!("user{n}"));
    }
    assert!(failed.try_recv().is_err());
}

#[tokio::test]
async fn a_client_error_is_final_and_not_retried() {
    let mut refusing = Receiver::start(Answer::Status(404)).await;
    let text = format!(
        "[notify]\n{}",
        hook("gone", &refusing.url("/"), "tries = 5\nbackoff = \"10ms\"")
    );
    let (on_failure, mut failed) = failures();
    let notifier = Notifier::start(settings(&text), on_failure).unwrap();
    notifier.send(lockout(1));
    notifier.send(lockout(2));
    for n in 1..=2 {
        let f = next_failure(&mut failed).await;
        assert_eq!(f.notification, lockout(n));
        assert_eq!(f.attempts, 1);
        assert_eq!(
            f.reason,
            FailureReason::Refused("HTTP 404 Not Found".into())
        );
    }
    // A webhook delivers in order, so a retry of user1 would have come before user2.
    assert_eq!(user_of(&refusing.next().await.json()), "user1");
    assert_eq!(user_of(&refusing.next().await.json()), "user2");
}

#[tokio::test]
async fn a_robot_error_code_in_a_200_answer_is_a_failure() {
    let mut robot = Receiver::start(Answer::Ok(
        r#"{"errcode":310000,"errmsg":"sign not match"}"#,
    ))
    .await;
    let text = format!(
        "[notify]\n[[notify.webhook]]\nname = \"ding\"\nformat = \"dingtalk\"\nurl = \"{}\"\nsecret = \"wrong\"\ntries = 2\nbackoff = \"10ms\"\n",
        robot.url("/robot/send?access_token=t")
    );
    let (on_failure, mut failed) = failures();
    let notifier = Notifier::start(settings(&text), on_failure).unwrap();
    notifier.send(lockout(1));
    let f = next_failure(&mut failed).await;
    assert_eq!(f.webhook, "ding");
    assert_eq!(f.attempts, 2);
    assert_eq!(
        f.reason,
        FailureReason::GaveUp("refused with errcode 310000: sign not match".into())
    );
    // Each attempt is signed afresh.
    let (a, b) = (robot.next().await, robot.next().await);
    assert!(a.query_value("sign").is_some() && b.query_value("timestamp").is_some());
}

#[tokio::test]
async fn a_webhook_gets_only_the_events_it_names() {
    let mut receiver = Receiver::start(Answer::Ok("{}")).await;
    let text = format!(
        "[notify]\n{}",
        hook(
            "lockouts",
            &receiver.url("/"),
            "events = [\"login_lockout\"]"
        )
    );
    let (on_failure, _failed) = failures();
    let notifier = Notifier::start(settings(&text), on_failure).unwrap();
    notifier.send(Notification::CommandReview {
        id: "9".into(),
        user: "alice".into(),
        host: "db1".into(),
        login: "postgres".into(),
        command: "DROP TABLE x".into(),
    });
    notifier.send(lockout(1));
    // Deliveries keep order, so had the review been sent it would have arrived first.
    let body = receiver.next().await.json();
    assert_eq!(body["event"], EventKind::LoginLockout.as_str());
}

#[tokio::test]
async fn no_webhooks_means_send_is_a_no_op() {
    let (on_failure, mut failed) = failures();
    let notifier = Notifier::start(notify::NotifySettings::default(), on_failure).unwrap();
    assert_eq!(notifier.webhooks(), 0);
    notifier.send(lockout(1));
    assert_eq!(notifier.dropped(), 0);
    assert!(failed.try_recv().is_err());
}
