//! Tests of [`super`].
use super::*;
use time::macros::date;

const P: Procedure = Procedure { min_quality: 40 };
const TODAY: Date = date!(2026 - 11 - 26);
const D: &str = "5f2b1c0e8a7d6b4c3a2918f7e6d5c4b3a2918f7e6d5c4b3a2918f7e6d5c4b3a2";

fn f(n: u8) -> Finger {
    Finger::new(n).unwrap()
}

/// `V` valid print, `M` missing, `U` unreadable, `I` injured (seen), `C` certified injury.
fn seq(spec: &str) -> Vec<Attempt> {
    spec.split_whitespace()
        .map(|item| {
            let (n, kind) = item.split_at(item.len() - 1);
            let result = match kind {
                "V" => FingerResult::Print { quality: 80, digest: D.into() },
                "M" => FingerResult::NoPrint(NoPrint::Missing),
                "U" => FingerResult::NoPrint(NoPrint::Unreadable { best_quality: 20, image_digest: D.into() }),
                "I" => FingerResult::NoPrint(NoPrint::Injured { evidence: InjuryEvidence::Officer }),
                "C" => FingerResult::NoPrint(NoPrint::Injured {
                    evidence: InjuryEvidence::Certificate(HospitalCertificate {
                        hospital: "测试医院".into(),
                        grade: HospitalGrade::Two,
                        issued_on: date!(2026 - 11 - 01),
                    }),
                }),
                _ => unreachable!("{item}"),
            };
            Attempt { finger: f(n.parse().unwrap()), result }
        })
        .collect()
}

fn fingers(v: &[Finger]) -> Vec<u8> {
    v.iter().map(|f| f.number()).collect()
}

/// The published order: (attempts, status, valid fingers, make-up images).
#[test]
fn the_published_order_table() {
    let partial = |valid| FingerprintStatus::Partial { valid };
    let cases: &[(&str, FingerprintStatus, &[u8], &[u8])] = &[
        // Both thumbs.
        ("1V 6V", FingerprintStatus::Complete, &[1, 6], &[]),
        // Right thumb missing: the right index next, then the left thumb.
        ("1M 2V 6V", FingerprintStatus::Complete, &[2, 6], &[]),
        // Left thumb and index unreadable: the left middle finger.
        ("1V 6U 7U 8V", FingerprintStatus::Complete, &[1, 8], &[]),
        // The right hand gives none: two from the left.
        ("1M 2M 3M 4M 5M 6V 7V", FingerprintStatus::Complete, &[6, 7], &[]),
        ("1M 2M 3M 4M 5M 6U 7V 8I 9V", FingerprintStatus::Complete, &[7, 9], &[]),
        // The left hand gives none: a second from the right, after its valid finger.
        ("1V 6M 7M 8M 9M 10M 2V", FingerprintStatus::Complete, &[1, 2], &[]),
        ("1U 2V 6I 7I 8I 9I 10I 3U 4V", FingerprintStatus::Complete, &[2, 4], &[]),
        // One valid print in all: the best unreadable image makes up the number.
        ("1V 6U 7U 8U 9U 10U 2M 3M 4M 5M", partial(1), &[1], &[6]),
        // None valid at all: images by priority (thumbs first).
        ("1U 2U 3U 4U 5U 6U 7U 8U 9U 10U", FingerprintStatus::NoValidPrint, &[], &[1, 6]),
        ("1M 2M 3M 4M 5M 6M 7M 8M 9M 10M", FingerprintStatus::NoValidPrint, &[], &[]),
    ];
    for &(spec, ref status, valid, images) in cases {
        let r = record(seq(spec), &P, true, TODAY).unwrap_or_else(|e| panic!("{spec}: {e:?}"));
        assert_eq!(&r.status, status, "{spec}");
        assert_eq!(fingers(&r.valid), valid, "{spec}");
        assert_eq!(fingers(&r.make_up_images), images, "{spec}");
    }
}

#[test]
fn other_orders_are_refused() {
    let cases: &[(&str, FingerprintError)] = &[
        // Left before right.
        ("6V 1V", FingerprintError::OutOfOrder { expected: Some(f(1)), got: f(6) }),
        // Skipping the right thumb.
        ("2V 6V", FingerprintError::OutOfOrder { expected: Some(f(1)), got: f(2) }),
        // Two from the right while the left was not tried.
        ("1V 2V", FingerprintError::OutOfOrder { expected: Some(f(6)), got: f(2) }),
        // Left index before the left thumb.
        ("1V 7V", FingerprintError::OutOfOrder { expected: Some(f(6)), got: f(7) }),
        // A third print once two are valid.
        ("1V 6V 2V", FingerprintError::OutOfOrder { expected: None, got: f(2) }),
        // Stopping before the procedure is done.
        ("1V", FingerprintError::Unfinished { next: f(6) }),
        ("1M 2M 3M 4M 5M 6V", FingerprintError::Unfinished { next: f(7) }),
        ("", FingerprintError::Unfinished { next: f(1) }),
    ];
    for (spec, want) in cases {
        assert_eq!(record(seq(spec), &P, true, TODAY), Err(want.clone()), "{spec}");
    }
}

#[test]
fn next_finger_leads_the_officer() {
    let mut taken = Vec::new();
    // The right hand gives nothing; the left gives two.
    for (spec, next) in [("1M", 2), ("2M", 3), ("3M", 4), ("4M", 5), ("5U", 6), ("6V", 7)] {
        taken.extend(seq(spec));
        assert_eq!(next_finger(&taken, &P), Some(f(next)), "after {spec}");
    }
    taken.extend(seq("7V"));
    assert_eq!(next_finger(&taken, &P), None);
}

#[test]
fn each_finger_result_is_checked() {
    let low = vec![Attempt { finger: f(1), result: FingerResult::Print { quality: 39, digest: D.into() } }];
    assert_eq!(record(low, &P, true, TODAY), Err(FingerprintError::LowQuality { finger: f(1), quality: 39, min: 40 }));
    let valid_unreadable = vec![Attempt {
        finger: f(1),
        result: FingerResult::NoPrint(NoPrint::Unreadable { best_quality: 55, image_digest: D.into() }),
    }];
    assert_eq!(record(valid_unreadable, &P, true, TODAY), Err(FingerprintError::UnreadableButValid { finger: f(1) }));
    let other = vec![Attempt { finger: f(1), result: FingerResult::NoPrint(NoPrint::Other { note: " ".into() }) }];
    assert_eq!(record(other, &P, true, TODAY), Err(FingerprintError::DescriptionMissing { finger: f(1) }));
    let cert = |grade, issued_on| {
        vec![Attempt {
            finger: f(1),
            result: FingerResult::NoPrint(NoPrint::Injured {
                evidence: InjuryEvidence::Certificate(HospitalCertificate {
                    hospital: "测试医院".into(),
                    grade,
                    issued_on,
                }),
            }),
        }]
    };
    assert_eq!(
        record(cert(HospitalGrade::One, TODAY), &P, true, TODAY),
        Err(FingerprintError::CertificateGradeTooLow { finger: f(1) })
    );
    assert_eq!(
        record(cert(HospitalGrade::Three, date!(2026 - 12 - 01)), &P, true, TODAY),
        Err(FingerprintError::CertificateInFuture { finger: f(1) })
    );
}

#[test]
fn a_certified_injury_flags_reissue_and_no_valid_print_needs_confirming() {
    let r = record(seq("1C 2V 6V"), &P, false, TODAY).unwrap();
    assert!(r.reissue_after_healing);
    assert_eq!(r.exceptions().count(), 1);
    let r = record(seq("1I 2V 6V"), &P, false, TODAY).unwrap();
    assert!(!r.reissue_after_healing);
    let none = "1M 2M 3M 4M 5M 6I 7I 8I 9I 10I";
    assert_eq!(record(seq(none), &P, false, TODAY), Err(FingerprintError::NoValidPrintNotConfirmed));
    let r = record(seq(none), &P, true, TODAY).unwrap();
    assert_eq!(r.status, FingerprintStatus::NoValidPrint);
    assert_eq!(r.exceptions().count(), 10);
}

proptest::proptest! {
    /// Whatever each finger can give, following `next_finger` yields a sequence `record`
    /// accepts, complete exactly when the hands hold two valid prints between them as
    /// the procedure can reach them; and swapping two attempts is refused.
    #[test]
    fn following_the_procedure_is_accepted_and_nothing_else(gives in proptest::collection::vec(0u8..3, 10)) {
        let outcome = |f: Finger| match gives[usize::from(f.number() - 1)] {
            0 => FingerResult::Print { quality: 90, digest: D.into() },
            1 => FingerResult::NoPrint(NoPrint::Missing),
            _ => FingerResult::NoPrint(NoPrint::Unreadable { best_quality: 10, image_digest: D.into() }),
        };
        let mut attempts = Vec::new();
        while let Some(f) = next_finger(&attempts, &P) {
            attempts.push(Attempt { finger: f, result: outcome(f) });
            proptest::prop_assert!(attempts.len() <= 10);
        }
        let r = record(attempts.clone(), &P, true, TODAY).unwrap();
        let valid_on = |hand: Hand| (1..=10u8).filter(|&n| f(n).hand() == hand && gives[usize::from(n - 1)] == 0).count();
        let (right, left) = (valid_on(Hand::Right), valid_on(Hand::Left));
        let complete = (right >= 1 && left >= 1) || right >= 2 || left >= 2;
        proptest::prop_assert_eq!(r.status == FingerprintStatus::Complete, complete);
        if attempts.len() >= 2 {
            let mut swapped = attempts.clone();
            swapped.swap(0, 1);
            proptest::prop_assert!(record(swapped, &P, true, TODAY).is_err());
        }
    }
}

#[test]
fn fingers_are_numbered_as_iso() {
    assert_eq!(Finger::new(0), None);
    assert_eq!(Finger::new(11), None);
    assert_eq!((f(1).hand(), f(1).priority()), (Hand::Right, 0));
    assert_eq!((f(10).hand(), f(10).priority()), (Hand::Left, 4));
    assert!(serde_json::from_str::<Finger>("11").is_err());
    assert_eq!(serde_json::from_str::<Finger>("7").unwrap(), f(7));
}

/// The supervisor reads each finger's cause as recorded: the certificate's hospital, grade and
/// date, the note written; in both languages.
#[test]
fn each_fingers_cause_is_said_as_recorded() {
    let certified = NoPrint::Injured {
        evidence: InjuryEvidence::Certificate(HospitalCertificate {
            hospital: "测试人民医院".into(),
            grade: HospitalGrade::Three,
            issued_on: date!(2026 - 03 - 01),
        }),
    };
    let other = NoPrint::Other { note: "石膏固定".into() };
    let items = [(f(1), &NoPrint::Missing), (f(2), &certified), (f(6), &other)];
    let cases = [
        (
            crate::text::Lang::Zh,
            "未采集到有效指纹的手指：右手拇指：缺指、右手食指：受伤（测试人民医院，三级医院，2026-03-01 出具证明）、左手拇指：其他原因：石膏固定",
        ),
        (
            crate::text::Lang::En,
            "Fingers without a valid print: right thumb: missing, right index finger: injured (certified by 测试人民医院, grade III, 2026-03-01), left thumb: other reason: 石膏固定",
        ),
    ];
    for (lang, want) in cases {
        assert_eq!(exceptions_list(items).render(lang), want);
    }
}
