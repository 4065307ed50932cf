//! The visit: whole paths, each step's checks as tables, going back, abandoning, flags.

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
    VisitEvent::PhotoTaken(PhotoInput::Captured { digest: DIGEST.into(), failed_checks: vec![], override_reason: None })
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

#[test]
fn services_are_checked_table() {
    let id = |who| vec![VisitEvent::Identified(who)];
    let tw = Identification {
        applicant: ApplicantInput {
            name: "测试".into(),
            taiwan_resident_permit: "12345678".into(),
            birth_date: "19700101".into(),
            sex: Some(Sex::Male),
            ..Default::default()
        },
        ..Default::default()
    };
    let cases: Vec<(Vec<VisitEvent>, VisitEvent, ServicesError)> = vec![
        (id(elder()), services(&[]), ServicesError::NoneChosen),
        (id(elder()), services(&["passport", "passport:lost"]), ServicesError::DocumentTwice(DocumentKind::Passport)),
        (
            id(elder()),
            services(&["taiwan-resident-permit"]),
            ServicesError::WrongResidency { service: "taiwan-resident-permit".parse().unwrap(), taiwan_only: true },
        ),
        (
            id(tw),
            services(&["passport"]),
            ServicesError::WrongResidency { service: "passport".parse().unwrap(), taiwan_only: false },
        ),
        (
            id(elder()),
            services(&["hk-macao-endorsement:G:1x:3m"]),
            ServicesError::PermitNeeded { code: 'G', permit: DocumentKind::HkMacaoPermit },
        ),
        // Endorsement-only: the held permit's number and expiry are recorded and checked.
        (
            id(holding_permit(None, true)),
            services(&["hk-macao-endorsement:G:1x:3m"]),
            ServicesError::HeldPermitDetailsMissing { permit: DocumentKind::HkMacaoPermit },
        ),
        (
            id(holding_permit(Some(date!(2030 - 01 - 01)), false)),
            services(&["hk-macao-endorsement:G:1x:3m"]),
            ServicesError::HeldPermitDetailsMissing { permit: DocumentKind::HkMacaoPermit },
        ),
        (
            id(holding_permit(Some(TODAY), true)),
            services(&["hk-macao-endorsement:G:1x:3m"]),
            ServicesError::HeldPermitExpired { permit: DocumentKind::HkMacaoPermit, expiry: TODAY },
        ),
        (
            id(holding_permit(Some(date!(2027 - 06 - 01)), true)),
            services(&["hk-macao-endorsement:G:1x:1y"]),
            ServicesError::HeldPermitExpiresFirst {
                permit: DocumentKind::HkMacaoPermit,
                expiry: date!(2027 - 06 - 01),
            },
        ),
        // The Taiwan G endorsement is suspended.
        (
            id(adult()),
            services(&["taiwan-permit", "taiwan-endorsement:G:1x:6m"]),
            ServicesError::Endorsement(crate::policy::EndorsementError::Suspended {
                code: 'G',
                since: date!(2019 - 08 - 01),
            }),
        ),
    ];
    for (setup, event, want) in cases {
        assert_eq!(refused(setup, event), VisitError::Services(want.clone()), "{want:?}");
    }
}

#[test]
fn endorsement_only_visits_take_no_photo_or_fingerprints() {
    let mut v = start();
    run(
        &mut v,
        vec![
            VisitEvent::Identified(holding_permit(Some(date!(2030 - 01 - 01)), true)),
            services(&["hk-macao-endorsement:G:2x:1y"]),
        ],
    );
    assert_eq!(v.state.services().unwrap().quote.total.to_string(), "30.00");
    let before = v.clone();
    assert_eq!(v.apply(&policy(), NOW, photo()), Ok(Step::Fingerprints), "a photo may still be taken");
    v = before;
    run(&mut v, vec![VisitEvent::PhotoTaken(PhotoInput::NotNeeded)]);
    assert_eq!(
        v.clone().apply(&policy(), NOW, thumbs()),
        Err(VisitError::Fingerprints(FingerprintsStepError::NotTaken))
    );
    run(
        &mut v,
        vec![
            VisitEvent::FingerprintsTaken(FingerprintsInput::NotTaken),
            VisitEvent::DetailsEntered(details()),
            VisitEvent::ReviewConfirmed,
            VisitEvent::Signed(ConsentInput { biometrics: false, ..consent() }),
            cash("30"),
        ],
    );
    assert_eq!(v.step(), Step::Seal);
}

#[test]
fn photos_failed_checks_need_a_reason_and_reuse_follows_the_rule() {
    let at_photo = |who| vec![VisitEvent::Identified(who), services(&["passport"])];
    let failed =
        PhotoInput::Captured { digest: DIGEST.into(), failed_checks: vec!["background".into()], override_reason: None };
    let reused =
        PhotoInput::Reused { source: PhotoSource::IdCard, taken_on: date!(2023 - 05 - 01), digest: DIGEST.into() };
    let cases = [
        (at_photo(elder()), failed, PhotoError::FailedChecksNeedReason { checks: vec!["background".into()] }),
        (
            at_photo(adult()),
            reused.clone(),
            PhotoError::Reuse(crate::policy::PhotoReuseRefusal::TooYoung { min: 60, age: 36 }),
        ),
        (
            at_photo(adult()),
            PhotoInput::Captured { digest: "abc".into(), failed_checks: vec![], override_reason: None },
            PhotoError::BadDigest,
        ),
        (at_photo(adult()), PhotoInput::NotNeeded, PhotoError::Needed),
    ];
    for (setup, input, want) in cases {
        assert_eq!(refused(setup, VisitEvent::PhotoTaken(input)), VisitError::Photo(want.clone()), "{want:?}");
    }
    let mut v = start();
    run(&mut v, at_photo(elder()));
    run(&mut v, vec![VisitEvent::PhotoTaken(reused)]);
    let mut v = start();
    run(&mut v, at_photo(elder()));
    let overridden = PhotoInput::Captured {
        digest: DIGEST.into(),
        failed_checks: vec!["background".into()],
        override_reason: Some("卧床无法端坐".into()),
    };
    run(&mut v, vec![VisitEvent::PhotoTaken(overridden)]);
    assert!(v.flags(&policy()).contains(&Flag::PhotoOverride { checks: vec!["background".into()] }));
}

#[test]
fn fingerprints_follow_age_and_the_published_order() {
    let at = |who| vec![VisitEvent::Identified(who), services(&["passport"]), photo()];
    let taken = |attempts| {
        VisitEvent::FingerprintsTaken(FingerprintsInput::Taken { attempts, no_valid_print_confirmed: false })
    };
    let cases: Vec<(Vec<VisitEvent>, VisitEvent, FingerprintsStepError)> = vec![
        // From 16 prints are taken; nobody may decline them.
        (
            at(adult()),
            VisitEvent::FingerprintsTaken(FingerprintsInput::DeclinedByGuardian),
            FingerprintsStepError::DeclineNotAllowed,
        ),
        (at(adult()), VisitEvent::FingerprintsTaken(FingerprintsInput::NotTaken), FingerprintsStepError::Required),
        // Left before right.
        (
            at(adult()),
            taken(vec![print(6), print(1)]),
            FingerprintsStepError::Procedure(FingerprintError::OutOfOrder {
                expected: Finger::new(1),
                got: Finger::new(6).unwrap(),
            }),
        ),
        // The old rule took two from anywhere: the right index without the right thumb.
        (
            at(adult()),
            taken(vec![print(2), print(7)]),
            FingerprintsStepError::Procedure(FingerprintError::OutOfOrder {
                expected: Finger::new(1),
                got: Finger::new(2).unwrap(),
            }),
        ),
        // An 8-year-old under the old rule gave prints by default: now the guardian decides,
        // and "not taken" is not a decision.
        (
            at(child("20180601")),
            VisitEvent::FingerprintsTaken(FingerprintsInput::NotTaken),
            FingerprintsStepError::DeclineNotAllowed,
        ),
    ];
    for (setup, event, want) in cases {
        assert_eq!(refused(setup, event), VisitError::Fingerprints(want.clone()), "{want:?}");
    }
    // The guardian of an 8-year-old declines; of a 10-year-old agrees.
    let mut v = start();
    run(&mut v, at(child("20180601")));
    run(&mut v, vec![VisitEvent::FingerprintsTaken(FingerprintsInput::DeclinedByGuardian)]);
    assert!(v.flags(&policy()).contains(&Flag::FingerprintsDeclinedByGuardian));
    let mut v = start();
    run(&mut v, at(child("20160601")));
    run(&mut v, vec![thumbs()]);
    // No valid print at all: recorded, confirmed, and the supervisor sees it.
    let none: Vec<Attempt> = (1..=10).map(missing).collect();
    let mut v = start();
    run(&mut v, at(adult()));
    assert_eq!(
        v.clone().apply(&policy(), NOW, taken(none.clone())),
        Err(VisitError::Fingerprints(FingerprintsStepError::Procedure(FingerprintError::NoValidPrintNotConfirmed)))
    );
    run(
        &mut v,
        vec![VisitEvent::FingerprintsTaken(FingerprintsInput::Taken {
            attempts: none,
            no_valid_print_confirmed: true,
        })],
    );
    assert!(v.flags(&policy()).contains(&Flag::NoValidFingerprint { exceptions: 10 }));
}

#[test]
fn details_are_checked_table() {
    let setup = || to_details(elder(), &["passport"]);
    let post = |postcode: &str| DeliveryInput::Post {
        recipient: "测试".into(),
        phone: "13800138000".into(),
        province: "测试省".into(),
        city: "测试市".into(),
        district: "测试区".into(),
        street: "测试路1号".into(),
        postcode: postcode.into(),
    };
    let cases: Vec<(DetailsInput, DetailsError)> = vec![
        (DetailsInput { phone: "12345".into(), ..details() }, DetailsError::Phone(PhoneError::NotAPhoneNumber)),
        (DetailsInput { phone: "62345678".into(), ..details() }, DetailsError::Phone(PhoneError::AreaCodeMissing)),
        (DetailsInput { address: " ".into(), ..details() }, DetailsError::AddressMissing),
        (DetailsInput { address: "测".repeat(101), ..details() }, DetailsError::AddressTooLong { max: 100 }),
        (
            DetailsInput { delivery: DeliveryInput::Pickup { office: " ".into() }, ..details() },
            DetailsError::PickupOfficeMissing,
        ),
        (DetailsInput { delivery: post("1000"), ..details() }, DetailsError::Postcode),
        (
            DetailsInput {
                delivery: DeliveryInput::Delegate {
                    office: "测试出入境大厅".into(),
                    delegate: crate::person::DelegateInput { name: "测试".into(), ..Default::default() },
                },
                ..details()
            },
            DetailsError::Delegate(crate::person::DelegateError::DocumentKindMissing),
        ),
        (
            DetailsInput {
                urgent: Some(UrgentRequest {
                    ground: "funeral-abroad".into(),
                    evidence_seen: vec!["death-notice".into()],
                }),
                ..details()
            },
            DetailsError::Urgent(crate::policy::UrgentError::MissingEvidence {
                ground: ("奔丧".into(), "funeral abroad".into()),
                missing: vec![("亲属关系证明".into(), "proof of relationship".into())],
            }),
        ),
        (
            DetailsInput { declared_priority: vec!["elderly".into()], ..details() },
            DetailsError::Priority(crate::policy::PriorityError::NotDeclarable("elderly".into())),
        ),
    ];
    for (input, want) in cases {
        assert_eq!(refused(setup(), VisitEvent::DetailsEntered(input)), VisitError::Details(want.clone()), "{want:?}");
    }
    // A landline is enough; posting adds postage to be paid on delivery (the default).
    let mut v = start();
    run(&mut v, setup());
    run(&mut v, vec![VisitEvent::DetailsEntered(DetailsInput { delivery: post("100000"), ..details() })]);
    let d = v.state.details().unwrap();
    assert_eq!(d.phone.kind(), crate::phone::LineKind::Landline);
    assert!(matches!(d.delivery, Delivery::Post { .. }));
}

#[test]
fn urgent_grounds_set_the_green_channel_and_its_date() {
    let mut v = start();
    run(&mut v, to_details(elder(), &["passport"]));
    let urgent = DetailsInput {
        urgent: Some(UrgentRequest {
            ground: "critically-ill".into(),
            evidence_seen: vec!["critical-notice".into(), "relationship".into()],
        }),
        declared_priority: vec!["disability".into()],
        ..details()
    };
    run(
        &mut v,
        vec![
            VisitEvent::DetailsEntered(urgent),
            VisitEvent::ReviewConfirmed,
            VisitEvent::Signed(consent()),
            cash("120"),
            VisitEvent::Sealed { application_numbers: vec!["A1".into()], rating_code: "RATE1234".into() },
        ],
    );
    assert_eq!(v.state.details().unwrap().priority, ["elderly", "disability"]);
    // Thursday 2026-11-26 + 5 working days = Thursday 12-03.
    assert_eq!(v.state.applications().unwrap()[0].expected.date.date, date!(2026 - 12 - 03));
    assert!(v.flags(&policy()).contains(&Flag::Urgent));
}

#[test]
fn signatures_follow_age_and_guardians() {
    let at_sign = |who| {
        let mut e = to_details(who, &["passport"]);
        e.extend([VisitEvent::DetailsEntered(details()), VisitEvent::ReviewConfirmed]);
        e
    };
    let guardian_only = ConsentInput { applicant: None, guardians: vec![Some(signed()), None], ..consent() };
    let cases: Vec<(Vec<VisitEvent>, ConsentInput, ConsentError)> = vec![
        (at_sign(elder()), ConsentInput { application: false, ..consent() }, ConsentError::ApplicationNotAgreed),
        (at_sign(elder()), ConsentInput { biometrics: false, ..consent() }, ConsentError::BiometricsNotAgreed),
        (
            at_sign(elder()),
            ConsentInput { applicant: Some(Strokes { digest: DIGEST.into(), strokes: 0 }), ..consent() },
            ConsentError::EmptySignature,
        ),
        (at_sign(elder()), ConsentInput { applicant: None, ..consent() }, ConsentError::ApplicantSignatureMissing),
        // A pre-school child does not sign; the guardian does.
        (
            at_sign(child("20220101")),
            ConsentInput { guardians: vec![Some(signed()), None], ..consent() },
            ConsentError::ApplicantDoesNotSign,
        ),
        (
            at_sign(child("20220101")),
            ConsentInput { applicant: None, ..consent() },
            ConsentError::GuardianSignatureMissing { index: 1 },
        ),
        // The absent Taiwan father cannot sign here: his written consent was seen.
        (
            at_sign(child("20220101")),
            ConsentInput { guardians: vec![Some(signed()), Some(signed())], ..guardian_only.clone() },
            ConsentError::GuardianNotPresent { index: 2 },
        ),
        // A ten-year-old signs, and the mother here signs too.
        (at_sign(child("20160101")), consent(), ConsentError::GuardianSignatureMissing { index: 1 }),
    ];
    for (setup, input, want) in cases {
        assert_eq!(refused(setup, VisitEvent::Signed(input)), VisitError::Consent(want.clone()), "{want:?}");
    }
    let mut v = start();
    run(&mut v, at_sign(child("20220101")));
    run(&mut v, vec![VisitEvent::Signed(guardian_only)]);
    assert_eq!(v.state.consent().unwrap().applicant, ApplicantSignature::PreSchool);
    // An elder who cannot hold a pen: the reason is recorded instead.
    let mut v = start();
    run(&mut v, at_sign(elder()));
    run(
        &mut v,
        vec![VisitEvent::Signed(ConsentInput {
            applicant: None,
            applicant_unable_reason: "手部残疾".into(),
            ..consent()
        })],
    );
    assert_eq!(v.state.consent().unwrap().applicant, ApplicantSignature::Unable { reason: "手部残疾".into() });
}

#[test]
fn payment_is_the_frozen_quote() {
    let at_pay = || {
        let mut e = to_details(elder(), &["passport"]);
        e.extend([VisitEvent::DetailsEntered(details()), VisitEvent::ReviewConfirmed, VisitEvent::Signed(consent())]);
        e
    };
    let pay = |method, amount: &str, reference: &str| {
        VisitEvent::Paid(PaymentInput { method, amount: amount.parse().unwrap(), reference: reference.into() })
    };
    let y = |s: &str| s.parse::<Yuan>().unwrap();
    let cases = [
        (pay(PaymentMethod::Cash, "100", ""), PaymentError::WrongAmount { due: y("120"), given: y("100") }),
        (pay(PaymentMethod::MobileQr, "120", " "), PaymentError::ReferenceMissing),
        (pay(PaymentMethod::PayAtPickup, "0", ""), PaymentError::MethodNotOffered(PaymentMethod::PayAtPickup)),
    ];
    for (event, want) in cases {
        assert_eq!(refused(at_pay(), event), VisitError::Payment(want.clone()), "{want:?}");
    }
    let mut v = start();
    run(&mut v, at_pay());
    run(&mut v, vec![pay(PaymentMethod::BankCard, "120", "POS-0001")]);
    assert_eq!(v.state.payment().unwrap().reference.as_deref(), Some("POS-0001"));
    // A bureau that allows paying at pickup takes nothing now, and the supervisor sees it.
    let text = PolicySources::BUILTIN
        .rules
        .replace("methods = [\"cash\", \"mobile-qr\", \"bank-card\"]", "methods = [\"cash\", \"pay-at-pickup\"]");
    let mut p = policy();
    p.rules = crate::policy::Rules::parse(&text).unwrap();
    let mut v = start();
    for e in at_pay() {
        v.apply(&p, NOW, e).unwrap();
    }
    v.apply(&p, NOW, pay(PaymentMethod::PayAtPickup, "0", "")).unwrap();
    assert!(v.flags(&p).contains(&Flag::PayAtPickup));
}

#[test]
fn back_drops_one_step_and_stops_at_signing() {
    let mut v = start();
    run(&mut v, vec![VisitEvent::Identified(elder()), services(&["passport"]), VisitEvent::Back]);
    assert_eq!(v.step(), Step::Services);
    assert!(v.state.services().is_none());
    assert!(v.state.identified().is_some());
    run(
        &mut v,
        vec![
            services(&["passport"]),
            photo(),
            thumbs(),
            VisitEvent::DetailsEntered(details()),
            VisitEvent::ReviewConfirmed,
            VisitEvent::BackTo(Step::Photo),
        ],
    );
    assert_eq!(v.step(), Step::Photo);
    assert!(v.state.services().is_some() && v.state.photo().is_none());
    assert_eq!(
        v.clone().apply(&policy(), NOW, VisitEvent::BackTo(Step::Review)),
        Err(VisitError::CannotGoBackTo(Step::Review))
    );
    run(
        &mut v,
        vec![
            photo(),
            thumbs(),
            VisitEvent::DetailsEntered(details()),
            VisitEvent::ReviewConfirmed,
            VisitEvent::Signed(consent()),
        ],
    );
    assert_eq!(
        v.clone().apply(&policy(), NOW, VisitEvent::Back),
        Err(VisitError::IllegalTransition { step: Step::Pay, event: EventKind::Back })
    );
    assert_eq!(
        v.clone().apply(&policy(), NOW, VisitEvent::BackTo(Step::Details)),
        Err(VisitError::CannotGoBackTo(Step::Details))
    );
}

#[test]
fn abandon_needs_a_reason_and_a_refund_once_paid() {
    let abandon = |reason: &str, refund: Option<&str>| {
        VisitEvent::Abandon(AbandonInput { reason: reason.into(), refund_reference: refund.map(String::from) })
    };
    assert_eq!(refused(vec![VisitEvent::Identified(elder())], abandon(" ", None)), VisitError::AbandonReasonMissing);
    let mut paid = to_details(elder(), &["passport"]);
    paid.extend([
        VisitEvent::DetailsEntered(details()),
        VisitEvent::ReviewConfirmed,
        VisitEvent::Signed(consent()),
        cash("120"),
    ]);
    assert_eq!(refused(paid.clone(), abandon("申请人身体不适", None)), VisitError::RefundNotRecorded);
    let mut v = start();
    run(&mut v, paid);
    run(&mut v, vec![abandon("申请人身体不适", Some("REFUND-1"))]);
    let VisitState::Abandoned(a) = &v.state else { panic!("{:?}", v.step()) };
    assert_eq!((a.at_step, a.refund_reference.as_deref()), (Step::Seal, Some("REFUND-1")));
    let kept = a.payment.as_ref().expect("the payment is kept for the refund");
    assert_eq!((kept.method, kept.amount.to_string()), (PaymentMethod::Cash, "120.00".to_string()));
}

#[test]
fn seal_and_rating_are_checked() {
    let mut at_seal = to_details(elder(), &["passport"]);
    at_seal.extend([
        VisitEvent::DetailsEntered(details()),
        VisitEvent::ReviewConfirmed,
        VisitEvent::Signed(consent()),
        cash("120"),
    ]);
    let seal = |numbers: &[&str], code: &str| VisitEvent::Sealed {
        application_numbers: numbers.iter().map(|s| s.to_string()).collect(),
        rating_code: code.into(),
    };
    let cases = [
        (seal(&[], "RATE1234"), SealError::WrongCount { expected: 1, given: 0 }),
        (seal(&[" "], "RATE1234"), SealError::NumbersNotDistinct),
        (seal(&["A"], "rate"), SealError::RatingCodeInvalid),
    ];
    for (event, want) in cases {
        assert_eq!(refused(at_seal.clone(), event), VisitError::Seal(want.clone()), "{want:?}");
    }
    let mut at_rating = at_seal.clone();
    at_rating.extend([seal(&["A"], "RATE1234"), VisitEvent::ReceiptIssued(ReceiptMethod::Printed)]);
    let score = |stars, reasons: &[&str], call_back| {
        VisitEvent::Rated(RatingInput::Score {
            stars,
            reasons: reasons.iter().map(|s| s.to_string()).collect(),
            call_back,
        })
    };
    let cases = [
        (score(6, &[], false), RatingError::OutOfRange(6)),
        (score(0, &[], false), RatingError::OutOfRange(0)),
        (score(2, &[], true), RatingError::ReasonsNeeded),
        (score(1, &["rude"], false), RatingError::UnknownReason("rude".into())),
        (score(4, &["waiting"], false), RatingError::ReasonsNotAsked),
    ];
    for (event, want) in cases {
        assert_eq!(refused(at_rating.clone(), event), VisitError::Rating(want.clone()), "{want:?}");
    }
    let mut v = start();
    run(&mut v, at_rating);
    run(&mut v, vec![score(2, &["waiting"], true)]);
    assert!(v.flags(&policy()).contains(&Flag::PoorRating));
    let follow_up = crate::feedback::Feedback::from_poor_rating("fb-1", &v, &policy().feedback, NOW).unwrap();
    assert_eq!(follow_up.category, crate::policy::POOR_RATING);
    assert!(follow_up.contact.is_some(), "a call back was asked for");
    let _ = TODAY;
}

#[test]
fn every_visit_error_has_both_texts() {
    use crate::text::{Catalogue, Lang, Localize};
    let errors: Vec<VisitError> = vec![
        VisitError::IllegalTransition { step: Step::Photo, event: EventKind::Paid },
        ModeError::HomeReasonMissing.into(),
        VisitError::ApplicantMustBePresent { below_age: 7 },
        PhotoError::FailedChecksNeedReason { checks: vec!["exposure".into()] }.into(),
        FingerprintsStepError::Required.into(),
        DetailsError::AddressTooLong { max: 100 }.into(),
        ConsentError::GuardianSignatureMissing { index: 2 }.into(),
        PaymentError::WrongAmount { due: Yuan::from_fen(12000), given: Yuan::ZERO }.into(),
        SealError::WrongCount { expected: 2, given: 1 }.into(),
        RatingError::ReasonsNeeded.into(),
        VisitError::RefundNotRecorded,
        VisitError::CannotGoBackTo(Step::Review),
    ];
    let c = Catalogue::embedded();
    for e in errors {
        let m = e.message();
        for lang in [Lang::Zh, Lang::En] {
            assert!(c.contains(lang, m.key), "{} missing in {lang:?}", m.key);
            let text = e.render(lang);
            assert!(!text.contains('{') && !text.contains("error."), "{lang:?}: {text}");
        }
    }
}

const SECRETS: [&str; 7] = ["测试", "11010519491231002X", "010-65123456", "1065123456", "12345678", "测试路", "中风"];

#[test]
fn debug_output_of_a_visit_hides_personal_data_at_every_step() {
    // A whole visit whose free texts hold personal and health data.
    let mut v = start();
    let mut events = to_details(child("20150301"), &["passport"]);
    events.extend([
        VisitEvent::DetailsEntered(details()),
        VisitEvent::ReviewConfirmed,
        VisitEvent::Signed(ConsentInput {
            applicant: None,
            applicant_unable_reason: "测试者中风".into(),
            guardians: vec![Some(signed()), None],
            ..consent()
        }),
        cash("120"),
        VisitEvent::Sealed { application_numbers: vec!["A1".into()], rating_code: "RATE1234".into() },
        VisitEvent::ReceiptIssued(ReceiptMethod::Printed),
        VisitEvent::Rated(RatingInput::Score { stars: 1, reasons: vec!["waiting".into()], call_back: true }),
    ]);
    for e in events {
        let shown = format!("{e:?}");
        v.apply(&policy(), NOW, e).unwrap();
        let s = format!("{v:?} {shown}");
        for secret in SECRETS {
            assert!(!s.contains(secret), "{secret} leaked at {:?}: {s}", v.step());
        }
    }
    assert!(v.flags(&policy()).contains(&Flag::ApplicantUnableToSign));
    // Abandoned, with a health reason and the payment kept.
    let mut v = start();
    let mut paid = to_details(elder(), &["passport"]);
    paid.extend([
        VisitEvent::DetailsEntered(details()),
        VisitEvent::ReviewConfirmed,
        VisitEvent::Signed(consent()),
        cash("120"),
    ]);
    run(&mut v, paid);
    let abandon = AbandonInput { reason: "测试者中风送医".into(), refund_reference: Some("REFUND-1".into()) };
    let shown = format!("{abandon:?}");
    run(&mut v, vec![VisitEvent::Abandon(abandon)]);
    let s = format!("{v:?} {shown}");
    for secret in SECRETS {
        assert!(!s.contains(secret), "{secret} leaked: {s}");
    }
}

#[test]
fn a_child_the_guardian_applies_for_gives_no_prints_and_brings_a_photo() {
    let absent = Identification { applied_by_guardian: true, ..child("20220101") };
    let setup = vec![VisitEvent::Identified(absent), services(&["passport"])];
    assert_eq!(refused(setup.clone(), photo()), VisitError::Photo(PhotoError::ApplicantAbsent));
    let supplied = VisitEvent::PhotoTaken(PhotoInput::Supplied {
        digest: DIGEST.into(),
        failed_checks: vec![],
        override_reason: None,
    });
    let mut with_photo = setup;
    with_photo.push(supplied);
    assert_eq!(refused(with_photo.clone(), thumbs()), VisitError::Fingerprints(FingerprintsStepError::ApplicantAbsent));
    let mut v = start();
    run(&mut v, with_photo);
    run(&mut v, vec![VisitEvent::FingerprintsTaken(FingerprintsInput::NotTaken)]);
    assert_eq!(v.state.fingerprints(), Some(&Fingerprints::ApplicantAbsent));
    let flags = v.flags(&policy());
    assert!(flags.contains(&Flag::AppliedByGuardian) && flags.contains(&Flag::PhotoSupplied), "{flags:?}");
}

#[test]
fn a_later_rating_uses_the_receipt_code() {
    let p = policy();
    let score = |stars, reasons: &[&str]| RatingInput::Score {
        stars,
        reasons: reasons.iter().map(|r| r.to_string()).collect(),
        call_back: false,
    };
    let r = LateRating::new("RATE1234", score(5, &[]), &p, NOW).unwrap();
    assert_eq!(r.rating, Rating::Score { stars: 5, reasons: vec![], call_back: false });
    assert_eq!(LateRating::new("rate", score(5, &[]), &p, NOW), Err(VisitError::Seal(SealError::RatingCodeInvalid)));
    assert_eq!(
        LateRating::new("RATE1234", RatingInput::Later, &p, NOW),
        Err(VisitError::Rating(RatingError::NotAScore))
    );
    assert_eq!(
        LateRating::new("RATE1234", score(1, &[]), &p, NOW),
        Err(VisitError::Rating(RatingError::ReasonsNeeded))
    );
}
