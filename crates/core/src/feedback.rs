//! Praise, opinions, complaints and "could not get it done" (办不成事): a record of their own,
//! not part of an application. Each is sealed and sent like an application; the back office
//! answers it, and the unit hears the answer on its next sync.
//!
//! Escalation: open → acknowledged → answered → closed (answered may be skipped by closing
//! with a note, acknowledged by answering at once).

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::person::PersonName;
use crate::phone::{PhoneError, PhoneNumber};
use crate::policy::{FeedbackKind, FeedbackPolicy, POOR_RATING};
use crate::text::{Localize, Message};
use crate::visit::{Rating, Visit};

/// The longest text kept, in characters.
pub const MAX_TEXT: usize = 500;

/// How to reach the person who gave the feedback, given with their consent.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: Option<PersonName>,
    pub phone: PhoneNumber,
}

impl fmt::Debug for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Contact(<redacted>)")
    }
}

#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactInput {
    pub name: String,
    pub phone: String,
    /// Consent to be contacted about this feedback (GB/T 35273).
    pub consent: bool,
}

impl fmt::Debug for ContactInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContactInput(<redacted>)")
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackInput {
    pub kind: FeedbackKind,
    pub category: String,
    pub text: String,
    pub contact: Option<ContactInput>,
    /// The visit it is about, if any.
    pub visit: Option<String>,
}

impl fmt::Debug for FeedbackInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FeedbackInput({:?}, {:?}, <redacted>)", self.kind, self.category)
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum Escalation {
    Open,
    Acknowledged {
        by: String,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    Answered {
        by: String,
        answer: String,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    Closed {
        by: String,
        note: String,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl fmt::Debug for Escalation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Escalation::Open => f.write_str("Open"),
            Escalation::Acknowledged { by, at } => write!(f, "Acknowledged({by}, {at})"),
            Escalation::Answered { by, at, .. } => write!(f, "Answered({by}, {at}, <redacted>)"),
            Escalation::Closed { by, at, .. } => write!(f, "Closed({by}, {at}, <redacted>)"),
        }
    }
}

/// A feedback record. `Debug` hides the text, the contact and the answers.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    pub id: String,
    pub kind: FeedbackKind,
    pub category: String,
    pub text: String,
    pub contact: Option<Contact>,
    pub visit: Option<String>,
    pub officer: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub state: Escalation,
}

impl fmt::Debug for Feedback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Feedback")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("category", &self.category)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedbackError {
    UnknownCategory {
        kind: FeedbackKind,
        category: String,
    },
    TextMissing,
    TextTooLong {
        max: usize,
    },
    /// A contact given without the person's consent to be contacted.
    ContactWithoutConsent,
    ContactPhone(PhoneError),
    ContactName(crate::name::NameError),
    /// Closing needs a note saying how it ended.
    NoteMissing,
    /// The move is not possible from the record's state.
    WrongState,
    AnswerMissing,
}

impl Localize for FeedbackError {
    fn message(&self) -> Message {
        match self {
            FeedbackError::UnknownCategory { kind, category } => Message::new("error.feedback.unknown-category")
                .with_key("kind", kind.key())
                .with("category", category.as_str()),
            FeedbackError::TextMissing => Message::new("error.feedback.text-missing"),
            FeedbackError::TextTooLong { max } => Message::new("error.feedback.text-too-long").with("max", *max),
            FeedbackError::ContactWithoutConsent => Message::new("error.feedback.contact-without-consent"),
            FeedbackError::ContactPhone(e) => Message::new("error.feedback.contact-phone").with("error", e.message()),
            FeedbackError::ContactName(e) => Message::new("error.feedback.contact-name").with("error", e.message()),
            FeedbackError::NoteMissing => Message::new("error.feedback.note-missing"),
            FeedbackError::WrongState => Message::new("error.feedback.wrong-state"),
            FeedbackError::AnswerMissing => Message::new("error.feedback.answer-missing"),
        }
    }
}

crate::localized_error!(FeedbackError);

impl Feedback {
    /// Records feedback taken by `officer` at `now`.
    pub fn new(
        id: impl Into<String>,
        officer: impl Into<String>,
        input: FeedbackInput,
        policy: &FeedbackPolicy,
        now: OffsetDateTime,
    ) -> Result<Feedback, FeedbackError> {
        // A poor rating's follow-up is made from the rating itself (`from_poor_rating`), never
        // typed: the reports count that category as the poor ratings.
        if policy.category(input.kind, &input.category).is_none() || input.category == POOR_RATING {
            return Err(FeedbackError::UnknownCategory { kind: input.kind, category: input.category });
        }
        let text = input.text.trim().to_string();
        if text.is_empty() {
            return Err(FeedbackError::TextMissing);
        }
        if text.chars().count() > MAX_TEXT {
            return Err(FeedbackError::TextTooLong { max: MAX_TEXT });
        }
        let contact = match input.contact {
            None => None,
            Some(c) if c.name.trim().is_empty() && c.phone.trim().is_empty() => None,
            Some(c) if !c.consent => return Err(FeedbackError::ContactWithoutConsent),
            Some(c) => Some(Contact {
                name: match c.name.trim() {
                    "" => None,
                    name => Some(PersonName::parse(name).map_err(FeedbackError::ContactName)?),
                },
                phone: PhoneNumber::parse(&c.phone).map_err(FeedbackError::ContactPhone)?,
            }),
        };
        Ok(Feedback {
            id: id.into(),
            kind: input.kind,
            category: input.category,
            text,
            contact,
            visit: input.visit,
            officer: officer.into(),
            created_at: now,
            state: Escalation::Open,
        })
    }

    /// The follow-up a poor rating opens, with the reasons given; the applicant's phone is the
    /// contact when they asked for a call back. `None` for a rating that is not poor.
    pub fn from_poor_rating(
        id: impl Into<String>,
        visit: &Visit,
        policy: &FeedbackPolicy,
        now: OffsetDateTime,
    ) -> Option<Feedback> {
        let Some(Rating::Score { stars, reasons, call_back }) = visit.state.rating() else {
            return None;
        };
        if *stars > policy.rating.poor_at_most {
            return None;
        }
        let labels: Vec<String> =
            reasons.iter().filter_map(|r| policy.rating_reason(r)).map(|r| r.zh.clone()).collect();
        let contact = (*call_back)
            .then(|| visit.state.details().map(|d| Contact { name: None, phone: d.phone.clone() }))
            .flatten();
        Some(Feedback {
            id: id.into(),
            kind: FeedbackKind::Complaint,
            category: POOR_RATING.to_string(),
            text: format!("{stars}★ {}", labels.join("、")),
            contact,
            visit: Some(visit.id.clone()),
            officer: visit.officer.clone(),
            created_at: now,
            state: Escalation::Open,
        })
    }

    pub fn acknowledge(&mut self, by: &str, at: OffsetDateTime) -> Result<(), FeedbackError> {
        if self.state != Escalation::Open {
            return Err(FeedbackError::WrongState);
        }
        self.state = Escalation::Acknowledged { by: by.to_string(), at };
        Ok(())
    }

    pub fn answer(&mut self, by: &str, answer: &str, at: OffsetDateTime) -> Result<(), FeedbackError> {
        if !matches!(self.state, Escalation::Open | Escalation::Acknowledged { .. }) {
            return Err(FeedbackError::WrongState);
        }
        let answer = answer.trim();
        if answer.is_empty() {
            return Err(FeedbackError::AnswerMissing);
        }
        self.state = Escalation::Answered { by: by.to_string(), answer: answer.to_string(), at };
        Ok(())
    }

    pub fn close(&mut self, by: &str, note: &str, at: OffsetDateTime) -> Result<(), FeedbackError> {
        if matches!(self.state, Escalation::Closed { .. }) {
            return Err(FeedbackError::WrongState);
        }
        if note.trim().is_empty() {
            return Err(FeedbackError::NoteMissing);
        }
        self.state = Escalation::Closed { by: by.to_string(), note: note.trim().to_string(), at };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Policy, PolicySources};
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-04 15:00 +8);

    fn policy() -> FeedbackPolicy {
        FeedbackPolicy::parse(PolicySources::BUILTIN.feedback).unwrap()
    }

    fn input(kind: FeedbackKind, category: &str) -> FeedbackInput {
        FeedbackInput { kind, category: category.into(), text: "测试意见".into(), contact: None, visit: None }
    }

    #[test]
    fn feedback_is_checked() {
        let p = policy();
        let with_contact = |consent| FeedbackInput {
            contact: Some(ContactInput { name: "测试".into(), phone: "13800138000".into(), consent }),
            ..input(FeedbackKind::Praise, "service")
        };
        let cases = [
            (
                input(FeedbackKind::Praise, "attitude"),
                FeedbackError::UnknownCategory { kind: FeedbackKind::Praise, category: "attitude".into() },
            ),
            (
                input(FeedbackKind::Complaint, POOR_RATING),
                FeedbackError::UnknownCategory { kind: FeedbackKind::Complaint, category: POOR_RATING.into() },
            ),
            (
                FeedbackInput { text: "  ".into(), ..input(FeedbackKind::Complaint, "other") },
                FeedbackError::TextMissing,
            ),
            (
                FeedbackInput { text: "字".repeat(MAX_TEXT + 1), ..input(FeedbackKind::Complaint, "other") },
                FeedbackError::TextTooLong { max: MAX_TEXT },
            ),
            (with_contact(false), FeedbackError::ContactWithoutConsent),
            (
                FeedbackInput {
                    contact: Some(ContactInput { name: "测试1".into(), phone: "13800138000".into(), consent: true }),
                    ..input(FeedbackKind::Praise, "service")
                },
                FeedbackError::ContactName(crate::name::NameError::InvalidCharacter {
                    position: 3,
                    code: "U+0031".into(),
                }),
            ),
        ];
        for (i, want) in cases {
            assert_eq!(Feedback::new("f", "o", i, &p, NOW), Err(want.clone()), "{want:?}");
        }
        let f = Feedback::new("f", "o", with_contact(true), &p, NOW).unwrap();
        assert!(f.contact.is_some());
        let f = Feedback::new("g", "o", input(FeedbackKind::CouldNotGetDone, "materials"), &p, NOW).unwrap();
        assert_eq!(f.state, Escalation::Open);
    }

    #[test]
    fn escalation_moves_forward_only() {
        let p = policy();
        let mut f = Feedback::new("f", "o", input(FeedbackKind::Complaint, "attitude"), &p, NOW).unwrap();
        f.acknowledge("back-office", NOW).unwrap();
        assert_eq!(f.acknowledge("back-office", NOW), Err(FeedbackError::WrongState));
        assert_eq!(f.answer("back-office", " ", NOW), Err(FeedbackError::AnswerMissing));
        f.answer("back-office", "已回访", NOW).unwrap();
        assert_eq!(f.answer("back-office", "again", NOW), Err(FeedbackError::WrongState));
        assert_eq!(f.close("back-office", " ", NOW), Err(FeedbackError::NoteMissing));
        f.close("back-office", "已办结", NOW).unwrap();
        assert_eq!(f.close("back-office", "again", NOW), Err(FeedbackError::WrongState));
    }

    #[test]
    fn debug_hides_the_text_and_contact() {
        let p = policy();
        let i = FeedbackInput {
            contact: Some(ContactInput { name: "测试".into(), phone: "13800138000".into(), consent: true }),
            ..input(FeedbackKind::Suggestion, "process")
        };
        let s = format!("{i:?}");
        assert!(!s.contains("测试"), "{s}");
        let mut f = Feedback::new("f", "o", i, &p, NOW).unwrap();
        f.answer("back-office", "已电话联系测试", NOW).unwrap();
        let s = format!("{f:?}");
        assert!(!s.contains("测试") && !s.contains("13800138000"), "{s}");
        // The whole policy loads with this feedback file.
        assert!(Policy::builtin().is_ok());
    }
}
