//! The working-day calendar: weekends, public holidays and the weekend days worked in their
//! place (调休), year by year, as the State Council publishes them.
//!
//! A year the file does not list counts weekends and the fixed-date statutory holidays only
//! (1 January, 1–2 May, 1–3 October: 全国年节及纪念日放假办法, 2024 revision [P]); the Spring
//! Festival and the other lunar holidays, and the make-up days, are not known until the
//! notice is published, so every date computed across such a year says so.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::{Date, Weekday};

use super::{Confidence, PolicyError, invalid, parse_toml};

const FILE: &str = "calendar.toml";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct YearEntry {
    year: i32,
    source: String,
    confidence: Confidence,
    /// Inclusive ranges of days off, `["2026-02-15", "2026-02-23"]`.
    holidays: Vec<[String; 2]>,
    /// Weekend days that are working days.
    workdays: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    year: Vec<YearEntry>,
}

/// One published year's notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarYear {
    pub year: i32,
    pub source: String,
    pub confidence: Confidence,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkCalendar {
    years: Vec<CalendarYear>,
    /// Days off of every listed notice (a notice's range may start in the year before).
    holidays: BTreeSet<Date>,
    workdays: BTreeSet<Date>,
}

/// Fixed-date statutory holidays (month, day), counted in years with no notice yet.
const FIXED_HOLIDAYS: [(u8, u8); 6] = [(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)];

/// A date counted in working days, with what the count could not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountedDate {
    #[serde(with = "crate::iso_date")]
    pub date: Date,
    /// The first year crossed that the calendar does not list (weekends only were counted).
    pub unlisted_year: Option<i32>,
}

fn parse_day(s: &str) -> Result<Date, PolicyError> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, fmt).map_err(|_| invalid(FILE, format!("{s:?} is not a YYYY-MM-DD date")))
}

impl WorkCalendar {
    pub fn parse(text: &str) -> Result<WorkCalendar, PolicyError> {
        let file: CalendarFile = parse_toml(FILE, text)?;
        let mut years = Vec::new();
        let mut holidays = BTreeSet::new();
        let mut workdays = BTreeSet::new();
        // A notice's dates lie in its year, or at its edges (元旦 may start on 31 December).
        let near = |d: Date, year: i32| (year.saturating_sub(1)..=year.saturating_add(1)).contains(&d.year());
        for entry in file.year {
            if years.iter().any(|y: &CalendarYear| y.year == entry.year) {
                return Err(invalid(FILE, format!("year {} is listed twice", entry.year)));
            }
            for [from, to] in &entry.holidays {
                let (from, to) = (parse_day(from)?, parse_day(to)?);
                if from > to || !near(from, entry.year) || !near(to, entry.year) || (to - from).whole_days() > 14 {
                    let message = format!("{}: holiday {from}..{to} is not a holiday of the year", entry.year);
                    return Err(invalid(FILE, message));
                }
                // Day by day to the last (which may be the calendar's own last day).
                let mut d = Some(from);
                while let Some(day) = d.filter(|day| *day <= to) {
                    holidays.insert(day);
                    d = day.next_day();
                }
            }
            for w in &entry.workdays {
                let d = parse_day(w)?;
                if !is_weekend(d) || !near(d, entry.year) {
                    let message = format!("{}: make-up workday {d} is not a weekend day of the year", entry.year);
                    return Err(invalid(FILE, message));
                }
                workdays.insert(d);
            }
            years.push(CalendarYear { year: entry.year, source: entry.source, confidence: entry.confidence });
        }
        years.sort_by_key(|y| y.year);
        Ok(WorkCalendar { years, holidays, workdays })
    }

    pub fn years(&self) -> &[CalendarYear] {
        &self.years
    }

    pub fn year(&self, year: i32) -> Option<&CalendarYear> {
        self.years.iter().find(|y| y.year == year)
    }

    /// Is `date` a working day, and is its year listed? An unlisted year counts weekends and
    /// the fixed-date holidays only.
    pub fn is_working_day(&self, date: Date) -> (bool, bool) {
        if self.workdays.contains(&date) {
            return (true, true);
        }
        if self.holidays.contains(&date) {
            return (false, true);
        }
        match self.year(date.year()) {
            Some(_) => (!is_weekend(date), true),
            None => {
                let fixed = FIXED_HOLIDAYS.contains(&(date.month() as u8, date.day()));
                (!is_weekend(date) && !fixed, false)
            }
        }
    }

    /// The `n`th working day after `from` (the day of application counts as day 0).
    pub fn add_working_days(&self, from: Date, n: u32) -> CountedDate {
        let mut date = from;
        let mut left = n;
        let mut unlisted_year = self.year(from.year()).is_none().then_some(from.year());
        while left > 0 {
            let Some(next) = date.next_day() else { break };
            date = next;
            let (working, listed) = self.is_working_day(date);
            if !listed && unlisted_year.is_none() {
                unlisted_year = Some(date.year());
            }
            if working {
                left -= 1;
            }
        }
        CountedDate { date, unlisted_year }
    }
}

fn is_weekend(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicySources;
    use time::macros::date;

    fn calendar() -> WorkCalendar {
        WorkCalendar::parse(PolicySources::BUILTIN.calendar).unwrap()
    }

    #[test]
    fn published_days_off_and_make_up_days() {
        let c = calendar();
        let cases = [
            (date!(2026 - 02 - 16), false), // 春节, a Monday
            (date!(2026 - 02 - 14), true),  // 调休: Saturday worked
            (date!(2026 - 02 - 28), true),
            (date!(2026 - 10 - 08), true), // after 国庆 (Oct 1–7) in 2026
            (date!(2026 - 10 - 07), false),
            (date!(2026 - 10 - 10), true),
            (date!(2026 - 09 - 25), false), // 中秋
            (date!(2025 - 10 - 08), false), // 国庆+中秋 2025 ran to Oct 8
            (date!(2025 - 01 - 26), true),
            (date!(2026 - 12 - 05), false), // a Saturday
        ];
        for (day, working) in cases {
            assert_eq!(c.is_working_day(day), (working, true), "{day}");
        }
    }

    #[test]
    fn counting_working_days_table() {
        let c = calendar();
        // (from, n, expected, unlisted year)
        let cases = [
            // Friday 2026-12-04 + 7: Mon 7 … Fri 11 (5), Mon 14 (6), Tue 15 (7).
            (date!(2026 - 12 - 04), 7, date!(2026 - 12 - 15), None),
            // Across 国庆 2026: Wed 09-30 + 5 → Thu 10-08 (1), Fri 10-09 (2), Sat 10-10 worked (3),
            // Mon 10-12 (4), Tue 10-13 (5).
            (date!(2026 - 09 - 30), 5, date!(2026 - 10 - 13), None),
            // Across 春节 2026: Fri 02-13 + 2 → Sat 02-14 worked (1), Tue 02-24 (2).
            (date!(2026 - 02 - 13), 2, date!(2026 - 02 - 24), None),
            (date!(2026 - 12 - 04), 0, date!(2026 - 12 - 04), None),
            // Into a year not published yet: weekends and 1 January only, and said so.
            (date!(2026 - 12 - 28), 7, date!(2027 - 01 - 07), Some(2027)),
            (date!(2026 - 12 - 31), 7, date!(2027 - 01 - 12), Some(2027)),
        ];
        for (from, n, want, unlisted) in cases {
            assert_eq!(c.add_working_days(from, n), CountedDate { date: want, unlisted_year: unlisted }, "{from}+{n}");
        }
    }

    #[test]
    fn a_holiday_may_start_in_the_year_before() {
        // The 2023 notice: 元旦 from 2022-12-31 to 2023-01-02.
        let text = r#"
            [[year]]
            year = 2023
            source = "t"
            confidence = "confirmed"
            holidays = [["2022-12-31", "2023-01-02"]]
            workdays = []
        "#;
        let c = WorkCalendar::parse(text).unwrap();
        assert_eq!(c.is_working_day(date!(2022 - 12 - 30)), (true, false));
        assert_eq!(c.is_working_day(date!(2023 - 01 - 02)), (false, true));
        assert_eq!(c.is_working_day(date!(2023 - 01 - 03)), (true, true));
    }

    #[test]
    fn malformed_calendars_are_refused() {
        let weekday_as_workday = r#"
            [[year]]
            year = 2026
            source = "t"
            confidence = "confirmed"
            holidays = []
            workdays = ["2026-12-07"]
        "#;
        assert!(matches!(WorkCalendar::parse(weekday_as_workday), Err(PolicyError::Invalid { .. })));
        let backwards = weekday_as_workday.replace("holidays = []", "holidays = [[\"2026-02-23\", \"2026-02-15\"]]");
        assert!(matches!(
            WorkCalendar::parse(&backwards.replace("\"2026-12-07\"", "")),
            Err(PolicyError::Invalid { .. })
        ));
    }

    #[test]
    fn a_calendar_at_the_edges_of_time_is_read_or_refused_never_a_panic() {
        // A holiday on the last day there is, and a year at the edge of the integers.
        let last = r#"
            [[year]]
            year = 9999
            source = "t"
            confidence = "confirmed"
            holidays = [["9999-12-30", "9999-12-31"]]
            workdays = []
        "#;
        let calendar = WorkCalendar::parse(last).unwrap();
        assert_eq!(calendar.is_working_day(time::macros::date!(9999 - 12 - 31)), (false, true));
        let huge = last.replace("year = 9999", &format!("year = {}", i32::MAX));
        assert!(matches!(WorkCalendar::parse(&huge), Err(PolicyError::Invalid { .. })));
    }
}
