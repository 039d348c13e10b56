//! Hand-written sessions, byte for byte as bash (readline) over an SSH PTY draws them.

use recordings::CommandLog;

use crate::harness::{check, replay, Session, AFTER_ENTER, PROMPT};

fn plain() -> Session {
    Session::new("plain")
        .typed("ls -la")
        .enter("total 0\r\n")
        .typed("pwd")
        .enter("/root\r\n")
        .expect(&["ls -la", "pwd"])
}

fn backspace() -> Session {
    Session::new("backspace")
        .typed("lsx")
        .i("\x7f")
        .o("\x08\x1b[K")
        .typed(" /tmp")
        .enter("a b\r\n")
        // Older readline and the tty driver erase with BS SP BS; Ctrl-H is 0x08.
        .typed("catt")
        .i("\x08")
        .o("\x08 \x08")
        .typed(" x")
        .enter("")
        .expect(&["ls /tmp", "cat x"])
}

fn kill_line_and_word() -> Session {
    Session::new("kill_line_and_word")
        .typed("rm -rf /")
        .i("\x15")
        .o(&format!("{}\x1b[K", "\x08".repeat(8)))
        .typed("echo ab cd")
        .i("\x17")
        .o("\x08\x08\x1b[K")
        .typed("ef")
        .enter("ab ef\r\n")
        .expect(&["echo ab ef"])
}

fn cursor_moves_and_insert() -> Session {
    Session::new("cursor_moves_and_insert")
        // bash 5: insert with ICH.
        .typed("eco x")
        .i("\x1b[D")
        .o("\x08")
        .i("\x1b[D")
        .o("\x08")
        .i("\x1bOD")
        .o("\x08")
        .i("h")
        .o("\x1b[1@h")
        .i("\x01")
        .o("\x08\x08\x08")
        .i("\x05")
        .o(&"\x1b[C".repeat(6))
        .enter("x\r\n")
        // Without ICH: the rest of the line is redrawn, then backspaces.
        .typed("prinf a")
        .i("\x1b[D\x1b[D\x1b[D")
        .o("\x08\x08\x08")
        .i("t")
        .o("tf a\x08\x08\x08")
        .i("\x1b[H")
        .o(&"\x08".repeat(5))
        .i("\x1b[F")
        .o(&"\x1b[C".repeat(8))
        .enter("a")
        .expect(&["echo x", "printf a"])
}

fn history() -> Session {
    Session::new("history")
        .typed("cat lo")
        .enter("cat: lo: No such file or directory\r\n")
        .i("\x1b[A")
        .o("cat lo")
        .enter("cat: lo: No such file or directory\r\n")
        // Recall over text already typed: bash erases it first.
        .typed("xyz")
        .i("\x1b[A")
        .o("\x08\x08\x08cat lo")
        .i("\x1b[A")
        .o("\x08\x08\x08\x08\x08\x1b[2Pd d")
        .enter("")
        .expect(&["cat lo", "cat lo", "cd d"])
}

fn tab_completion() -> Session {
    Session::new("tab_completion")
        .typed("cat d")
        .i("\t")
        .o("ir/")
        .typed("l")
        .i("\t")
        .o("ongfilename.txt ")
        .enter("")
        // Double Tab lists the candidates and redraws prompt and line.
        .typed("ls --al")
        .i("\t")
        .o("\x07")
        .i("\t")
        .o(&format!(
            "\r\n--all         --almost-all  \r\n{PROMPT}ls --al"
        ))
        .typed("l")
        .enter("x\r\n")
        .expect(&["cat dir/longfilename.txt", "ls --all"])
}

fn ctrl_c() -> Session {
    let cancel = "^C\x1b[?2004l\r\x1b[?2004h\x1b[?2004l\r\r\n";
    Session::new("ctrl_c")
        .typed("sleep 10")
        .i("\x03")
        .o(cancel)
        .o(PROMPT)
        .typed("sleep 100")
        .i("\r")
        .o(AFTER_ENTER)
        .i("\x03")
        .o("^C\r\n")
        .o(PROMPT)
        .typed("echo ok")
        .enter("ok\r\n")
        .expect(&["sleep 100", "echo ok"])
}

fn bracketed_paste() -> Session {
    Session::new("bracketed_paste")
        .i("\x1b[200~echo a\necho b\n\x1b[201~")
        .o("\x1b[7mecho a\x1b[27m\r\n\r\x1b[7mecho b\x1b[27m\r\n\r")
        .i("\r")
        .o(&format!(
            "\x1b[A\x1b[A{}echo a\r\n\recho b\r\n\r\x1b[A{AFTER_ENTER}a\r\nb\r\n",
            "\x1b[C".repeat(13)
        ))
        .o(PROMPT)
        .expect(&["echo a", "echo b"])
}

fn unbracketed_paste() -> Session {
    // The whole paste arrives before any echo: the second line is type-ahead.
    Session::new("unbracketed_paste")
        .i("echo one\recho two\r")
        .o(&format!(
            "echo one{AFTER_ENTER}one\r\n{PROMPT}echo two{AFTER_ENTER}"
        ))
        .o(&format!("two\r\n{PROMPT}"))
        .expect(&["echo one", "echo two"])
}

fn sudo_password() -> Session {
    Session::new("sudo_password")
        .typed("sudo -k ls")
        .i("\r")
        .o(&format!("{AFTER_ENTER}[sudo] password for root: "))
        .i("h")
        .i("u")
        .i("n")
        .i("t")
        .i("x\x7f")
        .i("er2")
        .i("\r")
        .o("\r\nfile\r\n")
        .o(PROMPT)
        .typed("id")
        .enter("uid=0(root)\r\n")
        .secret("hunter")
        .expect(&["sudo -k ls", "id"])
}

fn password_typed_ahead() -> Session {
    // The password is typed before the prompt for it arrived.
    Session::new("password_typed_ahead")
        .i("sudo ls\r")
        .i("hunter2\r")
        .o(&format!("sudo ls{AFTER_ENTER}[sudo] password for root: "))
        .o("\r\nfile\r\n")
        .o(PROMPT)
        .typed("id")
        .enter("uid=0(root)\r\n")
        .secret("hunter2")
        .expect(&["sudo ls", "id"])
}

fn ssh_password_no_newline() -> Session {
    // Enter on a password prompt whose program prints nothing before the prompt returns.
    Session::new("ssh_password_no_newline")
        .typed("read -s p")
        .i("\r")
        .o(AFTER_ENTER)
        .i("s3cret!\r")
        .o(PROMPT)
        .typed("echo done")
        .enter("done\r\n")
        .secret("s3cret")
        .expect(&["read -s p", "echo done"])
}

fn vim() -> Session {
    Session::new("vim")
        .typed("vim /etc/hosts")
        .i("\r")
        .o(&format!(
            "{AFTER_ENTER}\x1b[?1049h\x1b[22;0;0t\x1b[1;24r\x1b[H\x1b[2J"
        ))
        .o("127.0.0.1 localhost\r\n~\r\n~\r\n\x1b[24;1H\"/etc/hosts\" 1L")
        .i("o")
        .o("\x1b[2;1H\x1b[K")
        .i("10.0.0.1 db\x1b")
        .o("10.0.0.1 db\x08")
        .i(":wq\r")
        .o("\x1b[24;1H:wq\r\"/etc/hosts\" 2L written")
        .o("\x1b[?1049l\x1b[23;0;0t")
        .o(PROMPT)
        .typed("ls")
        .enter("x\r\n")
        .expect(&["vim /etc/hosts", "ls"])
}

fn less() -> Session {
    Session::new("less")
        .typed("less /var/log/syslog")
        .i("\r")
        .o(&format!(
            "{AFTER_ENTER}\x1b[?1049h\x1b[?1h\x1b=\rline 1\r\nline 2\r\n:"
        ))
        .i("/error\r")
        .o("\r\x1b[K/error\r\x1b[Kline 9 error\r\n:")
        .i("q")
        .o("\r\x1b[K\x1b[?1l\x1b>\x1b[?1049l")
        .o(PROMPT)
        .typed("uptime")
        .enter("up\r\n")
        .expect(&["less /var/log/syslog", "uptime"])
}

fn pending_line_while_typing() {
    let mut log = CommandLog::new();
    log.output(0.0, PROMPT.as_bytes());
    assert_eq!(log.pending_line(), None);
    for c in "rm -rf /".chars() {
        let s = c.to_string();
        log.input(1.0, s.as_bytes());
        log.output(1.0, s.as_bytes());
    }
    assert_eq!(log.pending_line().as_deref(), Some("rm -rf /"));
    log.input(2.0, b"\x15");
    log.output(2.0, format!("{}\x1b[K", "\x08".repeat(8)).as_bytes());
    assert_eq!(log.pending_line(), None);
    log.input(3.0, b"\x1b[A");
    log.output(3.0, b"vim x");
    assert_eq!(log.pending_line().as_deref(), Some("vim x"));
    assert!(log.input(4.0, b"\r").is_empty());
    let done = log.output(4.5, b"\r\n\x1b[?1049h");
    assert_eq!(done.len(), 1);
    assert_eq!((done[0].at, done[0].text.as_str()), (4.0, "vim x"));
    log.input(5.0, b"ihello");
    log.output(5.0, b"hello");
    assert_eq!(log.pending_line(), None);
    log.output(6.0, b"\x1b[?1049l");
    log.output(6.0, PROMPT.as_bytes());
    log.input(7.0, b"l");
    log.output(7.0, b"l");
    assert_eq!(log.pending_line().as_deref(), Some("l"));
    assert!(log.finish().is_empty());
}

#[test]
fn pending_keys_of_a_line_typed_ahead() {
    let mut log = CommandLog::new();
    log.output(0.0, PROMPT.as_bytes());
    log.input(1.0, b"sleep 1\r");
    log.output(1.0, b"sleep 1\r\n");
    // Typed while `sleep` runs: the kernel echoes it, but no prompt marks where it starts.
    log.input(1.5, b"shutdown -h now");
    log.output(1.5, b"shutdown -h now");
    assert_eq!(log.pending_keys().as_deref(), Some("shutdown -h now"));
    // Edited lines and full-screen programs give no plain keys.
    log.input(2.0, b"\x1b[D");
    assert_eq!(log.pending_keys(), None);
    log.input(2.1, b"\x15");
    log.output(2.5, b"\r\n\x1b[?1049h");
    log.input(3.0, b"ihello");
    assert_eq!(log.pending_keys(), None);
}

fn empty_lines() -> Session {
    Session::new("empty_lines")
        .enter("")
        .typed("   ")
        .enter("")
        .typed("x")
        .i("\x7f")
        .o("\x08\x1b[K")
        .enter("")
        .expect(&[])
}

fn utf8() -> Session {
    Session::new("utf8")
        .typed("echo héllo € 🦀")
        .enter("héllo € 🦀\r\n")
        .typed("echo ünï")
        .i("\x7f")
        .o("\x08\x1b[K")
        .i("\x7f")
        .o("\x08\x1b[K")
        .typed("i")
        .enter("üi\r\n")
        .expect(&["echo héllo € 🦀", "echo üi"])
}

fn enter_before_echo() -> Session {
    // The Enter key overtakes the echo of the last keys.
    Session::new("enter_before_echo")
        .i("l")
        .i("s")
        .i("\r")
        .o("l")
        .o("s")
        .o(AFTER_ENTER)
        .o(&format!("x\r\n{PROMPT}"))
        .i("d")
        .o("d")
        .i("f\r")
        .o(&format!("f{AFTER_ENTER}"))
        .expect(&["ls", "df"])
}

fn shell_integration_prompt() -> Session {
    // Colours, a title OSC and OSC 133 marks around a two-row prompt.
    let prompt = "\x1b]0;root@web1: ~\x07\x1b]133;A\x07\x1b[1;32mroot@web1\x1b[0m \x1b[34m~\x1b[0m\r\n\x1b[1m❯\x1b[0m \x1b]133;B\x07";
    Session::new("shell_integration_prompt")
        .o(prompt)
        .typed("git status")
        .i("\r")
        .o("\r\n\x1b]133;C\x07clean\r\n\x1b]133;D;0\x07")
        .o(prompt)
        .typed("make")
        .i("\r")
        .o("\r\n\x1b]133;C\x07error\r\n\x1b]133;D;2\x07")
        .o(prompt)
        .expect(&["git status", "make"])
}

fn clear_screen_redraw() -> Session {
    Session::new("clear_screen_redraw")
        .typed("ls")
        .i("\x0c")
        .o(&format!("\x1b[H\x1b[2J{PROMPT}ls"))
        .typed(" -l")
        .enter("total 0\r\n")
        .expect(&["ls -l"])
}

fn pager_without_alternate_screen() -> Session {
    // `git log` runs less with -FRX: no alternate screen. Its keys must not leak into the
    // next command.
    Session::new("pager_without_alternate_screen")
        .typed("git log")
        .i("\r")
        .o(&format!("{AFTER_ENTER}commit abc\r\nAuthor: x\r\n:"))
        .i(" ")
        .o("\r\x1b[Kmore\r\n:")
        .i("q")
        .o("\r\x1b[K")
        .o(PROMPT)
        .typed("whoami")
        .enter("root\r\n")
        .expect(&["git log", "whoami"])
}

/// All scripted sessions.
pub fn sessions() -> Vec<Session> {
    vec![
        plain(),
        backspace(),
        kill_line_and_word(),
        cursor_moves_and_insert(),
        history(),
        tab_completion(),
        ctrl_c(),
        bracketed_paste(),
        unbracketed_paste(),
        sudo_password(),
        password_typed_ahead(),
        ssh_password_no_newline(),
        vim(),
        less(),
        empty_lines(),
        utf8(),
        enter_before_echo(),
        shell_integration_prompt(),
        clear_screen_redraw(),
        pager_without_alternate_screen(),
    ]
}

macro_rules! session_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check(&super::$name());
            }
        )*
    };
}

mod each {
    use super::check;
    session_tests!(
        plain,
        backspace,
        kill_line_and_word,
        cursor_moves_and_insert,
        history,
        tab_completion,
        ctrl_c,
        bracketed_paste,
        unbracketed_paste,
        sudo_password,
        password_typed_ahead,
        ssh_password_no_newline,
        vim,
        less,
        empty_lines,
        utf8,
        enter_before_echo,
        shell_integration_prompt,
        clear_screen_redraw,
        pager_without_alternate_screen,
    );
}

#[test]
fn pending_line() {
    pending_line_while_typing();
}

#[test]
fn timestamps_are_the_enter_key() {
    let r = replay(&plain(), false);
    let at: Vec<f64> = r.commands.iter().map(|c| c.at).collect();
    // Steps: prompt, 6 keys × 2, Enter at step 13; then newline, output and prompt, 3 keys × 2, Enter at 23.
    assert_eq!(at, [13.0, 23.0]);
    assert!(r.commands.iter().all(|c| c.exit_status.is_none()));
}
