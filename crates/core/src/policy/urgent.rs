//! Urgent (加急) grounds and the evidence each needs.

use serde::{Deserialize, Serialize};

use super::{PolicyError, invalid, parse_toml};
use crate::service::{IssueReason, Service};
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
    /// The ground holds only for a visit that applies for a document for one of these reasons
    /// (a document lost or damaged is replaced, not applied for the first time); none listed:
    /// for any visit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub for_reasons: Vec<IssueReason>,
}

impl UrgentGround {
    /// Whether the ground can be given for a visit applying for these services.
    pub fn holds_for(&self, services: &[Service]) -> bool {
        self.for_reasons.is_empty()
            || services.iter().filter_map(Service::reason).any(|r| self.for_reasons.contains(&r))
    }
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
    /// The ground does not hold for what the visit applies for: the ground's label (zh, en)
    /// and the reasons it needs.
    NotForTheseServices {
        ground: (String, String),
        reasons: Vec<IssueReason>,
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
            UrgentError::NotForTheseServices { ground, reasons } => Message::new("error.urgent.not-for-services")
                .with("ground", Arg::Bilingual(ground.0.clone(), ground.1.clone()))
                .with("reasons", Arg::List(reasons.iter().map(|r| Arg::Key(r.key())).collect())),
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
            if g.for_reasons.contains(&IssueReason::First) {
                return Err(invalid(FILE, format!("ground {:?} names a first application among its reasons", g.id)));
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

    /// The grounds that can be given for a visit applying for these services.
    pub fn grounds_for<'a>(&'a self, services: &'a [Service]) -> impl Iterator<Item = &'a UrgentGround> + 'a {
        self.grounds.iter().filter(move |g| g.holds_for(services))
    }

    /// Checks that the ground holds for the services applied for and that every piece of
    /// evidence it needs has been seen.
    pub fn check(&self, ground: &str, seen: &[String], services: &[Service]) -> Result<&UrgentGround, UrgentError> {
        let g = self.ground(ground).ok_or_else(|| UrgentError::UnknownGround(ground.to_string()))?;
        if !g.holds_for(services) {
            return Err(UrgentError::NotForTheseServices {
                ground: (g.label_zh.clone(), g.label_en.clone()),
                reasons: g.for_reasons.clone(),
            });
        }
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
        let err = p.check("critically-ill", &["critical-notice".into()], &[]).unwrap_err();
        assert_eq!(
            err,
            UrgentError::MissingEvidence {
                ground: ("探望危重病人".into(), "visiting a critically ill person".into()),
                missing: vec![("亲属关系证明".into(), "proof of relationship".into())]
            }
        );
        assert!(p.check("critically-ill", &["critical-notice".into(), "relationship".into()], &[]).is_ok());
        assert!(matches!(p.check("bored", &[], &[]), Err(UrgentError::UnknownGround(_))));
    }

    /// "Document lost or damaged" holds only where a document lost or damaged is replaced;
    /// the other grounds for any visit.
    #[test]
    fn a_ground_holds_only_for_the_reasons_it_names() {
        let p = UrgentPolicy::parse(PolicySources::BUILTIN.urgent).unwrap();
        let seen = |g: &str| p.ground(g).unwrap().evidence.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
        let services = |codes: &[&str]| codes.iter().map(|c| c.parse::<Service>().unwrap()).collect::<Vec<_>>();
        for (ground, codes, holds) in [
            ("document-lost", &["passport"][..], false),
            ("document-lost", &["passport:renewal"][..], false),
            ("document-lost", &["passport:lost"][..], true),
            ("document-lost", &["hk-macao-permit:damaged"][..], true),
            ("document-lost", &["passport", "hk-macao-permit:lost"][..], true),
            ("document-lost", &[][..], false),
            ("funeral-abroad", &["passport"][..], true),
            ("funeral-abroad", &[][..], true),
        ] {
            let s = services(codes);
            assert_eq!(p.ground(ground).unwrap().holds_for(&s), holds, "{ground} {codes:?}");
            assert_eq!(p.grounds_for(&s).any(|g| g.id == ground), holds, "{ground} {codes:?}");
            let checked = p.check(ground, &seen(ground), &s).map(|g| g.id.as_str());
            let want = if holds {
                Ok(ground)
            } else {
                Err(UrgentError::NotForTheseServices {
                    ground: ("证件遗失或损毁".into(), "document lost or damaged".into()),
                    reasons: vec![IssueReason::Lost, IssueReason::Damaged],
                })
            };
            assert_eq!(checked, want, "{ground} {codes:?}");
        }
        // A policy that offers a ground for a first application is refused.
        let bad = "[[ground]]\nid = \"x\"\nlabel_zh = \"x\"\nlabel_en = \"x\"\nfor_reasons = [\"first\"]\nevidence = [{ id = \"a\", zh = \"a\", en = \"a\" }]\n";
        assert!(matches!(UrgentPolicy::parse(bad), Err(PolicyError::Invalid { .. })), "{:?}", UrgentPolicy::parse(bad));
    }
}
