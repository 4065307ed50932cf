//! The supervisor's shift: when new visits stop (the freeze rules), and the reasons an
//! application is returned to its officer. Both are policy data (`rules.toml`, `[shift]`).
//!
//! A unit freezes, refusing new visits with a plain message (a visit already begun is still
//! finished: the applicant is there), when
//! - more applications wait for the supervisor's approval than the bureau allows (a shift left
//!   unreleased grows until nobody can review it properly);
//! - the oldest application not yet receipted by the hub was sealed longer ago than allowed
//!   (the only copy is on a tablet in a bag);
//! - free space is below the vault's reserve (the next seal could fail).

use serde::Deserialize;

use crate::policy::Confidence;
use crate::text::{Localize, Message};

/// The freeze limits and the return reasons, as `rules.toml` gives them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShiftRule {
    /// Applications waiting for approval at which new visits stop.
    pub max_unapproved: usize,
    /// Hours since the oldest unsynced application was sealed at which new visits stop.
    pub max_unsynced_hours: u32,
    pub return_reasons: Vec<ReturnReason>,
    pub confidence: Confidence,
}

/// A reason a supervisor returns an application for, in both languages: what the officer reads
/// before the revisit.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnReason {
    pub id: String,
    pub zh: String,
    pub en: String,
}

/// What the unit knows of its own state when it decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShiftFacts {
    /// Sealed applications not yet in a released batch.
    pub unapproved: usize,
    /// When the oldest application the hub has not receipted was sealed (Unix seconds).
    pub oldest_unsynced_unix: Option<i64>,
    /// Free space and the vault's reserve, in bytes.
    pub free_bytes: u64,
    pub reserve_bytes: u64,
}

/// Why new visits are refused now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freeze {
    Backlog {
        unapproved: usize,
        limit: usize,
    },
    Unsynced {
        hours: u64,
        limit: u32,
    },
    /// In MiB, as the configuration's `reserve_mb` counts them (256 is 256 × 1,048,576 bytes).
    LowSpace {
        free_mib: u64,
        reserve_mib: u64,
    },
}

/// Bytes in a MiB, the unit every size the officer or the supervisor reads is in.
pub const MIB: u64 = 1024 * 1024;

impl ShiftRule {
    /// Every freeze in force at `now_unix`, most pressing first (space, then the unsynced, then
    /// the backlog); none means new visits may start.
    pub fn freezes(&self, facts: &ShiftFacts, now_unix: i64) -> Vec<Freeze> {
        let mut out = Vec::new();
        if facts.free_bytes < facts.reserve_bytes {
            out.push(Freeze::LowSpace { free_mib: facts.free_bytes / MIB, reserve_mib: facts.reserve_bytes / MIB });
        }
        if let Some(sealed) = facts.oldest_unsynced_unix {
            // A clock set back leaves an age of 0, never a negative one.
            let hours = (now_unix.saturating_sub(sealed).max(0) / 3600) as u64;
            if hours >= u64::from(self.max_unsynced_hours) {
                out.push(Freeze::Unsynced { hours, limit: self.max_unsynced_hours });
            }
        }
        if facts.unapproved >= self.max_unapproved {
            out.push(Freeze::Backlog { unapproved: facts.unapproved, limit: self.max_unapproved });
        }
        out
    }

    pub fn reason(&self, id: &str) -> Option<&ReturnReason> {
        self.return_reasons.iter().find(|r| r.id == id)
    }
}

impl Localize for Freeze {
    fn message(&self) -> Message {
        match *self {
            Freeze::Backlog { unapproved, limit } => {
                Message::new("freeze.backlog").with("n", unapproved).with("limit", limit)
            }
            Freeze::Unsynced { hours, limit } => {
                Message::new("freeze.unsynced").with("hours", hours).with("limit", limit)
            }
            Freeze::LowSpace { free_mib, reserve_mib } => {
                Message::new("freeze.low-space").with("free", free_mib).with("reserve", reserve_mib)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3600;
    const NOW: i64 = 1_780_000_000;
    const GB: u64 = 1_000_000_000;

    fn rule() -> ShiftRule {
        ShiftRule {
            max_unapproved: 30,
            max_unsynced_hours: 48,
            return_reasons: Vec::new(),
            confidence: Confidence::Unconfirmed,
        }
    }

    fn facts(unapproved: usize, oldest_hours_ago: Option<i64>, free: u64) -> ShiftFacts {
        ShiftFacts {
            unapproved,
            oldest_unsynced_unix: oldest_hours_ago.map(|h| NOW - h * HOUR),
            free_bytes: free,
            // The configuration's default reserve, 256 MiB.
            reserve_bytes: 256 * MIB,
        }
    }

    #[test]
    fn each_limit_freezes_at_its_value_and_not_below() {
        let cases: [(&str, ShiftFacts, Vec<Freeze>); 9] = [
            ("an empty unit", facts(0, None, 10 * GB), vec![]),
            ("one under the backlog", facts(29, None, 10 * GB), vec![]),
            ("at the backlog", facts(30, None, 10 * GB), vec![Freeze::Backlog { unapproved: 30, limit: 30 }]),
            ("unsynced 47 h", facts(1, Some(47), 10 * GB), vec![]),
            ("unsynced 48 h", facts(1, Some(48), 10 * GB), vec![Freeze::Unsynced { hours: 48, limit: 48 }]),
            ("sealed in the future (clock set back)", facts(1, Some(-5), 10 * GB), vec![]),
            ("free space at the reserve", facts(0, None, 256 * MIB), vec![]),
            (
                "free space under the reserve (in MiB, as the configuration counts it)",
                facts(0, None, 256 * MIB - 1),
                vec![Freeze::LowSpace { free_mib: 255, reserve_mib: 256 }],
            ),
            (
                "all three, the space first",
                facts(31, Some(72), 0),
                vec![
                    Freeze::LowSpace { free_mib: 0, reserve_mib: 256 },
                    Freeze::Unsynced { hours: 72, limit: 48 },
                    Freeze::Backlog { unapproved: 31, limit: 30 },
                ],
            ),
        ];
        for (what, f, expected) in cases {
            assert_eq!(rule().freezes(&f, NOW), expected, "{what}");
        }
    }

    #[test]
    fn the_shipped_rules_give_limits_and_reasons_in_both_languages() {
        let policy = crate::Policy::builtin().unwrap();
        let shift = &policy.rules.shift;
        assert!(shift.max_unapproved > 0 && shift.max_unsynced_hours > 0);
        assert!(!shift.return_reasons.is_empty());
        let mut ids = std::collections::BTreeSet::new();
        for r in &shift.return_reasons {
            assert!(ids.insert(r.id.as_str()), "{} twice", r.id);
            assert!(!r.zh.trim().is_empty() && !r.en.trim().is_empty(), "{}", r.id);
            assert_eq!(shift.reason(&r.id), Some(r));
        }
        assert_eq!(shift.reason("no-such-reason"), None);
    }
}
