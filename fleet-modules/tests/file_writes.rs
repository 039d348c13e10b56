//! The prelude's `fleet_write` and `fleet_tmpfile`, run by `/bin/sh` on this machine: the file
//! that lands, its owner and mode, the `st` line reported without a second `stat`, and the
//! temporary names that must not follow what another user planted.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::{Command, Stdio};

use fleet_modules::files::remote_file::PRELUDE;

/// Runs `body` after the prelude (with no `F_*` attributes) in `dir`, feeding `stdin`; returns
/// what it printed.
fn run(dir: &std::path::Path, vars: &str, body: &str, stdin: &[u8]) -> String {
    use std::io::Write;
    let script = format!(
        "F_MODE= F_MODE_SYM=0 F_OWNER= F_GROUP= F_CHECK=0 F_BACKUP=0 F_VALIDATE=\n{vars}\n{PRELUDE}{body}"
    );
    let mut child = Command::new("/bin/sh")
        .args(["-c", &script])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Our uid (the owner of our /proc entry).
fn my_uid() -> u32 {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(u32::MAX)
}

/// `fleet_write` then `fleet_stat_known` and a fresh `fleet_stat`: the two lines must agree.
const WRITE_AND_COMPARE: &str = r#"fleet_write "$P" "$N" || exit 1
fleet_stat_known "$P"; fleet_stat "$P"
"#;

fn two_lines(out: &str) -> (&str, &str) {
    let mut lines = out.lines();
    (lines.next().unwrap_or(""), lines.next().unwrap_or(""))
}

#[test]
fn a_new_file_gets_the_umask_mode_and_the_stat_line_needs_no_second_stat() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("new.conf");
    let vars = format!("umask 027; P='{}' N=6", p.display());
    let out = run(dir.path(), &vars, WRITE_AND_COMPARE, b"hello\nand more");
    assert_eq!(std::fs::read(&p).unwrap(), b"hello\n");
    assert_eq!(
        std::fs::metadata(&p).unwrap().permissions().mode() & 0o7777,
        0o640
    );
    let (cached, fresh) = two_lines(&out);
    assert_eq!(cached, fresh, "{out}");
    assert!(cached.starts_with("st 640|"), "{out}");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "temporary file left behind");
}

#[test]
fn a_replaced_file_keeps_its_owner_and_set_id_mode() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("tool");
    std::fs::write(&p, b"old").unwrap();
    // as root the old file belongs to nobody; otherwise (no chown possible) it stays ours
    let owner = if my_uid() == 0 { 65534 } else { my_uid() };
    if my_uid() == 0 {
        std::os::unix::fs::chown(&p, Some(owner), Some(owner)).unwrap();
    }
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o4750)).unwrap();
    let vars = format!("P='{}' N=4", p.display());
    let out = run(dir.path(), &vars, WRITE_AND_COMPARE, b"new!");
    let meta = std::fs::metadata(&p).unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"new!");
    assert_eq!(meta.permissions().mode() & 0o7777, 0o4750, "{out}");
    assert_eq!(meta.uid(), owner);
    let (cached, fresh) = two_lines(&out);
    assert_eq!(cached, fresh, "{out}");
}

#[test]
fn requested_attributes_are_applied_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("script.sh");
    let vars = format!("umask 022; P='{}' N=3 F_MODE=0700", p.display());
    let out = run(dir.path(), &vars, WRITE_AND_COMPARE, b"ok\n");
    assert_eq!(
        std::fs::metadata(&p).unwrap().permissions().mode() & 0o7777,
        0o700
    );
    let (cached, fresh) = two_lines(&out);
    assert_eq!(cached, fresh, "{out}");
    assert!(cached.starts_with("st 700|"), "{out}");
}

#[test]
fn a_short_transfer_fails_and_leaves_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("keep");
    std::fs::write(&p, b"precious").unwrap();
    let vars = format!("P='{}' N=10", p.display());
    let out = run(dir.path(), &vars, WRITE_AND_COMPARE, b"short");
    assert!(out.starts_with("fail Copied file does not match"), "{out}");
    assert_eq!(std::fs::read(&p).unwrap(), b"precious");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn temporary_names_step_over_planted_files_and_links() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let victim = outside.join("victim");
    std::fs::write(&victim, b"untouched").unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    // names 1..3 taken: a link to a file, a dangling link, a FIFO (opening it would block)
    let body = format!(
        r#"ln -s '{victim}' "$D/.fleet_tmp.$$.1"; ln -s "$D/nowhere" "$D/.fleet_tmp.$$.2"
mkfifo "$D/.fleet_tmp.$$.3"
fleet_tmpfile "$D" || exit 1; echo "$_tmp"; [ -f "$_tmp" ] && [ ! -L "$_tmp" ] && echo plain
"#,
        victim = victim.display()
    );
    let vars = format!("D='{}'", work.display());
    let out = run(dir.path(), &vars, &body, b"");
    let mut lines = out.lines();
    let name = lines.next().unwrap();
    assert!(name.ends_with(".4"), "{out}");
    assert_eq!(lines.next(), Some("plain"), "{out}");
    assert_eq!(std::fs::read(&victim).unwrap(), b"untouched");
    assert!(!work.join("nowhere").exists());
}

#[test]
fn a_sticky_directory_gets_a_random_temporary_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let vars = format!("umask 022; D='{}'", dir.path().display());
    let out = run(
        dir.path(),
        &vars,
        "fleet_tmpfile \"$D\" || exit 1; echo \"$_tmp\"; echo $$\n",
        b"",
    );
    let (name, pid) = two_lines(&out);
    assert!(!name.contains(&format!(".fleet_tmp.{pid}.")), "{out}");
    assert!(name.contains(".fleet_tmp."), "{out}");
    let meta = std::fs::metadata(name).unwrap();
    assert_eq!(meta.permissions().mode() & 0o7777, 0o644);
}

/// `fleet_attrs` then `fleet_stat_known` on the same path must say what a fresh `stat` says,
/// whether the mode it set is exact (plain octal) or not (symbolic, set-id bits a directory
/// keeps, an owner change that clears them).
#[test]
fn the_stat_known_after_attributes_matches_a_fresh_stat() {
    let root = my_uid() == 0;
    let cases: &[(&str, bool, u32, &str)] = &[
        ("plain octal on a file", false, 0o644, "F_MODE=600"),
        ("unchanged mode", false, 0o640, "F_MODE=640"),
        ("symbolic", false, 0o644, "F_MODE=u+x,g-r F_MODE_SYM=1"),
        ("setgid directory keeps its bit", true, 0o2755, "F_MODE=750"),
        ("set-id file to plain", false, 0o4755, "F_MODE=755"),
        (
            "owner change",
            false,
            0o4755,
            if root { "F_OWNER=nobody" } else { "F_MODE=755" },
        ),
        (
            "owner then plain mode",
            false,
            0o644,
            if root {
                "F_OWNER=nobody F_MODE=700"
            } else {
                "F_MODE=700"
            },
        ),
        (
            "owner and mode",
            false,
            0o2755,
            if root {
                "F_OWNER=nobody F_MODE=2750"
            } else {
                "F_MODE=2750"
            },
        ),
    ];
    for (what, is_dir, start, vars) in cases {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("target");
        if *is_dir {
            std::fs::create_dir(&p).unwrap();
        } else {
            std::fs::write(&p, b"data").unwrap();
        }
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(*start)).unwrap();
        let vars = format!("{vars}; P='{}'", p.display());
        let body = "fleet_attrs \"$P\" || exit 1; fleet_stat_known \"$P\"; fleet_stat \"$P\"\n";
        let out = run(dir.path(), &vars, body, b"");
        let (known, fresh) = two_lines(&out);
        assert!(fresh.starts_with("st "), "{what}: {out}");
        assert_eq!(known, fresh, "{what}");
    }
}

/// What `fleet_attrs` learnt about one path is never reported for another.
#[test]
fn the_stat_known_is_only_for_the_path_it_was_read_for() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::write(&a, b"a").unwrap();
    std::fs::write(&b, b"bb").unwrap();
    let vars = format!("F_MODE=600; A='{}' B='{}'", a.display(), b.display());
    let body = "fleet_attrs \"$A\"; fleet_stat_known \"$B\"\n";
    let out = run(dir.path(), &vars, body, b"");
    assert!(
        out.trim_end().ends_with(&format!("|{}", b.display())),
        "{out}"
    );
    assert!(out.contains("|2|regular file|"), "{out}");
}

/// Hosts of one run that share a filesystem race to create the same parent: losing that race
/// (mkdir fails, the directory is there) is not an error, as in Ansible.
#[test]
fn a_directory_made_by_someone_else_meanwhile_is_not_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("shared/app");
    let vars = format!("P='{}'", p.display());
    // this mkdir loses every race: the directory appears, the call fails
    let body =
        "mkdir() { command mkdir \"$@\"; return 1; }\nfleet_mkdirs \"$P\" || exit 1; echo done\n";
    let out = run(dir.path(), &vars, body, b"");
    assert!(out.ends_with("done\n"), "{out}");
    assert!(p.is_dir());
}

/// Issue 18 (1,000 hosts): a small text content travels inside the script (`embedded_content`)
/// and the shell's own `printf` writes it, byte-exact, without a `head` process (a `head`
/// function that fails stands in for the command here, so using it would show).
#[test]
fn embedded_contents_land_byte_exact_without_head() {
    use fleet_modules::files::remote_file::{embedded_content, EMBED_LIMIT};
    let dir = tempfile::tempdir().unwrap();
    let contents: [&[u8]; 6] = [
        b"host=a\n",
        b"it's \"quoted\" $HOME `id` \\ %s %% \\n\n\n\n",
        b"no newline at the end",
        "caf\u{e9} \u{1f600}\n".as_bytes(),
        b"",
        b"-n\n",
    ];
    for (i, content) in contents.iter().enumerate() {
        let p = dir.path().join(format!("f{i}"));
        let assignment = embedded_content(content).expect("small text is embedded");
        let vars = format!(
            "head() {{ echo head was run >&2; return 1; }}\n{assignment}P='{}' N={}",
            p.display(),
            content.len()
        );
        run(
            dir.path(),
            &vars,
            "fleet_write \"$P\" \"$N\" || exit 1\n",
            b"",
        );
        assert_eq!(&std::fs::read(&p).unwrap()[..], *content, "content {i}");
    }
    // NUL, bytes that are not UTF-8 and big contents still go on standard input
    assert!(embedded_content(b"a\0b\n").is_none());
    assert!(embedded_content(b"\xff\xfe\n").is_none());
    assert!(embedded_content(&vec![b'x'; EMBED_LIMIT + 1]).is_none());
    assert!(embedded_content(&vec![b'x'; EMBED_LIMIT]).is_some());
}
