//! Texts, Debug output, the absent child, later ratings.

use super::*;

#[test]
fn every_visit_error_has_both_texts() {
    use crate::text::{Catalogue, Lang, Localize};
    let errors: Vec<VisitError> = vec![
        VisitError::IllegalTransition { step: Step::Photo, event: EventKind::Paid },
        ModeError::HomeReasonMissing.into(),
        VisitError::ApplicantMustBePresent { below_age: 7 },
        PhotoError::FailedChecksNeedReason { checks: vec!["exposure".into()] }.into(),
        PhotoError::LookFirst { checks: vec!["head_covering".into()] }.into(),
        FingerprintsStepError::Required.into(),
        DetailsError::AddressTooLong { max: 100 }.into(),
        ConsentError::GuardianSignatureMissing { index: 2 }.into(),
        PaymentError::WrongAmount { due: Yuan::from_fen(12000), given: Yuan::ZERO }.into(),
        SealError::WrongCount { expected: 2, given: 1 }.into(),
        RatingError::ReasonsNeeded.into(),
        VisitError::RefundNotRecorded { method: PaymentMethod::Cash },
        VisitError::RefundNotRecorded { method: PaymentMethod::MobileQr },
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

#[test]
fn every_flag_has_both_texts() {
    use crate::text::{Catalogue, Lang, Localize};
    let flags = [
        Flag::PhotoOverride { checks: vec!["exposure".into()] },
        Flag::PhotoLookedAt { checks: vec!["head_covering".into()] },
        Flag::PhotoSupplied,
        Flag::ApplicantUnableToSign,
        Flag::FingerExceptions { count: 1 },
        Flag::FewerFingerprints { valid: 1 },
        Flag::NoValidFingerprint { exceptions: 2 },
        Flag::ReissueAfterHealing,
        Flag::FingerprintsDeclinedByGuardian,
        Flag::Guardian,
        Flag::EntrustedCompanion,
        Flag::AppliedByGuardian,
        Flag::Urgent,
        Flag::UnconfirmedPriority { id: "military".into() },
        Flag::UncertainFee,
        Flag::PayAtPickup,
        Flag::PoorRating,
    ];
    let c = Catalogue::embedded();
    for f in flags {
        let m = f.message();
        for lang in [Lang::Zh, Lang::En] {
            assert!(c.contains(lang, m.key), "{} missing in {lang:?}", m.key);
            let text = f.render(lang);
            assert!(!text.contains('{') && !text.contains("flag."), "{lang:?}: {text}");
        }
    }
    // A check's name is shown in the language on screen; one the files do not name, as it is.
    let override_ = Flag::PhotoOverride { checks: vec!["exposure".into(), "head_covering".into(), "new_check".into()] };
    assert_eq!(
        override_.render(Lang::Zh),
        "照片经民警书面说明后采用：曝光、帽子或头饰、new_check（检测未通过，或目视有头饰并保留）"
    );
    assert_eq!(
        override_.render(Lang::En),
        "photo accepted with the officer's written reason despite: exposure, head covering, new_check (a check failed, or a covering seen and kept)"
    );
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
    let supplied = VisitEvent::PhotoTaken(PhotoInput::Supplied(TakenPhoto {
        digest: DIGEST.into(),
        failed_checks: vec![],
        override_reason: None,
        to_look_at: vec![],
        looked: None,
    }));
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
