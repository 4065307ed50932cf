//! Core's rules as the hub applies them to what it holds, move by move from each state.

use doorstep_core::feedback::{Escalation, FeedbackError};
use doorstep_core::policy::FeedbackKind;
use time::macros::datetime;

use super::*;

const AT: OffsetDateTime = datetime!(2026-12-05 10:00 +8);

fn held(state: Escalation) -> HeldFeedback {
    HeldFeedback {
        id: "0190f0c4-8a2b-7000-8000-000000000001".into(),
        device: "tablet-01".into(),
        kind: FeedbackKind::Complaint,
        category: "attitude".into(),
        created_at_unix: 1_790_000_000,
        received_at_unix: 1_790_000_100,
        digest: "00".repeat(32),
        state,
    }
}

#[test]
fn each_move_from_each_state_follows_core() {
    let ack = Escalation::Acknowledged { by: "b".into(), at: AT };
    let answered = Escalation::Answered { by: "b".into(), answer: "已回访".into(), at: AT };
    let closed = Escalation::Closed { by: "b".into(), note: "已办结".into(), at: AT };
    let answer = |t: &str| Move::Answer(t.into());
    let close = |t: &str| Move::Close(t.into());
    use FeedbackError::{AnswerMissing, NoteMissing, WrongState};
    // (from, move, the state it ends in or core's refusal)
    let cases: Vec<(Escalation, Move, Result<&str, FeedbackError>)> = vec![
        (Escalation::Open, Move::Acknowledge, Ok("acknowledged")),
        (Escalation::Open, answer("已回访"), Ok("answered")),
        (Escalation::Open, answer("  "), Err(AnswerMissing)),
        (Escalation::Open, close("已办结"), Ok("closed")),
        (Escalation::Open, close(""), Err(NoteMissing)),
        (ack.clone(), Move::Acknowledge, Err(WrongState)),
        (ack.clone(), answer("已回访"), Ok("answered")),
        (ack.clone(), close("已办结"), Ok("closed")),
        (answered.clone(), Move::Acknowledge, Err(WrongState)),
        (answered.clone(), answer("again"), Err(WrongState)),
        (answered.clone(), close("已办结"), Ok("closed")),
        (closed.clone(), Move::Acknowledge, Err(WrongState)),
        (closed.clone(), answer("again"), Err(WrongState)),
        (closed.clone(), close("again"), Err(WrongState)),
    ];
    for (from, mv, want) in cases {
        let got = moved(&held(from.clone()), "back-office", &mv, AT);
        assert_eq!(got.as_ref().map(|h| state_name(&h.state)).map_err(Clone::clone), want, "{from:?} {mv:?}");
        if let Ok(h) = got {
            assert_eq!(HeldFeedback { state: Escalation::Open, ..h }, held(Escalation::Open), "only the state moves");
        }
    }
}

#[test]
fn what_the_tablet_hears_is_the_held_state_and_nothing_else() {
    let h = held(Escalation::Answered { by: "b".into(), answer: "已回访".into(), at: AT });
    let s = status_of(&h);
    let json = serde_json::to_string(&s).unwrap();
    assert_eq!(
        json,
        concat!(
            r#"{"id":"0190f0c4-8a2b-7000-8000-000000000001","kind":"complaint","category":"attitude","#,
            r#""created_at_unix":1790000000,"received_at_unix":1790000100,"#,
            r#""state":{"state":"answered","by":"b","answer":"已回访","at":"2026-12-05T10:00:00+08:00"}}"#
        )
    );
    assert!(!json.contains(&h.digest) && !json.contains(&h.device));
}
