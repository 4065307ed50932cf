//! Application and device identifiers.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A UUIDv7: milliseconds since the Unix epoch in the top 48 bits, then random bits, so ids
/// sort by creation time. Built from the time and randomness the caller passes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ApplicationId(pub [u8; 16]);

impl ApplicationId {
    pub fn new_v7(unix_ms: u64, random: [u8; 10]) -> ApplicationId {
        let mut b = [0u8; 16];
        b[..6].copy_from_slice(&unix_ms.to_be_bytes()[2..]);
        b[6..].copy_from_slice(&random);
        b[6] = (b[6] & 0x0f) | 0x70; // version 7
        b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
        ApplicationId(b)
    }

    /// The hyphenated lower-case form, `0190f3c2-…`.
    pub fn to_hyphenated(self) -> String {
        let h = hex::encode(self.0);
        format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
    }

    pub fn parse(s: &str) -> Option<ApplicationId> {
        let compact: String = s.chars().filter(|c| *c != '-').collect();
        let bytes = hex::decode(compact).ok()?;
        Some(ApplicationId(bytes.try_into().ok()?))
    }
}

impl fmt::Display for ApplicationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hyphenated())
    }
}

impl fmt::Debug for ApplicationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApplicationId({self})")
    }
}

/// The tablet's name as enrolled at the hub (its client certificate's name).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DeviceId(pub String);

/// What every demo unit's device id starts with. A demo unit's captures may be simulated (the
/// bridge simulator, the replay camera) and it seals to a demo bureau key: a real hub takes
/// nothing from it, and a provisioned unit never seals simulated captures.
pub const DEMO_DEVICE_PREFIX: &str = "demo-";

impl DeviceId {
    /// Whether `id` names a demo unit.
    pub fn is_demo(id: &str) -> bool {
        id.starts_with(DEMO_DEVICE_PREFIX)
    }

    /// Whether `id` can name a tablet: 1 to 64 ASCII letters, digits, `-` and `_` (it is its
    /// certificate's name at the hub, and part of file and batch names). The unit is given
    /// its id at `vault init`, and the hub enrols it by the same rule, so that no unit is set
    /// up under a name the hub will not enrol.
    pub fn is_valid(id: &str) -> bool {
        !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }
}

/// The longest id of a user (an officer or a supervisor), in characters.
pub const MAX_USER_ID: usize = 64;

/// Whether `id` may name a user (an officer or a supervisor) on a unit and at the hub: 1 to
/// [`MAX_USER_ID`] letters (in any script, 测试 as well as a–z), digits, `-`, `_`, `.` or `@`,
/// not beginning with `-`, so that it stands as one word on a command line (`doorstep-hub
/// add-officer KEY --id ID`, pasted into a shell as printed) and reads as itself in a log:
/// no spaces, quotes, shell signs, or invisible and direction-changing characters.
pub fn is_user_id(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('-')
        && id.chars().count() <= MAX_USER_ID
        && id.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_id_is_one_ascii_word_the_hub_enrols() {
        let long = "t".repeat(64);
        for (id, ok) in [
            ("demo-tablet", true),
            ("tablet_01", true),
            (long.as_str(), true),
            (&format!("{long}1"), false),
            ("", false),
            ("tablet 01", false),
            ("../tablet", false),
            ("测试平板", false),
            ("tablet/01", false),
        ] {
            assert_eq!(DeviceId::is_valid(id), ok, "{id:?}");
        }
    }

    #[test]
    fn a_user_id_is_one_word_of_at_most_64_characters() {
        let long = "a".repeat(MAX_USER_ID);
        for (id, ok) in [
            ("officer-test", true),
            ("测试-03", true),
            (long.as_str(), true),
            (&format!("{long}a"), false),
            ("", false),
            ("two words", false),
            ("tab\there", false),
            ("line\n", false),
            ("全角\u{3000}空格", false),
            ("bell\u{7}", false),
            ("-x", false),
            ("it's", false),
            ("a;b", false),
            ("$HOME", false),
            ("zero\u{200b}width", false),
            ("\u{202e}evil", false),
            ("first.last@unit-01", true),
            ("officer_02", true),
        ] {
            assert_eq!(is_user_id(id), ok, "{id:?}");
        }
    }

    #[test]
    fn only_a_demo_prefix_names_a_demo_unit() {
        for (id, demo) in [
            ("demo-tablet", true),
            ("demo-", true),
            ("tablet-01", false),
            ("Demo-tablet", false),
            ("tablet-demo-1", false),
            ("", false),
        ] {
            assert_eq!(DeviceId::is_demo(id), demo, "{id:?}");
        }
    }

    #[test]
    fn v7_layout_and_round_trip() {
        let id = ApplicationId::new_v7(0x0190_f3c2_1234, [0xff; 10]);
        let s = id.to_hyphenated();
        assert!(s.starts_with("0190f3c2-1234-7"), "{s}");
        assert_eq!(&s[19..20], "b");
        assert_eq!(ApplicationId::parse(&s), Some(id));
        assert!(ApplicationId::new_v7(1, [0; 10]) < ApplicationId::new_v7(2, [0; 10]));
        assert_eq!(ApplicationId::parse("zz"), None);
    }
}
