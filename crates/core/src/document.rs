//! Document numbers of the exit-entry documents (DOMAIN.md §3).
//!
//! Formats tagged [U] in DOMAIN.md (the 往来台湾通行证 `L` + 8 digits) are accepted as
//! documented but reported as unconfirmed, so the officer is not misled by a green tick.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::text::{Localize, Message};

/// The document kinds whose numbers doorstep reads and checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DocumentKind {
    /// 普通护照.
    Passport,
    /// 往来港澳通行证.
    HkMacaoPermit,
    /// 往来台湾通行证.
    TaiwanPermit,
    /// 台湾居民来往大陆通行证 (台胞证).
    TaiwanResidentPermit,
    /// 港澳居民来往内地通行证 (回乡证).
    HomeReturnPermit,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 5] = [
        DocumentKind::Passport,
        DocumentKind::HkMacaoPermit,
        DocumentKind::TaiwanPermit,
        DocumentKind::TaiwanResidentPermit,
        DocumentKind::HomeReturnPermit,
    ];

    /// The name used on the command line and in files.
    pub fn code(self) -> &'static str {
        match self {
            DocumentKind::Passport => "passport",
            DocumentKind::HkMacaoPermit => "hk-macao-permit",
            DocumentKind::TaiwanPermit => "taiwan-permit",
            DocumentKind::TaiwanResidentPermit => "taiwan-resident-permit",
            DocumentKind::HomeReturnPermit => "home-return-permit",
        }
    }

    /// The locale key of the document's name.
    pub fn key(self) -> &'static str {
        match self {
            DocumentKind::Passport => "document.passport",
            DocumentKind::HkMacaoPermit => "document.hk-macao-permit",
            DocumentKind::TaiwanPermit => "document.taiwan-permit",
            DocumentKind::TaiwanResidentPermit => "document.taiwan-resident-permit",
            DocumentKind::HomeReturnPermit => "document.home-return-permit",
        }
    }
}

impl fmt::Display for DocumentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A document kind's spelling that is not one of [`DocumentKind::ALL`]'s codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownDocumentKind(pub String);

impl Localize for UnknownDocumentKind {
    fn message(&self) -> Message {
        let names: Vec<&str> = DocumentKind::ALL.iter().map(|k| k.code()).collect();
        Message::new("error.doc.unknown-kind").with("kind", self.0.as_str()).with("kinds", names.join(", "))
    }
}

crate::localized_error!(UnknownDocumentKind);

impl FromStr for DocumentKind {
    type Err = UnknownDocumentKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DocumentKind::ALL.into_iter().find(|k| k.code() == s).ok_or_else(|| UnknownDocumentKind(s.to_string()))
    }
}

/// What the number's form tells about the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "series")]
pub enum Series {
    /// Passport `G` + 8 digits: issued before 2012, no chip.
    PassportG,
    /// Passport `E` + 8 digits: e-passport from 2012.
    PassportE,
    /// Passport `E` + letter + 7 digits: e-passport after the `E` + 8 range ran out.
    PassportELetter,
    /// 港澳通行证 `C` + 8 digits (2014 e-card).
    HkMacaoC,
    /// 港澳通行证 `C` + letter + 7 digits (from 2018-12).
    HkMacaoCLetter,
    /// 台湾通行证 `L` + 8 digits [U].
    TaiwanL,
    /// 台胞证 8-digit lifelong number (card, and booklets from 2008).
    TaiwanResidentLifelong,
    /// 台胞证 booklet before 2008-09-25: 8-digit lifelong number + 2-digit issue count.
    TaiwanResidentLegacyBooklet { issue_count: u8 },
    /// 回乡证 H/M + 8-digit lifelong number, optionally + 2-digit renewal count.
    HomeReturn { region: HomeRegion, renewal_count: Option<u8> },
    /// 回乡证 for non-Chinese-citizen permanent residents (2024): HA/MA + 7 digits.
    HomeReturnNonCitizen { region: HomeRegion },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HomeRegion {
    HongKong,
    Macao,
}

/// A document number whose form matches its kind.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentNumber {
    kind: DocumentKind,
    number: String,
    series: Series,
}

impl fmt::Debug for DocumentNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentNumber({}, <redacted>)", self.kind)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentNumberError {
    Empty,
    WrongLength {
        kind: DocumentKind,
        expected: &'static str,
        found: usize,
    },
    WrongPrefix {
        kind: DocumentKind,
        expected: &'static str,
    },
    NotADigit(usize),
    /// Neither a letter nor a digit, at this position (from 1).
    BadCharacter(usize),
    ForbiddenSeriesLetter,
}

impl Localize for DocumentNumberError {
    fn message(&self) -> Message {
        match *self {
            DocumentNumberError::Empty => Message::new("error.doc.empty"),
            DocumentNumberError::WrongLength { kind, expected, found } => Message::new("error.doc.wrong-length")
                .with_key("kind", kind.key())
                .with_key("expected", expected)
                .with("found", found),
            DocumentNumberError::WrongPrefix { kind, expected } => {
                Message::new("error.doc.wrong-prefix").with_key("kind", kind.key()).with("expected", expected)
            }
            DocumentNumberError::NotADigit(p) => Message::new("error.doc.not-a-digit").with("position", p),
            DocumentNumberError::BadCharacter(p) => Message::new("error.doc.bad-character").with("position", p),
            DocumentNumberError::ForbiddenSeriesLetter => Message::new("error.doc.forbidden-series-letter"),
        }
    }
}

crate::localized_error!(DocumentNumberError);

impl DocumentNumber {
    /// Checks `input` against the format of `kind`. Spaces are ignored and letters upper-cased.
    pub fn parse(kind: DocumentKind, input: &str) -> Result<DocumentNumber, DocumentNumberError> {
        // Full-width letters and digits (from a Chinese input method) are the ASCII ones.
        let ascii = |c: char| match c {
            'Ａ'..='Ｚ' | 'ａ'..='ｚ' | '０'..='９' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        };
        let number: String =
            input.chars().filter(|c| !c.is_whitespace()).map(|c| ascii(c).to_ascii_uppercase()).collect();
        if number.is_empty() {
            return Err(DocumentNumberError::Empty);
        }
        // Any other character is named where it was typed (spaces counted, as the officer sees
        // them): counted, it made "9 expected, 9 found".
        if let Some(p) = input.chars().position(|c| !c.is_whitespace() && !ascii(c).is_ascii_alphanumeric()) {
            return Err(DocumentNumberError::BadCharacter(p + 1));
        }
        let series = match kind {
            DocumentKind::Passport => parse_passport(&number),
            DocumentKind::HkMacaoPermit => parse_hk_macao(&number),
            DocumentKind::TaiwanPermit => parse_taiwan_permit(&number),
            DocumentKind::TaiwanResidentPermit => parse_taiwan_resident(&number),
            DocumentKind::HomeReturnPermit => parse_home_return(&number),
        };
        // A position in the number is said where it was typed, the spaces counted.
        let typed = |p: usize| {
            input
                .char_indices()
                .filter(|(_, c)| !c.is_whitespace())
                .nth(p.checked_sub(1)?)
                .map(|(i, _)| input[..i].chars().count() + 1)
        };
        let series = series.map_err(|e| match e {
            DocumentNumberError::NotADigit(p) => DocumentNumberError::NotADigit(typed(p).unwrap_or(p)),
            other => other,
        })?;
        Ok(DocumentNumber { kind, number, series })
    }

    pub fn kind(&self) -> DocumentKind {
        self.kind
    }

    pub fn as_str(&self) -> &str {
        &self.number
    }

    pub fn series(&self) -> Series {
        self.series
    }

    /// True when the format rests on an unconfirmed source (DOMAIN.md [U]).
    pub fn format_unconfirmed(&self) -> bool {
        matches!(self.series, Series::TaiwanL)
    }

    /// The part of the number that never changes for the holder (for 回乡证 and legacy
    /// 台胞证 booklets, the number without its renewal/issue count).
    pub fn lifelong_part(&self) -> &str {
        match self.series {
            Series::HomeReturn { .. } => &self.number[..9],
            Series::TaiwanResidentLegacyBooklet { .. } => &self.number[..8],
            _ => &self.number,
        }
    }
}

fn length_error(kind: DocumentKind, expected: &'static str, number: &str) -> DocumentNumberError {
    DocumentNumberError::WrongLength { kind, expected, found: number.chars().count() }
}

/// Checks that every byte in `range` of `number` is an ASCII digit.
fn digits(number: &str, range: std::ops::Range<usize>) -> Result<(), DocumentNumberError> {
    match number.as_bytes()[range.clone()].iter().position(|b| !b.is_ascii_digit()) {
        Some(i) => Err(DocumentNumberError::NotADigit(range.start + i + 1)),
        None => Ok(()),
    }
}

/// For the "letter + letter + 7 digits" series: the second character must be A–Z except I, O.
fn series_letter(b: u8) -> Result<(), DocumentNumberError> {
    match b {
        b'I' | b'O' => Err(DocumentNumberError::ForbiddenSeriesLetter),
        b'A'..=b'Z' => Ok(()),
        _ => Err(DocumentNumberError::NotADigit(2)),
    }
}

fn parse_passport(n: &str) -> Result<Series, DocumentNumberError> {
    const KIND: DocumentKind = DocumentKind::Passport;
    if !n.is_ascii() || n.len() != 9 {
        return Err(length_error(KIND, "doc.length.nine", n));
    }
    let b = n.as_bytes();
    match b[0] {
        b'G' => digits(n, 1..9).map(|_| Series::PassportG),
        b'E' if b[1].is_ascii_digit() => digits(n, 1..9).map(|_| Series::PassportE),
        b'E' => {
            series_letter(b[1])?;
            digits(n, 2..9).map(|_| Series::PassportELetter)
        }
        _ => Err(DocumentNumberError::WrongPrefix { kind: KIND, expected: "G/E" }),
    }
}

fn parse_hk_macao(n: &str) -> Result<Series, DocumentNumberError> {
    const KIND: DocumentKind = DocumentKind::HkMacaoPermit;
    if !n.is_ascii() || n.len() != 9 {
        return Err(length_error(KIND, "doc.length.nine", n));
    }
    let b = n.as_bytes();
    if b[0] != b'C' {
        return Err(DocumentNumberError::WrongPrefix { kind: KIND, expected: "C" });
    }
    if b[1].is_ascii_digit() {
        digits(n, 1..9).map(|_| Series::HkMacaoC)
    } else {
        series_letter(b[1])?;
        digits(n, 2..9).map(|_| Series::HkMacaoCLetter)
    }
}

fn parse_taiwan_permit(n: &str) -> Result<Series, DocumentNumberError> {
    const KIND: DocumentKind = DocumentKind::TaiwanPermit;
    if !n.is_ascii() || n.len() != 9 {
        return Err(length_error(KIND, "doc.length.nine", n));
    }
    if n.as_bytes()[0] != b'L' {
        return Err(DocumentNumberError::WrongPrefix { kind: KIND, expected: "L" });
    }
    digits(n, 1..9).map(|_| Series::TaiwanL)
}

fn parse_taiwan_resident(n: &str) -> Result<Series, DocumentNumberError> {
    const KIND: DocumentKind = DocumentKind::TaiwanResidentPermit;
    if !n.is_ascii() || !(n.len() == 8 || n.len() == 10) {
        return Err(length_error(KIND, "doc.length.taiwan-resident", n));
    }
    digits(n, 0..n.len())?;
    if n.len() == 8 {
        Ok(Series::TaiwanResidentLifelong)
    } else {
        let issue_count = n[8..].parse().unwrap_or(0);
        Ok(Series::TaiwanResidentLegacyBooklet { issue_count })
    }
}

fn parse_home_return(n: &str) -> Result<Series, DocumentNumberError> {
    const KIND: DocumentKind = DocumentKind::HomeReturnPermit;
    if !n.is_ascii() || !(n.len() == 9 || n.len() == 11) {
        return Err(length_error(KIND, "doc.length.home-return", n));
    }
    let b = n.as_bytes();
    let region = match b[0] {
        b'H' => HomeRegion::HongKong,
        b'M' => HomeRegion::Macao,
        _ => {
            return Err(DocumentNumberError::WrongPrefix { kind: KIND, expected: "H/M" });
        }
    };
    if b[1] == b'A' {
        if n.len() != 9 {
            return Err(length_error(KIND, "doc.length.home-return-non-citizen", n));
        }
        return digits(n, 2..9).map(|_| Series::HomeReturnNonCitizen { region });
    }
    digits(n, 1..n.len())?;
    let renewal_count = (n.len() == 11).then(|| n[9..].parse().unwrap_or(0));
    Ok(Series::HomeReturn { region, renewal_count })
}

#[cfg(test)]
mod tests {
    use super::*;
    use DocumentKind::*;

    fn ok(kind: DocumentKind, s: &str) -> Series {
        DocumentNumber::parse(kind, s).unwrap_or_else(|e| panic!("{kind} {s}: {e}")).series()
    }

    fn err(kind: DocumentKind, s: &str) -> DocumentNumberError {
        DocumentNumber::parse(kind, s).expect_err(s)
    }

    #[test]
    fn passports() {
        assert_eq!(ok(Passport, "G12345678"), Series::PassportG);
        assert_eq!(ok(Passport, "E12345678"), Series::PassportE);
        assert_eq!(ok(Passport, "EA1234567"), Series::PassportELetter);
        assert_eq!(ok(Passport, "ea1234567"), Series::PassportELetter);
        assert_eq!(err(Passport, "EI1234567"), DocumentNumberError::ForbiddenSeriesLetter);
        assert_eq!(err(Passport, "EO1234567"), DocumentNumberError::ForbiddenSeriesLetter);
        assert!(matches!(err(Passport, "E1234567"), DocumentNumberError::WrongLength { found: 8, .. }));
        assert!(matches!(err(Passport, "C12345678"), DocumentNumberError::WrongPrefix { .. }));
        assert_eq!(err(Passport, "EA123456X"), DocumentNumberError::NotADigit(9));
        assert_eq!(err(Passport, "GA1234567"), DocumentNumberError::NotADigit(2));
        assert!(matches!(err(Passport, "Ｅ1234567"), DocumentNumberError::WrongLength { found: 8, .. }));
    }

    /// Full-width letters and digits (a Chinese input method) are read as ASCII; any other
    /// character is named where it is (counted, "é" made "9 expected, 9 found").
    #[test]
    fn characters_other_than_letters_and_digits() {
        assert_eq!(ok(Passport, "E1234567８"), Series::PassportE);
        assert_eq!(ok(Passport, "ｅａ１２３４５６７"), Series::PassportELetter);
        assert_eq!(ok(TaiwanPermit, "Ｌ12345678"), Series::TaiwanL);
        let cases = [
            (Passport, "ééééééééé", 1),
            (Passport, "E1234567é", 9),
            // Where it was typed, the spaces counted.
            (Passport, "E 1234567é", 10),
            (HkMacaoPermit, "C1234-5678", 6),
            (TaiwanResidentPermit, "1234567８。", 9),
        ];
        for (kind, input, at) in cases {
            assert_eq!(err(kind, input), DocumentNumberError::BadCharacter(at), "{input}");
        }
        // A letter where a digit goes is placed where it was typed too.
        assert_eq!(err(Passport, "E 12345X7 8"), DocumentNumberError::NotADigit(8));
        assert_eq!(err(Passport, "E12345X78"), DocumentNumberError::NotADigit(7));
    }

    #[test]
    fn hk_macao_permits() {
        assert_eq!(ok(HkMacaoPermit, "C12345678"), Series::HkMacaoC);
        assert_eq!(ok(HkMacaoPermit, "CA0000001"), Series::HkMacaoCLetter);
        assert_eq!(err(HkMacaoPermit, "CI0000001"), DocumentNumberError::ForbiddenSeriesLetter);
        assert!(matches!(err(HkMacaoPermit, "W12345678"), DocumentNumberError::WrongPrefix { .. }));
        assert!(matches!(err(HkMacaoPermit, "C1234567"), DocumentNumberError::WrongLength { .. }));
    }

    #[test]
    fn taiwan_permits_are_marked_unconfirmed() {
        let n = DocumentNumber::parse(TaiwanPermit, "L12345678").unwrap();
        assert!(n.format_unconfirmed());
        assert!(matches!(err(TaiwanPermit, "T12345678"), DocumentNumberError::WrongPrefix { .. }));
        assert!(!DocumentNumber::parse(Passport, "E12345678").unwrap().format_unconfirmed());
    }

    #[test]
    fn taiwan_resident_permits() {
        assert_eq!(ok(TaiwanResidentPermit, "12345678"), Series::TaiwanResidentLifelong);
        assert_eq!(ok(TaiwanResidentPermit, "1234567802"), Series::TaiwanResidentLegacyBooklet { issue_count: 2 });
        let legacy = DocumentNumber::parse(TaiwanResidentPermit, "1234567802").unwrap();
        assert_eq!(legacy.lifelong_part(), "12345678");
        assert!(matches!(err(TaiwanResidentPermit, "123456789"), DocumentNumberError::WrongLength { .. }));
        assert_eq!(err(TaiwanResidentPermit, "1234567A"), DocumentNumberError::NotADigit(8));
    }

    #[test]
    fn home_return_permits() {
        assert_eq!(
            ok(HomeReturnPermit, "H1234567801"),
            Series::HomeReturn { region: HomeRegion::HongKong, renewal_count: Some(1) }
        );
        assert_eq!(
            ok(HomeReturnPermit, "M12345678"),
            Series::HomeReturn { region: HomeRegion::Macao, renewal_count: None }
        );
        assert_eq!(ok(HomeReturnPermit, "HA1234567"), Series::HomeReturnNonCitizen { region: HomeRegion::HongKong });
        let n = DocumentNumber::parse(HomeReturnPermit, "H1234567803").unwrap();
        assert_eq!(n.lifelong_part(), "H12345678");
        assert!(matches!(err(HomeReturnPermit, "HA123456701"), DocumentNumberError::WrongLength { .. }));
        assert!(matches!(err(HomeReturnPermit, "K12345678"), DocumentNumberError::WrongPrefix { .. }));
        assert!(matches!(err(HomeReturnPermit, "H123456"), DocumentNumberError::WrongLength { .. }));
    }

    #[test]
    fn kinds_parse_from_their_codes() {
        for kind in DocumentKind::ALL {
            assert_eq!(kind.code().parse::<DocumentKind>().unwrap(), kind);
        }
        assert_eq!("visa".parse::<DocumentKind>(), Err(UnknownDocumentKind("visa".into())));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,14}", k in 0usize..5) {
            let _ = DocumentNumber::parse(DocumentKind::ALL[k], &s);
        }
    }
}
