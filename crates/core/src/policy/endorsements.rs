//! Endorsement types and the options a bureau offers for each.

use serde::Deserialize;

use super::{PolicyError, invalid, parse_toml};
use crate::service::{Endorsement, EndorsementRegion, Entries, Months};

const FILE: &str = "endorsements.toml";

/// A condition an option requires, declared by the officer or derived from age.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
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
}

impl Condition {
    pub fn describe_zh(self) -> &'static str {
        match self {
            Condition::CloseRelative => "探望配偶、父母或子女",
            Condition::OtherRelative => "探望兄弟姐妹、祖父母或孙子女",
            Condition::AgeOrHardship => "年满60周岁或有特殊困难",
            Condition::RegisteredCompany => "所在企业已备案",
            Condition::TourLeader => "领队",
            Condition::ApprovalDocument => "持有批准文件",
        }
    }

    pub fn describe_en(self) -> &'static str {
        match self {
            Condition::CloseRelative => "visiting a spouse, parent or child",
            Condition::OtherRelative => "visiting a sibling, grandparent or grandchild",
            Condition::AgeOrHardship => "aged 60 or over, or in special hardship",
            Condition::RegisteredCompany => "employer registered for business endorsements",
            Condition::TourLeader => "tour leader",
            Condition::ApprovalDocument => "holds the approval document",
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
}

impl EndorsementFacts {
    fn meets(&self, condition: Condition) -> bool {
        match condition {
            Condition::CloseRelative => self.close_relative,
            Condition::OtherRelative => self.other_relative,
            Condition::AgeOrHardship => self.age_years >= 60 || self.hardship,
            Condition::RegisteredCompany => self.registered_company,
            Condition::TourLeader => self.tour_leader,
            Condition::ApprovalDocument => self.approval_document,
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
    fn allows(&self, entries: Entries, validity: Months) -> bool {
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
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndorsementPolicy {
    hk_macao: Vec<EndorsementType>,
    taiwan: Vec<EndorsementType>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndorsementError {
    #[error("there is no {region} endorsement of type {code}")]
    UnknownType { region: &'static str, code: char },
    #[error("type {code} is not offered as {entries} for {validity}; offered: {offered}")]
    NoSuchOption { code: char, entries: &'static str, validity: Months, offered: String },
    #[error("type {code} {entries} for {validity} requires: {}", .condition.describe_en())]
    ConditionNotMet { code: char, entries: &'static str, validity: Months, condition: Condition },
}

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

    /// The option matching `e`, regardless of its condition (for fee quotes).
    pub fn option_for(&self, e: &Endorsement) -> Result<&EndorsementOption, EndorsementError> {
        let region_name = match e.region {
            EndorsementRegion::HkMacao => "港澳 (HK/Macao)",
            EndorsementRegion::Taiwan => "赴台 (Taiwan)",
        };
        let t = self
            .type_of(e.region, e.code)
            .ok_or(EndorsementError::UnknownType { region: region_name, code: e.code })?;
        t.options.iter().find(|o| o.allows(e.entries, e.validity)).ok_or_else(|| EndorsementError::NoSuchOption {
            code: e.code,
            entries: e.entries.code(),
            validity: e.validity,
            offered: t
                .options
                .iter()
                .map(|o| match o.months {
                    Some(m) => format!("{} {}", o.entries.code(), Months(m)),
                    None => format!(
                        "{} {}–{} months",
                        o.entries.code(),
                        o.min_months.unwrap_or(1),
                        o.max_months.map_or("…".to_string(), |m| m.to_string())
                    ),
                })
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    /// Checks that `e` is offered and that the applicant meets its condition.
    pub fn check(&self, e: &Endorsement, facts: &EndorsementFacts) -> Result<&EndorsementOption, EndorsementError> {
        let option = self.option_for(e)?;
        match option.condition {
            Some(c) if !facts.meets(c) => Err(EndorsementError::ConditionNotMet {
                code: e.code,
                entries: e.entries.code(),
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
        assert_eq!(codes(EndorsementRegion::HkMacao), "GLTSQD");
        assert_eq!(codes(EndorsementRegion::Taiwan), "LGTDYFXCQ");
        assert_eq!(p.type_of(EndorsementRegion::HkMacao, 'S').unwrap().stay_days, Some(14));
    }

    #[test]
    fn options_are_checked() {
        let p = policy();
        assert!(p.option_for(&e("hk-macao-endorsement:G:1x:3m")).is_ok());
        assert!(p.option_for(&e("hk-macao-endorsement:G:2x:1y")).is_ok());
        let err = p.option_for(&e("hk-macao-endorsement:G:multi:1y")).unwrap_err();
        assert!(err.to_string().contains("offered: 1x 3m, 2x 3m, 1x 1y, 2x 1y"), "{err}");
        assert!(matches!(p.option_for(&e("hk-macao-endorsement:Z:1x:3m")), Err(EndorsementError::UnknownType { .. })));
        // Taiwan business is F, not S.
        assert!(p.option_for(&e("taiwan-endorsement:S:1x:6m")).is_err());
        assert!(p.option_for(&e("taiwan-endorsement:F:1x:6m")).is_ok());
        // D follows the approved period.
        assert!(p.option_for(&e("hk-macao-endorsement:D:multi:18m")).is_ok());
        assert!(p.option_for(&e("hk-macao-endorsement:D:1x:18m")).is_err());
    }

    #[test]
    fn conditions_are_checked_against_facts() {
        let p = policy();
        let t_year = e("hk-macao-endorsement:T:multi:1y");
        let young = EndorsementFacts { age_years: 40, ..Default::default() };
        assert!(matches!(
            p.check(&t_year, &young),
            Err(EndorsementError::ConditionNotMet { condition: Condition::AgeOrHardship, .. })
        ));
        let old = EndorsementFacts { age_years: 60, ..Default::default() };
        assert!(p.check(&t_year, &old).is_ok());
        let hardship = EndorsementFacts { hardship: true, ..young };
        assert!(p.check(&t_year, &hardship).is_ok());
        let t_close = e("hk-macao-endorsement:T:multi:3m");
        assert!(p.check(&t_close, &young).is_err());
        assert!(p.check(&t_close, &EndorsementFacts { close_relative: true, ..young }).is_ok());
    }

    #[test]
    fn malformed_policy_is_refused() {
        let dup = r#"
            taiwan = []
            [[hk_macao]]
            code = "G"
            name_zh = "x"
            name_en = "x"
            options = [{ entries = "1x", months = 3 }]
            [[hk_macao]]
            code = "G"
            name_zh = "y"
            name_en = "y"
            options = [{ entries = "1x", months = 3 }]
        "#;
        assert!(EndorsementPolicy::parse(dup).unwrap_err().to_string().contains("twice"));
        let both = r#"
            taiwan = []
            [[hk_macao]]
            code = "G"
            name_zh = "x"
            name_en = "x"
            options = [{ entries = "1x", months = 3, max_months = 4 }]
        "#;
        assert!(EndorsementPolicy::parse(both).is_err());
    }
}
