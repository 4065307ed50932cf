//! What each step of a visit collects: the input as the screen sends it, and the value the
//! step keeps once it is checked. `Debug` of anything personal is redacted.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::applicant::{Applicant, ApplicantInput};
use crate::fingerprint::{Attempt, FingerprintRecord};
use crate::money::Yuan;
use crate::person::{Delegate, DelegateInput, Guardians, GuardiansInput, PersonName};
use crate::phone::PhoneNumber;
use crate::policy::{EndorsementFacts, FeeQuote, PaymentMethod, PhotoSource};
use crate::requirements::{AgeRules, ExpectedIssue};
use crate::service::Service;

// ---------------------------------------------------------------------------------------
// How the visit started.

/// Why an applicant is served at home (上门服务).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "reason")]
pub enum HomeReason {
    /// Advanced age.
    Age,
    Disability,
    /// Bedbound or unable to travel for illness.
    Bedbound,
    Other {
        text: String,
    },
}

impl fmt::Debug for HomeReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HomeReason::Age => "Age",
            HomeReason::Disability => "Disability",
            HomeReason::Bedbound => "Bedbound",
            HomeReason::Other { .. } => "Other(<redacted>)",
        })
    }
}

/// Where the visit happens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "mode")]
pub enum VisitMode {
    /// At the applicant's home, with the reason they qualify.
    Home { reason: HomeReason },
    /// At an outreach point (a business association's office…), by name.
    Outreach { point: String },
    /// In the service hall.
    Hall,
}

impl VisitMode {
    pub fn key(&self) -> &'static str {
        match self {
            VisitMode::Home { .. } => "mode.home",
            VisitMode::Outreach { .. } => "mode.outreach",
            VisitMode::Hall => "mode.hall",
        }
    }
}

// ---------------------------------------------------------------------------------------
// The applicant step.

/// The applicant step: who applies, their guardians, and whether the child is here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identification {
    pub applicant: ApplicantInput,
    pub guardians: GuardiansInput,
    /// A child under 7 who is not at the visit: the guardian applies on their behalf.
    pub applied_by_guardian: bool,
}

/// The applicant step, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identified {
    pub applicant: Applicant,
    pub guardians: Option<Guardians>,
    pub applied_by_guardian: bool,
}

// ---------------------------------------------------------------------------------------
// Services.

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServicesInput {
    pub services: Vec<Service>,
    /// Declared by the officer; the age is filled in from the birth date.
    pub facts: EndorsementFacts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChosenServices {
    pub services: Vec<Service>,
    pub facts: EndorsementFacts,
    pub quote: FeeQuote,
    /// What the rules ask of this applicant for these services.
    pub rules: AgeRules,
}

// ---------------------------------------------------------------------------------------
// Photo.

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum PhotoInput {
    /// A new photo, taken by the camera and assessed by doorstep-photo.
    Captured(TakenPhoto),
    /// A printed photo brought by the applicant (or by the guardian of a child who is not
    /// here), taken by the camera and assessed like a captured one.
    Supplied(TakenPhoto),
    /// An earlier photo reused under the 60+ rule.
    Reused {
        source: PhotoSource,
        #[serde(with = "crate::iso_date")]
        taken_on: Date,
        digest: String,
    },
    /// Endorsements alone: no photo is taken.
    NotNeeded,
}

/// A photo taken at the visit, and what the checks and the officer said of it. A photo with
/// failures, or with a covering kept where the checks asked to look, needs the officer's
/// written reason (for the supervisor).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TakenPhoto {
    /// SHA-256 of the JPEG kept in the vault, hex.
    pub digest: String,
    /// The checks that failed.
    pub failed_checks: Vec<String>,
    pub override_reason: Option<String>,
    /// The checks that refused the photo on what the officer may clear by looking (a band
    /// round the head of a colour hair can have: a cap, or hair cut straight?); before
    /// 2026-12-06 the same checks said they could not judge. Absent in records made before it
    /// was kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to_look_at: Vec<String>,
    /// What the officer saw there; needed when `to_look_at` is not empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub looked: Option<LookAnswer>,
}

/// What the officer saw where the photo checks asked to look (a cap, or hair?).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LookAnswer {
    /// No cap or head covering: hair.
    NoCovering,
    /// A covering that may stay (religious, medical; the face fully shown): it needs the
    /// officer's written reason, and goes to the supervisor as a check overridden.
    CoveringKept,
}

impl TakenPhoto {
    /// The checks the photo is accepted despite, with the officer's reason: those that failed,
    /// and those asked to look at where a covering was seen and kept (or nothing was answered).
    pub fn overridden(&self) -> Vec<String> {
        let mut checks = self.failed_checks.clone();
        if self.looked != Some(LookAnswer::NoCovering) {
            for c in &self.to_look_at {
                if !checks.contains(c) {
                    checks.push(c.clone());
                }
            }
        }
        checks
    }
}

impl fmt::Debug for TakenPhoto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let TakenPhoto { failed_checks, to_look_at, looked, .. } = self;
        write!(f, "failed {failed_checks:?}, to look at {to_look_at:?}: {looked:?}, <redacted>")
    }
}

impl PhotoInput {
    /// The photo taken at the visit (captured or supplied), if one was.
    pub fn taken(&self) -> Option<&TakenPhoto> {
        match self {
            PhotoInput::Captured(t) | PhotoInput::Supplied(t) => Some(t),
            _ => None,
        }
    }

    /// The checks that failed, for a captured or supplied photo.
    pub fn failed_checks(&self) -> &[String] {
        self.taken().map_or(&[], |t| &t.failed_checks)
    }

    /// The checks that asked the officer to look, for a captured or supplied photo.
    pub fn to_look_at(&self) -> &[String] {
        self.taken().map_or(&[], |t| &t.to_look_at)
    }

    /// What the officer saw where the checks asked to look.
    pub fn looked(&self) -> Option<LookAnswer> {
        self.taken().and_then(|t| t.looked)
    }

    /// See [`TakenPhoto::overridden`]; none for a reused photo or none needed.
    pub fn overridden(&self) -> Vec<String> {
        self.taken().map(TakenPhoto::overridden).unwrap_or_default()
    }
}

impl fmt::Debug for PhotoInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PhotoInput::Captured(t) => write!(f, "Captured({t:?})"),
            PhotoInput::Supplied(t) => write!(f, "Supplied({t:?})"),
            PhotoInput::Reused { source, .. } => write!(f, "Reused({source:?}, <redacted>)"),
            PhotoInput::NotNeeded => f.write_str("NotNeeded"),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Fingerprints.

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum FingerprintsInput {
    /// The fingers in the order taken, by the published procedure.
    Taken { attempts: Vec<Attempt>, no_valid_print_confirmed: bool },
    /// Under 16: the guardian chose not to give prints.
    DeclinedByGuardian,
    /// The services take no prints.
    NotTaken,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Fingerprints {
    Taken(FingerprintRecord),
    DeclinedByGuardian,
    NotTaken,
    /// A child under 7 whose guardian applied without them: nothing could be taken.
    ApplicantAbsent,
}

// ---------------------------------------------------------------------------------------
// Details.

/// How the finished document reaches the applicant.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum DeliveryInput {
    /// Collected in person at an office.
    Pickup { office: String },
    /// Collected by a delegate (代领).
    Delegate { office: String, delegate: DelegateInput },
    /// Posted (EMS).
    Post {
        recipient: String,
        phone: String,
        province: String,
        city: String,
        district: String,
        street: String,
        postcode: String,
    },
}

impl fmt::Debug for DeliveryInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeliveryInput(<redacted>)")
    }
}

/// A postal address by province, city and district.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostalAddress {
    pub recipient: PersonName,
    pub phone: PhoneNumber,
    pub province: String,
    pub city: String,
    pub district: String,
    pub street: String,
    pub postcode: String,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Delivery {
    Pickup { office: String },
    Delegate { office: String, delegate: Delegate },
    Post { address: PostalAddress, postage: Yuan },
}

impl Delivery {
    pub fn key(&self) -> &'static str {
        match self {
            Delivery::Pickup { .. } => "delivery.pickup",
            Delivery::Delegate { .. } => "delivery.delegate",
            Delivery::Post { .. } => "delivery.post",
        }
    }
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Delivery::Pickup { .. } => f.write_str("Pickup(<redacted>)"),
            Delivery::Delegate { .. } => f.write_str("Delegate(<redacted>)"),
            Delivery::Post { postage, .. } => write!(f, "Post(postage {postage}, <redacted>)"),
        }
    }
}

/// Urgent grounds, with the evidence the officer saw.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrgentRequest {
    pub ground: String,
    pub evidence_seen: Vec<String>,
}

impl fmt::Debug for UrgentRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UrgentRequest").field("ground", &self.ground).finish_non_exhaustive()
    }
}

/// The details step, as typed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetailsInput {
    /// A mobile or a landline: many elderly applicants have only a landline.
    pub phone: String,
    pub address: String,
    pub delivery: DeliveryInput,
    pub urgent: Option<UrgentRequest>,
    pub declared_priority: Vec<String>,
}

impl fmt::Debug for DetailsInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DetailsInput(<redacted>)")
    }
}

/// The details step, checked.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Details {
    pub phone: PhoneNumber,
    pub address: String,
    pub delivery: Delivery,
    /// Urgent grounds with every piece of evidence seen: the green channel (加急).
    pub urgent: Option<UrgentRequest>,
    /// Every priority category that applies, computed and declared.
    pub priority: Vec<String>,
}

impl Details {
    pub fn expedite(&self) -> bool {
        self.urgent.is_some()
    }
}

impl fmt::Debug for Details {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Details")
            .field("delivery", &self.delivery)
            .field("urgent", &self.urgent)
            .field("priority", &self.priority)
            .finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------------------
// Consent and signatures.

/// A signature drawn on the screen: the image's SHA-256 (in the vault) and its strokes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Strokes {
    pub digest: String,
    pub strokes: u32,
}

/// The sign step, as sent.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentInput {
    /// Consent to the application and its declarations.
    pub application: bool,
    /// Separate consent to the collection of the photo and fingerprints (GB/T 35273).
    pub biometrics: bool,
    /// The applicant's signature; `None` when they do not sign.
    pub applicant: Option<Strokes>,
    /// Why an applicant old enough to sign cannot (cannot hold a pen…).
    pub applicant_unable_reason: String,
    /// One entry per guardian, in their order: every guardian at the visit signs.
    pub guardians: Vec<Option<Strokes>>,
    /// The entrusted companion's signature, when no guardian is here.
    pub companion: Option<Strokes>,
}

impl fmt::Debug for ConsentInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConsentInput(<redacted>)")
    }
}

/// How the applicant signed, or why not.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum ApplicantSignature {
    Signed(Strokes),
    /// Pre-school: the guardian signs.
    PreSchool,
    /// The guardian applies for a child who is not here.
    AppliedByGuardian,
    /// Old enough, but unable to sign, with the reason.
    Unable {
        reason: String,
    },
}

impl fmt::Debug for ApplicantSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApplicantSignature::Signed(s) => write!(f, "Signed({s:?})"),
            ApplicantSignature::PreSchool => f.write_str("PreSchool"),
            ApplicantSignature::AppliedByGuardian => f.write_str("AppliedByGuardian"),
            ApplicantSignature::Unable { .. } => f.write_str("Unable(<redacted>)"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub application: bool,
    pub biometrics: bool,
    pub applicant: ApplicantSignature,
    /// (guardian number from 1, signature) for each guardian who signed at the visit.
    pub guardians: Vec<(usize, Strokes)>,
    pub companion: Option<Strokes>,
}

// ---------------------------------------------------------------------------------------
// Payment.

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentInput {
    pub method: PaymentMethod,
    pub amount: Yuan,
    /// The transaction reference of a QR or card payment.
    pub reference: String,
}

/// The payment, with the fee quote frozen as it was paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub method: PaymentMethod,
    pub quote: FeeQuote,
    /// Postage taken with the fee, when the document is posted and the bureau collects it so.
    pub postage: Yuan,
    pub amount: Yuan,
    pub reference: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

// ---------------------------------------------------------------------------------------
// Seal, receipt and rating.

/// One application of the visit, numbered by the bureau, with its promised issue date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    pub number: String,
    pub expected: ExpectedIssue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReceiptMethod {
    Printed,
    /// The printer failed or is absent: the receipt QR was shown on screen.
    OnScreen,
    /// The printer failed or is absent: the receipt was kept on the unit as PNG and PDF files,
    /// and its QR shown on screen.
    Saved,
}

/// The rating step, as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum RatingInput {
    /// 1 (very poor) to 5 (very good). A poor rating gives reasons (ids from the policy) and
    /// says whether the applicant wants a call back.
    Score {
        stars: u8,
        reasons: Vec<String>,
        call_back: bool,
    },
    /// Later, with the code on the receipt.
    Later,
    Declined,
}

/// 好差评, as kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Rating {
    Score { stars: u8, reasons: Vec<String>, call_back: bool },
    Later { code: String },
    Declined,
}

impl Rating {
    /// A rating at or below the policy's poor mark.
    pub fn is_poor(&self, poor_at_most: u8) -> bool {
        matches!(self, Rating::Score { stars, .. } if *stars <= poor_at_most)
    }
}

/// Why a visit was stopped before sealing. The reason is for the shift report.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbandonInput {
    pub reason: String,
    /// The refund's reference, when money was taken.
    pub refund_reference: Option<String>,
}

impl fmt::Debug for AbandonInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AbandonInput(<redacted>)")
    }
}

/// A rating given later with the code on the receipt (by phone, or on the bureau's site).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LateRating {
    pub code: String,
    pub rating: Rating,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}
