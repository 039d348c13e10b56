//! A long recording replays in parts (issue 16: a 50 MiB replay must start at once): the
//! session page plays the first part without fetching the rest, a later part starts with the
//! screen as it stood there, and clicking a late command loads the part that holds it.

use e2e::{secs, Browser, Client, Lab, TestUser};

const BIN: &str = env!("CARGO_BIN_EXE_bastion");

const POLICY: &str = "roles:
  - name: ops
    members: [alice]
    hosts: [\"*\"]
    logins: [root]
    require_totp: false
  - name: auditors
    members: [carol]
    hosts: [\"*\"]
    console: [audit]
    require_totp: false
";

fn console_link(lab: &Lab, user: &TestUser) -> String {
    Client::new(&lab.bastion, user).console_link(&user.name)
}

#[test]
fn a_long_recording_plays_in_parts_and_a_late_command_seeks_into_its_part() {
    let (lab, alice) = Lab::serving(BIN, &[("web1", &[])], POLICY, "alice");
    let carol = lab.bastion.add_user("carol", false);
    // About 6 MiB of output in a terminal session, then a command to find at the end.
    let client = Client::new(&lab.bastion, &alice);
    let mut sh = client.terminal("alice", &["web1"], 100, 30);
    sh.expect("# ", secs(20));
    sh.send("seq -f 'row-%g-of-a-long-recording-padding-padding' 1 120000; echo done-$((40+2))\r");
    sh.expect("done-42", secs(120));
    sh.send("echo late-marker-$((3*3))\r");
    sh.expect("late-marker-9", secs(20));
    sh.send("exit\r");
    assert_eq!(sh.wait(secs(30)), Some(0));
    let session = &lab.bastion.sessions()[0];
    let recording = session["recording"].as_str().unwrap();
    let size = std::fs::metadata(recording).unwrap().len();
    assert!(size > 5 << 20, "recording only {size} bytes");

    let browser = Browser::start();
    browser.goto(&console_link(&lab, &carol));
    browser.goto(&format!(
        "{}/sessions/{}",
        lab.bastion.console_url(),
        session["id"]
    ));
    browser.wait_for_text("#part-label", "part 1 of ", secs(15));
    let parts =
        browser.eval("return JSON.parse(document.getElementById('player').dataset.parts).length");
    let parts = parts.as_u64().unwrap();
    assert!(parts >= 3, "{parts} parts for {size} bytes");
    // Only the first part was fetched to start playing.
    let fetched = e2e::poll(secs(15), || {
        let names = browser.eval(
            "return performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('/cast')).join(' ')",
        );
        let names = names.as_str().unwrap_or_default().to_string();
        (!names.is_empty()).then_some(names)
    })
    .expect("the player fetched nothing");
    assert!(
        fetched.contains("cast?part=0") && !fetched.contains("part=1"),
        "{fetched}"
    );

    // The late command: its part is loaded and the player shows it.
    browser.click("#commands li:last-child a");
    browser.wait_for_text(".ap-term", "late-marker-9", secs(20));
    assert_eq!(
        browser.eval("return window.bastionPart").as_u64(),
        Some(parts - 1)
    );
    browser.wait_for_text("#part-label", &format!("part {parts} of {parts}"), secs(5));
    browser.screenshot("console-replay-parts");
}
