//! The rules a photo is judged by, per document, from the policy data
//! (`assets/policy/photo.toml`): every threshold with its source and confidence, and the
//! relaxations for infants and toddlers by the applicant's age.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::encode::OutputSpec;

const POLICY: &str = include_str!("../../../assets/policy/photo.toml");

/// One measure's limits, as the policy file gives them: named numbers (`min`, `max`, and the
/// measure's own, listed in [`MEASURES`]) with their source and confidence.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
pub struct Limit {
    pub source: String,
    pub confidence: Confidence,
    #[serde(flatten)]
    pub values: BTreeMap<String, f32>,
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

/// Every table of the policy and the numbers each must give, by the check that reads them.
pub const MEASURES: [(&str, &[&str]); 21] = [
    ("resolution", &["min_width", "max_width", "min_height", "max_height", "max_aspect_error"]),
    ("face_width", &["min", "max"]),
    ("eye_distance", &["min", "max"]),
    ("crown_margin", &["min"]),
    ("chin_margin", &["min"]),
    ("eye_line", &["min", "max"]),
    ("centred", &["max"]),
    ("roll", &["max"]),
    ("yaw", &["max"]),
    ("pitch", &["max"]),
    ("eyes_open", &["min", "min_mesh", "min_iris"]),
    ("mouth_closed", &["max", "max_teeth"]),
    ("glare", &["max", "white_level"]),
    ("head_covering", &["min_coverage", "max_edge_height", "max_edge_spread", "min_round", "max_round_offset"]),
    ("background", &["min_grey", "max_std", "max_shadow", "max_shadow_width", "max_blue_distance"]),
    ("colour_cast", &["max"]),
    ("colour", &["min"]),
    (
        "exposure",
        &["min", "max", "min_range", "max_blown", "blown_level", "min_highlight", "no_face_dark", "no_face_burnt"],
    ),
    ("sharpness", &["min"]),
    ("face_lighting", &["max"]),
    ("crop", &["eye_distance", "eye_line", "max_upscale"]),
];

/// Why the photo policy would not load. The shipped file always does (a test loads it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("the photo policy does not parse: {0}")]
    Parse(String),
    #[error("the photo policy has no measure {0:?}")]
    Missing(&'static str),
    #[error("the photo policy's measure {0:?} lacks {1:?}")]
    MissingValue(&'static str, &'static str),
    #[error("the photo policy names an unknown measure or value {0:?}")]
    Unknown(String),
    #[error("the photo policy has a table for {0:?}, which is not among its profiles")]
    UnknownProfile(String),
    #[error("the photo policy's measure {0:?} gives no source")]
    NoSource(String),
    #[error("the photo policy's value {0:?} is not a finite number of zero or more, or its min is above its max")]
    BadValue(String),
    #[error("the photo policy names the profile {0:?} twice")]
    DuplicateProfile(String),
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
    children: (u32, u32),
}

/// Checks one table of limits: only known measures and values, each with a source.
fn check_limits(measures: &BTreeMap<String, Limit>, at: &str) -> Result<(), PolicyError> {
    for (name, limit) in measures {
        let Some((_, keys)) = MEASURES.iter().find(|(m, _)| m == name) else {
            return Err(PolicyError::Unknown(format!("{at}{name}")));
        };
        if let Some(k) = limit.values.keys().find(|k| !keys.contains(&k.as_str())) {
            return Err(PolicyError::Unknown(format!("{at}{name}.{k}")));
        }
        if limit.source.trim().is_empty() {
            return Err(PolicyError::NoSource(format!("{at}{name}")));
        }
        // Every measure is a size, a share, a level or an angle: finite and not negative.
        if let Some((k, _)) = limit.values.iter().find(|(_, v)| !(v.is_finite() && **v >= 0.0)) {
            return Err(PolicyError::BadValue(format!("{at}{name}.{k}")));
        }
        if let (Some(lo), Some(hi)) = (limit.values.get("min"), limit.values.get("max"))
            && lo > hi
        {
            return Err(PolicyError::BadValue(format!("{at}{name}.min")));
        }
    }
    Ok(())
}

fn policy(text: &str) -> Result<Policy, PolicyError> {
    let p: Policy = toml::from_str(text).map_err(|e| PolicyError::Parse(e.to_string()))?;
    check_limits(&p.measure, "")?;
    if let Some((_, name)) = p.profiles.iter().enumerate().find(|(i, n)| p.profiles[..*i].contains(n)) {
        return Err(PolicyError::DuplicateProfile(name.clone()));
    }
    for (name, keys) in MEASURES {
        let m = p.measure.get(name).ok_or(PolicyError::Missing(name))?;
        if let Some(k) = keys.iter().find(|k| !m.values.contains_key(**k)) {
            return Err(PolicyError::MissingValue(name, k));
        }
    }
    for (name, o) in &p.profile {
        if !p.profiles.contains(name) {
            return Err(PolicyError::UnknownProfile(name.clone()));
        }
        check_limits(&o.measure, &format!("{name}."))?;
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
        // A profile's table overrides the values it names, and nothing else.
        let mut measures = p.measure.clone();
        for (m, o) in p.profile.get(name).map(|o| o.measure.clone()).unwrap_or_default() {
            let base = measures.entry(m).or_default();
            base.values.extend(o.values);
            (base.source, base.confidence) = (o.source, o.confidence);
        }
        Ok(Some(Profile {
            name: name.to_string(),
            output: OutputSpec::default(),
            measures,
            relaxed: Relaxed::default(),
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

    /// The limits of `measure`, with their source.
    pub fn limit(&self, measure: &str) -> Limit {
        self.measures.get(measure).cloned().unwrap_or_default()
    }

    /// One value of a measure. Every value a check reads is checked present when the policy
    /// loads; were one missing, NaN makes every comparison with it fail (a refusal, never a
    /// false pass).
    pub fn value(&self, measure: &str, key: &str) -> f32 {
        self.measures.get(measure).and_then(|m| m.values.get(key)).copied().unwrap_or(f32::NAN)
    }

    pub(crate) fn min(&self, measure: &str) -> f32 {
        self.value(measure, "min")
    }

    pub(crate) fn max(&self, measure: &str) -> f32 {
        self.value(measure, "max")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_policy_loads_and_every_measure_cites_its_source() {
        let p = policy(POLICY).unwrap();
        assert_eq!(Profile::names(), ["passport", "hk-macao-permit", "taiwan-permit", "taiwan-resident-permit"]);
        for (name, _) in MEASURES {
            assert!(p.measure[name].source.len() > 20, "{name} cites no real source");
        }
        let passport = Profile::passport();
        assert_eq!((passport.min("face_width"), passport.max("face_width")), (0.53, 0.80));
        assert_eq!((passport.min("eye_distance"), passport.max("eye_distance")), (0.23, 0.33));
        assert_eq!(passport.limit("face_width").confidence, Confidence::Partial);
        assert!(Profile::by_name("driving-licence").is_none());
    }

    #[test]
    fn a_policy_with_a_measure_or_value_missing_unknown_or_unsourced_is_refused() {
        // (edit of the shipped policy, the refusal)
        let table: [(&str, &str, PolicyError); 5] = [
            ("[measure.yaw]", "[measure.yaw_]", PolicyError::Unknown("yaw_".into())),
            ("[measure.roll]\nmax = 8.0", "[measure.roll]", PolicyError::MissingValue("roll", "max")),
            (
                "[measure.roll]\nmax = 8.0",
                "[measure.roll]\nmax = 8.0\nmaxx = 1.0",
                PolicyError::Unknown("roll.maxx".into()),
            ),
            ("source = \"ISO/IEC 19794-5 §7.2.2: roll", "source = \" \"\n# ", PolicyError::NoSource("roll".into())),
            ("[measure.glare]\n#", "[measure.glare_]\n#", PolicyError::Unknown("glare_".into())),
        ];
        for (from, to, want) in table {
            assert!(POLICY.contains(from), "{from}");
            let edited = POLICY.replacen(from, to, 1);
            assert_eq!(policy(&edited).err(), Some(want), "{from} → {to}");
        }
        let stray = format!(
            "{POLICY}\n[profile.driving-licence.measure.roll]\nmax = 1.0\nsource = \"x\"\nconfidence = \"partial\"\n"
        );
        assert_eq!(policy(&stray).err(), Some(PolicyError::UnknownProfile("driving-licence".into())));
        for (from, to, key) in [
            ("[measure.roll]\nmax = 8.0", "[measure.roll]\nmax = nan", "roll.max"),
            ("[measure.roll]\nmax = 8.0", "[measure.roll]\nmax = inf", "roll.max"),
            ("max_upscale = 2.5", "max_upscale = -1.0", "crop.max_upscale"),
            (
                "[measure.face_width]\nmin = 0.53\nmax = 0.80",
                "[measure.face_width]\nmin = 0.90\nmax = 0.80",
                "face_width.min",
            ),
        ] {
            assert!(POLICY.contains(from), "{from}");
            assert_eq!(policy(&POLICY.replacen(from, to, 1)).err(), Some(PolicyError::BadValue(key.into())), "{to}");
        }
        let twice = POLICY.replacen("profiles = [\"passport\",", "profiles = [\"passport\", \"passport\",", 1);
        assert_eq!(policy(&twice).err(), Some(PolicyError::DuplicateProfile("passport".into())));
        let no_crop = POLICY.replace("[measure.crop]", "[measure.crop_]");
        assert_eq!(policy(&no_crop).err(), Some(PolicyError::Unknown("crop_".into())));
    }

    #[test]
    fn a_profile_overrides_only_what_it_names() {
        let text = format!(
            "{POLICY}\n[profile.taiwan-permit.measure.face_width]\nmax = 0.75\nsource = \"a bureau's stricter rule\"\nconfidence = \"unconfirmed\"\n"
        );
        let tw = Profile::from_policy(&text, "taiwan-permit").unwrap().unwrap();
        let pp = Profile::from_policy(&text, "passport").unwrap().unwrap();
        assert_eq!((tw.max("face_width"), pp.max("face_width")), (0.75, 0.80));
        assert_eq!(tw.min("face_width"), 0.53, "the values it does not name are kept");
        assert_eq!(tw.limit("face_width").source, "a bureau's stricter rule");
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
