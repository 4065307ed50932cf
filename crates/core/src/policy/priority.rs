//! Priority categories (elderly, infants, pregnancy, disability, military…) as data.

use serde::{Deserialize, Serialize};
use time::Date;

use super::{Confidence, PolicyError, invalid, parse_toml};
use crate::date::{age_on, months_on};
use crate::text::{Localize, Message};

const FILE: &str = "priority.toml";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum PriorityRule {
    /// Applies from this age (completed years) on the visit date.
    AgeAtLeast { years: u32 },
    /// Applies below this age in whole months on the visit date.
    AgeBelowMonths { months: u32 },
    /// Declared by the officer after seeing the evidence.
    Declared { evidence_zh: String, evidence_en: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorityCategory {
    pub id: String,
    pub label_zh: String,
    pub label_en: String,
    pub rule: PriorityRule,
    /// How sure the published source is. An unconfirmed category is flagged wherever shown.
    pub confidence: Confidence,
    /// Order in the outreach queue: lower is called first; ordinary tickets come after
    /// every category.
    pub queue_rank: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorityPolicy {
    #[serde(rename = "category")]
    categories: Vec<PriorityCategory>,
    pub queue: QueueRule,
}

/// How the outreach queue orders tickets beyond the categories.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueRule {
    /// The green channel's rank: urgent cases with their evidence seen.
    pub urgent_rank: u8,
    /// After this many priority calls in a row, an ordinary ticket that has waited at least
    /// `ordinary_max_wait_minutes` is called next (so the ordinary queue still moves). [U]
    pub max_priority_in_a_row: u32,
    pub ordinary_max_wait_minutes: u32,
    /// A ticket called this many times without answering is a no-show.
    pub calls_before_no_show: u32,
    /// The outreach point's service groups, each a letter that begins its ticket numbers.
    pub groups: Vec<ServiceGroup>,
    pub confidence: Confidence,
}

/// A queue of the outreach point: its letter and its name in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceGroup {
    pub letter: char,
    pub zh: String,
    pub en: String,
}

/// Why a declared category was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum PriorityError {
    Unknown(String),
    NotDeclarable(String),
}

impl Localize for PriorityError {
    fn message(&self) -> Message {
        match self {
            PriorityError::Unknown(id) => Message::new("error.priority.unknown").with("id", id.as_str()),
            PriorityError::NotDeclarable(id) => Message::new("error.priority.not-declarable").with("id", id.as_str()),
        }
    }
}

crate::localized_error!(PriorityError);

impl PriorityPolicy {
    pub fn parse(text: &str) -> Result<PriorityPolicy, PolicyError> {
        let p: PriorityPolicy = parse_toml(FILE, text)?;
        for (i, c) in p.categories.iter().enumerate() {
            if p.categories[..i].iter().any(|o| o.id == c.id) {
                return Err(invalid(FILE, format!("category {:?} is listed twice", c.id)));
            }
        }
        let groups = &p.queue.groups;
        if groups.is_empty() {
            return Err(invalid(FILE, "queue.groups is empty"));
        }
        for (i, g) in groups.iter().enumerate() {
            if !g.letter.is_ascii_uppercase() || groups[..i].iter().any(|o| o.letter == g.letter) {
                return Err(invalid(
                    FILE,
                    format!("queue group {:?}: one capital letter each, no two alike", g.letter),
                ));
            }
        }
        Ok(p)
    }

    pub fn categories(&self) -> &[PriorityCategory] {
        &self.categories
    }

    pub fn category(&self, id: &str) -> Option<&PriorityCategory> {
        self.categories.iter().find(|c| c.id == id)
    }

    /// The categories that apply: those computed from the birth date, plus the declared ones.
    pub fn applicable(
        &self,
        birth: Date,
        visit: Date,
        declared: &[String],
    ) -> Result<Vec<&PriorityCategory>, PriorityError> {
        for id in declared {
            let c = self.categories.iter().find(|c| &c.id == id).ok_or_else(|| PriorityError::Unknown(id.clone()))?;
            if !matches!(c.rule, PriorityRule::Declared { .. }) {
                return Err(PriorityError::NotDeclarable(id.clone()));
            }
        }
        Ok(self
            .categories
            .iter()
            .filter(|c| match &c.rule {
                PriorityRule::AgeAtLeast { years } => age_on(birth, visit) >= *years,
                PriorityRule::AgeBelowMonths { months } => months_on(birth, visit) < *months,
                PriorityRule::Declared { .. } => declared.contains(&c.id),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicySources;
    use time::macros::date;

    fn ids(v: Vec<&PriorityCategory>) -> Vec<&str> {
        v.into_iter().map(|c| c.id.as_str()).collect()
    }

    #[test]
    fn age_categories_follow_the_visit_date() {
        let p = PriorityPolicy::parse(PolicySources::BUILTIN.priority).unwrap();
        let birth = date!(1966 - 11 - 27);
        assert!(ids(p.applicable(birth, date!(2026 - 11 - 26), &[]).unwrap()).is_empty());
        assert_eq!(ids(p.applicable(birth, date!(2026 - 11 - 27), &[]).unwrap()), ["elderly"]);
        let baby = date!(2024 - 01 - 15);
        assert_eq!(ids(p.applicable(baby, date!(2026 - 11 - 26), &[]).unwrap()), ["infant"]);
        assert!(ids(p.applicable(baby, date!(2027 - 01 - 15), &[]).unwrap()).is_empty());
    }

    #[test]
    fn declared_categories() {
        let p = PriorityPolicy::parse(PolicySources::BUILTIN.priority).unwrap();
        let birth = date!(1940 - 01 - 01);
        let got = p.applicable(birth, date!(2026 - 11 - 26), &["disability".into()]).unwrap();
        assert_eq!(ids(got), ["elderly", "disability"]);
        assert_eq!(
            p.applicable(birth, date!(2026 - 11 - 26), &["vip".into()]),
            Err(PriorityError::Unknown("vip".into()))
        );
        assert_eq!(
            p.applicable(birth, date!(2026 - 11 - 26), &["elderly".into()]),
            Err(PriorityError::NotDeclarable("elderly".into()))
        );
    }

    #[test]
    fn military_priority_is_flagged_unconfirmed() {
        let p = PriorityPolicy::parse(PolicySources::BUILTIN.priority).unwrap();
        let confidence = |id| p.category(id).unwrap().confidence;
        assert_eq!(confidence("military"), Confidence::Unconfirmed);
        assert_eq!(confidence("elderly"), Confidence::Confirmed);
        let unconfirmed: Vec<&str> =
            p.categories().iter().filter(|c| c.confidence == Confidence::Unconfirmed).map(|c| c.id.as_str()).collect();
        assert_eq!(unconfirmed, ["military"]);
    }

    #[test]
    fn a_bureau_can_add_a_category() {
        let text = r#"
            [[category]]
            id = "elderly-65"
            label_zh = "65周岁以上"
            label_en = "65 or over"
            rule = { kind = "age-at-least", years = 65 }
            confidence = "partial"
            queue_rank = 1
            [queue]
            urgent_rank = 0
            max_priority_in_a_row = 3
            ordinary_max_wait_minutes = 30
            calls_before_no_show = 3
            groups = [{ letter = "A", zh = "办证", en = "documents" }]
            confidence = "unconfirmed"
        "#;
        let p = PriorityPolicy::parse(text).unwrap();
        let birth = date!(1961 - 11 - 26);
        assert_eq!(ids(p.applicable(birth, date!(2026 - 11 - 26), &[]).unwrap()), ["elderly-65"]);
        // The queue's groups: one capital letter each, none twice, at least one.
        let groups = "groups = [{ letter = \"A\", zh = \"办证\", en = \"documents\" }]";
        for bad in [
            "groups = []",
            "groups = [{ letter = \"a\", zh = \"办证\", en = \"documents\" }]",
            "groups = [{ letter = \"A\", zh = \"x\", en = \"x\" }, { letter = \"A\", zh = \"y\", en = \"y\" }]",
        ] {
            let r = PriorityPolicy::parse(&text.replace(groups, bad));
            assert!(matches!(r, Err(PolicyError::Invalid { .. })), "{bad}: {r:?}");
        }
    }
}
