//! `doorstep-hub report`: the numbers the bureau's leaders read, for a range of days.
//!
//! What is counted is every application the hub **received** on a day of the range, inclusive at
//! both ends, each day taken in China Standard Time (UTC+08:00, no daylight saving), the zone
//! the units and the hall work in. Receipt, not capture, is the basis: it is the hub's own
//! clock, known without opening anything, and a report on a past range does not change when a
//! late tablet syncs a capture from that range afterwards.
//!
//! Where each figure comes from:
//! - the hub's records, always: the device that uploaded it (its certificate's name), the day
//!   of receipt, and its state: awaiting its supervisor's batch manifest, approved (released to
//!   the back office), returned by the supervisor with a reason, accepted or rejected by the
//!   back office with a reason;
//! - the envelope's clear header, always (it is signed by the device and the officer and
//!   checked at upload): the officer, and the time the unit sealed it, which is the moment
//!   the capture was completed; "capture to receipt" is receipt minus that;
//! - the sealed form, only with the bureau's private key (`--key`): the services, urgent
//!   grounds (加急) and the priority categories. The serving hub never holds that key
//!   (`crate::export`), so without it these figures are listed as unavailable, not guessed.
//!
//! Feedback (praise, opinions, complaints, 办不成事) is counted from the hub's own records of it
//! (box, category, state; [`feedback`]), never its sealed words. A rating (好差评) is given on the
//! unit after the application is sealed: only a poor one reaches the hub, as the complaint it
//! opens; the others are listed as unavailable rather than as zero.
//!
//! This module counts; it does no IO. [`gather`] reads the store, [`render`] writes text, CSV
//! and JSON, [`chart`] draws the PNG.

pub mod chart;
pub mod feedback;
mod form;
pub mod gather;
pub mod render;

use std::collections::BTreeMap;

use serde::Serialize;
use time::{Date, OffsetDateTime, UtcOffset};

pub use doorstep_sync::wire::Status;
pub use form::{FormFacts, form_facts};

/// China Standard Time: the day an application is counted under.
pub const CHINA_STANDARD_TIME: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// Above this many days a report by day lists only the days that have applications.
pub const MAX_LISTED_DAYS: i64 = 366;

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{given:?} is not a date: write it as YYYY-MM-DD, for example 2026-12-01")]
    BadDate { given: String },
    #[error("the range ends ({to}) before it starts ({from})")]
    BackwardRange { from: String, to: String },
    #[error("{given:?} is not a chart size: write it as WIDTHxHEIGHT, each from 320 to 4000 pixels")]
    BadSize { given: String },
    #[error("the bureau private key file {path}: {problem}")]
    Key { path: String, problem: String },
    #[error("{id}: cannot open it with this key (is it the bureau key the tablets seal to?)")]
    Open { id: String },
    #[error("{id}: received but its envelope is missing")]
    Missing { id: String },
    #[error("{id}: the stored envelope does not parse: {problem}")]
    Envelope { id: String, problem: String },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("a report by {by} needs the sealed forms: give --key (the bureau private key file)")]
    NeedsKey { by: &'static str },
    #[error("the chart: {0}")]
    Chart(String),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// The days of a report, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub from: Date,
    pub to: Date,
}

/// Parses `YYYY-MM-DD` (nothing else: no times, no other orders).
pub fn parse_date(text: &str) -> Result<Date, ReportError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text.trim(), &format).map_err(|_| ReportError::BadDate { given: text.to_string() })
}

impl DateRange {
    pub fn parse(from: &str, to: &str) -> Result<DateRange, ReportError> {
        let (from, to) = (parse_date(from)?, parse_date(to)?);
        if to < from {
            return Err(ReportError::BackwardRange { from: from.to_string(), to: to.to_string() });
        }
        Ok(DateRange { from, to })
    }

    /// The day (China Standard Time) of a unix time; `None` for a time out of range.
    pub fn day_of(unix: i64) -> Option<Date> {
        OffsetDateTime::from_unix_timestamp(unix)
            .ok()
            .and_then(|t| t.checked_to_offset(CHINA_STANDARD_TIME))
            .map(|t| t.date())
    }

    pub fn contains(&self, unix: i64) -> bool {
        DateRange::day_of(unix).is_some_and(|d| self.from <= d && d <= self.to)
    }

    /// How many days it spans.
    pub fn days(&self) -> i64 {
        (self.to - self.from).whole_days() + 1
    }
}

/// What a report is broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum By {
    Service,
    Officer,
    Device,
    Priority,
    Day,
}

impl By {
    pub fn name(self) -> &'static str {
        match self {
            By::Service => "service",
            By::Officer => "officer",
            By::Device => "device",
            By::Priority => "priority",
            By::Day => "day",
        }
    }

    /// Whether the breakdown needs the sealed form (and so the bureau's key).
    pub fn needs_key(self) -> bool {
        matches!(self, By::Service | By::Priority)
    }
}

/// What the report knows of one received application.
#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    pub device: String,
    pub received_at_unix: i64,
    /// `None`: no manifest has come for it yet.
    pub status: Option<Status>,
    /// From the envelope's clear header.
    pub officer: String,
    pub sealed_at_unix: i64,
    /// From the sealed form; `None` without the bureau's key.
    pub form: Option<FormFacts>,
}

/// The services in the order of the fee schedule; others (from a newer unit) follow.
pub const SERVICES: [&str; 6] = [
    "passport",
    "hk-macao-permit",
    "hk-macao-endorsement",
    "taiwan-permit",
    "taiwan-endorsement",
    "taiwan-resident-permit",
];

/// The priority rows, from the published outreach priority rules (DOMAIN.md §5.4): the green
/// channel for urgent cases, 60 and over, infants, pregnant women, disabled people. A category
/// of the unit's policy not listed here (for example "military") gets a row of its own.
pub const PRIORITY: [&str; 5] = ["urgent", "elderly", "infant", "pregnancy", "disability"];
/// The row of applications in no priority category and not urgent.
pub const ORDINARY: &str = "ordinary";
/// The row of applications whose form did not say (an unexpected or older form).
pub const UNKNOWN: &str = "unknown";

/// The states of the applications counted in one row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct States {
    pub applications: usize,
    /// No batch manifest yet.
    pub awaiting_manifest: usize,
    /// Released by the supervisor, not yet decided by the back office.
    pub approved: usize,
    /// Returned by the supervisor (a revisit).
    pub returned: usize,
    pub accepted: usize,
    /// Rejected by the back office (a revisit).
    pub rejected: usize,
}

impl States {
    fn add(&mut self, status: Option<&Status>) {
        self.applications += 1;
        match status {
            None | Some(Status::Received) => self.awaiting_manifest += 1,
            Some(Status::Approved { .. }) => self.approved += 1,
            Some(Status::Returned { .. }) => self.returned += 1,
            Some(Status::Accepted) => self.accepted += 1,
            Some(Status::Rejected { .. }) => self.rejected += 1,
        }
    }
}

/// One row of the breakdown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub key: String,
    #[serde(flatten)]
    pub states: States,
    /// With the key only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urgent: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub green_channel: Option<usize>,
    /// The median of capture to receipt in the row, in seconds.
    pub median_capture_to_receipt_secs: Option<i64>,
}

/// A reason given for a return or a rejection, with how often.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// "supervisor" (returned from a batch) or "back-office" (rejected).
    pub by: &'static str,
    pub reason: String,
    pub count: usize,
}

/// Time from capture (the unit sealing it) to receipt at the hub, in seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Latency {
    pub count: usize,
    /// Nearest-rank percentiles.
    pub median_secs: i64,
    pub p90_secs: i64,
    pub max_secs: i64,
    /// Applications sealed "after" they were received: the unit's clock was ahead. Counted
    /// as 0 seconds above.
    pub unit_clock_ahead: usize,
}

/// A figure the report does not give, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unavailable {
    pub figure: &'static str,
    pub reason: &'static str,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub from: String,
    pub to: String,
    /// What the range selects on.
    pub basis: &'static str,
    pub time_zone: &'static str,
    pub by: By,
    /// Whether the sealed forms were opened (with `--key`).
    pub opened: bool,
    /// True when an application may count in several rows (several services, several priority
    /// categories): the rows then add up to more than `total.applications`.
    pub rows_overlap: bool,
    pub total: States,
    pub rows: Vec<Row>,
    pub reasons: Vec<Reason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urgent: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub green_channel: Option<usize>,
    /// Urgent cases by their ground (the urgent policy's ids).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urgent_grounds: Option<BTreeMap<String, usize>>,
    pub capture_to_receipt: Option<Latency>,
    /// The feedback received in the range (none when the store was not asked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feedback: Option<feedback::FeedbackFigures>,
    pub unavailable: Vec<Unavailable>,
}

/// The nearest-rank `p`th percentile (0 < p ≤ 100) of sorted values.
pub fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (sorted.len() * p.clamp(1, 100) as usize).div_ceil(100);
    sorted.get(rank.max(1) - 1).copied()
}

fn latency(app: &Application) -> i64 {
    // The seal's time is the device's word: one far off saturates, it does not overflow.
    app.received_at_unix.saturating_sub(app.sealed_at_unix).max(0)
}

/// The keys an application counts under; `None` when the breakdown needs the form and there
/// is none (no key).
fn keys(app: &Application, by: By) -> Vec<String> {
    match by {
        By::Device => vec![app.device.clone()],
        By::Officer => vec![app.officer.clone()],
        By::Day => vec![DateRange::day_of(app.received_at_unix).map(|d| d.to_string()).unwrap_or_default()],
        By::Service => match &app.form {
            // Once per service: a visit with two Hong Kong endorsements counts once in its row.
            Some(f) if !f.services.is_empty() => {
                let mut k = f.services.clone();
                k.sort();
                k.dedup();
                k
            }
            _ => vec![UNKNOWN.to_string()],
        },
        By::Priority => match &app.form {
            Some(f) if f.known => {
                let mut k: Vec<String> = f.urgent.iter().map(|_| "urgent".to_string()).collect();
                k.extend(f.priority.iter().cloned());
                if k.is_empty() {
                    k.push(ORDINARY.to_string());
                }
                k.sort();
                k.dedup();
                k
            }
            _ => vec![UNKNOWN.to_string()],
        },
    }
}

/// Where a row goes: services and priorities in their lists' order (others by name, then
/// "ordinary", then "unknown"), days in order, the busiest devices and officers first.
fn order(by: By, rows: &mut [Row]) {
    let rank = |list: &[&str], key: &str| match key {
        ORDINARY => list.len() + 1,
        UNKNOWN => list.len() + 2,
        _ => list.iter().position(|k| *k == key).unwrap_or(list.len()),
    };
    match by {
        By::Service => rows.sort_by_cached_key(|r| (rank(&SERVICES, &r.key), r.key.clone())),
        By::Priority => rows.sort_by_cached_key(|r| (rank(&PRIORITY, &r.key), r.key.clone())),
        By::Day => rows.sort_by(|a, b| a.key.cmp(&b.key)),
        By::Device | By::Officer => {
            rows.sort_by_cached_key(|r| (std::cmp::Reverse(r.states.applications), r.key.clone()))
        }
    }
}

/// The rows every report by `by` lists even when empty.
fn always_listed(by: By, range: &DateRange, opened: bool) -> Vec<String> {
    match by {
        By::Service if opened => SERVICES.iter().map(|s| s.to_string()).collect(),
        By::Priority if opened => PRIORITY.iter().chain([&ORDINARY]).map(|s| s.to_string()).collect(),
        By::Day if range.days() <= MAX_LISTED_DAYS => (0..range.days())
            .filter_map(|n| range.from.checked_add(time::Duration::days(n)))
            .map(|d| d.to_string())
            .collect(),
        _ => Vec::new(),
    }
}

const UNAVAILABLE_WITHOUT_KEY: [Unavailable; 3] = [
    Unavailable { figure: "services", reason: "in the sealed form: give --key (the bureau private key)" },
    Unavailable { figure: "priority", reason: "in the sealed form: give --key (the bureau private key)" },
    Unavailable {
        figure: "urgent and green channel",
        reason: "in the sealed form: give --key (the bureau private key)",
    },
];
const NEVER_AT_THE_HUB: [Unavailable; 1] = [Unavailable {
    figure: "ratings (other than poor ones)",
    reason: "a rating is given on the unit after the application is sealed; only a poor one reaches the hub, as the \
             complaint it opens (counted under feedback)",
}];

/// Counts the applications received in `range`, broken down by `by`. `opened` says whether
/// the forms were opened (each application then has its `form`).
pub fn compute(apps: &[Application], range: &DateRange, by: By, opened: bool) -> Report {
    let apps: Vec<&Application> = apps.iter().filter(|a| range.contains(a.received_at_unix)).collect();
    let mut rows: BTreeMap<String, (States, usize, usize, Vec<i64>)> = BTreeMap::new();
    for key in always_listed(by, range, opened) {
        rows.entry(key).or_default();
    }
    let (mut total, mut reasons) = (States::default(), BTreeMap::<(&'static str, String), usize>::new());
    let (mut urgent, mut green, mut grounds) = (0, 0, BTreeMap::new());
    let mut latencies = Vec::new();
    for app in &apps {
        total.add(app.status.as_ref());
        match &app.status {
            // Counted by the policy's words: a supervisor's note after them (what exactly, for the
            // officer) is not a reason of its own, and stays out of the report.
            Some(Status::Returned { reason, .. }) => {
                let reason = reason
                    .split_once(doorstep_envelope::RETURN_NOTE_SEPARATOR)
                    .map_or(reason.as_str(), |(words, _)| words);
                *reasons.entry(("supervisor", reason.trim().to_string())).or_default() += 1
            }
            Some(Status::Rejected { reason }) => {
                *reasons.entry(("back-office", reason.trim().to_string())).or_default() += 1
            }
            _ => {}
        }
        let (is_urgent, is_green) = match &app.form {
            Some(f) => (f.urgent.is_some(), f.urgent.is_some() || !f.priority.is_empty()),
            None => (false, false),
        };
        if let Some(ground) = app.form.as_ref().and_then(|f| f.urgent.clone()) {
            *grounds.entry(ground).or_insert(0) += 1;
        }
        urgent += usize::from(is_urgent);
        green += usize::from(is_green);
        latencies.push(latency(app));
        for key in keys(app, by) {
            let row = rows.entry(key).or_default();
            row.0.add(app.status.as_ref());
            row.1 += usize::from(is_urgent);
            row.2 += usize::from(is_green);
            row.3.push(latency(app));
        }
    }
    let mut rows: Vec<Row> = rows
        .into_iter()
        .map(|(key, (states, u, g, mut l))| {
            l.sort_unstable();
            Row {
                key,
                states,
                urgent: opened.then_some(u),
                green_channel: opened.then_some(g),
                median_capture_to_receipt_secs: percentile(&l, 50),
            }
        })
        .collect();
    order(by, &mut rows);
    latencies.sort_unstable();
    let capture_to_receipt = match (percentile(&latencies, 50), percentile(&latencies, 90), latencies.last()) {
        (Some(median_secs), Some(p90_secs), Some(&max_secs)) => Some(Latency {
            count: latencies.len(),
            median_secs,
            p90_secs,
            max_secs,
            unit_clock_ahead: apps.iter().filter(|a| a.sealed_at_unix > a.received_at_unix).count(),
        }),
        _ => None,
    };
    let mut unavailable = Vec::new();
    if !opened {
        unavailable.extend(UNAVAILABLE_WITHOUT_KEY);
    }
    unavailable.extend(NEVER_AT_THE_HUB);
    Report {
        from: range.from.to_string(),
        to: range.to.to_string(),
        basis: "received",
        time_zone: "+08:00",
        by,
        opened,
        rows_overlap: matches!(by, By::Service | By::Priority),
        total,
        rows,
        reasons: reasons.into_iter().map(|((by, reason), count)| Reason { by, reason, count }).collect(),
        urgent: opened.then_some(urgent),
        green_channel: opened.then_some(green),
        urgent_grounds: opened.then_some(grounds),
        capture_to_receipt,
        feedback: None,
        unavailable,
    }
}

#[cfg(test)]
mod tests;
