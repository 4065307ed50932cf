//! The visit workflow of DESIGN.md ("Visit") as a state machine.
//!
//! Each state is a type holding exactly what has been collected so far: a state cannot
//! exist without the validated data of the steps before it. [`Visit::apply`] takes an event
//! and the current time, validates the step's data against the policy, and moves on; an
//! event that does not belong to the current step is an error and changes nothing. Going
//! back one step drops that step's data (the shell may keep the form contents to prefill).
//!
//! Unlock is not a state of the visit: a visit starts after an officer has unlocked.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::applicant::{Applicant, ApplicantError, ApplicantInput, Residency};
use crate::date::add_months;
use crate::id_number::CitizenId;
use crate::name::ChineseName;
use crate::phone::MobileNumber;
use crate::policy::{EndorsementFacts, FeeQuote, PhotoSource, Policy};
use crate::service::Service;

/// The steps, in order, for the shell to show where the visit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    Applicant,
    Services,
    Photo,
    Fingerprints,
    Details,
    Review,
    Sign,
    Seal,
    Receipt,
    Rating,
    Done,
    Abandoned,
}

impl Step {
    pub fn name_zh(self) -> &'static str {
        match self {
            Step::Applicant => "申请人",
            Step::Services => "办理业务",
            Step::Photo => "照片",
            Step::Fingerprints => "指纹",
            Step::Details => "填写信息",
            Step::Review => "核对",
            Step::Sign => "签名确认",
            Step::Seal => "封存",
            Step::Receipt => "回执",
            Step::Rating => "评价",
            Step::Done => "完成",
            Step::Abandoned => "已中止",
        }
    }
}

// ---------------------------------------------------------------------------------------
// What each step collects.

/// The services step: what is applied for, and the facts endorsement options depend on.
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
}

/// The photo step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum PhotoInput {
    /// A new photo, assessed by doorstep-photo. `failed_checks` lists the checks that did not
    /// pass; a photo with failures needs the officer's written reason (for the supervisor).
    Captured {
        /// SHA-256 of the JPEG kept in the vault, hex.
        digest: String,
        failed_checks: Vec<String>,
        override_reason: Option<String>,
    },
    /// An earlier photo reused under the 60+ rule.
    Reused { source: PhotoSource, taken_on: Date, digest: String },
}

/// Fingers, numbered as ISO/IEC 19794-4 (1 right thumb … 10 left little finger).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Finger(pub u8);

/// Why a finger could not be captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FingerException {
    Amputated,
    Injured,
    Bandaged,
    /// Worn or unreadable after the retries.
    Unreadable,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum FingerOutcome {
    Captured {
        /// Quality 0–100 from the capture assessment.
        quality: u8,
        /// SHA-256 of the image kept in the vault, hex.
        digest: String,
    },
    Exception {
        reason: FingerException,
        note: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FingerRecord {
    pub finger: Finger,
    pub outcome: FingerOutcome,
}

/// Delivery of the finished document.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Delivery {
    Pickup { office: String },
    Post { address: String, postcode: String },
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guardian {
    pub name: ChineseName,
    pub id: CitizenId,
    pub relationship: String,
    pub phone: MobileNumber,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrgentRequest {
    pub ground: String,
    pub evidence_seen: Vec<String>,
}

/// The details step, as typed.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetailsInput {
    pub phone: String,
    pub address: String,
    pub delivery: Option<Delivery>,
    pub urgent: Option<UrgentRequest>,
    pub declared_priority: Vec<String>,
    pub guardian_name: String,
    pub guardian_id: String,
    pub guardian_relationship: String,
    pub guardian_phone: String,
}

/// The details step, validated.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Details {
    pub phone: MobileNumber,
    pub address: String,
    pub delivery: Delivery,
    pub urgent: Option<UrgentRequest>,
    /// Every priority category that applies, computed and declared.
    pub priority: Vec<String>,
    pub guardian: Option<Guardian>,
}

/// How the applicant signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Signature {
    /// Signed on the screen. `strokes` counts pen strokes; the image is in the vault.
    Drawn { digest: String, strokes: u32 },
    /// Cannot sign (for example cannot hold a pen): a proxy signs, the reason recorded.
    Proxy { digest: String, strokes: u32, proxy_name: String, reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    /// Consent to the application and its declarations.
    pub application: bool,
    /// Separate consent to the collection of biometrics (GB/T 35273).
    pub biometrics: bool,
    pub signature: Signature,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReceiptMethod {
    Printed,
    /// The printer failed or is absent: the receipt QR was shown on screen.
    OnScreen,
}

/// 好差评: 1 (very poor) to 5 (very good), or declined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Rating {
    Score { stars: u8 },
    Declined,
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Delivery::Pickup { .. } => f.write_str("Pickup(<redacted>)"),
            Delivery::Post { .. } => f.write_str("Post(<redacted>)"),
        }
    }
}

impl fmt::Debug for Guardian {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Guardian(<redacted>)")
    }
}

impl fmt::Debug for UrgentRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UrgentRequest").field("ground", &self.ground).finish_non_exhaustive()
    }
}

impl fmt::Debug for DetailsInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DetailsInput(<redacted>)")
    }
}

impl fmt::Debug for Details {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Details")
            .field("urgent", &self.urgent)
            .field("priority", &self.priority)
            .finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------------------
// The states. Each holds the state before it, so what was validated stays validated.

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identify;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChooseServices {
    pub applicant: Applicant,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TakePhoto {
    pub prev: ChooseServices,
    pub services: ChosenServices,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TakeFingerprints {
    pub prev: TakePhoto,
    pub photo: PhotoInput,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnterDetails {
    pub prev: TakeFingerprints,
    /// Empty when the applicant is below the fingerprint age.
    pub fingerprints: Vec<FingerRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub prev: EnterDetails,
    pub details: Details,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sign {
    pub prev: Review,
    #[serde(with = "time::serde::rfc3339")]
    pub reviewed_at: OffsetDateTime,
}

/// A complete application, ready to be sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadyToSeal {
    pub prev: Sign,
    pub consent: Consent,
    #[serde(with = "time::serde::rfc3339")]
    pub signed_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueReceipt {
    pub prev: ReadyToSeal,
    /// One application number per service, in order.
    pub application_numbers: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub sealed_at: OffsetDateTime,
}

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

/// A visit stopped before sealing. The reason is recorded for the shift report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Abandoned {
    pub at_step: Step,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "step")]
pub enum VisitState {
    Applicant(Identify),
    Services(ChooseServices),
    Photo(TakePhoto),
    Fingerprints(TakeFingerprints),
    Details(EnterDetails),
    Review(Review),
    Sign(Sign),
    Seal(ReadyToSeal),
    Receipt(IssueReceipt),
    Rating(Rate),
    Done(Done),
    Abandoned(Abandoned),
}

/// What happened, from the shell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "event")]
pub enum VisitEvent {
    Identified(ApplicantInput),
    ServicesChosen(ServicesInput),
    PhotoAccepted(PhotoInput),
    FingerprintsTaken(Vec<FingerRecord>),
    DetailsEntered(DetailsInput),
    ReviewConfirmed,
    Signed(Consent),
    Sealed { application_numbers: Vec<String> },
    ReceiptIssued(ReceiptMethod),
    Rated(Rating),
    Back,
    Abandon { reason: String },
}

impl VisitEvent {
    fn name(&self) -> &'static str {
        match self {
            VisitEvent::Identified(_) => "identified",
            VisitEvent::ServicesChosen(_) => "services-chosen",
            VisitEvent::PhotoAccepted(_) => "photo-accepted",
            VisitEvent::FingerprintsTaken(_) => "fingerprints-taken",
            VisitEvent::DetailsEntered(_) => "details-entered",
            VisitEvent::ReviewConfirmed => "review-confirmed",
            VisitEvent::Signed(_) => "signed",
            VisitEvent::Sealed { .. } => "sealed",
            VisitEvent::ReceiptIssued(_) => "receipt-issued",
            VisitEvent::Rated(_) => "rated",
            VisitEvent::Back => "back",
            VisitEvent::Abandon { .. } => "abandon",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VisitError {
    #[error("{event} is not possible at the {} step", step.name_zh())]
    IllegalTransition { step: Step, event: &'static str },
    #[error("{0}")]
    Applicant(#[from] ApplicantError),
    #[error("{0}")]
    Services(String),
    #[error("{0}")]
    Photo(String),
    #[error("{0}")]
    Fingerprints(String),
    #[error("{0}")]
    Details(String),
    #[error("{0}")]
    Consent(String),
    #[error("{0}")]
    Seal(String),
    #[error("{0}")]
    Rating(String),
}

/// One visit: an id, the officer, when it started, and its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    pub id: String,
    pub officer: String,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    pub state: VisitState,
}

impl Visit {
    pub fn start(id: impl Into<String>, officer: impl Into<String>, now: OffsetDateTime) -> Visit {
        Visit { id: id.into(), officer: officer.into(), started_at: now, state: VisitState::Applicant(Identify) }
    }

    pub fn step(&self) -> Step {
        self.state.step()
    }

    /// Applies `event` at `now`. On error the visit is unchanged.
    pub fn apply(&mut self, policy: &Policy, now: OffsetDateTime, event: VisitEvent) -> Result<Step, VisitError> {
        let next = transition(&self.state, policy, now, event)?;
        self.state = next;
        Ok(self.step())
    }
}

impl VisitState {
    pub fn step(&self) -> Step {
        match self {
            VisitState::Applicant(_) => Step::Applicant,
            VisitState::Services(_) => Step::Services,
            VisitState::Photo(_) => Step::Photo,
            VisitState::Fingerprints(_) => Step::Fingerprints,
            VisitState::Details(_) => Step::Details,
            VisitState::Review(_) => Step::Review,
            VisitState::Sign(_) => Step::Sign,
            VisitState::Seal(_) => Step::Seal,
            VisitState::Receipt(_) => Step::Receipt,
            VisitState::Rating(_) => Step::Rating,
            VisitState::Done(_) => Step::Done,
            VisitState::Abandoned(_) => Step::Abandoned,
        }
    }

    /// The applicant, once identified.
    pub fn applicant(&self) -> Option<&Applicant> {
        self.services_state().map(|s| &s.applicant)
    }

    /// The chosen services and their fee quote, once chosen.
    pub fn services(&self) -> Option<&ChosenServices> {
        self.photo_state().map(|s| &s.services)
    }

    fn services_state(&self) -> Option<&ChooseServices> {
        match self {
            VisitState::Services(s) => Some(s),
            _ => self.photo_state().map(|s| &s.prev),
        }
    }

    fn photo_state(&self) -> Option<&TakePhoto> {
        match self {
            VisitState::Photo(s) => Some(s),
            VisitState::Fingerprints(s) => Some(&s.prev),
            VisitState::Details(s) => Some(&s.prev.prev),
            VisitState::Review(s) => Some(&s.prev.prev.prev),
            VisitState::Sign(s) => Some(&s.prev.prev.prev.prev),
            _ => self.sealable().map(|s| &s.prev.prev.prev.prev.prev),
        }
    }

    /// The complete application, from the seal step on.
    pub fn sealable(&self) -> Option<&ReadyToSeal> {
        match self {
            VisitState::Seal(s) => Some(s),
            VisitState::Receipt(s) => Some(&s.prev),
            VisitState::Rating(s) => Some(&s.prev.prev),
            VisitState::Done(s) => Some(&s.prev.prev.prev),
            _ => None,
        }
    }
}

fn transition(
    state: &VisitState,
    policy: &Policy,
    now: OffsetDateTime,
    event: VisitEvent,
) -> Result<VisitState, VisitError> {
    let today = now.date();
    let step = state.step();
    let illegal = |e: &VisitEvent| VisitError::IllegalTransition { step, event: e.name() };
    match (state, event) {
        (VisitState::Applicant(_), VisitEvent::Identified(input)) => {
            Ok(VisitState::Services(ChooseServices { applicant: Applicant::from_input(&input, today)? }))
        }
        (VisitState::Services(s), VisitEvent::ServicesChosen(input)) => {
            let services = check_services(&s.applicant, input, policy, today)?;
            Ok(VisitState::Photo(TakePhoto { prev: s.clone(), services }))
        }
        (VisitState::Photo(s), VisitEvent::PhotoAccepted(photo)) => {
            check_photo(&s.prev.applicant, &photo, policy, today)?;
            Ok(VisitState::Fingerprints(TakeFingerprints { prev: s.clone(), photo }))
        }
        (VisitState::Fingerprints(s), VisitEvent::FingerprintsTaken(fingers)) => {
            check_fingerprints(&s.prev.prev.applicant, &fingers, policy, today)?;
            Ok(VisitState::Details(EnterDetails { prev: s.clone(), fingerprints: fingers }))
        }
        (VisitState::Details(s), VisitEvent::DetailsEntered(input)) => {
            let details = check_details(&s.prev.prev.prev.applicant, &input, policy, today)?;
            Ok(VisitState::Review(Review { prev: s.clone(), details }))
        }
        (VisitState::Review(s), VisitEvent::ReviewConfirmed) => {
            Ok(VisitState::Sign(Sign { prev: s.clone(), reviewed_at: now }))
        }
        (VisitState::Sign(s), VisitEvent::Signed(consent)) => {
            check_consent(&consent)?;
            Ok(VisitState::Seal(ReadyToSeal { prev: s.clone(), consent, signed_at: now }))
        }
        (VisitState::Seal(s), VisitEvent::Sealed { application_numbers }) => {
            let wanted = s.prev.prev.prev.prev.prev.services.services.len();
            if application_numbers.len() != wanted {
                return Err(VisitError::Seal(format!(
                    "{wanted} application number(s) expected, {} given",
                    application_numbers.len()
                )));
            }
            let unique: HashSet<&String> = application_numbers.iter().collect();
            if unique.len() != wanted || application_numbers.iter().any(|n| n.trim().is_empty()) {
                return Err(VisitError::Seal("application numbers must be distinct and non-empty".into()));
            }
            Ok(VisitState::Receipt(IssueReceipt { prev: s.clone(), application_numbers, sealed_at: now }))
        }
        (VisitState::Receipt(s), VisitEvent::ReceiptIssued(receipt)) => {
            Ok(VisitState::Rating(Rate { prev: s.clone(), receipt }))
        }
        (VisitState::Rating(s), VisitEvent::Rated(rating)) => {
            if let Rating::Score { stars } = rating
                && !(1..=5).contains(&stars)
            {
                return Err(VisitError::Rating("the rating is 1 to 5 stars".into()));
            }
            Ok(VisitState::Done(Done { prev: s.clone(), rating, finished_at: now }))
        }
        (state, VisitEvent::Back) => back(state).ok_or(VisitError::IllegalTransition { step, event: "back" }),
        (state, VisitEvent::Abandon { reason }) if step < Step::Seal => {
            if reason.trim().is_empty() {
                return Err(VisitError::IllegalTransition { step, event: "abandon without a reason" });
            }
            Ok(VisitState::Abandoned(Abandoned { at_step: state.step(), reason, at: now }))
        }
        (_, event) => Err(illegal(&event)),
    }
}

/// One step back, dropping that step's data. Not possible once signed.
fn back(state: &VisitState) -> Option<VisitState> {
    Some(match state {
        VisitState::Services(_) => VisitState::Applicant(Identify),
        VisitState::Photo(s) => VisitState::Services(s.prev.clone()),
        VisitState::Fingerprints(s) => VisitState::Photo(s.prev.clone()),
        VisitState::Details(s) => VisitState::Fingerprints(s.prev.clone()),
        VisitState::Review(s) => VisitState::Details(s.prev.clone()),
        VisitState::Sign(s) => VisitState::Review(s.prev.clone()),
        _ => return None,
    })
}

fn check_services(
    applicant: &Applicant,
    input: ServicesInput,
    policy: &Policy,
    today: Date,
) -> Result<ChosenServices, VisitError> {
    let err = |m: String| VisitError::Services(m);
    let services = input.services;
    if services.is_empty() {
        return Err(err("choose at least one service".into()));
    }
    let residency = applicant.identity.residency();
    let facts = EndorsementFacts { age_years: applicant.age_on(today), ..input.facts };
    let mut documents = HashSet::new();
    let mut endorsement_types = HashSet::new();
    for service in &services {
        let needed = match service {
            Service::TaiwanResidentPermit { .. } => Residency::Taiwan,
            _ => Residency::Mainland,
        };
        if residency != needed {
            return Err(err(format!(
                "{} is only for {} residents",
                service.describe_en(),
                if needed == Residency::Taiwan { "Taiwan" } else { "mainland" }
            )));
        }
        match service.endorsement() {
            Some(e) => {
                if !endorsement_types.insert((e.region, e.code)) {
                    return Err(err(format!("endorsement {} is chosen twice", e.code)));
                }
                policy.endorsements.check(e, &facts).map_err(|x| err(x.to_string()))?;
                let permit = e.region.permit();
                let new_permit = services.iter().any(|s| s.endorsement().is_none() && s.document() == permit);
                if !new_permit {
                    let held = applicant.held(permit).and_then(|d| d.expiry.map(|x| (d, x)));
                    let Some((_, expiry)) = held else {
                        return Err(err(format!(
                            "endorsement {} needs a valid {}: apply for one too, or record the one held",
                            e.code,
                            permit.name_zh()
                        )));
                    };
                    if expiry <= today {
                        return Err(err(format!("the {} held has expired: apply for a new one", permit.name_zh())));
                    }
                    if add_months(today, e.validity.0) > expiry {
                        return Err(err(format!(
                            "the {} held expires before this endorsement would: renew the permit in this visit",
                            permit.name_zh()
                        )));
                    }
                }
            }
            None => {
                if !documents.insert(service.document()) {
                    return Err(err(format!("{} is chosen twice", service.document().name_zh())));
                }
                let reason = service.reason().unwrap_or(crate::service::IssueReason::First);
                let needs_old =
                    matches!(reason, crate::service::IssueReason::Renewal | crate::service::IssueReason::Damaged);
                if needs_old && applicant.held(service.document()).is_none() {
                    return Err(err(format!(
                        "{} ({}) needs the document held now: record it first",
                        service.document().name_zh(),
                        reason.name_zh()
                    )));
                }
            }
        }
    }
    let quote = policy.fees.quote(&services, today).map_err(|e| err(e.to_string()))?;
    Ok(ChosenServices { services, facts, quote })
}

fn check_digest(digest: &str) -> bool {
    digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit())
}

fn check_photo(applicant: &Applicant, photo: &PhotoInput, policy: &Policy, today: Date) -> Result<(), VisitError> {
    let err = |m: String| VisitError::Photo(m);
    match photo {
        PhotoInput::Captured { digest, failed_checks, override_reason } => {
            if !check_digest(digest) {
                return Err(err("the photo digest is not a SHA-256 hex string".into()));
            }
            let reason_given = override_reason.as_deref().is_some_and(|r| !r.trim().is_empty());
            if !failed_checks.is_empty() && !reason_given {
                return Err(err(format!(
                    "the photo failed {}: retake it, or record why it must be accepted",
                    failed_checks.join(", ")
                )));
            }
            Ok(())
        }
        PhotoInput::Reused { taken_on, digest, .. } => {
            if !check_digest(digest) {
                return Err(err("the photo digest is not a SHA-256 hex string".into()));
            }
            policy
                .rules
                .photo_reuse
                .check(applicant.identity.birth_date(), today, *taken_on)
                .map_err(|e| err(e.to_string()))
        }
    }
}

fn check_fingerprints(
    applicant: &Applicant,
    fingers: &[FingerRecord],
    policy: &Policy,
    today: Date,
) -> Result<(), VisitError> {
    let err = |m: String| VisitError::Fingerprints(m);
    let rule = &policy.rules.fingerprints;
    if applicant.age_on(today) < rule.min_age_years {
        return if fingers.is_empty() {
            Ok(())
        } else {
            Err(err(format!("fingerprints are not taken below age {}", rule.min_age_years)))
        };
    }
    if fingers.len() != rule.fingers_required {
        return Err(err(format!("{} fingers are needed, {} given", rule.fingers_required, fingers.len())));
    }
    let mut seen = HashSet::new();
    for f in fingers {
        if !(1..=10).contains(&f.finger.0) {
            return Err(err(format!("finger position {} is not 1–10", f.finger.0)));
        }
        if !seen.insert(f.finger) {
            return Err(err(format!("finger {} is given twice", f.finger.0)));
        }
        match &f.outcome {
            FingerOutcome::Captured { quality, digest } => {
                if !check_digest(digest) {
                    return Err(err("a fingerprint digest is not a SHA-256 hex string".into()));
                }
                if *quality < rule.min_quality {
                    return Err(err(format!(
                        "finger {} has quality {quality}, below {}: retry, or record an exception",
                        f.finger.0, rule.min_quality
                    )));
                }
            }
            FingerOutcome::Exception { reason, note } => {
                if *reason == FingerException::Other && note.trim().is_empty() {
                    return Err(err(format!("finger {}: describe the exception", f.finger.0)));
                }
            }
        }
    }
    Ok(())
}

fn check_details(
    applicant: &Applicant,
    input: &DetailsInput,
    policy: &Policy,
    today: Date,
) -> Result<Details, VisitError> {
    let err = |m: String| VisitError::Details(m);
    let phone = MobileNumber::parse(&input.phone).map_err(|e| err(format!("phone: {e}")))?;
    let address = input.address.trim().to_string();
    if address.is_empty() {
        return Err(err("the contact address is missing".into()));
    }
    if address.chars().count() > 100 {
        return Err(err("the contact address is longer than 100 characters".into()));
    }
    let delivery = match &input.delivery {
        None => return Err(err("choose delivery: pickup or post".into())),
        Some(Delivery::Pickup { office }) if office.trim().is_empty() => {
            return Err(err("choose the pickup office".into()));
        }
        Some(Delivery::Post { address, postcode }) => {
            if address.trim().is_empty() {
                return Err(err("the postal address is missing".into()));
            }
            if postcode.len() != 6 || !postcode.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err("the postcode has 6 digits".into()));
            }
            Delivery::Post { address: address.trim().to_string(), postcode: postcode.clone() }
        }
        Some(d) => d.clone(),
    };
    if let Some(urgent) = &input.urgent {
        policy.urgent.check(&urgent.ground, &urgent.evidence_seen).map_err(|e| err(e.to_string()))?;
    }
    let priority = policy
        .priority
        .applicable(applicant.identity.birth_date(), today, &input.declared_priority)
        .map_err(|e| err(e.to_string()))?
        .into_iter()
        .map(|c| c.id.clone())
        .collect();
    let guardian_needed = applicant.age_on(today) < policy.rules.guardian.required_below_age_years;
    let guardian_given = !input.guardian_id.trim().is_empty() || !input.guardian_name.trim().is_empty();
    let guardian = if guardian_needed || guardian_given {
        let name = ChineseName::parse(&input.guardian_name).map_err(|e| err(format!("guardian's name: {e}")))?;
        let id =
            CitizenId::parse(&input.guardian_id, today).map_err(|e| err(format!("guardian's identity number: {e}")))?;
        if crate::date::age_on(id.birth_date(), today) < 18 {
            return Err(err("the guardian must be an adult".into()));
        }
        let relationship = input.guardian_relationship.trim().to_string();
        if relationship.is_empty() {
            return Err(err("the guardian's relationship is missing".into()));
        }
        let phone = MobileNumber::parse(&input.guardian_phone).map_err(|e| err(format!("guardian's phone: {e}")))?;
        Some(Guardian { name, id, relationship, phone })
    } else {
        None
    };
    Ok(Details { phone, address, delivery, urgent: input.urgent.clone(), priority, guardian })
}

fn check_consent(consent: &Consent) -> Result<(), VisitError> {
    let err = |m: &str| Err(VisitError::Consent(m.into()));
    if !consent.application {
        return err("the applicant has not agreed to the application's declarations");
    }
    if !consent.biometrics {
        return err("the applicant has not agreed to the collection of photo and fingerprints");
    }
    match &consent.signature {
        Signature::Drawn { digest, strokes } if !check_digest(digest) || *strokes == 0 => err("the signature is empty"),
        Signature::Proxy { digest, strokes, proxy_name, reason } => {
            if !check_digest(digest) || *strokes == 0 {
                err("the proxy's signature is empty")
            } else if proxy_name.trim().is_empty() || reason.trim().is_empty() {
                err("a proxy signature needs the proxy's name and the reason")
            } else {
                Ok(())
            }
        }
        Signature::Drawn { .. } => Ok(()),
    }
}

/// The fingerprint-exception reasons a shell offers, with labels.
pub const FINGER_EXCEPTIONS: [(FingerException, &str, &str); 5] = [
    (FingerException::Amputated, "缺指", "amputated"),
    (FingerException::Injured, "受伤", "injured"),
    (FingerException::Bandaged, "包扎", "bandaged"),
    (FingerException::Unreadable, "指纹磨损无法采集", "worn or unreadable"),
    (FingerException::Other, "其他", "other"),
];

#[cfg(test)]
#[path = "visit_tests.rs"]
mod tests;
