//! Why a visit event was refused: one typed error per step, each with a text in the locale
//! files.

use crate::applicant::ApplicantError;
use crate::fingerprint::FingerprintError;
use crate::money::Yuan;
use crate::person::{DelegateError, GuardianError};
use crate::phone::PhoneError;
use crate::policy::{PaymentMethod, PhotoReuseRefusal, PriorityError, UrgentError};
use crate::requirements::ServicesError;
use crate::text::{Arg, Localize, Message};

use super::{EventKind, Step};

/// How a visit starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModeError {
    /// A home visit for "another reason" without the reason.
    HomeReasonMissing,
    /// An outreach visit without the point's name.
    OutreachPointMissing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhotoError {
    /// The photo's digest is not a SHA-256 in hex.
    BadDigest,
    /// The photo failed these checks and no reason was recorded to accept it.
    FailedChecksNeedReason {
        checks: Vec<String>,
    },
    /// These checks asked the officer to look at the photo (a cap, or hair?), and the officer
    /// has not said what was seen.
    LookFirst {
        checks: Vec<String>,
    },
    Reuse(PhotoReuseRefusal),
    /// These services need a photo.
    Needed,
    /// The child is not here (the guardian applies): a photo is supplied, not taken.
    ApplicantAbsent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FingerprintsStepError {
    Procedure(FingerprintError),
    /// From 16 prints are taken: only missing or damaged fingers are exceptions.
    Required,
    /// Only the guardian of an applicant under 16 may decline.
    DeclineNotAllowed,
    /// These services take no prints.
    NotTaken,
    /// The child is not here (the guardian applies): no prints can be taken.
    ApplicantAbsent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DetailsError {
    Phone(PhoneError),
    AddressMissing,
    AddressTooLong {
        max: usize,
    },
    PickupOfficeMissing,
    Delegate(DelegateError),
    PostNotOffered,
    RecipientName(crate::name::NameError),
    RecipientPhone(PhoneError),
    /// Province, city or district.
    RegionMissing,
    StreetMissing,
    Postcode,
    Urgent(UrgentError),
    Priority(PriorityError),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentError {
    ApplicationNotAgreed,
    BiometricsNotAgreed,
    /// A signature image with no strokes, or a digest that is not SHA-256.
    EmptySignature,
    ApplicantSignatureMissing,
    /// A pre-school child, or a child whose guardian applies for them, does not sign.
    ApplicantDoesNotSign,
    /// Signed, and a reason the applicant cannot sign written too: which is it?
    SignedAndUnable,
    /// The guardian at the visit (1-based) has not signed.
    GuardianSignatureMissing {
        index: usize,
    },
    /// A signature for a guardian who is not at the visit, or who does not exist.
    GuardianNotPresent {
        index: usize,
    },
    /// No guardian is here: the entrusted companion signs.
    CompanionSignatureMissing,
    CompanionNotEntrusted,
    /// The applicant cannot sign and nobody signs for them.
    NobodySigns,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentError {
    MethodNotOffered(PaymentMethod),
    WrongAmount { due: Yuan, given: Yuan },
    ReferenceMissing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealError {
    WrongCount { expected: usize, given: usize },
    NumbersNotDistinct,
    RatingCodeInvalid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RatingError {
    OutOfRange(u8),
    /// A poor rating asks why.
    ReasonsNeeded,
    UnknownReason(String),
    /// Reasons and call-backs belong to poor ratings only.
    ReasonsNotAsked,
    /// A later rating is a score.
    NotAScore,
}

/// Why an event was refused. The visit is unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VisitError {
    IllegalTransition {
        step: Step,
        event: EventKind,
    },
    Mode(ModeError),
    Applicant(ApplicantError),
    Guardian(GuardianError),
    /// The child is not here: only a guardian of a child under `below_age` may apply alone.
    ApplicantMustBePresent {
        below_age: u32,
    },
    Services(ServicesError),
    Photo(PhotoError),
    Fingerprints(FingerprintsStepError),
    Details(DetailsError),
    Consent(ConsentError),
    Payment(PaymentError),
    Seal(SealError),
    Rating(RatingError),
    AbandonReasonMissing,
    /// Money was taken by `method`: abandoning records the refund (for cash, that it was
    /// handed back; otherwise the refund's transaction reference).
    RefundNotRecorded {
        method: PaymentMethod,
    },
    /// Going back is possible only to a finished step before signing.
    CannotGoBackTo(Step),
}

macro_rules! from_errors {
    ($($variant:ident($t:ty)),* $(,)?) => {$(
        impl From<$t> for VisitError {
            fn from(e: $t) -> VisitError {
                VisitError::$variant(e)
            }
        }
    )*};
}
from_errors!(
    Mode(ModeError),
    Applicant(ApplicantError),
    Guardian(GuardianError),
    Services(ServicesError),
    Photo(PhotoError),
    Fingerprints(FingerprintsStepError),
    Details(DetailsError),
    Consent(ConsentError),
    Payment(PaymentError),
    Seal(SealError),
    Rating(RatingError),
);

impl Localize for VisitError {
    fn message(&self) -> Message {
        match self {
            VisitError::IllegalTransition { step, event } => {
                Message::new("error.visit.illegal").with_key("step", step.key()).with_key("event", event.key())
            }
            VisitError::Mode(ModeError::HomeReasonMissing) => Message::new("error.mode.home-reason-missing"),
            VisitError::Mode(ModeError::OutreachPointMissing) => Message::new("error.mode.outreach-point-missing"),
            VisitError::Applicant(e) => e.message(),
            VisitError::Guardian(e) => e.message(),
            VisitError::ApplicantMustBePresent { below_age } => {
                Message::new("error.visit.applicant-must-be-present").with("age", *below_age)
            }
            VisitError::Services(e) => e.message(),
            VisitError::Photo(e) => photo_message(e),
            VisitError::Fingerprints(e) => match e {
                FingerprintsStepError::Procedure(e) => e.message(),
                FingerprintsStepError::Required => Message::new("error.fingerprints.required"),
                FingerprintsStepError::DeclineNotAllowed => Message::new("error.fingerprints.decline-not-allowed"),
                FingerprintsStepError::NotTaken => Message::new("error.fingerprints.not-taken"),
                FingerprintsStepError::ApplicantAbsent => Message::new("error.fingerprints.applicant-absent"),
            },
            VisitError::Details(e) => details_message(e),
            VisitError::Consent(e) => consent_message(e),
            VisitError::Payment(e) => match e {
                PaymentError::MethodNotOffered(m) => {
                    Message::new("error.payment.method-not-offered").with_key("method", m.key())
                }
                PaymentError::WrongAmount { due, given } => Message::new("error.payment.wrong-amount")
                    .with("due", due.to_string())
                    .with("given", given.to_string()),
                PaymentError::ReferenceMissing => Message::new("error.payment.reference-missing"),
            },
            VisitError::Seal(e) => match e {
                SealError::WrongCount { expected, given } => {
                    Message::new("error.seal.wrong-count").with("expected", *expected).with("given", *given)
                }
                SealError::NumbersNotDistinct => Message::new("error.seal.numbers-not-distinct"),
                SealError::RatingCodeInvalid => Message::new("error.seal.rating-code"),
            },
            VisitError::Rating(e) => match e {
                RatingError::OutOfRange(n) => Message::new("error.rating.out-of-range").with("stars", *n),
                RatingError::ReasonsNeeded => Message::new("error.rating.reasons-needed"),
                RatingError::UnknownReason(id) => Message::new("error.rating.unknown-reason").with("id", id.as_str()),
                RatingError::ReasonsNotAsked => Message::new("error.rating.reasons-not-asked"),
                RatingError::NotAScore => Message::new("error.rating.not-a-score"),
            },
            VisitError::AbandonReasonMissing => Message::new("error.visit.abandon-reason-missing"),
            VisitError::RefundNotRecorded { method } if method.needs_reference() => {
                Message::new("error.visit.refund-not-recorded").with_key("method", method.key())
            }
            VisitError::RefundNotRecorded { .. } => Message::new("error.visit.cash-not-returned"),
            VisitError::CannotGoBackTo(step) => Message::new("error.visit.cannot-go-back").with_key("step", step.key()),
        }
    }
}

crate::localized_error!(VisitError);

fn photo_message(e: &PhotoError) -> Message {
    match e {
        PhotoError::BadDigest => Message::new("error.photo.bad-digest"),
        PhotoError::FailedChecksNeedReason { checks } => {
            Message::new("error.photo.failed-checks").with("checks", Arg::photo_checks(checks))
        }
        PhotoError::LookFirst { checks } => {
            Message::new("error.photo.look-first").with("checks", Arg::photo_checks(checks))
        }
        PhotoError::Reuse(r) => r.message(),
        PhotoError::Needed => Message::new("error.photo.needed"),
        PhotoError::ApplicantAbsent => Message::new("error.photo.applicant-absent"),
    }
}

fn details_message(e: &DetailsError) -> Message {
    match e {
        DetailsError::Phone(p) => Message::new("error.details.phone").with("error", p.message()),
        DetailsError::AddressMissing => Message::new("error.details.address-missing"),
        DetailsError::AddressTooLong { max } => Message::new("error.details.address-too-long").with("max", *max),
        DetailsError::PickupOfficeMissing => Message::new("error.details.pickup-office-missing"),
        DetailsError::Delegate(d) => d.message(),
        DetailsError::PostNotOffered => Message::new("error.details.post-not-offered"),
        DetailsError::RecipientName(e) => Message::new("error.details.recipient-name").with("error", e.message()),
        DetailsError::RecipientPhone(p) => Message::new("error.details.recipient-phone").with("error", p.message()),
        DetailsError::RegionMissing => Message::new("error.details.region-missing"),
        DetailsError::StreetMissing => Message::new("error.details.street-missing"),
        DetailsError::Postcode => Message::new("error.details.postcode"),
        DetailsError::Urgent(u) => u.message(),
        DetailsError::Priority(p) => p.message(),
    }
}

fn consent_message(e: &ConsentError) -> Message {
    let key = match e {
        ConsentError::ApplicationNotAgreed => "error.consent.application",
        ConsentError::BiometricsNotAgreed => "error.consent.biometrics",
        ConsentError::EmptySignature => "error.consent.empty-signature",
        ConsentError::ApplicantSignatureMissing => "error.consent.applicant-signature-missing",
        ConsentError::ApplicantDoesNotSign => "error.consent.applicant-does-not-sign",
        ConsentError::SignedAndUnable => "error.consent.signed-and-unable",
        ConsentError::GuardianSignatureMissing { index } => {
            return Message::new("error.consent.guardian-signature-missing").with("n", *index);
        }
        ConsentError::GuardianNotPresent { index } => {
            return Message::new("error.consent.guardian-not-present").with("n", *index);
        }
        ConsentError::CompanionSignatureMissing => "error.consent.companion-signature-missing",
        ConsentError::CompanionNotEntrusted => "error.consent.companion-not-entrusted",
        ConsentError::NobodySigns => "error.consent.nobody-signs",
    };
    Message::new(key)
}
