//! Priority categories (elderly, infants, pregnancy, disability, military…) as data.

use serde::{Deserialize, Serialize};
use time::Date;

use super::{PolicyError, invalid, parse_toml};
use crate::date::{age_on, months_on};

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
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorityPolicy {
    #[serde(rename = "category")]
    categories: Vec<PriorityCategory>,
}

/// Why a declared category was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum PriorityError {
    #[error("there is no priority category {0:?}")]
    Unknown(String),
    #[error("priority category {0:?} follows from the birth date and cannot be declared")]
    NotDeclarable(String),
}

impl PriorityPolicy {
    pub fn parse(text: &str) -> Result<PriorityPolicy, PolicyError> {
        let p: PriorityPolicy = parse_toml(FILE, text)?;
        for (i, c) in p.categories.iter().enumerate() {
            if p.categories[..i].iter().any(|o| o.id == c.id) {
                return Err(invalid(FILE, format!("category {:?} is listed twice", c.id)));
            }
        }
        Ok(p)
    }

    pub fn categories(&self) -> &[PriorityCategory] {
        &self.categories
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
    fn a_bureau_can_add_a_category() {
        let text = r#"
            [[category]]
            id = "elderly-65"
            label_zh = "65周岁以上"
            label_en = "65 or over"
            rule = { kind = "age-at-least", years = 65 }
        "#;
        let p = PriorityPolicy::parse(text).unwrap();
        let birth = date!(1961 - 11 - 26);
        assert_eq!(ids(p.applicable(birth, date!(2026 - 11 - 26), &[]).unwrap()), ["elderly-65"]);
    }
}
