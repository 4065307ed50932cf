//! The rules a photo is judged by, per document, from the policy data
//! (`assets/policy/photo.toml`): every threshold with its source and confidence, and the
//! relaxations for infants and toddlers by the applicant's age.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::encode::OutputSpec;

const POLICY: &str = include_str!("../../../assets/policy/photo.toml");

/// One measure's limits, as the policy file gives them.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    pub min: Option<f32>,
    pub max: Option<f32>,
    /// Second limits of a measure judged on two values (eyes: by the face mesh; mouth: teeth;
    /// exposure: range, blown share, highlight; background: grey level, spread, shadow).
    pub max_teeth: Option<f32>,
    pub min_mesh: Option<f32>,
    pub min_range: Option<f32>,
    pub max_blown: Option<f32>,
    pub min_highlight: Option<f32>,
    pub min_grey: Option<f32>,
    pub max_std: Option<f32>,
    pub max_shadow: Option<f32>,
    pub max_shadow_width: Option<f32>,
    pub source: String,
    pub confidence: Confidence,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Confirmed,
    Partial,
    #[default]
    Unconfirmed,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Children {
    eyes_open_exempt_below_months: u32,
    expression_gaze_exempt_below_months: u32,
    #[allow(dead_code)]
    source: String,
    #[allow(dead_code)]
    confidence: Confidence,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Policy {
    profiles: Vec<String>,
    measure: BTreeMap<String, Limit>,
    #[serde(default)]
    profile: BTreeMap<String, ProfileOverride>,
    children: Children,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ProfileOverride {
    #[serde(default)]
    measure: BTreeMap<String, Limit>,
}

/// The measures every profile must define, by the check that reads them.
pub const MEASURES: [&str; 17] = [
    "face_width",
    "eye_distance",
    "crown_margin",
    "chin_margin",
    "eye_line",
    "centred",
    "roll",
    "yaw",
    "pitch",
    "eyes_open",
    "mouth_closed",
    "glare",
    "background",
    "colour_cast",
    "exposure",
    "sharpness",
    "face_lighting",
];

/// Why the photo policy would not load. The shipped file always does (a test loads it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("the photo policy does not parse: {0}")]
    Parse(String),
    #[error("the photo policy has no measure {0:?}")]
    Missing(&'static str),
    #[error("the photo policy's measure {0:?} gives no source")]
    NoSource(String),
}

/// What the applicant's age relaxes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Relaxed {
    /// Infants: the eyes need not be open.
    pub eyes_open: bool,
    /// Infants and toddlers: expression (mouth) and gaze (yaw, pitch) are not judged.
    pub expression_gaze: bool,
}

/// The rules for one kind of document, for one applicant.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub name: String,
    pub output: OutputSpec,
    pub measures: BTreeMap<String, Limit>,
    pub relaxed: Relaxed,
    /// Where the crop puts the eyes: distance (share of the width) and line (share of the height).
    pub target_eye_distance: f32,
    pub target_eye_line: f32,
    /// Largest enlargement the crop may apply (beyond it the photo goes soft).
    pub max_upscale: f32,
    children: (u32, u32),
}

fn policy(text: &str) -> Result<Policy, PolicyError> {
    let p: Policy = toml::from_str(text).map_err(|e| PolicyError::Parse(e.to_string()))?;
    for name in MEASURES {
        let m = p.measure.get(name).ok_or(PolicyError::Missing(name))?;
        if m.source.trim().is_empty() {
            return Err(PolicyError::NoSource(name.to_string()));
        }
    }
    for (name, o) in &p.profile {
        if let Some((m, _)) = o.measure.iter().find(|(_, l)| l.source.trim().is_empty()) {
            return Err(PolicyError::NoSource(format!("{name}.{m}")));
        }
    }
    Ok(p)
}

impl Profile {
    /// The profiles of the shipped policy.
    pub fn names() -> Vec<String> {
        policy(POLICY).map(|p| p.profiles).unwrap_or_default()
    }

    /// The profile `name` from the shipped policy, for an adult.
    pub fn by_name(name: &str) -> Option<Profile> {
        Profile::from_policy(POLICY, name).ok().flatten()
    }

    /// The profile `name` from a policy file's text; `None` when it names no such profile.
    pub fn from_policy(text: &str, name: &str) -> Result<Option<Profile>, PolicyError> {
        let p = policy(text)?;
        if !p.profiles.iter().any(|n| n == name) {
            return Ok(None);
        }
        let mut measures = p.measure.clone();
        if let Some(o) = p.profile.get(name) {
            measures.extend(o.measure.clone());
        }
        Ok(Some(Profile {
            name: name.to_string(),
            output: OutputSpec::default(),
            measures,
            relaxed: Relaxed::default(),
            target_eye_distance: 0.27,
            target_eye_line: 0.42,
            max_upscale: 2.5,
            children: (p.children.eyes_open_exempt_below_months, p.children.expression_gaze_exempt_below_months),
        }))
    }

    pub fn passport() -> Profile {
        Profile::by_name("passport").expect("the shipped photo policy has the passport profile")
    }

    /// The same profile for an applicant of `months` of age: infants and toddlers have the
    /// rules the standard relaxes for them relaxed.
    pub fn for_age_months(mut self, months: u32) -> Profile {
        self.relaxed = Relaxed { eyes_open: months < self.children.0, expression_gaze: months < self.children.1 };
        self
    }

    /// The limits of `measure` (every one the checks read is checked present at load).
    pub fn limit(&self, measure: &str) -> Limit {
        self.measures.get(measure).cloned().unwrap_or_default()
    }

    pub(crate) fn min(&self, measure: &str) -> f32 {
        self.limit(measure).min.unwrap_or(f32::MIN)
    }

    pub(crate) fn max(&self, measure: &str) -> f32 {
        self.limit(measure).max.unwrap_or(f32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_policy_loads_and_every_measure_cites_its_source() {
        let p = policy(POLICY).unwrap();
        assert_eq!(Profile::names(), ["passport", "hk-macao-permit", "taiwan-permit", "taiwan-resident-permit"]);
        for name in MEASURES {
            assert!(p.measure[name].source.len() > 20, "{name} cites no real source");
        }
        let passport = Profile::passport();
        assert_eq!((passport.min("face_width"), passport.max("face_width")), (0.53, 0.80));
        assert_eq!((passport.min("eye_distance"), passport.max("eye_distance")), (0.23, 0.33));
        assert_eq!(passport.limit("face_width").confidence, Confidence::Partial);
        assert!(Profile::by_name("driving-licence").is_none());
    }

    #[test]
    fn a_policy_without_a_measure_or_a_source_is_refused() {
        let no_yaw = POLICY.replace("[measure.yaw]", "[measure.not_yaw]");
        assert_eq!(policy(&no_yaw).err(), Some(PolicyError::Missing("yaw")));
        let unsourced = POLICY.replacen("source = \"ISO/IEC 19794-5 §7.2.2: roll", "source = \" \"\n# ", 1);
        assert_eq!(policy(&unsourced).err(), Some(PolicyError::NoSource("roll".into())));
    }

    #[test]
    fn a_profile_overrides_only_what_it_names() {
        let text = format!(
            "{POLICY}\n[profile.taiwan-permit.measure.roll]\nmax = 5.0\nsource = \"a bureau's stricter rule\"\nconfidence = \"unconfirmed\"\n"
        );
        let tw = Profile::from_policy(&text, "taiwan-permit").unwrap().unwrap();
        let pp = Profile::from_policy(&text, "passport").unwrap().unwrap();
        assert_eq!((tw.max("roll"), pp.max("roll")), (5.0, 8.0));
        assert_eq!(tw.max("yaw"), pp.max("yaw"));
    }

    #[test]
    fn age_relaxes_eyes_for_infants_and_expression_for_toddlers() {
        // (age in months, eyes relaxed, expression and gaze relaxed)
        let table = [(0, true, true), (11, true, true), (12, false, true), (35, false, true), (36, false, false)];
        for (months, eyes, expression) in table {
            let r = Profile::passport().for_age_months(months).relaxed;
            assert_eq!((r.eyes_open, r.expression_gaze), (eyes, expression), "{months} months");
        }
        assert_eq!(Profile::passport().relaxed, Relaxed::default());
    }
}
