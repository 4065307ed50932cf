//! Fee schedules and the itemised quote for a visit.

use serde::{Deserialize, Serialize};
use time::Date;

use super::{PolicyError, invalid, parse_toml};
use crate::money::Yuan;
use crate::service::{Entries, IssueReason, PermitForm, Service};
use crate::text::{Lang, Localize, Message};

const FILE: &str = "fees.toml";

/// How sure the source of an amount or a rule is (DOMAIN.md tags), least sure first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Unconfirmed,
    Partial,
    Confirmed,
}

/// One row of a schedule. Absent qualifiers match anything.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeItem {
    pub service: String,
    pub form: Option<PermitForm>,
    pub reason: Option<IssueReason>,
    pub entries: Option<Entries>,
    pub min_months: Option<u32>,
    pub max_months: Option<u32>,
    pub amount: Yuan,
    pub confidence: Confidence,
}

impl FeeItem {
    fn matches(&self, service: &Service) -> bool {
        let months = service.endorsement().map(|e| e.validity.0);
        self.service == service.code()
            && self.form.is_none_or(|f| service.form() == Some(f))
            && self.reason.is_none_or(|r| service.reason() == Some(r))
            && self.entries.is_none_or(|e| service.endorsement().map(|x| x.entries) == Some(e))
            && self.min_months.is_none_or(|m| months.is_some_and(|v| v >= m))
            && self.max_months.is_none_or(|m| months.is_some_and(|v| v <= m))
    }

    /// How many qualifiers the item sets: the most specific match wins.
    fn specificity(&self) -> usize {
        [
            self.form.is_some(),
            self.reason.is_some(),
            self.entries.is_some(),
            self.min_months.is_some() || self.max_months.is_some(),
        ]
        .into_iter()
        .filter(|&b| b)
        .count()
    }
}

/// One version of the fee table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeSchedule {
    pub id: String,
    #[serde(with = "crate::iso_date")]
    pub effective_from: Date,
    pub basis: String,
    #[serde(rename = "item")]
    pub items: Vec<FeeItem>,
}

impl FeeSchedule {
    /// The fee item for `service`, or `None` when the schedule has no fee for it.
    pub fn item_for(&self, service: &Service) -> Option<&FeeItem> {
        let mut best: Option<&FeeItem> = None;
        for item in self.items.iter().filter(|i| i.matches(service)) {
            if best.is_none_or(|b| item.specificity() > b.specificity()) {
                best = Some(item);
            }
        }
        best
    }
}

/// All versions, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeSchedules(Vec<FeeSchedule>);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeesFile {
    schedule: Vec<FeeSchedule>,
}

/// A fee line of a quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeLine {
    pub service: Service,
    pub description_zh: String,
    pub description_en: String,
    pub amount: Yuan,
    pub confidence: Confidence,
}

/// The itemised fees of a visit under the schedule in force on its date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeQuote {
    pub schedule_id: String,
    #[serde(with = "crate::iso_date")]
    pub effective_from: Date,
    pub lines: Vec<FeeLine>,
    pub total: Yuan,
}

impl FeeQuote {
    /// True when some amount rests on an unconfirmed or partial source.
    pub fn has_uncertain_amounts(&self) -> bool {
        self.lines.iter().any(|l| l.confidence != Confidence::Confirmed)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeeError {
    NoScheduleInEffect(Date),
    NoFee { schedule: String, service: Service },
    NothingChosen,
    Overflow,
}

impl Localize for FeeError {
    fn message(&self) -> Message {
        match self {
            FeeError::NoScheduleInEffect(d) => Message::new("error.fee.no-schedule").with("date", *d),
            FeeError::NoFee { schedule, service } => {
                Message::new("error.fee.no-fee").with("schedule", schedule.as_str()).with("service", service.describe())
            }
            FeeError::NothingChosen => Message::new("error.fee.nothing-chosen"),
            FeeError::Overflow => Message::new("error.fee.overflow"),
        }
    }
}

crate::localized_error!(FeeError);

impl FeeSchedules {
    pub fn parse(text: &str) -> Result<FeeSchedules, PolicyError> {
        let file: FeesFile = parse_toml(FILE, text)?;
        let mut schedules = file.schedule;
        if schedules.is_empty() {
            return Err(invalid(FILE, "no [[schedule]]"));
        }
        schedules.sort_by_key(|s| s.effective_from);
        for pair in schedules.windows(2) {
            if pair[0].effective_from == pair[1].effective_from {
                return Err(invalid(FILE, format!("two schedules take effect on {}", pair[0].effective_from)));
            }
        }
        for s in &schedules {
            for item in &s.items {
                if let (Some(lo), Some(hi)) = (item.min_months, item.max_months)
                    && lo > hi
                {
                    return Err(invalid(FILE, format!("{}: min_months {lo} > max_months {hi}", s.id)));
                }
            }
        }
        Ok(FeeSchedules(schedules))
    }

    pub fn schedules(&self) -> &[FeeSchedule] {
        &self.0
    }

    /// The schedule in force on `date`: the latest that took effect on or before it.
    pub fn in_effect(&self, date: Date) -> Option<&FeeSchedule> {
        self.0.iter().rev().find(|s| s.effective_from <= date)
    }

    /// The itemised quote for `services` on `date`.
    pub fn quote(&self, services: &[Service], date: Date) -> Result<FeeQuote, FeeError> {
        if services.is_empty() {
            return Err(FeeError::NothingChosen);
        }
        let schedule = self.in_effect(date).ok_or(FeeError::NoScheduleInEffect(date))?;
        let mut lines = Vec::with_capacity(services.len());
        let mut total = Yuan::ZERO;
        for service in services {
            let item = schedule
                .item_for(service)
                .ok_or_else(|| FeeError::NoFee { schedule: schedule.id.clone(), service: service.clone() })?;
            total = total.checked_add(item.amount).ok_or(FeeError::Overflow)?;
            lines.push(FeeLine {
                service: service.clone(),
                description_zh: service.describe().render(Lang::Zh),
                description_en: service.describe().render(Lang::En),
                amount: item.amount,
                confidence: item.confidence,
            });
        }
        Ok(FeeQuote { schedule_id: schedule.id.clone(), effective_from: schedule.effective_from, lines, total })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicySources;
    use time::macros::date;

    fn schedules() -> FeeSchedules {
        FeeSchedules::parse(PolicySources::BUILTIN.fees).unwrap()
    }

    fn quote(specs: &[&str], on: Date) -> Result<FeeQuote, FeeError> {
        let services: Vec<Service> = specs.iter().map(|s| s.parse().unwrap()).collect();
        schedules().quote(&services, on)
    }

    fn amounts(q: &FeeQuote) -> Vec<String> {
        q.lines.iter().map(|l| l.amount.to_string()).collect()
    }

    #[test]
    fn the_example_visit_is_itemised() {
        let q = quote(&["passport", "hk-macao-permit", "hk-macao-endorsement:G:1x:3m"], date!(2026 - 11 - 26)).unwrap();
        assert_eq!(q.schedule_id, "fees-2019-07-01");
        assert_eq!(amounts(&q), ["120.00", "60.00", "15.00"]);
        assert_eq!(q.total.to_string(), "195.00");
        assert!(!q.has_uncertain_amounts());
    }

    #[test]
    fn the_schedule_follows_the_visit_date() {
        let before = quote(&["passport", "hk-macao-permit"], date!(2019 - 06 - 30)).unwrap();
        assert_eq!(before.schedule_id, "fees-2017-07-01");
        assert_eq!(before.total.to_string(), "240.00");
        let on = quote(&["passport", "hk-macao-permit"], date!(2019 - 07 - 01)).unwrap();
        assert_eq!(on.total.to_string(), "180.00");
        assert_eq!(
            quote(&["passport"], date!(2017 - 06 - 30)),
            Err(FeeError::NoScheduleInEffect(date!(2017 - 06 - 30)))
        );
    }

    #[test]
    fn multi_entry_bands_by_validity() {
        let on = date!(2026 - 11 - 26);
        let q = quote(
            &[
                "hk-macao-endorsement:T:multi:3m",
                "hk-macao-endorsement:T:multi:1y",
                "hk-macao-endorsement:D:multi:13m",
                "hk-macao-endorsement:D:multi:2y",
                "hk-macao-endorsement:D:multi:25m",
                "hk-macao-endorsement:D:multi:35m",
                "hk-macao-endorsement:D:multi:3y",
                "hk-macao-endorsement:D:multi:5y",
                "hk-macao-endorsement:G:2x:1y",
            ],
            on,
        )
        .unwrap();
        assert_eq!(
            amounts(&q),
            ["80.00", "80.00", "120.00", "120.00", "160.00", "160.00", "240.00", "240.00", "30.00"]
        );
    }

    #[test]
    fn taiwan_documents_and_the_most_specific_item() {
        let on = date!(2026 - 11 - 26);
        let q = quote(
            &[
                "taiwan-permit",
                "taiwan-permit:one-trip",
                "taiwan-endorsement:G:1x:6m",
                "taiwan-endorsement:T:multi:1y",
                "taiwan-resident-permit",
                "taiwan-resident-permit:one-trip",
                "taiwan-resident-permit:lost",
            ],
            on,
        )
        .unwrap();
        assert_eq!(amounts(&q), ["80.00", "15.00", "15.00", "80.00", "200.00", "40.00", "500.00"]);
        assert_eq!(q.lines[0].confidence, Confidence::Partial);
        assert_eq!(q.lines[6].confidence, Confidence::Unconfirmed);
        assert!(q.has_uncertain_amounts());
    }

    #[test]
    fn a_service_without_a_fee_is_an_error() {
        assert!(matches!(quote(&["taiwan-endorsement:G:2x:6m"], date!(2026 - 11 - 26)), Err(FeeError::NoFee { .. })));
        assert_eq!(schedules().quote(&[], date!(2026 - 11 - 26)), Err(FeeError::NothingChosen));
    }

    #[test]
    fn a_new_schedule_is_data() {
        let text = r#"
            [[schedule]]
            id = "test-2027"
            effective_from = "2027-01-01"
            basis = "a test"
            [[schedule.item]]
            service = "passport"
            amount = "99.50"
            confidence = "confirmed"
        "#;
        let s = FeeSchedules::parse(text).unwrap();
        let q = s.quote(&["passport".parse().unwrap()], date!(2027 - 01 - 01)).unwrap();
        assert_eq!(q.total.to_string(), "99.50");
    }

    #[test]
    fn bad_schedules_are_refused() {
        assert!(FeeSchedules::parse("").is_err());
        let typo = r#"
            [[schedule]]
            id = "x"
            effective_from = "2027-13-01"
            basis = "x"
            item = []
        "#;
        assert!(FeeSchedules::parse(typo).is_err());
        let unknown_field = r#"
            [[schedule]]
            id = "x"
            effective_from = "2027-01-01"
            basis = "x"
            [[schedule.item]]
            service = "passport"
            amount = "1"
            confidence = "confirmed"
            colour = "red"
        "#;
        assert!(FeeSchedules::parse(unknown_field).is_err());
    }
}
