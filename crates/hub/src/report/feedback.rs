//! The feedback in a report: praise, opinions, complaints and "could not get it done" the hub
//! received in the range, by box and by state, and the poor ratings among them (a poor rating
//! reaches the hub only as the complaint it opens, category `poor-rating`). Counted from the
//! hub's own records (box, category, state): the sealed words are never opened for it.

use std::collections::BTreeMap;

use doorstep_core::feedback::Escalation;
use doorstep_core::policy::POOR_RATING;
use serde::Serialize;

use super::DateRange;
use crate::store::HeldFeedback;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FeedbackFigures {
    pub received: usize,
    /// By box: praise, suggestion, complaint, could-not-get-done.
    pub by_kind: BTreeMap<String, usize>,
    /// By state: received (not yet acknowledged), acknowledged, answered, closed.
    pub by_state: BTreeMap<String, usize>,
    /// Complaints opened by a poor rating at the end of a visit.
    pub poor_ratings: usize,
}

/// The figures of the feedback received in `range` (by the hub's clock, as applications).
pub fn figures(list: &[HeldFeedback], range: &DateRange) -> FeedbackFigures {
    let mut f = FeedbackFigures::default();
    for h in list.iter().filter(|h| range.contains(h.received_at_unix)) {
        f.received += 1;
        let kind = serde_json::to_value(h.kind).ok().and_then(|v| v.as_str().map(str::to_string));
        *f.by_kind.entry(kind.unwrap_or_else(|| "unknown".into())).or_default() += 1;
        let state = match h.state {
            Escalation::Open => "received",
            Escalation::Acknowledged { .. } => "acknowledged",
            Escalation::Answered { .. } => "answered",
            Escalation::Closed { .. } => "closed",
        };
        *f.by_state.entry(state.to_string()).or_default() += 1;
        if h.category == POOR_RATING {
            f.poor_ratings += 1;
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use doorstep_core::policy::FeedbackKind;
    use time::macros::datetime;

    fn held(
        n: u8,
        kind: FeedbackKind,
        category: &str,
        received: time::OffsetDateTime,
        state: Escalation,
    ) -> HeldFeedback {
        HeldFeedback {
            id: format!("f{n}"),
            device: "tablet-a".into(),
            kind,
            category: category.into(),
            created_at_unix: received.unix_timestamp() - 60,
            received_at_unix: received.unix_timestamp(),
            digest: String::new(),
            state,
        }
    }

    #[test]
    fn feedback_in_the_range_counts_by_box_state_and_poor_rating() {
        let range = DateRange::parse("2026-12-01", "2026-12-02").unwrap();
        let at = datetime!(2026-12-01 10:00 +8);
        let answered = Escalation::Answered { by: "back-office".into(), answer: "已答复".into(), at };
        let list = [
            held(1, FeedbackKind::Complaint, POOR_RATING, at, Escalation::Open),
            held(2, FeedbackKind::Complaint, "attitude", at, answered.clone()),
            held(3, FeedbackKind::Praise, "service", datetime!(2026-12-02 23:59 +8), Escalation::Open),
            // Outside the range, either side (the day is Beijing's).
            held(4, FeedbackKind::Complaint, POOR_RATING, datetime!(2026-11-30 23:59 +8), Escalation::Open),
            held(5, FeedbackKind::Suggestion, "process", datetime!(2026-12-03 00:00 +8), answered),
        ];
        let f = figures(&list, &range);
        assert_eq!(f.received, 3);
        assert_eq!(f.by_kind, [("complaint".to_string(), 2), ("praise".to_string(), 1)].into());
        assert_eq!(f.by_state, [("answered".to_string(), 1), ("received".to_string(), 2)].into());
        assert_eq!(f.poor_ratings, 1);
        assert_eq!(figures(&[], &range), FeedbackFigures::default());
    }
}
