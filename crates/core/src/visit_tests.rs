//! Tests of the visit workflow: the whole path, each step's validation, and illegal moves.

use time::macros::{date, datetime};

use super::*;
use crate::applicant::{HeldDocument, IdentitySource};
use crate::document::{DocumentKind, DocumentNumber};
use crate::id_number::Sex;

const NOW: OffsetDateTime = datetime!(2026-11-26 10:30 +8);
const DIGEST: &str = "5f2b1c0e8a7d6b4c3a2918f7e6d5c4b3a2918f7e6d5c4b3a2918f7e6d5c4b3a2";

fn policy() -> Policy {
    Policy::builtin().unwrap()
}

/// The published example number: 测试, born 1949-12-31, female (aged 76 on the visit).
fn elder() -> ApplicantInput {
    ApplicantInput {
        source: Some(IdentitySource::CardReader),
        name: "测试".into(),
        id_number: "11010519491231002X".into(),
        card_birth_date: "19491231".into(),
        card_sex: Some(Sex::Female),
        card_expiry: "长期".into(),
        ..Default::default()
    }
}

fn services(specs: &[&str]) -> VisitEvent {
    VisitEvent::ServicesChosen(ServicesInput {
        services: specs.iter().map(|s| s.parse().unwrap()).collect(),
        facts: EndorsementFacts::default(),
    })
}

fn photo() -> VisitEvent {
    VisitEvent::PhotoAccepted(PhotoInput::Captured {
        digest: DIGEST.into(),
        failed_checks: vec![],
        override_reason: None,
    })
}

fn finger(n: u8, quality: u8) -> FingerRecord {
    FingerRecord { finger: Finger(n), outcome: FingerOutcome::Captured { quality, digest: DIGEST.into() } }
}

fn details() -> DetailsInput {
    DetailsInput {
        phone: "13800138000".into(),
        address: "测试省测试市测试路1号".into(),
        delivery: Some(Delivery::Pickup { office: "测试出入境大厅".into() }),
        ..Default::default()
    }
}

fn consent() -> Consent {
    Consent { application: true, biometrics: true, signature: Signature::Drawn { digest: DIGEST.into(), strokes: 3 } }
}

/// Applies events in order, failing the test on the first error.
fn run(visit: &mut Visit, events: Vec<VisitEvent>) {
    let p = policy();
    for e in events {
        let name = e.name();
        visit.apply(&p, NOW, e).unwrap_or_else(|err| panic!("{name}: {err}"));
    }
}

fn visit_at_services() -> Visit {
    let mut v = Visit::start("visit-1", "officer-1", NOW);
    run(&mut v, vec![VisitEvent::Identified(elder())]);
    v
}

#[test]
fn a_whole_visit_from_identity_to_rating() {
    let mut v = Visit::start("visit-1", "officer-1", NOW);
    assert_eq!(v.step(), Step::Applicant);
    run(
        &mut v,
        vec![
            VisitEvent::Identified(elder()),
            services(&["hk-macao-permit", "hk-macao-endorsement:T:multi:1y"]),
            photo(),
            VisitEvent::FingerprintsTaken(vec![finger(2, 80), finger(7, 75)]),
            VisitEvent::DetailsEntered(details()),
            VisitEvent::ReviewConfirmed,
            VisitEvent::Signed(consent()),
        ],
    );
    assert_eq!(v.step(), Step::Seal);
    let ready = v.state.sealable().unwrap();
    assert_eq!(ready.signed_at, NOW);
    // T multi 1y is open to her because she is over 60; the quote follows the 2019 schedule.
    let chosen = v.state.services().unwrap();
    assert_eq!(chosen.quote.total.to_string(), "140.00");
    assert_eq!(chosen.facts.age_years, 76);
    run(
        &mut v,
        vec![
            VisitEvent::Sealed { application_numbers: vec!["A1".into(), "A2".into()] },
            VisitEvent::ReceiptIssued(ReceiptMethod::Printed),
            VisitEvent::Rated(Rating::Score { stars: 5 }),
        ],
    );
    assert_eq!(v.step(), Step::Done);
    assert!(v.state.applicant().is_some());
    // Priority "elderly" was derived from the birth date.
    let VisitState::Done(done) = &v.state else { unreachable!() };
    assert_eq!(done.prev.prev.prev.prev.prev.details.priority, ["elderly"]);
}

#[test]
fn events_out_of_order_are_illegal_and_change_nothing() {
    let p = policy();
    let mut v = Visit::start("v", "o", NOW);
    let before = v.clone();
    for e in [photo(), VisitEvent::ReviewConfirmed, VisitEvent::Back, VisitEvent::Rated(Rating::Declined)] {
        let err = v.apply(&p, NOW, e).unwrap_err();
        assert!(matches!(err, VisitError::IllegalTransition { step: Step::Applicant, .. }), "{err}");
        assert_eq!(v, before);
    }
    let mut v = visit_at_services();
    assert!(matches!(
        v.apply(&p, NOW, VisitEvent::Identified(elder())),
        Err(VisitError::IllegalTransition { step: Step::Services, event: "identified" })
    ));
}

#[test]
fn invalid_step_data_does_not_advance() {
    let p = policy();
    let mut v = Visit::start("v", "o", NOW);
    let bad = ApplicantInput { id_number: "110105194912310029".into(), ..elder() };
    assert!(matches!(v.apply(&p, NOW, VisitEvent::Identified(bad)), Err(VisitError::Applicant(_))));
    assert_eq!(v.step(), Step::Applicant);
}

#[test]
fn back_drops_one_step_and_stops_at_signing() {
    let mut v = visit_at_services();
    run(&mut v, vec![services(&["passport"]), VisitEvent::Back]);
    assert_eq!(v.step(), Step::Services);
    assert!(v.state.services().is_none());
    assert!(v.state.applicant().is_some());
    run(
        &mut v,
        vec![
            services(&["passport"]),
            photo(),
            VisitEvent::FingerprintsTaken(vec![finger(1, 90), finger(6, 90)]),
            VisitEvent::DetailsEntered(details()),
            VisitEvent::ReviewConfirmed,
            VisitEvent::Back,
        ],
    );
    assert_eq!(v.step(), Step::Review);
    run(&mut v, vec![VisitEvent::ReviewConfirmed, VisitEvent::Signed(consent())]);
    let err = v.apply(&policy(), NOW, VisitEvent::Back).unwrap_err();
    assert!(matches!(err, VisitError::IllegalTransition { step: Step::Seal, .. }));
}

#[test]
fn abandon_needs_a_reason_and_is_refused_after_signing() {
    let p = policy();
    let mut v = visit_at_services();
    assert!(v.apply(&p, NOW, VisitEvent::Abandon { reason: " ".into() }).is_err());
    v.apply(&p, NOW, VisitEvent::Abandon { reason: "申请人身体不适".into() }).unwrap();
    let VisitState::Abandoned(a) = &v.state else { panic!() };
    assert_eq!(a.at_step, Step::Services);
}

fn services_error(specs: &[&str], applicant: ApplicantInput, facts: EndorsementFacts) -> String {
    let p = policy();
    let mut v = Visit::start("v", "o", NOW);
    v.apply(&p, NOW, VisitEvent::Identified(applicant)).unwrap();
    let event = VisitEvent::ServicesChosen(ServicesInput {
        services: specs.iter().map(|s| s.parse().unwrap()).collect(),
        facts,
    });
    match v.apply(&p, NOW, event) {
        Err(VisitError::Services(m)) => m,
        other => panic!("expected a services error, got {other:?}"),
    }
}

fn young() -> ApplicantInput {
    // Born 1990-01-01, male; valid number built for the test.
    let body = "11010519900101001";
    ApplicantInput {
        name: "测试".into(),
        id_number: format!("{body}{}", crate::id_number::check_character(body)),
        ..Default::default()
    }
}

#[test]
fn services_are_checked() {
    let none = EndorsementFacts::default();
    assert!(services_error(&[], elder(), none).contains("at least one"));
    assert!(services_error(&["passport", "passport:lost"], elder(), none).contains("twice"));
    assert!(services_error(&["taiwan-resident-permit"], elder(), none).contains("Taiwan residents"));
    assert!(services_error(&["passport:renewal"], elder(), none).contains("needs the document held"));
    // An endorsement needs a permit: new in this visit, or held and valid long enough.
    assert!(services_error(&["hk-macao-endorsement:G:1x:3m"], elder(), none).contains("needs a valid"));
    // A condition the applicant does not meet.
    let e = services_error(&["hk-macao-permit", "hk-macao-endorsement:T:multi:1y"], young(), none);
    assert!(e.contains("aged 60 or over"), "{e}");
    assert!(services_error(&["hk-macao-permit", "hk-macao-endorsement:G:multi:1y"], young(), none).contains("offered"));
    assert!(
        services_error(
            &["hk-macao-permit", "hk-macao-endorsement:G:1x:3m", "hk-macao-endorsement:G:2x:3m"],
            young(),
            none
        )
        .contains("twice")
    );
}

fn holding_permit(expiry: Date) -> ApplicantInput {
    ApplicantInput {
        held_documents: vec![HeldDocument {
            kind: DocumentKind::HkMacaoPermit,
            number: Some(DocumentNumber::parse(DocumentKind::HkMacaoPermit, "C12345678").unwrap()),
            expiry: Some(expiry),
        }],
        ..young()
    }
}

#[test]
fn endorsement_only_for_a_valid_permit_held() {
    let p = policy();
    let mut v = Visit::start("v", "o", NOW);
    v.apply(&p, NOW, VisitEvent::Identified(holding_permit(date!(2030 - 01 - 01)))).unwrap();
    v.apply(&p, NOW, services(&["hk-macao-endorsement:G:2x:1y"])).unwrap();
    assert_eq!(v.state.services().unwrap().quote.total.to_string(), "30.00");

    let none = EndorsementFacts::default();
    let expired = services_error(&["hk-macao-endorsement:G:1x:3m"], holding_permit(date!(2026 - 11 - 26)), none);
    assert!(expired.contains("expired"), "{expired}");
    let short = services_error(&["hk-macao-endorsement:G:1x:1y"], holding_permit(date!(2027 - 06 - 01)), none);
    assert!(short.contains("expires before"), "{short}");
}

#[test]
fn taiwan_residents_apply_for_the_mainland_permit() {
    let p = policy();
    let tw = ApplicantInput {
        name: "测试".into(),
        taiwan_resident_permit: "12345678".into(),
        birth_date: "19700101".into(),
        sex: Some(Sex::Male),
        ..Default::default()
    };
    let mut v = Visit::start("v", "o", NOW);
    v.apply(&p, NOW, VisitEvent::Identified(tw.clone())).unwrap();
    v.apply(&p, NOW, services(&["taiwan-resident-permit"])).unwrap();
    assert_eq!(v.state.services().unwrap().quote.total.to_string(), "200.00");
    assert!(services_error(&["passport"], tw, EndorsementFacts::default()).contains("mainland residents"));
}

fn at_photo(applicant: ApplicantInput) -> Visit {
    let mut v = Visit::start("v", "o", NOW);
    run(&mut v, vec![VisitEvent::Identified(applicant), services(&["passport"])]);
    v
}

#[test]
fn photos_failed_checks_need_a_reason_and_reuse_follows_the_rule() {
    let p = policy();
    let mut v = at_photo(elder());
    let failed =
        PhotoInput::Captured { digest: DIGEST.into(), failed_checks: vec!["background".into()], override_reason: None };
    let e = v.apply(&p, NOW, VisitEvent::PhotoAccepted(failed)).unwrap_err();
    assert!(e.to_string().contains("background"));
    let reused =
        PhotoInput::Reused { source: PhotoSource::IdCard, taken_on: date!(2023 - 05 - 01), digest: DIGEST.into() };
    v.apply(&p, NOW, VisitEvent::PhotoAccepted(reused.clone())).unwrap();

    let mut v = at_photo(young());
    let e = v.apply(&p, NOW, VisitEvent::PhotoAccepted(reused)).unwrap_err();
    assert!(e.to_string().contains("60"), "{e}");
    let bad_digest = PhotoInput::Captured { digest: "abc".into(), failed_checks: vec![], override_reason: None };
    assert!(v.apply(&p, NOW, VisitEvent::PhotoAccepted(bad_digest)).is_err());
}

#[test]
fn fingerprints_quality_exceptions_and_children() {
    let p = policy();
    let mut v = at_photo(elder());
    v.apply(&p, NOW, photo()).unwrap();
    let fp = |f: Vec<FingerRecord>| VisitEvent::FingerprintsTaken(f);
    assert!(v.apply(&p, NOW, fp(vec![finger(2, 80)])).unwrap_err().to_string().contains("2 fingers"));
    assert!(v.apply(&p, NOW, fp(vec![finger(2, 80), finger(2, 80)])).unwrap_err().to_string().contains("twice"));
    assert!(v.apply(&p, NOW, fp(vec![finger(2, 80), finger(11, 80)])).is_err());
    let low = v.apply(&p, NOW, fp(vec![finger(2, 80), finger(7, 20)])).unwrap_err();
    assert!(low.to_string().contains("quality 20"), "{low}");
    let worn = FingerRecord {
        finger: Finger(7),
        outcome: FingerOutcome::Exception { reason: FingerException::Unreadable, note: String::new() },
    };
    v.apply(&p, NOW, fp(vec![finger(2, 80), worn])).unwrap();

    // A three-year-old: no fingerprints, a guardian in the details.
    let body = "11010520230601002";
    let child = ApplicantInput {
        name: "测试".into(),
        id_number: format!("{body}{}", crate::id_number::check_character(body)),
        ..Default::default()
    };
    let mut v = at_photo(child);
    v.apply(&p, NOW, photo()).unwrap();
    assert!(v.apply(&p, NOW, fp(vec![finger(1, 90), finger(6, 90)])).is_err());
    v.apply(&p, NOW, fp(vec![])).unwrap();
    let e = v.apply(&p, NOW, VisitEvent::DetailsEntered(details())).unwrap_err();
    assert!(e.to_string().contains("guardian"), "{e}");
    let with_guardian = DetailsInput {
        guardian_name: "测试".into(),
        guardian_id: "11010519491231002X".into(),
        guardian_relationship: "祖母".into(),
        guardian_phone: "13900139000".into(),
        ..details()
    };
    v.apply(&p, NOW, VisitEvent::DetailsEntered(with_guardian)).unwrap();
    let VisitState::Review(r) = &v.state else { panic!() };
    assert_eq!(r.details.priority, Vec::<String>::new(), "aged 3 is no longer an infant under 36 months");
}

fn at_details() -> Visit {
    let mut v = at_photo(elder());
    run(&mut v, vec![photo(), VisitEvent::FingerprintsTaken(vec![finger(2, 80), finger(7, 80)])]);
    v
}

#[test]
fn details_are_checked() {
    let p = policy();
    let cases: Vec<(DetailsInput, &str)> = vec![
        (DetailsInput { phone: "12345".into(), ..details() }, "phone"),
        (DetailsInput { address: " ".into(), ..details() }, "address"),
        (DetailsInput { delivery: None, ..details() }, "delivery"),
        (
            DetailsInput {
                delivery: Some(Delivery::Post { address: "测试路1号".into(), postcode: "1000".into() }),
                ..details()
            },
            "postcode",
        ),
        (
            DetailsInput {
                urgent: Some(UrgentRequest {
                    ground: "funeral-abroad".into(),
                    evidence_seen: vec!["death-notice".into()],
                }),
                ..details()
            },
            "亲属关系证明",
        ),
        (DetailsInput { declared_priority: vec!["elderly".into()], ..details() }, "cannot be declared"),
    ];
    for (input, needle) in cases {
        let mut v = at_details();
        let e = v.apply(&p, NOW, VisitEvent::DetailsEntered(input)).unwrap_err();
        assert!(e.to_string().contains(needle), "{needle}: {e}");
        assert_eq!(v.step(), Step::Details);
    }
    let mut v = at_details();
    let urgent = DetailsInput {
        urgent: Some(UrgentRequest {
            ground: "funeral-abroad".into(),
            evidence_seen: vec!["death-notice".into(), "relationship".into()],
        }),
        declared_priority: vec!["disability".into()],
        ..details()
    };
    v.apply(&p, NOW, VisitEvent::DetailsEntered(urgent)).unwrap();
    let VisitState::Review(r) = &v.state else { panic!() };
    assert_eq!(r.details.priority, ["elderly", "disability"]);
}

#[test]
fn consent_signature_and_seal_are_checked() {
    let p = policy();
    let mut v = at_details();
    run(&mut v, vec![VisitEvent::DetailsEntered(details()), VisitEvent::ReviewConfirmed]);
    let no_bio = Consent { biometrics: false, ..consent() };
    assert!(v.apply(&p, NOW, VisitEvent::Signed(no_bio)).unwrap_err().to_string().contains("fingerprints"));
    let empty = Consent { signature: Signature::Drawn { digest: DIGEST.into(), strokes: 0 }, ..consent() };
    assert!(v.apply(&p, NOW, VisitEvent::Signed(empty)).is_err());
    let proxy_without_reason = Consent {
        signature: Signature::Proxy {
            digest: DIGEST.into(),
            strokes: 2,
            proxy_name: "测试".into(),
            reason: String::new(),
        },
        ..consent()
    };
    assert!(v.apply(&p, NOW, VisitEvent::Signed(proxy_without_reason)).is_err());
    v.apply(&p, NOW, VisitEvent::Signed(consent())).unwrap();
    for numbers in [vec![], vec!["A".to_string(), "B".to_string()], vec![" ".to_string()]] {
        let e = v.apply(&p, NOW, VisitEvent::Sealed { application_numbers: numbers }).unwrap_err();
        assert!(matches!(e, VisitError::Seal(_)));
    }
    assert!(matches!(
        v.apply(&p, NOW, VisitEvent::Abandon { reason: "late".into() }),
        Err(VisitError::IllegalTransition { .. })
    ));
    run(
        &mut v,
        vec![
            VisitEvent::Sealed { application_numbers: vec!["A".into()] },
            VisitEvent::ReceiptIssued(ReceiptMethod::OnScreen),
        ],
    );
    assert!(v.apply(&p, NOW, VisitEvent::Rated(Rating::Score { stars: 6 })).is_err());
    v.apply(&p, NOW, VisitEvent::Rated(Rating::Declined)).unwrap();
}

#[test]
fn a_visit_survives_a_serde_round_trip_at_every_step() {
    let mut v = at_details();
    run(
        &mut v,
        vec![VisitEvent::DetailsEntered(details()), VisitEvent::ReviewConfirmed, VisitEvent::Signed(consent())],
    );
    let json = serde_json::to_string(&v).unwrap();
    let back: Visit = serde_json::from_str(&json).unwrap();
    assert_eq!(back, v);
    assert_eq!(back.step(), Step::Seal);
}

#[test]
fn debug_output_of_a_visit_hides_personal_data() {
    let mut v = at_details();
    run(&mut v, vec![VisitEvent::DetailsEntered(details())]);
    let s = format!("{v:?}");
    for secret in ["测试", "11010519491231002X", "13800138000", "测试路"] {
        assert!(!s.contains(secret), "{secret} leaked");
    }
}
