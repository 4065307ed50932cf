//! What the officer is shown to check on a person as typed or read: never a refusal.

use super::{GuardianInput, IdDocumentKind, Relation};
use crate::id_number::{CitizenId, Sex};

impl GuardianInput {
    /// The sex the guardian's ID number records, where the relation says the other (a father
    /// whose number says female, a mother whose says male): a digit typed wrong, the parents'
    /// numbers swapped, the wrong relation tapped. The officer checks it against the household
    /// register; it is never a refusal (a registered sex may have changed since the child's
    /// birth, or been registered wrong).
    pub fn sex_to_check(&self) -> Option<Sex> {
        if self.document_kind != Some(IdDocumentKind::ResidentId) {
            return None;
        }
        let sex = CitizenId::parse_structure(&self.document_number).ok()?.sex();
        match (self.relation?, sex) {
            (Relation::Father, Sex::Female) | (Relation::Mother, Sex::Male) => Some(sex),
            _ => None,
        }
    }
}
