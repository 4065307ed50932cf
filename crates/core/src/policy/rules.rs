//! Age rules: photo reuse for older applicants, fingerprints, guardians.

use serde::{Deserialize, Serialize};
use time::Date;

use super::{PolicyError, parse_toml};
use crate::date::age_on;

const FILE: &str = "rules.toml";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub photo_reuse: PhotoReuseRule,
    pub fingerprints: FingerprintRule,
    pub guardian: GuardianRule,
}

impl Rules {
    pub fn parse(text: &str) -> Result<Rules, PolicyError> {
        parse_toml(FILE, text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhotoReuseRule {
    #[serde(with = "crate::iso_date")]
    pub effective_from: Date,
    pub min_age_years: u32,
    pub max_photo_age_years: u32,
}

/// Where an earlier photo comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PhotoSource {
    /// A photo on an earlier exit-entry application.
    ExitEntry,
    /// The photo of the resident identity card.
    IdCard,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum PhotoReuseRefusal {
    #[error("photo reuse applies only from {0}")]
    NotYetInEffect(String),
    #[error("photo reuse is for applicants aged {min} or over; this applicant is {age}")]
    TooYoung { min: u32, age: u32 },
    #[error("the earlier photo is older than {0} years; take a new photo")]
    PhotoTooOld(u32),
    #[error("the earlier photo's date is after the visit")]
    PhotoInFuture,
}

impl PhotoReuseRule {
    /// May an applicant born on `birth` reuse a photo taken on `taken` at a visit on `visit`?
    pub fn check(&self, birth: Date, visit: Date, taken: Date) -> Result<(), PhotoReuseRefusal> {
        if visit < self.effective_from {
            return Err(PhotoReuseRefusal::NotYetInEffect(crate::format_date(self.effective_from)));
        }
        let age = age_on(birth, visit);
        if age < self.min_age_years {
            return Err(PhotoReuseRefusal::TooYoung { min: self.min_age_years, age });
        }
        if taken > visit {
            return Err(PhotoReuseRefusal::PhotoInFuture);
        }
        if age_on(taken, visit) >= self.max_photo_age_years {
            return Err(PhotoReuseRefusal::PhotoTooOld(self.max_photo_age_years));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FingerprintRule {
    pub min_age_years: u32,
    pub fingers_required: usize,
    /// Minimum capture quality (0–100) before an exception must be recorded.
    pub min_quality: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardianRule {
    pub required_below_age_years: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicySources;
    use time::macros::date;

    #[test]
    fn photo_reuse_for_sixty_plus_within_five_years() {
        let r = Rules::parse(PolicySources::BUILTIN.rules).unwrap().photo_reuse;
        let visit = date!(2026 - 11 - 26);
        let sixty = date!(1966 - 11 - 26);
        assert_eq!(r.check(sixty, visit, date!(2022 - 01 - 01)), Ok(()));
        assert_eq!(r.check(sixty, visit, date!(2021 - 11 - 27)), Ok(()));
        assert_eq!(r.check(sixty, visit, date!(2021 - 11 - 26)), Err(PhotoReuseRefusal::PhotoTooOld(5)));
        let fifty_nine = date!(1966 - 11 - 27);
        assert_eq!(
            r.check(fifty_nine, visit, date!(2025 - 01 - 01)),
            Err(PhotoReuseRefusal::TooYoung { min: 60, age: 59 })
        );
        assert_eq!(
            r.check(sixty, date!(2021 - 03 - 31), date!(2020 - 01 - 01)),
            Err(PhotoReuseRefusal::NotYetInEffect("2021-04-01".into()))
        );
        assert_eq!(r.check(sixty, visit, date!(2026 - 12 - 01)), Err(PhotoReuseRefusal::PhotoInFuture));
    }
}
