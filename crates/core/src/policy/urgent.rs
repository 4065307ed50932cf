//! Urgent (加急) grounds and the evidence each needs.

use serde::{Deserialize, Serialize};

use super::{PolicyError, invalid, parse_toml};
use crate::text::{Arg, Localize, Message};

const FILE: &str = "urgent.toml";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    pub id: String,
    pub zh: String,
    pub en: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrgentGround {
    pub id: String,
    pub label_zh: String,
    pub label_en: String,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrgentPolicy {
    #[serde(rename = "ground")]
    grounds: Vec<UrgentGround>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum UrgentError {
    UnknownGround(String),
    /// The ground's label and the evidence not yet seen, as the policy names them (zh, en).
    MissingEvidence {
        ground: (String, String),
        missing: Vec<(String, String)>,
    },
}

impl Localize for UrgentError {
    fn message(&self) -> Message {
        match self {
            UrgentError::UnknownGround(id) => Message::new("error.urgent.unknown-ground").with("id", id.as_str()),
            UrgentError::MissingEvidence { ground, missing } => Message::new("error.urgent.missing-evidence")
                .with("ground", Arg::Bilingual(ground.0.clone(), ground.1.clone()))
                .with(
                    "missing",
                    Arg::List(missing.iter().map(|(zh, en)| Arg::Bilingual(zh.clone(), en.clone())).collect()),
                ),
        }
    }
}

crate::localized_error!(UrgentError);

impl UrgentPolicy {
    pub fn parse(text: &str) -> Result<UrgentPolicy, PolicyError> {
        let p: UrgentPolicy = parse_toml(FILE, text)?;
        for (i, g) in p.grounds.iter().enumerate() {
            if p.grounds[..i].iter().any(|o| o.id == g.id) {
                return Err(invalid(FILE, format!("ground {:?} is listed twice", g.id)));
            }
            if g.evidence.is_empty() {
                return Err(invalid(FILE, format!("ground {:?} lists no evidence", g.id)));
            }
        }
        Ok(p)
    }

    pub fn grounds(&self) -> &[UrgentGround] {
        &self.grounds
    }

    pub fn ground(&self, id: &str) -> Option<&UrgentGround> {
        self.grounds.iter().find(|g| g.id == id)
    }

    /// Checks that every piece of evidence the ground needs has been seen.
    pub fn check(&self, ground: &str, seen: &[String]) -> Result<&UrgentGround, UrgentError> {
        let g = self.ground(ground).ok_or_else(|| UrgentError::UnknownGround(ground.to_string()))?;
        let missing: Vec<(String, String)> =
            g.evidence.iter().filter(|e| !seen.contains(&e.id)).map(|e| (e.zh.clone(), e.en.clone())).collect();
        if missing.is_empty() {
            Ok(g)
        } else {
            Err(UrgentError::MissingEvidence { ground: (g.label_zh.clone(), g.label_en.clone()), missing })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicySources;

    #[test]
    fn the_eight_grounds_and_two_more() {
        let p = UrgentPolicy::parse(PolicySources::BUILTIN.urgent).unwrap();
        for id in [
            "funeral-abroad",
            "medical-treatment",
            "critically-ill",
            "study-registration",
            "urgent-meeting",
            "emergency-abroad",
            "contract-signing",
            "document-lost",
            "visa-expiring",
            "other-accepted",
        ] {
            assert!(p.ground(id).is_some(), "{id}");
        }
    }

    #[test]
    fn evidence_is_required() {
        let p = UrgentPolicy::parse(PolicySources::BUILTIN.urgent).unwrap();
        let err = p.check("critically-ill", &["critical-notice".into()]).unwrap_err();
        assert_eq!(
            err,
            UrgentError::MissingEvidence {
                ground: ("探望危重病人".into(), "visiting a critically ill person".into()),
                missing: vec![("亲属关系证明".into(), "proof of relationship".into())]
            }
        );
        assert!(p.check("critically-ill", &["critical-notice".into(), "relationship".into()]).is_ok());
        assert!(matches!(p.check("bored", &[]), Err(UrgentError::UnknownGround(_))));
    }
}
