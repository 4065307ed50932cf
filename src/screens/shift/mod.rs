//! The supervisor's shift: every application sealed on this unit and not yet released, with
//! its photo, summary and flags; approve or return each (the reasons are policy data), then
//! sign and release the batch: what is left is uploaded with progress per application, the
//! manifest is signed with the supervisor's key, and the hub's signed receipt is shown and
//! kept in the vault. No CLI needed (`doorstep batch` does the same by hand).
//!
//! Loading (thumbnails decoded) and the release run as tasks; the frame never waits.

mod keep;
mod layout;
mod rows;

use std::collections::HashMap;

use bevy::prelude::*;

use super::pin_again::{PinAgain, PinAgainSet, Purpose};
use super::{LockNow, PolicyInUse, Screen, Session};
use crate::shift::{BatchView, Decision, Decisions, Filter, Order, Progress, ReleaseOutcome, ShiftItem};
use crate::tasks::{Pending, Poll, Waker};
use crate::ui::form::Form;

/// What a button of the shift screen asks for.
#[derive(Component, Debug, Clone, PartialEq, Eq)]
pub enum ShiftButton {
    Filter(Filter),
    Order(Order),
    Approve(String),
    /// Shows the return reasons for this application.
    AskReturn(String),
    /// Returns the application for the reason with this id.
    Return(String, String),
    CancelReturn,
    /// Leaves the application for the next batch (on the unit or at the hub, undecided).
    Hold(String),
    /// Takes back a decision.
    Undecide(String),
    /// Shows this application's photo larger in its row, or smaller again.
    Photo(String),
    /// Approves every application listed, not yet decided and without a flag (its label says
    /// how many; greyed when none).
    ApproveRest,
    /// Asks for the supervisor's PIN again, then releases.
    Release,
    /// The release itself, once the PIN was given again (on no button).
    ReleaseSigned,
    Lock,
    Diagnostics,
}

/// The shift as the screen shows it.
#[derive(Resource, Default)]
pub struct ShiftView {
    pub items: Vec<ShiftItem>,
    pub batches: Vec<BatchView>,
    pub decisions: Decisions,
    pub filter: Filter,
    pub order: Order,
    /// The application whose return reasons are shown.
    pub asking: Option<String>,
    /// How the last release ended, until the next ([`ShiftView::answer`]).
    pub outcome: Option<ReleaseOutcome>,
    /// How many answers the releases have had: the same refusal twice is two answers, and the
    /// screen scrolls up to each.
    pub answers: u64,
    /// The list could not be read from the vault.
    pub unreadable: bool,
    /// The files this unit kept aside as damaged (never uploaded), but a restarted audit log.
    pub set_aside: Vec<doorstep_vault::SetAside>,
    /// The visits stopped today before their seal (in no batch).
    pub stops: crate::shift::Stops,
    /// Feedback not yet at the hub, the outreach queue not finished.
    pub elsewhere: crate::shift::Elsewhere,
    pub loaded: bool,
    /// The decisions kept in the vault were put back (at the first reading of the list): until
    /// then nothing is kept, so that an empty list does not replace them.
    restored: bool,
    /// How many decisions taken before (a lock, a restart) were put back.
    pub restored_count: usize,
    /// The last keeping of the decisions in the vault failed: a lock or a restart would lose
    /// those taken since.
    pub not_kept: bool,
    thumbs: HashMap<String, Handle<Image>>,
    /// The application whose photo is shown larger.
    pub enlarged: Option<String>,
}

impl ShiftView {
    /// How a release ended, or why it did not begin: said at the top of the status.
    pub fn answer(&mut self, outcome: ReleaseOutcome) {
        self.outcome = Some(outcome);
        self.answers += 1;
    }

    /// Those waiting for a decision (one whose file is damaged cannot be decided).
    pub fn undecided(&self) -> usize {
        self.items.iter().filter(|i| !self.decisions.contains_key(&i.id) && !i.damaged).count()
    }

    /// Every application decided, and at least one released (not all held).
    fn releasable(&self) -> bool {
        self.undecided() == 0 && self.count(|d| *d != Decision::Hold) > 0
    }

    pub(super) fn count(&self, kind: impl Fn(&Decision) -> bool) -> usize {
        self.decisions.values().filter(|d| kind(d)).count()
    }

    /// Why the hub refused this application at the last release, if it did.
    pub fn refused(&self, id: &str) -> Option<&crate::shift::HubRefusal> {
        match &self.outcome {
            Some(ReleaseOutcome::Refused(crate::shift::Refusal::NotUploaded { refused, .. })) => {
                refused.iter().find(|(r, _)| r == id).map(|(_, why)| why)
            }
            _ => None,
        }
    }
}

/// The shift, its batches, the files kept aside, and the decisions kept (none if they could
/// not be read: then nothing is kept over them this time).
type Loaded = Result<
    (
        Vec<ShiftItem>,
        Vec<BatchView>,
        Vec<doorstep_vault::SetAside>,
        Option<Decisions>,
        (crate::shift::Stops, crate::shift::Elsewhere),
    ),
    doorstep_vault::VaultError,
>;

/// The tasks in hand.
#[derive(Resource, Default)]
pub struct ShiftTasks {
    load: Option<Pending<Loaded>>,
    release: Option<Pending<ReleaseOutcome>>,
    pub progress: Progress,
    keeper: keep::Keeper,
}

impl ShiftTasks {
    pub fn releasing(&self) -> bool {
        self.release.is_some()
    }
}

/// The status lines (counts, the release's progress or outcome), rebuilt on change.
#[derive(Component, Debug)]
struct StatusBox;

/// The screen's scrolling body.
#[derive(Component, Debug)]
struct ShiftBody;

/// The filter and order buttons, rebuilt on change.
#[derive(Component, Debug)]
struct ChipsBox;

/// The list of applications, rebuilt on change.
#[derive(Component, Debug)]
struct ListBox;

/// The released batches, rebuilt on change.
#[derive(Component, Debug)]
struct BatchesBox;

/// The release button.
#[derive(Component, Debug)]
struct ReleaseButton;

/// The release button's words.
#[derive(Component, Debug)]
struct ReleaseLabel;

pub fn plugin(app: &mut App) {
    app.init_resource::<ShiftView>();
    app.init_resource::<ShiftTasks>();
    app.add_systems(OnEnter(Screen::Shift), (reset, layout::spawn, start_load).chain());
    app.add_systems(OnExit(Screen::Shift), forget);
    app.add_systems(
        Update,
        (
            // After the PIN's answer, so that the release starts in the frame it came (an idle
            // unit may draw no other for seconds); before the pad is drawn, so that it opens in
            // the frame of the tap.
            press.after(PinAgainSet::Answer).before(PinAgainSet::Draw),
            take_tasks,
            keep::keep_decisions,
            reload_after_sync,
            layout::show,
            layout::scroll_to_status,
        )
            .chain()
            .run_if(in_state(Screen::Shift)),
    );
}

/// Reads the shift again when a background sync run ends (it may have uploaded what the list
/// says is only on the unit), unless a read or the release is under way. The decisions made
/// stay (those still on the list).
fn reload_after_sync(
    sync: Option<Res<crate::unit_sync::UnitSync>>,
    mut seen: Local<Option<u64>>,
    mut tasks: ResMut<ShiftTasks>,
    view: Res<ShiftView>,
    session: Res<Session>,
    waker: Res<Waker>,
) {
    let Some(runs) = sync.map(|s| s.runs()) else { return };
    if *seen == Some(runs) || tasks.load.is_some() || tasks.release.is_some() {
        return;
    }
    // Only what is on the unit can have gone since the list was read.
    let on_unit = view.items.iter().any(|i| i.sync == crate::shift::ItemSync::OnUnit);
    if seen.is_some() && on_unit {
        tasks.load = load(&session, &waker);
    }
    *seen = Some(runs);
}

fn reset(mut view: ResMut<ShiftView>, mut tasks: ResMut<ShiftTasks>) {
    *view = ShiftView::default();
    tasks.keeper.last = None;
}

/// Nothing of the shift stays in memory once the screen is left (the unit locked). A release
/// in hand goes on (it holds the vault until it ends: an unlock meanwhile is told to wait),
/// and its outcome is shown when the shift screen opens again.
fn forget(mut view: ResMut<ShiftView>, mut tasks: ResMut<ShiftTasks>, mut form: ResMut<Form>) {
    *view = ShiftView::default();
    tasks.load = None;
    tasks.keeper.last = None;
    forget_note(&mut form);
}

/// The field for a return's note (one at a time: the application being returned).
pub const RETURN_NOTE: &str = "shift-return-note";

/// Empties the return's note, and takes the keyboard from it.
fn forget_note(form: &mut Form) {
    form.set(RETURN_NOTE, "");
    if form.focus == Some(RETURN_NOTE) {
        form.focus = None;
        // An input method's composition not yet committed goes too.
        form.preedit.clear();
    }
}

fn start_load(session: Res<Session>, waker: Res<Waker>, mut tasks: ResMut<ShiftTasks>) {
    tasks.load = load(&session, &waker);
}

/// Reads the shift and the released batches from the vault, on a task.
fn load(session: &Session, waker: &Waker) -> Option<Pending<Loaded>> {
    let vault = session.vault.clone()?;
    Some(crate::tasks::spawn("shift-load", waker, move || {
        let v = crate::session::lock(&vault);
        // What the shift may lack: applications, drafts, feedback, and an index kept aside (it
        // held the summaries of applications at the hub not yet decided). A restarted audit
        // log lost nothing of the shift; the diagnostics name it.
        let lost = v.set_aside()?.into_iter().filter(|a| a.kind != doorstep_vault::SetAsideKind::AuditLog);
        // Decisions kept that cannot be read now (a storage fault) are not put back, nor
        // written over: the shift is still shown, and the screen says they are not kept.
        let kept = crate::shift::kept_decisions(&v)
            .inspect_err(|e| error!("the shift's kept decisions cannot be read: {e}"))
            .ok();
        // The visits stopped today (in no batch); an audit log that does not read is the
        // diagnostics' to say.
        let midnight = crate::settings::now().replace_time(time::Time::MIDNIGHT).unix_timestamp();
        let stops = v
            .audit_entries()
            .map(|entries| crate::shift::stops_since(&entries, midnight))
            .inspect_err(|e| error!("the audit log cannot be read for the shift: {e}"))
            .unwrap_or_default();
        // Feedback not yet at the hub, and the outreach queue not finished today.
        let feedback_unsent = v
            .feedback()
            .map(|all| all.iter().filter(|e| !e.received).count())
            .inspect_err(|e| error!("the feedback kept cannot be read for the shift: {e}"))
            .unwrap_or_default();
        let open_tickets = crate::outreach::open_tickets(v.dir(), crate::settings::now().date());
        let elsewhere = crate::shift::Elsewhere { feedback_unsent, open_tickets };
        Ok((crate::shift::load(&v)?, crate::shift::batches(&v)?, lost.collect(), kept, (stops, elsewhere)))
    }))
}

fn take_tasks(
    mut tasks: ResMut<ShiftTasks>,
    mut view: ResMut<ShiftView>,
    images: Option<ResMut<Assets<Image>>>,
    session: Res<Session>,
    waker: Res<Waker>,
) {
    if let Some(task) = &tasks.load {
        match task.poll() {
            Poll::Running => {}
            Poll::Ready(Ok((items, batches, set_aside, kept, (stops, elsewhere)))) => {
                tasks.load = None;
                let known: std::collections::BTreeSet<&String> = items.iter().map(|i| &i.id).collect();
                match kept {
                    _ if view.restored => {}
                    Some(kept) => {
                        // Those taken before (a lock, a restart, another screen), on
                        // applications still waiting and decidable.
                        let before = view.decisions.len();
                        for (id, d) in crate::shift::restorable(kept, &items) {
                            view.decisions.entry(id).or_insert(d);
                        }
                        view.restored_count = view.decisions.len() - before;
                        view.restored = true;
                        // What the vault holds needs no writing back, unless decisions were
                        // taken before it could be read.
                        tasks.keeper.last = (before == 0).then(|| view.decisions.clone());
                    }
                    None => view.not_kept = true,
                }
                view.decisions.retain(|id, _| known.contains(id));
                view.thumbs.clear();
                if let Some(mut images) = images {
                    for item in &items {
                        if let Some(t) = &item.thumb
                            && let Some(img) = super::visit::screen_image_rgba(t.width, t.height, t.rgba.clone())
                        {
                            view.thumbs.insert(item.id.clone(), images.add(img));
                        }
                    }
                }
                view.items = items;
                view.batches = batches;
                view.set_aside = set_aside;
                view.stops = stops;
                view.elsewhere = elsewhere;
                view.unreadable = false;
                view.loaded = true;
            }
            Poll::Ready(Err(e)) => {
                tasks.load = None;
                error!("the shift cannot be read from the vault: {e}");
                view.unreadable = true;
                view.loaded = true;
            }
            Poll::Failed => {
                tasks.load = None;
                view.unreadable = true;
                view.loaded = true;
            }
        }
    }
    if let Some(task) = &tasks.release {
        let outcome = match task.poll() {
            Poll::Running => return,
            Poll::Ready(o) => o,
            Poll::Failed => ReleaseOutcome::Refused(crate::shift::Refusal::Failed),
        };
        tasks.release = None;
        if let Ok(mut p) = tasks.progress.lock() {
            p.clear();
        }
        // Whatever the outcome, the decisions now on screen are kept again (none after a
        // release; all of them after a refusal, the last perhaps not written before it).
        tasks.keeper.last = None;
        if matches!(outcome, ReleaseOutcome::Released { .. }) {
            view.decisions.clear();
            // The decisions restored went with the release: "check them" is no longer said.
            view.restored_count = 0;
        }
        view.answer(outcome);
        // What the hub took (or the uploads that went through) changes the list: read again.
        tasks.load = load(&session, &waker);
    }
}

#[allow(clippy::too_many_arguments)]
fn press(
    buttons: Query<(&Interaction, &ShiftButton), Changed<Interaction>>,
    guard: Res<super::TapGuard>,
    time: Res<Time<Real>>,
    mut view: ResMut<ShiftView>,
    mut tasks: ResMut<ShiftTasks>,
    (session, policy, dir, waker): (
        Res<Session>,
        Res<PolicyInUse>,
        Option<Res<crate::unit_sync::VaultDir>>,
        Res<Waker>,
    ),
    (strings, lang, sync): (
        Res<crate::ui::i18n::Strings>,
        Res<crate::settings::Lang>,
        Option<Res<crate::unit_sync::UnitSync>>,
    ),
    mut lock: MessageWriter<LockNow>,
    mut next: ResMut<NextState<Screen>>,
    mut form: ResMut<Form>,
    mut pin: ResMut<PinAgain>,
) {
    // The release once the PIN was given again, then the buttons pressed (none under the pad).
    let signed = pin.take_granted(|p| *p == Purpose::Release).map(|_| ShiftButton::ReleaseSigned);
    let pressed = buttons
        .iter()
        .filter(|(i, _)| **i == Interaction::Pressed && guard.accepting(time.elapsed()))
        .filter(|_| !pin.is_open())
        .map(|(_, b)| b.clone());
    let actions: Vec<ShiftButton> = signed.into_iter().chain(pressed).collect();
    for b in &actions {
        // While the release runs, the decisions it carries stay as they are.
        if tasks.releasing()
            && !matches!(b, ShiftButton::Filter(_) | ShiftButton::Order(_) | ShiftButton::Photo(_) | ShiftButton::Lock)
        {
            continue;
        }
        match b {
            ShiftButton::Filter(f) => view.filter = *f,
            ShiftButton::Order(o) => view.order = *o,
            ShiftButton::Photo(id) => {
                view.enlarged = if view.enlarged.as_ref() == Some(id) { None } else { Some(id.clone()) };
            }
            ShiftButton::Approve(id) => {
                view.decisions.insert(id.clone(), Decision::Approve);
            }
            ShiftButton::AskReturn(id) => {
                view.asking = Some(id.clone());
                form.set(RETURN_NOTE, "");
            }
            ShiftButton::Return(id, reason) if policy.0.rules.shift.reason(reason).is_some() => {
                let note = form.get(RETURN_NOTE).trim().to_string();
                view.decisions.insert(id.clone(), Decision::Return { reason: reason.clone(), note });
                view.asking = None;
                forget_note(&mut form);
            }
            ShiftButton::Return(..) => {}
            ShiftButton::CancelReturn => {
                view.asking = None;
                forget_note(&mut form);
            }
            ShiftButton::Hold(id) => {
                view.decisions.insert(id.clone(), Decision::Hold);
            }
            ShiftButton::Undecide(id) => {
                view.decisions.remove(id);
            }
            ShiftButton::ApproveRest => {
                // Those on the list as filtered now, and without a flag: a flagged one is
                // decided on its own line.
                let rest = crate::shift::approvable_in_bulk(&view.items, view.filter, view.order, &view.decisions);
                for id in rest {
                    view.decisions.insert(id, Decision::Approve);
                }
            }
            ShiftButton::Release => {
                // The PIN first (screens/pin_again.rs); the release follows it. A unit that cannot
                // release at all (not provisioned) says so without spending an attempt.
                if !view.releasable() || tasks.releasing() || session.vault.is_none() {
                    continue;
                }
                // No vault folder, or no hub bundle (the last sync run found none).
                let unprovisioned =
                    sync.as_ref().is_some_and(|s| s.view().last == Some(crate::unit_sync::Outcome::NotProvisioned));
                if dir.is_none() || unprovisioned {
                    view.answer(ReleaseOutcome::Refused(crate::shift::Refusal::NotProvisioned));
                    continue;
                }
                pin.ask(Purpose::Release, Screen::Shift);
            }
            ShiftButton::ReleaseSigned => {
                // A read of the list under way (after a background sync) does not swallow the
                // tap: the release checks the unit's undecided applications against the ones
                // decided here, and refuses as "the shift changed" if they differ. One that
                // changed while the PIN was typed is said so, not passed over in silence.
                if tasks.releasing() {
                    continue;
                }
                if !view.releasable() {
                    view.answer(ReleaseOutcome::Refused(crate::shift::Refusal::Stale));
                    continue;
                }
                // The PIN was given: whatever stops the release now is said.
                let failed = ReleaseOutcome::Refused(crate::shift::Refusal::Failed);
                let Some(vault) = session.vault.clone() else {
                    view.answer(failed);
                    continue;
                };
                let Ok(returns) = crate::shift::returns(&view.decisions, &policy.0.rules.shift) else {
                    view.answer(failed);
                    continue;
                };
                let Some(dir) = dir.as_ref().map(|d| d.0.clone()) else {
                    view.answer(ReleaseOutcome::Refused(crate::shift::Refusal::NotProvisioned));
                    continue;
                };
                view.outcome = None;
                let decided: Vec<String> = view.decisions.keys().cloned().collect();
                let held = crate::shift::held(&view.decisions);
                let (progress, wake) = (tasks.progress.clone(), waker.clone());
                let mut figures = crate::shift_report::figures(&view.items, &view.decisions);
                let stops = view.stops;
                let supervisor = session.officer.as_ref().map(|o| o.id.clone()).unwrap_or_default();
                let (strings, lang, rule) = (*strings, *lang, policy.0.rules.shift.clone());
                let (kept_upto, written) = (tasks.keeper.asked, tasks.keeper.written.clone());
                let decisions = view.decisions.clone();
                tasks.release = Some(crate::tasks::spawn("release", &waker, move || {
                    // A keeping asked before the release and not yet written writes nothing
                    // now: a release clears what was kept (the vault does, as the batch is
                    // decided), and an older keeping must not bring it back. One refused, the
                    // decisions are kept again once its outcome is seen.
                    written.fetch_max(kept_upto, std::sync::atomic::Ordering::SeqCst);
                    let mut outcome =
                        crate::shift::release(&vault, &dir, &decided, (&returns, &held), &progress, &|| wake.wake());
                    if !matches!(outcome, ReleaseOutcome::Released { .. }) {
                        // Refused: the decisions carried are kept here and now (the screen may
                        // be locked before this outcome is seen).
                        let v = crate::session::lock(&vault);
                        if let Err(e) = crate::shift::keep_decisions(&v, &decisions) {
                            error!("the shift's decisions could not be kept: {e}");
                        }
                    }
                    if let ReleaseOutcome::Released { batch, report, kept, .. } = &mut outcome {
                        // The visits not sealed as the vault holds them now (not as the home
                        // screen read them at unlock, which may not have ended).
                        let drafts = crate::visit_flow::resumable_in(&vault);
                        figures.outside = crate::shift_report::Outside::of(&drafts, stops);
                        let words = |key: &'static str, args: &[(&str, String)]| strings.get(lang, key, args);
                        let reason = |id: &str| {
                            rule.reason(id).map_or_else(
                                || id.to_string(),
                                |r| if lang == crate::settings::Lang::Zh { r.zh.clone() } else { r.en.clone() },
                            )
                        };
                        let bytes = crate::shift_report::report_bytes(&figures, batch, &supervisor, &reason, &words);
                        let folder = crate::shift_report::folder(&dir);
                        *kept = crate::screens::visit::save_print_files(&bytes, &folder, &batch.batch_id)
                            .inspect_err(|e| error!("the shift report could not be kept: {e}"))
                            .ok();
                        *report = Some(Box::new(figures));
                    }
                    outcome
                }));
            }
            ShiftButton::Lock => {
                lock.write(LockNow);
            }
            ShiftButton::Diagnostics => next.set(Screen::Diagnostics),
        }
    }
}
