//! The target grammar: how a user names where to go.
//!
//! In the SSH login name: `USER`, `USER+HOST` or `USER+LOGIN@HOST` (a `+` separator, so scp, sftp
//! and rsync, which split on `@` and `:`, pass it through unchanged). In an exec request: the first
//! word is `HOST` or `LOGIN@HOST`, the rest is the command.

/// Where a user asked to go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSpec {
    /// The inventory host name.
    pub host: String,
    /// The target account, when the user named one (else the policy's default login).
    pub login: Option<String>,
}

/// A bastion login name split into the bastion user and an optional target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginName {
    /// The bastion user who logs in.
    pub user: String,
    /// Where the login name says to go, if anywhere.
    pub target: Option<TargetSpec>,
}

/// A user, login or host name the bastion accepts: letters, digits, `-`, `_`, `.`.
pub fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Parses `LOGIN@HOST` or `HOST`.
pub fn parse_target(word: &str) -> Option<TargetSpec> {
    let (login, host) = match word.split_once('@') {
        Some((l, h)) => (Some(l), h),
        None => (None, word),
    };
    if !valid_name(host) || login.is_some_and(|l| !valid_name(l)) {
        return None;
    }
    Some(TargetSpec {
        host: host.to_string(),
        login: login.map(str::to_string),
    })
}

/// Parses an SSH login name; `None` when it is malformed (reject the login).
pub fn parse_login_name(name: &str) -> Option<LoginName> {
    let (user, target) = match name.split_once('+') {
        Some((u, t)) => (u, Some(parse_target(t)?)),
        None => (name, None),
    };
    if !valid_name(user) {
        return None;
    }
    Some(LoginName {
        user: user.to_string(),
        target,
    })
}

/// Splits an exec request into (target word, rest of the command).
pub fn split_exec(command: &str) -> (&str, &str) {
    let trimmed = command.trim_start();
    match trimmed.find(char::is_whitespace) {
        Some(i) => (&trimmed[..i], trimmed[i..].trim_start()),
        None => (trimmed, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_names() {
        assert_eq!(
            parse_login_name("alice").unwrap(),
            LoginName {
                user: "alice".into(),
                target: None
            }
        );
        let l = parse_login_name("alice+root@web1").unwrap();
        assert_eq!(l.user, "alice");
        assert_eq!(
            l.target.unwrap(),
            TargetSpec {
                host: "web1".into(),
                login: Some("root".into())
            }
        );
        assert_eq!(
            parse_login_name("alice+web1").unwrap().target.unwrap().host,
            "web1"
        );
        assert!(parse_login_name("alice+").is_none());
        assert!(parse_login_name("+web1").is_none());
        assert!(parse_login_name("al ice").is_none());
        assert!(parse_login_name("alice+root@").is_none());
        assert!(parse_login_name("alice+a@b@c").is_none());
    }

    #[test]
    fn exec_split() {
        assert_eq!(split_exec("web1 uptime -p"), ("web1", "uptime -p"));
        assert_eq!(split_exec("  root@web1"), ("root@web1", ""));
        assert_eq!(split_exec(""), ("", ""));
    }
}
