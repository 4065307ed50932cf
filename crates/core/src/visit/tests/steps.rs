//! Each step's checks as tables, going back, abandoning, flags and texts.

use super::*;

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
    let post = posted_to;
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
            // A first passport has no document to lose: this ground is for a replacement.
            DetailsInput {
                urgent: Some(UrgentRequest {
                    ground: "document-lost".into(),
                    evidence_seen: vec!["loss-report".into(), "travel-proof".into()],
                }),
                ..details()
            },
            DetailsError::Urgent(crate::policy::UrgentError::NotForTheseServices {
                ground: ("证件遗失或损毁".into(), "document lost or damaged".into()),
                reasons: vec![crate::service::IssueReason::Lost, crate::service::IssueReason::Damaged],
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
        // A signature drawn, and a reason not to sign written: the officer says which.
        (
            at_sign(elder()),
            ConsentInput { applicant_unable_reason: "手抖无法握笔".into(), ..consent() },
            ConsentError::SignedAndUnable,
        ),
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
    assert_eq!(v.amount_due(&policy()), Some(y("120")));
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
    assert_eq!(
        refused(paid.clone(), abandon("申请人身体不适", None)),
        VisitError::RefundNotRecorded { method: PaymentMethod::Cash }
    );
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

/// Postage is due with the fee only where the bureau collects it; the courier's otherwise.
#[test]
fn postage_is_due_now_only_where_the_bureau_collects_it() {
    let posted = DetailsInput { delivery: posted_to("100000"), ..details() };
    let y = |s: &str| s.parse::<Yuan>().unwrap();
    for (collected, due) in [("on-delivery", "120"), ("with-fee", "140")] {
        let text = PolicySources::BUILTIN
            .rules
            .replace("collected = \"on-delivery\"", &format!("collected = \"{collected}\""));
        let mut p = policy();
        p.rules = crate::policy::Rules::parse(&text).unwrap();
        let mut v = start();
        for e in to_details(elder(), &["passport"]) {
            v.apply(&p, NOW, e).unwrap();
        }
        assert_eq!(v.amount_due(&p), None, "nothing is due before the details");
        v.apply(&p, NOW, VisitEvent::DetailsEntered(posted.clone())).unwrap();
        assert_eq!(v.amount_due(&p), Some(y(due)), "{collected}");
        v.apply(&p, NOW, VisitEvent::ReviewConfirmed).unwrap();
        v.apply(&p, NOW, VisitEvent::Signed(consent())).unwrap();
        let pay = PaymentInput { method: PaymentMethod::Cash, amount: y(due), reference: String::new() };
        v.apply(&p, NOW, VisitEvent::Paid(pay)).unwrap();
    }
}

/// Posted to a test address with `postcode`.
fn posted_to(postcode: &str) -> DeliveryInput {
    DeliveryInput::Post {
        recipient: "测试".into(),
        phone: "13800138000".into(),
        province: "测试省".into(),
        city: "测试市".into(),
        district: "测试区".into(),
        street: "测试路1号".into(),
        postcode: postcode.into(),
    }
}
