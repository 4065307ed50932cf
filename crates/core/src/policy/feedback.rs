//! The service rating's reasons and the feedback box's categories, as data.

use serde::{Deserialize, Serialize};

use super::{Confidence, PolicyError, invalid, parse_toml};

const FILE: &str = "feedback.toml";

/// The four boxes of the hall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FeedbackKind {
    /// 表扬.
    Praise,
    /// 意见箱: an opinion or a suggestion.
    Suggestion,
    /// 投诉, including the follow-up of a poor rating.
    Complaint,
    /// 办不成事: something the applicant could not get done.
    CouldNotGetDone,
}

impl FeedbackKind {
    pub fn key(self) -> &'static str {
        match self {
            FeedbackKind::Praise => "feedback.kind.praise",
            FeedbackKind::Suggestion => "feedback.kind.suggestion",
            FeedbackKind::Complaint => "feedback.kind.complaint",
            FeedbackKind::CouldNotGetDone => "feedback.kind.could-not-get-done",
        }
    }
}

/// A labelled choice from the policy file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub id: String,
    pub zh: String,
    pub en: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub kind: FeedbackKind,
    pub id: String,
    pub zh: String,
    pub en: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatingRule {
    /// Stars at or below which the rating is poor (asks why; opens a follow-up).
    pub poor_at_most: u8,
    pub reasons: Vec<Choice>,
    pub confidence: Confidence,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedbackPolicy {
    pub rating: RatingRule,
    #[serde(rename = "category")]
    categories: Vec<Category>,
}

impl FeedbackPolicy {
    pub fn parse(text: &str) -> Result<FeedbackPolicy, PolicyError> {
        let p: FeedbackPolicy = parse_toml(FILE, text)?;
        if !(1..=4).contains(&p.rating.poor_at_most) {
            return Err(invalid(FILE, "rating.poor_at_most must be 1–4"));
        }
        if p.rating.reasons.is_empty() {
            return Err(invalid(FILE, "rating.reasons is empty"));
        }
        for (i, c) in p.categories.iter().enumerate() {
            if p.categories[..i].iter().any(|o| o.kind == c.kind && o.id == c.id) {
                return Err(invalid(FILE, format!("category {:?} is listed twice", c.id)));
            }
        }
        if p.category(FeedbackKind::Complaint, POOR_RATING).is_none() {
            return Err(invalid(FILE, format!("a complaint category {POOR_RATING:?} is needed for poor ratings")));
        }
        Ok(p)
    }

    pub fn categories(&self, kind: FeedbackKind) -> impl Iterator<Item = &Category> {
        self.categories.iter().filter(move |c| c.kind == kind)
    }

    pub fn category(&self, kind: FeedbackKind, id: &str) -> Option<&Category> {
        self.categories(kind).find(|c| c.id == id)
    }

    pub fn rating_reason(&self, id: &str) -> Option<&Choice> {
        self.rating.reasons.iter().find(|r| r.id == id)
    }
}

/// The complaint category a poor rating opens.
pub const POOR_RATING: &str = "poor-rating";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicySources;

    #[test]
    fn the_four_boxes_have_categories() {
        let p = FeedbackPolicy::parse(PolicySources::BUILTIN.feedback).unwrap();
        for kind in
            [FeedbackKind::Praise, FeedbackKind::Suggestion, FeedbackKind::Complaint, FeedbackKind::CouldNotGetDone]
        {
            assert!(p.categories(kind).count() >= 1, "{kind:?}");
        }
        assert_eq!(p.rating.poor_at_most, 2);
        assert!(p.rating_reason("waiting").is_some());
    }

    #[test]
    fn a_policy_without_the_poor_rating_category_is_refused() {
        let text = PolicySources::BUILTIN.feedback.replace("id = \"poor-rating\"", "id = \"renamed\"");
        assert!(matches!(FeedbackPolicy::parse(&text), Err(PolicyError::Invalid { .. })));
    }
}
