//! The 18-character citizen identity number (GB 11643-1999) and the numbers that share its form.
//!
//! The check character is ISO 7064 MOD 11-2 (DOMAIN.md §2, [C]). The same structure and
//! checksum are used by the residence permits for Hong Kong, Macao and Taiwan residents
//! (address codes 810000, 820000, 830000) and by the 2023 foreigner permanent-residence
//! ID, which starts with 9 (both [P]).

use std::fmt;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::date::{age_on, parse_yyyymmdd};
use crate::text::{Localize, Message};

/// Weights 2^(17−i) mod 11 for positions 1–17.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for each value of S mod 11.
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
/// Province-level prefixes of GB/T 2260 in use on resident identity cards.
const PROVINCES: [u8; 31] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63,
    64, 65,
];
/// A birth date further back than this is treated as a typing error.
const MAX_PLAUSIBLE_AGE: u32 = 150;

/// Sex as recorded in identity documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }
}

/// Which kind of holder an 18-character number belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdKind {
    /// 居民身份证: a mainland resident.
    Resident,
    /// 港澳台居民居住证 with address code 810000.
    HongKongResidencePermit,
    /// 港澳台居民居住证 with address code 820000.
    MacaoResidencePermit,
    /// 港澳台居民居住证 with address code 830000.
    TaiwanResidencePermit,
    /// 外国人永久居留身份证 (2023 form, leading 9) [P].
    ForeignPermanentResident,
}

impl IdKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IdKind::Resident => "resident",
            IdKind::HongKongResidencePermit => "hong-kong-residence-permit",
            IdKind::MacaoResidencePermit => "macao-residence-permit",
            IdKind::TaiwanResidencePermit => "taiwan-residence-permit",
            IdKind::ForeignPermanentResident => "foreign-permanent-resident",
        }
    }
}

/// Why a string is not a valid identity number. Messages never repeat the number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdNumberError {
    Empty,
    LegacyFifteenDigit,
    WrongLength(usize),
    InvalidCharacter(usize),
    CheckCharacter { expected: char, found: char },
    UnknownRegion,
    InvalidBirthDate,
    BirthDateInFuture,
    BirthDateImplausible,
}

impl Localize for IdNumberError {
    fn message(&self) -> Message {
        match *self {
            IdNumberError::Empty => Message::new("error.id.empty"),
            IdNumberError::LegacyFifteenDigit => Message::new("error.id.legacy-fifteen-digit"),
            IdNumberError::WrongLength(n) => Message::new("error.id.wrong-length").with("n", n),
            // The last may be X: said so, not "only the last may be X" of the last.
            IdNumberError::InvalidCharacter(18) => Message::new("error.id.invalid-last-character"),
            IdNumberError::InvalidCharacter(p) => Message::new("error.id.invalid-character").with("position", p),
            IdNumberError::CheckCharacter { expected, found } => {
                Message::new("error.id.check-character").with("expected", expected).with("found", found)
            }
            IdNumberError::UnknownRegion => Message::new("error.id.unknown-region"),
            IdNumberError::InvalidBirthDate => Message::new("error.id.invalid-birth-date"),
            IdNumberError::BirthDateInFuture => Message::new("error.id.birth-date-in-future"),
            IdNumberError::BirthDateImplausible => {
                Message::new("error.id.birth-date-implausible").with("years", MAX_PLAUSIBLE_AGE)
            }
        }
    }
}

crate::localized_error!(IdNumberError);

/// A validated 18-character identity number. `Debug` does not show the number.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CitizenId {
    number: String,
    kind: IdKind,
    birth_date: Date,
    sex: Sex,
}

impl CitizenId {
    /// Validates `input` as of `today`.
    ///
    /// Spaces are ignored, a lower-case `x` and full-width digits (from a Chinese input method)
    /// are accepted and normalised.
    pub fn parse(input: &str, today: Date) -> Result<CitizenId, IdNumberError> {
        let id = CitizenId::parse_structure(input)?;
        if id.birth_date > today {
            return Err(IdNumberError::BirthDateInFuture);
        }
        if age_on(id.birth_date, today) > MAX_PLAUSIBLE_AGE {
            return Err(IdNumberError::BirthDateImplausible);
        }
        Ok(id)
    }

    /// Checks everything that does not depend on the day: length, characters, check
    /// character, address code and that the birth date is a calendar date.
    /// Validates the number's form and check digit only, whatever day it is (for what the
    /// number says, as a hint, where its date is checked elsewhere or not at all).
    pub fn parse_structure(input: &str) -> Result<CitizenId, IdNumberError> {
        let number = normalise(input);
        if number.is_empty() {
            return Err(IdNumberError::Empty);
        }
        let len = number.chars().count();
        if len == 15 && number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdNumberError::LegacyFifteenDigit);
        }
        if len != 18 {
            return Err(IdNumberError::WrongLength(len));
        }
        let bytes = number.as_bytes();
        if let Some(pos) = bytes[..17].iter().position(|b| !b.is_ascii_digit()) {
            return Err(IdNumberError::InvalidCharacter(pos + 1));
        }
        let last = bytes[17];
        if !(last.is_ascii_digit() || last == b'X') {
            return Err(IdNumberError::InvalidCharacter(18));
        }
        let expected = check_character(&number[..17]);
        if expected as u8 != last {
            return Err(IdNumberError::CheckCharacter { expected, found: last as char });
        }
        let kind = classify(&number[..6]).ok_or(IdNumberError::UnknownRegion)?;
        let birth_date = parse_yyyymmdd(&number[6..14]).ok_or(IdNumberError::InvalidBirthDate)?;
        let sex = if (bytes[16] - b'0') % 2 == 1 { Sex::Male } else { Sex::Female };
        Ok(CitizenId { number, kind, birth_date, sex })
    }

    /// The number itself, for display to the officer and for sealing. Never log it.
    pub fn as_str(&self) -> &str {
        &self.number
    }

    /// The number with positions 5–14 hidden, for receipts and lists: `1101**********002X`.
    pub fn masked(&self) -> String {
        format!("{}{}{}", &self.number[..4], "*".repeat(10), &self.number[14..])
    }

    pub fn kind(&self) -> IdKind {
        self.kind
    }

    pub fn birth_date(&self) -> Date {
        self.birth_date
    }

    pub fn sex(&self) -> Sex {
        self.sex
    }

    /// The six-digit address code of the place of household registration at issue.
    pub fn address_code(&self) -> &str {
        &self.number[..6]
    }
}

impl fmt::Debug for CitizenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CitizenId({}, <redacted>)", self.kind.as_str())
    }
}

impl TryFrom<String> for CitizenId {
    type Error = IdNumberError;

    /// Deserialisation re-validates the structure. The checks against "today" were made on
    /// the day the number was taken and are not repeated.
    fn try_from(value: String) -> Result<Self, Self::Error> {
        CitizenId::parse_structure(&value)
    }
}

impl From<CitizenId> for String {
    fn from(value: CitizenId) -> String {
        value.number
    }
}

/// The MOD 11-2 check character of the first 17 digits. `body` must be 17 ASCII digits.
pub fn check_character(body: &str) -> char {
    let sum: u32 = body.bytes().zip(WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
    CHECK[(sum % 11) as usize]
}

fn normalise(input: &str) -> String {
    input
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            'x' | 'Ｘ' | 'ｘ' => 'X',
            _ => c,
        })
        .collect()
}

fn classify(address: &str) -> Option<IdKind> {
    match address {
        "810000" => return Some(IdKind::HongKongResidencePermit),
        "820000" => return Some(IdKind::MacaoResidencePermit),
        "830000" => return Some(IdKind::TaiwanResidencePermit),
        _ => {}
    }
    if address.starts_with('9') {
        return Some(IdKind::ForeignPermanentResident);
    }
    let province: u8 = address[..2].parse().ok()?;
    PROVINCES.contains(&province).then_some(IdKind::Resident)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 26);

    #[test]
    fn published_examples_validate() {
        let a = CitizenId::parse("11010519491231002X", TODAY).unwrap();
        assert_eq!(a.birth_date(), date!(1949 - 12 - 31));
        assert_eq!(a.sex(), Sex::Female);
        assert_eq!(a.kind(), IdKind::Resident);
        assert_eq!(a.address_code(), "110105");

        let b = CitizenId::parse("440524188001010014", TODAY).unwrap();
        assert_eq!(b.birth_date(), date!(1880 - 01 - 01));
        assert_eq!(b.sex(), Sex::Male);
    }

    #[test]
    fn check_sum_matches_the_worked_example() {
        assert_eq!(check_character("11010519491231002"), 'X');
        assert_eq!(check_character("44052418800101001"), '4');
    }

    #[test]
    fn wrong_check_character_is_refused_with_the_expected_one() {
        assert_eq!(
            CitizenId::parse("110105194912310029", TODAY),
            Err(IdNumberError::CheckCharacter { expected: 'X', found: '9' })
        );
    }

    #[test]
    fn input_is_normalised() {
        assert!(CitizenId::parse("11010519491231002x", TODAY).is_ok());
        assert!(CitizenId::parse(" 110105 19491231 002X ", TODAY).is_ok());
        assert!(CitizenId::parse("１１０１０５１９４９１２３１００２Ｘ", TODAY).is_ok());
    }

    #[test]
    fn structural_errors() {
        assert_eq!(CitizenId::parse("", TODAY), Err(IdNumberError::Empty));
        assert_eq!(CitizenId::parse("110105491231002", TODAY), Err(IdNumberError::LegacyFifteenDigit));
        assert_eq!(CitizenId::parse("1101051949123100", TODAY), Err(IdNumberError::WrongLength(16)));
        assert_eq!(CitizenId::parse("1101051949123100XX", TODAY), Err(IdNumberError::InvalidCharacter(17)));
        assert_eq!(CitizenId::parse("11010519491231002A", TODAY), Err(IdNumberError::InvalidCharacter(18)));
        let said = |n: &str| CitizenId::parse(n, TODAY).unwrap_err().message().key;
        assert_eq!(said("11010519491231002A"), "error.id.invalid-last-character");
        assert_eq!(said("1101051949123100XX"), "error.id.invalid-character");
    }

    /// Builds a number with a correct check character, to test the later rules in isolation.
    fn with_check(body: &str) -> String {
        format!("{body}{}", check_character(body))
    }

    #[test]
    fn impossible_and_future_birth_dates_are_refused() {
        let feb30 = with_check("11010519490230002");
        assert_eq!(CitizenId::parse(&feb30, TODAY), Err(IdNumberError::InvalidBirthDate));
        let month13 = with_check("11010519491331002");
        assert_eq!(CitizenId::parse(&month13, TODAY), Err(IdNumberError::InvalidBirthDate));
        let future = with_check("11010520261127002");
        assert_eq!(CitizenId::parse(&future, TODAY), Err(IdNumberError::BirthDateInFuture));
        let born_today = with_check("11010520261126002");
        assert!(CitizenId::parse(&born_today, TODAY).is_ok());
        let ancient = with_check("11010518700101002");
        assert_eq!(CitizenId::parse(&ancient, TODAY), Err(IdNumberError::BirthDateImplausible));
    }

    #[test]
    fn residence_permits_and_regions() {
        let hk = CitizenId::parse(&with_check("81000019900101001"), TODAY).unwrap();
        assert_eq!(hk.kind(), IdKind::HongKongResidencePermit);
        assert_eq!(hk.sex(), Sex::Male);
        let mo = CitizenId::parse(&with_check("82000019900101002"), TODAY).unwrap();
        assert_eq!(mo.kind(), IdKind::MacaoResidencePermit);
        let tw = CitizenId::parse(&with_check("83000019900101002"), TODAY).unwrap();
        assert_eq!(tw.kind(), IdKind::TaiwanResidencePermit);
        assert_eq!(tw.sex(), Sex::Female);
        assert_eq!(CitizenId::parse(&with_check("81010119900101001"), TODAY), Err(IdNumberError::UnknownRegion));
        assert_eq!(CitizenId::parse(&with_check("00010519900101001"), TODAY), Err(IdNumberError::UnknownRegion));
        let foreign = CitizenId::parse(&with_check("93115619900101001"), TODAY).unwrap();
        assert_eq!(foreign.kind(), IdKind::ForeignPermanentResident);
    }

    #[test]
    fn debug_and_errors_do_not_reveal_the_number() {
        let id = CitizenId::parse("11010519491231002X", TODAY).unwrap();
        assert!(!format!("{id:?}").contains("19491231"));
        assert_eq!(id.masked(), "1101**********002X");
        let err = CitizenId::parse("110105194912310029", TODAY).unwrap_err();
        assert!(!err.to_string().contains("110105"));
    }

    #[test]
    fn serde_round_trip_revalidates() {
        let id = CitizenId::parse("11010519491231002X", TODAY).unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"11010519491231002X\"");
        let back: CitizenId = serde_json::from_str(&json).unwrap();
        assert_eq!(back, id);
        assert!(serde_json::from_str::<CitizenId>("\"110105194912310029\"").is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_single_digit_change_is_caught(pos in 0usize..17, delta in 1u8..10) {
            let good = "11010519491231002X";
            let mut bytes = good.as_bytes().to_vec();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let bad = String::from_utf8(bytes).unwrap();
            proptest::prop_assert!(CitizenId::parse(&bad, TODAY).is_err());
        }

        #[test]
        fn never_panics_on_arbitrary_input(s in "\\PC{0,40}") {
            let _ = CitizenId::parse(&s, TODAY);
        }
    }
}
