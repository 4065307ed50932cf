//! The visit on the tablet: one screen whose body is the visit's step. The body is rebuilt
//! from the visit, the form and the step's work in hand whenever one of them changes, so what
//! is drawn is always the state (DESIGN rule 2): the screens send [`Act`]s, the steps turn
//! them into `VisitCmd`s, and `visit_flow` applies them.

mod capture;
mod closing;
mod details;
mod fingers;
mod forms;
mod guardian;
mod held;
mod live;
mod photo;
mod services;
mod shot;
pub(crate) use live::screen_image_rgba;
pub(crate) use receipt::save as save_print_files;
mod receipt;
mod resumed;
mod sign;
mod step_bar;

use bevy::prelude::*;
use doorstep_core::visit::{Step, Visit};

use super::{PolicyInUse, Screen, header, root, today_text};
use crate::auth::Auth;
use crate::ui::form::{Form, action_button};
use crate::ui::i18n::Tr;
use crate::ui::theme;
use crate::ui::widgets::label;
use crate::visit_flow::{KEPT_WHEN_LEFT, VisitFlow};

pub use capture::Work;
pub use forms::PickupOffice;
pub use held::DocumentCamera;
pub use live::CameraChoice;
pub use sign::SignaturePad;

/// What a button on a visit screen asks for.
#[derive(Component, Message, Debug, Clone, PartialEq, Eq)]
pub enum Act {
    Next,
    /// Back to a finished step (the step bar).
    BackTo(Step),
    /// An option of the form switched on or off.
    Toggle(&'static str),
    /// One value of a group chosen (`group`, `value`).
    Pick(&'static str, &'static str),
    /// One value of a group chosen, from the policy (`group`, `value`); the chosen one again
    /// clears it.
    Choose(&'static str, String),
    /// An item of a list (the policy's ids) switched on or off (`list`, `item`).
    Item(&'static str, String),
    ReadCard,
    /// Read an ID card into a guardian's or the companion's fields (their name and number keys).
    ReadCardInto(&'static str, &'static str),
    /// Scan the machine-readable zone of the document the applicant holds, with the camera.
    ScanMrz,
    TakePhoto,
    /// Use the photo of the ID card just read (60 and over, under the photo reuse rule).
    ReusePhoto,
    ScanFinger,
    /// The finger asked for cannot give a print (missing, or bandaged: the reason key).
    NoPrint(&'static str),
    /// Locks the unit now, the visit kept (the officer steps away: the door, the applicant).
    Lock,
    /// Takes back the last finger recorded (a mistaken "missing"): it is asked for again.
    UndoFinger,
    /// Clear every signature pad.
    ClearSignature,
    /// Clear one pad (where there are several: one person signs again, not everyone).
    ClearPad(SignaturePad),
    Seal,
    Print,
    Rate(u8),
    /// A reason for a poor rating (its id in the policy), on or off.
    Reason(String),
    RateLater,
    RateDeclined,
    /// Back to the home screen once the visit is done.
    Finish,
    /// Stop the visit: asks for the reason first.
    Abandon,
    ConfirmAbandon,
    CancelAbandon,
}

/// The visit and step an act system saw last. A press read in the frame the step changed was
/// made on the step before (the command that changed it may apply between two act systems), so
/// it is dropped: one tap never acts on two steps.
#[derive(Default)]
pub struct SeenStep(Option<(String, Step)>);

impl SeenStep {
    /// Whether the visit or its step changed since this system last looked.
    pub fn changed(&mut self, flow: &VisitFlow) -> bool {
        let now = flow.visit.as_ref().map(|v| (v.id.clone(), v.step()));
        let changed = self.0 != now;
        self.0 = now;
        changed
    }
}

/// The form key that shows the abandon panel.
pub const ABANDONING: &str = "abandon";

/// The body of the visit screen, rebuilt on change.
#[derive(Component, Debug)]
pub struct VisitBody;

/// The foot of the visit screen: the step's buttons, always in view.
#[derive(Component, Debug)]
pub struct VisitFoot;

/// What the visit screen was last drawn from.
#[derive(Debug, Default)]
struct Drawn {
    choices: Option<u64>,
    /// What was typed and chosen ([`Form::fingerprint`]).
    typed: Option<u64>,
    generation: u64,
    /// Whether saving the draft had failed.
    failed: bool,
    /// The form as it was when core's refusal on screen came.
    refused_at: Option<u64>,
    /// How many times Next was refused on the services step itself.
    checked: u32,
    /// The guardians' ID numbers that say the other sex than their relation, as drawn.
    guardian_hints: [Option<doorstep_core::Sex>; 2],
}

/// Core's refusal on screen, with the form as it was when Next was pressed.
#[derive(Component, Debug)]
struct Refused {
    at: u64,
}

/// The word under a refusal that the form has changed since.
#[derive(Component, Debug)]
struct Mended;

/// A refusal is greyed, with a word that Next checks again, once the form is changed (a field
/// mended), and red again if it is put back as it was.
fn grey_mended_refusal(
    form: Res<Form>,
    mut refused: Query<(&Refused, &mut TextColor)>,
    mut hint: Query<&mut Node, With<Mended>>,
) {
    if !form.is_changed() {
        return;
    }
    let now = form.fingerprint();
    for (r, mut colour) in &mut refused {
        let mended = r.at != now;
        colour.0 = if mended { theme::MUTED } else { theme::ERROR };
        for mut n in &mut hint {
            n.display = if mended { Display::Flex } else { Display::None };
        }
    }
}

/// The step shown last, to clear the form when a new step comes up.
#[derive(Resource, Debug, Default)]
pub(super) struct Shown(pub(super) Option<(String, Step)>);

pub fn plugin(app: &mut App) {
    app.add_message::<Act>();
    app.init_resource::<Shown>();
    app.init_resource::<Work>();
    // Each time the screen opens (a visit begun or taken up again, after a lock too) its step
    // is new to it: the form is filled in afresh, and what was kept for the step put back.
    app.add_systems(OnEnter(Screen::Visit), (|mut shown: ResMut<Shown>| shown.0 = None, spawn));
    app.add_systems(Update, follow_visit);
    app.add_systems(
        Update,
        (
            press_acts.after(super::follow_changes),
            step_bar::act,
            resumed::follow_applicant,
            resumed::check_kept_photo,
            forms::act,
            capture::act,
            sign::act,
            capture::finish,
            held::scan,
            closing::act,
            closing::finish,
            receipt::draw_qr,
            // Again after the events of this frame were applied: another applicant identified
            // is seen before the screen is drawn.
            resumed::follow_applicant,
            rebuild,
        )
            .chain()
            .run_if(in_state(Screen::Visit)),
    );
    app.add_systems(Update, sign::draw_signature.run_if(in_state(Screen::Visit)));
    app.add_systems(Update, grey_mended_refusal.after(rebuild).run_if(in_state(Screen::Visit)));
    app.add_systems(Update, shot::keep_photo_of.after(rebuild).run_if(in_state(Screen::Visit)));
    app.add_systems(Update, keep_typed.after(rebuild).run_if(in_state(Screen::Visit)));
    // Not only on the visit screen: a lock mid-photo must stop the camera too.
    app.add_systems(Update, live::run_live.after(capture::finish));
}

/// What [`keep_typed`] last kept: on which step of which visit, and the form's fingerprint.
#[derive(Default)]
struct KeptTyped {
    at: Option<(String, Step)>,
    kept: u64,
}

/// Keeps in the draft what is typed and chosen on a form step, as it is typed (on the drafts'
/// thread): a battery that dies before Next, or a Next refused, loses nothing of it. Put back
/// by `rebuild` when the visit is taken up again at that step, for the same applicant.
fn keep_typed(
    flow: Res<VisitFlow>,
    form: Res<Form>,
    shown: Res<Shown>,
    drafts: Res<crate::visit_flow::Drafts>,
    mut last: Local<KeptTyped>,
) {
    let Some(visit) = &flow.visit else { return };
    let here = (visit.id.clone(), visit.step());
    // Once the step's own form is on screen (`rebuild` has filled it in).
    if !kept_as_typed(here.1) || shown.0.as_ref() != Some(&here) {
        return;
    }
    let typed = form.fingerprint();
    if last.at.as_ref() != Some(&here) {
        *last = KeptTyped { at: Some(here), kept: typed };
        return;
    }
    // At each change (a key, a word from the input method, a tap): the unit draws no frame
    // while nothing happens, so a save put off until later could wait for the next touch.
    // The writer is a thread of its own; a few hundred bytes sealed are nothing to it.
    if typed != last.kept {
        let kept = crate::visit_flow::FormInHand {
            step: Some(visit.step()),
            applicant: crate::visit_flow::applicant_tag(visit),
            typed: to_keep(&form),
        };
        crate::visit_flow::keep_form_in_hand(&drafts, visit, &kept);
        last.kept = typed;
    }
}

/// What a draft keeps of a step's form. Not the stop dialog: taken up again, the visit opens on
/// its step, not on "stop?", and the officer's reason (which may name the applicant) is never
/// written down.
fn to_keep(form: &Form) -> crate::ui::form::Typed {
    let mut kept = form.typed();
    kept.values.retain(|k, _| !k.starts_with(ABANDONING));
    kept.on.retain(|k| !k.starts_with(ABANDONING));
    kept
}

/// The visit screen is shown while there is a visit in hand; after it, the screen it was begun
/// from: the home screen, or the outreach desk (the person called is then marked served there).
fn follow_visit(
    flow: Res<VisitFlow>,
    screen: Res<State<Screen>>,
    mut next: ResMut<NextState<Screen>>,
    mut from: Local<Option<Screen>>,
) {
    if !flow.is_changed() {
        return;
    }
    match (flow.visit.is_some(), screen.get()) {
        (true, at @ (Screen::Home | Screen::Queue)) => {
            *from = Some(*at);
            next.set(Screen::Visit);
        }
        (false, Screen::Visit) => next.set(from.take().unwrap_or(Screen::Home)),
        _ => {}
    }
}

fn spawn(mut commands: Commands, auth: Res<Auth>) {
    commands.spawn(root(Screen::Visit)).with_children(|root| {
        root.spawn(header(today_text(), auth.0.is_demo()));
        root.spawn((
            VisitBody,
            crate::ui::widgets::Scrolls,
            Node {
                flex_grow: 1.0,
                flex_direction: FlexDirection::Column,
                padding: UiRect::axes(Val::Px(32.0), Val::Px(16.0)),
                row_gap: Val::Px(16.0),
                overflow: Overflow::scroll_y(),
                ..default()
            },
        ));
        root.spawn((
            VisitFoot,
            Node {
                flex_shrink: 0.0,
                padding: UiRect::axes(Val::Px(32.0), Val::Px(12.0)),
                column_gap: Val::Px(16.0),
                row_gap: Val::Px(12.0),
                flex_wrap: FlexWrap::Wrap,
                border: UiRect::top(Val::Px(2.0)),
                ..default()
            },
            BorderColor::all(theme::KEY_BORDER),
            BackgroundColor(theme::BACKGROUND),
        ));
    });
}

fn press_acts(
    buttons: Query<(&Interaction, &Act), Changed<Interaction>>,
    guard: Res<super::TapGuard>,
    time: Res<Time<Real>>,
    mut out: MessageWriter<Act>,
) {
    for (i, act) in &buttons {
        if *i == Interaction::Pressed && guard.accepting(time.elapsed()) {
            out.write(act.clone());
        }
    }
}

/// What a step's view reads.
pub struct View<'a> {
    pub visit: &'a Visit,
    pub form: &'a Form,
    pub work: &'a Work,
    pub policy: &'a doorstep_core::Policy,
    /// Core's refusal on screen, and the form as it was when it came ([`Refused`]): said again
    /// beside the control it concerns, where the step knows which.
    pub refusal: Option<(&'a doorstep_core::text::Message, u64)>,
    /// The refusal came this frame (it is brought into view once, not at each redraw).
    pub refusal_new: bool,
    /// The buttons the step puts at the foot of the screen.
    pub foot: std::cell::RefCell<Vec<(Act, Tr, bool)>>,
}

/// Whether `step`'s typing and choices are kept in the draft as they are typed, for a stop (a
/// dead battery) before its Next: a step kept when left ([`KEPT_WHEN_LEFT`]), and the consents
/// ticked and the payment chosen, with its transaction number (taken up again only at their own
/// step: a payment put back as cash, its number lost, was recorded as cash).
fn kept_as_typed(step: Step) -> bool {
    KEPT_WHEN_LEFT.contains(&step) || matches!(step, Step::Sign | Step::Pay)
}

/// What was typed and chosen on each step kept when left ([`KEPT_WHEN_LEFT`]), by visit and
/// step, with the applicant it was entered for (`applicant_tag`). Kept in the draft too, so
/// that going back after a restart finds it.
type KeptForms = std::collections::HashMap<(String, Step), (Option<String>, Form)>;

/// Rebuilds the body when the visit, the form's choices or the step's work changed. Typing
/// does not rebuild: the fields redraw their own text.
#[allow(clippy::too_many_arguments)]
fn rebuild(
    mut commands: Commands,
    mut flow: ResMut<VisitFlow>,
    mut form: ResMut<Form>,
    work: Res<Work>,
    policy: Res<PolicyInUse>,
    mut shown: ResMut<Shown>,
    body: Query<Entity, With<VisitBody>>,
    mut scrolled: Query<&mut ScrollPosition, With<VisitBody>>,
    foot: Query<Entity, With<VisitFoot>>,
    office: Option<Res<PickupOffice>>,
    drafts: Res<crate::visit_flow::Drafts>,
    sync: Option<Res<crate::unit_sync::UnitSync>>,
    mut last: Local<Drawn>,
    mut kept: Local<KeptForms>,
    mut shown_for: Local<Option<String>>,
) {
    let (Ok(body), Ok(foot)) = (body.single(), foot.single()) else { return };
    let Some(now) = flow.visit.as_ref().map(|v| (v.id.clone(), v.step())) else { return };
    let new_step = shown.0.as_ref() != Some(&now);
    // What was typed on this step before the unit stopped (kept in the draft as it was typed).
    // Taken without marking the flow changed: nothing else of it changed.
    let typed_before = if new_step { flow.bypass_change_detection().take_form() } else { None };
    // And on the steps it had left before (kept in the draft as each was left).
    let left_before = if new_step { flow.bypass_change_detection().take_forms_left() } else { Vec::new() };
    let Some(visit) = &flow.visit else { return };
    if new_step {
        // What was typed and chosen on a form step is kept for the visit, and put back when
        // the officer comes back to the step (core drops a step's data on the way back): one
        // typo fixed on the details does not mean typing the rest again.
        // The services and details typed for one applicant are not put back for another (the
        // officer went back and read another card): only the applicant step's own.
        kept.retain(|(id, _), _| *id == visit.id);
        for f in left_before {
            if let Some(step) = f.step {
                kept.entry((visit.id.clone(), step)).or_insert_with(|| (f.applicant, Form::from_typed(&f.typed)));
            }
        }
        let who = crate::visit_flow::applicant_tag(visit);
        // The form left is kept for the applicant it was typed for (the visit has moved on:
        // back at the applicant step, it has none yet).
        let typed_for = std::mem::replace(&mut *shown_for, who.clone());
        if let Some(left) = shown.0.as_ref().filter(|(id, step)| *id == visit.id && KEPT_WHEN_LEFT.contains(step)) {
            // The form in hand is the step's as it is left too (a change in the frame of the
            // tap on Next is in no keep of it yet), written before the forms left: a stop between
            // the two writes finds it ([`crate::visit_flow`]'s `forms_kept`).
            if visit.step() != Step::Abandoned {
                let last = crate::visit_flow::FormInHand {
                    step: Some(left.1),
                    applicant: typed_for.clone(),
                    typed: to_keep(&form),
                };
                crate::visit_flow::keep_form_in_hand(&drafts, visit, &last);
            }
            kept.insert(left.clone(), (typed_for, Form::from_typed(&to_keep(&form))));
            // Only what could be put back for this applicant is written down (not what was
            // typed for one before the officer read another's card; back at the applicant
            // step, no card read yet, all of it), and nothing for a visit stopped (its draft
            // goes).
            let forms: Vec<_> = kept
                .iter()
                .filter(|((_, step), (applicant, _))| *step == Step::Applicant || who.is_none() || *applicant == who)
                .map(|((_, step), (applicant, f))| crate::visit_flow::FormInHand {
                    step: Some(*step),
                    applicant: applicant.clone(),
                    typed: f.typed(),
                })
                .collect();
            if visit.step() != Step::Abandoned {
                crate::visit_flow::keep_forms_left(&drafts, visit, &forms);
            }
        }
        form.clear();
        let booked = sync.as_ref().map(|s| s.view().appointments).unwrap_or_default();
        forms::prefill(visit, &mut form, office.as_deref().map_or("", |o| o.0.as_str()), &booked, &policy.0);
        if let Some((entered_for, before)) = kept.get(&now)
            && (now.1 == Step::Applicant || *entered_for == who)
        {
            form.restore(before);
        }
        if let Some(typed) = &typed_before {
            form.restore(&Form::from_typed(typed));
        }
        shown.0 = Some(now);
    }
    // On the services step the fee follows the months typed for an approved validity.
    let fee_typed = visit.step() == Step::Services && form.is_changed() && last.typed != Some(form.fingerprint());
    // On the applicant step a guardian's number that says the other sex is pointed out as it
    // is typed (not only at the next tap, which may be Next).
    let hints = if visit.step() == Step::Applicant { guardian::to_check(&form) } else { [None; 2] };
    let hints_changed = hints != last.guardian_hints;
    last.guardian_hints = hints;
    let choices_changed = last.choices != Some(form.choices) || fee_typed || hints_changed;
    let failed = drafts.status.failed.load(std::sync::atomic::Ordering::SeqCst);
    let save_changed = failed != last.failed;
    last.failed = failed;
    if !(new_step || flow.is_changed() || work.generation != last.generation || choices_changed || save_changed) {
        return;
    }
    last.choices = Some(form.choices);
    last.typed = Some(form.fingerprint());
    last.generation = work.generation;
    // A step opens at its top (the body is the same for every step, and kept where the last
    // one was scrolled to), and a refusal, drawn at the top, is scrolled into view.
    // Next refused on the screen itself (an endorsement half chosen) scrolls up to say so.
    let checked = form.pressed(services::CHECKED);
    let refused_here = checked > 0 && checked != last.checked;
    last.checked = checked;
    // A refusal said beside its control too is then scrolled to there, once laid out
    // (`BringIntoView`).
    if (new_step || refused_here || flow.is_changed() && flow.refusal.is_some())
        && let Ok(mut at) = scrolled.single_mut()
        && at.y != 0.0
    {
        at.y = 0.0;
    }
    commands.entity(body).despawn_children();
    commands.entity(foot).despawn_children();
    // The form as it was when the refusal came: once changed, the refusal is of what was there
    // before, and is greyed with a word that Next checks again.
    match &flow.refusal {
        Some(_) if flow.is_changed() || last.refused_at.is_none() => last.refused_at = Some(form.fingerprint()),
        Some(_) => {}
        None => last.refused_at = None,
    }
    let refusal = flow.refusal.as_ref().zip(last.refused_at);
    let refusal_new = flow.is_changed() && refusal.is_some();
    let view =
        View { visit, form: &form, work: &work, policy: &policy.0, refusal, refusal_new, foot: Default::default() };
    commands.entity(body).with_children(|ui| {
        // No lock while the seal or the print runs (their answer would come to the visit taken
        // up again, as a refusal), nor with the stop dialog open (its reason would go).
        let sealing = visit.step() == Step::Seal && work.closing_busy();
        let lockable = !form.is_on(ABANDONING) && !sealing && !work.closing.printing();
        step_bar::view(ui, visit, lockable);
        // Stopping is possible until the receipt: the last button at the foot.
        if visit.step() < Step::Receipt && !form.is_on(ABANDONING) && !work.closing_busy() {
            view.foot.borrow_mut().push((Act::Abandon, Tr::new("visit.abandon.button"), false));
        }
        if failed {
            ui.spawn(label(Tr::new("visit.save_failed"), theme::BODY_SIZE, theme::ERROR));
        }
        if let Some((refusal, at)) = view.refusal {
            let mended = form.fingerprint() != at;
            let colour = if mended { theme::MUTED } else { theme::ERROR };
            ui.spawn((label(Tr::message(refusal.clone()), theme::BODY_SIZE, colour), Refused { at }));
            let display = if mended { Display::Flex } else { Display::None };
            let hint = Node { display, ..default() };
            ui.spawn((label(Tr::new("visit.refusal_changed"), theme::BODY_SIZE * 0.8, theme::MUTED), hint, Mended));
        }
        if form.is_on(ABANDONING) {
            forms::abandon_panel(&view, ui);
            return;
        }
        match visit.step() {
            Step::Applicant | Step::Services | Step::Details | Step::Review | Step::Pay => forms::view(&view, ui),
            Step::Photo | Step::Fingerprints | Step::Sign => capture::view(&view, ui),
            Step::Seal | Step::Receipt | Step::Rating | Step::Done | Step::Abandoned => closing::view(&view, ui),
        }
    });
    commands.entity(foot).with_children(|row| {
        let mut buttons = view.foot.take();
        // "Stop" goes last, away from the step's own buttons.
        if let Some(at) = buttons.iter().position(|(a, _, _)| *a == Act::Abandon) {
            let stop = buttons.remove(at);
            buttons.push(stop);
        }
        for (act, tr, primary) in buttons {
            if act == Act::Abandon {
                row.spawn(Node { flex_grow: 1.0, ..default() });
            }
            row.spawn(action_button(act, tr, primary));
        }
    });
}

/// Buttons for the foot of the screen, which stays in view however long the step is.
pub fn actions(v: &View, buttons: Vec<(Act, Tr, bool)>) {
    v.foot.borrow_mut().extend(buttons);
}

/// The refusal on screen, said again under the control `key` where `place` (the step's own
/// table) says it concerns it, and brought into view: a step longer than the screen had it
/// only at its top, far from the field to put right. Whether it was said here.
pub fn said_under(
    v: &View,
    key: &str,
    place: fn(&doorstep_core::text::Message) -> Option<&'static str>,
    ui: &mut ChildSpawnerCommands,
) -> bool {
    let Some((refusal, at)) = v.refusal.filter(|(r, _)| place(r) == Some(key)) else { return false };
    let colour = if v.form.fingerprint() != at { theme::MUTED } else { theme::ERROR };
    let mut said = ui.spawn((label(Tr::message(refusal.clone()), theme::BODY_SIZE, colour), Refused { at }));
    if v.refusal_new {
        said.insert(crate::ui::widgets::BringIntoView);
    }
    true
}

/// A line of text in the body.
pub fn line(ui: &mut ChildSpawnerCommands, tr: Tr) {
    ui.spawn(label(tr, theme::BODY_SIZE, theme::TEXT));
}

/// A heading in the body.
pub fn heading(ui: &mut ChildSpawnerCommands, tr: Tr) {
    ui.spawn(label(tr, theme::HEADING_SIZE, theme::TEXT));
}
