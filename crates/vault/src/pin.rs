//! The PIN rule, in one place: the vault enforces it and the unlock screen shows it.

use std::ops::RangeInclusive;

/// How many digits a PIN has.
pub const PIN_DIGITS: RangeInclusive<usize> = 6..=12;

/// Why a PIN is not a PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    #[error("the PIN has digits only")]
    NotDigits,
    #[error("the PIN has {} to {} digits", PIN_DIGITS.start(), PIN_DIGITS.end())]
    Length,
}

/// Checks a PIN: 6 to 12 digits.
pub fn check_pin(pin: &str) -> Result<(), PinError> {
    if !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PinError::NotDigits);
    }
    if !PIN_DIGITS.contains(&pin.len()) {
        return Err(PinError::Length);
    }
    Ok(())
}

/// Whether `pin` may still grow into a PIN (for a keypad: a digit more is allowed).
pub fn may_extend(pin: &str) -> bool {
    pin.len() < *PIN_DIGITS.end()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_table() {
        let cases = [
            ("123456", Ok(())),
            ("123456789012", Ok(())),
            ("12345", Err(PinError::Length)),
            ("1234567890123", Err(PinError::Length)),
            ("12345a", Err(PinError::NotDigits)),
            ("", Err(PinError::Length)),
            ("１２３４５６", Err(PinError::NotDigits)),
        ];
        for (pin, want) in cases {
            assert_eq!(check_pin(pin), want, "{pin:?}");
        }
        assert!(may_extend("12345678901") && !may_extend("123456789012"));
    }
}
