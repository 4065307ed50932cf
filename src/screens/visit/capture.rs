//! The steps that capture: the ID card (on the applicant step), the photo, the fingerprints
//! and the signature. Every device and every check runs as a task; the screen shows where
//! each stands and redraws when one ends.

use std::time::Duration;

use bevy::prelude::*;
use doorstep_core::fingerprint::{Attempt, Finger, FingerResult, NoPrint, Procedure, next_finger};
use doorstep_core::requirements::FingerprintRequirement;
use doorstep_core::visit::{FingerprintsInput, PhotoInput, Step, TakenPhoto, VisitEvent};
use doorstep_devices::io::{CardReader, FingerprintScanner};
use doorstep_link::Channel;

use super::forms::key;
use super::photo::{look_answer, reason_asked};
pub use super::shot::Shot;
use super::sign::SignaturePad;
use super::{Act, View};
use crate::peripherals::Peripherals;
use crate::tasks::{Pending, Poll, Waker};
use crate::ui::form::Form;
use crate::ui::i18n::{Arg, Tr};
use crate::visit_flow::{Drafts, VisitCmd, VisitFlow, part};

/// Tries of one finger before it is recorded as unreadable, with its best image.
const FINGER_TRIES: u8 = 3;
/// How long the fingerprint module waits for a finger.
const FINGER_WAIT: Duration = Duration::from_secs(10);
/// The form keys of the consents and the photo override.
pub(super) const CONSENT_APPLICATION: &str = "consent.application";
pub(super) const CONSENT_BIOMETRICS: &str = "consent.biometrics";
pub(super) const UNABLE_TO_SIGN: &str = "consent.unable";
/// The officer confirms that no finger gave a valid print after the procedure.
pub(super) const NO_VALID_PRINT: &str = "fingers.no_valid_print";
/// Under 16: the guardian has decided that no prints are given.
pub(super) const DECLINED: &str = "fingers.declined_by_guardian";
pub(super) const OVERRIDE: &str = "photo.override";
/// What the officer saw where the checks asked to look: `no-covering` or `covering-kept`.
pub(super) const LOOK: &str = "photo.look";
/// The applicant brought a printed photo, which the camera takes: it is recorded as supplied.
pub(super) const BROUGHT: &str = "photo.brought";

/// A print taken: the finger, its quality, the image (8-bit grey), and the module's template
/// of it (to tell it from the fingers taken after it).
pub struct Print {
    finger: Finger,
    quality: u8,
    image: Vec<u8>,
    template: Vec<u8>,
}

/// The step's work in hand: tasks running and what they gave. `generation` changes whenever
/// something shown changes, so the body is rebuilt.
#[derive(Resource, Default)]
pub struct Work {
    pub generation: u64,
    visit: Option<String>,
    card: Option<Pending<Result<doorstep_devices::sam::CardIdentity, Arg>>>,
    card_note: Option<Tr>,
    /// The fields the card in hand is read into (a guardian's or the companion's name and
    /// number keys; none: the applicant's), and what came of the last such read (by number key).
    card_into: Option<(&'static str, &'static str)>,
    card_into_note: Option<(&'static str, Tr)>,
    /// The ID card read at this visit: its first valid day (YYYYMMDD; its photo was taken for
    /// it, by then), the SHA-256 of the photo it holds, which a 60+ reuse names, and its number
    /// (the reuse is offered only while the applicant is the card's holder). Kept for the
    /// visit (the form is cleared at each step), not in the draft: a visit resumed after a
    /// restart offers the reuse once the card is read again.
    card_photo: Option<(String, String, String)>,
    /// The scan of a held document's machine-readable zone, and what came of the last one.
    pub(super) scan: Option<Pending<Result<doorstep_core::mrz::MrzRecord, Tr>>>,
    pub(super) scan_note: Option<Tr>,
    /// The photo being taken or checked, and whether it is the photo kept over a restart (in
    /// the draft already, and what the officer said of it stands), not a new one.
    pub(super) photo: Option<(Pending<Result<Shot, Tr>>, bool)>,
    /// Whether the box "brought printed" was ticked when that photo was taken: what the draft
    /// says of it if it comes while the officer is on another step (the box is then not on
    /// screen; `shot::keep_photo_of` corrects it once the photo step is shown again).
    pub(super) photo_brought: bool,
    pub shot: Option<Shot>,
    /// Whether the draft says the photo in hand was brought printed (`None`: not yet kept for
    /// this photo); and, for a photo kept before a restart, what it said, until the photo
    /// step's form is on screen to take it (`shot::keep_photo_of`).
    pub(super) brought_kept: Option<bool>,
    pub(super) restore_brought: Option<bool>,
    /// A photo taken before a restart, for a visit taken up: checked again (on a task) and
    /// shown, at its photo step or on the review; nothing of it is written again.
    pub(super) photo_kept: Option<Vec<u8>>,
    /// The cropped photo as the screen shows it (none in headless runs).
    pub(super) shot_image: Option<Handle<Image>>,
    pub(super) photo_note: Option<Tr>,
    pub(super) finger: Option<Pending<Result<Print, Tr>>>,
    /// The module's template of each print taken at this visit, by finger: a new print is
    /// matched against them (the same finger placed twice, the wrong hand). In memory only.
    pub(super) templates: Vec<(Finger, Vec<u8>)>,
    /// The scan under way was declined: what it gives is dropped.
    finger_void: bool,
    /// The finger being tried again (its quality was low): how many tries, and the best.
    tries: Option<(Finger, u8, Print)>,
    pub attempts: Vec<Attempt>,
    pub(super) finger_note: Option<Tr>,
    /// The strokes on each signature pad.
    pub strokes: std::collections::BTreeMap<SignaturePad, Vec<Vec<Vec2>>>,
    pub(super) closing: super::closing::Closing,
    /// Whose photo, prints and signature these are: the applicant identified when they were
    /// taken. Another applicant identified (the officer went back and read another card) and
    /// they are forgotten.
    pub(super) captured_for: Option<doorstep_core::applicant::Identity>,
    /// The live preview while the photo step waits for a photo.
    pub(super) live: Option<super::live::Live>,
    pub(super) live_image: Option<Handle<Image>>,
    pub(super) live_seq: u64,
}

/// The guidance under the live preview, rewritten in place on every frame.
#[derive(Component, Debug)]
pub struct LiveAdvice;

impl Work {
    pub(super) fn touch(&mut self) {
        self.generation += 1;
    }

    pub fn scan_line(&self) -> Tr {
        if self.scan.is_some() {
            return Tr::new("visit.held.scanning");
        }
        self.scan_note.clone().unwrap_or_else(|| Tr::new("visit.held.scan_hint"))
    }

    pub fn card_line(&self) -> Tr {
        if self.card.is_some() && self.card_into.is_none() {
            return Tr::new("visit.applicant.reading");
        }
        self.card_note.clone().unwrap_or_else(|| Tr::new("visit.applicant.card_hint"))
    }

    /// Of a card read into the fields whose number key is `id_key`: reading, or what came of it.
    pub fn card_line_for(&self, id_key: &str) -> Option<Tr> {
        if self.card.is_some() && self.card_into.is_some_and(|(_, id)| id == id_key) {
            return Some(Tr::new("visit.applicant.reading"));
        }
        self.card_into_note.as_ref().filter(|(id, _)| *id == id_key).map(|(_, note)| note.clone())
    }

    /// Says what came of the card read, beside the fields it was read for.
    fn card_said(&mut self, note: Tr) {
        match self.card_into.take() {
            Some((_, id)) => self.card_into_note = Some((id, note)),
            None => self.card_note = Some(note),
        }
        self.touch();
    }

    /// Sealing, or sealed and about to move on: the visit may not be stopped now.
    pub fn closing_busy(&self) -> bool {
        self.closing.sealing()
    }

    /// A finger whose quality was low is being tried again.
    pub(super) fn trying_again(&self) -> bool {
        self.tries.is_some()
    }

    /// The slow work running now, for the benchmark's phases ("" when none).
    pub fn busy_with(&self) -> &'static str {
        if self.photo.is_some() {
            "photo check"
        } else if self.closing.sealing() {
            "seal"
        } else if self.closing.printing() {
            "print"
        } else if self.live.is_some() {
            "live preview"
        } else if self.finger.is_some() {
            "fingerprint"
        } else if self.card.is_some() {
            "ID card"
        } else {
            ""
        }
    }

    /// The live preview's checks per second, while it runs.
    pub fn guidance_rate(&self) -> Option<f32> {
        let live = self.live.as_ref()?;
        live.view.lock().ok().map(|v| v.checks_per_second).filter(|r| *r > 0.0)
    }

    /// Whether a photo is being taken or checked.
    pub fn checking(&self) -> bool {
        self.photo.is_some()
    }

    /// The photo taken in this visit, as the screen shows it.
    pub fn photo_image(&self) -> Option<Handle<Image>> {
        self.shot_image.clone()
    }

    /// Adds a stroke to a signature (the pad's own drawing, or a scenario's).
    pub fn add_stroke(&mut self, pad: SignaturePad, points: Vec<Vec2>) {
        self.strokes.entry(pad).or_default().push(points);
        self.touch();
    }

    /// The strokes on `pad` so far.
    pub fn strokes(&self, pad: SignaturePad) -> &[Vec<Vec2>] {
        self.strokes.get(&pad).map_or(&[], Vec::as_slice)
    }

    /// Forgets the photo, prints and signature taken of another applicant than `who`: going
    /// back to the applicant step and identifying someone else must not carry the first
    /// person's into the second's application. Not yet identified (back at the applicant
    /// step), nothing is forgotten: the same card read again keeps them.
    pub(super) fn follow_applicant(&mut self, who: Option<&doorstep_core::applicant::Identity>) {
        let Some(who) = who else { return };
        if self.captured_for.as_ref() == Some(who) {
            return;
        }
        if self.captured_for.is_some() {
            // A photo still being checked, or a print still being read, is the first person's
            // too: the check is dropped, the print voided when it comes.
            self.photo = None;
            (self.restore_brought, self.photo_kept) = (None, None);
            self.finger_void |= self.finger.is_some();
            (self.shot, self.shot_image, self.photo_note) = (None, None, None);
            (self.tries, self.finger_note) = (None, None);
            self.templates.clear();
            self.attempts.clear();
            self.strokes.clear();
            self.touch();
        }
        self.captured_for = Some(who.clone());
    }

    /// The visit this work is for.
    pub(super) fn visit_id(&self) -> Option<&str> {
        self.visit.as_deref()
    }

    /// Forgets the work of another visit.
    pub(super) fn follow(&mut self, visit: &str) {
        if self.visit.as_deref() != Some(visit) {
            *self = Work { visit: Some(visit.to_string()), generation: self.generation + 1, ..default() };
        }
    }
}

pub fn view(v: &View, ui: &mut ChildSpawnerCommands) {
    match v.visit.step() {
        Step::Photo => super::photo::view(v, ui),
        Step::Fingerprints => super::fingers::view(v, ui),
        Step::Sign => super::sign::view(v, ui),
        _ => {}
    }
}

/// Whether a guardian applies for a child who is not here (the photo is the printed one they
/// brought, and no fingerprints are taken).
pub(super) fn child_absent(visit: &doorstep_core::Visit) -> bool {
    visit.state.identified().is_some_and(|w| w.applied_by_guardian)
}

/// The photo of the ID card read on the applicant step, when the rules let this applicant reuse
/// an earlier photo (60 and over): the card's first valid day (its photo was taken for it, by
/// then) and the photo's digest; or why that photo may not be used (taken too long ago). `None`
/// when reuse is not for this applicant, or no card with a photo was read.
pub(super) fn card_photo(
    visit: &doorstep_core::Visit,
    work: &Work,
    policy: &doorstep_core::Policy,
) -> Option<Result<(time::Date, String), doorstep_core::text::Message>> {
    let who = visit.state.identified()?;
    let today = crate::settings::now().date();
    let rule = &policy.rules.photo_reuse;
    let birth = who.applicant.identity.birth_date();
    rule.applies_to(birth, today).ok()?;
    let (issued, digest, number) = work.card_photo.as_ref()?;
    let issued = doorstep_core::date::parse_yyyymmdd(issued)?;
    let holder = matches!(&who.applicant.identity, doorstep_core::Identity::Citizen { id } if id.as_str() == number);
    if who.applicant.source != doorstep_core::IdentitySource::CardReader || !holder {
        return None;
    }
    Some(
        rule.check(birth, today, issued)
            .map(|()| (issued, digest.clone()))
            .map_err(|r| doorstep_core::Localize::message(&r)),
    )
}

pub use crate::visit_flow::digest;

#[allow(clippy::too_many_arguments)]
pub fn act(
    mut acts: MessageReader<Act>,
    flow: Res<VisitFlow>,
    mut form: ResMut<Form>,
    mut work: ResMut<Work>,
    peripherals: Option<Res<Peripherals>>,
    waker: Res<Waker>,
    drafts: Res<Drafts>,
    policy: Res<crate::screens::PolicyInUse>,
    camera: Option<Res<super::live::CameraChoice>>,
    mut cmds: MessageWriter<VisitCmd>,
    mut seen: Local<super::SeenStep>,
) {
    if seen.changed(&flow) {
        acts.clear();
        return;
    }
    let Some(visit) = &flow.visit else {
        acts.clear();
        return;
    };
    work.follow(&visit.id);
    let procedure = Procedure { min_quality: policy.0.rules.fingerprints.min_quality };
    let host = || peripherals.as_ref().and_then(|p| p.host()).map(|(h, _)| h);
    for act in acts.read() {
        match (act, visit.step()) {
            (Act::ReadCard | Act::ReadCardInto(..), Step::Applicant) if work.card.is_none() => match host() {
                Some(h) => {
                    work.card_into = match act {
                        Act::ReadCardInto(name, id) => Some((*name, *id)),
                        _ => None,
                    };
                    work.card = Some(crate::tasks::spawn("id-card", &waker, move || {
                        CardReader::new(h.channel(Channel::IdCard)).read().map_err(|e| {
                            // What went wrong with the reader, never what the card holds.
                            warn!("the ID card could not be read: {e}");
                            crate::peripherals::device_problem(&e)
                        })
                    }));
                    work.touch();
                }
                None => {
                    match act {
                        Act::ReadCardInto(_, id) => work.card_into_note = Some((*id, Tr::new("home.no_bridge"))),
                        _ => work.card_note = Some(Tr::new("home.no_bridge")),
                    }
                    work.touch();
                }
            },
            (Act::TakePhoto, Step::Photo) if work.photo.is_none() => {
                let Some(camera) = camera.as_deref().cloned() else {
                    work.photo_note = Some(Tr::new("visit.photo.no_camera"));
                    work.touch();
                    continue;
                };
                let Some(profile) = super::shot::profile_or_note(visit, &mut work) else { continue };
                let task = crate::tasks::spawn("photo", &waker, move || super::shot::take(&camera, &profile));
                (work.photo, work.photo_kept) = (Some((task, false)), None);
                work.photo_brought = form.is_on(BROUGHT);
                work.shot = None;
                super::shot::forget(&drafts, &visit.id);
                super::shot::forget_said(&mut form);
                work.touch();
            }
            (Act::ReusePhoto, Step::Photo) => {
                if let Some(Ok((taken_on, digest))) = card_photo(visit, &work, &policy.0) {
                    // No photo of this unit's goes with it: one taken before is dropped.
                    super::shot::forget_all(&drafts, &visit.id);
                    super::shot::forget_said(&mut form);
                    // A photo still being checked is dropped with it.
                    (work.photo, work.shot, work.shot_image) = (None, None, None);
                    (work.restore_brought, work.photo_kept) = (None, None);
                    cmds.write(VisitCmd::apply(VisitEvent::PhotoTaken(PhotoInput::Reused {
                        source: doorstep_core::policy::PhotoSource::IdCard,
                        taken_on,
                        digest,
                    })));
                }
            }
            (Act::Next, Step::Photo) if super::photo::photo_not_needed(visit) => {
                cmds.write(VisitCmd::apply(VisitEvent::PhotoTaken(PhotoInput::NotNeeded)));
            }
            (Act::Next, Step::Photo) => {
                let Some(shot) = &work.shot else { continue };
                let digest = digest(&shot.jpeg);
                drafts.save(&visit.id, part::PHOTO, shot.jpeg.clone());
                let failed_checks: Vec<String> = shot.failed.iter().map(|(n, _)| n.to_string()).collect();
                let to_look_at: Vec<String> = shot.looks.iter().map(|(n, _)| n.to_string()).collect();
                let looked = look_answer(&form, &shot.looks);
                // Core decides what needs the reason; the field is shown only where one does, and
                // a reason typed before the answer changed is not kept where none is asked.
                let reason =
                    if reason_asked(shot, looked) { form.get(OVERRIDE).trim().to_string() } else { String::new() };
                let override_reason = (!reason.is_empty()).then_some(reason);
                // A printed photo brought along (the child's, who is not here; or the applicant's
                // own): what the camera took is that photo.
                let input = if child_absent(visit) || form.is_on(BROUGHT) {
                    PhotoInput::Supplied(TakenPhoto { digest, failed_checks, override_reason, to_look_at, looked })
                } else {
                    PhotoInput::Captured(TakenPhoto { digest, failed_checks, override_reason, to_look_at, looked })
                };
                cmds.write(VisitCmd::apply(VisitEvent::PhotoTaken(input)));
            }
            (Act::ScanFinger, Step::Fingerprints) if work.finger.is_none() => {
                let Some(finger) = next_finger(&work.attempts, &procedure) else { continue };
                let earlier = work.templates.clone();
                match host() {
                    Some(h) => {
                        work.finger = Some(crate::tasks::spawn("fingerprint", &waker, move || {
                            // The module's refusal says what to do; a module that did not answer,
                            // or garbled, is said as such (not "wipe the sensor" for a cable).
                            let failed = |e: doorstep_devices::DeviceError| {
                                let key = match e {
                                    doorstep_devices::DeviceError::Refused(_) => "visit.fingers.refused",
                                    _ => "visit.fingers.failed",
                                };
                                Tr::new(key).with_arg("reason", crate::peripherals::device_problem(&e))
                            };
                            // The module's password (0, the factory default) first, then
                            // larger packets to move the image faster.
                            let mut fp = FingerprintScanner::new(h.channel(Channel::Fingerprint));
                            fp.handshake(0).map_err(failed)?;
                            fp.set_packet_size(256).map_err(failed)?;
                            let c = fp.capture(FINGER_WAIT).map_err(failed)?;
                            // A finger already taken, placed again (the other hand's, say):
                            // refused, and the finger asked for is asked for again.
                            for (taken, template) in &earlier {
                                if fp.same_finger(template).map_err(failed)? {
                                    return Err(Tr::new("visit.fingers.same_as")
                                        .with_key("finger", taken.key())
                                        .with_key("next", finger.key()));
                                }
                            }
                            let (quality, image, template) = (c.quality.score, c.image.pixels, c.template);
                            Ok(Print { finger, quality, image, template })
                        }));
                        work.finger_note = None;
                    }
                    None => work.finger_note = Some(Tr::new("home.no_bridge")),
                }
                work.touch();
            }
            (Act::NoPrint(kind), Step::Fingerprints) if work.finger.is_none() => {
                if let Some(finger) = next_finger(&work.attempts, &procedure) {
                    let today = crate::settings::now().date();
                    match super::fingers::exception(&form, kind, finger, &procedure, today) {
                        Ok(attempt) => {
                            work.attempts.push(attempt);
                            super::fingers::keep_prints(&drafts, visit, &work.attempts, &work.templates);
                            super::fingers::clear(&mut form);
                            work.finger_note = None;
                        }
                        Err(why) => work.finger_note = Some(why),
                    }
                    work.touch();
                }
            }
            // The last finger recorded taken back, its image and template with it (a healthy
            // thumb tapped "missing" went to the bureau as missing): it is asked for again.
            (Act::UndoFinger, Step::Fingerprints) if work.finger.is_none() && work.tries.is_none() => {
                if let Some(last) = work.attempts.pop() {
                    // "No valid print" was confirmed for the fingers as they were: asked again.
                    if form.is_on(NO_VALID_PRINT) {
                        form.toggle(NO_VALID_PRINT);
                    }
                    work.templates.retain(|(f, _)| *f != last.finger);
                    drafts.save(&visit.id, &part::finger(last.finger.number()), Vec::new());
                    super::fingers::keep_prints(&drafts, visit, &work.attempts, &work.templates);
                    (work.tries, work.finger_note) = (None, None);
                    work.touch();
                }
            }
            // Not while a scan runs: its print would arrive on the next step.
            (Act::Next, Step::Fingerprints) if work.finger.is_none() => {
                let needed = visit.state.services().map(|s| s.rules.fingerprints);
                let input = if needed == Some(FingerprintRequirement::NotTaken) || child_absent(visit) {
                    FingerprintsInput::NotTaken
                } else if needed == Some(FingerprintRequirement::GuardianDecides) && form.is_on(DECLINED) {
                    FingerprintsInput::DeclinedByGuardian
                } else {
                    let confirmed = form.is_on(NO_VALID_PRINT);
                    FingerprintsInput::Taken { attempts: work.attempts.clone(), no_valid_print_confirmed: confirmed }
                };
                cmds.write(VisitCmd::apply(VisitEvent::FingerprintsTaken(input)));
            }
            _ => {}
        }
    }
}

/// Takes what the capture tasks gave.
pub fn finish(
    policy: Res<crate::screens::PolicyInUse>,
    flow: Res<VisitFlow>,
    mut work: ResMut<Work>,
    mut form: ResMut<Form>,
    drafts: Res<Drafts>,
    mut images: Option<ResMut<Assets<Image>>>,
) {
    let Some(visit) = &flow.visit else { return };
    let min_quality = policy.0.rules.fingerprints.min_quality;
    // The guardian declined: no print of the child is kept, taken before or arriving now (a
    // scan under way runs to its end, so that no second one talks to the module meanwhile, and
    // what it gives is dropped), and nothing of them stays to match new prints against.
    let declined = visit.step() == Step::Fingerprints && form.is_on(DECLINED);
    // A scan under way when the guardian declined gives nothing, even if they agree again.
    work.finger_void |= declined && work.finger.is_some();
    if declined && (!work.attempts.is_empty() || work.tries.is_some() || !work.templates.is_empty()) {
        super::fingers::forget_prints(&drafts, &visit.id, &std::mem::take(&mut work.attempts));
        work.tries = None;
        work.templates.clear();
        work.touch();
    }
    if let Some(task) = &work.card {
        match task.poll() {
            Poll::Running => {}
            Poll::Ready(Ok(card)) if work.card_into.is_some() => {
                work.card = None;
                // A guardian's or the companion's card: their name and number only (neither
                // its photo nor its dates are kept). Read after the officer moved on, it is
                // for a form no longer on the screen: dropped.
                if let Some(into) = work.card_into.take()
                    && visit.step() == Step::Applicant
                {
                    work.card_into_note = Some((into.1, super::guardian::take_card(&mut form, into, &card, &policy.0)));
                }
                work.touch();
            }
            Poll::Ready(Ok(card)) => {
                form.set(key::NAME, card.name.trim());
                form.set(key::ID_NUMBER, card.id_number.trim());
                form.set(key::CARD_BIRTH, card.birth_date.trim());
                form.set(key::CARD_SEX, card.sex_code.to_string());
                form.set(key::CARD_EXPIRY, card.valid_until.trim());
                work.card_photo = (!card.wlt_photo.is_empty()).then(|| {
                    let number = card.id_number.trim().to_ascii_uppercase();
                    (card.valid_from.trim().to_string(), digest(&card.wlt_photo), number)
                });
                work.card = None;
                work.card_note = Some(Tr::new("visit.applicant.card_read"));
                work.touch();
            }
            Poll::Ready(Err(reason)) => {
                work.card = None;
                let note = Tr::new("visit.applicant.card_failed").with_arg("reason", reason);
                work.card_said(note);
            }
            Poll::Failed => {
                work.card = None;
                work.card_said(Tr::new("visit.task_failed"));
            }
        }
    }
    super::shot::photo_done(&mut work, visit, &mut form, &drafts, images.as_deref_mut());
    if let Some(task) = &work.finger {
        let result = task.finished(|| Err(Tr::new("visit.task_failed")));
        if let Some(r) = result {
            work.finger = None;
            let void = std::mem::take(&mut work.finger_void);
            match r {
                Ok(_) if declined || void => {}
                Ok(print) => {
                    let finger = print.finger;
                    // The best try of this finger so far.
                    let best = match work.tries.take() {
                        Some((f, n, best)) if f == finger && best.quality >= print.quality => (n + 1, best),
                        Some((f, n, _)) if f == finger => (n + 1, print),
                        _ => (1, print),
                    };
                    let (tries, best) = best;
                    let valid = best.quality >= min_quality;
                    if valid || tries >= FINGER_TRIES {
                        let d = digest(&best.image);
                        let quality = best.quality;
                        if valid {
                            work.templates.push((finger, best.template.clone()));
                        }
                        drafts.save(&visit.id, &part::finger(finger.number()), best.image);
                        let result = if valid {
                            FingerResult::Print { quality, digest: d }
                        } else {
                            // Tried as the procedure asks: the best image is kept, not valid.
                            FingerResult::NoPrint(NoPrint::Unreadable { best_quality: quality, image_digest: d })
                        };
                        work.attempts.push(Attempt { finger, result });
                        super::fingers::keep_prints(&drafts, visit, &work.attempts, &work.templates);
                        work.finger_note = None;
                        // An exception begun for this finger is not carried to the next.
                        super::fingers::clear(&mut form);
                    } else {
                        work.finger_note = Some(
                            Tr::new("visit.fingers.low")
                                .with("q", best.quality)
                                .with("min", min_quality)
                                .with("n", tries)
                                .with("max", FINGER_TRIES),
                        );
                        work.tries = Some((finger, tries, best));
                    }
                }
                Err(why) => work.finger_note = Some(why),
            }
            work.touch();
        }
    }
}
