//! Endorsement types and the options a bureau offers for each.

use serde::{Deserialize, Serialize};
use time::Date;

use super::{Confidence, PolicyError, invalid, parse_toml};
use crate::service::{Endorsement, EndorsementRegion, Entries, Months};
use crate::text::{Arg, Localize, Message};

const FILE: &str = "endorsements.toml";

/// A condition an option requires, declared by the officer or derived from age.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Condition {
    /// Visiting a spouse, parent or child.
    CloseRelative,
    /// Visiting a sibling, grandparent or grandchild.
    OtherRelative,
    /// Applicant aged 60 or over, or in special hardship.
    AgeOrHardship,
    /// Works for a company registered for business endorsements.
    RegisteredCompany,
    /// A tour leader.
    TourLeader,
    /// Holds the approval document the type needs (台办批件, HK/Macao approval, admission).
    ApprovalDocument,
    /// Recognised as talent by the talent or science authority (人才证明).
    Talent,
}

impl Condition {
    /// The locale key of what the condition asks.
    pub fn key(self) -> &'static str {
        match self {
            Condition::CloseRelative => "condition.close-relative",
            Condition::OtherRelative => "condition.other-relative",
            Condition::AgeOrHardship => "condition.age-or-hardship",
            Condition::RegisteredCompany => "condition.registered-company",
            Condition::TourLeader => "condition.tour-leader",
            Condition::ApprovalDocument => "condition.approval-document",
            Condition::Talent => "condition.talent",
        }
    }
}

/// Facts about the applicant that conditions are checked against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EndorsementFacts {
    pub age_years: u32,
    pub close_relative: bool,
    pub other_relative: bool,
    pub hardship: bool,
    pub registered_company: bool,
    pub tour_leader: bool,
    pub approval_document: bool,
    #[serde(default)]
    pub talent: bool,
}

impl EndorsementFacts {
    /// The facts an officer declares, each condition's from `seen` (hardship for the condition
    /// of age or hardship); no age.
    pub fn declared(seen: impl Fn(Condition) -> bool) -> EndorsementFacts {
        EndorsementFacts {
            age_years: 0,
            close_relative: seen(Condition::CloseRelative),
            other_relative: seen(Condition::OtherRelative),
            hardship: seen(Condition::AgeOrHardship),
            registered_company: seen(Condition::RegisteredCompany),
            tour_leader: seen(Condition::TourLeader),
            approval_document: seen(Condition::ApprovalDocument),
            talent: seen(Condition::Talent),
        }
    }

    /// Whether the officer declared the fact `condition` asks for (hardship, not age, for the
    /// condition of age or hardship).
    pub fn declares(&self, condition: Condition) -> bool {
        match condition {
            Condition::AgeOrHardship => self.hardship,
            c => self.meets(c),
        }
    }

    fn meets(&self, condition: Condition) -> bool {
        match condition {
            Condition::CloseRelative => self.close_relative,
            Condition::OtherRelative => self.other_relative,
            Condition::AgeOrHardship => self.age_years >= 60 || self.hardship,
            Condition::RegisteredCompany => self.registered_company,
            Condition::TourLeader => self.tour_leader,
            Condition::ApprovalDocument => self.approval_document,
            Condition::Talent => self.talent,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndorsementOption {
    pub entries: Entries,
    /// A fixed validity…
    pub months: Option<u32>,
    /// …or a range, when the validity follows an approval.
    pub min_months: Option<u32>,
    pub max_months: Option<u32>,
    pub condition: Option<Condition>,
    /// Overrides the type's stay per entry for this option.
    pub stay_days: Option<u32>,
}

impl EndorsementOption {
    /// Its validity as offered: fixed, or a range as approved.
    pub fn validity(&self) -> Offered {
        match self.months {
            Some(m) => Offered::Fixed(Months(m)),
            None => Offered::Range { min: self.min_months.unwrap_or(1), max: self.max_months },
        }
    }

    /// Whether this option is `entries` for `validity`.
    pub fn allows(&self, entries: Entries, validity: Months) -> bool {
        let m = validity.0;
        self.entries == entries
            && match self.months {
                Some(fixed) => m == fixed,
                None => self.min_months.is_none_or(|lo| m >= lo) && self.max_months.is_none_or(|hi| m <= hi),
            }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndorsementType {
    pub code: char,
    pub name_zh: String,
    pub name_en: String,
    pub stay_days: Option<u32>,
    pub note_zh: Option<String>,
    pub note_en: Option<String>,
    pub options: Vec<EndorsementOption>,
    /// How sure the published source is (DOMAIN.md tags).
    pub confidence: Confidence,
    /// Offered from this day (a new type).
    #[serde(default, deserialize_with = "crate::iso_date::option::deserialize")]
    pub effective_from: Option<Date>,
    /// Not issued from this day, unless the bureau's policy lifts the suspension.
    #[serde(default, deserialize_with = "crate::iso_date::option::deserialize")]
    pub suspended_from: Option<Date>,
    #[serde(default)]
    pub suspension_lifted: bool,
}

impl EndorsementType {
    /// Suspended on `date` and not lifted by this bureau.
    pub fn suspended_on(&self, date: Date) -> Option<Date> {
        self.suspended_from.filter(|from| *from <= date && !self.suspension_lifted)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndorsementPolicy {
    hk_macao: Vec<EndorsementType>,
    taiwan: Vec<EndorsementType>,
}

/// An option's validity, as offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offered {
    Fixed(Months),
    /// As approved, between these numbers of months.
    Range {
        min: u32,
        max: Option<u32>,
    },
}

impl Offered {
    pub fn describe(self) -> Message {
        match self {
            Offered::Fixed(m) => m.describe(),
            Offered::Range { min, max: Some(max) } => Message::new("validity.range").with("min", min).with("max", max),
            Offered::Range { min, max: None } => Message::new("validity.from").with("min", min),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndorsementError {
    UnknownType { region: EndorsementRegion, code: char },
    NoSuchOption { code: char, entries: Entries, validity: Months, offered: Vec<(Entries, Offered)> },
    ConditionNotMet { code: char, entries: Entries, validity: Months, condition: Condition },
    Suspended { code: char, since: Date },
    NotYetOffered { code: char, from: Date },
}

impl Localize for EndorsementError {
    fn message(&self) -> Message {
        match self {
            EndorsementError::UnknownType { region, code } => {
                Message::new("error.endorsement.unknown-type").with_key("region", region.key()).with("code", *code)
            }
            EndorsementError::NoSuchOption { code, entries, validity, offered } => {
                Message::new("error.endorsement.no-such-option")
                    .with("code", *code)
                    .with_key("entries", entries.key())
                    .with("validity", validity.describe())
                    .with(
                        "offered",
                        Arg::List(
                            offered
                                .iter()
                                .map(|(e, v)| {
                                    Message::new("endorsement.option")
                                        .with_key("entries", e.key())
                                        .with("validity", v.describe())
                                        .into()
                                })
                                .collect(),
                        ),
                    )
            }
            EndorsementError::ConditionNotMet { code, entries, validity, condition } => {
                Message::new("error.endorsement.condition-not-met")
                    .with("code", *code)
                    .with_key("entries", entries.key())
                    .with("validity", validity.describe())
                    .with_key("condition", condition.key())
            }
            EndorsementError::Suspended { code, since } => {
                Message::new("error.endorsement.suspended").with("code", *code).with("since", *since)
            }
            EndorsementError::NotYetOffered { code, from } => {
                Message::new("error.endorsement.not-yet-offered").with("code", *code).with("from", *from)
            }
        }
    }
}

crate::localized_error!(EndorsementError);

impl EndorsementPolicy {
    pub fn parse(text: &str) -> Result<EndorsementPolicy, PolicyError> {
        let policy: EndorsementPolicy = parse_toml(FILE, text)?;
        for (region, types) in [("hk_macao", &policy.hk_macao), ("taiwan", &policy.taiwan)] {
            for (i, t) in types.iter().enumerate() {
                if !t.code.is_ascii_uppercase() {
                    return Err(invalid(FILE, format!("{region}: type {:?} is not a capital letter", t.code)));
                }
                if types[..i].iter().any(|o| o.code == t.code) {
                    return Err(invalid(FILE, format!("{region}: type {} is listed twice", t.code)));
                }
                if t.options.is_empty() {
                    return Err(invalid(FILE, format!("{region}: type {} has no options", t.code)));
                }
                for o in &t.options {
                    let fixed = o.months.is_some();
                    let ranged = o.min_months.is_some() || o.max_months.is_some();
                    if fixed == ranged {
                        return Err(invalid(
                            FILE,
                            format!("{region}: type {}: give either months or min_months/max_months", t.code),
                        ));
                    }
                }
            }
        }
        Ok(policy)
    }

    pub fn types(&self, region: EndorsementRegion) -> &[EndorsementType] {
        match region {
            EndorsementRegion::HkMacao => &self.hk_macao,
            EndorsementRegion::Taiwan => &self.taiwan,
        }
    }

    pub fn type_of(&self, region: EndorsementRegion, code: char) -> Option<&EndorsementType> {
        self.types(region).iter().find(|t| t.code == code)
    }

    /// The option matching `e`, regardless of its condition, date or suspension (for fee
    /// quotes).
    pub fn option_for(&self, e: &Endorsement) -> Result<&EndorsementOption, EndorsementError> {
        let t =
            self.type_of(e.region, e.code).ok_or(EndorsementError::UnknownType { region: e.region, code: e.code })?;
        t.options.iter().find(|o| o.allows(e.entries, e.validity)).ok_or_else(|| EndorsementError::NoSuchOption {
            code: e.code,
            entries: e.entries,
            validity: e.validity,
            offered: t.options.iter().map(|o| (o.entries, o.validity())).collect(),
        })
    }

    /// Whether `e`'s type is issued on `date`: not suspended, and in effect (whatever its option
    /// or condition, which the fee does not judge).
    pub fn offered_on(&self, e: &Endorsement, date: Date) -> Result<(), EndorsementError> {
        let Some(t) = self.type_of(e.region, e.code) else { return Ok(()) };
        if let Some(since) = t.suspended_on(date) {
            return Err(EndorsementError::Suspended { code: e.code, since });
        }
        match t.effective_from.filter(|from| date < *from) {
            Some(from) => Err(EndorsementError::NotYetOffered { code: e.code, from }),
            None => Ok(()),
        }
    }

    /// Checks that `e` is offered on `date` and that the applicant meets its condition.
    pub fn check(
        &self,
        e: &Endorsement,
        facts: &EndorsementFacts,
        date: Date,
    ) -> Result<&EndorsementOption, EndorsementError> {
        let option = self.option_for(e)?;
        self.offered_on(e, date)?;
        match option.condition {
            Some(c) if !facts.meets(c) => Err(EndorsementError::ConditionNotMet {
                code: e.code,
                entries: e.entries,
                validity: e.validity,
                condition: c,
            }),
            _ => Ok(option),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicySources;
    use crate::service::Service;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 26);

    fn policy() -> EndorsementPolicy {
        EndorsementPolicy::parse(PolicySources::BUILTIN.endorsements).unwrap()
    }

    fn e(spec: &str) -> Endorsement {
        spec.parse::<Service>().unwrap().endorsement().unwrap().clone()
    }

    #[test]
    fn the_published_types_are_there() {
        let p = policy();
        let codes = |r| p.types(r).iter().map(|t| t.code).collect::<String>();
        assert_eq!(codes(EndorsementRegion::HkMacao), "GLTSQDR");
        assert_eq!(codes(EndorsementRegion::Taiwan), "LGTDYFXCQ");
        assert_eq!(p.type_of(EndorsementRegion::HkMacao, 'S').unwrap().stay_days, Some(14));
        let talent = p.type_of(EndorsementRegion::HkMacao, 'R').unwrap();
        assert_eq!(talent.stay_days, Some(30));
        assert_eq!(talent.confidence, Confidence::Unconfirmed, "the letter R rests on one third-party page");
    }

    #[test]
    fn options_are_checked() {
        let p = policy();
        assert!(p.option_for(&e("hk-macao-endorsement:G:1x:3m")).is_ok());
        assert!(p.option_for(&e("hk-macao-endorsement:G:2x:1y")).is_ok());
        let err = p.option_for(&e("hk-macao-endorsement:G:multi:1y")).unwrap_err();
        let EndorsementError::NoSuchOption { offered, .. } = err else { panic!("{err:?}") };
        let fixed = |m| Offered::Fixed(Months(m));
        assert_eq!(
            offered,
            [
                (Entries::Once, fixed(3)),
                (Entries::Twice, fixed(3)),
                (Entries::Once, fixed(12)),
                (Entries::Twice, fixed(12))
            ]
        );
        assert_eq!(
            p.option_for(&e("hk-macao-endorsement:Z:1x:3m")),
            Err(EndorsementError::UnknownType { region: EndorsementRegion::HkMacao, code: 'Z' })
        );
        // Taiwan business is F, not S.
        assert!(matches!(p.option_for(&e("taiwan-endorsement:S:1x:6m")), Err(EndorsementError::UnknownType { .. })));
        assert!(p.option_for(&e("taiwan-endorsement:F:1x:6m")).is_ok());
        // D follows the approved period.
        assert!(p.option_for(&e("hk-macao-endorsement:D:multi:18m")).is_ok());
        assert!(matches!(
            p.option_for(&e("hk-macao-endorsement:D:1x:18m")),
            Err(EndorsementError::NoSuchOption { .. })
        ));
    }

    #[test]
    fn conditions_are_checked_against_facts() {
        let p = policy();
        let young = EndorsementFacts { age_years: 40, ..Default::default() };
        let old = EndorsementFacts { age_years: 60, ..Default::default() };
        let cases: [(&str, EndorsementFacts, Option<Condition>); 8] = [
            ("hk-macao-endorsement:T:multi:1y", young, Some(Condition::AgeOrHardship)),
            ("hk-macao-endorsement:T:multi:1y", old, None),
            ("hk-macao-endorsement:T:multi:1y", EndorsementFacts { hardship: true, ..young }, None),
            ("hk-macao-endorsement:T:multi:3m", young, Some(Condition::CloseRelative)),
            ("hk-macao-endorsement:T:multi:3m", EndorsementFacts { close_relative: true, ..young }, None),
            ("hk-macao-endorsement:R:multi:5y", young, Some(Condition::Talent)),
            ("hk-macao-endorsement:R:multi:3y", EndorsementFacts { talent: true, ..young }, None),
            ("taiwan-endorsement:Y:multi:1y", young, Some(Condition::ApprovalDocument)),
        ];
        for (spec, facts, unmet) in cases {
            let got = p.check(&e(spec), &facts, TODAY).err();
            let want = unmet.map(|condition| {
                let x = e(spec);
                EndorsementError::ConditionNotMet { code: x.code, entries: x.entries, validity: x.validity, condition }
            });
            assert_eq!(got, want, "{spec}");
        }
    }

    #[test]
    fn taiwan_individual_travel_is_suspended_unless_lifted() {
        let p = policy();
        let g = e("taiwan-endorsement:G:1x:6m");
        let facts = EndorsementFacts::default();
        assert_eq!(
            p.check(&g, &facts, TODAY),
            Err(EndorsementError::Suspended { code: 'G', since: date!(2019 - 08 - 01) })
        );
        // Before the suspension it was offered.
        assert!(p.check(&g, &facts, date!(2019 - 07 - 31)).is_ok());
        // A bureau whose policy lifts it.
        let lifted =
            PolicySources::BUILTIN.endorsements.replace("suspension_lifted = false", "suspension_lifted = true");
        let lifted = EndorsementPolicy::parse(&lifted).unwrap();
        assert!(lifted.check(&g, &facts, TODAY).is_ok());
        assert!(lifted.type_of(EndorsementRegion::Taiwan, 'G').unwrap().suspended_from.is_some());
    }

    #[test]
    fn the_talent_endorsement_starts_on_2023_02_20() {
        let p = policy();
        let r = e("hk-macao-endorsement:R:multi:1y");
        let facts = EndorsementFacts { talent: true, ..Default::default() };
        assert_eq!(
            p.check(&r, &facts, date!(2023 - 02 - 19)),
            Err(EndorsementError::NotYetOffered { code: 'R', from: date!(2023 - 02 - 20) })
        );
        assert!(p.check(&r, &facts, date!(2023 - 02 - 20)).is_ok());
        assert!(matches!(
            p.option_for(&e("hk-macao-endorsement:R:multi:2y")),
            Err(EndorsementError::NoSuchOption { .. })
        ));
        assert!(matches!(p.option_for(&e("hk-macao-endorsement:R:1x:1y")), Err(EndorsementError::NoSuchOption { .. })));
    }

    #[test]
    fn malformed_policy_is_refused() {
        let dup = r#"
            taiwan = []
            [[hk_macao]]
            code = "G"
            name_zh = "x"
            name_en = "x"
            confidence = "confirmed"
            options = [{ entries = "1x", months = 3 }]
            [[hk_macao]]
            code = "G"
            name_zh = "y"
            name_en = "y"
            confidence = "confirmed"
            options = [{ entries = "1x", months = 3 }]
        "#;
        assert!(matches!(EndorsementPolicy::parse(dup), Err(PolicyError::Invalid { .. })));
        let both = r#"
            taiwan = []
            [[hk_macao]]
            code = "G"
            name_zh = "x"
            name_en = "x"
            confidence = "confirmed"
            options = [{ entries = "1x", months = 3, max_months = 4 }]
        "#;
        assert!(matches!(EndorsementPolicy::parse(both), Err(PolicyError::Invalid { .. })));
        let no_confidence = both.replace("confidence = \"confirmed\"\n", "").replace(", max_months = 4", "");
        assert!(matches!(EndorsementPolicy::parse(&no_confidence), Err(PolicyError::Parse { .. })));
    }
}
