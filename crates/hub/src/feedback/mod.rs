//! Praise, opinions, complaints and "could not get it done" (办不成事) at the hub: each unit
//! sends its feedback sealed to the bureau's key (`doorstep_envelope::SealedFeedback`); the
//! hub keeps it sealed with, in clear, only what routes it and shows where it stands (its
//! device, box, category, times, state and the back office's answer or note). The back office
//! lists it, opens it with the bureau's private key in its own process ([`open_held`], never in
//! the serving hub), and moves it on by core's rules (`doorstep_core::feedback`): open →
//! acknowledged → answered → closed, an answer allowed without an acknowledgement and a close
//! (with a note) from any state but closed. The unit hears the state and the answer on its
//! next sync.

pub mod cli;
#[cfg(test)]
mod tests;

use doorstep_core::feedback::{Feedback, FeedbackError};
use doorstep_envelope::{BureauSecretKey, SealedFeedback};
use doorstep_sync::wire::FeedbackStatus;
use time::OffsetDateTime;

use crate::store::{FeedbackBox, HeldFeedback, StoreError};

/// What the tablet hears of a feedback the hub holds.
pub fn status_of(held: &HeldFeedback) -> FeedbackStatus {
    FeedbackStatus {
        id: held.id.clone(),
        kind: held.kind,
        category: held.category.clone(),
        created_at_unix: held.created_at_unix,
        received_at_unix: held.received_at_unix,
        state: held.state.clone(),
    }
}

/// A state's name, as the back office reads it: `received` (core's open), `acknowledged`,
/// `answered`, `closed`.
pub fn state_name(state: &doorstep_core::feedback::Escalation) -> &'static str {
    use doorstep_core::feedback::Escalation;
    match state {
        Escalation::Open => "received",
        Escalation::Acknowledged { .. } => "acknowledged",
        Escalation::Answered { .. } => "answered",
        Escalation::Closed { .. } => "closed",
    }
}

/// A move the back office makes on a feedback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Move {
    Acknowledge,
    Answer(String),
    Close(String),
}

#[derive(Debug, thiserror::Error)]
pub enum FeedbackOfficeError {
    #[error("the hub holds no feedback {0}")]
    NoSuchFeedback(String),
    /// Core's rule refused the move (from its state, or an empty answer or note).
    #[error("feedback {id} is {state}: {rule}")]
    Rule { id: String, state: &'static str, rule: FeedbackError },
    #[error("feedback {id}: cannot open (is this the bureau key the tablets seal to?): {problem}")]
    Open { id: String, problem: String },
    /// Opened, but the officer it names is not the one its signing key was enrolled for
    /// (`hub.toml`'s `officer_ids`, SECURITY R24): its content is not shown as theirs.
    #[error("feedback {id}: it names officer {named:?}, but its signing key is enrolled for officer {enrolled:?}")]
    OfficerMismatch { id: String, named: String, enrolled: String },
    /// Opened, but its signing key was enrolled with no officer id (by an earlier version):
    /// whose it is is not known, so its content is not shown as the named officer's.
    #[error(
        "feedback {id}: it names officer {named:?}, but its signing key is enrolled with no officer id: enrol it again for its officer (doorstep-hub add-officer KEY --id OFFICER)"
    )]
    OfficerUnbound { id: String, named: String },
    #[error("feedback {0} kept changing under this command: run it again")]
    Busy(String),
    #[error("{0:?} is not a feedback id: 32 hex digits, with or without dashes, as `feedback list` shows")]
    BadId(String),
    #[error(transparent)]
    Key(#[from] crate::report::ReportError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Makes `mv` on feedback `id` by core's rules, as `by`, at `now`, and keeps it. Returns the
/// feedback as it now stands.
pub fn change(
    store: &dyn FeedbackBox,
    id: &str,
    by: &str,
    mv: &Move,
    now: OffsetDateTime,
) -> Result<HeldFeedback, FeedbackOfficeError> {
    for _ in 0..8 {
        let old = store.held_feedback(id)?.ok_or_else(|| FeedbackOfficeError::NoSuchFeedback(id.to_string()))?;
        let new = moved(&old, by, mv, now).map_err(|rule| FeedbackOfficeError::Rule {
            id: id.to_string(),
            state: state_name(&old.state),
            rule,
        })?;
        if store.replace_feedback(&old, &new)? {
            return Ok(new);
        }
    }
    Err(FeedbackOfficeError::Busy(id.to_string()))
}

/// Core's rule applied to what the hub holds: a `Feedback` with the held state and none of its
/// content (the hub has none in clear), moved, and its new state kept.
fn moved(held: &HeldFeedback, by: &str, mv: &Move, now: OffsetDateTime) -> Result<HeldFeedback, FeedbackError> {
    let mut shell = Feedback {
        id: held.id.clone(),
        kind: held.kind,
        category: held.category.clone(),
        text: String::new(),
        contact: None,
        visit: None,
        officer: String::new(),
        created_at: OffsetDateTime::from_unix_timestamp(held.created_at_unix).unwrap_or(now),
        state: held.state.clone(),
    };
    match mv {
        Move::Acknowledge => shell.acknowledge(by, now)?,
        Move::Answer(text) => shell.answer(by, text, now)?,
        Move::Close(note) => shell.close(by, note, now)?,
    }
    Ok(HeldFeedback { state: shell.state, ..held.clone() })
}

/// Opens a held feedback's sealed bytes with the bureau's private key (in the back office's
/// process) and returns core's `Feedback` as the unit sealed it, checked against what the hub
/// holds in clear.
pub fn open_held(
    store: &dyn FeedbackBox,
    held: &HeldFeedback,
    key: &BureauSecretKey,
    officer_ids: &std::collections::HashMap<[u8; 32], String>,
) -> Result<Feedback, FeedbackOfficeError> {
    let problem = |p: String| FeedbackOfficeError::Open { id: held.id.clone(), problem: p };
    let bytes = store.sealed_feedback(&held.id)?.ok_or_else(|| problem("the hub has no sealed bytes for it".into()))?;
    let sealed = SealedFeedback::from_bytes(&bytes).map_err(|e| problem(e.to_string()))?;
    let plain = doorstep_envelope::open_feedback(&sealed, key).map_err(|e| problem(e.to_string()))?;
    let feedback: Feedback =
        serde_json::from_slice(&plain).map_err(|_| problem("the content does not decode".into()))?;
    let h = sealed.header();
    if feedback.id != held.id || feedback.kind != held.kind || feedback.category != h.category {
        return Err(problem("the sealed content does not match its header".into()));
    }
    // The officer is sealed, so the hub could check only that the key is enrolled; here, whose.
    match officer_ids.get(&h.officer_key) {
        Some(enrolled) if *enrolled == feedback.officer => Ok(feedback),
        Some(enrolled) => Err(FeedbackOfficeError::OfficerMismatch {
            id: held.id.clone(),
            named: feedback.officer.clone(),
            enrolled: enrolled.clone(),
        }),
        None => Err(FeedbackOfficeError::OfficerUnbound { id: held.id.clone(), named: feedback.officer.clone() }),
    }
}
