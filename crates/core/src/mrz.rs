//! ICAO 9303 machine-readable zones: check digits, TD3 (passport, 2 × 44) and TD1 (card,
//! 3 × 30), plus the single 30-character line of the 往来港澳通行证 e-card.
//!
//! The 往来港澳通行证 layout comes from one open-source reader (DOMAIN.md §4.4, [P]); it
//! lives behind [`parse_hk_macao_permit_line`] and is reported as unconfirmed so that
//! nothing else depends on it by accident.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::date::{YearRole, parse_mrz_date};
use crate::document::{DocumentKind, DocumentNumber};
use crate::id_number::Sex;
use crate::text::{Localize, Message};

/// The layouts doorstep reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MrzFormat {
    /// ICAO TD3, two lines of 44: passports.
    Td3,
    /// ICAO TD1, three lines of 30: identity cards.
    Td1,
    /// 往来港澳通行证 e-card, one line of 30 starting `CS` (or `CD`) [P].
    HkMacaoPermitLine,
}

/// A field covered by a check digit, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MrzField {
    DocumentNumber,
    BirthDate,
    ExpiryDate,
    PersonalNumber,
    Composite,
}

impl MrzField {
    /// The locale key of the field's name.
    pub fn key(self) -> &'static str {
        match self {
            MrzField::DocumentNumber => "mrz.field.document-number",
            MrzField::BirthDate => "mrz.field.birth-date",
            MrzField::ExpiryDate => "mrz.field.expiry-date",
            MrzField::PersonalNumber => "mrz.field.personal-number",
            MrzField::Composite => "mrz.field.composite",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MrzError {
    /// The lines' lengths fit no layout.
    UnknownShape {
        lengths: Vec<usize>,
    },
    InvalidCharacter {
        line: usize,
        position: usize,
    },
    CheckDigit {
        field: MrzField,
        expected: char,
        found: char,
    },
    InvalidDate {
        field: MrzField,
    },
    WrongDocumentCode {
        line: usize,
        expected: &'static str,
    },
    InvalidSex,
    /// The 往来港澳通行证 line does not hold a C-series card number at 3–11.
    NotAPermitNumber,
}

impl Localize for MrzError {
    fn message(&self) -> Message {
        match self {
            MrzError::UnknownShape { lengths } => Message::new("error.mrz.unknown-shape")
                .with("lines", lengths.len())
                .with("lengths", lengths.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")),
            MrzError::InvalidCharacter { line, position } => {
                Message::new("error.mrz.invalid-character").with("line", *line).with("position", *position)
            }
            MrzError::CheckDigit { field, expected, found } => Message::new("error.mrz.check-digit")
                .with_key("field", field.key())
                .with("expected", *expected)
                .with("found", *found),
            MrzError::InvalidDate { field } => Message::new("error.mrz.invalid-date").with_key("field", field.key()),
            MrzError::WrongDocumentCode { line, expected } => {
                Message::new("error.mrz.wrong-document-code").with("line", *line).with("expected", *expected)
            }
            MrzError::InvalidSex => Message::new("error.mrz.invalid-sex"),
            MrzError::NotAPermitNumber => Message::new("error.mrz.not-a-permit-number"),
        }
    }
}

crate::localized_error!(MrzError);

/// What a valid MRZ says. `Debug` hides personal fields.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct MrzRecord {
    pub format: MrzFormat,
    /// `P<`, `PO`, `I<`, `CS`…
    pub document_code: String,
    /// Issuing state (ICAO three-letter code); `CHN` for the 港澳通行证 line.
    pub issuing_state: String,
    pub document_number: String,
    pub nationality: Option<String>,
    pub birth_date: Date,
    pub sex: Option<Sex>,
    pub expiry_date: Date,
    /// Surname(s) as written in the MRZ, fillers turned into spaces.
    pub primary_name: Option<String>,
    /// Given names.
    pub secondary_name: Option<String>,
    /// Optional data (TD3 personal number, TD1 optional fields), kept opaque.
    pub optional_data: Option<String>,
    /// True when the layout rests on an unconfirmed source.
    pub layout_unconfirmed: bool,
}

impl std::fmt::Debug for MrzRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MrzRecord({:?}, <redacted>)", self.format)
    }
}

impl MrzRecord {
    pub fn is_expired(&self, today: Date) -> bool {
        self.expiry_date < today
    }
}

/// The value of an MRZ character, or `None` when it may not appear in an MRZ.
fn char_value(b: u8) -> Option<u32> {
    match b {
        b'0'..=b'9' => Some(u32::from(b - b'0')),
        b'A'..=b'Z' => Some(u32::from(b - b'A') + 10),
        b'<' => Some(0),
        _ => None,
    }
}

/// The ICAO 9303 check digit of `field` (weights 7, 3, 1). `None` if a character is invalid.
pub fn check_digit(field: &str) -> Option<char> {
    let mut sum = 0u32;
    for (i, b) in field.bytes().enumerate() {
        sum += char_value(b)? * [7, 3, 1][i % 3];
    }
    char::from_digit(sum % 10, 10)
}

/// Parses an MRZ given as its lines, choosing the layout from their number and lengths.
///
/// A single argument holding several lines separated by newlines is also accepted.
pub fn parse(lines: &[&str], today: Date) -> Result<MrzRecord, MrzError> {
    let lines: Vec<String> = lines
        .iter()
        .flat_map(|l| l.split(['\n', '\r']))
        .map(|l| l.trim().to_ascii_uppercase())
        .filter(|l| !l.is_empty())
        .collect();
    for (i, line) in lines.iter().enumerate() {
        if let Some(pos) = line.bytes().position(|b| char_value(b).is_none()) {
            return Err(MrzError::InvalidCharacter { line: i + 1, position: pos + 1 });
        }
    }
    let lens: Vec<usize> = lines.iter().map(String::len).collect();
    match lens.as_slice() {
        [44, 44] => parse_td3(&lines[0], &lines[1], today),
        [30, 30, 30] => parse_td1(&lines[0], &lines[1], &lines[2], today),
        [30] => parse_hk_macao_permit_line(&lines[0], today),
        _ => Err(MrzError::UnknownShape { lengths: lens }),
    }
}

/// Characters `from..=to` (1-based, as ICAO numbers positions).
fn pos(line: &str, from: usize, to: usize) -> &str {
    &line[from - 1..to]
}

fn at(line: &str, p: usize) -> char {
    line.as_bytes()[p - 1] as char
}

fn verify(field: MrzField, data: &str, found: char) -> Result<(), MrzError> {
    // Every character was checked on entry, so the digit always exists.
    let expected = check_digit(data).unwrap_or('?');
    // A field made only of fillers may carry `<` as its check digit.
    let filler_ok = found == '<' && data.bytes().all(|b| b == b'<');
    if expected == found || filler_ok { Ok(()) } else { Err(MrzError::CheckDigit { field, expected, found }) }
}

fn date(field: MrzField, s: &str, role: YearRole, today: Date) -> Result<Date, MrzError> {
    parse_mrz_date(s, role, today).ok_or(MrzError::InvalidDate { field })
}

fn sex(c: char) -> Result<Option<Sex>, MrzError> {
    match c {
        'M' => Ok(Some(Sex::Male)),
        'F' => Ok(Some(Sex::Female)),
        '<' => Ok(None),
        _ => Err(MrzError::InvalidSex),
    }
}

fn text(s: &str) -> String {
    s.trim_end_matches('<').replace('<', " ")
}

fn optional(s: &str) -> Option<String> {
    let t = s.trim_end_matches('<');
    (!t.is_empty()).then(|| t.to_string())
}

fn names(field: &str) -> (Option<String>, Option<String>) {
    let field = field.trim_end_matches('<');
    match field.split_once("<<") {
        Some((primary, secondary)) => (optional(&text(primary)), optional(&text(secondary))),
        None => (optional(&text(field)), None),
    }
}

fn parse_td3(l1: &str, l2: &str, today: Date) -> Result<MrzRecord, MrzError> {
    if !l1.starts_with('P') {
        return Err(MrzError::WrongDocumentCode { line: 1, expected: "P" });
    }
    verify(MrzField::DocumentNumber, pos(l2, 1, 9), at(l2, 10))?;
    verify(MrzField::BirthDate, pos(l2, 14, 19), at(l2, 20))?;
    verify(MrzField::ExpiryDate, pos(l2, 22, 27), at(l2, 28))?;
    verify(MrzField::PersonalNumber, pos(l2, 29, 42), at(l2, 43))?;
    let composite = format!("{}{}{}", pos(l2, 1, 10), pos(l2, 14, 20), pos(l2, 22, 43));
    verify(MrzField::Composite, &composite, at(l2, 44))?;
    let (primary_name, secondary_name) = names(pos(l1, 6, 44));
    Ok(MrzRecord {
        format: MrzFormat::Td3,
        document_code: pos(l1, 1, 2).to_string(),
        issuing_state: text(pos(l1, 3, 5)),
        document_number: text(pos(l2, 1, 9)),
        nationality: Some(text(pos(l2, 11, 13))),
        birth_date: date(MrzField::BirthDate, pos(l2, 14, 19), YearRole::Birth, today)?,
        sex: sex(at(l2, 21))?,
        expiry_date: date(MrzField::ExpiryDate, pos(l2, 22, 27), YearRole::Expiry, today)?,
        primary_name,
        secondary_name,
        optional_data: optional(pos(l2, 29, 42)),
        layout_unconfirmed: false,
    })
}

fn parse_td1(l1: &str, l2: &str, l3: &str, today: Date) -> Result<MrzRecord, MrzError> {
    if !matches!(at(l1, 1), 'I' | 'A' | 'C') {
        return Err(MrzError::WrongDocumentCode { line: 1, expected: "I/A/C" });
    }
    verify(MrzField::DocumentNumber, pos(l1, 6, 14), at(l1, 15))?;
    verify(MrzField::BirthDate, pos(l2, 1, 6), at(l2, 7))?;
    verify(MrzField::ExpiryDate, pos(l2, 9, 14), at(l2, 15))?;
    let composite = format!("{}{}{}{}", pos(l1, 6, 30), pos(l2, 1, 7), pos(l2, 9, 15), pos(l2, 19, 29));
    verify(MrzField::Composite, &composite, at(l2, 30))?;
    let (primary_name, secondary_name) = names(l3);
    let optional_data = match (optional(pos(l1, 16, 30)), optional(pos(l2, 19, 29))) {
        (None, None) => None,
        (a, b) => Some(format!("{}|{}", a.unwrap_or_default(), b.unwrap_or_default())),
    };
    Ok(MrzRecord {
        format: MrzFormat::Td1,
        document_code: pos(l1, 1, 2).to_string(),
        issuing_state: text(pos(l1, 3, 5)),
        document_number: text(pos(l1, 6, 14)),
        nationality: Some(text(pos(l2, 16, 18))),
        birth_date: date(MrzField::BirthDate, pos(l2, 1, 6), YearRole::Birth, today)?,
        sex: sex(at(l2, 8))?,
        expiry_date: date(MrzField::ExpiryDate, pos(l2, 9, 14), YearRole::Expiry, today)?,
        primary_name,
        secondary_name,
        optional_data,
        layout_unconfirmed: false,
    })
}

/// The single-line MRZ of the 2014 往来港澳通行证 e-card, as one open-source reader parses
/// it (DOMAIN.md §4.4, [P]). Expiry comes before the birth date. Unconfirmed against a real
/// card: the result is flagged with `layout_unconfirmed`.
pub fn parse_hk_macao_permit_line(line: &str, today: Date) -> Result<MrzRecord, MrzError> {
    if line.len() != 30 || !line.is_ascii() {
        return Err(MrzError::UnknownShape { lengths: vec![line.len()] });
    }
    if !(line.starts_with("CS") || line.starts_with("CD")) {
        return Err(MrzError::WrongDocumentCode { line: 1, expected: "CS/CD" });
    }
    verify(MrzField::DocumentNumber, pos(line, 3, 11), at(line, 12))?;
    verify(MrzField::ExpiryDate, pos(line, 14, 19), at(line, 20))?;
    verify(MrzField::BirthDate, pos(line, 22, 27), at(line, 28))?;
    let composite = format!("{}{}{}", pos(line, 3, 12), pos(line, 14, 20), pos(line, 22, 28));
    verify(MrzField::Composite, &composite, at(line, 30))?;
    let number = pos(line, 3, 11);
    // The number must also have the form of a 港澳通行证 number (C + 8 digits, or C + letter + 7).
    if DocumentNumber::parse(DocumentKind::HkMacaoPermit, number).is_err() {
        return Err(MrzError::NotAPermitNumber);
    }
    Ok(MrzRecord {
        format: MrzFormat::HkMacaoPermitLine,
        document_code: pos(line, 1, 2).to_string(),
        issuing_state: "CHN".to_string(),
        document_number: number.to_string(),
        nationality: None,
        birth_date: date(MrzField::BirthDate, pos(line, 22, 27), YearRole::Birth, today)?,
        sex: None,
        expiry_date: date(MrzField::ExpiryDate, pos(line, 14, 19), YearRole::Expiry, today)?,
        primary_name: None,
        secondary_name: None,
        optional_data: None,
        layout_unconfirmed: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 26);
    const TD3: [&str; 2] =
        ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"];
    const TD1: [&str; 3] =
        ["I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"];

    #[test]
    fn icao_check_digit_vectors() {
        assert_eq!(check_digit("520727"), Some('3'));
        assert_eq!(check_digit("AB2134<<<"), Some('5'));
        assert_eq!(check_digit("HA672242<658022549601086<<<<<<<<<<<<<<0"), Some('8'));
        assert_eq!(check_digit("L898902C3"), Some('6'));
        assert_eq!(check_digit("ab"), None);
    }

    #[test]
    fn td3_specimen() {
        let r = parse(&TD3, TODAY).unwrap();
        assert_eq!(r.format, MrzFormat::Td3);
        assert_eq!(r.document_code, "P<");
        assert_eq!(r.issuing_state, "UTO");
        assert_eq!(r.document_number, "L898902C3");
        assert_eq!(r.nationality.as_deref(), Some("UTO"));
        assert_eq!(r.birth_date, date!(1974 - 08 - 12));
        assert_eq!(r.sex, Some(Sex::Female));
        assert_eq!(r.expiry_date, date!(2012 - 04 - 15));
        assert!(r.is_expired(TODAY));
        assert_eq!(r.primary_name.as_deref(), Some("ERIKSSON"));
        assert_eq!(r.secondary_name.as_deref(), Some("ANNA MARIA"));
        assert_eq!(r.optional_data.as_deref(), Some("ZE184226B"));
    }

    #[test]
    fn td1_specimen() {
        let r = parse(&TD1, TODAY).unwrap();
        assert_eq!(r.format, MrzFormat::Td1);
        assert_eq!(r.document_number, "D23145890");
        assert_eq!(r.birth_date, date!(1974 - 08 - 12));
        assert_eq!(r.expiry_date, date!(2012 - 04 - 15));
        assert_eq!(r.sex, Some(Sex::Female));
        assert_eq!(r.primary_name.as_deref(), Some("ERIKSSON"));
        assert_eq!(r.secondary_name.as_deref(), Some("ANNA MARIA"));
    }

    #[test]
    fn lines_in_one_argument_and_lower_case_are_accepted() {
        let joined = format!("{}\n{}\n", TD3[0], TD3[1].to_ascii_lowercase());
        assert!(parse(&[joined.as_str()], TODAY).is_ok());
    }

    /// Replaces the character at 1-based `p` of `line`.
    fn with(line: &str, p: usize, c: char) -> String {
        let mut s = line.to_string();
        s.replace_range(p - 1..p, &c.to_string());
        s
    }

    #[test]
    fn each_td3_check_digit_is_enforced() {
        let cases = [
            (10, MrzField::DocumentNumber, '6'),
            (20, MrzField::BirthDate, '2'),
            (28, MrzField::ExpiryDate, '9'),
            (43, MrzField::PersonalNumber, '1'),
            (44, MrzField::Composite, '0'),
        ];
        for (p, field, expected) in cases {
            let bad = with(TD3[1], p, '5');
            assert_eq!(parse(&[TD3[0], &bad], TODAY), Err(MrzError::CheckDigit { field, expected, found: '5' }));
        }
        // A changed data character breaks its own check digit.
        let bad = with(TD3[1], 15, '5');
        assert!(matches!(parse(&[TD3[0], &bad], TODAY), Err(MrzError::CheckDigit { field: MrzField::BirthDate, .. })));
    }

    #[test]
    fn td1_composite_is_enforced() {
        let bad = with(TD1[1], 30, '1');
        assert_eq!(
            parse(&[TD1[0], &bad, TD1[2]], TODAY),
            Err(MrzError::CheckDigit { field: MrzField::Composite, expected: '6', found: '1' })
        );
        // The optional fields of line 1 count toward the composite.
        let bad = with(TD1[0], 20, '1');
        assert!(matches!(
            parse(&[&bad, TD1[1], TD1[2]], TODAY),
            Err(MrzError::CheckDigit { field: MrzField::Composite, .. })
        ));
    }

    #[test]
    fn shape_and_character_errors() {
        assert!(matches!(parse(&[TD3[0]], TODAY), Err(MrzError::UnknownShape { .. })));
        assert!(matches!(parse(&[], TODAY), Err(MrzError::UnknownShape { .. })));
        let bad = with(TD3[1], 3, '*');
        assert_eq!(parse(&[TD3[0], &bad], TODAY), Err(MrzError::InvalidCharacter { line: 2, position: 3 }));
        let not_p = with(TD3[0], 1, 'V');
        assert!(matches!(parse(&[&not_p, TD3[1]], TODAY), Err(MrzError::WrongDocumentCode { .. })));
    }

    /// Builds a 港澳通行证 line with correct check digits from its fields.
    fn hk_line(number: &str, expiry: &str, birth: &str) -> String {
        let n = format!("{number}{}", check_digit(number).unwrap());
        let e = format!("{expiry}{}", check_digit(expiry).unwrap());
        let b = format!("{birth}{}", check_digit(birth).unwrap());
        let composite = check_digit(&format!("{n}{e}{b}")).unwrap();
        format!("CS{n}<{e}<{b}<{composite}")
    }

    #[test]
    fn hk_macao_permit_line() {
        let line = hk_line("C01234567", "340115", "800301");
        assert_eq!(line.len(), 30);
        let r = parse(&[line.as_str()], TODAY).unwrap();
        assert_eq!(r.format, MrzFormat::HkMacaoPermitLine);
        assert_eq!(r.document_number, "C01234567");
        assert_eq!(r.expiry_date, date!(2034 - 01 - 15));
        assert_eq!(r.birth_date, date!(1980 - 03 - 01));
        assert!(r.layout_unconfirmed);
        assert!(!r.is_expired(TODAY));

        let swapped = with(&line, 30, if line.ends_with('0') { '1' } else { '0' });
        assert!(matches!(
            parse(&[swapped.as_str()], TODAY),
            Err(MrzError::CheckDigit { field: MrzField::Composite, .. })
        ));
        let not_c = hk_line("E01234567", "340115", "800301");
        assert_eq!(parse(&[not_c.as_str()], TODAY), Err(MrzError::NotAPermitNumber));
    }

    #[test]
    fn impossible_dates_are_refused_even_with_good_check_digits() {
        let birth = "741312";
        let mut l2 = TD3[1].to_string();
        l2.replace_range(13..19, birth);
        l2.replace_range(19..20, &check_digit(birth).unwrap().to_string());
        let composite = format!("{}{}{}", &l2[0..10], &l2[13..20], &l2[21..43]);
        l2.replace_range(43..44, &check_digit(&composite).unwrap().to_string());
        assert_eq!(parse(&[TD3[0], &l2], TODAY), Err(MrzError::InvalidDate { field: MrzField::BirthDate }));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(a in "[A-Z0-9<]{0,50}", b in "[A-Z0-9<]{0,50}", c in "\\PC{0,44}") {
            let _ = parse(&[&a, &b], TODAY);
            let _ = parse(&[&a], TODAY);
            let _ = parse(&[&c, &a, &b], TODAY);
        }
    }
}
