//! The web console from a script: `curl` logged in with the one-time link a user gets from
//! `ssh bastion console`, holding the session cookie and the page's CSRF token.

use std::process::Command;

use crate::proc::run;
use crate::{secs, BastionHome, Client};

/// A logged-in console session on one node.
pub struct ConsoleCurl {
    pub base: String,
    pub cookie: String,
    pub csrf: String,
}

/// `curl -sk -D - ARGS` (the console's certificate is self-signed): headers, then the body.
pub fn curl(args: &[&str]) -> String {
    let out = run(
        Command::new("curl").args(["-sk", "-D", "-"]).args(args),
        secs(30),
    );
    out.assert_success();
    out.stdout
}

impl ConsoleCurl {
    /// Logs `user` (who `client` logs in as) in to `node`'s console.
    pub fn login(node: &BastionHome, client: &Client, user: &str) -> ConsoleCurl {
        let link = client.console_link(user);
        let headers = curl(&[&link, "-o", "/dev/null"]);
        let cookie = headers
            .lines()
            .find_map(|l| l.strip_prefix("set-cookie: "))
            .and_then(|c| c.split(';').next())
            .unwrap_or_else(|| panic!("no session cookie: {headers}"))
            .to_string();
        let base = node.console_url();
        let page = curl(&["-b", &cookie, &format!("{base}/sessions")]);
        let csrf = page
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("no CSRF token in {page}"))
            .to_string();
        ConsoleCurl { base, cookie, csrf }
    }

    /// The body of `GET path` (headers stripped).
    pub fn get(&self, path: &str) -> String {
        let all = curl(&["-b", &self.cookie, &format!("{}{path}", self.base)]);
        match all.split_once("\r\n\r\n") {
            Some((_, body)) => body.to_string(),
            None => all,
        }
    }

    /// `GET path` parsed as JSON.
    pub fn json(&self, path: &str) -> serde_json::Value {
        let body = self.get(path);
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
    }
}
