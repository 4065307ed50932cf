//! The report as a person reads it (text), as a table (CSV: the rows by key and a total), and
//! whole (JSON). Words are English, like the rest of the hub's command line.

use std::fmt::Write as _;

use super::{Report, Row, States};

/// JSON, pretty, every figure (see `Report`'s fields).
pub fn json(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_else(|_| "{}".into())
}

/// A CSV field (RFC 4180). A field that a spreadsheet would take for a formula (=, +, -, @,
/// tab, carriage return first) is prefixed with a quote: keys come from the units.
pub(super) fn field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_string() };
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text }
}

fn opt(n: Option<impl ToString>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

/// The CSV's columns after the key.
pub const CSV_COLUMNS: [&str; 9] = [
    "applications",
    "awaiting_manifest",
    "approved",
    "returned",
    "accepted",
    "rejected",
    "urgent",
    "green_channel",
    "median_capture_to_receipt_secs",
];

fn csv_line(out: &mut String, key: &str, s: &States, urgent: Option<usize>, green: Option<usize>, median: Option<i64>) {
    let _ = writeln!(
        out,
        "{},{},{},{},{},{},{},{},{},{}",
        field(key),
        s.applications,
        s.awaiting_manifest,
        s.approved,
        s.returned,
        s.accepted,
        s.rejected,
        opt(urgent),
        opt(green),
        opt(median)
    );
}

/// CSV: a header (the key's column is named for the breakdown), one line per row, and a last
/// line `(all)` with the totals. Urgent and green-channel cells are empty without the key.
pub fn csv(report: &Report) -> String {
    let mut out = format!("{},{}\n", report.by.name(), CSV_COLUMNS.join(","));
    for r in &report.rows {
        csv_line(&mut out, &r.key, &r.states, r.urgent, r.green_channel, r.median_capture_to_receipt_secs);
    }
    let median = report.capture_to_receipt.as_ref().map(|l| l.median_secs);
    csv_line(&mut out, "(all)", &report.total, report.urgent, report.green_channel, median);
    out
}

/// A duration in seconds as a person reads it: "45s", "12m", "3h 05m", "2d 04h".
pub fn duration(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
        s => format!("{}d {:02}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// The columns a key takes at a terminal: East Asian wide characters take two.
fn columns(text: &str) -> usize {
    let wide = |c: char| matches!(c as u32, 0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD);
    text.chars().map(|c| if wide(c) { 2 } else { 1 }).sum()
}

/// `text` padded with spaces to `width` columns.
fn pad(text: &str, width: usize) -> String {
    format!("{text}{}", " ".repeat(width.saturating_sub(columns(text))))
}

fn row_text(out: &mut String, width: usize, r: &Row) {
    let s = &r.states;
    let _ = write!(
        out,
        "  {} {:>5} {:>8} {:>8} {:>8} {:>8} {:>8}",
        pad(&r.key, width),
        s.applications,
        s.awaiting_manifest,
        s.approved,
        s.returned,
        s.accepted,
        s.rejected
    );
    if let (Some(u), Some(g)) = (r.urgent, r.green_channel) {
        let _ = write!(out, " {u:>6} {g:>6}");
    }
    let _ = writeln!(out, " {:>8}", r.median_capture_to_receipt_secs.map(duration).unwrap_or_else(|| "-".into()));
}

/// The report for a person at a terminal.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Applications received {} to {} (days in UTC{}), by {}: {}",
        report.from,
        report.to,
        report.time_zone,
        report.by.name(),
        report.total.applications
    );
    let t = &report.total;
    let _ = writeln!(
        out,
        "  awaiting the supervisor's manifest {}, approved {}, returned by the supervisor {}, accepted {}, rejected {}",
        t.awaiting_manifest, t.approved, t.returned, t.accepted, t.rejected
    );
    if let (Some(u), Some(g)) = (report.urgent, report.green_channel) {
        let _ = writeln!(out, "  urgent (加急) {u}; green channel (urgent or a priority category) {g}");
    }
    if let Some(grounds) = report.urgent_grounds.as_ref().filter(|g| !g.is_empty()) {
        let list: Vec<String> = grounds.iter().map(|(k, n)| format!("{k} {n}")).collect();
        let _ = writeln!(out, "  urgent grounds: {}", list.join(", "));
    }
    match &report.capture_to_receipt {
        Some(l) => {
            let _ = writeln!(
                out,
                "  capture to receipt: median {}, 90th percentile {}, longest {}{}",
                duration(l.median_secs),
                duration(l.p90_secs),
                duration(l.max_secs),
                if l.unit_clock_ahead > 0 {
                    format!(" ({} sealed by a unit whose clock was ahead, counted as 0)", l.unit_clock_ahead)
                } else {
                    String::new()
                }
            );
        }
        None => {
            let _ = writeln!(out, "  capture to receipt: no applications");
        }
    }
    let width = report.rows.iter().map(|r| columns(&r.key)).max().unwrap_or(0).max(report.by.name().len());
    let _ = write!(
        out,
        "\n  {} {:>5} {:>8} {:>8} {:>8} {:>8} {:>8}",
        pad(report.by.name(), width),
        "apps",
        "awaiting",
        "approved",
        "returned",
        "accepted",
        "rejected"
    );
    if report.opened {
        let _ = write!(out, " {:>6} {:>6}", "urgent", "green");
    }
    let _ = writeln!(out, " {:>8}", "median");
    for r in &report.rows {
        row_text(&mut out, width, r);
    }
    let _ = writeln!(out, "  (median: from capture to receipt, in the row)");
    if report.rows_overlap {
        let _ =
            writeln!(out, "  (an application in several rows counts in each: the rows add up to more than the total)");
    }
    if !report.reasons.is_empty() {
        let _ = writeln!(out, "\nReasons for returns and rejections:");
        for r in &report.reasons {
            let _ = writeln!(out, "  {:>4}  {:<11} {}", r.count, r.by, r.reason);
        }
    }
    if let Some(f) = &report.feedback {
        let list = |m: &std::collections::BTreeMap<String, usize>| {
            m.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ")
        };
        let _ = writeln!(out, "\nFeedback received: {}", f.received);
        if f.received > 0 {
            let _ = writeln!(out, "  by box: {}", list(&f.by_kind));
            let _ = writeln!(out, "  by state: {}", list(&f.by_state));
        }
        let _ = writeln!(out, "  poor ratings (complaints they opened): {}", f.poor_ratings);
    }
    let _ = writeln!(out, "\nNot in this report:");
    for u in &report.unavailable {
        let _ = writeln!(out, "  {}: {}", u.figure, u.reason);
    }
    out
}
