//! Tests of [`super`].

use super::PrintsInHand;
use doorstep_core::fingerprint::{Attempt, Finger, FingerResult};

#[test]
fn a_refund_reference_cannot_pass_for_another_field() {
    let long = "A".repeat(80);
    for (typed, field) in [
        (None, "none"),
        (Some("  "), "none"),
        (Some(" TK20261205001 "), "TK20261205001"),
        (Some("TK-2026_01"), "TK-2026_01"),
        (Some("TK1 step=step.pay"), "TK1stepsteppay"),
        (Some("已退现金"), "given"),
        (Some(long.as_str()), &long[..64]),
    ] {
        assert_eq!(super::abandoned::refund_field(typed), field, "{typed:?}");
    }
}

/// What was typed is put back only on the step it was typed on, for the applicant it was
/// typed for (none before a card is read), and never from bytes that do not read.
#[test]
fn what_was_typed_is_read_only_for_its_step_and_applicant() {
    use super::FormInHand;
    use doorstep_core::visit::Step;
    let typed = crate::ui::form::Typed {
        values: [("phone".to_string(), "010-65123456".to_string())].into(),
        on: ["post".to_string()].into(),
    };
    let kept = |step, applicant: Option<&str>| {
        serde_json::to_vec(&FormInHand {
            step: Some(step),
            applicant: applicant.map(str::to_string),
            typed: typed.clone(),
        })
        .unwrap()
    };
    let details = kept(Step::Details, Some("a"));
    let before_card = kept(Step::Applicant, None);
    for (bytes, step, applicant, back) in [
        (&details, Step::Details, Some("a"), true),
        (&details, Step::Details, Some("b"), false),
        (&details, Step::Details, None, false),
        (&details, Step::Services, Some("a"), false),
        (&before_card, Step::Applicant, None, true),
        (&before_card, Step::Applicant, Some("a"), false),
    ] {
        let read = FormInHand::read(bytes, step, applicant).map(|f| f.typed);
        assert_eq!(read.as_ref(), back.then_some(&typed), "{step:?} {applicant:?}");
    }
    assert_eq!(FormInHand::read(b"{not json", Step::Details, Some("a")), None);
    // What a draft keeps reads back as a form with the same values.
    let form = crate::ui::form::Form::from_typed(&typed);
    assert_eq!(form.get("phone"), "010-65123456");
    assert!(form.is_on("post"));
    assert_eq!(form.typed(), typed);
}

#[test]
fn the_fingers_in_hand_are_read_only_for_their_applicant() {
    let thumb =
        Attempt { finger: Finger::RIGHT_THUMB, result: FingerResult::Print { quality: 80, digest: "ab".into() } };
    let kept = PrintsInHand {
        attempts: vec![thumb.clone()],
        templates: vec![(Finger::RIGHT_THUMB, vec![1, 2, 3])],
        applicant: "a1".into(),
    };
    let bytes = serde_json::to_vec(&kept).unwrap();
    assert_eq!(PrintsInHand::read(&bytes, Some("a1")), Some(kept));
    // Another applicant's (read after going back), before a restart: not theirs.
    assert_eq!(PrintsInHand::read(&bytes, Some("b2")), None);
    // Back at the applicant step, no card read: whoever's, with whose.
    assert_eq!(PrintsInHand::read(&bytes, None).map(|p| p.applicant), Some("a1".to_string()));
    // Kept by an earlier version, without whose they are: taken again.
    let old = serde_json::json!({ "attempts": [thumb], "templates": [] });
    assert_eq!(PrintsInHand::read(&serde_json::to_vec(&old).unwrap(), Some("a1")), None);
    assert_eq!(PrintsInHand::read(&serde_json::to_vec(&vec![thumb]).unwrap(), Some("a1")), None);
    // Blanked (another applicant), or damaged: nothing in hand.
    assert_eq!(PrintsInHand::read(b"", Some("a1")), None);
    assert_eq!(PrintsInHand::read(b"{\"attempts\": 3}", Some("a1")), None);
}

#[test]
fn a_draft_is_unsealed_until_its_seal() {
    use doorstep_core::visit::Step;
    let cases = [
        (Step::Applicant, true),
        (Step::Services, true),
        (Step::Photo, true),
        (Step::Fingerprints, true),
        (Step::Details, true),
        (Step::Review, true),
        (Step::Sign, true),
        (Step::Pay, true),
        // At the seal step, not yet sealed (the seal moves it on to the receipt).
        (Step::Seal, true),
        (Step::Receipt, false),
        (Step::Rating, false),
        (Step::Done, false),
        (Step::Abandoned, false),
    ];
    for (step, unsealed) in cases {
        let draft = super::Resumable {
            id: "visit-1".into(),
            step,
            who: None,
            started: "12-07 08:00".into(),
            officer: "officer-test".into(),
            paid: None,
            sealed: false,
        };
        assert_eq!(draft.unsealed(), unsealed, "{step:?}");
        // Its application in the outbox (a seal reported failed whose file was durable): sealed
        // at whatever step the draft stands.
        assert!(!super::Resumable { sealed: true, ..draft }.unsealed(), "{step:?}");
    }
}

/// The forms of the steps left read back with their steps; one without a step, or bytes that
/// do not read (damaged, or blanked), give nothing to put back.
#[test]
fn the_forms_left_read_back_only_whole() {
    use super::FormInHand;
    use doorstep_core::visit::Step;
    let typed =
        crate::ui::form::Typed { values: [("phone".to_string(), "010-65123456".to_string())].into(), on: [].into() };
    let services = FormInHand { step: Some(Step::Services), applicant: Some("a1".into()), typed: typed.clone() };
    let stepless = FormInHand { step: None, applicant: Some("a1".into()), typed };
    let bytes = serde_json::to_vec(&[services.clone(), stepless]).unwrap();
    assert_eq!(super::in_hand::read_forms_left(&bytes), vec![services]);
    for damaged in [&b""[..], b"{not json", b"{\"step\": \"services\"}", b"[3]"] {
        assert_eq!(super::in_hand::read_forms_left(damaged), Vec::new(), "{damaged:?}");
    }
}

/// The form in hand of a step other than the visit's (the unit stopped between the visit's move
/// and the keeping of the forms left) is the newest of its step: it goes among the forms left,
/// in place of that step's for the same applicant, not in place of another applicant's.
#[test]
fn a_form_in_hand_of_another_step_is_kept_among_the_forms_left() {
    use super::FormInHand;
    use doorstep_core::visit::{Step, Visit, VisitMode, VisitStart};
    let start = VisitStart { id: "v".into(), officer: "o".into(), mode: VisitMode::Hall, appointment: None };
    // At the applicant step, no card read.
    let visit = Visit::start(start, time::OffsetDateTime::UNIX_EPOCH).unwrap();
    let form = |step, applicant: Option<&str>, phone: &str| FormInHand {
        step: Some(step),
        applicant: applicant.map(str::to_string),
        typed: crate::ui::form::Typed {
            values: [("phone".to_string(), phone.to_string())].into(),
            on: Default::default(),
        },
    };
    let left = vec![form(Step::Details, Some("a"), "older"), form(Step::Details, Some("b"), "b's")];
    let bytes = |f: &FormInHand| serde_json::to_vec(f).unwrap();
    let newer = form(Step::Details, Some("a"), "newer");
    let (now, kept) = super::in_hand::forms_kept(&visit, Some(&bytes(&newer)), left.clone());
    assert_eq!(now, None);
    assert_eq!(kept, vec![form(Step::Details, Some("b"), "b's"), newer]);
    // The visit's own step's form is the form in hand, and the forms left stay as they were.
    let here = form(Step::Applicant, None, "here");
    assert_eq!(super::in_hand::forms_kept(&visit, Some(&bytes(&here)), left.clone()), (Some(here), left.clone()));
    // Nothing, bytes that do not read, or a form of no step: the forms left as they were.
    for in_hand in
        [None, Some(&b"{not json"[..]), Some(&br#"{"step":null,"applicant":null,"typed":{"values":{},"on":[]}}"#[..])]
    {
        assert_eq!(super::in_hand::forms_kept(&visit, in_hand, left.clone()), (None, left.clone()));
    }
    // The consents ticked and the payment chosen are kept as typed for their own step only:
    // never put back on the way back to a step (a consent is given for what the visit then
    // holds, a transaction number for the fee then due).
    for step in [Step::Sign, Step::Pay] {
        let typed = form(step, Some("a"), "typed");
        assert_eq!(super::in_hand::forms_kept(&visit, Some(&bytes(&typed)), left.clone()), (None, left.clone()));
    }
}
