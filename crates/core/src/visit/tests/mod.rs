//! The visit: whole paths and the applicant step here; each later step's checks as tables,
//! going back, abandoning and flags in [`steps`].

mod photo;
mod records;
mod steps;

use time::macros::{date, datetime};
use time::{Date, OffsetDateTime};

use super::*;
use crate::applicant::{ApplicantInput, HeldDocument, IdentitySource};
use crate::document::{DocumentKind, DocumentNumber};
use crate::fingerprint::{Attempt, Finger, FingerResult, FingerprintError, NoPrint};
use crate::id_number::{Sex, check_character};
use crate::money::Yuan;
use crate::person::fixtures::{companion, mother, taiwan_father};
use crate::person::{GuardianError, GuardiansInput, IdDocumentKind};
use crate::phone::PhoneError;
use crate::policy::{EndorsementFacts, PaymentMethod, PhotoSource, Policy, PolicySources};
use crate::requirements::ServicesError;

const NOW: OffsetDateTime = datetime!(2026-11-26 10:30 +8);
const TODAY: Date = date!(2026 - 11 - 26);
const DIGEST: &str = "5f2b1c0e8a7d6b4c3a2918f7e6d5c4b3a2918f7e6d5c4b3a2918f7e6d5c4b3a2";

fn policy() -> Policy {
    Policy::builtin().unwrap()
}

fn start() -> Visit {
    let start = VisitStart {
        id: "visit-1".into(),
        officer: "officer-1".into(),
        mode: VisitMode::Home { reason: HomeReason::Bedbound },
        appointment: None,
    };
    Visit::start(start, NOW).unwrap()
}

fn id_born(yyyymmdd: &str, seq: &str) -> String {
    let body = format!("110105{yyyymmdd}{seq}");
    format!("{body}{}", check_character(&body))
}

/// The published example: 测试, born 1949-12-31, female (76 on the visit).
fn elder() -> Identification {
    Identification {
        applicant: ApplicantInput {
            source: Some(IdentitySource::CardReader),
            name: "测试".into(),
            id_number: "11010519491231002X".into(),
            card_birth_date: "19491231".into(),
            card_sex: Some(Sex::Female),
            card_expiry: "长期".into(),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Born 1990-01-01, male.
fn adult() -> Identification {
    Identification {
        applicant: ApplicantInput {
            name: "测试".into(), id_number: id_born("19900101", "001"), ..Default::default()
        },
        ..Default::default()
    }
}

/// A child born on `yyyymmdd`, with a mother here and a Taiwan father who sent his consent.
fn child(yyyymmdd: &str) -> Identification {
    Identification {
        applicant: ApplicantInput {
            name: "测试子".into(), id_number: id_born(yyyymmdd, "002"), ..Default::default()
        },
        guardians: GuardiansInput {
            guardians: vec![mother(true), taiwan_father()],
            all_custodians_listed: true,
            proof_seen: true,
            companion: None,
        },
        applied_by_guardian: false,
    }
}

fn services(specs: &[&str]) -> VisitEvent {
    services_with(specs, EndorsementFacts::default())
}

fn services_with(specs: &[&str], facts: EndorsementFacts) -> VisitEvent {
    VisitEvent::ServicesChosen(ServicesInput { services: specs.iter().map(|s| s.parse().unwrap()).collect(), facts })
}

fn photo() -> VisitEvent {
    VisitEvent::PhotoTaken(PhotoInput::Captured(TakenPhoto {
        digest: DIGEST.into(),
        failed_checks: vec![],
        override_reason: None,
        to_look_at: vec![],
        looked: None,
    }))
}

fn print(n: u8) -> Attempt {
    Attempt { finger: Finger::new(n).unwrap(), result: FingerResult::Print { quality: 80, digest: DIGEST.into() } }
}

fn missing(n: u8) -> Attempt {
    Attempt { finger: Finger::new(n).unwrap(), result: FingerResult::NoPrint(NoPrint::Missing) }
}

fn thumbs() -> VisitEvent {
    VisitEvent::FingerprintsTaken(FingerprintsInput::Taken {
        attempts: vec![print(1), print(6)],
        no_valid_print_confirmed: false,
    })
}

fn details() -> DetailsInput {
    DetailsInput {
        phone: "010-65123456".into(),
        address: "测试省测试市测试路1号".into(),
        delivery: DeliveryInput::Pickup { office: "测试出入境大厅".into() },
        urgent: None,
        declared_priority: vec![],
    }
}

fn signed() -> Strokes {
    Strokes { digest: DIGEST.into(), strokes: 3 }
}

fn consent() -> ConsentInput {
    ConsentInput { application: true, biometrics: true, applicant: Some(signed()), ..Default::default() }
}

fn cash(yuan: &str) -> VisitEvent {
    VisitEvent::Paid(PaymentInput {
        method: PaymentMethod::Cash,
        amount: yuan.parse().unwrap(),
        reference: String::new(),
    })
}

/// Applies events in order, failing the test on the first error.
fn run(visit: &mut Visit, events: Vec<VisitEvent>) {
    let p = policy();
    for e in events {
        let kind = e.kind();
        visit.apply(&p, NOW, e).unwrap_or_else(|err| panic!("{kind:?}: {err:?}"));
    }
}

/// Applies `setup`, then `event`, and returns the error, checking the visit did not move.
fn refused(setup: Vec<VisitEvent>, event: VisitEvent) -> VisitError {
    let mut v = start();
    run(&mut v, setup);
    let before = v.clone();
    let e = v.apply(&policy(), NOW, event).expect_err("the event should be refused");
    assert_eq!(v, before, "a refused event changed the visit");
    e
}

fn to_details(who: Identification, specs: &[&str]) -> Vec<VisitEvent> {
    vec![VisitEvent::Identified(who), services(specs), photo(), thumbs()]
}

#[test]
fn a_whole_visit_from_identity_to_rating() {
    let mut v = start();
    assert_eq!(v.step(), Step::Applicant);
    run(
        &mut v,
        vec![
            VisitEvent::Identified(elder()),
            services(&["hk-macao-permit", "hk-macao-endorsement:T:multi:1y"]),
            photo(),
            thumbs(),
            VisitEvent::DetailsEntered(details()),
            VisitEvent::ReviewConfirmed,
            VisitEvent::Signed(consent()),
            cash("140"),
        ],
    );
    assert_eq!(v.step(), Step::Seal);
    // T multi 1y is open to her because she is over 60; the quote follows the 2019 schedule.
    let chosen = v.state.services().unwrap();
    assert_eq!(chosen.quote.total.to_string(), "140.00");
    assert_eq!(chosen.facts.age_years, 76);
    let paid = v.state.payment().unwrap();
    assert_eq!((paid.amount, paid.at, paid.quote.total), ("140".parse::<Yuan>().unwrap(), NOW, chosen.quote.total));
    run(
        &mut v,
        vec![
            VisitEvent::Sealed { application_numbers: vec!["A1".into(), "A2".into()], rating_code: "RATE1234".into() },
            VisitEvent::ReceiptIssued(ReceiptMethod::Printed),
            VisitEvent::Rated(RatingInput::Score { stars: 5, reasons: vec![], call_back: false }),
        ],
    );
    assert_eq!(v.step(), Step::Done);
    // Each application has its promised date: 2026-11-26 (Thursday) + 7 working days.
    let apps = v.state.applications().unwrap();
    assert_eq!(apps.iter().map(|a| a.expected.date.date).collect::<Vec<_>>(), [date!(2026 - 12 - 07); 2]);
    assert_eq!(v.state.details().unwrap().priority, ["elderly"]);
    assert!(v.flags(&policy()).is_empty(), "{:?}", v.flags(&policy()));
}

#[test]
fn a_visit_survives_a_serde_round_trip_at_every_step() {
    let p = policy();
    let mut v = start();
    let events = vec![
        VisitEvent::Identified(child("20150301")),
        services(&["passport"]),
        photo(),
        thumbs(),
        VisitEvent::DetailsEntered(details()),
        VisitEvent::ReviewConfirmed,
        VisitEvent::Signed(ConsentInput { guardians: vec![Some(signed()), None], ..consent() }),
        cash("120"),
        VisitEvent::Sealed { application_numbers: vec!["A1".into()], rating_code: "RATE1234".into() },
        VisitEvent::ReceiptIssued(ReceiptMethod::OnScreen),
        VisitEvent::Rated(RatingInput::Later),
    ];
    let mut seen = vec![v.step()];
    let check = |v: &Visit| {
        let json = serde_json::to_string(v).unwrap();
        let back: Visit = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, v, "at {:?}", v.step());
    };
    check(&v);
    for e in events {
        v.apply(&p, NOW, e).unwrap();
        check(&v);
        seen.push(v.step());
    }
    assert_eq!(seen, Step::FLOW, "every step was visited and round-tripped");
    assert_eq!(v.state.rating(), Some(&Rating::Later { code: "RATE1234".into() }));
}

#[test]
fn events_out_of_order_are_illegal_and_change_nothing() {
    for e in [photo(), VisitEvent::ReviewConfirmed, VisitEvent::Back, cash("1")] {
        let kind = e.kind();
        assert_eq!(refused(vec![], e), VisitError::IllegalTransition { step: Step::Applicant, event: kind });
    }
    let e = refused(vec![VisitEvent::Identified(elder())], VisitEvent::Identified(elder()));
    assert_eq!(e, VisitError::IllegalTransition { step: Step::Services, event: EventKind::Identified });
}

#[test]
fn starting_needs_the_mode_s_details() {
    let start = |mode| VisitStart { id: "v".into(), officer: "o".into(), mode, appointment: None };
    let cases = [
        (VisitMode::Home { reason: HomeReason::Other { text: " ".into() } }, ModeError::HomeReasonMissing),
        (VisitMode::Outreach { point: String::new() }, ModeError::OutreachPointMissing),
    ];
    for (mode, want) in cases {
        assert_eq!(Visit::start(start(mode), NOW), Err(VisitError::Mode(want)));
    }
    assert!(Visit::start(start(VisitMode::Outreach { point: "测试商会".into() }), NOW).is_ok());
}

#[test]
fn guardians_are_required_under_sixteen_and_checked() {
    let no_guardians = Identification { guardians: GuardiansInput::default(), ..child("20150301") };
    assert_eq!(
        refused(vec![], VisitEvent::Identified(no_guardians)),
        VisitError::Guardian(GuardianError::Required { below_age: 16 })
    );
    // 16 the day before the visit: no guardian needed.
    let sixteen = Identification { guardians: GuardiansInput::default(), ..child("20101125") };
    let mut v = start();
    run(&mut v, vec![VisitEvent::Identified(sixteen)]);
    // A Taiwan parent is recorded by the 台胞证.
    let mut v = start();
    run(&mut v, vec![VisitEvent::Identified(child("20150301"))]);
    let g = v.state.identified().unwrap().guardians.as_ref().unwrap();
    assert_eq!(g.guardians[1].document.kind(), IdDocumentKind::TaiwanResidentPermit);
}

#[test]
fn a_guardian_may_apply_for_a_child_under_seven() {
    let absent = |birth| Identification { applied_by_guardian: true, ..child(birth) };
    // Six: the guardian applies, the child does not sign.
    let mut v = start();
    run(&mut v, vec![VisitEvent::Identified(absent("20200101"))]);
    assert!(v.flags(&policy()).contains(&Flag::AppliedByGuardian));
    // Seven: the child must come.
    assert_eq!(
        refused(vec![], VisitEvent::Identified(absent("20190101"))),
        VisitError::ApplicantMustBePresent { below_age: 7 }
    );
    // The applying guardian must be here, not only a companion.
    let companion = companion();
    let mut by_companion = absent("20200101");
    by_companion.guardians.guardians = vec![mother(false)];
    by_companion.guardians.companion = Some(companion);
    assert_eq!(
        refused(vec![], VisitEvent::Identified(by_companion)),
        VisitError::Guardian(GuardianError::ApplyingGuardianAbsent)
    );
    // And said so, not that a companion is missing, when no companion is given: the child is
    // not here, so none brings them.
    let mut nobody = absent("20200101");
    nobody.guardians.guardians = vec![mother(false)];
    nobody.guardians.companion = None;
    assert_eq!(
        refused(vec![], VisitEvent::Identified(nobody)),
        VisitError::Guardian(GuardianError::ApplyingGuardianAbsent)
    );
}

fn holding_permit(expiry: Option<Date>, number: bool) -> Identification {
    let mut who = adult();
    who.applicant.held_documents = vec![HeldDocument {
        kind: DocumentKind::HkMacaoPermit,
        number: number.then(|| DocumentNumber::parse(DocumentKind::HkMacaoPermit, "C12345678").unwrap()),
        expiry,
    }];
    who
}
