//! The page frame and small pieces every page uses. Every value goes through maud's `(…)`
//! interpolation, which escapes it: nothing a user or a target wrote becomes markup.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};
use policies::ConsoleRight;
use store::Page;

use crate::auth::Viewer;

/// Which page the navigation marks as current.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Sessions,
    Commands,
    Live,
    Audit,
    Reports,
    Requests,
}

/// The frame of every logged-in page. `player`: load the asciinema-player (session pages).
pub fn layout(viewer: &Viewer, nav: Nav, title: &str, player: bool, body: Markup) -> Markup {
    let link = |href: &str, text: &str, this: Nav| {
        html! { a href=(href) aria-current=[(nav == this).then_some("page")] { (text) } }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · bastion console" }
                link rel="stylesheet" href="/assets/console.css";
                @if player {
                    link rel="stylesheet" href="/assets/asciinema-player.css";
                    script src="/assets/asciinema-player.min.js" defer {}
                }
                script src="/assets/console.js" defer {}
            }
            body {
                header {
                    span.brand { "bastion console" }
                    @if viewer.grant.has(ConsoleRight::Audit) {
                        (link("/sessions", "Sessions", Nav::Sessions))
                        (link("/commands", "Commands", Nav::Commands))
                        (link("/audit", "Audit log", Nav::Audit))
                        (link("/reports", "Reports", Nav::Reports))
                    }
                    @if viewer.grant.has(ConsoleRight::Live) {
                        (link("/live", "Live", Nav::Live))
                    }
                    @if viewer.grant.has(ConsoleRight::Approve) {
                        (link("/requests", "Requests", Nav::Requests))
                    }
                    span.who { (viewer.user) }
                    form method="post" action="/logout" {
                        input type="hidden" name="csrf" value=(viewer.csrf);
                        button type="submit" { "Log out" }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// A page with a title and one message, for people not logged in (or refused).
pub fn message_page(title: &str, text: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (title) " · bastion console" }
                link rel="stylesheet" href="/assets/console.css";
            }
            body {
                header { span.brand { "bastion console" } }
                main { h1 { (title) } p { (text) } }
            }
        }
    }
}

/// A store error: logged, and a 500 without details for the browser.
pub fn internal(e: &dyn std::fmt::Display) -> Response {
    tracing::error!("console: {e}");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        message_page(
            "Error",
            "The bastion could not answer this request; see its log.",
        ),
    )
        .into_response()
}

/// A timestamp as the CLI shows it (local time).
pub fn when(ts: f64) -> String {
    store::format_ts(ts)
}

/// A duration in seconds, as `1h 02m 03s`.
pub fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0) as u64;
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, m, sec) => format!("{m}m {sec:02}s"),
        (h, m, sec) => format!("{h}h {m:02}m {sec:02}s"),
    }
}

/// A byte count with a binary unit.
pub fn bytes(n: i64) -> String {
    let n = n.max(0) as f64;
    match n {
        n if n < 1024.0 => format!("{n} B"),
        n if n < 1024.0 * 1024.0 => format!("{:.1} KiB", n / 1024.0),
        n if n < 1024.0 * 1024.0 * 1024.0 => format!("{:.1} MiB", n / 1024.0 / 1024.0),
        n => format!("{:.2} GiB", n / 1024.0 / 1024.0 / 1024.0),
    }
}

/// "Previous / next" links for a page, keeping the other query parameters (`query` without
/// `offset`, already URL-encoded).
/// `cursors`: the keyset cursors of the page's first and last rows, where the list has them:
/// then the links carry `before`/`after` and `offset` only numbers the rows.
pub fn pager<T>(
    path: &str,
    query: &str,
    page: &Page<T>,
    cursors: Option<(String, String)>,
) -> Markup {
    let first = if page.total == 0 { 0 } else { page.offset + 1 };
    let last = page.offset + page.items.len() as u64;
    let link = |offset: u64| {
        let sep = if query.is_empty() { "" } else { "&" };
        let key = match (&cursors, offset > page.offset) {
            (Some((_, last)), true) => format!("&after={last}"),
            (Some((first, _)), false) if offset > 0 => format!("&before={first}"),
            _ => String::new(),
        };
        format!("{path}?{query}{sep}offset={offset}{key}")
    };
    html! {
        div.pager {
            span.muted {
                (first) "–" (last) " of "
                @if page.capped { "more than " }
                (page.total)
            }
            @if page.offset > 0 {
                a rel="prev" href=(link(page.offset.saturating_sub(page.limit))) { "← newer" }
            }
            @if last < page.total {
                a rel="next" href=(link(last)) { "older →" }
            }
        }
    }
}

/// Parses a filter time: `YYYY-MM-DD` (local midnight; `end_of_day` takes the next midnight,
/// so a "to" date includes that day) or RFC 3339.
pub fn parse_time(text: &str, end_of_day: bool) -> Option<f64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp() as f64);
    }
    let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    let day = if end_of_day { day.succ_opt()? } else { day };
    let local = day.and_hms_opt(0, 0, 0)?.and_local_timezone(chrono::Local);
    Some(local.earliest()?.timestamp() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_bytes_and_times_read_naturally() {
        assert_eq!(duration(5.4), "5s");
        assert_eq!(duration(65.0), "1m 05s");
        assert_eq!(duration(3723.0), "1h 02m 03s");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(3 * 1024 * 1024), "3.0 MiB");
        let from = parse_time("2026-12-05", false).unwrap();
        let to = parse_time("2026-12-05", true).unwrap();
        assert!(
            (to - from - 86400.0).abs() <= 3600.0,
            "a day, give or take DST"
        );
        assert_eq!(
            parse_time("2026-12-05T10:00:00Z", false),
            Some(1796464800.0)
        );
        assert_eq!(parse_time("yesterday", false), None);
        assert_eq!(parse_time("", false), None);
    }

    #[test]
    fn interpolated_text_is_escaped() {
        let evil = "<script>alert(1)</script><img src=x onerror=alert(2)>";
        let page = message_page(evil, evil).into_string();
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(!page.contains("<img"), "{page}");
        assert!(page.contains("&lt;script&gt;"), "{page}");
    }
}
