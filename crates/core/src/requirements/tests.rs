//! Tests of [`super`].
use super::*;
use crate::document::DocumentNumber;
use time::macros::date;

const TODAY: Date = date!(2026 - 12 - 04);

fn policy() -> Policy {
    Policy::builtin().unwrap()
}

fn services(specs: &[&str]) -> Vec<Service> {
    specs.iter().map(|s| s.parse().unwrap()).collect()
}

fn ask(birth: Date, specs: &[&str], held: &[HeldDocument]) -> Result<Requirements, ServicesError> {
    let applicant = ApplicantFacts { birth_date: birth, residency: Residency::Mainland, held };
    requirements(&policy(), applicant, &services(specs), &EndorsementFacts::default(), HeldCheck::Assumed, TODAY)
}

/// (birth date, services, fingerprints, signature, photo, guardian required, guardian may apply)
type AgeCase<'a> = (Date, &'a [&'a str], FingerprintRequirement, SignatureRequirement, PhotoRequirement, bool, bool);

#[test]
fn age_rules_table() {
    use FingerprintRequirement as F;
    use PhotoRequirement as P;
    use SignatureRequirement as S;
    let cases: &[AgeCase] = &[
        // 16 today: fingerprints required; 15 the day before the birthday: the guardian decides.
        (date!(2010 - 12 - 04), &["passport"], F::Required, S::Applicant, P::New, false, false),
        (date!(2010 - 12 - 05), &["passport"], F::GuardianDecides, S::Applicant, P::New, true, false),
        // The old rule took prints from 6: an 8-year-old is the guardian's decision now.
        (date!(2018 - 06 - 01), &["hk-macao-permit"], F::GuardianDecides, S::Applicant, P::New, true, false),
        // Pre-school: the guardian signs; under 7 the guardian may apply for the child.
        (date!(2021 - 01 - 01), &["passport"], F::GuardianDecides, S::Guardian, P::New, true, true),
        (date!(2020 - 12 - 04), &["passport"], F::GuardianDecides, S::Applicant, P::New, true, true),
        (date!(2019 - 12 - 04), &["passport"], F::GuardianDecides, S::Applicant, P::New, true, false),
        // 60 or over: a recent photo may be reused.
        (date!(1949 - 12 - 31), &["taiwan-permit"], F::Required, S::Applicant, P::ReuseAllowed, false, false),
        // 台胞证: fingerprints are not in the published rule.
        (date!(1980 - 01 - 01), &["taiwan-resident-permit"], F::NotTaken, S::Applicant, P::New, false, false),
        (date!(1980 - 01 - 01), &["passport", "hk-macao-permit"], F::Required, S::Applicant, P::New, false, false),
    ];
    for &(birth, specs, fingers, signature, photo, guardian, may_apply) in cases {
        let r = age_rules(&policy(), birth, &services(specs), TODAY);
        assert_eq!(
            (r.fingerprints, r.signature, r.photo, r.guardian_required, r.guardian_may_apply_for_child),
            (fingers, signature, photo, guardian, may_apply),
            "{birth} {specs:?}"
        );
    }
}

#[test]
fn endorsement_only_visits_take_no_photo_or_prints() {
    let held = [HeldDocument { kind: DocumentKind::HkMacaoPermit, number: None, expiry: None }];
    let r = ask(date!(1980 - 01 - 01), &["hk-macao-endorsement:G:1x:3m"], &held).unwrap();
    assert_eq!(r.rules.photo, PhotoRequirement::NotNeeded);
    assert_eq!(r.rules.fingerprints, FingerprintRequirement::NotTaken);
    assert_eq!(r.warnings, [Warning::HeldPermitUnchecked { permit: DocumentKind::HkMacaoPermit }]);
    assert_eq!(r.quote.total.to_string(), "15.00");
}

#[test]
fn refusals_table() {
    let held_until = |expiry| {
        vec![HeldDocument {
            kind: DocumentKind::HkMacaoPermit,
            number: Some(DocumentNumber::parse(DocumentKind::HkMacaoPermit, "C12345678").unwrap()),
            expiry: Some(expiry),
        }]
    };
    let cases: Vec<(&[&str], Vec<HeldDocument>, ServicesError)> = vec![
        (&[], vec![], ServicesError::NoneChosen),
        (
            &["hk-macao-endorsement:G:1x:3m"],
            vec![],
            ServicesError::PermitNeeded { code: 'G', permit: DocumentKind::HkMacaoPermit },
        ),
        (
            &["taiwan-endorsement:G:1x:6m", "taiwan-permit"],
            vec![],
            ServicesError::Endorsement(EndorsementError::Suspended { code: 'G', since: date!(2019 - 08 - 01) }),
        ),
        (
            &["hk-macao-endorsement:G:1x:1y"],
            held_until(date!(2027 - 06 - 01)),
            ServicesError::HeldPermitExpiresFirst {
                permit: DocumentKind::HkMacaoPermit,
                expiry: date!(2027 - 06 - 01),
            },
        ),
        (
            &["hk-macao-endorsement:G:1x:3m"],
            held_until(date!(2026 - 12 - 04)),
            ServicesError::HeldPermitExpired { permit: DocumentKind::HkMacaoPermit, expiry: date!(2026 - 12 - 04) },
        ),
        (&["passport", "passport:lost"], vec![], ServicesError::DocumentTwice(DocumentKind::Passport)),
        // A first issue of a permit already held.
        (
            &["hk-macao-permit"],
            held_until(date!(2030 - 01 - 01)),
            ServicesError::DocumentHeld { document: DocumentKind::HkMacaoPermit },
        ),
        // The endorsement runs from its issue (7 working days on): a permit valid for three
        // months from today is not enough for a 3-month endorsement.
        (
            &["hk-macao-endorsement:G:1x:3m"],
            held_until(date!(2027 - 03 - 10)),
            ServicesError::HeldPermitExpiresFirst {
                permit: DocumentKind::HkMacaoPermit,
                expiry: date!(2027 - 03 - 10),
            },
        ),
        (
            &["passport:renewal"],
            vec![],
            ServicesError::PreviousDocumentNeeded { document: DocumentKind::Passport, reason: IssueReason::Renewal },
        ),
    ];
    for (specs, held, want) in cases {
        assert_eq!(ask(date!(1980 - 01 - 01), specs, &held), Err(want.clone()), "{specs:?}");
    }
}

#[test]
fn expected_issue_dates_count_working_days() {
    let r = ask(date!(1980 - 01 - 01), &["passport", "hk-macao-permit"], &[]).unwrap();
    // Friday 2026-12-04 + 7 working days = Tuesday 2026-12-15; urgent: 5 = Friday 12-11.
    assert_eq!(r.expected_issue_date(), Some(date!(2026 - 12 - 15)));
    assert_eq!(r.urgent_issue_date(), Some(date!(2026 - 12 - 11)));
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(r.quote.total.to_string(), "180.00");
}

#[test]
fn unconfirmed_facts_are_warned_of() {
    let r = ask(date!(1980 - 01 - 01), &["taiwan-permit", "taiwan-endorsement:L:1x:6m"], &[]).unwrap();
    assert_eq!(
        r.warnings,
        [
            Warning::UncertainEndorsement {
                region: EndorsementRegion::Taiwan,
                code: 'L',
                confidence: Confidence::Unconfirmed
            },
            Warning::UncertainFee { service: "taiwan-permit".parse().unwrap(), confidence: Confidence::Partial },
        ]
    );
    let zh = r.warnings[1].render(crate::text::Lang::Zh);
    assert!(zh.starts_with("往来台湾通行证"), "{zh}");
}

#[test]
fn a_lifted_suspension_is_a_warning() {
    let mut p = policy();
    let text = crate::policy::PolicySources::BUILTIN
        .endorsements
        .replace("suspension_lifted = false", "suspension_lifted = true");
    p.endorsements = crate::policy::EndorsementPolicy::parse(&text).unwrap();
    let applicant = ApplicantFacts { birth_date: date!(1980 - 01 - 01), residency: Residency::Mainland, held: &[] };
    let r = requirements(
        &p,
        applicant,
        &services(&["taiwan-permit", "taiwan-endorsement:G:1x:6m"]),
        &EndorsementFacts::default(),
        HeldCheck::Assumed,
        TODAY,
    )
    .unwrap();
    assert!(r.warnings.contains(&Warning::SuspensionLifted { code: 'G', since: "2019-08-01".into() }));
}
