//! Amounts of money in fen (分), so sums are exact.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An amount in CNY, held in fen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Yuan {
    fen: u64,
}

impl Yuan {
    pub const ZERO: Yuan = Yuan { fen: 0 };

    pub fn from_fen(fen: u64) -> Yuan {
        Yuan { fen }
    }

    pub fn fen(self) -> u64 {
        self.fen
    }

    pub fn checked_add(self, other: Yuan) -> Option<Yuan> {
        self.fen.checked_add(other.fen).map(Yuan::from_fen)
    }
}

impl fmt::Display for Yuan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.fen / 100, self.fen % 100)
    }
}

impl FromStr for Yuan {
    type Err = String;

    /// Parses `120`, `120.5` or `120.50`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s:?} is not an amount in yuan (like 120 or 120.50)");
        let (whole, frac) = s.trim().split_once('.').unwrap_or((s.trim(), ""));
        if whole.is_empty() || frac.len() > 2 || !whole.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let whole: u64 = whole.parse().map_err(|_| bad())?;
        let frac: u64 = if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse().map_err(|_| bad())? };
        whole.checked_mul(100).and_then(|f| f.checked_add(frac)).map(Yuan::from_fen).ok_or_else(bad)
    }
}

impl TryFrom<String> for Yuan {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<Yuan> for String {
    fn from(value: Yuan) -> String {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        assert_eq!("120".parse::<Yuan>().unwrap().fen(), 12000);
        assert_eq!("120.5".parse::<Yuan>().unwrap().fen(), 12050);
        assert_eq!("0.05".parse::<Yuan>().unwrap().to_string(), "0.05");
        assert_eq!(Yuan::from_fen(24000).to_string(), "240.00");
        for bad in ["", "-1", "1.234", "1,0", "abc", ".5", "99999999999999999999"] {
            assert!(bad.parse::<Yuan>().is_err(), "{bad}");
        }
    }
}
