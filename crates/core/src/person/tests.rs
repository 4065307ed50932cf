//! Tests of [`super`].
use super::fixtures::{companion, taiwan_father};
use super::*;
use time::macros::date;

fn mother() -> GuardianInput {
    super::fixtures::mother(true)
}

const TODAY: Date = date!(2026 - 11 - 26);

fn both() -> GuardiansInput {
    GuardiansInput {
        guardians: vec![mother(), taiwan_father()],
        all_custodians_listed: true,
        proof_seen: true,
        companion: None,
    }
}

#[test]
fn a_mainland_mother_and_a_taiwan_father() {
    let g = both().validate(Some(16), TODAY).unwrap().unwrap();
    assert_eq!(g.guardians.len(), 2);
    assert_eq!(g.guardians[1].document.kind(), IdDocumentKind::TaiwanResidentPermit);
    assert!(g.any_present());
    assert!(g.companion.is_none());
}

#[test]
fn guardian_rules_table() {
    let companion = companion();
    let away = |g: GuardianInput| GuardianInput { present: false, consent_letter_seen: true, ..g };
    let cases: Vec<(GuardiansInput, GuardianError)> = vec![
        (GuardiansInput::default(), GuardianError::Required { below_age: 16 }),
        (GuardiansInput { all_custodians_listed: false, ..both() }, GuardianError::CustodiansNotConfirmed),
        (GuardiansInput { proof_seen: false, ..both() }, GuardianError::ProofNotSeen),
        (
            GuardiansInput {
                guardians: vec![mother(), GuardianInput { consent_letter_seen: false, ..taiwan_father() }],
                ..both()
            },
            GuardianError::ConsentLetterMissing { index: 2 },
        ),
        (GuardiansInput { guardians: vec![mother(), mother()], ..both() }, GuardianError::Duplicate { index: 2 }),
        (
            GuardiansInput {
                guardians: vec![mother(), GuardianInput { document_number: "440524188001010014".into(), ..mother() }],
                ..both()
            },
            GuardianError::RelationTwice { index: 2 },
        ),
        (
            GuardiansInput { guardians: vec![GuardianInput { relation: None, ..mother() }], ..both() },
            GuardianError::RelationMissing { index: 1 },
        ),
        (
            GuardiansInput {
                guardians: vec![GuardianInput { relation: Some(Relation::OtherGuardian), ..mother() }],
                ..both()
            },
            GuardianError::RelationNoteMissing { index: 1 },
        ),
        (
            GuardiansInput { guardians: vec![GuardianInput { document_kind: None, ..mother() }], ..both() },
            GuardianError::DocumentKindMissing { index: 1 },
        ),
        (
            GuardiansInput { guardians: vec![GuardianInput { phone: "12345".into(), ..mother() }], ..both() },
            GuardianError::Phone { index: 1, error: PhoneError::NotAPhoneNumber },
        ),
        // Nobody here: a companion must be entrusted.
        (GuardiansInput { guardians: vec![away(mother()), taiwan_father()], ..both() }, GuardianError::CompanionNeeded),
        (
            GuardiansInput {
                guardians: vec![away(mother())],
                companion: Some(CompanionInput { entrustment_seen: false, ..companion.clone() }),
                ..both()
            },
            GuardianError::EntrustmentNotSeen,
        ),
        (GuardiansInput { companion: Some(companion.clone()), ..both() }, GuardianError::CompanionNotNeeded),
    ];
    for (input, want) in cases {
        assert_eq!(input.validate(Some(16), TODAY), Err(want.clone()), "{want:?}");
    }
    // With the companion entrusted, nobody-here is accepted.
    let ok = GuardiansInput { guardians: vec![away(mother())], companion: Some(companion), ..both() };
    assert!(ok.validate(Some(16), TODAY).unwrap().unwrap().companion.is_some());
    // A child as guardian is refused.
    let body = "11010520100101002";
    let minor =
        GuardianInput { document_number: format!("{body}{}", crate::id_number::check_character(body)), ..mother() };
    let input = GuardiansInput { guardians: vec![minor], ..both() };
    assert_eq!(input.validate(Some(16), TODAY), Err(GuardianError::NotAnAdult { index: 1 }));
    // An adult applicant needs none.
    assert_eq!(GuardiansInput::default().validate(None, TODAY), Ok(None));
}

#[test]
fn identity_documents_of_any_kind() {
    let ok = [
        (IdDocumentKind::ResidentId, "11010519491231002X", ""),
        (IdDocumentKind::ChinesePassport, "EA1234567", ""),
        (IdDocumentKind::TaiwanResidentPermit, "12345678", ""),
        (IdDocumentKind::HomeReturnPermit, "H1234567801", ""),
        (IdDocumentKind::ForeignPassport, "X1234 5678", "can"),
    ];
    for (kind, number, state) in ok {
        let d = IdDocument::parse(kind, number, state, TODAY).unwrap_or_else(|e| panic!("{kind:?}: {e:?}"));
        assert_eq!(d.kind(), kind);
    }
    let bad = [
        (IdDocumentKind::ResidentId, "110105194912310029", ""),
        (IdDocumentKind::ChinesePassport, "12345678", ""),
        (IdDocumentKind::ForeignPassport, "X1234567", "CHN"),
        (IdDocumentKind::ForeignPassport, "X1", "CAN"),
    ];
    for (kind, number, state) in bad {
        assert!(IdDocument::parse(kind, number, state, TODAY).is_err(), "{kind:?} {number}");
    }
}

#[test]
fn latin_names_for_foreign_documents() {
    assert_eq!(PersonName::parse(" o'brien-smith  anne ").unwrap().as_str(), "O'BRIEN-SMITH ANNE");
    assert!(matches!(PersonName::parse("测试").unwrap(), PersonName::Chinese(_)));
    assert!(matches!(PersonName::parse("ANNE2"), Err(NameError::InvalidCharacter { position: 5, .. })));
    assert_eq!(PersonName::parse(" - "), Err(NameError::Empty));
}

#[test]
fn debug_hides_people() {
    let g = both().validate(Some(16), TODAY).unwrap().unwrap();
    let s = format!("{g:?} {:?}", both());
    for secret in ["测试", "11010519491231002X", "12345678", "13800138000"] {
        assert!(!s.contains(secret), "{secret}");
    }
}

/// A parent whose ID number records the other sex is pointed out to the officer (not refused);
/// nothing is said where the number does not read, or for another guardian.
#[test]
fn a_parent_whose_number_says_the_other_sex_is_pointed_out() {
    use crate::id_number::Sex;
    // DOMAIN.md's published examples: the 17th digit even is female (002), odd male (001).
    let (female, male) = ("11010519491231002X", "440524188001010014");
    for (relation, number, kind, want) in [
        (Some(Relation::Mother), female, Some(IdDocumentKind::ResidentId), None),
        (Some(Relation::Mother), male, Some(IdDocumentKind::ResidentId), Some(Sex::Male)),
        (Some(Relation::Father), male, Some(IdDocumentKind::ResidentId), None),
        (Some(Relation::Father), female, Some(IdDocumentKind::ResidentId), Some(Sex::Female)),
        (Some(Relation::Father), "11010519491231002x", Some(IdDocumentKind::ResidentId), Some(Sex::Female)),
        (Some(Relation::OtherGuardian), male, Some(IdDocumentKind::ResidentId), None),
        (None, male, Some(IdDocumentKind::ResidentId), None),
        (Some(Relation::Mother), "440524188001010015", Some(IdDocumentKind::ResidentId), None),
        (Some(Relation::Mother), "1101051949", Some(IdDocumentKind::ResidentId), None),
        (Some(Relation::Mother), male, None, None),
    ] {
        let g = GuardianInput { relation, document_number: number.into(), document_kind: kind, ..Default::default() };
        assert_eq!(g.sex_to_check(), want, "{relation:?} {number} {kind:?}");
    }
}
