//! `user` and `group`: local accounts through useradd/usermod/userdel and groupadd/groupmod/
//! groupdel, reading `getent` (or /etc/passwd, /etc/group) first so unchanged accounts are left
//! alone. One round trip per task.

use async_trait::async_trait;
use serde_json::{json, Value};

use super::common::{bool_or, choice, opt_list, opt_str, opt_str_any, BadArg};
use crate::remote::{shell_quote, RemoteError};
use crate::{ArgSpec, Args, Module, ModuleCtx, ModuleResult};

const USER_SCRIPT: &str = include_str!("user.sh");

/// `ansible.builtin.user`.
pub struct User;
/// `ansible.builtin.group`.
pub struct Group;

#[async_trait]
impl Module for User {
    fn name(&self) -> &'static str {
        "user"
    }
    fn spec(&self) -> ArgSpec {
        ArgSpec {
            free_form: false,
            params: &[
                "name",
                "user",
                "state",
                "uid",
                "group",
                "groups",
                "append",
                "shell",
                "home",
                "create_home",
                "createhome",
                "system",
                "password",
                "update_password",
                "remove",
                "force",
                "comment",
                "move_home",
                "non_unique",
                // Ansible's own module does these (`crate::ansible_only`); the key options
                // only count with generate_ssh_key, which goes there too
                "login_class",
                "password_expire_max",
                "password_expire_min",
                "password_expire_warn",
                "password_expire_account_disable",
                "hidden",
                "seuser",
                "skeleton",
                "generate_ssh_key",
                "ssh_key_bits",
                "ssh_key_type",
                "ssh_key_file",
                "ssh_key_comment",
                "ssh_key_passphrase",
                "expires",
                "password_lock",
                "local",
                "profile",
                "authorization",
                "role",
                "umask",
                "uid_min",
                "uid_max",
            ],
            required: &[&["name", "user"]],
        }
    }
    async fn run(&self, args: &Args, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError> {
        let plan = match UserPlan::from_args(args, ctx.check_mode) {
            Ok(plan) => plan,
            Err(e) => return Ok(e.into()),
        };
        let out = ctx.sh(&plan.script).await?;
        if out.rc != 0 {
            return Ok(ModuleResult::fail(out.stderr_text().trim().to_string()));
        }
        Ok(plan.result(&out.stdout_text()))
    }
}

fn flag(b: bool) -> &'static str {
    if b {
        "1"
    } else {
        "0"
    }
}

/// A `user` task turned into its script, plus what the result needs to report.
struct UserPlan {
    script: String,
    name: String,
    state: String,
    groups: Option<Vec<String>>,
    has_password: bool,
    create_home: bool,
    system: bool,
    append: bool,
    remove: bool,
    force: bool,
    move_home: bool,
    /// The password given does not look like a crypt(3) hash (Ansible warns).
    plaintext: bool,
}

/// Ansible's `check_password_encrypted`: whether `password` looks like clear text rather than a
/// crypt(3) hash (`*`, `!` and `*************` lock or disable an account and are fine).
fn looks_unhashed(password: &str) -> bool {
    if password.is_empty() || ["*", "!", "*************"].contains(&password) {
        return false;
    }
    if password.contains([':', '*', '!']) || !password.contains('$') {
        return true;
    }
    let fields: Vec<&str> = password.split('$').collect();
    let [_, kind, .., last] = fields.as_slice() else {
        return true;
    };
    let bad_char = last
        .chars()
        .any(|c| !(c.is_ascii_alphanumeric() || "./=".contains(c)));
    let want_len = match *kind {
        "1" => Some(22),
        "5" | "y" => Some(43),
        "6" => Some(86),
        _ => None,
    };
    bad_char || want_len.is_some_and(|n| last.chars().count() != n)
}

impl UserPlan {
    fn from_args(args: &Args, check_mode: bool) -> Result<UserPlan, BadArg> {
        let name = opt_str_any(args, &["name", "user"]).unwrap_or_default();
        let state =
            choice(args, "state", &["present", "absent"], Some("present"))?.unwrap_or_default();
        let groups = opt_list(args, "groups");
        let comment = opt_str(args, "comment");
        let password = opt_str(args, "password");
        let plaintext = password.as_deref().is_some_and(looks_unhashed);
        let update_pw = choice(
            args,
            "update_password",
            &["always", "on_create"],
            Some("always"),
        )?
        .unwrap_or_default();
        let plan = UserPlan {
            script: String::new(),
            name,
            state,
            groups,
            has_password: password.is_some(),
            plaintext,
            create_home: bool_or(args, "create_home", true)? && bool_or(args, "createhome", true)?,
            system: bool_or(args, "system", false)?,
            append: bool_or(args, "append", false)?,
            remove: bool_or(args, "remove", false)?,
            force: bool_or(args, "force", false)?,
            move_home: bool_or(args, "move_home", false)?,
        };
        let vars = [
            ("N", plan.name.clone()),
            ("STATE", plan.state.clone()),
            ("W_UID", opt_str(args, "uid").unwrap_or_default()),
            ("W_GROUP", opt_str(args, "group").unwrap_or_default()),
            (
                "W_GROUPS",
                plan.groups.clone().unwrap_or_default().join(","),
            ),
            ("SET_GROUPS", flag(plan.groups.is_some()).into()),
            ("APPEND", flag(plan.append).into()),
            ("W_SHELL", opt_str(args, "shell").unwrap_or_default()),
            ("W_HOME", opt_str(args, "home").unwrap_or_default()),
            ("SET_COMMENT", flag(comment.is_some()).into()),
            ("W_COMMENT", comment.unwrap_or_default()),
            ("SET_PASSWORD", flag(plan.has_password).into()),
            ("W_PASSWORD", password.unwrap_or_default()),
            ("UPDATE_PW", update_pw),
            ("CREATE_HOME", flag(plan.create_home).into()),
            ("MOVE_HOME", flag(plan.move_home).into()),
            ("SYSTEM", flag(plan.system).into()),
            ("REMOVE", flag(plan.remove).into()),
            ("FORCE", flag(plan.force).into()),
            (
                "NON_UNIQUE",
                flag(bool_or(args, "non_unique", false)?).into(),
            ),
            ("CHECK", flag(check_mode).into()),
        ];
        Ok(UserPlan {
            script: format!("{}\n{USER_SCRIPT}", assignments(&vars)),
            ..plan
        })
    }

    /// Ansible's result keys from the script's report.
    fn result(&self, stdout: &str) -> ModuleResult {
        let mut r = ModuleResult::ok()
            .with("name", self.name.as_str())
            .with("state", self.state.as_str());
        if let Some((_, msg)) = stdout.split_once("failed=") {
            r.failed = true;
            r.msg = Some(msg.trim_end().to_string());
            return r;
        }
        let mut created = false;
        let mut passwd = "";
        for line in stdout.lines() {
            match line.split_once('=') {
                Some(("changed", _)) => r.changed = true,
                Some(("created", _)) => created = true,
                Some(("passwd", p)) => passwd = p,
                _ => {}
            }
        }
        if self.state == "absent" {
            return r.with("force", self.force).with("remove", self.remove);
        }
        let fields: Vec<&str> = passwd.split(':').collect();
        let field = |i: usize| fields.get(i).copied();
        let num = |i: usize| field(i).and_then(|v| v.parse::<u64>().ok());
        r = r.with("system", self.system);
        if let Some(uid) = num(2) {
            r = r.with("uid", uid);
        }
        if let Some(gid) = num(3) {
            r = r.with("group", gid);
        }
        if let (Some(c), Some(h), Some(s)) = (field(4), field(5), field(6)) {
            r = r.with("comment", c).with("home", h).with("shell", s);
        }
        if created {
            r = r.with("create_home", self.create_home);
        } else {
            r = r
                .with("append", self.append)
                .with("move_home", self.move_home);
        }
        if let Some(g) = &self.groups {
            r = r.with("groups", g.join(","));
        }
        if self.has_password {
            r = r.with("password", "NOT_LOGGING_PASSWORD");
        }
        if self.append && self.groups.is_none() {
            r = r.with_warning(
                "'append' is set, but no 'groups' are specified. Use 'groups' for appending new \
                 groups.This will change to an error in Ansible 2.14.",
            );
        }
        if self.plaintext {
            r = r.with_warning(
                "The input password appears not to have been hashed. The 'password' argument \
                 must be encrypted for this module to work properly.",
            );
        }
        r
    }
}

/// `NAME='value'` lines for a script's parameters.
fn assignments(vars: &[(&str, String)]) -> String {
    vars.iter()
        .map(|(k, v)| format!("{k}={}", shell_quote(v)))
        .collect::<Vec<_>>()
        .join("\n")
}

#[async_trait]
impl Module for Group {
    fn name(&self) -> &'static str {
        "group"
    }
    fn spec(&self) -> ArgSpec {
        ArgSpec {
            free_form: false,
            params: &[
                "name",
                "gid",
                "state",
                "system",
                "non_unique",
                "local",
                "force",
                "gid_min",
                "gid_max",
            ],
            required: &[&["name"]],
        }
    }
    async fn run(&self, args: &Args, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError> {
        let parsed = (|| -> Result<_, BadArg> {
            Ok((
                choice(args, "state", &["present", "absent"], Some("present"))?.unwrap_or_default(),
                bool_or(args, "system", false)?,
                bool_or(args, "non_unique", false)?,
                bool_or(args, "force", false)?,
            ))
        })();
        let (state, system, non_unique, force) = match parsed {
            Ok(p) => p,
            Err(e) => return Ok(e.into()),
        };
        let name = opt_str(args, "name").unwrap_or_default();
        let gid = opt_str(args, "gid").unwrap_or_default();
        if non_unique && gid.is_empty() {
            // Ansible's required_if on the module's arguments
            return Ok(ModuleResult::fail(
                "non_unique is True but all of the following are missing: gid",
            ));
        }
        // GID_MIN/GID_MAX for this groupadd only, over /etc/login.defs
        let mut limits = String::new();
        for (arg, key) in [("gid_min", "GID_MIN"), ("gid_max", "GID_MAX")] {
            if let Some(n) = opt_str(args, arg) {
                match n.parse::<i64>() {
                    Ok(n) => limits.push_str(&format!(" -K {key}={n}")),
                    Err(_) => {
                        return Ok(ModuleResult::fail(format!(
                            "argument '{arg}' is of type <class 'str'> and we were unable to \
                             convert to int: <class 'str'> cannot be converted to an int"
                        )))
                    }
                }
            }
        }
        let vars = [
            ("N", name.clone()),
            ("STATE", state.clone()),
            ("W_GID", gid),
            ("LIMITS", limits),
            ("SYSTEM", flag(system).into()),
            ("NON_UNIQUE", flag(non_unique).into()),
            ("FORCE", flag(force).into()),
            ("CHECK", flag(ctx.check_mode).into()),
        ];
        let script = format!(
            r#"{}
fail() {{ printf 'failed=%s\n' "$1"; exit 0; }}
act() {{ echo changed=1; [ "$CHECK" = 1 ] && return 0; out=$("$@" 2>&1) || fail "$out"; }}
ent=$(getent group "$N" 2>/dev/null || grep "^$N:" /etc/group)
if [ "$STATE" = absent ]; then
  # force: removed even while it is a user's primary group (groupdel -f)
  set --; [ "$FORCE" = 1 ] && set -- -f
  [ -z "$ent" ] || act groupdel "$@" "$N"
elif [ -z "$ent" ]; then
  set --; [ -n "$W_GID" ] && set -- -g "$W_GID"; [ "$NON_UNIQUE" = 1 ] && set -- "$@" -o
  [ "$SYSTEM" = 1 ] && set -- "$@" -r
  # shellcheck disable=SC2086 # LIMITS is fleet's own "-K KEY=N" words
  act groupadd "$@" $LIMITS "$N"
else
  cgid=$(printf '%s' "$ent" | cut -d: -f3)
  if [ -n "$W_GID" ] && [ "$W_GID" != "$cgid" ]; then
    set -- -g "$W_GID"; [ "$NON_UNIQUE" = 1 ] && set -- "$@" -o
    act groupmod "$@" "$N"
  fi
fi
echo "gid=$( (getent group "$N" 2>/dev/null || grep "^$N:" /etc/group) | cut -d: -f3)"
"#,
            assignments(&vars)
        );
        let out = ctx.sh(&script).await?;
        let stdout = out.stdout_text();
        let mut r = ModuleResult::ok()
            .with("name", name.as_str())
            .with("state", state.as_str());
        if let Some((_, msg)) = stdout.split_once("failed=") {
            r.failed = true;
            r.msg = Some(msg.trim_end().to_string());
            return Ok(r);
        }
        for line in stdout.lines() {
            match line.split_once('=') {
                Some(("changed", _)) => r.changed = true,
                Some(("gid", g)) if state == "present" => {
                    let gid = g.parse::<u64>().map(Value::from).unwrap_or(json!(null));
                    r = r.with("gid", gid).with("system", system);
                }
                _ => {}
            }
        }
        Ok(r)
    }
}

#[cfg(test)]
mod password_tests {
    use super::looks_unhashed;

    #[test]
    fn clear_text_passwords_are_told_from_hashes_as_ansible_tells_them() {
        let sha512 = format!("$6$salt${}", "a".repeat(86));
        assert!(!looks_unhashed(&sha512));
        assert!(looks_unhashed(&format!("$6$salt${}", "a".repeat(85))));
        assert!(!looks_unhashed(&format!("$y$j9T$salt${}", "b".repeat(43))));
        for clear in ["secret", "se$cret", "$6$x$a:b", "pa!ss$x$y"] {
            assert!(looks_unhashed(clear), "{clear}");
        }
        for lock in ["*", "!", "*************", ""] {
            assert!(!looks_unhashed(lock), "{lock}");
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testing::{check, run};
    use super::*;

    /// A unique account name; the guard deletes the user and groups with that prefix afterwards.
    struct Names(String);

    impl Names {
        fn new() -> Names {
            Names(format!("fleetut_{:06x}", rand::random::<u32>() & 0xff_ffff))
        }
        fn sub(&self, suffix: &str) -> String {
            format!("{}{suffix}", self.0)
        }
    }

    impl Drop for Names {
        fn drop(&mut self) {
            let p = &self.0;
            let script = format!(
            "userdel -r {p} 2>/dev/null; for g in $(cut -d: -f1 /etc/group | grep '^{p}'); do groupdel \"$g\"; done"
        );
            let _ = std::process::Command::new("/bin/sh")
                .arg("-c")
                .arg(script)
                .output();
        }
    }

    fn sh(cmd: &str) -> String {
        let out = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(cmd)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Account tests run one at a time: useradd/groupadd pick the next free id, which a parallel test
    /// may be about to claim.
    static ACCOUNTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    fn is_root() -> bool {
        sh("id -u") == "0" && !sh("command -v useradd").is_empty()
    }

    #[tokio::test]
    async fn group_create_change_gid_and_remove() {
        if !is_root() {
            return;
        }
        let _serial = ACCOUNTS.lock().await;
        let n = Names::new();
        let g = n.sub("g");
        let r = check(&Group, json!({"name": g})).await;
        assert!(r.changed);
        assert_eq!(
            sh(&format!("getent group {g}")),
            "",
            "check mode created nothing"
        );
        let r = run(&Group, json!({"name": g, "gid": 47123})).await;
        assert!(r.changed && !r.failed, "{r:?}");
        assert_eq!(r.data["gid"], json!(47123));
        assert_eq!(sh(&format!("getent group {g} | cut -d: -f3")), "47123");
        let r = run(&Group, json!({"name": g, "gid": "47123"})).await;
        assert!(!r.changed);
        let r = run(&Group, json!({"name": g, "gid": 47124})).await;
        assert!(r.changed, "{r:?}");
        assert_eq!(sh(&format!("getent group {g} | cut -d: -f3")), "47124");
        let r = run(&Group, json!({"name": g, "state": "absent"})).await;
        assert!(r.changed);
        let r = run(&Group, json!({"name": g, "state": "absent"})).await;
        assert!(!r.changed);
    }

    #[tokio::test]
    async fn user_create_modify_groups_and_remove() {
        if !is_root() {
            return;
        }
        let _serial = ACCOUNTS.lock().await;
        let n = Names::new();
        let u = n.0.clone();
        let (g1, g2) = (n.sub("a"), n.sub("b"));
        for g in [&g1, &g2] {
            assert!(!run(&Group, json!({"name": g})).await.failed);
        }
        let home = format!("/tmp/{u}_home");
        let args = json!({
            "name": u, "uid": 47200, "shell": "/bin/sh", "home": home, "comment": "Fleet Test",
            "groups": [g1], "password": "$6$salt$hash",
        });
        let r = check(&User, args.clone()).await;
        assert!(r.changed);
        assert_eq!(sh(&format!("getent passwd {u}")), "");

        let r = run(&User, args.clone()).await;
        assert!(r.changed && !r.failed, "{r:?}");
        assert_eq!(r.data["uid"], json!(47200));
        assert_eq!(r.data["home"], json!(home));
        assert_eq!(r.data["password"], json!("NOT_LOGGING_PASSWORD"));
        assert!(std::path::Path::new(&home).is_dir(), "home created");
        assert_eq!(
            sh(&format!("getent shadow {u} | cut -d: -f2")),
            "$6$salt$hash"
        );
        assert_eq!(sh(&format!("id -Gn {u}")), format!("{u} {g1}"));

        let r = run(&User, args.clone()).await;
        assert!(!r.changed && !r.failed, "second run unchanged: {r:?}");

        let r = run(
            &User,
            json!({"name": u, "groups": g2, "append": true, "shell": "/bin/bash"}),
        )
        .await;
        assert!(r.changed);
        assert_eq!(sh(&format!("id -Gn {u}")), format!("{u} {g1} {g2}"));
        assert_eq!(sh(&format!("getent passwd {u} | cut -d: -f7")), "/bin/bash");
        let r = run(
            &User,
            json!({"name": u, "groups": [g2, g1], "append": true}),
        )
        .await;
        assert!(!r.changed);
        let r = run(&User, json!({"name": u, "groups": [g2]})).await;
        assert!(r.changed);
        assert_eq!(sh(&format!("id -Gn {u}")), format!("{u} {g2}"));

        let r = run(&User, json!({"name": u, "group": n.sub("missing")})).await;
        assert!(r.failed);
        assert_eq!(
            r.msg,
            Some(format!("Group {} does not exist", n.sub("missing")))
        );

        let r = check(&User, json!({"name": u, "state": "absent", "remove": true})).await;
        assert!(r.changed);
        assert_ne!(sh(&format!("getent passwd {u}")), "");
        let r = run(&User, json!({"name": u, "state": "absent", "remove": true})).await;
        assert!(r.changed && !r.failed, "{r:?}");
        assert_eq!(sh(&format!("getent passwd {u}")), "");
        assert!(!std::path::Path::new(&home).exists(), "home removed");
        let r = run(&User, json!({"name": u, "state": "absent"})).await;
        assert!(!r.changed);
    }
}
