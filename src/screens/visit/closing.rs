//! The last steps: seal (the application sealed to the bureau in the vault), the receipt
//! (printed through the printer driver; shown on screen when no printer answers), and the
//! rating. Sealing and printing run as tasks.

use bevy::prelude::*;
use doorstep_core::Policy;
use doorstep_core::visit::{RatingInput, ReceiptMethod, Step, Visit, VisitEvent};
use doorstep_envelope::{ApplicationId, ApplicationRecord, CaptureMetadata, FingerprintCapture};
use doorstep_vault::ReviewSummary;

use super::receipt::{Outcome, numbers};
use super::{Act, View, actions, heading, line};
use crate::peripherals::Peripherals;
use crate::screens::PolicyInUse;
use crate::session::{Session, SharedVault};
use crate::tasks::{Pending, Waker};
use crate::ui::i18n::Tr;
use crate::ui::theme;
use crate::ui::widgets::label;
use crate::visit_flow::{VisitCmd, VisitFlow, part};

/// The form keys of the rating.
const STARS: &str = "rating.stars";
const REASONS: &str = "rating.reasons";
const CALL_BACK: &str = "rating.call_back";

/// What a seal gave: the application numbers and the rating code.
type Sealed = (Vec<String>, String);

/// The sealing and printing in hand.
#[derive(Resource, Default)]
pub struct Closing {
    seal: Option<Pending<Result<Sealed, Tr>>>,
    /// Sealed, and the visit not yet moved on: no second seal, no stopping.
    sealed: bool,
    print: Option<Pending<Outcome>>,
    note: Option<Tr>,
    /// The note was brought into view (once, when it came: a rebuild of the step for a tap on
    /// it, the rating's stars, must not pull the screen back to it).
    note_brought: std::sync::atomic::AtomicBool,
    /// Each application number's QR code, drawn for the screen: the applicant can photograph
    /// it when no receipt can be printed.
    pub(super) qr: Vec<(String, Handle<Image>)>,
    /// The numbers whose codes were drawn (or could not be): drawn once.
    pub(super) qr_for: Vec<String>,
}

impl Closing {
    /// Sealing, or sealed and the visit about to move on: the visit may not be stopped.
    pub fn sealing(&self) -> bool {
        self.seal.is_some() || self.sealed
    }

    pub fn printing(&self) -> bool {
        self.print.is_some()
    }

    /// What came of the seal or the print, to say under the step (none: nothing).
    fn say(&mut self, note: Option<Tr>) {
        self.note = note;
        self.note_brought = Default::default();
    }
}

pub fn view(v: &View, ui: &mut ChildSpawnerCommands) {
    let closing = &v.work.closing;
    match v.visit.step() {
        Step::Seal => {
            heading(ui, Tr::new("visit.seal.title"));
            line(ui, Tr::new("visit.seal.meaning"));
            if closing.sealing() {
                heading(ui, Tr::new("visit.seal.sealing"));
            } else {
                actions(v, vec![(Act::Seal, Tr::new("visit.seal.button"), true)]);
            }
        }
        Step::Receipt => {
            heading(ui, Tr::new("visit.receipt.title"));
            numbers(v.visit, &closing.qr, ui);
            if closing.print.is_some() {
                line(ui, Tr::new("visit.receipt.printing"));
            } else {
                actions(
                    v,
                    vec![
                        (Act::Print, Tr::new("visit.receipt.print"), true),
                        (Act::Next, Tr::new("visit.receipt.on_screen"), false),
                    ],
                );
            }
        }
        Step::Rating => {
            heading(ui, Tr::new("visit.rating.title"));
            ui.spawn(Node {
                column_gap: Val::Px(16.0),
                row_gap: Val::Px(12.0),
                flex_wrap: FlexWrap::Wrap,
                ..default()
            })
            .with_children(|row| {
                let words = ["visit.rating.1", "visit.rating.2", "visit.rating.3", "visit.rating.4", "visit.rating.5"];
                let chosen = v.form.get(STARS);
                for (stars, key) in (1..=5u8).zip(words) {
                    let tr =
                        Tr::new("visit.rating.stars").with("stars", "★".repeat(stars as usize)).with_key("words", key);
                    let on = chosen == stars.to_string();
                    row.spawn(crate::ui::form::choice_button(Act::Rate(stars), tr, on));
                }
            });
            // A poor rating asks why (the reasons are the bureau's, as data) and about a call back.
            let poor = v.form.get(STARS).parse::<u8>().ok().filter(|s| *s <= v.policy.feedback.rating.poor_at_most);
            if poor.is_some() {
                line(ui, Tr::new("visit.rating.why"));
                let picked = v.form.list(REASONS);
                ui.spawn(Node {
                    column_gap: Val::Px(12.0),
                    row_gap: Val::Px(12.0),
                    flex_wrap: FlexWrap::Wrap,
                    ..default()
                })
                .with_children(|row| {
                    for r in &v.policy.feedback.rating.reasons {
                        let tr = Tr::new("visit.rating.reason").with_texts("reason", &r.zh, &r.en);
                        row.spawn(crate::ui::form::choice_button(
                            Act::Reason(r.id.clone()),
                            tr,
                            picked.contains(&r.id),
                        ));
                    }
                });
                ui.spawn(crate::ui::form::choice_button(
                    Act::Toggle(CALL_BACK),
                    Tr::new("visit.rating.call_back"),
                    v.form.is_on(CALL_BACK),
                ));
            }
            // Kept only when submitted: a finger that touched the wrong face is put right by
            // touching another (the applicant, often old, rates on the officer's tablet).
            if !v.form.get(STARS).is_empty() {
                actions(v, vec![(Act::Next, Tr::new("visit.rating.submit"), true)]);
            }
            actions(
                v,
                vec![
                    (Act::RateLater, Tr::new("visit.rating.later"), false),
                    (Act::RateDeclined, Tr::new("visit.rating.declined"), false),
                ],
            );
        }
        Step::Done | Step::Abandoned => {
            let done = v.visit.step() == Step::Done;
            heading(ui, Tr::new(if done { "visit.done.title" } else { "visit.abandoned.title" }));
            numbers(v.visit, &[], ui);
            actions(v, vec![(Act::Finish, Tr::new("visit.done.home"), true)]);
        }
        _ => {}
    }
    // What came of the seal or the print, under the step's buttons: brought into view (on a
    // small screen in large text it was drawn below the fold, and the tap seemed to do nothing).
    if let Some(note) = &closing.note {
        let mut said = ui.spawn(label(note.clone(), theme::BODY_SIZE, theme::ERROR));
        if !closing.note_brought.swap(true, std::sync::atomic::Ordering::Relaxed) {
            said.insert(crate::ui::widgets::BringIntoView);
        }
    }
}

/// Seals the visit in the vault: the record built from the visit and its captured parts.
/// Where the captures came from, as the sealed form records them.
#[derive(Debug, Clone, serde::Serialize)]
struct Sources {
    camera: &'static str,
    peripherals: &'static str,
}

impl Sources {
    fn simulated(&self) -> bool {
        self.camera == "replay-camera" || self.peripherals == "bridge-simulator"
    }
}

/// A seal that failed: logged, and said to the officer.
fn failed(e: &dyn std::fmt::Display) -> Tr {
    error!("sealing failed: {e}");
    Tr::new("visit.seal.failed")
}

fn seal(vault: &SharedVault, visit: &Visit, policy: &Policy, sources: &Sources) -> Result<Sealed, Tr> {
    let now = crate::settings::now();
    let services = visit.state.services().map_or(0, |s| s.services.len());
    let mut v = crate::session::lock(vault);
    let device_id = v.device_id().to_string();
    // Demo and real never mix: simulated captures are sealed only on a demo unit, whose bureau
    // key is the demo one.
    if sources.simulated() && !crate::demo::is_demo_device(&device_id) {
        error!("sealing refused: simulated captures on the provisioned unit {device_id}");
        return Err(Tr::new("visit.seal.simulated"));
    }
    // A seal reported failed whose file was durable before the storage failed (its draft
    // erased, its audit record not written) is a seal: tapped again, the visit's application
    // is taken as it is, never sealed a second time under another id.
    let earlier = v.outbox().map_err(|e| failed(&e))?.into_iter().find(|e| e.visit_id == visit.id);
    let id = match &earlier {
        Some(e) => ApplicationId::parse(&e.application_id).ok_or_else(|| failed(&"an application id in the index"))?,
        None => ApplicationId::new_v7((now.unix_timestamp_nanos() / 1_000_000) as u64, rand::random()),
    };
    let numbers = crate::visit_flow::application_numbers(&id, services);
    let rating_code: String = numbers.first().map(|n| n[2..].chars().take(10).collect()).unwrap_or_default();
    match earlier {
        Some(_) => {
            warn!("the visit's application was sealed already (a seal reported failed): taken as it is");
            // What is left of its draft's parts (a removal the storage failed) goes now: the
            // sealed application holds them, and nothing of the applicant stays in a draft.
            if let Err(e) = v.erase_draft(&visit.id) {
                error!("the sealed visit's draft parts could not be erased now: {e}; the next unlock does");
            }
        }
        None => seal_record(&mut v, visit, policy, sources, (id, &numbers, device_id), now)?,
    }
    // The appointment it served: the hub hears it at the next sync (the notice waits in the
    // vault until then). The application is sealed whatever becomes of the notice.
    if let Some(id) = &visit.appointment
        && let Err(e) = v.note_served(id, &visit.id, now)
    {
        error!("the served notice of appointment {id} could not be kept: {e}");
    }
    // The visit as it is once sealed, kept at once under its own key: a lock, a crash or a dead
    // battery before the screen takes this answer still finds the receipt to give.
    let mut after = visit.clone();
    let sealed = VisitEvent::Sealed { application_numbers: numbers.clone(), rating_code: rating_code.clone() };
    match after.apply(policy, now, sealed).map(|_| serde_json::to_vec(&after)) {
        Ok(Ok(bytes)) => {
            if let Err(e) = v.save_draft(&crate::visit_flow::draft_key(&after), crate::visit_flow::VISIT_PART, &bytes) {
                error!("the sealed visit's draft could not be saved: {e}");
            }
        }
        Ok(Err(e)) => error!("the sealed visit could not be serialised: {e}"),
        Err(e) => error!("the sealed visit did not move on: {}", doorstep_core::Localize::message(&e).key),
    }
    Ok((numbers, rating_code))
}

/// Builds the visit's record from its captured parts, each the one the visit recorded, and
/// seals it under `id`.
fn seal_record(
    v: &mut doorstep_vault::Vault,
    visit: &Visit,
    policy: &Policy,
    sources: &Sources,
    (id, numbers, device_id): (ApplicationId, &[String], String),
    now: time::OffsetDateTime,
) -> Result<(), Tr> {
    let load = |name: &str| v.load_draft(&visit.id, name).map(|b| b.map(|b| b.to_vec()).unwrap_or_default());
    // Each captured part must be the one the visit recorded (its SHA-256): a save that failed
    // or a part that went missing stops the seal rather than sealing a blank.
    let missing = |what: &str| {
        error!("sealing refused: the {what} kept is not the one the visit recorded");
        Tr::new("visit.seal.part_missing")
    };
    // The unit's photo goes only where the visit recorded one taken or brought, and only the one
    // it recorded. A reused photo is the bureau's own (named by its digest), and an endorsement
    // alone needs none: a photo left in the draft (taken before the officer went back and chose
    // otherwise, or of another applicant read since) is never sealed.
    let photo_digest = match visit.state.photo() {
        Some(
            doorstep_core::visit::PhotoInput::Captured(doorstep_core::visit::TakenPhoto { digest, .. })
            | doorstep_core::visit::PhotoInput::Supplied(doorstep_core::visit::TakenPhoto { digest, .. }),
        ) => Some(digest.as_str()),
        _ => None,
    };
    let photo_jpeg = match photo_digest {
        Some(d) => {
            let jpeg = load(part::PHOTO).map_err(|e| failed(&e))?;
            if super::capture::digest(&jpeg) != d {
                return Err(missing("photo"));
            }
            jpeg
        }
        None => Vec::new(),
    };
    // The applicant's signature only where the consent says they signed (a signature saved on an
    // earlier, refused attempt is not theirs to seal).
    let signature_png = match visit.state.consent().map(|c| &c.applicant) {
        Some(doorstep_core::visit::ApplicantSignature::Signed(strokes)) => {
            let png = load(part::SIGNATURE).map_err(|e| failed(&e))?;
            if super::capture::digest(&png) != strokes.digest {
                return Err(missing("signature"));
            }
            png
        }
        _ => Vec::new(),
    };
    // The guardians' (and an entrusted companion's) signatures, each the one recorded.
    let mut other_signatures = Vec::new();
    if let Some(consent) = visit.state.consent() {
        use super::sign::SignaturePad;
        let pads = consent.guardians.iter().map(|(n, s)| (SignaturePad::Guardian(*n), s));
        for (pad, strokes) in pads.chain(consent.companion.iter().map(|s| (SignaturePad::Companion, s))) {
            let png = load(&pad.part()).map_err(|e| failed(&e))?;
            if super::capture::digest(&png) != strokes.digest {
                return Err(missing("signature"));
            }
            let signer = pad.signer().unwrap_or_default();
            other_signatures.push(doorstep_envelope::OtherSignature { signer, png });
        }
    }
    let mut fingerprints = Vec::new();
    if let Some(doorstep_core::visit::Fingerprints::Taken(record)) = visit.state.fingerprints() {
        for a in &record.attempts {
            use doorstep_core::fingerprint::{FingerResult, NoPrint};
            // A valid print, or the best image of a finger that gave none (the make-up image).
            let (quality, digest, exception) = match &a.result {
                FingerResult::Print { quality, digest } => (*quality, digest, None),
                FingerResult::NoPrint(NoPrint::Unreadable { best_quality, image_digest }) => {
                    (*best_quality, image_digest, Some("unreadable".to_string()))
                }
                FingerResult::NoPrint(_) => continue,
            };
            let image = load(&part::finger(a.finger.number())).map_err(|e| failed(&e))?;
            if super::capture::digest(&image) != *digest {
                return Err(missing("fingerprint"));
            }
            fingerprints.push(FingerprintCapture {
                finger: a.finger.number(),
                width: doorstep_devices::zfm::IMAGE_WIDTH as u16,
                height: doorstep_devices::zfm::IMAGE_HEIGHT as u16,
                image,
                template: Vec::new(),
                quality,
                exception,
            });
        }
    }
    let record = ApplicationRecord {
        schema_version: doorstep_envelope::SCHEMA_VERSION,
        application_id: id,
        application_numbers: numbers.to_vec(),
        form_json: serde_json::to_string(&serde_json::json!({ "visit": visit, "capture_sources": sources }))
            .map_err(|e| failed(&e))?,
        photo_jpeg: photo_jpeg.clone(),
        fingerprints,
        signature_png,
        other_signatures,
        consent_json: serde_json::to_string(&visit.state.consent()).map_err(|e| failed(&e))?,
        capture: CaptureMetadata {
            device_id,
            officer_id: visit.officer.clone(),
            gnss: None,
            started_at_unix: visit.started_at.unix_timestamp(),
            completed_at_unix: now.unix_timestamp(),
            quality: Vec::new(),
        },
    };
    let summary = crate::shift::Summary::of(visit, policy);
    let flags = summary.flag_strings();
    let summary = serde_json::to_value(&summary).map_err(|e| failed(&e))?;
    let review = ReviewSummary {
        application_id: id.to_string(),
        application_numbers: numbers.to_vec(),
        summary_json: summary.to_string(),
        thumbnail_jpeg: photo_jpeg,
        quality_flags: flags,
    };
    v.seal(&visit.id, &record, &review, now.unix_timestamp()).map_err(|e| failed(&e))?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub fn act(
    mut acts: MessageReader<Act>,
    flow: Res<VisitFlow>,
    mut work: ResMut<super::Work>,
    mut form: ResMut<crate::ui::form::Form>,
    session: Res<Session>,
    policy: Res<PolicyInUse>,
    peripherals: Option<Res<Peripherals>>,
    vault_dir: Option<Res<crate::unit_sync::VaultDir>>,
    camera: Option<Res<super::CameraChoice>>,
    waker: Res<Waker>,
    drafts: Res<crate::visit_flow::Drafts>,
    (strings, lang): (Res<crate::ui::i18n::Strings>, Res<crate::settings::Lang>),
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
    for act in acts.read() {
        // A seal or a print started (or refused): the screen shows it.
        let mut started = false;
        let c = &mut work.closing;
        match (act, visit.step()) {
            (Act::Seal, Step::Seal) if !c.sealing() => {
                let Some(vault) = session.vault.clone() else {
                    c.say(Some(Tr::new("visit.seal.no_vault")));
                    work.touch();
                    continue;
                };
                let (visit, policy) = (visit.clone(), policy.0.clone());
                let simulated = peripherals.as_ref().is_some_and(|p| p.snapshot().simulated);
                let sources = Sources {
                    camera: camera.as_deref().map_or("none", super::CameraChoice::source),
                    peripherals: if simulated { "bridge-simulator" } else { "bridge" },
                };
                let saving = drafts.status.clone();
                c.seal = Some(crate::tasks::spawn("seal", &waker, move || {
                    // Every capture's draft is on disk before the seal reads them back.
                    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
                    while saving.queued.load(std::sync::atomic::Ordering::SeqCst) > 0
                        && std::time::Instant::now() < deadline
                    {
                        std::thread::sleep(std::time::Duration::from_millis(10));
                    }
                    seal(&vault, &visit, &policy, &sources)
                }));
                c.say(None);
                started = true;
            }
            (Act::Print, Step::Receipt) if c.print.is_none() => {
                let code = match &visit.state {
                    doorstep_core::VisitState::Receipt(r) => r.rating_code.clone(),
                    _ => String::new(),
                };
                // In the language on screen (the applicant's choice).
                let words = |key: &'static str, args: &[(&str, String)]| strings.get(*lang, key, args);
                let describe = |m: &doorstep_core::Message| strings.message(*lang, m);
                let bytes = super::receipt::receipt(visit, &code, &words, &describe);
                // No printer answering, the receipt is kept as files for the applicant.
                let host = peripherals.as_ref().and_then(|p| p.host()).map(|(host, _)| host);
                let dir = vault_dir.as_ref().map(|d| super::receipt::folder(&d.0));
                let number = visit.state.applications().and_then(|a| a.first().map(|a| a.number.clone()));
                let number = number.unwrap_or_default();
                c.print = Some(crate::tasks::spawn("print", &waker, move || {
                    super::receipt::print_or_save(host, &bytes, dir, &number)
                }));
                c.say(None);
                started = true;
            }
            (Act::Next, Step::Receipt) => {
                // Kept as files when they are there, whether this run or one before a restart
                // saved them.
                let number = visit.state.applications().and_then(|a| a.first().map(|a| a.number.clone()));
                let kept = vault_dir
                    .as_ref()
                    .zip(number)
                    .is_some_and(|(d, n)| super::receipt::kept(&super::receipt::folder(&d.0), &n));
                let method = if kept { ReceiptMethod::Saved } else { ReceiptMethod::OnScreen };
                cmds.write(VisitCmd::apply(VisitEvent::ReceiptIssued(method)));
            }
            // Chosen, then submitted (a poor one with its reasons): another choice meanwhile
            // replaces it.
            (Act::Rate(stars), Step::Rating) => form.choose(STARS, stars.to_string()),
            (Act::Reason(id), Step::Rating) => form.toggle_item(REASONS, id),
            (Act::Next, Step::Rating) => {
                let Ok(stars) = form.get(STARS).parse::<u8>() else { continue };
                // Reasons and a call back belong to a poor rating only (chosen, then changed).
                let poor = stars <= policy.0.feedback.rating.poor_at_most;
                let (reasons, call_back) =
                    if poor { (form.list(REASONS), form.is_on(CALL_BACK)) } else { (Vec::new(), false) };
                let input = RatingInput::Score { stars, reasons, call_back };
                cmds.write(VisitCmd::apply(VisitEvent::Rated(input)));
            }
            (Act::RateLater, Step::Rating) => {
                cmds.write(VisitCmd::apply(VisitEvent::Rated(RatingInput::Later)));
            }
            (Act::RateDeclined, Step::Rating) => {
                cmds.write(VisitCmd::apply(VisitEvent::Rated(RatingInput::Declined)));
            }
            (Act::Finish, Step::Done | Step::Abandoned) => {
                cmds.write(VisitCmd::Close);
            }
            _ => {}
        }
        if started {
            work.touch();
        }
    }
}

/// Takes the seal's and the printer's answers.
pub fn finish(
    flow: Res<VisitFlow>,
    mut work: ResMut<super::Work>,
    mut cmds: MessageWriter<VisitCmd>,
    sync: Option<Res<crate::unit_sync::UnitSync>>,
) {
    let at_seal = flow.step() == Some(Step::Seal);
    let c = &mut work.closing;
    if c.sealed && !at_seal && flow.is_changed() {
        c.sealed = false;
    }
    let mut changed = false;
    if let Some(task) = &c.seal {
        let result = task.finished(|| Err(Tr::new("visit.task_failed")));
        if let Some(r) = result {
            c.seal = None;
            changed = true;
            match r {
                Ok((application_numbers, rating_code)) => {
                    c.sealed = true;
                    // Waiting for the hub from now, not "all sent" as the last run left it.
                    if let Some(sync) = &sync {
                        sync.sealed(application_numbers.len());
                    }
                    cmds.write(VisitCmd::apply(VisitEvent::Sealed { application_numbers, rating_code }));
                }
                Err(note) => c.say(Some(note)),
            }
        }
    }
    if let Some(task) = &c.print {
        let failed = || Outcome::NotPrinted {
            reason: crate::ui::i18n::Arg::Key("visit.task_failed"),
            saved: Err(crate::ui::i18n::Arg::Key("visit.task_failed")),
        };
        if let Some(r) = task.finished(failed) {
            c.print = None;
            changed = true;
            match r {
                Outcome::Printed { paper_low } => {
                    cmds.write(VisitCmd::apply(VisitEvent::ReceiptIssued(ReceiptMethod::Printed)));
                    c.say(paper_low.then(|| Tr::new("visit.receipt.paper_low")));
                }
                Outcome::NotPrinted { reason, saved: Ok(pdf) } => {
                    // Named by its file, not its folder's path (the README says where it is).
                    let name = pdf.file_stem().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                    let tr = Tr::new("visit.receipt.saved").with_arg("reason", reason);
                    c.say(Some(tr.with("name", name)));
                }
                Outcome::NotPrinted { reason, saved: Err(why) } => {
                    let tr = Tr::new("visit.receipt.print_failed").with_arg("reason", reason);
                    c.say(Some(tr.with_arg("saved", why)));
                }
            }
        }
    }
    if changed {
        work.touch();
    }
}
