//! Guardians for tests: obviously fake people (测试 names, the published example numbers).

use super::*;

/// A mainland mother, here at the visit (or not, with her written consent seen).
pub fn mother(present: bool) -> GuardianInput {
    GuardianInput {
        relation: Some(Relation::Mother),
        name: "测试母".into(),
        document_kind: Some(IdDocumentKind::ResidentId),
        document_number: "11010519491231002X".into(),
        phone: "13800138000".into(),
        present,
        consent_letter_seen: !present,
        ..Default::default()
    }
}

/// A Taiwan father known by his 台胞证, not here, who sent a written consent.
pub fn taiwan_father() -> GuardianInput {
    GuardianInput {
        relation: Some(Relation::Father),
        name: "测试父".into(),
        document_kind: Some(IdDocumentKind::TaiwanResidentPermit),
        document_number: "12345678".into(),
        phone: "+886 912 345 678".into(),
        present: false,
        consent_letter_seen: true,
        ..Default::default()
    }
}

/// A companion entrusted by the guardians.
pub fn companion() -> CompanionInput {
    CompanionInput {
        name: "测试陪同".into(),
        document_kind: Some(IdDocumentKind::ResidentId),
        document_number: "440524188001010014".into(),
        phone: "13900139000".into(),
        entrustment_seen: true,
        ..Default::default()
    }
}
