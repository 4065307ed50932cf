//! Policy a bureau changes without a release: fees, endorsement options, priority
//! categories, urgent grounds and a few age rules. Each is a TOML text; the defaults under
//! `assets/policy/` are embedded at build time, and the app may load replacements from
//! files (this crate only parses text, it never opens a file).

mod endorsements;
mod fees;
mod priority;
mod rules;
mod urgent;

pub use endorsements::{Condition, EndorsementFacts, EndorsementOption, EndorsementPolicy, EndorsementType};
pub use fees::{Confidence, FeeError, FeeItem, FeeLine, FeeQuote, FeeSchedule, FeeSchedules};
pub use priority::{PriorityCategory, PriorityPolicy, PriorityRule};
pub use rules::{FingerprintRule, GuardianRule, PhotoReuseRefusal, PhotoReuseRule, PhotoSource, Rules};
pub use urgent::{Evidence, UrgentGround, UrgentPolicy};

use serde::Deserialize;

/// Which policy text failed to load, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("{file}: {message}")]
    Parse { file: &'static str, message: String },
    #[error("{file}: {message}")]
    Invalid { file: &'static str, message: String },
}

/// The texts of the five policy files.
#[derive(Debug, Clone, Copy)]
pub struct PolicySources<'a> {
    pub fees: &'a str,
    pub endorsements: &'a str,
    pub priority: &'a str,
    pub urgent: &'a str,
    pub rules: &'a str,
}

impl PolicySources<'static> {
    /// The defaults shipped in `assets/policy/`.
    pub const BUILTIN: PolicySources<'static> = PolicySources {
        fees: include_str!("../../../../assets/policy/fees.toml"),
        endorsements: include_str!("../../../../assets/policy/endorsements.toml"),
        priority: include_str!("../../../../assets/policy/priority.toml"),
        urgent: include_str!("../../../../assets/policy/urgent.toml"),
        rules: include_str!("../../../../assets/policy/rules.toml"),
    };
}

/// The file names, for loaders and error messages.
pub const POLICY_FILES: [&str; 5] = ["fees.toml", "endorsements.toml", "priority.toml", "urgent.toml", "rules.toml"];

/// Everything the domain rules consult.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub fees: FeeSchedules,
    pub endorsements: EndorsementPolicy,
    pub priority: PriorityPolicy,
    pub urgent: UrgentPolicy,
    pub rules: Rules,
}

impl Policy {
    pub fn parse(sources: PolicySources<'_>) -> Result<Policy, PolicyError> {
        Ok(Policy {
            fees: FeeSchedules::parse(sources.fees)?,
            endorsements: EndorsementPolicy::parse(sources.endorsements)?,
            priority: PriorityPolicy::parse(sources.priority)?,
            urgent: UrgentPolicy::parse(sources.urgent)?,
            rules: Rules::parse(sources.rules)?,
        })
    }

    /// The embedded defaults. They are checked by the test suite, so this cannot fail in
    /// a released build; should it ever, the error names the file.
    pub fn builtin() -> Result<Policy, PolicyError> {
        Policy::parse(PolicySources::BUILTIN)
    }
}

fn parse_toml<T: for<'de> Deserialize<'de>>(file: &'static str, text: &str) -> Result<T, PolicyError> {
    toml::from_str(text).map_err(|e| PolicyError::Parse { file, message: e.to_string() })
}

fn invalid(file: &'static str, message: impl Into<String>) -> PolicyError {
    PolicyError::Invalid { file, message: message.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_policy_loads() {
        let p = Policy::builtin().unwrap();
        assert_eq!(p.fees.schedules().len(), 2);
        assert_eq!(p.endorsements.types(crate::service::EndorsementRegion::HkMacao).len(), 6);
        assert_eq!(p.endorsements.types(crate::service::EndorsementRegion::Taiwan).len(), 9);
        assert_eq!(p.priority.categories().len(), 5);
        assert_eq!(p.urgent.grounds().len(), 10);
    }

    #[test]
    fn a_broken_file_is_named_in_the_error() {
        let sources = PolicySources { urgent: "max_working_days = \"five\"", ..PolicySources::BUILTIN };
        let err = Policy::parse(sources).unwrap_err();
        assert!(err.to_string().starts_with("urgent.toml:"), "{err}");
    }
}
