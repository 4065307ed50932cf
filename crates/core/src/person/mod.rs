//! People other than the applicant: guardians, the companion a guardian entrusts, a delegate
//! who collects the document. Each is recorded with a name and an identity document of any
//! kind, so a Taiwan parent (台胞证), a Hong Kong parent (回乡证) or a foreign parent
//! (passport) can be recorded as well as a mainland one.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::date::age_on;
use crate::document::{DocumentKind, DocumentNumber, DocumentNumberError};
use crate::id_number::{CitizenId, IdNumberError};
use crate::name::{ChineseName, NameError};
use crate::phone::{PhoneError, PhoneNumber};
use crate::text::{Localize, Message};

/// The longest Latin-script name accepted.
pub const MAX_LATIN_NAME: usize = 60;

/// A name as on the person's identity document: Chinese characters, or Latin letters for a
/// document without a Chinese name (a foreign passport).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "script", content = "name")]
pub enum PersonName {
    Chinese(ChineseName),
    Latin(String),
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersonName(<redacted>)")
    }
}

impl PersonName {
    /// Chinese when the text has a Chinese character; otherwise Latin letters, spaces,
    /// hyphens, apostrophes and full stops, upper-cased.
    pub fn parse(input: &str) -> Result<PersonName, NameError> {
        let t = input.trim();
        if t.chars().any(crate::name::is_ideograph) {
            return ChineseName::parse(t).map(PersonName::Chinese);
        }
        if t.is_empty() {
            return Err(NameError::Empty);
        }
        if t.chars().count() > MAX_LATIN_NAME {
            return Err(NameError::TooLong);
        }
        let mut out = String::new();
        for (i, c) in t.chars().enumerate() {
            match c {
                'a'..='z' | 'A'..='Z' => out.push(c.to_ascii_uppercase()),
                ' ' | '-' | '\'' | '.' => {
                    if !out.ends_with(' ') || c != ' ' {
                        out.push(c);
                    }
                }
                _ => return Err(NameError::InvalidCharacter { position: i + 1, code: format!("U+{:04X}", c as u32) }),
            }
        }
        if !out.chars().any(|c| c.is_ascii_alphabetic()) {
            return Err(NameError::Empty);
        }
        Ok(PersonName::Latin(out))
    }

    pub fn as_str(&self) -> &str {
        match self {
            PersonName::Chinese(n) => n.as_str(),
            PersonName::Latin(n) => n,
        }
    }
}

/// The kinds of identity document a guardian, companion or delegate may show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdDocumentKind {
    /// 居民身份证, or a residence permit or foreigner's permanent-residence ID with an
    /// 18-character number.
    ResidentId,
    /// A Chinese passport.
    ChinesePassport,
    /// 台湾居民来往大陆通行证 (台胞证).
    TaiwanResidentPermit,
    /// 港澳居民来往内地通行证 (回乡证).
    HomeReturnPermit,
    /// A foreign passport.
    ForeignPassport,
}

impl IdDocumentKind {
    pub const ALL: [IdDocumentKind; 5] = [
        IdDocumentKind::ResidentId,
        IdDocumentKind::ChinesePassport,
        IdDocumentKind::TaiwanResidentPermit,
        IdDocumentKind::HomeReturnPermit,
        IdDocumentKind::ForeignPassport,
    ];

    pub fn key(self) -> &'static str {
        match self {
            IdDocumentKind::ResidentId => "id-document.resident-id",
            IdDocumentKind::ChinesePassport => "id-document.chinese-passport",
            IdDocumentKind::TaiwanResidentPermit => "id-document.taiwan-resident-permit",
            IdDocumentKind::HomeReturnPermit => "id-document.home-return-permit",
            IdDocumentKind::ForeignPassport => "id-document.foreign-passport",
        }
    }
}

/// A checked identity document. `Debug` shows only its kind.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum IdDocument {
    ResidentId {
        id: CitizenId,
    },
    /// A Chinese passport, 台胞证 or 回乡证, with the number's form checked.
    Chinese {
        number: DocumentNumber,
    },
    /// A foreign passport: the issuing state (ICAO three letters) and the number.
    ForeignPassport {
        state: String,
        number: String,
    },
}

impl fmt::Debug for IdDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdDocument({:?}, <redacted>)", self.kind())
    }
}

/// Why an identity document was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdDocumentError {
    IdNumber(IdNumberError),
    Number(DocumentNumberError),
    /// A foreign passport's state is three letters; its number 5–20 letters and digits.
    ForeignPassport,
}

impl Localize for IdDocumentError {
    fn message(&self) -> Message {
        match self {
            IdDocumentError::IdNumber(e) => e.message(),
            IdDocumentError::Number(e) => e.message(),
            IdDocumentError::ForeignPassport => Message::new("error.id-document.foreign-passport"),
        }
    }
}

crate::localized_error!(IdDocumentError);

impl IdDocument {
    /// Checks `number` as a document of `kind`. `state` is used for foreign passports only.
    pub fn parse(kind: IdDocumentKind, number: &str, state: &str, today: Date) -> Result<IdDocument, IdDocumentError> {
        let chinese = |k: DocumentKind| {
            DocumentNumber::parse(k, number)
                .map(|number| IdDocument::Chinese { number })
                .map_err(IdDocumentError::Number)
        };
        match kind {
            IdDocumentKind::ResidentId => CitizenId::parse(number, today)
                .map(|id| IdDocument::ResidentId { id })
                .map_err(IdDocumentError::IdNumber),
            IdDocumentKind::ChinesePassport => chinese(DocumentKind::Passport),
            IdDocumentKind::TaiwanResidentPermit => chinese(DocumentKind::TaiwanResidentPermit),
            IdDocumentKind::HomeReturnPermit => chinese(DocumentKind::HomeReturnPermit),
            IdDocumentKind::ForeignPassport => {
                let state = state.trim().to_ascii_uppercase();
                let number: String =
                    number.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
                let state_ok = state.len() == 3 && state.bytes().all(|b| b.is_ascii_uppercase()) && state != "CHN";
                let number_ok = (5..=20).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_alphanumeric());
                if state_ok && number_ok {
                    Ok(IdDocument::ForeignPassport { state, number })
                } else {
                    Err(IdDocumentError::ForeignPassport)
                }
            }
        }
    }

    pub fn kind(&self) -> IdDocumentKind {
        match self {
            IdDocument::ResidentId { .. } => IdDocumentKind::ResidentId,
            IdDocument::Chinese { number } => match number.kind() {
                DocumentKind::TaiwanResidentPermit => IdDocumentKind::TaiwanResidentPermit,
                DocumentKind::HomeReturnPermit => IdDocumentKind::HomeReturnPermit,
                _ => IdDocumentKind::ChinesePassport,
            },
            IdDocument::ForeignPassport { .. } => IdDocumentKind::ForeignPassport,
        }
    }

    /// The holder's birth date, when the number tells it.
    pub fn birth_date(&self) -> Option<Date> {
        match self {
            IdDocument::ResidentId { id } => Some(id.birth_date()),
            _ => None,
        }
    }
}

/// A guardian's relation to the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Relation {
    Father,
    Mother,
    /// Another person appointed guardian (a grandparent, a relative, an organisation's
    /// representative), with the appointment seen.
    OtherGuardian,
}

impl Relation {
    pub fn key(self) -> &'static str {
        match self {
            Relation::Father => "relation.father",
            Relation::Mother => "relation.mother",
            Relation::OtherGuardian => "relation.other-guardian",
        }
    }
}

/// One guardian as typed.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardianInput {
    pub relation: Option<Relation>,
    /// For `OtherGuardian`: how they are related (祖母, 舅舅…).
    pub relation_note: String,
    pub name: String,
    pub document_kind: Option<IdDocumentKind>,
    pub document_number: String,
    /// For a foreign passport: the issuing state.
    pub document_state: String,
    pub phone: String,
    /// Here at the visit. A guardian who is not signs a written consent (and, when no
    /// guardian is here, an entrustment of the companion), seen by the officer.
    pub present: bool,
    pub consent_letter_seen: bool,
}

impl fmt::Debug for GuardianInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GuardianInput(<redacted>)")
    }
}

/// The companion a guardian who cannot come entrusts (受委托的陪同人).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanionInput {
    pub name: String,
    pub document_kind: Option<IdDocumentKind>,
    pub document_number: String,
    pub document_state: String,
    pub phone: String,
    /// The entrustment letters of every guardian, seen by the officer.
    pub entrustment_seen: bool,
}

impl fmt::Debug for CompanionInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CompanionInput(<redacted>)")
    }
}

/// Guardians as the applicant step collects them.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardiansInput {
    pub guardians: Vec<GuardianInput>,
    /// The officer confirms these are every guardian with custody (from the household
    /// register, birth certificate or court order seen).
    pub all_custodians_listed: bool,
    /// Proof of guardianship seen (户口簿, 出生医学证明, appointment).
    pub proof_seen: bool,
    pub companion: Option<CompanionInput>,
}

impl fmt::Debug for GuardiansInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GuardiansInput({} guardian(s), <redacted>)", self.guardians.len())
    }
}

/// A validated guardian.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guardian {
    pub relation: Relation,
    pub relation_note: String,
    pub name: PersonName,
    pub document: IdDocument,
    pub phone: PhoneNumber,
    pub present: bool,
}

impl fmt::Debug for Guardian {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guardian({:?}, present: {}, <redacted>)", self.relation, self.present)
    }
}

/// A validated companion, entrusted by the guardians.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Companion {
    pub name: PersonName,
    pub document: IdDocument,
    pub phone: PhoneNumber,
}

impl fmt::Debug for Companion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Companion(<redacted>)")
    }
}

/// The guardians of an applicant under the guardian age, as validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guardians {
    pub guardians: Vec<Guardian>,
    pub companion: Option<Companion>,
}

impl Guardians {
    /// Is a guardian here to sign?
    pub fn any_present(&self) -> bool {
        self.guardians.iter().any(|g| g.present)
    }
}

/// The most guardians recorded for one child.
pub const MAX_GUARDIANS: usize = 4;

/// Why the guardians were not accepted. `index` counts guardians from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuardianError {
    /// The applicant is under the guardian age and no guardian was recorded.
    Required {
        below_age: u32,
    },
    TooMany,
    RelationMissing {
        index: usize,
    },
    RelationNoteMissing {
        index: usize,
    },
    Name {
        index: usize,
        error: NameError,
    },
    DocumentKindMissing {
        index: usize,
    },
    Document {
        index: usize,
        error: IdDocumentError,
    },
    Phone {
        index: usize,
        error: PhoneError,
    },
    NotAnAdult {
        index: usize,
    },
    /// The same person twice (same document).
    Duplicate {
        index: usize,
    },
    /// Two fathers or two mothers.
    RelationTwice {
        index: usize,
    },
    /// An absent guardian's written consent was not seen.
    ConsentLetterMissing {
        index: usize,
    },
    CustodiansNotConfirmed,
    ProofNotSeen,
    /// No guardian is here and no companion was entrusted.
    CompanionNeeded,
    CompanionName(NameError),
    CompanionDocumentKindMissing,
    CompanionDocument(IdDocumentError),
    CompanionPhone(PhoneError),
    CompanionNotAnAdult,
    EntrustmentNotSeen,
    /// A companion was given although a guardian is here.
    CompanionNotNeeded,
    /// A guardian applying for a child who is not here must be here themselves.
    ApplyingGuardianAbsent,
}

impl Localize for GuardianError {
    fn message(&self) -> Message {
        let at = |key: &'static str, index: usize| Message::new(key).with("n", index);
        match self {
            GuardianError::Required { below_age } => Message::new("error.guardian.required").with("age", *below_age),
            GuardianError::TooMany => Message::new("error.guardian.too-many").with("max", MAX_GUARDIANS),
            GuardianError::RelationMissing { index } => at("error.guardian.relation-missing", *index),
            GuardianError::RelationNoteMissing { index } => at("error.guardian.relation-note-missing", *index),
            GuardianError::Name { index, error } => at("error.guardian.name", *index).with("error", error.message()),
            GuardianError::DocumentKindMissing { index } => at("error.guardian.document-kind-missing", *index),
            GuardianError::Document { index, error } => {
                at("error.guardian.document", *index).with("error", error.message())
            }
            GuardianError::Phone { index, error } => at("error.guardian.phone", *index).with("error", error.message()),
            GuardianError::NotAnAdult { index } => at("error.guardian.not-an-adult", *index),
            GuardianError::Duplicate { index } => at("error.guardian.duplicate", *index),
            GuardianError::RelationTwice { index } => at("error.guardian.relation-twice", *index),
            GuardianError::ConsentLetterMissing { index } => at("error.guardian.consent-letter-missing", *index),
            GuardianError::CustodiansNotConfirmed => Message::new("error.guardian.custodians-not-confirmed"),
            GuardianError::ProofNotSeen => Message::new("error.guardian.proof-not-seen"),
            GuardianError::CompanionNeeded => Message::new("error.guardian.companion-needed"),
            GuardianError::CompanionName(e) => Message::new("error.companion.name").with("error", e.message()),
            GuardianError::CompanionDocumentKindMissing => Message::new("error.companion.document-kind-missing"),
            GuardianError::CompanionDocument(e) => Message::new("error.companion.document").with("error", e.message()),
            GuardianError::CompanionPhone(e) => Message::new("error.companion.phone").with("error", e.message()),
            GuardianError::CompanionNotAnAdult => Message::new("error.companion.not-an-adult"),
            GuardianError::EntrustmentNotSeen => Message::new("error.companion.entrustment-not-seen"),
            GuardianError::CompanionNotNeeded => Message::new("error.companion.not-needed"),
            GuardianError::ApplyingGuardianAbsent => Message::new("error.guardian.applying-guardian-absent"),
        }
    }
}

crate::localized_error!(GuardianError);

const ADULT: u32 = 18;

impl GuardiansInput {
    /// Validates the guardians of an applicant who needs them (`required`) or for whom the
    /// officer recorded some anyway. `None` when there are none and none are needed.
    pub fn validate(&self, required_below: Option<u32>, today: Date) -> Result<Option<Guardians>, GuardianError> {
        if self.guardians.is_empty() {
            return match required_below {
                Some(below_age) => Err(GuardianError::Required { below_age }),
                None => Ok(None),
            };
        }
        if self.guardians.len() > MAX_GUARDIANS {
            return Err(GuardianError::TooMany);
        }
        let mut guardians: Vec<Guardian> = Vec::with_capacity(self.guardians.len());
        for (i, g) in self.guardians.iter().enumerate() {
            let index = i + 1;
            let relation = g.relation.ok_or(GuardianError::RelationMissing { index })?;
            let relation_note = g.relation_note.trim().to_string();
            if relation == Relation::OtherGuardian && relation_note.is_empty() {
                return Err(GuardianError::RelationNoteMissing { index });
            }
            let name = PersonName::parse(&g.name).map_err(|error| GuardianError::Name { index, error })?;
            let kind = g.document_kind.ok_or(GuardianError::DocumentKindMissing { index })?;
            let document = IdDocument::parse(kind, &g.document_number, &g.document_state, today)
                .map_err(|error| GuardianError::Document { index, error })?;
            if document.birth_date().is_some_and(|b| age_on(b, today) < ADULT) {
                return Err(GuardianError::NotAnAdult { index });
            }
            let phone = PhoneNumber::parse(&g.phone).map_err(|error| GuardianError::Phone { index, error })?;
            if guardians.iter().any(|o| o.document == document) {
                return Err(GuardianError::Duplicate { index });
            }
            if relation != Relation::OtherGuardian && guardians.iter().any(|o| o.relation == relation) {
                return Err(GuardianError::RelationTwice { index });
            }
            if !g.present && !g.consent_letter_seen {
                return Err(GuardianError::ConsentLetterMissing { index });
            }
            guardians.push(Guardian { relation, relation_note, name, document, phone, present: g.present });
        }
        if required_below.is_some() {
            if !self.all_custodians_listed {
                return Err(GuardianError::CustodiansNotConfirmed);
            }
            if !self.proof_seen {
                return Err(GuardianError::ProofNotSeen);
            }
        }
        let anyone_present = guardians.iter().any(|g| g.present);
        let companion = match (&self.companion, anyone_present) {
            (Some(_), true) => return Err(GuardianError::CompanionNotNeeded),
            (None, true) => None,
            (None, false) => return Err(GuardianError::CompanionNeeded),
            (Some(c), false) => Some(c.validate(today)?),
        };
        Ok(Some(Guardians { guardians, companion }))
    }
}

impl CompanionInput {
    fn validate(&self, today: Date) -> Result<Companion, GuardianError> {
        let name = PersonName::parse(&self.name).map_err(GuardianError::CompanionName)?;
        let kind = self.document_kind.ok_or(GuardianError::CompanionDocumentKindMissing)?;
        let document = IdDocument::parse(kind, &self.document_number, &self.document_state, today)
            .map_err(GuardianError::CompanionDocument)?;
        if document.birth_date().is_some_and(|b| age_on(b, today) < ADULT) {
            return Err(GuardianError::CompanionNotAnAdult);
        }
        let phone = PhoneNumber::parse(&self.phone).map_err(GuardianError::CompanionPhone)?;
        if !self.entrustment_seen {
            return Err(GuardianError::EntrustmentNotSeen);
        }
        Ok(Companion { name, document, phone })
    }
}

/// Someone who collects the document for the applicant (代领人).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delegate {
    pub name: PersonName,
    pub document: IdDocument,
    pub phone: PhoneNumber,
}

impl fmt::Debug for Delegate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Delegate(<redacted>)")
    }
}

/// A delegate as typed.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegateInput {
    pub name: String,
    pub document_kind: Option<IdDocumentKind>,
    pub document_number: String,
    pub document_state: String,
    pub phone: String,
}

impl fmt::Debug for DelegateInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DelegateInput(<redacted>)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DelegateError {
    Name(NameError),
    DocumentKindMissing,
    Document(IdDocumentError),
    Phone(PhoneError),
    NotAnAdult,
}

impl Localize for DelegateError {
    fn message(&self) -> Message {
        match self {
            DelegateError::Name(e) => Message::new("error.delegate.name").with("error", e.message()),
            DelegateError::DocumentKindMissing => Message::new("error.delegate.document-kind-missing"),
            DelegateError::Document(e) => Message::new("error.delegate.document").with("error", e.message()),
            DelegateError::Phone(e) => Message::new("error.delegate.phone").with("error", e.message()),
            DelegateError::NotAnAdult => Message::new("error.delegate.not-an-adult"),
        }
    }
}

crate::localized_error!(DelegateError);

impl DelegateInput {
    pub fn validate(&self, today: Date) -> Result<Delegate, DelegateError> {
        let name = PersonName::parse(&self.name).map_err(DelegateError::Name)?;
        let kind = self.document_kind.ok_or(DelegateError::DocumentKindMissing)?;
        let document = IdDocument::parse(kind, &self.document_number, &self.document_state, today)
            .map_err(DelegateError::Document)?;
        if document.birth_date().is_some_and(|b| age_on(b, today) < ADULT) {
            return Err(DelegateError::NotAnAdult);
        }
        let phone = PhoneNumber::parse(&self.phone).map_err(DelegateError::Phone)?;
        Ok(Delegate { name, document, phone })
    }
}

/// Guardians for tests: obviously fake people (测试 names, the published example numbers).
#[cfg(test)]
pub(crate) mod fixtures;

mod hints;
#[cfg(test)]
mod tests;
