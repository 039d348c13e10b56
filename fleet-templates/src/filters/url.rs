//! URLs: Ansible's `urldecode` (Python's `unquote_plus`), Jinja2's `urlencode` (a string keeps `/`; a dict or a list of pairs becomes a query
//! string with `+` for spaces, as Python's `quote` writes them) and Ansible's `urlsplit`
//! (Python's `urllib.parse.urlsplit`, as a dict or one of its fields).

use minijinja::value::{Value, ValueKind};
use minijinja::{Environment, Error};

use super::fail;
use crate::repr::py_string;

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("urlencode", urlencode);
    env.add_filter("urlsplit", urlsplit);
    env.add_filter("urldecode", |v: &Value| {
        crate::repr::text_input(v).map(|s| unquote_plus(&s))
    });
}

/// Python's `urllib.parse.unquote_plus`: `+` is a space, `%XX` a byte, the bytes read as
/// UTF-8 (an invalid sequence becomes U+FFFD).
fn unquote_plus(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'+', _) => out.push(b' '),
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 2;
            }
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Python's `urllib.parse.quote(text, safe)`: UTF-8 bytes, all but letters, digits, `_.-~`
/// and `safe` as `%XX`.
fn quote(text: &str, safe: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || b"_.-~".contains(&b) || safe.as_bytes().contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A query string's key or value: nothing is safe, and a space is `+`.
fn quote_for_query(value: &Value) -> String {
    quote(&py_string(value), "").replace("%20", "+")
}

fn urlencode(value: &Value) -> Result<String, Error> {
    let pairs: Vec<(Value, Value)> = match value.kind() {
        ValueKind::Map => value
            .try_iter()?
            .map(|k| {
                let v = value.get_item(&k).unwrap_or_default();
                (k, v)
            })
            .collect(),
        ValueKind::Seq | ValueKind::Iterable => value
            .try_iter()?
            .map(|pair| {
                (
                    pair.get_item(&Value::from(0)).unwrap_or_default(),
                    pair.get_item(&Value::from(1)).unwrap_or_default(),
                )
            })
            .collect(),
        _ => return Ok(quote(&crate::repr::text_input(value)?, "/")),
    };
    Ok(pairs
        .iter()
        .map(|(k, v)| format!("{}={}", quote_for_query(k), quote_for_query(v)))
        .collect::<Vec<_>>()
        .join("&"))
}

/// The fields of `urlsplit`, in the order Ansible lists them (alphabetical).
const FIELDS: [&str; 9] = [
    "fragment", "hostname", "netloc", "password", "path", "port", "query", "scheme", "username",
];

fn urlsplit(value: &Value, query: Option<String>) -> Result<Value, Error> {
    let url = crate::repr::text_input(value)?;
    let parts = split(&url)?;
    match query.filter(|q| !q.is_empty()) {
        None => Ok(Value::from_iter(
            FIELDS.iter().map(|f| (*f, parts.field(f))),
        )),
        Some(q) if FIELDS.contains(&q.as_str()) => Ok(parts.field(&q)),
        Some(q) => Err(fail(format!("urlsplit: unknown URL component: {q}"))),
    }
}

/// `urllib.parse.urlsplit`'s result.
struct Parts<'a> {
    scheme: String,
    netloc: &'a str,
    path: &'a str,
    query: &'a str,
    fragment: &'a str,
}

impl Parts<'_> {
    fn field(&self, name: &str) -> Value {
        let userinfo = self.netloc.rsplit_once('@').map(|(u, _)| u);
        let hostport = self.netloc.rsplit_once('@').map_or(self.netloc, |(_, h)| h);
        let (host, port) = split_host_port(hostport);
        match name {
            "scheme" => Value::from(self.scheme.clone()),
            "netloc" => Value::from(self.netloc),
            "path" => Value::from(self.path),
            "query" => Value::from(self.query),
            "fragment" => Value::from(self.fragment),
            "username" => userinfo.map_or(Value::from(()), |u| {
                Value::from(u.split_once(':').map_or(u, |(name, _)| name))
            }),
            "password" => userinfo
                .and_then(|u| u.split_once(':'))
                .map_or(Value::from(()), |(_, p)| Value::from(p)),
            "hostname" if host.is_empty() => Value::from(()),
            "hostname" => Value::from(host.to_lowercase()),
            "port" => port
                .and_then(|p| p.parse::<u16>().ok())
                .map_or(Value::from(()), Value::from),
            _ => Value::UNDEFINED,
        }
    }
}

/// `host[:port]`, an IPv6 address in brackets (`[::1]:22`) without them.
fn split_host_port(hostport: &str) -> (&str, Option<&str>) {
    if let Some(rest) = hostport.strip_prefix('[') {
        let (host, after) = rest.split_once(']').unwrap_or((rest, ""));
        return (host, after.strip_prefix(':').filter(|p| !p.is_empty()));
    }
    match hostport.split_once(':') {
        Some((host, port)) => (host, Some(port).filter(|p| !p.is_empty())),
        None => (hostport, None),
    }
}

fn split(url: &str) -> Result<Parts<'_>, Error> {
    let mut rest = url;
    let mut scheme = String::new();
    if let Some((candidate, after)) = url.split_once(':') {
        let valid = candidate
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && candidate
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
        if valid {
            scheme = candidate.to_lowercase();
            rest = after;
        }
    }
    let mut netloc = "";
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        netloc = &after[..end];
        rest = &after[end..];
        if netloc.contains('[') != netloc.contains(']') {
            return Err(fail("urlsplit: Invalid IPv6 URL"));
        }
    }
    let (rest, fragment) = rest.split_once('#').unwrap_or((rest, ""));
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    Ok(Parts {
        scheme,
        netloc,
        path,
        query,
        fragment,
    })
}
