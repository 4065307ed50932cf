//! The visit controller (DESIGN rule 2): screens send [`VisitCmd`]s, this turns them into
//! `Visit::apply`, keeps the refusal for the screen to show, and saves the visit as an
//! encrypted draft after every accepted step, so a crash or a dead battery resumes at the same
//! step after unlock.
//!
//! Drafts are written by one thread per session, in the order the steps were taken (a later
//! step's draft can never be overwritten by an earlier one that was slow to write), so the
//! frame never waits on the disk.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bevy::prelude::*;
use doorstep_core::text::{Localize, Message};
use doorstep_core::visit::{AbandonInput, Step, Visit, VisitEvent, VisitMode, VisitStart};

mod abandoned;
mod drafts;
mod in_hand;

use abandoned::record_abandoned;
pub use abandoned::{abandoned_subject, took_a_fee};
pub use drafts::{DraftStatus, Drafts, FeedbackRead};
pub use in_hand::{
    FormInHand, InHand, KEPT_WHEN_LEFT, PhotoInHandOf, PrintsInHand, applicant_tag, digest, keep_form_in_hand,
    keep_forms_left, keep_photo_of,
};
use in_hand::{captures_in_hand, read_forms_left};

use crate::screens::PolicyInUse;
use crate::session::{Session, SharedVault};
use crate::tasks::{Pending, Poll, Waker};

/// The draft part that holds the visit itself; captures (photo, prints, signature) are parts
/// of their own, named in [`part`].
pub const VISIT_PART: &str = "visit";

/// Names of the draft parts that hold captured bytes.
pub mod part {
    pub const PHOTO: &str = "photo.jpg";
    /// The fingers done so far at the fingerprint step (core's attempts, as JSON): a visit cut
    /// off there goes on from the next finger (each print's image is its own part).
    pub const PRINTS_IN_HAND: &str = "fingers-in-hand.json";
    /// The photo taken and checked at a photo step not finished (the cropped JPEG): a visit cut
    /// off there shows it again, checked anew, instead of asking for another.
    pub const PHOTO_IN_HAND: &str = "photo-in-hand.jpg";
    /// Whose the photo in hand is, which photo (its digest), and whether it is a printed one
    /// brought along ([`super::PhotoInHandOf`], as JSON): it is shown again only for that
    /// applicant. (The fingers in hand carry their applicant in their own part.)
    pub const PHOTO_IN_HAND_OF: &str = "photo-in-hand-of.json";
    pub const SIGNATURE: &str = "signature.png";
    /// What was typed and chosen on a form step not finished ([`super::FormInHand`], as
    /// JSON): a visit cut off there (a dead battery, a Next refused) shows it again.
    pub const FORM_IN_HAND: &str = "form-in-hand.json";
    /// What was typed and chosen on each form step the officer left, with the step and whose
    /// (a list of [`super::FormInHand`], as JSON): put back when the officer goes back to one,
    /// after a restart too.
    pub const FORMS_LEFT: &str = "forms-left.json";

    /// The signature of guardian `n` (from 1), or of the entrusted companion ("companion").
    pub fn signature_of(signer: &str) -> String {
        format!("signature-{signer}.png")
    }

    /// The image of the print of finger `n` (1–10).
    pub fn finger(n: u8) -> String {
        format!("finger-{n}.raw")
    }
}

/// The draft a visit is kept under. Once sealed, a key of its own: the vault erases a sealed
/// visit's drafts when it opens, and the receipt and the rating are still to come after a
/// crash or a dead battery.
pub fn draft_key(visit: &Visit) -> String {
    if matches!(visit.step(), Step::Receipt | Step::Rating | Step::Done) {
        format!("{}{SEALED_SUFFIX}", visit.id)
    } else {
        visit.id.clone()
    }
}

/// What a screen asks of the visit.
#[derive(Message, Debug, Clone)]
pub enum VisitCmd {
    /// A new visit, in this mode.
    Start(VisitMode),
    /// A new visit for this appointment (its mode; its applicant, services and contact are
    /// filled in on their steps).
    StartAppointment(Box<doorstep_core::appointment::Appointment>),
    Apply(Box<VisitEvent>),
    /// Continue the visit kept as a draft.
    Resume(String),
    /// Throw a draft away (the officer said so): nothing of it stays on the unit.
    Discard(String),
    /// Leave the finished visit (done or abandoned) for the home screen.
    Close,
}

impl VisitCmd {
    pub fn apply(event: VisitEvent) -> VisitCmd {
        VisitCmd::Apply(Box::new(event))
    }
}

/// The bureau's numbers for a visit's applications, one per service: made from the sealed
/// application's id (unique per unit and time), so they are known before sealing, and the
/// first is known from the id alone (the home screen names a returned application by it).
pub fn application_numbers(id: &doorstep_envelope::ApplicationId, services: usize) -> Vec<String> {
    let hex: String = id.to_hyphenated().chars().filter(char::is_ascii_hexdigit).collect();
    (1..=services).map(|i| format!("DS{}{i:02}", hex[hex.len() - 10..].to_ascii_uppercase())).collect()
}

/// What a sealed visit's draft key adds to its id.
pub(crate) const SEALED_SUFFIX: &str = "+sealed";

/// A visit kept as a draft, offered on the home screen after unlock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resumable {
    pub id: String,
    pub step: Step,
    /// The applicant's name, once a card was read: drafts are told apart by it.
    pub who: Option<String>,
    /// When the visit began, in China Standard Time, "MM-DD HH:MM".
    pub started: String,
    /// The officer who began it (the supervisor's shift names each visit not yet sealed).
    pub officer: String,
    /// The fee taken, and how, on a visit paid for and not yet sealed: it is in no batch's
    /// takings until it is sealed, and the supervisor counting the cash must know of it.
    pub paid: Option<(doorstep_core::policy::PaymentMethod, doorstep_core::Yuan)>,
    /// Its application is in the outbox already, though the draft still stands at the seal
    /// step: a seal reported failed whose file was durable (taken as it is when the seal is
    /// tapped again; its draft goes at the next opening). Its fee is in the batch's takings.
    pub sealed: bool,
}

impl Resumable {
    /// Not yet sealed: in no outbox and no batch (a visit cut off at its receipt or rating
    /// was sealed before).
    pub fn unsealed(&self) -> bool {
        !self.sealed && !matches!(self.step, Step::Receipt | Step::Rating | Step::Done | Step::Abandoned)
    }
}

impl Resumable {
    fn of(key: &str, visit: &Visit, sealed: bool) -> Resumable {
        let fmt = time::macros::format_description!("[month]-[day] [hour]:[minute]");
        let started = visit
            .started_at
            .checked_to_offset(crate::settings::now().offset())
            .and_then(|t| t.format(&fmt).ok())
            .unwrap_or_default();
        let who = visit.state.identified().map(|w| w.applicant.name.as_str().to_string());
        let paid = visit.state.payment().filter(|_| visit.step() == Step::Seal).map(|p| (p.method, p.amount));
        let officer = visit.officer.clone();
        Resumable { id: key.to_string(), step: visit.step(), who, started, officer, paid, sealed }
    }
}

/// The visit in hand, the last refusal, and the drafts that can be resumed.
#[derive(Resource, Default)]
pub struct VisitFlow {
    pub visit: Option<Visit>,
    /// Why the last event was refused, for the screen (cleared by the next accepted one).
    pub refusal: Option<Message>,
    pub resumable: Vec<Resumable>,
    loading: Option<Pending<Loaded>>,
    /// The visits kept as drafts, by draft key.
    loaded: Vec<(String, Visit)>,
    /// What a visit kept as a draft had in hand at a capture step not finished, by draft key.
    in_hand: Vec<(String, InHand)>,
}

/// What the drafts hold: the visits, what each had in hand at a capture step cut off, and
/// those to offer.
struct Loaded {
    visits: Vec<(String, Visit)>,
    in_hand: Vec<(String, InHand)>,
    resumable: Vec<Resumable>,
}

impl VisitFlow {
    pub fn step(&self) -> Option<Step> {
        self.visit.as_ref().map(Visit::step)
    }

    /// The photo and the fingers visit `id` had in hand before it was kept as a draft (taken:
    /// asked once, when the visit is taken up again). Not what was typed: that is
    /// [`Self::take_form`]'s and [`Self::take_forms_left`]'s.
    pub fn take_in_hand(&mut self, id: &str) -> InHand {
        self.take(id, |left| InHand {
            prints: std::mem::take(&mut left.prints),
            photo: left.photo.take(),
            photo_of: std::mem::take(&mut left.photo_of),
            brought: std::mem::take(&mut left.brought),
            ..InHand::default()
        })
        .unwrap_or_default()
    }

    /// What was typed on the form steps the visit in hand left before it was kept as a draft
    /// ([`InHand::forms_left`]); taken once.
    pub fn take_forms_left(&mut self) -> Vec<FormInHand> {
        let Some(id) = self.visit.as_ref().map(|v| v.id.clone()) else { return Vec::new() };
        self.take(&id, |left| std::mem::take(&mut left.forms_left)).unwrap_or_default()
    }

    /// What was typed and chosen on the step the visit in hand was cut off at, if it is at
    /// that step with that applicant (checked again here: the officer may have moved on since
    /// the draft was read); taken once.
    pub fn take_form(&mut self) -> Option<crate::ui::form::Typed> {
        let visit = self.visit.as_ref()?;
        let (id, step, tag) = (visit.id.clone(), visit.step(), applicant_tag(visit));
        self.take(&id, |left| left.form.take_if(|f| f.is_for(step, tag.as_deref())).map(|f| f.typed)).flatten()
    }

    /// `take` applied to what visit `id` had in hand; its entry goes once nothing is left in it.
    fn take<T>(&mut self, id: &str, take: impl FnOnce(&mut InHand) -> T) -> Option<T> {
        let at = self.in_hand.iter().position(|(k, _)| k == id)?;
        let taken = take(&mut self.in_hand[at].1);
        if self.in_hand[at].1 == InHand::default() {
            self.in_hand.swap_remove(at);
        }
        Some(taken)
    }

    /// Whether the drafts are still being looked for.
    pub fn loading(&self) -> bool {
        self.loading.is_some()
    }

    /// The appointments a visit in hand or kept as a draft serves: not to be started twice.
    pub fn appointments_begun(&self) -> Vec<String> {
        let drafts = self.loaded.iter().map(|(_, v)| v);
        self.visit.iter().chain(drafts).filter_map(|v| v.appointment.clone()).collect()
    }
}

pub fn plugin(app: &mut App) {
    app.init_resource::<VisitFlow>();
    app.init_resource::<FollowUpFailed>();
    app.insert_resource(Drafts::none());
    app.add_message::<VisitCmd>();
    app.add_systems(Update, (follow_session, finish_loading, apply_commands).chain());
}

/// A new session gets its own draft writer and looks for drafts to resume; a closed one
/// forgets the visit in hand (it is in the vault).
fn follow_session(session: Res<Session>, mut flow: ResMut<VisitFlow>, mut drafts: ResMut<Drafts>, waker: Res<Waker>) {
    if !session.is_changed() {
        return;
    }
    *flow = VisitFlow::default();
    *drafts = match &session.vault {
        Some(vault) => {
            let v = vault.clone();
            flow.loading = Some(crate::tasks::spawn("drafts-load", &waker, move || load_drafts(&v)));
            Drafts::start(vault.clone(), waker.clone())
        }
        None => Drafts::none(),
    };
}

/// What the drafts hold: the visits, and what each had in hand, read on a task at unlock.
fn load_drafts(vault: &SharedVault) -> Loaded {
    let v = crate::session::lock(vault);
    let visits = visits_in(&v);
    // The fingers done (one that does not read is started again) and the photo taken (checked
    // again when it is shown): only where they were taken of the applicant the visit now has.
    // And what was typed on the step it was cut off at, for the same applicant, and on the
    // steps left before it.
    let in_hand = visits
        .iter()
        .filter_map(|(id, visit)| {
            let load = |name: &str| v.load_draft(id, name).ok().flatten();
            let forms_left = load(part::FORMS_LEFT).map(|b| read_forms_left(&b)).unwrap_or_default();
            let form_in_hand = load(part::FORM_IN_HAND);
            let (form, forms_left) = in_hand::forms_kept(visit, form_in_hand.as_deref().map(|b| &b[..]), forms_left);
            let kept = InHand { form, forms_left, ..captures_in_hand(visit, &load) };
            (kept != InHand::default()).then(|| (id.clone(), kept))
        })
        .collect();
    let resumable = resumable(&visits, &sealed_visits(&v));
    Loaded { visits, in_hand, resumable }
}

/// The visits kept as drafts on the unit that are not finished, as the home screen offers
/// them (read here, on the caller's thread: a task's).
pub fn resumable_in(vault: &SharedVault) -> Vec<Resumable> {
    resumable_of(&crate::session::lock(vault))
}

/// The visits kept as drafts in `v` that are not finished (for the command line, which holds
/// the vault itself).
pub fn resumable_of(v: &doorstep_vault::Vault) -> Vec<Resumable> {
    resumable(&visits_in(v), &sealed_visits(v))
}

/// Of `visits` (by draft key), those not finished, as the home screen offers them; those whose
/// id is in `sealed` (the visits the outbox holds) are marked so.
fn resumable(visits: &[(String, Visit)], sealed: &std::collections::BTreeSet<String>) -> Vec<Resumable> {
    visits
        .iter()
        .filter(|(_, v)| !matches!(v.step(), Step::Done | Step::Abandoned))
        .map(|(key, v)| Resumable::of(key, v, sealed.contains(&v.id)))
        .collect()
}

/// The visits whose application the outbox holds. One that cannot be read is said, and taken
/// as none: the supervisor is then told of a fee twice, never of none.
fn sealed_visits(v: &doorstep_vault::Vault) -> std::collections::BTreeSet<String> {
    match v.outbox() {
        Ok(entries) => entries.into_iter().map(|e| e.visit_id).filter(|id| !id.is_empty()).collect(),
        Err(e) => {
            error!("cannot read the outbox to tell the drafts sealed: {e}");
            Default::default()
        }
    }
}

/// Every visit kept as a draft that can still be read, by draft key. A draft that does not
/// parse is left alone (and logged by id only): it may be from a newer version of the unit.
fn visits_in(v: &doorstep_vault::Vault) -> Vec<(String, Visit)> {
    let ids = match v.draft_visits() {
        Ok(ids) => ids,
        Err(e) => {
            error!("cannot list the drafts: {e}");
            return Vec::new();
        }
    };
    ids.iter()
        .filter_map(|id| match v.load_draft(id, VISIT_PART) {
            Ok(Some(bytes)) => match serde_json::from_slice::<Visit>(&bytes) {
                Ok(visit) => Some((id.clone(), visit)),
                Err(e) => {
                    // Where it failed, never what it read (serde quotes the value it met).
                    warn!(
                        "draft {id} does not read as a visit ({:?} at line {} column {})",
                        e.classify(),
                        e.line(),
                        e.column()
                    );
                    None
                }
            },
            Ok(None) => None,
            Err(e) => {
                error!("draft {id} cannot be read: {e}");
                None
            }
        })
        .collect()
}

fn finish_loading(mut flow: ResMut<VisitFlow>, drafts: Res<Drafts>) {
    let Some(task) = &flow.loading else { return };
    let Loaded { visits, in_hand, resumable } = match task.poll() {
        Poll::Running => return,
        Poll::Ready(v) => v,
        Poll::Failed => Loaded { visits: Vec::new(), in_hand: Vec::new(), resumable: Vec::new() },
    };
    flow.in_hand = in_hand;
    flow.loading = None;
    // A finished visit whose draft outlived it (the unit stopped before "back to today's
    // work"): nothing is left to do with it.
    for (key, v) in &visits {
        if matches!(v.step(), Step::Done | Step::Abandoned) {
            drafts.erase(key);
        }
    }
    flow.resumable = resumable;
    flow.loaded = visits;
}

/// A fresh visit id: the time and 6 random bytes (no personal data).
fn new_visit_id(now: time::OffsetDateTime) -> String {
    let random: [u8; 6] = rand::random();
    format!("visit-{}-{}", now.unix_timestamp(), hex::encode(random))
}

fn apply_commands(
    mut commands: MessageReader<VisitCmd>,
    mut flow: ResMut<VisitFlow>,
    drafts: Res<Drafts>,
    session: Res<Session>,
    policy: Res<PolicyInUse>,
    sync: Option<Res<crate::unit_sync::UnitSync>>,
    (waker, failed): (Res<Waker>, Res<FollowUpFailed>),
) {
    for cmd in commands.read() {
        let now = crate::settings::now();
        // The freeze rules stop new visits whatever asked for one (a visit begun goes on).
        if matches!(cmd, VisitCmd::Start(_) | VisitCmd::StartAppointment(_))
            && let Some(freeze) = crate::screens::home::freezes(sync.as_deref(), &policy.0).first()
        {
            flow.refusal = Some(freeze.message());
            continue;
        }
        match cmd.clone() {
            VisitCmd::Start(mode) => {
                let Some(officer) = &session.officer else { continue };
                let start = VisitStart { id: new_visit_id(now), officer: officer.id.clone(), mode, appointment: None };
                match Visit::start(start, now) {
                    Ok(visit) => {
                        save(&drafts, &visit);
                        flow.visit = Some(visit);
                        flow.refusal = None;
                    }
                    Err(e) => flow.refusal = Some(e.message()),
                }
            }
            VisitCmd::StartAppointment(a) => {
                let Some(officer) = &session.officer else { continue };
                match a.start_visit(new_visit_id(now), officer.id.clone(), now) {
                    Ok((visit, _)) => {
                        save(&drafts, &visit);
                        flow.visit = Some(visit);
                        flow.refusal = None;
                    }
                    Err(e) => flow.refusal = Some(e.message()),
                }
            }
            VisitCmd::Apply(event) => {
                let Some(visit) = flow.visit.as_mut() else { continue };
                let rated = matches!(*event, VisitEvent::Rated(_));
                let stopped = matches!(*event, VisitEvent::Abandon(_));
                match visit.apply(&policy.0, now, *event) {
                    Ok(_) => {
                        let snapshot = visit.clone();
                        save(&drafts, &snapshot);
                        flow.refusal = None;
                        if rated {
                            follow_up_poor_rating(&snapshot, &policy.0, session.vault.clone(), (&waker, &failed), now);
                        }
                        if stopped {
                            record_abandoned(&snapshot, session.vault.clone(), &waker, now, false);
                        }
                    }
                    Err(e) => flow.refusal = Some(e.message()),
                }
            }
            VisitCmd::Resume(key) => {
                if let Some((_, v)) = flow.loaded.iter().find(|(k, _)| *k == key).cloned() {
                    flow.visit = Some(v);
                    flow.refusal = None;
                }
            }
            VisitCmd::Discard(key) => {
                // A visit not sealed is stopped as the stop dialog stops one, and recorded so
                // (the supervisor counts the day's stops); one that took a fee is not
                // discarded here: its refund is recorded by the stop dialog, in the visit.
                // A sealed one (cut off at its receipt or rating) only loses its draft: its
                // application stays in the outbox.
                let unsealed = flow.resumable.iter().find(|r| r.id == key).is_some_and(Resumable::unsealed);
                if unsealed && let Some((_, visit)) = flow.loaded.iter().find(|(k, _)| *k == key) {
                    let mut stopped = visit.clone();
                    let stop = AbandonInput { reason: DISCARDED.to_string(), refund_reference: None };
                    if let Err(e) = stopped.apply(&policy.0, now, VisitEvent::Abandon(stop)) {
                        // Not offered for one (the home screen says to stop it in the visit).
                        error!("a visit kept as a draft was not discarded: {}", e.message().key);
                        continue;
                    }
                    // Kept stopped first (the drafts' writer keeps order): a stop before the
                    // erasure leaves a stopped draft, which goes at the next opening, not a
                    // visit to discard, and record, again.
                    save(&drafts, &stopped);
                    record_abandoned(&stopped, session.vault.clone(), &waker, now, true);
                }
                drafts.erase(&key);
                flow.in_hand.retain(|(k, _)| *k != key);
                flow.resumable.retain(|r| r.id != key);
                flow.loaded.retain(|(k, _)| *k != key);
            }
            VisitCmd::Close => {
                if let Some(v) = flow.visit.take() {
                    // The poor rating's follow-up once more before the draft goes (kept once).
                    follow_up_poor_rating(&v, &policy.0, session.vault.clone(), (&waker, &failed), now);
                    // A finished visit's draft goes; its sealed application stays in the outbox.
                    let key = draft_key(&v);
                    if matches!(v.step(), Step::Done | Step::Abandoned) {
                        drafts.erase(&key);
                        if key != v.id {
                            drafts.erase(&v.id);
                        }
                    }
                    // Its draft as read at the opening goes from the list too: a visit taken up
                    // unsealed and sealed since has another key now, and its old line, left
                    // standing, offered a sealed visit as not sealed.
                    flow.resumable.retain(|r| r.id != key && r.id != v.id);
                    flow.loaded.retain(|(k, _)| *k != key && *k != v.id);
                    flow.in_hand.retain(|(k, _)| *k != key && *k != v.id);
                }
                flow.refusal = None;
            }
        }
    }
}

/// The reason core records for a visit discarded on the home screen (never shown nor kept: the
/// audit log records the step and the fee, not the reason, and the draft goes).
const DISCARDED: &str = "discarded on the home screen";

/// Whether the follow-up of a poor rating could not be sealed (the home screen says so, for the
/// officer to tell the supervisor); cleared when a later try seals it.
#[derive(Resource, Clone, Default)]
pub struct FollowUpFailed(pub Arc<AtomicBool>);

/// The id of the complaint a visit's poor rating opens: the visit's own, so that sealing it
/// again (at the rating, and again when the visit is closed) keeps one.
fn follow_up_id(visit: &Visit) -> String {
    use sha2::{Digest, Sha256};
    let hash = Sha256::digest(format!("doorstep-poor-rating\0{}", visit.id));
    let mut random = [0u8; 10];
    random.copy_from_slice(&hash[..10]);
    let ms = (visit.started_at.unix_timestamp_nanos() / 1_000_000).max(0) as u64;
    doorstep_envelope::ApplicationId::new_v7(ms, random).to_string()
}

/// A poor rating opens a complaint for the follow-up (core's `Feedback::from_poor_rating`),
/// sealed to the bureau on a task and sent with the next sync like any feedback. Tried when
/// the rating is given and again when the visit is closed (the same id: one complaint).
fn follow_up_poor_rating(
    visit: &Visit,
    policy: &doorstep_core::Policy,
    vault: Option<SharedVault>,
    (waker, failed): (&Waker, &FollowUpFailed),
    now: time::OffsetDateTime,
) {
    let Some(vault) = vault else { return };
    let id = follow_up_id(visit);
    let Some(feedback) = doorstep_core::feedback::Feedback::from_poor_rating(id, visit, &policy.feedback, now) else {
        return;
    };
    let failed = failed.0.clone();
    let _ = crate::tasks::spawn("poor-rating", waker, move || {
        let sealed = crate::session::lock(&vault).seal_feedback(&feedback, now.unix_timestamp());
        if let Err(e) = &sealed {
            error!("the follow-up of a poor rating ({}) could not be sealed: {e}", feedback.id);
        }
        failed.store(sealed.is_err(), Ordering::SeqCst);
    });
}

fn save(drafts: &Drafts, visit: &Visit) {
    match serde_json::to_vec(visit) {
        Ok(bytes) => drafts.save(&draft_key(visit), VISIT_PART, bytes),
        Err(e) => {
            error!("a visit could not be serialised: {e}");
            drafts.status.failed.store(true, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests;
