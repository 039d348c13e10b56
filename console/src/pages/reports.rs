//! Reports: sessions, commands, blocked commands, denials and failed logins per day as bar
//! charts (SVG drawn here, no chart script), the top users and hosts, for a chosen range
//! (default: the last 30 days); the same as CSV and JSON. Scoped like every audit view: a
//! viewer of some hosts counts only their sessions, commands and denials, and no failed
//! logins (those name no host).

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde::{Deserialize, Serialize};
use store::{Report, ReportQuery, Totals};

use crate::auth::Viewer;
use crate::html::{self, Nav};
use crate::{scope, AppState};

const DAY: f64 = 86400.0;

/// One number of a day's totals.
type Metric = fn(&Totals) -> i64;
/// The longest range one report covers (a chart of more days is unreadable anyway).
const MAX_DAYS: f64 = 366.0;

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct Params {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// The report with the range it covers.
#[derive(Serialize)]
pub struct RangeReport {
    pub from: String,
    pub to: String,
    #[serde(flatten)]
    pub report: Report,
    /// `from` and `to` as Unix seconds, for the page.
    #[serde(skip)]
    span: (f64, f64),
}

fn fetch(
    state: &AppState,
    viewer: &Viewer,
    p: &Params,
) -> Result<RangeReport, axum::response::Response> {
    let hosts = scope::audit_hosts(state, viewer, "reports")?;
    let now = store::now_ts();
    let to = super::time("to", &p.to, true)?.unwrap_or(now + 1.0);
    let from = super::time("from", &p.from, false)?
        .unwrap_or(to - 30.0 * DAY)
        .max(to - MAX_DAYS * DAY);
    let report = state
        .backend
        .store()
        .report_range(&ReportQuery { from, to, hosts })
        .map_err(|e| html::internal(&e))?;
    Ok(RangeReport {
        from: store::rfc3339(from),
        to: store::rfc3339(to),
        report,
        span: (from, to),
    })
}

/// `GET /api/v1/reports`.
pub async fn json(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(p): Query<Params>,
) -> Response {
    super::off_runtime(move || json_blocking(state, viewer, p)).await
}

fn json_blocking(state: AppState, viewer: Viewer, p: Params) -> Response {
    super::json_of(fetch(&state, &viewer, &p))
}

/// A CSV field: quoted when needed; a leading `=`, `+`, `-`, `@` is prefixed with `'` so a
/// spreadsheet never runs a user or host name as a formula.
fn csv_field(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

/// `GET /reports.csv`: one row per (grouping, key).
pub async fn csv(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(p): Query<Params>,
) -> Response {
    super::off_runtime(move || csv_blocking(state, viewer, p)).await
}

fn csv_blocking(state: AppState, viewer: Viewer, p: Params) -> Response {
    let r = match fetch(&state, &viewer, &p) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let mut out = String::from(
        "grouping,key,sessions,seconds,commands,blocked_commands,denials,failed_logins\n",
    );
    for (grouping, map) in [
        ("day", &r.report.days),
        ("user", &r.report.users),
        ("host", &r.report.hosts),
    ] {
        for (key, t) in map {
            out.push_str(&format!(
                "{grouping},{},{},{:.0},{},{},{},{}\n",
                csv_field(key),
                t.sessions,
                t.seconds,
                t.commands,
                t.blocked_commands,
                t.denials,
                t.failed_logins
            ));
        }
    }
    (
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                CONTENT_DISPOSITION,
                "attachment; filename=\"bastion-report.csv\"",
            ),
        ],
        out,
    )
        .into_response()
}

/// `GET /reports`.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(p): Query<Params>,
) -> Response {
    super::off_runtime(move || page_blocking(state, viewer, p)).await
}

fn page_blocking(state: AppState, viewer: Viewer, p: Params) -> Response {
    let r = match fetch(&state, &viewer, &p) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let query = serde_urlencoded::to_string(&p).unwrap_or_default();
    let value = super::value;
    let metrics: [(&str, Metric); 5] = [
        ("sessions", |t| t.sessions),
        ("commands", |t| t.commands),
        ("blocked commands", |t| t.blocked_commands),
        ("denials", |t| t.denials),
        ("failed logins", |t| t.failed_logins),
    ];
    let mut days: BTreeMap<String, Totals> = calendar_days(r.span.0, r.span.1)
        .into_iter()
        .map(|day| (day, Totals::default()))
        .collect();
    days.extend(r.report.days);
    let body = html! {
        form.filters method="get" action="/reports" {
            label { "from" input type="date" name="from" value=(value(&p.from)); }
            label { "to" input type="date" name="to" value=(value(&p.to)); }
            button type="submit" { "Show" }
            a href=(format!("/reports.csv?{query}")) { "CSV" }
            a href=(format!("/api/v1/reports?{query}")) { "JSON" }
        }
        p.muted { "From " (html::when(r.span.0)) " to " (html::when(r.span.1)) " (days in the bastion's time zone)." }
        div.charts {
            @for (name, get) in metrics {
                figure.chart {
                    figcaption { (name) " per day" }
                    (bar_chart(&days, get))
                }
            }
        }
        div.split {
            div { h2 { "Top users" } (top(&r.report.users, "user")) }
            div { h2 { "Top hosts" } (top(&r.report.hosts, "host")) }
        }
    };
    html::layout(&viewer, Nav::Reports, "Reports", false, body).into_response()
}

/// Every calendar day (local, as the store groups them) from `from` up to `to` (exclusive), so
/// a chart's axis is the whole range and a day without activity shows as a gap, not as
/// nothing.
fn calendar_days(from: f64, to: f64) -> Vec<String> {
    use chrono::{Local, TimeZone};
    let day_of = |ts: f64| {
        Local
            .timestamp_opt(ts.floor() as i64, 0)
            .single()
            .map(|t| t.date_naive())
    };
    let (Some(first), Some(last)) = (day_of(from), day_of((to - 1.0).max(from))) else {
        return Vec::new();
    };
    first
        .iter_days()
        .take_while(|d| *d <= last)
        .take(MAX_DAYS as usize + 1)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .collect()
}

/// A bar per day; the day and value in each bar's `<title>` (shown on hover).
fn bar_chart(days: &BTreeMap<String, Totals>, get: Metric) -> Markup {
    // About the width a chart is shown at, so its 10-unit labels read as 10px text.
    let (w, h, pad) = (360.0, 120.0, 18.0);
    let peak = days.values().map(get).max().unwrap_or(0);
    let max = peak.max(1) as f64;
    let n = days.len().max(1) as f64;
    let slot = (w - 2.0 * pad) / n;
    let total: i64 = days.values().map(get).sum();
    html! {
        svg viewBox=(format!("0 0 {w} {h}")) role="img" aria-label=(format!("{total} in total")) {
            line x1=(pad) y1=(h - pad) x2=(w - pad) y2=(h - pad) class="axis" {}
            text x=(pad) y="12" class="label" { "max " (peak) ", total " (total) }
            @for (i, (day, t)) in days.iter().enumerate() {
                @let v = get(t) as f64;
                @let bh = (h - 2.0 * pad) * v / max;
                rect x=(format!("{:.1}", pad + i as f64 * slot + slot * 0.1)) y=(format!("{:.1}", h - pad - bh))
                    width=(format!("{:.1}", (slot * 0.8).max(1.0))) height=(format!("{:.1}", bh)) class="bar" {
                    title { (day) ": " (v as i64) }
                }
            }
            @if let (Some(first), Some(last)) = (days.keys().next(), days.keys().last()) {
                text x=(pad) y=(h - 3.0) class="label" { (first) }
                text x=(w - pad) y=(h - 3.0) class="label end" { (last) }
            }
        }
    }
}

fn top(map: &BTreeMap<String, Totals>, what: &str) -> Markup {
    let mut rows: Vec<(&String, &Totals)> = map.iter().filter(|(k, _)| !k.is_empty()).collect();
    rows.sort_by(|a, b| {
        b.1.sessions
            .cmp(&a.1.sessions)
            .then(b.1.commands.cmp(&a.1.commands))
    });
    rows.truncate(10);
    html! {
        table.top {
            thead { tr { th { (what) } th { "sessions" } th { "time" } th { "commands" } th { "blocked" } th { "denials" } th { "failed logins" } } }
            tbody {
                @for (k, t) in rows {
                    tr {
                        td { (k) } td.num { (t.sessions) } td.num { (html::duration(t.seconds)) }
                        td.num { (t.commands) } td.num { (t.blocked_commands) } td.num { (t.denials) } td.num { (t.failed_logins) }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv_field("web1"), "web1");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn a_range_is_charted_day_by_day_including_days_without_activity() {
        let from = html::parse_time("2026-11-28", false).unwrap();
        let to = html::parse_time("2026-12-05", true).unwrap();
        let days = calendar_days(from, to);
        assert_eq!(days.len(), 8, "{days:?}");
        assert_eq!(days.first().unwrap(), "2026-11-28");
        assert_eq!(days.last().unwrap(), "2026-12-05");
        // A range ending mid-day includes that day; one ending at midnight does not.
        assert_eq!(calendar_days(from, from + 3600.0), vec!["2026-11-28"]);
        assert_eq!(
            calendar_days(from, html::parse_time("2026-11-28", true).unwrap()),
            vec!["2026-11-28"]
        );
    }

    #[test]
    fn a_chart_has_a_bar_per_day_scaled_to_the_largest() {
        let mut days = BTreeMap::new();
        for (d, n) in [("2026-12-01", 2), ("2026-12-02", 4)] {
            days.insert(
                d.to_string(),
                Totals {
                    sessions: n,
                    ..Default::default()
                },
            );
        }
        let svg = bar_chart(&days, |t| t.sessions).into_string();
        assert_eq!(svg.matches("<rect").count(), 2, "{svg}");
        assert!(
            svg.contains("2026-12-02: 4") && svg.contains("max 4, total 6"),
            "{svg}"
        );
        assert!(
            svg.contains("height=\"84.0\""),
            "the largest bar is full height: {svg}"
        );
    }
}
