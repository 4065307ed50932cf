//! Policy a bureau changes without a release: fees, endorsement options, priority
//! categories and the queue, urgent grounds, age and visit rules, the working-day calendar,
//! and the rating and feedback lists. Each is a TOML text; the defaults under
//! `assets/policy/` are embedded at build time, and the app may load replacements from
//! files (this crate only parses text, it never opens a file). Every fact carries the
//! confidence of its source.

mod calendar;
mod endorsements;
mod feedback;
mod fees;
mod priority;
mod rules;
mod urgent;

pub use calendar::{CalendarYear, CountedDate, WorkCalendar};
pub use endorsements::{
    Condition, EndorsementError, EndorsementFacts, EndorsementOption, EndorsementPolicy, EndorsementType, Offered,
};
pub use feedback::{Category, Choice, FeedbackKind, FeedbackPolicy, POOR_RATING, RatingRule};
pub use fees::{Confidence, FeeError, FeeItem, FeeLine, FeeQuote, FeeSchedule, FeeSchedules};
pub use priority::{PriorityCategory, PriorityError, PriorityPolicy, PriorityRule, QueueRule, ServiceGroup};
pub use rules::{
    FingerprintRule, GuardianRule, PaymentMethod, PaymentRule, PhotoReuseRefusal, PhotoReuseRule, PhotoRule,
    PhotoSource, PostageCollected, PostageRule, ProcessingRule, Rules, ServiceLimit, SignatureRule, UnderAge,
};
pub use urgent::{Evidence, UrgentError, UrgentGround, UrgentPolicy};

use serde::Deserialize;

use crate::text::{Localize, Message};

/// Which policy text failed to load, and why. The detail is the TOML parser's or the
/// check's own words, for the administrator who edits the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    Parse { file: &'static str, message: String },
    Invalid { file: &'static str, message: String },
}

impl Localize for PolicyError {
    fn message(&self) -> Message {
        match self {
            PolicyError::Parse { file, message } => {
                Message::new("error.policy.parse").with("file", *file).with("detail", message.as_str())
            }
            PolicyError::Invalid { file, message } => {
                Message::new("error.policy.invalid").with("file", *file).with("detail", message.as_str())
            }
        }
    }
}

crate::localized_error!(PolicyError);

/// The policy files, by name, in the order [`PolicySources::texts`] gives them.
pub const POLICY_FILES: [&str; 7] =
    ["fees.toml", "endorsements.toml", "priority.toml", "urgent.toml", "rules.toml", "calendar.toml", "feedback.toml"];

/// The texts of the policy files.
#[derive(Debug, Clone, Copy)]
pub struct PolicySources<'a> {
    pub fees: &'a str,
    pub endorsements: &'a str,
    pub priority: &'a str,
    pub urgent: &'a str,
    pub rules: &'a str,
    pub calendar: &'a str,
    pub feedback: &'a str,
}

impl PolicySources<'static> {
    /// The defaults shipped in `assets/policy/`.
    pub const BUILTIN: PolicySources<'static> = PolicySources {
        fees: include_str!("../../../../assets/policy/fees.toml"),
        endorsements: include_str!("../../../../assets/policy/endorsements.toml"),
        priority: include_str!("../../../../assets/policy/priority.toml"),
        urgent: include_str!("../../../../assets/policy/urgent.toml"),
        rules: include_str!("../../../../assets/policy/rules.toml"),
        calendar: include_str!("../../../../assets/policy/calendar.toml"),
        feedback: include_str!("../../../../assets/policy/feedback.toml"),
    };
}

impl<'a> PolicySources<'a> {
    /// The texts in the order of [`POLICY_FILES`].
    pub fn texts(&self) -> [&'a str; 7] {
        [self.fees, self.endorsements, self.priority, self.urgent, self.rules, self.calendar, self.feedback]
    }

    /// Sources from texts in the order of [`POLICY_FILES`].
    pub fn from_texts(t: [&'a str; 7]) -> PolicySources<'a> {
        PolicySources {
            fees: t[0],
            endorsements: t[1],
            priority: t[2],
            urgent: t[3],
            rules: t[4],
            calendar: t[5],
            feedback: t[6],
        }
    }
}

/// Everything the domain rules consult.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub fees: FeeSchedules,
    pub endorsements: EndorsementPolicy,
    pub priority: PriorityPolicy,
    pub urgent: UrgentPolicy,
    pub rules: Rules,
    pub calendar: WorkCalendar,
    pub feedback: FeedbackPolicy,
}

impl Policy {
    pub fn parse(sources: PolicySources<'_>) -> Result<Policy, PolicyError> {
        Ok(Policy {
            fees: FeeSchedules::parse(sources.fees)?,
            endorsements: EndorsementPolicy::parse(sources.endorsements)?,
            priority: PriorityPolicy::parse(sources.priority)?,
            urgent: UrgentPolicy::parse(sources.urgent)?,
            rules: Rules::parse(sources.rules)?,
            calendar: WorkCalendar::parse(sources.calendar)?,
            feedback: FeedbackPolicy::parse(sources.feedback)?,
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
        assert_eq!(p.endorsements.types(crate::service::EndorsementRegion::HkMacao).len(), 7);
        assert_eq!(p.endorsements.types(crate::service::EndorsementRegion::Taiwan).len(), 9);
        assert_eq!(p.priority.categories().len(), 5);
        assert_eq!(p.urgent.grounds().len(), 10);
        assert_eq!(p.calendar.years().iter().map(|y| y.year).collect::<Vec<_>>(), [2025, 2026]);
    }

    #[test]
    fn a_broken_file_is_named_in_the_error() {
        let sources = PolicySources { urgent: "[[ground]]\nid = 5", ..PolicySources::BUILTIN };
        assert!(matches!(Policy::parse(sources), Err(PolicyError::Parse { file: "urgent.toml", .. })));
        let sources = PolicySources { calendar: "year = []\nextra = 1", ..PolicySources::BUILTIN };
        assert!(matches!(Policy::parse(sources), Err(PolicyError::Parse { file: "calendar.toml", .. })));
    }

    #[test]
    fn sources_round_trip_through_their_file_order() {
        let b = PolicySources::BUILTIN;
        let again = PolicySources::from_texts(b.texts());
        assert_eq!(again.texts(), b.texts());
        assert_eq!(POLICY_FILES.len(), b.texts().len());
    }
}
