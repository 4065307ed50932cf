//! The applicant: who they are, how that was established, and what documents they hold.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::date::{age_on, parse_yyyymmdd};
use crate::document::{DocumentKind, DocumentNumber, DocumentNumberError};
use crate::id_number::{CitizenId, IdKind, IdNumberError, Sex};
use crate::name::{ChineseName, NameError, PinyinName, suggest, suggest_pinyin};
use crate::text::{Localize, Message};

/// Where the identity came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdentitySource {
    /// Read from the card by the ID-card reader (SAM verified the chip).
    CardReader,
    /// Read from a document's MRZ.
    Mrz,
    /// Typed by the officer from the document.
    Typed,
}

/// What the applicant is identified by.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Identity {
    /// 居民身份证, or a residence permit with an 18-character number.
    Citizen { id: CitizenId },
    /// A Taiwan resident known by the 台胞证 number, with birth date and sex from it.
    TaiwanResidentPermit { number: DocumentNumber, birth_date: Date, sex: Sex },
}

/// Where the applicant lives, which decides what they may apply for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Residency {
    Mainland,
    HongKongMacao,
    Taiwan,
    Foreign,
}

impl Identity {
    pub fn birth_date(&self) -> Date {
        match self {
            Identity::Citizen { id } => id.birth_date(),
            Identity::TaiwanResidentPermit { birth_date, .. } => *birth_date,
        }
    }

    pub fn sex(&self) -> Sex {
        match self {
            Identity::Citizen { id } => id.sex(),
            Identity::TaiwanResidentPermit { sex, .. } => *sex,
        }
    }

    pub fn residency(&self) -> Residency {
        match self {
            Identity::Citizen { id } => match id.kind() {
                IdKind::Resident => Residency::Mainland,
                IdKind::HongKongResidencePermit | IdKind::MacaoResidencePermit => Residency::HongKongMacao,
                IdKind::TaiwanResidencePermit => Residency::Taiwan,
                IdKind::ForeignPermanentResident => Residency::Foreign,
            },
            Identity::TaiwanResidentPermit { .. } => Residency::Taiwan,
        }
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Identity({:?}, <redacted>)", self.residency())
    }
}

/// When the identity card expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CardExpiry {
    On(Date),
    /// 长期: no expiry (issued to people aged 46 or over).
    LongTerm,
}

/// A document the applicant already holds (or held, if lost).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldDocument {
    pub kind: DocumentKind,
    /// Unknown when the document was lost and the number is not remembered.
    pub number: Option<DocumentNumber>,
    pub expiry: Option<Date>,
}

/// What the applicant step collects, before validation.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicantInput {
    pub source: Option<IdentitySource>,
    pub name: String,
    /// Pinyin surname and given names; empty to take the suggestion.
    pub pinyin_surname: String,
    pub pinyin_given: String,
    /// The 18-character number, for citizens and residence-permit holders.
    pub id_number: String,
    /// For Taiwan residents without a residence permit: the 台胞证 number…
    pub taiwan_resident_permit: String,
    /// …and the birth date (YYYYMMDD) and sex printed on it.
    pub birth_date: String,
    pub sex: Option<Sex>,
    /// From the card reader: birth date (YYYYMMDD) and sex as on the chip, cross-checked.
    pub card_birth_date: String,
    pub card_sex: Option<Sex>,
    /// From the card reader: expiry (YYYYMMDD or 长期).
    pub card_expiry: String,
    pub held_documents: Vec<HeldDocument>,
}

impl fmt::Debug for ApplicantInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApplicantInput(<redacted>)")
    }
}

/// A field of the identity card, when the card disagrees with its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardField {
    BirthDate,
    Sex,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplicantError {
    Name(NameError),
    IdNumber(IdNumberError),
    Document(DocumentNumberError),
    NoIdentity,
    BirthDate,
    SexMissing,
    CardMismatch(CardField),
    CardExpired(Date),
    CardExpiryUnreadable,
    PinyinNeeded,
    /// The name reads more than one way (a family's surname reading, a polyphonic given
    /// name, a compound surname that splits two ways): the officer types the pinyin the
    /// applicant confirms. The suggestions, usual first.
    PinyinToConfirm {
        suggestions: Vec<String>,
    },
}

impl From<NameError> for ApplicantError {
    fn from(e: NameError) -> Self {
        ApplicantError::Name(e)
    }
}

impl From<IdNumberError> for ApplicantError {
    fn from(e: IdNumberError) -> Self {
        ApplicantError::IdNumber(e)
    }
}

impl From<DocumentNumberError> for ApplicantError {
    fn from(e: DocumentNumberError) -> Self {
        ApplicantError::Document(e)
    }
}

impl Localize for ApplicantError {
    fn message(&self) -> Message {
        match self {
            ApplicantError::Name(e) => Message::new("error.applicant.name").with("error", e.message()),
            ApplicantError::IdNumber(e) => Message::new("error.applicant.id-number").with("error", e.message()),
            ApplicantError::Document(e) => Message::new("error.applicant.taiwan-permit").with("error", e.message()),
            ApplicantError::NoIdentity => Message::new("error.applicant.no-identity"),
            ApplicantError::BirthDate => Message::new("error.applicant.birth-date"),
            ApplicantError::SexMissing => Message::new("error.applicant.sex-missing"),
            ApplicantError::CardMismatch(field) => Message::new("error.applicant.card-mismatch").with_key(
                "field",
                match field {
                    CardField::BirthDate => "field.birth-date",
                    CardField::Sex => "field.sex",
                },
            ),
            ApplicantError::CardExpired(d) => Message::new("error.applicant.card-expired").with("date", *d),
            ApplicantError::CardExpiryUnreadable => Message::new("error.applicant.card-expiry-unreadable"),
            ApplicantError::PinyinNeeded => Message::new("error.applicant.pinyin-needed"),
            ApplicantError::PinyinToConfirm { suggestions } => Message::new("error.applicant.pinyin-to-confirm")
                .with("suggestions", crate::text::Arg::List(suggestions.iter().map(|s| s.as_str().into()).collect())),
        }
    }
}

crate::localized_error!(ApplicantError);

/// A validated applicant. `Debug` hides personal data.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applicant {
    pub source: IdentitySource,
    pub name: ChineseName,
    pub pinyin: PinyinName,
    pub identity: Identity,
    pub card_expiry: Option<CardExpiry>,
    pub held_documents: Vec<HeldDocument>,
}

impl fmt::Debug for Applicant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Applicant({:?}, {:?}, <redacted>)", self.source, self.identity.residency())
    }
}

impl Applicant {
    /// Validates the applicant step as of `today`.
    pub fn from_input(input: &ApplicantInput, today: Date) -> Result<Applicant, ApplicantError> {
        let name = ChineseName::parse(&input.name)?;
        let identity = if !input.id_number.trim().is_empty() {
            let id = CitizenId::parse(&input.id_number, today)?;
            if !input.card_birth_date.is_empty()
                && parse_yyyymmdd(input.card_birth_date.trim()) != Some(id.birth_date())
            {
                return Err(ApplicantError::CardMismatch(CardField::BirthDate));
            }
            if input.card_sex.is_some_and(|s| s != id.sex()) {
                return Err(ApplicantError::CardMismatch(CardField::Sex));
            }
            Identity::Citizen { id }
        } else if !input.taiwan_resident_permit.trim().is_empty() {
            let number = DocumentNumber::parse(DocumentKind::TaiwanResidentPermit, &input.taiwan_resident_permit)?;
            let birth_date =
                parse_yyyymmdd(input.birth_date.trim()).filter(|d| *d <= today).ok_or(ApplicantError::BirthDate)?;
            let sex = input.sex.ok_or(ApplicantError::SexMissing)?;
            Identity::TaiwanResidentPermit { number, birth_date, sex }
        } else {
            return Err(ApplicantError::NoIdentity);
        };
        let card_expiry = match input.card_expiry.trim() {
            "" => None,
            "长期" => Some(CardExpiry::LongTerm),
            s => Some(CardExpiry::On(parse_yyyymmdd(s).ok_or(ApplicantError::CardExpiryUnreadable)?)),
        };
        if let Some(CardExpiry::On(d)) = card_expiry
            && d < today
        {
            return Err(ApplicantError::CardExpired(d));
        }
        let pinyin = if input.pinyin_surname.trim().is_empty() {
            match suggest(&name) {
                Some(s) if s.ambiguous => {
                    let suggestions = std::iter::once(&s.pinyin)
                        .chain(&s.alternatives)
                        .map(|p| format!("{} {}", p.surname(), p.given()).trim().to_string())
                        .collect();
                    return Err(ApplicantError::PinyinToConfirm { suggestions });
                }
                _ => suggest_pinyin(&name).ok_or(ApplicantError::PinyinNeeded)?,
            }
        } else {
            PinyinName::parse(&input.pinyin_surname, &input.pinyin_given)?
        };
        Ok(Applicant {
            source: input.source.unwrap_or(IdentitySource::Typed),
            name,
            pinyin,
            identity,
            card_expiry,
            held_documents: input.held_documents.clone(),
        })
    }

    pub fn age_on(&self, date: Date) -> u32 {
        age_on(self.identity.birth_date(), date)
    }

    pub fn held(&self, kind: DocumentKind) -> Option<&HeldDocument> {
        self.held_documents.iter().find(|d| d.kind == kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 26);

    fn input() -> ApplicantInput {
        ApplicantInput {
            source: Some(IdentitySource::CardReader),
            name: "测试".into(),
            id_number: "11010519491231002X".into(),
            card_birth_date: "19491231".into(),
            card_sex: Some(Sex::Female),
            card_expiry: "长期".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_card_read_makes_an_applicant() {
        let a = Applicant::from_input(&input(), TODAY).unwrap();
        assert_eq!(a.identity.residency(), Residency::Mainland);
        assert_eq!(a.age_on(TODAY), 76);
        assert_eq!(a.pinyin.surname(), "CE");
        assert_eq!(a.card_expiry, Some(CardExpiry::LongTerm));
    }

    #[test]
    fn card_data_must_agree_with_the_number() {
        let i = ApplicantInput { card_sex: Some(Sex::Male), ..input() };
        assert_eq!(Applicant::from_input(&i, TODAY), Err(ApplicantError::CardMismatch(CardField::Sex)));
        let i = ApplicantInput { card_birth_date: "19491230".into(), ..input() };
        assert_eq!(Applicant::from_input(&i, TODAY), Err(ApplicantError::CardMismatch(CardField::BirthDate)));
    }

    #[test]
    fn expired_cards_and_missing_identity_are_refused() {
        let i = ApplicantInput { card_expiry: "20261125".into(), ..input() };
        assert_eq!(Applicant::from_input(&i, TODAY), Err(ApplicantError::CardExpired(date!(2026 - 11 - 25))));
        let i = ApplicantInput { card_expiry: "2026".into(), ..input() };
        assert_eq!(Applicant::from_input(&i, TODAY), Err(ApplicantError::CardExpiryUnreadable));
        let i = ApplicantInput { id_number: String::new(), ..input() };
        assert_eq!(Applicant::from_input(&i, TODAY), Err(ApplicantError::NoIdentity));
    }

    #[test]
    fn taiwan_residents_by_their_permit() {
        let i = ApplicantInput {
            name: "测试".into(),
            taiwan_resident_permit: "12345678".into(),
            birth_date: "19500101".into(),
            sex: Some(Sex::Male),
            ..Default::default()
        };
        let a = Applicant::from_input(&i, TODAY).unwrap();
        assert_eq!(a.identity.residency(), Residency::Taiwan);
        assert_eq!(a.source, IdentitySource::Typed);
        let no_sex = ApplicantInput { sex: None, ..i.clone() };
        assert_eq!(Applicant::from_input(&no_sex, TODAY), Err(ApplicantError::SexMissing));
        let future = ApplicantInput { birth_date: "20300101".into(), ..i };
        assert_eq!(Applicant::from_input(&future, TODAY), Err(ApplicantError::BirthDate));
    }

    #[test]
    fn an_ambiguous_name_needs_its_pinyin_confirmed() {
        let i = ApplicantInput { name: "乐测试".into(), ..input() };
        assert_eq!(
            Applicant::from_input(&i, TODAY),
            Err(ApplicantError::PinyinToConfirm { suggestions: vec!["YUE CESHI".into(), "LE CESHI".into()] })
        );
        let typed = ApplicantInput { pinyin_surname: "le".into(), pinyin_given: "ceshi".into(), ..i };
        assert_eq!(Applicant::from_input(&typed, TODAY).unwrap().pinyin.surname(), "LE");
    }

    #[test]
    fn debug_hides_everything_personal() {
        let a = Applicant::from_input(&input(), TODAY).unwrap();
        let s = format!("{a:?} {:?}", input());
        for secret in ["测试", "11010519491231002X", "19491231", "CE"] {
            assert!(!s.contains(secret), "{secret} in {s}");
        }
    }
}
