//! What the supervisor must see in a visit before approving it.

use serde::{Deserialize, Serialize};

use crate::fingerprint::{FingerprintRecord, FingerprintStatus};
use crate::policy::{Confidence, PaymentMethod, Policy};
use crate::text::{Arg, Localize, Message};

use super::{ApplicantSignature, Consent, Fingerprints, LookAnswer, PhotoInput, VisitState};

impl VisitState {
    /// What the supervisor should look at, from what was collected so far.
    pub fn flags(&self, policy: &Policy) -> Vec<Flag> {
        let mut flags = Vec::new();
        if let Some(who) = self.identified() {
            if who.guardians.is_some() {
                flags.push(Flag::Guardian);
            }
            if who.guardians.as_ref().is_some_and(|g| g.companion.is_some()) {
                flags.push(Flag::EntrustedCompanion);
            }
            if who.applied_by_guardian {
                flags.push(Flag::AppliedByGuardian);
            }
        }
        if let Some(photo) = self.photo() {
            let overridden = photo.overridden();
            if !overridden.is_empty() {
                flags.push(Flag::PhotoOverride { checks: overridden });
            }
            if photo.looked() == Some(LookAnswer::NoCovering) && !photo.to_look_at().is_empty() {
                flags.push(Flag::PhotoLookedAt { checks: photo.to_look_at().to_vec() });
            }
        }
        if let Some(PhotoInput::Supplied(_)) = self.photo() {
            flags.push(Flag::PhotoSupplied);
        }
        if let Some(Consent { applicant: ApplicantSignature::Unable { .. }, .. }) = self.consent() {
            flags.push(Flag::ApplicantUnableToSign);
        }
        match self.fingerprints() {
            Some(Fingerprints::Taken(r)) => flags.extend(finger_flags(r)),
            Some(Fingerprints::DeclinedByGuardian) => flags.push(Flag::FingerprintsDeclinedByGuardian),
            _ => {}
        }
        if let Some(d) = self.details() {
            if d.expedite() {
                flags.push(Flag::Urgent);
            }
            for id in &d.priority {
                if policy.priority.category(id).is_some_and(|c| c.confidence == Confidence::Unconfirmed) {
                    flags.push(Flag::UnconfirmedPriority { id: id.clone() });
                }
            }
        }
        if self.services().is_some_and(|s| s.quote.has_uncertain_amounts()) {
            flags.push(Flag::UncertainFee);
        }
        if self.payment().is_some_and(|p| p.method == PaymentMethod::PayAtPickup) {
            flags.push(Flag::PayAtPickup);
        }
        if self.rating().is_some_and(|r| r.is_poor(policy.feedback.rating.poor_at_most)) {
            flags.push(Flag::PoorRating);
        }
        flags
    }
}

fn finger_flags(r: &FingerprintRecord) -> Vec<Flag> {
    let mut flags = Vec::new();
    let exceptions = r.exceptions().count();
    match r.status {
        FingerprintStatus::NoValidPrint => flags.push(Flag::NoValidFingerprint { exceptions }),
        FingerprintStatus::Partial { valid } => flags.push(Flag::FewerFingerprints { valid }),
        FingerprintStatus::Complete if exceptions > 0 => flags.push(Flag::FingerExceptions { count: exceptions }),
        FingerprintStatus::Complete => {}
    }
    if r.reissue_after_healing {
        flags.push(Flag::ReissueAfterHealing);
    }
    flags
}

/// Something in an application the supervisor should see before approving it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "flag")]
pub enum Flag {
    /// A photo accepted although checks failed (or a covering was seen where the checks asked
    /// to look, and kept), with the officer's reason.
    PhotoOverride {
        checks: Vec<String>,
    },
    /// A photo a check refused on what the officer may clear by looking (a band round the
    /// head: a cap, or hair?), and the officer confirmed it shows no covering. The supervisor
    /// sees the photo beside it.
    PhotoLookedAt {
        checks: Vec<String>,
    },
    /// A printed photo brought by the applicant, not taken at the visit.
    PhotoSupplied,
    /// The applicant could not sign; the reason is recorded.
    ApplicantUnableToSign,
    /// Two valid prints, with fingers recorded as exceptions on the way.
    FingerExceptions {
        count: usize,
    },
    /// Fewer valid prints than wanted.
    FewerFingerprints {
        valid: usize,
    },
    /// No valid fingerprint at all, with the reasons recorded.
    NoValidFingerprint {
        exceptions: usize,
    },
    /// An injury certified by a hospital: the document is re-issued after healing.
    ReissueAfterHealing,
    FingerprintsDeclinedByGuardian,
    Guardian,
    EntrustedCompanion,
    AppliedByGuardian,
    Urgent,
    /// A priority category resting on an unconfirmed source (military, fire-rescue).
    UnconfirmedPriority {
        id: String,
    },
    UncertainFee,
    PayAtPickup,
    PoorRating,
}

impl Localize for Flag {
    fn message(&self) -> Message {
        match self {
            Flag::PhotoOverride { checks } => {
                Message::new("flag.photo-override").with("checks", Arg::photo_checks(checks))
            }
            Flag::PhotoLookedAt { checks } => {
                Message::new("flag.photo-looked-at").with("checks", Arg::photo_checks(checks))
            }
            Flag::PhotoSupplied => Message::new("flag.photo-supplied"),
            Flag::ApplicantUnableToSign => Message::new("flag.applicant-unable-to-sign"),
            Flag::FingerExceptions { count } => Message::new("flag.finger-exceptions").with("n", *count),
            Flag::FewerFingerprints { valid } => Message::new("flag.fewer-fingerprints").with("n", *valid),
            Flag::NoValidFingerprint { exceptions } => Message::new("flag.no-valid-fingerprint").with("n", *exceptions),
            Flag::ReissueAfterHealing => Message::new("flag.reissue-after-healing"),
            Flag::FingerprintsDeclinedByGuardian => Message::new("flag.fingerprints-declined"),
            Flag::Guardian => Message::new("flag.guardian"),
            Flag::EntrustedCompanion => Message::new("flag.entrusted-companion"),
            Flag::AppliedByGuardian => Message::new("flag.applied-by-guardian"),
            Flag::Urgent => Message::new("flag.urgent"),
            Flag::UnconfirmedPriority { id } => Message::new("flag.unconfirmed-priority").with("id", id.as_str()),
            Flag::UncertainFee => Message::new("flag.uncertain-fee"),
            Flag::PayAtPickup => Message::new("flag.pay-at-pickup"),
            Flag::PoorRating => Message::new("flag.poor-rating"),
        }
    }
}
