//! `CommandLog` against scripted and captured terminal sessions.

mod captured;
mod harness;
mod scripted;

/// Every session, scripted and captured: how many of the expected commands are found.
#[test]
fn corpus_accuracy() {
    let sessions: Vec<_> = scripted::sessions()
        .into_iter()
        .chain(captured::sessions())
        .collect();
    let (mut expected, mut found, mut emitted) = (0, 0, 0);
    for s in &sessions {
        let (hit, n) = harness::score(s);
        if hit != s.expected.len() || n != hit {
            println!("{}: {hit}/{} expected, {n} found", s.name, s.expected.len());
        }
        expected += s.expected.len();
        found += hit;
        emitted += n;
    }
    let spurious = emitted - found;
    println!(
        "commandlog corpus: {} sessions, {found}/{expected} expected commands found ({:.1}%), {spurious} spurious",
        sessions.len(),
        100.0 * found as f64 / expected as f64,
    );
    assert!(found * 100 >= expected * 95, "accuracy below 95%");
    assert_eq!(spurious, 0, "spurious commands");
}
