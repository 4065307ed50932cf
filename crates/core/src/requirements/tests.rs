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
        // One endorsement type per permit in a visit, as the visit's screen offers them.
        (
            &["hk-macao-permit", "hk-macao-endorsement:G:1x:3m", "hk-macao-endorsement:Q:1x:3m"],
            vec![],
            ServicesError::OneEndorsementPerPermit { region: EndorsementRegion::HkMacao },
        ),
        (
            &["hk-macao-permit", "hk-macao-endorsement:G:1x:3m", "hk-macao-endorsement:G:2x:3m"],
            vec![],
            ServicesError::EndorsementTwice { region: EndorsementRegion::HkMacao, code: 'G' },
        ),
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

/// An endorsement applied for with a new card fits on it: no longer than the card runs at the
/// holder's age when applying (5 years under 16, 10 from 16), and one entry only on a
/// one-trip permit. Today is Friday 2026-12-04.
#[test]
fn an_endorsement_with_a_new_card_fits_on_it() {
    let approved = EndorsementFacts { approval_document: true, ..EndorsementFacts::default() };
    let ask = |birth: Date, specs: &[&str]| {
        let applicant = ApplicantFacts { birth_date: birth, residency: Residency::Mainland, held: &[] };
        check_services(&policy(), applicant, &services(specs), &approved, HeldCheck::Assumed, TODAY)
            .map(|c| c.quote.total)
    };
    let outlasts = |permit, code, months| Err(ServicesError::EndorsementOutlastsCard { permit, code, months });
    let (taiwan, hk) = (DocumentKind::TaiwanPermit, DocumentKind::HkMacaoPermit);
    type Case<'a> = (&'a str, Date, &'a [&'a str], Result<&'a str, ServicesError>);
    let cases: Vec<Case> = vec![
        (
            "10: a 6-year study endorsement on a 5-year card",
            date!(2016 - 12 - 08),
            &["taiwan-permit", "taiwan-endorsement:X:multi:72m"],
            outlasts(taiwan, 'X', 60),
        ),
        ("10: 5 years fits", date!(2016 - 12 - 08), &["taiwan-permit", "taiwan-endorsement:X:multi:60m"], Ok("160.00")),
        (
            "16 today: a 10-year card",
            date!(2010 - 12 - 04),
            &["taiwan-permit", "taiwan-endorsement:X:multi:72m"],
            Ok("160.00"),
        ),
        (
            "16 tomorrow, before the card is issued: a 5-year card",
            date!(2010 - 12 - 05),
            &["taiwan-permit", "taiwan-endorsement:X:multi:72m"],
            outlasts(taiwan, 'X', 60),
        ),
        ("an adult", date!(1980 - 01 - 01), &["taiwan-permit", "taiwan-endorsement:X:multi:72m"], Ok("160.00")),
        (
            "15: a 7-year stay on a 5-year 港澳 card",
            date!(2011 - 12 - 08),
            &["hk-macao-permit", "hk-macao-endorsement:D:multi:84m"],
            outlasts(hk, 'D', 60),
        ),
        (
            "an adult's 7-year stay",
            date!(1980 - 01 - 01),
            &["hk-macao-permit", "hk-macao-endorsement:D:multi:84m"],
            Ok("300.00"),
        ),
        (
            "one-trip: 3 years' visits",
            date!(1980 - 01 - 01),
            &["taiwan-permit:one-trip", "taiwan-endorsement:T:multi:3y"],
            Err(ServicesError::OneTripPermitOneEntry { code: 'T' }),
        ),
        (
            "one-trip: one visit",
            date!(1980 - 01 - 01),
            &["taiwan-permit:one-trip", "taiwan-endorsement:T:1x:6m"],
            Ok("30.00"),
        ),
    ];
    for (what, birth, specs, want) in cases {
        assert_eq!(ask(birth, specs).map(|t| t.to_string()), want.map(str::to_string), "{what}");
    }
}

/// At a visit the officer is warned of what rests on an unconfirmed source only: the 500 of a
/// 台胞证 lost (one local page), the Taiwan group-tour endorsement; not the partly confirmed
/// Taiwan card's 80, nor anything confirmed.
#[test]
fn the_visit_warns_of_what_is_unconfirmed() {
    let p = policy();
    let warned = |specs: &[&str]| {
        let services = services(specs);
        let quote = p.fees.quote(&services, TODAY).unwrap();
        unconfirmed(&p, &services, &quote)
    };
    let lost: Service = "taiwan-resident-permit:lost".parse().unwrap();
    let cases: Vec<(&[&str], Vec<Warning>)> = vec![
        (&["passport"], vec![]),
        (&["taiwan-permit", "taiwan-endorsement:T:1x:6m"], vec![]),
        (
            &["taiwan-resident-permit:lost"],
            vec![Warning::UncertainFee { service: lost, confidence: Confidence::Unconfirmed }],
        ),
        (
            &["taiwan-permit", "taiwan-endorsement:L:1x:6m"],
            vec![Warning::UncertainEndorsement {
                region: EndorsementRegion::Taiwan,
                code: 'L',
                confidence: Confidence::Unconfirmed,
            }],
        ),
    ];
    for (specs, want) in cases {
        assert_eq!(warned(specs), want, "{specs:?}");
    }
}
