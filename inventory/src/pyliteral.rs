//! Python literal evaluation of INI values, as Ansible's INI plugin does with `ast.literal_eval`.
//!
//! In an INI inventory `port=22` is the int 22, `debug=True` a bool, `tags=['a', 'b']` a list and
//! `name='x'` the string x, while `flag=yes` or `path=/tmp` stay strings because they are not Python
//! literals. Anything that fails to evaluate is kept verbatim, exactly like Ansible.

use serde_json::{Map, Number, Value};

use crate::yaml11::marked_float_to_json as float_to_json;

/// Deepest nesting evaluated; deeper values are kept as strings.
const MAX_DEPTH: usize = 100;

/// Evaluates `text` as a Python literal; returns it as a string if it is not one.
pub fn eval(text: &str) -> Value {
    let trimmed = text.trim_start_matches([' ', '\t']);
    let mut p = Parser {
        s: trimmed.as_bytes(),
        src: trimmed,
        i: 0,
        depth: 0,
    };
    match p.top() {
        Some(v) => v,
        None => Value::String(text.to_string()),
    }
}

/// A literal as parsed, before conversion to JSON (dict keys need the distinction).
enum Lit {
    Str(String),
    Int(i128),
    Float(f64),
    Bool(bool),
    None,
    Ellipsis,
    List(Vec<Lit>),
    Dict(Vec<(Lit, Lit)>),
}

struct Parser<'a> {
    s: &'a [u8],
    src: &'a str,
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    /// `expr` or a bare tuple `a, b`, followed only by blanks and a comment.
    fn top(&mut self) -> Option<Value> {
        let first = self.expr()?;
        let value = if self.eat(b',') {
            let mut items = vec![first];
            self.rest_of_list(&mut items, None)?;
            Lit::List(items)
        } else {
            first
        };
        self.skip_ws();
        if self.i != self.s.len() {
            return None;
        }
        to_json(value)
    }

    fn skip_ws(&mut self) {
        while let Some(&c) = self.s.get(self.i) {
            match c {
                b' ' | b'\t' | b'\x0c' => self.i += 1,
                b'#' => self.i = self.s.len(),
                _ => break,
            }
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// Parses items after a first one (and its comma) up to `close` (or end for a bare tuple).
    fn rest_of_list(&mut self, items: &mut Vec<Lit>, close: Option<u8>) -> Option<()> {
        loop {
            let next = self.peek();
            if next == close || (close.is_none() && next.is_none()) {
                return Some(());
            }
            items.push(self.expr()?);
            if !self.eat(b',') {
                return Some(());
            }
        }
    }

    fn expr(&mut self) -> Option<Lit> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let v = self.atom();
        self.depth -= 1;
        v
    }

    fn atom(&mut self) -> Option<Lit> {
        match self.peek()? {
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                self.rest_of_list(&mut items, Some(b']'))?;
                self.eat(b']').then_some(Lit::List(items))
            }
            b'(' => {
                self.i += 1;
                if self.eat(b')') {
                    return Some(Lit::List(Vec::new()));
                }
                let first = self.expr()?;
                if self.eat(b')') {
                    return Some(first); // parenthesised expression, not a tuple
                }
                if !self.eat(b',') {
                    return None;
                }
                let mut items = vec![first];
                self.rest_of_list(&mut items, Some(b')'))?;
                self.eat(b')').then_some(Lit::List(items))
            }
            b'{' => {
                self.i += 1;
                self.dict_or_set()
            }
            b'+' | b'-' => {
                let neg = self.s[self.i] == b'-';
                self.i += 1;
                self.skip_ws();
                match self.number()? {
                    Lit::Int(i) => Some(Lit::Int(if neg { -i } else { i })),
                    Lit::Float(f) => Some(Lit::Float(if neg { -f } else { f })),
                    _ => None,
                }
            }
            b'0'..=b'9' => self.number(),
            b'.' if self.s[self.i..].starts_with(b"...") => {
                self.i += 3;
                Some(Lit::Ellipsis)
            }
            b'.' => self.number(),
            _ => self.name_or_string(),
        }
    }

    fn dict_or_set(&mut self) -> Option<Lit> {
        if self.eat(b'}') {
            return Some(Lit::Dict(Vec::new()));
        }
        let first = self.expr()?;
        if !self.eat(b':') {
            let mut items = vec![first];
            if self.eat(b',') {
                self.rest_of_list(&mut items, Some(b'}'))?;
            }
            return self.eat(b'}').then_some(Lit::List(items));
        }
        let mut pairs = vec![(first, self.expr()?)];
        while self.eat(b',') {
            if self.peek() == Some(b'}') {
                break;
            }
            let k = self.expr()?;
            if !self.eat(b':') {
                return None;
            }
            pairs.push((k, self.expr()?));
        }
        self.eat(b'}').then_some(Lit::Dict(pairs))
    }

    /// A Python int or float literal (`_` separators, `0x`/`0o`/`0b`; complex is refused).
    fn number(&mut self) -> Option<Lit> {
        let start = self.i;
        while let Some(&c) = self.s.get(self.i) {
            let exp_sign = (c == b'+' || c == b'-')
                && self.i > start
                && matches!(self.s[self.i - 1], b'e' | b'E')
                && !self.src[start..self.i].starts_with("0x")
                && !self.src[start..self.i].starts_with("0X");
            if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || exp_sign {
                self.i += 1;
            } else {
                break;
            }
        }
        let tok = &self.src[start..self.i];
        if tok.contains("__") || tok.ends_with('_') || tok.contains("_.") || tok.contains("._") {
            return None;
        }
        let lower = tok.to_ascii_lowercase();
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
            if let Some(digits) = lower.strip_prefix(prefix) {
                let digits = digits.replace('_', "");
                if digits.is_empty() {
                    return None;
                }
                return i128::from_str_radix(&digits, radix).ok().map(Lit::Int);
            }
        }
        let lower = lower.replace('_', "");
        if lower.bytes().all(|b| b.is_ascii_digit()) {
            if lower.len() > 1 && lower.starts_with('0') && lower.bytes().any(|b| b != b'0') {
                return None; // leading zeros are a SyntaxError in Python 3
            }
            return lower.parse().ok().map(Lit::Int);
        }
        let is_float_chars = lower
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'+' | b'-'));
        if !is_float_chars || lower.matches('.').count() > 1 || lower.starts_with('e') {
            return None;
        }
        let mantissa = lower.split('e').next().unwrap_or("");
        if mantissa == "." || mantissa.is_empty() {
            return None;
        }
        lower.parse::<f64>().ok().map(Lit::Float)
    }

    /// `True`/`False`/`None` or one or more adjacent string literals.
    fn name_or_string(&mut self) -> Option<Lit> {
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            self.i += 1;
        }
        let word = &self.src[start..self.i];
        match word {
            "True" => return Some(Lit::Bool(true)),
            "False" => return Some(Lit::Bool(false)),
            "None" => return Some(Lit::None),
            _ => {}
        }
        self.i = start;
        let mut out = String::new();
        let mut any = false;
        while let Some(c) = self.peek() {
            if !(c == b'\'' || c == b'"' || c.is_ascii_alphabetic()) {
                break;
            }
            out.push_str(&self.string()?);
            any = true;
        }
        any.then_some(Lit::Str(out))
    }

    /// One string literal with an optional `r`/`u`/`b` prefix.
    fn string(&mut self) -> Option<String> {
        let start = self.i;
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_alphabetic()) {
            self.i += 1;
        }
        let prefix = self.src[start..self.i].to_ascii_lowercase();
        if !matches!(prefix.as_str(), "" | "r" | "u" | "b" | "br" | "rb") {
            return None;
        }
        let raw = prefix.contains('r');
        let quote = *self.s.get(self.i)?;
        if quote != b'\'' && quote != b'"' {
            return None;
        }
        let triple = self.s[self.i..].starts_with(&[quote; 3]);
        self.i += if triple { 3 } else { 1 };
        let mut out = String::new();
        loop {
            let rest = &self.src[self.i..];
            let c = rest.chars().next()?;
            if triple && rest.as_bytes().starts_with(&[quote; 3]) {
                self.i += 3;
                return Some(out);
            }
            if !triple && c as u32 == quote as u32 {
                self.i += 1;
                return Some(out);
            }
            self.i += c.len_utf8();
            if c != '\\' {
                out.push(c);
                continue;
            }
            let e = self.src[self.i..].chars().next()?;
            self.i += e.len_utf8();
            if raw {
                out.push('\\');
                out.push(e);
                continue;
            }
            match e {
                '\\' | '\'' | '"' => out.push(e),
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'a' => out.push('\x07'),
                'b' => out.push('\x08'),
                'f' => out.push('\x0c'),
                'v' => out.push('\x0b'),
                'x' => out.push(self.hex_escape(2)?),
                'u' => out.push(self.hex_escape(4)?),
                'U' => out.push(self.hex_escape(8)?),
                '0'..='7' => {
                    let mut v = e as u32 - '0' as u32;
                    for _ in 0..2 {
                        match self.s.get(self.i) {
                            Some(&d @ b'0'..=b'7') => {
                                v = v * 8 + (d - b'0') as u32;
                                self.i += 1;
                            }
                            _ => break,
                        }
                    }
                    out.push(char::from_u32(v)?);
                }
                'N' => return None,
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
        }
    }

    fn hex_escape(&mut self, n: usize) -> Option<char> {
        let digits = self.src.get(self.i..self.i + n)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.i += n;
        char::from_u32(u32::from_str_radix(digits, 16).ok()?)
    }
}

/// Converts to JSON; big ints become their decimal text, dict keys become strings.
fn to_json(lit: Lit) -> Option<Value> {
    Some(match lit {
        Lit::Str(s) => Value::String(s),
        Lit::Int(i) => match i64::try_from(i) {
            Ok(v) => Value::Number(Number::from(v)),
            Err(_) => Value::String(i.to_string()),
        },
        Lit::Float(f) => float_to_json(f),
        Lit::Bool(b) => Value::Bool(b),
        Lit::None => Value::Null,
        Lit::Ellipsis => Value::String("...".into()),
        Lit::List(items) => Value::Array(items.into_iter().map(to_json).collect::<Option<_>>()?),
        Lit::Dict(pairs) => {
            let mut map = Map::new();
            for (k, v) in pairs {
                let key = match to_json(k)? {
                    Value::String(s) => s,
                    Value::Array(_) | Value::Object(_) => return None, // unhashable
                    other => other.to_string(),
                };
                map.insert(key, to_json(v)?);
            }
            Value::Object(map)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::eval;
    use serde_json::json;

    #[test]
    fn scalars() {
        assert_eq!(eval("22"), json!(22));
        assert_eq!(eval("-3"), json!(-3));
        assert_eq!(eval("1_000"), json!(1000));
        assert_eq!(eval("0x1F"), json!(31));
        assert_eq!(eval("0o644"), json!(420));
        assert_eq!(eval("1.5"), json!(1.5));
        assert_eq!(eval("1e3"), json!(1000.0));
        assert_eq!(eval(".5"), json!(0.5));
        assert_eq!(eval("True"), json!(true));
        assert_eq!(eval("False"), json!(false));
        assert_eq!(eval("None"), json!(null));
        assert_eq!(eval("'quoted 5'"), json!("quoted 5"));
        assert_eq!(eval("\"5\""), json!("5"));
        assert_eq!(eval("'a' \"b\""), json!("ab"));
        assert_eq!(eval(r"'x\ty\x41\u00e9'"), json!("x\tyA\u{e9}"));
        assert_eq!(eval(r"r'\d+'"), json!(r"\d+"));
        assert_eq!(eval("42 # comment"), json!(42));
    }

    #[test]
    fn non_literals_stay_strings() {
        for s in [
            "yes",
            "true",
            "/tmp/x",
            "0644",
            "1.2.3",
            "10.0.0.1",
            "a=b",
            "",
            "-True",
            "1__0",
            "1_",
            "f'x'",
            "'open",
            "[1, 2",
            "{1: }",
            "1 2",
            "web01",
            "--1",
            "0x",
            "1j",
            "'\\N{DASH}'",
            "[[1], ]x",
        ] {
            assert_eq!(eval(s), json!(s), "{s}");
        }
    }

    #[test]
    fn containers() {
        assert_eq!(eval("[1, 'a', [True]]"), json!([1, "a", [true]]));
        assert_eq!(eval("(1,)"), json!([1]));
        assert_eq!(eval("(1)"), json!(1));
        assert_eq!(eval("1, 2"), json!([1, 2]));
        assert_eq!(
            eval("{'a': 1, 2: None, True: 'x',}"),
            json!({"a": 1, "2": null, "true": "x"})
        );
        assert_eq!(eval("{1, 2}"), json!([1, 2]));
        assert_eq!(eval("{}"), json!({}));
        assert_eq!(eval("{[1]: 2}"), json!("{[1]: 2}"));
    }

    #[test]
    fn big_and_deep_values_do_not_break() {
        assert_eq!(eval("99999999999999999999"), json!("99999999999999999999"));
        assert_eq!(eval("1e999"), json!("inf"));
        let deep = "[".repeat(1000) + &"]".repeat(1000);
        assert_eq!(eval(&deep), json!(deep));
        for s in [
            "\u{e9}",
            "'\u{e9}'",
            "[\u{e9}]",
            "{'\u{e9}':",
            "0x\u{e9}",
            "1.\u{e9}",
        ] {
            let _ = eval(s);
        }
    }
}
