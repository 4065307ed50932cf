//! Phone numbers for contact details: mobiles and landlines.
//!
//! Mainland mobiles are 11 digits starting 13–19. Many elderly applicants have only a
//! landline: a mainland landline is an area code (010 and 020–029 with 8-digit numbers, the
//! other three-digit codes with 7 or 8 digits) and a subscriber number that starts 2–9.
//! Taiwan residents often give a Taiwan mobile (09 + 8 digits, +886) or landline (+886, area
//! 2–8); Hong Kong and Macao numbers (8 digits, +852/+853) are accepted too.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::text::{Localize, Message};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PhoneRegion {
    Mainland,
    HongKong,
    Macao,
    Taiwan,
}

impl PhoneRegion {
    fn country_code(self) -> &'static str {
        match self {
            PhoneRegion::Mainland => "86",
            PhoneRegion::HongKong => "852",
            PhoneRegion::Macao => "853",
            PhoneRegion::Taiwan => "886",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneError {
    Empty,
    InvalidCharacter,
    /// A mobile was asked for and this is not one.
    NotMobile,
    /// Neither a mobile nor a landline of the region.
    NotAPhoneNumber,
    /// A mainland landline given without its area code.
    AreaCodeMissing,
    UnsupportedCountry,
}

impl Localize for PhoneError {
    fn message(&self) -> Message {
        Message::new(match self {
            PhoneError::Empty => "error.phone.empty",
            PhoneError::InvalidCharacter => "error.phone.invalid-character",
            PhoneError::NotMobile => "error.phone.not-mobile",
            PhoneError::NotAPhoneNumber => "error.phone.not-a-phone-number",
            PhoneError::AreaCodeMissing => "error.phone.area-code-missing",
            PhoneError::UnsupportedCountry => "error.phone.unsupported-country",
        })
    }
}

crate::localized_error!(PhoneError);

/// Mobile or fixed line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LineKind {
    Mobile,
    Landline,
}

/// A phone number in international form. `Debug` shows only region and kind. Read from
/// outside (an appointment from the hub, a draft), it is checked as if typed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "StoredPhone")]
pub struct PhoneNumber {
    region: PhoneRegion,
    kind: LineKind,
    /// National significant number, digits only (no trunk 0).
    national: String,
    /// Digits of the area code within `national` (landlines), for display.
    area_len: u8,
}

/// A phone number as stored, before it is checked.
#[derive(Deserialize)]
struct StoredPhone {
    region: PhoneRegion,
    kind: LineKind,
    national: String,
    area_len: u8,
}

impl TryFrom<StoredPhone> for PhoneNumber {
    type Error = PhoneError;
    /// The stored number parsed again from its international form: the same number, or refused.
    fn try_from(s: StoredPhone) -> Result<PhoneNumber, PhoneError> {
        if !s.national.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PhoneError::InvalidCharacter);
        }
        let parsed = PhoneNumber::parse(&format!("+{}{}", s.region.country_code(), s.national))?;
        let same = parsed.region == s.region && parsed.kind == s.kind && parsed.area_len == s.area_len;
        if same { Ok(parsed) } else { Err(PhoneError::NotAPhoneNumber) }
    }
}

/// A phone number that must be a mobile (an SMS can reach it).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PhoneNumber", into = "PhoneNumber")]
pub struct MobileNumber(PhoneNumber);

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({:?}, {:?}, <redacted>)", self.region, self.kind)
    }
}

impl fmt::Debug for MobileNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MobileNumber({:?}, <redacted>)", self.0.region)
    }
}

impl TryFrom<PhoneNumber> for MobileNumber {
    type Error = PhoneError;
    fn try_from(value: PhoneNumber) -> Result<Self, Self::Error> {
        if value.kind == LineKind::Mobile { Ok(MobileNumber(value)) } else { Err(PhoneError::NotMobile) }
    }
}

impl From<MobileNumber> for PhoneNumber {
    fn from(value: MobileNumber) -> PhoneNumber {
        value.0
    }
}

/// Mainland area codes with two digits after the trunk 0 (Beijing 010, 020–029).
fn mainland_two_digit_area(d: &[u8]) -> bool {
    d.len() >= 2 && (d[..2] == *b"10" || d[0] == b'2')
}

impl PhoneNumber {
    pub fn parse(input: &str) -> Result<PhoneNumber, PhoneError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(PhoneError::Empty);
        }
        let plus = trimmed.starts_with('+');
        let mut digits = String::new();
        for (i, c) in trimmed.chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '(' | ')' => {}
                '+' if i == 0 => {}
                _ => return Err(PhoneError::InvalidCharacter),
            }
        }
        let international = if plus { Some(digits.as_str()) } else { digits.strip_prefix("00") };
        let (region, national, trunk) = match international {
            Some(rest) => {
                let region = [PhoneRegion::HongKong, PhoneRegion::Macao, PhoneRegion::Taiwan, PhoneRegion::Mainland]
                    .into_iter()
                    .find(|r| rest.starts_with(r.country_code()))
                    .ok_or(PhoneError::UnsupportedCountry)?;
                // A trunk 0 written after the country code is dropped, as dialling would.
                let n = rest[region.country_code().len()..].trim_start_matches('0');
                (region, n.to_string(), true)
            }
            None if digits.len() == 10 && digits.starts_with("09") => {
                (PhoneRegion::Taiwan, digits[1..].to_string(), true)
            }
            None => match digits.strip_prefix('0') {
                Some(n) => (PhoneRegion::Mainland, n.to_string(), true),
                None => (PhoneRegion::Mainland, digits.clone(), false),
            },
        };
        let b = national.as_bytes();
        let landline = |area_len: usize| PhoneNumber {
            region,
            kind: LineKind::Landline,
            national: national.clone(),
            area_len: area_len as u8,
        };
        let mobile = || PhoneNumber { region, kind: LineKind::Mobile, national: national.clone(), area_len: 0 };
        match region {
            PhoneRegion::Mainland => {
                if b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) {
                    return Ok(mobile());
                }
                if !trunk {
                    // 7 or 8 digits alone: a landline without its area code.
                    return Err(if matches!(b.len(), 7 | 8) && b[0] >= b'2' {
                        PhoneError::AreaCodeMissing
                    } else {
                        PhoneError::NotAPhoneNumber
                    });
                }
                let area = if mainland_two_digit_area(b) { 2 } else { 3 };
                let subscriber = b.get(area..).unwrap_or_default();
                let sub_len_ok = if area == 2 { subscriber.len() == 8 } else { matches!(subscriber.len(), 7 | 8) };
                let area_ok = b.first().is_some_and(|&d| d != b'0' && d != b'1') || area == 2;
                if sub_len_ok && area_ok && subscriber.first().is_some_and(|&d| d >= b'2') {
                    Ok(landline(area))
                } else {
                    Err(PhoneError::NotAPhoneNumber)
                }
            }
            PhoneRegion::HongKong => match (b.len(), b.first()) {
                (8, Some(b'4'..=b'7' | b'9')) => Ok(mobile()),
                (8, Some(b'2' | b'3')) => Ok(landline(0)),
                _ => Err(PhoneError::NotAPhoneNumber),
            },
            PhoneRegion::Macao => match (b.len(), b.first(), b.get(1)) {
                (8, Some(b'6'), _) => Ok(mobile()),
                (8, Some(b'2'), Some(b'8')) => Ok(landline(0)),
                _ => Err(PhoneError::NotAPhoneNumber),
            },
            PhoneRegion::Taiwan => match (b.len(), b.first()) {
                (9, Some(b'9')) => Ok(mobile()),
                (8 | 9, Some(b'2'..=b'8')) => Ok(landline(if b[0] == b'8' && b.len() == 8 { 2 } else { 1 })),
                _ => Err(PhoneError::NotAPhoneNumber),
            },
        }
    }

    pub fn region(&self) -> PhoneRegion {
        self.region
    }

    pub fn kind(&self) -> LineKind {
        self.kind
    }

    /// E.164 form, e.g. `+8613800138000` or `+861065123456`.
    pub fn e164(&self) -> String {
        format!("+{}{}", self.region.country_code(), self.national)
    }

    /// As people write it at home, for a person to check: a mainland mobile in groups
    /// (`138 0013 8000`), a mainland landline with its trunk 0 and area code (`010-6512 3456`),
    /// another region's number after its country code (`+852 6123 4567`). It parses back to
    /// the same number.
    pub fn display(&self) -> String {
        let n = self.national.as_str();
        // Groups of four from the end, the rest in front.
        let grouped = |d: &str| {
            let head = d.len() % 4;
            let mut out = d[..head].to_string();
            for (i, chunk) in d.as_bytes()[head..].chunks(4).enumerate() {
                if i > 0 || head > 0 {
                    out.push(' ');
                }
                out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
            }
            out
        };
        match (self.region, self.kind) {
            (PhoneRegion::Mainland, LineKind::Mobile) => grouped(n),
            (PhoneRegion::Mainland, LineKind::Landline) => {
                let (area, rest) = n.split_at(usize::from(self.area_len).min(n.len()));
                format!("0{area}-{}", grouped(rest))
            }
            // A Taiwan mobile in threes, as it is written there (0912 345 678).
            (PhoneRegion::Taiwan, LineKind::Mobile) => {
                let (a, rest) = n.split_at(3.min(n.len()));
                let (b, c) = rest.split_at(3.min(rest.len()));
                format!("+886 {a} {b} {c}")
            }
            (region, _) => {
                let (area, rest) = n.split_at(usize::from(self.area_len).min(n.len()));
                let area = if area.is_empty() { String::new() } else { format!("{area} ") };
                format!("+{} {area}{}", region.country_code(), grouped(rest))
            }
        }
    }

    /// For receipts: the last four digits only.
    pub fn masked(&self) -> String {
        let n = &self.national;
        format!("{}{}", "*".repeat(n.len().saturating_sub(4)), &n[n.len().saturating_sub(4)..])
    }
}

impl MobileNumber {
    pub fn parse(input: &str) -> Result<MobileNumber, PhoneError> {
        match PhoneNumber::parse(input) {
            Ok(p) => MobileNumber::try_from(p),
            Err(PhoneError::NotAPhoneNumber | PhoneError::AreaCodeMissing) => Err(PhoneError::NotMobile),
            Err(e) => Err(e),
        }
    }

    pub fn region(&self) -> PhoneRegion {
        self.0.region
    }

    pub fn e164(&self) -> String {
        self.0.e164()
    }

    pub fn masked(&self) -> String {
        self.0.masked()
    }

    pub fn as_phone(&self) -> &PhoneNumber {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mainland_numbers_in_their_usual_spellings() {
        for s in ["13800138000", "138-0013-8000", "+86 138 0013 8000", "008613800138000", "19912345678"] {
            let n = MobileNumber::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(n.region(), PhoneRegion::Mainland);
        }
        assert_eq!(MobileNumber::parse("13800138000").unwrap().e164(), "+8613800138000");
        assert_eq!(MobileNumber::parse("13800138000").unwrap().masked(), "*******8000");
    }

    #[test]
    fn other_regions() {
        assert_eq!(MobileNumber::parse("+852 6123 4567").unwrap().region(), PhoneRegion::HongKong);
        assert_eq!(MobileNumber::parse("+853 6612 3456").unwrap().region(), PhoneRegion::Macao);
        let tw = MobileNumber::parse("0912 345 678").unwrap();
        assert_eq!(tw.region(), PhoneRegion::Taiwan);
        assert_eq!(tw.e164(), "+886912345678");
        assert_eq!(MobileNumber::parse("+886 0912345678").unwrap().e164(), "+886912345678");
    }

    #[test]
    fn landlines_table() {
        // (input, region, E.164), all landlines.
        let cases = [
            ("010-65123456", PhoneRegion::Mainland, "+861065123456"),
            ("(010) 6512 3456", PhoneRegion::Mainland, "+861065123456"),
            ("021-5555 6666", PhoneRegion::Mainland, "+862155556666"),
            ("0755-88889999", PhoneRegion::Mainland, "+8675588889999"),
            ("0898-6123456", PhoneRegion::Mainland, "+868986123456"),
            ("+86 10 65123456", PhoneRegion::Mainland, "+861065123456"),
            ("+86 (0)755 88889999", PhoneRegion::Mainland, "+8675588889999"),
            ("+852 2123 4567", PhoneRegion::HongKong, "+85221234567"),
            ("+853 2812 3456", PhoneRegion::Macao, "+85328123456"),
            ("+886 2 2345 6789", PhoneRegion::Taiwan, "+886223456789"),
        ];
        for (input, region, e164) in cases {
            let p = PhoneNumber::parse(input).unwrap_or_else(|e| panic!("{input}: {e:?}"));
            assert_eq!((p.region(), p.kind(), p.e164().as_str()), (region, LineKind::Landline, e164), "{input}");
            assert_eq!(MobileNumber::parse(input), Err(PhoneError::NotMobile), "{input}");
        }
    }

    #[test]
    fn shown_as_written_at_home_and_read_back_the_same() {
        for (typed, shown) in [
            ("+8613800138000", "138 0013 8000"),
            ("010-65123456", "010-6512 3456"),
            ("0755 8312 3456", "0755-8312 3456"),
            ("0871-6123456", "0871-612 3456"),
            ("+852 6123 4567", "+852 6123 4567"),
            ("+886 912 345 678", "+886 912 345 678"),
            ("+886 2 2345 6789", "+886 2 2345 6789"),
        ] {
            let p = PhoneNumber::parse(typed).unwrap_or_else(|e| panic!("{typed}: {e:?}"));
            assert_eq!(p.display(), shown, "{typed}");
            assert_eq!(PhoneNumber::parse(&p.display()), Ok(p), "{typed}");
        }
    }

    #[test]
    fn refusals() {
        let cases = [
            ("", PhoneError::Empty),
            ("1380013800", PhoneError::NotAPhoneNumber),
            ("12800138000", PhoneError::NotAPhoneNumber),
            ("62345678", PhoneError::AreaCodeMissing),
            ("12345678", PhoneError::NotAPhoneNumber),
            ("6512345", PhoneError::AreaCodeMissing),
            ("010-1234567", PhoneError::NotAPhoneNumber),
            ("010-02345678", PhoneError::NotAPhoneNumber),
            ("0755-123456", PhoneError::NotAPhoneNumber),
            ("400-123-4567", PhoneError::NotAPhoneNumber),
            ("138OO138000", PhoneError::InvalidCharacter),
            ("+44 7700 900123", PhoneError::UnsupportedCountry),
            ("+852 8123 4567", PhoneError::NotAPhoneNumber),
            ("1+3800138000", PhoneError::InvalidCharacter),
        ];
        for (input, want) in cases {
            assert_eq!(PhoneNumber::parse(input), Err(want.clone()), "{input}");
        }
        assert_eq!(MobileNumber::parse("010-65123456"), Err(PhoneError::NotMobile));
        assert_eq!(MobileNumber::parse("12800138000"), Err(PhoneError::NotMobile));
    }

    #[test]
    fn a_mobile_round_trips_through_serde_and_a_landline_is_not_a_mobile() {
        let m = MobileNumber::parse("13800138000").unwrap();
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<MobileNumber>(&json).unwrap(), m);
        let land = serde_json::to_string(&PhoneNumber::parse("010-65123456").unwrap()).unwrap();
        assert!(serde_json::from_str::<MobileNumber>(&land).is_err());
    }

    #[test]
    fn a_stored_number_is_checked_as_if_typed() {
        let good = PhoneNumber::parse("010-65123456").unwrap();
        let json = serde_json::to_string(&good).unwrap();
        assert_eq!(serde_json::from_str::<PhoneNumber>(&json).unwrap(), good);
        for (bad, why) in [
            // A full-width digit: would not split on a character boundary when shown.
            (
                r#"{"region":"mainland","kind":"mobile","national":"１3800138000","area_len":0}"#,
                PhoneError::InvalidCharacter,
            ),
            // An area code longer than the number.
            (
                r#"{"region":"mainland","kind":"landline","national":"1065123456","area_len":200}"#,
                PhoneError::NotAPhoneNumber,
            ),
            // A mobile stored as a landline, and a number of no region.
            (
                r#"{"region":"mainland","kind":"landline","national":"13800138000","area_len":0}"#,
                PhoneError::NotAPhoneNumber,
            ),
            (r#"{"region":"hong-kong","kind":"mobile","national":"123","area_len":0}"#, PhoneError::NotAPhoneNumber),
        ] {
            let e = serde_json::from_str::<PhoneNumber>(bad).expect_err(bad);
            assert!(e.to_string().starts_with(&why.to_string()), "{bad}: {e}");
        }
    }

    #[test]
    fn debug_is_redacted() {
        let p = PhoneNumber::parse("010-65123456").unwrap();
        assert!(!format!("{p:?}").contains("12345678"));
    }
}
