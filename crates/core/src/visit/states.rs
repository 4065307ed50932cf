//! The states of a visit as types, and their transitions.
//!
//! Each state is named for what it waits for and holds the state before it plus the data its
//! step checked, so a later state cannot exist without the earlier steps' checked data. A
//! transition consumes its state and returns the next one (rustls's handshake is the
//! model): there is no way to write "from the photo step straight to review". A refused
//! transition hands its state back with the error, so nothing is lost.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::policy::Policy;
use crate::requirements;

use super::checks;
use super::error::*;
use super::inputs::*;

/// A refused transition: the state, unchanged, and why (boxed: states carry a whole visit).
pub type Refused<S> = Box<(S, VisitError)>;

/// Waiting for the applicant's identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identify;

/// Waiting for the services.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChooseServices {
    pub who: Identified,
}

/// Waiting for the photo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TakePhoto {
    pub prev: ChooseServices,
    pub services: ChosenServices,
}

/// Waiting for the fingerprints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TakeFingerprints {
    pub prev: TakePhoto,
    pub photo: PhotoInput,
}

/// Waiting for contact, delivery, urgency and priority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnterDetails {
    pub prev: TakeFingerprints,
    pub fingerprints: Fingerprints,
}

/// Waiting for the applicant to confirm what was entered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub prev: EnterDetails,
    pub details: Details,
}

/// Waiting for consent and signatures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sign {
    pub prev: Review,
    #[serde(with = "time::serde::rfc3339")]
    pub reviewed_at: OffsetDateTime,
}

/// Waiting for the fee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pay {
    pub prev: Sign,
    pub consent: Consent,
    #[serde(with = "time::serde::rfc3339")]
    pub signed_at: OffsetDateTime,
}

/// A complete application, paid, ready to be sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadyToSeal {
    pub prev: Pay,
    pub payment: Payment,
}

/// Sealed: waiting for the receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueReceipt {
    pub prev: ReadyToSeal,
    /// One per service, in order, each with its promised issue date.
    pub applications: Vec<Application>,
    /// The code on the receipt to rate the service later.
    pub rating_code: String,
    #[serde(with = "time::serde::rfc3339")]
    pub sealed_at: OffsetDateTime,
}

/// Waiting for the rating.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    pub prev: IssueReceipt,
    pub receipt: ReceiptMethod,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Done {
    pub prev: Rate,
    pub rating: Rating,
    #[serde(with = "time::serde::rfc3339")]
    pub finished_at: OffsetDateTime,
}

/// A visit stopped before sealing. A payment taken is kept with the refund's reference, so
/// the refund can be reconciled.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Abandoned {
    pub at_step: super::Step,
    pub reason: String,
    pub payment: Option<Payment>,
    pub refund_reference: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

impl std::fmt::Debug for Abandoned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Abandoned")
            .field("at_step", &self.at_step)
            .field("payment", &self.payment)
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

fn refuse<S, T>(state: S, e: impl Into<VisitError>) -> Result<T, Refused<S>> {
    Err(Box::new((state, e.into())))
}

impl Identify {
    pub fn identify(
        self,
        input: Identification,
        policy: &Policy,
        now: OffsetDateTime,
    ) -> Result<ChooseServices, Refused<Self>> {
        match checks::identification(input, policy, now.date()) {
            Ok(who) => Ok(ChooseServices { who }),
            Err(e) => refuse(self, e),
        }
    }
}

impl ChooseServices {
    pub fn choose(
        self,
        input: ServicesInput,
        policy: &Policy,
        now: OffsetDateTime,
    ) -> Result<TakePhoto, Refused<Self>> {
        match checks::services(&self.who, input, policy, now.date()) {
            Ok(services) => Ok(TakePhoto { prev: self, services }),
            Err(e) => refuse(self, e),
        }
    }

    pub fn back(self) -> Identify {
        Identify
    }
}

impl TakePhoto {
    pub fn take(
        self,
        photo: PhotoInput,
        policy: &Policy,
        now: OffsetDateTime,
    ) -> Result<TakeFingerprints, Refused<Self>> {
        match checks::photo(&self.prev.who, &self.services, &photo, policy, now.date()) {
            Ok(()) => Ok(TakeFingerprints { prev: self, photo }),
            Err(e) => refuse(self, e),
        }
    }

    pub fn back(self) -> ChooseServices {
        self.prev
    }
}

impl TakeFingerprints {
    pub fn take(
        self,
        input: FingerprintsInput,
        policy: &Policy,
        now: OffsetDateTime,
    ) -> Result<EnterDetails, Refused<Self>> {
        match checks::fingerprints(&self.prev.prev.who, &self.prev.services, input, policy, now.date()) {
            Ok(fingerprints) => Ok(EnterDetails { prev: self, fingerprints }),
            Err(e) => refuse(self, e),
        }
    }

    pub fn back(self) -> TakePhoto {
        self.prev
    }
}

impl EnterDetails {
    pub fn enter(self, input: &DetailsInput, policy: &Policy, now: OffsetDateTime) -> Result<Review, Refused<Self>> {
        match checks::details(&self.prev.prev.prev.who, &self.prev.prev.services.services, input, policy, now.date()) {
            Ok(details) => Ok(Review { prev: self, details }),
            Err(e) => refuse(self, e),
        }
    }

    pub fn back(self) -> TakeFingerprints {
        self.prev
    }
}

impl Review {
    pub fn confirm(self, now: OffsetDateTime) -> Sign {
        Sign { prev: self, reviewed_at: now }
    }

    pub fn back(self) -> EnterDetails {
        self.prev
    }
}

impl Sign {
    pub fn sign(self, input: ConsentInput, now: OffsetDateTime) -> Result<Pay, Refused<Self>> {
        let photo = &self.prev.prev.prev.prev;
        match checks::consent(&photo.prev.who, &photo.services, input) {
            Ok(consent) => Ok(Pay { prev: self, consent, signed_at: now }),
            Err(e) => refuse(self, e),
        }
    }

    pub fn back(self) -> Review {
        self.prev
    }
}

impl Pay {
    pub fn pay(self, input: PaymentInput, policy: &Policy, now: OffsetDateTime) -> Result<ReadyToSeal, Refused<Self>> {
        let review = &self.prev.prev;
        let chosen = &review.prev.prev.prev.services;
        match checks::payment(chosen, &review.details, input, policy, now) {
            Ok(payment) => Ok(ReadyToSeal { prev: self, payment }),
            Err(e) => refuse(self, e),
        }
    }
}

impl ReadyToSeal {
    /// Sealed with the bureau's application numbers (one per service) and a rating code.
    /// Each application's promised issue date counts from the day of sealing.
    pub fn sealed(
        self,
        numbers: Vec<String>,
        rating_code: String,
        policy: &Policy,
        now: OffsetDateTime,
    ) -> Result<IssueReceipt, Refused<Self>> {
        let review = &self.prev.prev.prev;
        let chosen = &review.prev.prev.prev.services;
        if let Err(e) = checks::application_numbers(&numbers, chosen.services.len()) {
            return refuse(self, e);
        }
        if let Err(e) = checks::rating_code(&rating_code) {
            return refuse(self, e);
        }
        let expected = requirements::expected_issue(policy, &chosen.services, review.details.expedite(), now.date());
        let applications = numbers
            .into_iter()
            .zip(expected)
            .map(|(number, expected)| Application { number: number.trim().to_string(), expected })
            .collect();
        Ok(IssueReceipt { prev: self, applications, rating_code, sealed_at: now })
    }
}

impl IssueReceipt {
    pub fn issued(self, receipt: ReceiptMethod) -> Rate {
        Rate { prev: self, receipt }
    }
}

impl LateRating {
    /// A rating given later with the receipt's rating code (received by the hub). Only a
    /// score: "later" and "declined" are not ratings to record.
    pub fn new(code: &str, input: RatingInput, policy: &Policy, now: OffsetDateTime) -> Result<LateRating, VisitError> {
        checks::rating_code(code)?;
        if !matches!(input, RatingInput::Score { .. }) {
            return Err(RatingError::NotAScore.into());
        }
        let rating = checks::rating(input, code, policy)?;
        Ok(LateRating { code: code.to_string(), rating, at: now })
    }
}

impl Rate {
    pub fn rate(self, input: RatingInput, policy: &Policy, now: OffsetDateTime) -> Result<Done, Refused<Self>> {
        match checks::rating(input, &self.prev.rating_code, policy) {
            Ok(rating) => Ok(Done { prev: self, rating, finished_at: now }),
            Err(e) => refuse(self, e),
        }
    }
}
