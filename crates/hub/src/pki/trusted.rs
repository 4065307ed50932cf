//! The keys the hub trusts, as `hub.toml` lists them: supervisors', and officers' with whose
//! each is (SECURITY R24).

use super::{HubConfig, PkiError};

impl HubConfig {
    /// The keys this configuration trusts, checked.
    pub fn trusted(&self) -> Result<Trusted, PkiError> {
        let mut officer_ids = std::collections::HashMap::new();
        for (key, id) in &self.officer_ids {
            let bytes = keys(std::slice::from_ref(key), "officer")?[0].to_bytes();
            // One key spelled twice (in two cases) for two officers: whose it is is not known.
            if officer_ids.insert(bytes, id.clone()).is_some_and(|other| other != *id) {
                return Err(PkiError::Key(format!("hub.toml: officer key {key} is enrolled for two officers")));
            }
        }
        Ok(Trusted {
            supervisors: keys(&self.supervisors, "supervisor")?,
            officers: keys(&self.officers, "officer")?,
            officer_ids,
            demo: self.demo,
        })
    }
}

/// The supervisors' and officers' keys the hub trusts (SECURITY R24).
#[derive(Debug, Clone, Default)]
pub struct Trusted {
    pub supervisors: Vec<doorstep_envelope::VerifyingKey>,
    pub officers: Vec<doorstep_envelope::VerifyingKey>,
    /// The officer each key was enrolled for, where `hub.toml` says (`officer_ids`).
    pub officer_ids: std::collections::HashMap<[u8; 32], String>,
    /// Whether demo units' envelopes are taken (a demo hub).
    pub demo: bool,
}

impl Trusted {
    /// Why officer key `key` may not sign for officer `officer`: not enrolled (`officer-key`),
    /// or enrolled for another officer or for none (`officer-id`); `None` when it may. Where
    /// the officer is sealed (feedback: `None`), the key must be enrolled for someone.
    pub fn officer_refusal(&self, key: &[u8; 32], officer: Option<&str>) -> Option<(&'static str, String)> {
        if !self.officers.iter().any(|k| k.to_bytes() == *key) {
            return Some((
                "officer-key",
                format!(
                    // A sealed officer's id the hub cannot name.
                    "the officer's signing key is not enrolled at this hub (doorstep-hub add-officer {} --id {})",
                    hex::encode(key),
                    officer.unwrap_or("OFFICER")
                ),
            ));
        }
        match (self.officer_ids.get(key), officer) {
            (Some(enrolled), Some(officer)) if enrolled != officer => Some((
                "officer-id",
                format!("it names officer {officer:?}, but its signing key is enrolled for officer {enrolled:?}"),
            )),
            (Some(_), _) => None,
            // Enrolled by an earlier version, with no id: whose key it is is not known, so it
            // signs for no one until enrolled again for its officer.
            (None, _) => Some(("officer-id", unbound(key))),
        }
    }
}

/// Why a key enrolled with no officer id (by an earlier version) signs for no one.
fn unbound(key: &[u8; 32]) -> String {
    format!(
        "its signing key is enrolled with no officer id, so whose it is is not known: enrol it again for its officer (doorstep-hub add-officer {} --id OFFICER)",
        hex::encode(key)
    )
}

/// Ed25519 public keys from hex, as `hub.toml` lists them (`what` names their role).
pub(super) fn keys(hex_keys: &[String], what: &str) -> Result<Vec<doorstep_envelope::VerifyingKey>, PkiError> {
    keys_from(hex_keys, what, "hub.toml")
}

/// The same, of keys read from `from` (`hub.toml`, or the command line), which an error names.
pub(super) fn keys_from(
    hex_keys: &[String],
    what: &str,
    from: &str,
) -> Result<Vec<doorstep_envelope::VerifyingKey>, PkiError> {
    hex_keys
        .iter()
        .map(|h| {
            let bytes: [u8; 32] = hex::decode(h.trim())
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| PkiError::Key(format!("{from}: {what} key {h:?} is not 32 bytes of hex")))?;
            doorstep_envelope::VerifyingKey::from_bytes(&bytes)
                .map_err(|_| PkiError::Key(format!("{from}: {what} key {h:?} is not an Ed25519 key")))
        })
        .collect()
}
