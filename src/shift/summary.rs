//! What the seal keeps of an application for the supervisor ([`Summary`]).

use doorstep_core::visit::{Flag, Visit};
use doorstep_core::{Policy, Service};
use serde::{Deserialize, Serialize};

/// What the seal keeps for the supervisor: who, what, by whom, and what to look at. Its debug
/// form names no one and says no reason (SECURITY.md R10).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Summary {
    /// The applicant's name (the thumbnail shows the face).
    pub name: String,
    pub officer: String,
    pub services: Vec<Service>,
    pub flags: Vec<Flag>,
    /// The photo is reused from the ID card or an earlier application: there is no new one.
    pub photo_reused: bool,
    /// What was paid (the fee and any postage taken with it) and how; none where nothing was
    /// paid at the visit, or the summary is older than this.
    pub paid: Option<(doorstep_core::policy::PaymentMethod, doorstep_core::Yuan)>,
    /// What the flags say was recorded, for the supervisor to read before deciding: why the
    /// applicant could not sign, and each finger that gave no print with its cause.
    pub unable_to_sign: Option<String>,
    pub finger_exceptions: Vec<(doorstep_core::fingerprint::Finger, doorstep_core::fingerprint::NoPrint)>,
}

impl std::fmt::Debug for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Summary")
            .field("services", &self.services)
            .field("flags", &self.flags)
            .field("photo_reused", &self.photo_reused)
            .field("paid", &self.paid)
            .field("finger_exceptions", &self.finger_exceptions.len())
            .finish_non_exhaustive()
    }
}

impl Summary {
    pub fn of(visit: &Visit, policy: &Policy) -> Summary {
        let state = &visit.state;
        Summary {
            name: state.identified().map(|w| w.applicant.name.as_str().to_string()).unwrap_or_default(),
            officer: visit.officer.clone(),
            services: state.services().map(|s| s.services.clone()).unwrap_or_default(),
            flags: state.flags(policy),
            photo_reused: matches!(state.photo(), Some(doorstep_core::visit::PhotoInput::Reused { .. })),
            // Money taken at the visit (not a fee to pay when the document is collected).
            paid: state
                .payment()
                .filter(|p| p.method != doorstep_core::policy::PaymentMethod::PayAtPickup)
                .filter(|p| p.amount != doorstep_core::Yuan::ZERO)
                .map(|p| (p.method, p.amount)),
            unable_to_sign: match state.consent().map(|c| &c.applicant) {
                Some(doorstep_core::visit::ApplicantSignature::Unable { reason }) => Some(reason.clone()),
                _ => None,
            },
            finger_exceptions: match state.fingerprints() {
                Some(doorstep_core::visit::Fingerprints::Taken(r)) => {
                    r.exceptions().map(|(f, n)| (f, n.clone())).collect()
                }
                _ => Vec::new(),
            },
        }
    }

    /// The flags as the review summary's quality flags: one JSON object each.
    pub fn flag_strings(&self) -> Vec<String> {
        self.flags.iter().filter_map(|f| serde_json::to_string(f).ok()).collect()
    }

    pub fn urgent(&self) -> bool {
        self.flags.contains(&Flag::Urgent)
    }
}
