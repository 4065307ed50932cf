//! Calendar helpers: ages, compact date fields, and the two-digit years of an MRZ.
//!
//! Nothing here reads the clock; "today" is always an argument.

use time::{Date, Month};

/// Parses `YYYYMMDD` into a date, or `None` when it is not a real calendar day.
pub fn parse_yyyymmdd(s: &str) -> Option<Date> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = s[0..4].parse().ok()?;
    let month: u8 = s[4..6].parse().ok()?;
    let day: u8 = s[6..8].parse().ok()?;
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

/// Completed years of age on `on` for someone born on `birth` (周岁).
///
/// Someone born on 29 February turns a year older on 1 March in common years.
/// Returns 0 when `on` is before `birth`.
pub fn age_on(birth: Date, on: Date) -> u32 {
    if on < birth {
        return 0;
    }
    let mut years = on.year() - birth.year();
    let had_birthday = (on.month() as u8, on.day()) >= (birth.month() as u8, birth.day());
    if !had_birthday {
        years -= 1;
    }
    u32::try_from(years).unwrap_or(0)
}

/// Whole months of age on `on` (for infant rules).
pub fn months_on(birth: Date, on: Date) -> u32 {
    if on < birth {
        return 0;
    }
    let mut months = (on.year() - birth.year()) * 12 + (on.month() as i32 - birth.month() as i32);
    if on.day() < birth.day() {
        months -= 1;
    }
    u32::try_from(months).unwrap_or(0)
}

/// The date `months` calendar months after `date`, clamped to the month's last day
/// (31 January + 1 month = 28 or 29 February).
pub fn add_months(date: Date, months: u32) -> Date {
    let total = date.year() * 12 + (date.month() as i32 - 1) + months as i32;
    let year = total.div_euclid(12);
    let month = Month::try_from((total.rem_euclid(12) + 1) as u8).unwrap_or(Month::January);
    let last = time::util::days_in_month(month, year);
    Date::from_calendar_date(year, month, date.day().min(last)).unwrap_or(date)
}

/// How a two-digit MRZ year is resolved to a century.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YearRole {
    /// A birth date is never in the future: the latest century that keeps it on or before today.
    Birth,
    /// An expiry date lies at most 50 years either side of today.
    Expiry,
}

/// Parses an MRZ `YYMMDD` field. `None` when it is not a real calendar day.
pub fn parse_mrz_date(s: &str, role: YearRole, today: Date) -> Option<Date> {
    if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let yy: i32 = s[0..2].parse().ok()?;
    let month = Month::try_from(s[2..4].parse::<u8>().ok()?).ok()?;
    let day: u8 = s[4..6].parse().ok()?;
    let century = today.year() - today.year().rem_euclid(100);
    let candidates = [century - 100 + yy, century + yy, century + 100 + yy];
    let mut best: Option<Date> = None;
    for year in candidates {
        let Ok(date) = Date::from_calendar_date(year, month, day) else {
            continue;
        };
        let keep = match role {
            YearRole::Birth => date <= today && best.is_none_or(|b| date > b),
            YearRole::Expiry => {
                (date.year() - today.year()).abs() <= 50
                    && best.is_none_or(|b| (date.year() - today.year()).abs() < (b.year() - today.year()).abs())
            }
        };
        if keep {
            best = Some(date);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn parses_real_days_only() {
        assert_eq!(parse_yyyymmdd("19491231"), Some(date!(1949 - 12 - 31)));
        assert_eq!(parse_yyyymmdd("20000229"), Some(date!(2000 - 02 - 29)));
        assert_eq!(parse_yyyymmdd("19000229"), None, "1900 is not a leap year");
        assert_eq!(parse_yyyymmdd("19491301"), None);
        assert_eq!(parse_yyyymmdd("19490100"), None);
        assert_eq!(parse_yyyymmdd("1949123"), None);
        assert_eq!(parse_yyyymmdd("1949-1-3"), None);
    }

    #[test]
    fn age_counts_completed_years() {
        let birth = date!(1966 - 11 - 27);
        assert_eq!(age_on(birth, date!(2026 - 11 - 26)), 59);
        assert_eq!(age_on(birth, date!(2026 - 11 - 27)), 60);
        assert_eq!(age_on(date!(2000 - 02 - 29), date!(2001 - 02 - 28)), 0);
        assert_eq!(age_on(date!(2000 - 02 - 29), date!(2001 - 03 - 01)), 1);
        assert_eq!(age_on(date!(2030 - 01 - 01), date!(2026 - 01 - 01)), 0);
    }

    #[test]
    fn months_and_month_arithmetic() {
        assert_eq!(months_on(date!(2026 - 01 - 31), date!(2026 - 03 - 30)), 1);
        assert_eq!(months_on(date!(2026 - 01 - 31), date!(2026 - 03 - 31)), 2);
        assert_eq!(add_months(date!(2026 - 01 - 31), 1), date!(2026 - 02 - 28));
        assert_eq!(add_months(date!(2026 - 11 - 26), 3), date!(2027 - 02 - 26));
        assert_eq!(add_months(date!(2026 - 11 - 26), 12), date!(2027 - 11 - 26));
    }

    #[test]
    fn mrz_years_resolve_by_role() {
        let today = date!(2026 - 11 - 26);
        assert_eq!(parse_mrz_date("740812", YearRole::Birth, today), Some(date!(1974 - 08 - 12)));
        assert_eq!(parse_mrz_date("201231", YearRole::Birth, today), Some(date!(2020 - 12 - 31)));
        assert_eq!(parse_mrz_date("261127", YearRole::Birth, today), Some(date!(1926 - 11 - 27)));
        assert_eq!(parse_mrz_date("120415", YearRole::Expiry, today), Some(date!(2012 - 04 - 15)));
        assert_eq!(parse_mrz_date("360101", YearRole::Expiry, today), Some(date!(2036 - 01 - 01)));
        assert_eq!(parse_mrz_date("991301", YearRole::Expiry, today), None);
        assert_eq!(parse_mrz_date("99A301", YearRole::Expiry, today), None);
    }
}
