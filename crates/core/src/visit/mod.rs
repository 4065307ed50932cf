//! A visit, as the service hall runs it (DESIGN.md "Visit"):
//!
//! applicant (with guardians when the rules ask) → services (fee quoted) → photo →
//! fingerprints (by the published procedure) → details (contact, delivery, urgent grounds,
//! priority) → review → consent and signatures → payment (the quote frozen) → seal (each
//! application numbered with its promised issue date) → receipt → rating.
//!
//! [`Visit::apply`] takes an event from the screen and the time, and either moves on or
//! returns a typed error and changes nothing. The transitions themselves are methods of the
//! state types in [`states`], each consuming its state, so a transition that skips a step
//! cannot be written. Going back (to any finished step up to signing) drops the data of the
//! step returned to; once signed the visit goes forward or is abandoned (with a refund
//! recorded when money was taken).
//!
//! Unlock is not part of a visit: a visit starts once an officer has unlocked, in a mode
//! (home, outreach point or hall), perhaps from an appointment.

mod checks;
mod error;
mod flags;
mod inputs;
pub mod states;

pub use checks::MAX_ADDRESS;
pub use error::*;
pub use flags::Flag;
pub use inputs::*;
pub use states::{
    Abandoned, ChooseServices, Done, EnterDetails, Identify, IssueReceipt, Pay, Rate, ReadyToSeal, Review, Sign,
    TakeFingerprints, TakePhoto,
};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::policy::{PaymentMethod, Policy};

/// The steps, in order, for the screen to show where the visit is.
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
    Pay,
    Seal,
    Receipt,
    Rating,
    Done,
    Abandoned,
}

impl Step {
    /// The steps a visit goes through, in order.
    pub const FLOW: [Step; 12] = [
        Step::Applicant,
        Step::Services,
        Step::Photo,
        Step::Fingerprints,
        Step::Details,
        Step::Review,
        Step::Sign,
        Step::Pay,
        Step::Seal,
        Step::Receipt,
        Step::Rating,
        Step::Done,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Step::Applicant => "step.applicant",
            Step::Services => "step.services",
            Step::Photo => "step.photo",
            Step::Fingerprints => "step.fingerprints",
            Step::Details => "step.details",
            Step::Review => "step.review",
            Step::Sign => "step.sign",
            Step::Pay => "step.pay",
            Step::Seal => "step.seal",
            Step::Receipt => "step.receipt",
            Step::Rating => "step.rating",
            Step::Done => "step.done",
            Step::Abandoned => "step.abandoned",
        }
    }
}

/// What the screen can send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "event")]
pub enum VisitEvent {
    Identified(Identification),
    ServicesChosen(ServicesInput),
    PhotoTaken(PhotoInput),
    FingerprintsTaken(FingerprintsInput),
    DetailsEntered(DetailsInput),
    ReviewConfirmed,
    Signed(ConsentInput),
    Paid(PaymentInput),
    Sealed {
        application_numbers: Vec<String>,
        rating_code: String,
    },
    ReceiptIssued(ReceiptMethod),
    Rated(RatingInput),
    /// One step back.
    Back,
    /// Back to a finished step (the step bar).
    BackTo(Step),
    Abandon(AbandonInput),
}

/// The kind of an event, for errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    Identified,
    ServicesChosen,
    PhotoTaken,
    FingerprintsTaken,
    DetailsEntered,
    ReviewConfirmed,
    Signed,
    Paid,
    Sealed,
    ReceiptIssued,
    Rated,
    Back,
    Abandon,
}

impl EventKind {
    pub fn key(self) -> &'static str {
        match self {
            EventKind::Identified => "event.identified",
            EventKind::ServicesChosen => "event.services-chosen",
            EventKind::PhotoTaken => "event.photo-taken",
            EventKind::FingerprintsTaken => "event.fingerprints-taken",
            EventKind::DetailsEntered => "event.details-entered",
            EventKind::ReviewConfirmed => "event.review-confirmed",
            EventKind::Signed => "event.signed",
            EventKind::Paid => "event.paid",
            EventKind::Sealed => "event.sealed",
            EventKind::ReceiptIssued => "event.receipt-issued",
            EventKind::Rated => "event.rated",
            EventKind::Back => "event.back",
            EventKind::Abandon => "event.abandon",
        }
    }
}

impl VisitEvent {
    pub fn kind(&self) -> EventKind {
        match self {
            VisitEvent::Identified(_) => EventKind::Identified,
            VisitEvent::ServicesChosen(_) => EventKind::ServicesChosen,
            VisitEvent::PhotoTaken(_) => EventKind::PhotoTaken,
            VisitEvent::FingerprintsTaken(_) => EventKind::FingerprintsTaken,
            VisitEvent::DetailsEntered(_) => EventKind::DetailsEntered,
            VisitEvent::ReviewConfirmed => EventKind::ReviewConfirmed,
            VisitEvent::Signed(_) => EventKind::Signed,
            VisitEvent::Paid(_) => EventKind::Paid,
            VisitEvent::Sealed { .. } => EventKind::Sealed,
            VisitEvent::ReceiptIssued(_) => EventKind::ReceiptIssued,
            VisitEvent::Rated(_) => EventKind::Rated,
            VisitEvent::Back | VisitEvent::BackTo(_) => EventKind::Back,
            VisitEvent::Abandon(_) => EventKind::Abandon,
        }
    }
}

/// Where a visit is, with everything collected so far.
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
    Pay(Pay),
    Seal(ReadyToSeal),
    Receipt(IssueReceipt),
    Rating(Rate),
    Done(Done),
    Abandoned(Abandoned),
}

/// How a visit begins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitStart {
    pub id: String,
    pub officer: String,
    pub mode: VisitMode,
    /// The appointment it serves, if any.
    pub appointment: Option<String>,
}

/// One visit: who started it, where, when, and its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    pub id: String,
    pub officer: String,
    pub mode: VisitMode,
    pub appointment: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    pub state: VisitState,
}

impl Visit {
    /// Starts a visit. A home visit for another reason needs the reason; an outreach visit
    /// the point's name.
    pub fn start(start: VisitStart, now: OffsetDateTime) -> Result<Visit, VisitError> {
        let mode = match start.mode {
            VisitMode::Home { reason: HomeReason::Other { text } } => {
                let text = text.trim().to_string();
                if text.is_empty() {
                    return Err(ModeError::HomeReasonMissing.into());
                }
                VisitMode::Home { reason: HomeReason::Other { text } }
            }
            VisitMode::Outreach { point } => {
                let point = point.trim().to_string();
                if point.is_empty() {
                    return Err(ModeError::OutreachPointMissing.into());
                }
                VisitMode::Outreach { point }
            }
            mode => mode,
        };
        Ok(Visit {
            id: start.id,
            officer: start.officer,
            mode,
            appointment: start.appointment,
            started_at: now,
            state: VisitState::Applicant(Identify),
        })
    }

    pub fn step(&self) -> Step {
        self.state.step()
    }

    /// Applies `event` at `now`. On error the visit is unchanged.
    pub fn apply(&mut self, policy: &Policy, now: OffsetDateTime, event: VisitEvent) -> Result<Step, VisitError> {
        let state = std::mem::replace(&mut self.state, VisitState::Applicant(Identify));
        match transition(state, policy, now, event) {
            Ok(next) => {
                self.state = next;
                Ok(self.step())
            }
            Err(refused) => {
                let (unchanged, e) = *refused;
                self.state = unchanged;
                Err(e)
            }
        }
    }

    /// What is due at payment, once the services and details are in: the fees, and the postage
    /// where the bureau takes it with them (not when the courier collects it).
    pub fn amount_due(&self, policy: &Policy) -> Option<crate::Yuan> {
        let (chosen, details) = (self.state.services()?, self.state.details()?);
        Some(checks::amount_due(chosen, details, policy).0)
    }

    /// What the supervisor should look at in this visit.
    pub fn flags(&self, policy: &Policy) -> Vec<Flag> {
        self.state.flags(policy)
    }
}

/// One step of the dispatch: `$state` moves by `$call`; a refusal is wrapped back.
macro_rules! step {
    ($variant:ident, $call:expr, $next:ident) => {
        $call.map(VisitState::$next).map_err(|refused| {
            let (s, e) = *refused;
            Box::new((VisitState::$variant(s), e))
        })
    };
}

fn transition(
    state: VisitState,
    policy: &Policy,
    now: OffsetDateTime,
    event: VisitEvent,
) -> Result<VisitState, states::Refused<VisitState>> {
    use VisitEvent as E;
    use VisitState as S;
    let step = state.step();
    match (state, event) {
        (S::Applicant(s), E::Identified(i)) => step!(Applicant, s.identify(i, policy, now), Services),
        (S::Services(s), E::ServicesChosen(i)) => step!(Services, s.choose(i, policy, now), Photo),
        (S::Photo(s), E::PhotoTaken(i)) => step!(Photo, s.take(i, policy, now), Fingerprints),
        (S::Fingerprints(s), E::FingerprintsTaken(i)) => step!(Fingerprints, s.take(i, policy, now), Details),
        (S::Details(s), E::DetailsEntered(i)) => step!(Details, s.enter(&i, policy, now), Review),
        (S::Review(s), E::ReviewConfirmed) => Ok(S::Sign(s.confirm(now))),
        (S::Sign(s), E::Signed(i)) => step!(Sign, s.sign(i, now), Pay),
        (S::Pay(s), E::Paid(i)) => step!(Pay, s.pay(i, policy, now), Seal),
        (S::Seal(s), E::Sealed { application_numbers, rating_code }) => {
            step!(Seal, s.sealed(application_numbers, rating_code, policy, now), Receipt)
        }
        (S::Receipt(s), E::ReceiptIssued(m)) => Ok(S::Rating(s.issued(m))),
        (S::Rating(s), E::Rated(i)) => step!(Rating, s.rate(i, policy, now), Done),
        (state, E::Back) => match back(state) {
            Ok(prev) => Ok(prev),
            Err(state) => Err(Box::new((*state, VisitError::IllegalTransition { step, event: EventKind::Back }))),
        },
        (state, E::BackTo(target)) => back_to(state, target),
        (state, E::Abandon(input)) => abandon(state, input, now),
        (state, event) => Err(Box::new((state, VisitError::IllegalTransition { step, event: event.kind() }))),
    }
}

/// One step back, dropping the data of the step returned to. Not possible once signed: the
/// state comes back unchanged.
fn back(state: VisitState) -> Result<VisitState, Box<VisitState>> {
    use VisitState as S;
    Ok(match state {
        S::Services(s) => S::Applicant(s.back()),
        S::Photo(s) => S::Services(s.back()),
        S::Fingerprints(s) => S::Photo(s.back()),
        S::Details(s) => S::Fingerprints(s.back()),
        S::Review(s) => S::Details(s.back()),
        S::Sign(s) => S::Review(s.back()),
        other => return Err(Box::new(other)),
    })
}

fn back_to(state: VisitState, target: Step) -> Result<VisitState, states::Refused<VisitState>> {
    let step = state.step();
    if target >= step || step > Step::Sign {
        return Err(Box::new((state, VisitError::CannotGoBackTo(target))));
    }
    let mut state = state;
    while state.step() > target {
        state = match back(state) {
            Ok(prev) => prev,
            Err(s) => return Err(Box::new((*s, VisitError::CannotGoBackTo(target)))),
        };
    }
    Ok(state)
}

fn abandon(
    state: VisitState,
    input: AbandonInput,
    now: OffsetDateTime,
) -> Result<VisitState, states::Refused<VisitState>> {
    let step = state.step();
    if step >= Step::Receipt {
        return Err(Box::new((state, VisitError::IllegalTransition { step, event: EventKind::Abandon })));
    }
    let reason = input.reason.trim().to_string();
    if reason.is_empty() {
        return Err(Box::new((state, VisitError::AbandonReasonMissing)));
    }
    let payment = state.payment().cloned();
    let refund_reference = input.refund_reference.map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
    if let Some(p) = payment.as_ref().filter(|p| p.method != PaymentMethod::PayAtPickup)
        && refund_reference.is_none()
    {
        return Err(Box::new((state, VisitError::RefundNotRecorded { method: p.method })));
    }
    Ok(VisitState::Abandoned(Abandoned { at_step: step, reason, payment, refund_reference, at: now }))
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
            VisitState::Pay(_) => Step::Pay,
            VisitState::Seal(_) => Step::Seal,
            VisitState::Receipt(_) => Step::Receipt,
            VisitState::Rating(_) => Step::Rating,
            VisitState::Done(_) => Step::Done,
            VisitState::Abandoned(_) => Step::Abandoned,
        }
    }

    fn choose_services(&self) -> Option<&ChooseServices> {
        match self {
            VisitState::Services(s) => Some(s),
            _ => self.take_photo().map(|s| &s.prev),
        }
    }

    fn take_photo(&self) -> Option<&TakePhoto> {
        match self {
            VisitState::Photo(s) => Some(s),
            _ => self.take_fingerprints().map(|s| &s.prev),
        }
    }

    fn take_fingerprints(&self) -> Option<&TakeFingerprints> {
        match self {
            VisitState::Fingerprints(s) => Some(s),
            _ => self.enter_details().map(|s| &s.prev),
        }
    }

    fn enter_details(&self) -> Option<&EnterDetails> {
        match self {
            VisitState::Details(s) => Some(s),
            _ => self.review().map(|s| &s.prev),
        }
    }

    fn review(&self) -> Option<&Review> {
        match self {
            VisitState::Review(s) => Some(s),
            _ => self.sign().map(|s| &s.prev),
        }
    }

    fn sign(&self) -> Option<&Sign> {
        match self {
            VisitState::Sign(s) => Some(s),
            _ => self.pay().map(|s| &s.prev),
        }
    }

    fn pay(&self) -> Option<&Pay> {
        match self {
            VisitState::Pay(s) => Some(s),
            _ => self.sealable().map(|s| &s.prev),
        }
    }

    /// The complete, paid application, from the seal step on.
    pub fn sealable(&self) -> Option<&ReadyToSeal> {
        match self {
            VisitState::Seal(s) => Some(s),
            _ => self.receipt().map(|s| &s.prev),
        }
    }

    fn receipt(&self) -> Option<&IssueReceipt> {
        match self {
            VisitState::Receipt(s) => Some(s),
            VisitState::Rating(s) => Some(&s.prev),
            VisitState::Done(s) => Some(&s.prev.prev),
            _ => None,
        }
    }

    /// The applicant and guardians, once identified.
    pub fn identified(&self) -> Option<&Identified> {
        self.choose_services().map(|s| &s.who)
    }

    /// The chosen services, their fee quote and the age rules, once chosen.
    pub fn services(&self) -> Option<&ChosenServices> {
        self.take_photo().map(|s| &s.services)
    }

    pub fn photo(&self) -> Option<&PhotoInput> {
        self.take_fingerprints().map(|s| &s.photo)
    }

    pub fn fingerprints(&self) -> Option<&Fingerprints> {
        self.enter_details().map(|s| &s.fingerprints)
    }

    pub fn details(&self) -> Option<&Details> {
        self.review().map(|s| &s.details)
    }

    pub fn consent(&self) -> Option<&Consent> {
        self.pay().map(|s| &s.consent)
    }

    pub fn payment(&self) -> Option<&Payment> {
        self.sealable().map(|s| &s.payment)
    }

    /// The numbered applications with their promised dates, once sealed.
    pub fn applications(&self) -> Option<&[Application]> {
        self.receipt().map(|s| s.applications.as_slice())
    }

    pub fn rating(&self) -> Option<&Rating> {
        match self {
            VisitState::Done(d) => Some(&d.rating),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
