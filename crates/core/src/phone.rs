//! Mobile phone numbers for the applicant's contact details.
//!
//! Mainland numbers are 11 digits starting 13–19. Taiwan residents applying for a 台胞证
//! often give a Taiwan mobile (09 + 8 digits, +886), and Hong Kong or Macao numbers
//! (8 digits, +852/+853) are accepted for relatives' contacts.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PhoneRegion {
    Mainland,
    HongKong,
    Macao,
    Taiwan,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("the phone number is empty")]
    Empty,
    #[error("only digits, spaces, hyphens and a leading + may appear in a phone number")]
    InvalidCharacter,
    #[error("not a mobile number: a mainland mobile has 11 digits starting 13–19")]
    NotMobile,
    #[error("unsupported country code; mainland (+86), Hong Kong (+852), Macao (+853) or Taiwan (+886)")]
    UnsupportedCountry,
}

/// A mobile number in international form. `Debug` shows only the region.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MobileNumber {
    region: PhoneRegion,
    /// National significant number, digits only.
    national: String,
}

impl fmt::Debug for MobileNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MobileNumber({:?}, <redacted>)", self.region)
    }
}

impl MobileNumber {
    pub fn parse(input: &str) -> Result<MobileNumber, PhoneError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(PhoneError::Empty);
        }
        let plus = trimmed.starts_with('+');
        let mut digits = String::new();
        for (i, c) in trimmed.chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' => {}
                '+' if i == 0 => {}
                _ => return Err(PhoneError::InvalidCharacter),
            }
        }
        let international = if plus { Some(digits.as_str()) } else { digits.strip_prefix("00") };
        let (region, national) = match international {
            Some(rest) => {
                if let Some(n) = rest.strip_prefix("852") {
                    (PhoneRegion::HongKong, n.to_string())
                } else if let Some(n) = rest.strip_prefix("853") {
                    (PhoneRegion::Macao, n.to_string())
                } else if let Some(n) = rest.strip_prefix("886") {
                    (PhoneRegion::Taiwan, n.trim_start_matches('0').to_string())
                } else if let Some(n) = rest.strip_prefix("86") {
                    (PhoneRegion::Mainland, n.to_string())
                } else {
                    return Err(PhoneError::UnsupportedCountry);
                }
            }
            None if digits.len() == 10 && digits.starts_with("09") => (PhoneRegion::Taiwan, digits[1..].to_string()),
            None => (PhoneRegion::Mainland, digits),
        };
        let b = national.as_bytes();
        let ok = match region {
            PhoneRegion::Mainland => b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]),
            PhoneRegion::HongKong => b.len() == 8 && matches!(b[0], b'4'..=b'7' | b'9'),
            PhoneRegion::Macao => b.len() == 8 && b[0] == b'6',
            PhoneRegion::Taiwan => b.len() == 9 && b[0] == b'9',
        };
        if !ok {
            return Err(PhoneError::NotMobile);
        }
        Ok(MobileNumber { region, national })
    }

    pub fn region(&self) -> PhoneRegion {
        self.region
    }

    /// E.164 form, e.g. `+8613800138000`.
    pub fn e164(&self) -> String {
        let cc = match self.region {
            PhoneRegion::Mainland => "86",
            PhoneRegion::HongKong => "852",
            PhoneRegion::Macao => "853",
            PhoneRegion::Taiwan => "886",
        };
        format!("+{cc}{}", self.national)
    }

    /// For receipts: the last four digits only.
    pub fn masked(&self) -> String {
        let n = &self.national;
        format!("{}{}", "*".repeat(n.len().saturating_sub(4)), &n[n.len().saturating_sub(4)..])
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
    fn refusals() {
        assert_eq!(MobileNumber::parse(""), Err(PhoneError::Empty));
        assert_eq!(MobileNumber::parse("1380013800"), Err(PhoneError::NotMobile));
        assert_eq!(MobileNumber::parse("12800138000"), Err(PhoneError::NotMobile));
        assert_eq!(MobileNumber::parse("010-12345678"), Err(PhoneError::NotMobile));
        assert_eq!(MobileNumber::parse("138OO138000"), Err(PhoneError::InvalidCharacter));
        assert_eq!(MobileNumber::parse("+44 7700 900123"), Err(PhoneError::UnsupportedCountry));
        assert_eq!(MobileNumber::parse("+852 2123 4567"), Err(PhoneError::NotMobile));
        assert_eq!(MobileNumber::parse("1+3800138000"), Err(PhoneError::InvalidCharacter));
    }
}
