//! What an applicant can apply for in one visit: documents and endorsements.
//!
//! A [`Service`] is one application. A visit holds one or several for the same applicant,
//! for example a 往来港澳通行证 plus a G endorsement, or an endorsement alone for someone who
//! already holds a valid permit.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::document::DocumentKind;
use crate::text::{Localize, Message};

/// Why a document is applied for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IssueReason {
    /// 首次申请.
    First,
    /// 换发: the old document expires or is full.
    Renewal,
    /// 补发 after loss.
    Lost,
    /// 换发 after damage.
    Damaged,
}

impl IssueReason {
    pub const ALL: [IssueReason; 4] =
        [IssueReason::First, IssueReason::Renewal, IssueReason::Lost, IssueReason::Damaged];

    pub fn code(self) -> &'static str {
        match self {
            IssueReason::First => "first",
            IssueReason::Renewal => "renewal",
            IssueReason::Lost => "lost",
            IssueReason::Damaged => "damaged",
        }
    }

    /// The locale key of the reason's name.
    pub fn key(self) -> &'static str {
        match self {
            IssueReason::First => "reason.first",
            IssueReason::Renewal => "reason.renewal",
            IssueReason::Lost => "reason.lost",
            IssueReason::Damaged => "reason.damaged",
        }
    }

    /// True when the applicant must already hold (or have held) the document.
    pub fn needs_previous_document(self) -> bool {
        !matches!(self, IssueReason::First)
    }
}

/// Card or one-trip form of the Taiwan documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PermitForm {
    /// The electronic card (往来台湾通行证 10/5 years; 台胞证 5 years).
    Card,
    /// 一次有效 one-trip permit.
    OneTrip,
}

impl PermitForm {
    pub fn code(self) -> &'static str {
        match self {
            PermitForm::Card => "card",
            PermitForm::OneTrip => "one-trip",
        }
    }
}

/// Which permit an endorsement is printed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EndorsementRegion {
    /// 港澳签注, on the 往来港澳通行证.
    HkMacao,
    /// 赴台签注, on the 往来台湾通行证.
    Taiwan,
}

impl EndorsementRegion {
    pub fn code(self) -> &'static str {
        match self {
            EndorsementRegion::HkMacao => "hk-macao-endorsement",
            EndorsementRegion::Taiwan => "taiwan-endorsement",
        }
    }

    /// The locale key of the region's endorsements' name.
    pub fn key(self) -> &'static str {
        match self {
            EndorsementRegion::HkMacao => "region.hk-macao",
            EndorsementRegion::Taiwan => "region.taiwan",
        }
    }

    /// The permit the endorsement goes on.
    pub fn permit(self) -> DocumentKind {
        match self {
            EndorsementRegion::HkMacao => DocumentKind::HkMacaoPermit,
            EndorsementRegion::Taiwan => DocumentKind::TaiwanPermit,
        }
    }
}

/// How many entries an endorsement allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Entries {
    #[serde(rename = "1x")]
    Once,
    #[serde(rename = "2x")]
    Twice,
    #[serde(rename = "multi")]
    Multiple,
}

impl Entries {
    pub fn code(self) -> &'static str {
        match self {
            Entries::Once => "1x",
            Entries::Twice => "2x",
            Entries::Multiple => "multi",
        }
    }

    /// The locale key of the entries' name.
    pub fn key(self) -> &'static str {
        match self {
            Entries::Once => "entries.once",
            Entries::Twice => "entries.twice",
            Entries::Multiple => "entries.multiple",
        }
    }
}

/// Why a service's spelling was not understood. Each names what was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceParseError {
    UnknownService(String),
    /// An endorsement needs TYPE:ENTRIES:VALIDITY.
    EndorsementParts(String),
    EndorsementLetter(String),
    Entries(String),
    Validity(String),
    /// An option of a document that it does not take.
    UnknownOption {
        service: String,
        option: String,
    },
}

impl Localize for ServiceParseError {
    fn message(&self) -> Message {
        match self {
            ServiceParseError::UnknownService(s) => Message::new("error.service.unknown").with("service", s.as_str()),
            ServiceParseError::EndorsementParts(s) => {
                Message::new("error.service.endorsement-parts").with("service", s.as_str())
            }
            ServiceParseError::EndorsementLetter(s) => Message::new("error.service.letter").with("code", s.as_str()),
            ServiceParseError::Entries(s) => Message::new("error.service.entries").with("entries", s.as_str()),
            ServiceParseError::Validity(s) => Message::new("error.service.validity").with("validity", s.as_str()),
            ServiceParseError::UnknownOption { service, option } => {
                Message::new("error.service.option").with("service", service.as_str()).with("option", option.as_str())
            }
        }
    }
}

crate::localized_error!(ServiceParseError);

impl FromStr for Entries {
    type Err = ServiceParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "1x" | "1" | "once" => Ok(Entries::Once),
            "2x" | "2" | "twice" => Ok(Entries::Twice),
            "multi" | "mx" | "m" | "multiple" => Ok(Entries::Multiple),
            _ => Err(ServiceParseError::Entries(s.to_string())),
        }
    }
}

/// Validity of an endorsement, in whole months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Months(pub u32);

impl fmt::Display for Months {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_multiple_of(12) { write!(f, "{}y", self.0 / 12) } else { write!(f, "{}m", self.0) }
    }
}

impl Months {
    /// "3个月", "1年" / "3 months", "1 year".
    pub fn describe(self) -> Message {
        if self.0.is_multiple_of(12) {
            Message::new("validity.years").with("n", self.0 / 12)
        } else {
            Message::new("validity.months").with("n", self.0)
        }
    }
}

impl FromStr for Months {
    type Err = ServiceParseError;
    /// `3m`, `6m`, `1y`, `2y`…
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ServiceParseError::Validity(s.to_string());
        let s = s.to_ascii_lowercase();
        // The unit is the last character, whatever it is ("3月" is refused, not split inside
        // its last character).
        let Some(unit) = s.chars().last() else { return Err(bad()) };
        let n: u32 = s[..s.len() - unit.len_utf8()].parse().map_err(|_| bad())?;
        let months = match unit {
            'm' => n,
            'y' => n.checked_mul(12).ok_or_else(bad)?,
            _ => return Err(bad()),
        };
        if months == 0 || months > 120 {
            return Err(bad());
        }
        Ok(Months(months))
    }
}

/// An endorsement: its type letter, entries and validity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Endorsement {
    pub region: EndorsementRegion,
    /// The type letter (港澳: G L T S Q D; 赴台: L G T D Y F X C Q).
    pub code: char,
    pub entries: Entries,
    pub validity: Months,
}

/// One application within a visit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "service")]
pub enum Service {
    /// 普通护照.
    Passport { reason: IssueReason },
    /// 往来港澳通行证 (card).
    HkMacaoPermit { reason: IssueReason },
    /// 港澳签注.
    HkMacaoEndorsement(Endorsement),
    /// 往来台湾通行证.
    TaiwanPermit { form: PermitForm, reason: IssueReason },
    /// 赴台签注.
    TaiwanEndorsement(Endorsement),
    /// 台湾居民来往大陆通行证.
    TaiwanResidentPermit { form: PermitForm, reason: IssueReason },
}

impl Service {
    /// The code used on the command line and in the fee schedule.
    pub fn code(&self) -> &'static str {
        match self {
            Service::Passport { .. } => "passport",
            Service::HkMacaoPermit { .. } => "hk-macao-permit",
            Service::HkMacaoEndorsement(_) => "hk-macao-endorsement",
            Service::TaiwanPermit { .. } => "taiwan-permit",
            Service::TaiwanEndorsement(_) => "taiwan-endorsement",
            Service::TaiwanResidentPermit { .. } => "taiwan-resident-permit",
        }
    }

    /// The document this application produces or endorses.
    pub fn document(&self) -> DocumentKind {
        match self {
            Service::Passport { .. } => DocumentKind::Passport,
            Service::HkMacaoPermit { .. } => DocumentKind::HkMacaoPermit,
            Service::TaiwanPermit { .. } => DocumentKind::TaiwanPermit,
            Service::TaiwanResidentPermit { .. } => DocumentKind::TaiwanResidentPermit,
            Service::HkMacaoEndorsement(e) | Service::TaiwanEndorsement(e) => e.region.permit(),
        }
    }

    pub fn endorsement(&self) -> Option<&Endorsement> {
        match self {
            Service::HkMacaoEndorsement(e) | Service::TaiwanEndorsement(e) => Some(e),
            _ => None,
        }
    }

    pub fn reason(&self) -> Option<IssueReason> {
        match *self {
            Service::Passport { reason }
            | Service::HkMacaoPermit { reason }
            | Service::TaiwanPermit { reason, .. }
            | Service::TaiwanResidentPermit { reason, .. } => Some(reason),
            _ => None,
        }
    }

    pub fn form(&self) -> Option<PermitForm> {
        match *self {
            Service::TaiwanPermit { form, .. } | Service::TaiwanResidentPermit { form, .. } => Some(form),
            _ => None,
        }
    }

    /// A short description for receipts and fee lines.
    pub fn describe(&self) -> Message {
        match self {
            Service::HkMacaoEndorsement(e) | Service::TaiwanEndorsement(e) => {
                let key = match e.region {
                    EndorsementRegion::HkMacao => "service.hk-macao-endorsement",
                    EndorsementRegion::Taiwan => "service.taiwan-endorsement",
                };
                Message::new(key)
                    .with("code", e.code)
                    .with("validity", e.validity.describe())
                    .with_key("entries", e.entries.key())
            }
            other => {
                let key = match other.form() {
                    Some(PermitForm::OneTrip) => "service.document.one-trip",
                    _ => "service.document",
                };
                Message::new(key)
                    .with_key("document", other.document().key())
                    .with_key("reason", other.reason().unwrap_or(IssueReason::First).key())
            }
        }
    }
}

/// Parses the command-line spelling of a service:
///
/// - `passport`, `passport:renewal`, `passport:lost`, `passport:damaged`
/// - `hk-macao-permit[:REASON]`
/// - `hk-macao-endorsement:TYPE:ENTRIES:VALIDITY`, e.g. `hk-macao-endorsement:G:1x:3m`
/// - `taiwan-permit[:one-trip][:REASON]`
/// - `taiwan-endorsement:TYPE:ENTRIES:VALIDITY`, e.g. `taiwan-endorsement:G:1x:6m`
/// - `taiwan-resident-permit[:one-trip][:REASON]`
///
/// Whether an endorsement option exists is policy, checked against the endorsement table.
impl FromStr for Service {
    type Err = ServiceParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.split(':');
        let head = parts.next().unwrap_or_default();
        let rest: Vec<&str> = parts.collect();
        let endorsement = |region: EndorsementRegion| -> Result<Endorsement, ServiceParseError> {
            let [code, entries, validity] = rest.as_slice() else {
                return Err(ServiceParseError::EndorsementParts(head.to_string()));
            };
            let mut letters = code.chars();
            let (Some(code), None) = (letters.next(), letters.next()) else {
                return Err(ServiceParseError::EndorsementLetter(code.to_string()));
            };
            Ok(Endorsement {
                region,
                code: code.to_ascii_uppercase(),
                entries: entries.parse()?,
                validity: validity.parse()?,
            })
        };
        let form_and_reason = |allow_form: bool| -> Result<(PermitForm, IssueReason), ServiceParseError> {
            let mut form = PermitForm::Card;
            let mut reason = IssueReason::First;
            for part in &rest {
                if allow_form && *part == "one-trip" {
                    form = PermitForm::OneTrip;
                } else if let Some(r) = IssueReason::ALL.into_iter().find(|r| r.code() == *part) {
                    reason = r;
                } else {
                    return Err(ServiceParseError::UnknownOption {
                        service: head.to_string(),
                        option: part.to_string(),
                    });
                }
            }
            Ok((form, reason))
        };
        match head {
            "passport" => Ok(Service::Passport { reason: form_and_reason(false)?.1 }),
            "hk-macao-permit" => Ok(Service::HkMacaoPermit { reason: form_and_reason(false)?.1 }),
            "hk-macao-endorsement" => Ok(Service::HkMacaoEndorsement(endorsement(EndorsementRegion::HkMacao)?)),
            "taiwan-permit" => {
                let (form, reason) = form_and_reason(true)?;
                Ok(Service::TaiwanPermit { form, reason })
            }
            "taiwan-endorsement" => Ok(Service::TaiwanEndorsement(endorsement(EndorsementRegion::Taiwan)?)),
            "taiwan-resident-permit" => {
                let (form, reason) = form_and_reason(true)?;
                Ok(Service::TaiwanResidentPermit { form, reason })
            }
            _ => Err(ServiceParseError::UnknownService(head.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_command_line_services() {
        assert_eq!("passport".parse(), Ok(Service::Passport { reason: IssueReason::First }));
        assert_eq!("passport:lost".parse(), Ok(Service::Passport { reason: IssueReason::Lost }));
        assert_eq!(
            "hk-macao-endorsement:g:1x:3m".parse(),
            Ok(Service::HkMacaoEndorsement(Endorsement {
                region: EndorsementRegion::HkMacao,
                code: 'G',
                entries: Entries::Once,
                validity: Months(3),
            }))
        );
        assert_eq!(
            "taiwan-resident-permit:one-trip".parse(),
            Ok(Service::TaiwanResidentPermit { form: PermitForm::OneTrip, reason: IssueReason::First })
        );
        let e: Service = "taiwan-endorsement:T:multi:2y".parse().unwrap();
        assert_eq!(e.endorsement().unwrap().validity, Months(24));
        assert_eq!(e.document(), DocumentKind::TaiwanPermit);
    }

    #[test]
    fn rejects_malformed_services() {
        use ServiceParseError as E;
        let cases = [
            ("visa", E::UnknownService("visa".into())),
            ("passport:one-trip", E::UnknownOption { service: "passport".into(), option: "one-trip".into() }),
            ("passport:soon", E::UnknownOption { service: "passport".into(), option: "soon".into() }),
            ("hk-macao-endorsement:G", E::EndorsementParts("hk-macao-endorsement".into())),
            ("hk-macao-endorsement:GG:1x:3m", E::EndorsementLetter("GG".into())),
            ("hk-macao-endorsement:G:3x:3m", E::Entries("3x".into())),
            ("hk-macao-endorsement:G:1x:3w", E::Validity("3w".into())),
            ("hk-macao-endorsement:G:1x:0m", E::Validity("0m".into())),
            ("hk-macao-endorsement:G:1x:99999999y", E::Validity("99999999y".into())),
            // A unit that is not ASCII, or none at all, is refused, not split inside a character.
            ("hk-macao-endorsement:G:1x:3月", E::Validity("3月".into())),
            ("hk-macao-endorsement:G:1x:月", E::Validity("月".into())),
            ("hk-macao-endorsement:G:1x:", E::Validity("".into())),
        ];
        for (bad, want) in cases {
            assert_eq!(bad.parse::<Service>(), Err(want), "{bad}");
        }
    }

    #[test]
    fn descriptions() {
        use crate::text::Lang;
        let s: Service = "hk-macao-endorsement:G:2x:1y".parse().unwrap();
        assert_eq!(s.describe().render(Lang::Zh), "港澳签注 G 1年二次有效");
        assert_eq!(s.describe().render(Lang::En), "HK/Macao endorsement G, two entries, 1 yr");
        let p: Service = "taiwan-permit:one-trip".parse().unwrap();
        assert_eq!(p.describe().render(Lang::Zh), "往来台湾通行证（一次有效）首次申请");
    }
}
