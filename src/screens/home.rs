//! The officer's home screen after unlocking: who is on duty, the policy in force, the
//! peripherals and the sync, what stops new visits, the visits to resume, the appointments
//! (`appointments.rs`), the visits to start, the outreach point, and the lock button.

use bevy::prelude::*;

use super::pin_again::{PinAgain, PinAgainSet, Purpose};
use super::{LockNow, PolicyInUse, Screen, Session, header, root, today_text};
use crate::auth::Auth;
use crate::ui::form::action_button;
use crate::ui::i18n::Tr;
use crate::ui::theme;
use crate::ui::widgets::{label, primary_button};
use crate::visit_flow::{VisitCmd, VisitFlow};
use doorstep_core::policy::PaymentMethod;
use doorstep_core::visit::{HomeReason, VisitMode};

mod appointments;
use appointments::show_appointments;
pub use appointments::{AppointmentList, booked};

#[derive(Component, Debug)]
pub struct LockButton;

/// Opens the outreach point's desk and counter.
#[derive(Component, Debug)]
pub struct QueueButton;

/// Opens the feedback box.
#[derive(Component, Debug)]
pub struct FeedbackButton;

/// The line that says which peripherals answer.
#[derive(Component, Debug)]
pub struct PeripheralLine;

/// What a visit button on the home screen asks for.
#[derive(Component, Debug, Clone, PartialEq, Eq)]
pub enum VisitButton {
    /// A home visit, for this reason.
    Start(HomeReasonKind),
    Resume(String),
    /// Asks the PIN first (SECURITY.md R12): the draft and its captures are erased for good,
    /// and the visit recorded as stopped.
    Discard(String),
    /// A sealed visit cut off at its receipt or rating: its draft goes, its application stays.
    /// Asks the PIN first, as a discard does.
    End(String),
    /// A visit for the appointment with this id.
    Appointment(String),
    /// An application taken at the outreach point (a walk-in, no ticket called).
    Outreach,
}

/// The reasons a home visit is offered for (an "other" reason needs its text: not offered
/// on the home screen yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HomeReasonKind {
    Age,
    Disability,
    Bedbound,
}

/// A returned or rejected application on the officer's home screen: by the first number on
/// its receipt (what the officer and the applicant hold), and the supervisor's reason in the
/// screen's language with the note as written (the back office's words as they came).
pub fn revisit_line(id: &str, reason: &str, rule: &doorstep_core::shift::ShiftRule) -> Tr {
    let number = doorstep_envelope::ApplicationId::parse(id)
        .and_then(|a| crate::visit_flow::application_numbers(&a, 1).pop())
        .unwrap_or_else(|| id.chars().take(8).collect());
    let line = Tr::new("home.revisit").with("number", number);
    match crate::shift::read_return(reason, rule) {
        Some((r, "")) => line.with_texts("reason", &r.zh, &r.en),
        Some((r, note)) => line.with_texts(
            "reason",
            format!("{}{}{note}", r.zh, doorstep_envelope::RETURN_NOTE_SEPARATOR),
            format!("{}{}{note}", r.en, doorstep_envelope::RETURN_NOTE_SEPARATOR),
        ),
        None => line.with("reason", reason),
    }
}

/// The line that says how sync stands.
#[derive(Component, Debug)]
pub struct SyncLine;

/// The sync line's words for what sync last did.
pub fn sync_text(v: &crate::unit_sync::SyncView) -> Tr {
    use crate::unit_sync::Outcome;
    if let Some((id, pct)) = &v.uploading {
        return Tr::new("home.sync.uploading").with("id", id).with("pct", pct).with("n", v.pending);
    }
    match &v.last {
        None => Tr::new("home.sync.waiting").with("n", v.pending),
        Some(Outcome::NotProvisioned) => Tr::new("home.sync.not_provisioned").with("n", v.pending),
        Some(Outcome::Done { .. }) if v.pending == 0 => Tr::new("home.sync.all_sent"),
        Some(Outcome::Done { .. }) => Tr::new("home.sync.waiting").with("n", v.pending),
        Some(Outcome::NoCoverage) => Tr::new("home.sync.no_coverage").with("n", v.pending),
        Some(Outcome::Untrusted) => Tr::new("home.sync.untrusted").with("n", v.pending),
        // Only this unit's own files held it back: no one at the hub can mend them; the officer
        // reports it. (Where the hub refused others too, its reason comes first: it can be
        // mended; this unit's files are named on the shift.) A damaged file is named before
        // one the storage did not read just now, which the next sync tries again.
        Some(Outcome::Failed { failed, damaged, not_read, .. }) if damaged + not_read == *failed && *damaged > 0 => {
            Tr::new("home.sync.damaged").with("n", damaged)
        }
        Some(Outcome::Failed { failed, not_read, .. }) if not_read == failed && *not_read > 0 => {
            Tr::new("home.sync.not_read").with("n", not_read)
        }
        // What the hub did not take (this unit's files, never sent, are named on the shift).
        Some(Outcome::Failed { failed, why: None, damaged, not_read }) => {
            Tr::new("home.sync.failed").with("n", failed.saturating_sub(damaged + not_read))
        }
        // The hub said why: the officer reads it (an officer it has not enrolled: the line to
        // run there, with this officer's key).
        Some(Outcome::Failed { failed, why: Some(why), damaged, not_read }) => Tr::message(
            doorstep_core::text::Message::new("home.sync.refused")
                .with("n", failed.saturating_sub(damaged + not_read))
                .with("why", why.message()),
        ),
    }
}

fn show_sync(
    sync: Option<Res<crate::unit_sync::UnitSync>>,
    mut line: Query<(&mut Tr, &mut TextColor), With<SyncLine>>,
) {
    let Some(sync) = sync else { return };
    let view = sync.view();
    let wanted = sync_text(&view);
    // Red while the hub has not taken something (the officer must act or ask); grey otherwise.
    // Written only with new words, so that high contrast's swap of it stands.
    let failed = matches!(view.last, Some(crate::unit_sync::Outcome::Failed { .. })) && view.uploading.is_none();
    for (mut tr, mut colour) in &mut line {
        if *tr != wanted {
            *tr = wanted.clone();
            colour.0 = if failed { theme::ERROR } else { theme::MUTED };
        }
    }
}

/// Why new visits are stopped now (the freeze rules), one line each; empty when they may start.
#[derive(Component, Debug)]
pub struct FreezeLines;

/// The "start a visit" heading and buttons, hidden while new visits are stopped.
#[derive(Component, Debug)]
pub struct StartVisits;

/// Another button that starts a visit (an appointment's, the outreach point's), hidden as
/// those are while new visits are stopped: a button that did nothing, tapped, said nothing.
#[derive(Component, Debug)]
pub struct StartsVisit;

/// The freezes in force, from the last sync run's figures (none before it).
pub fn freezes(
    sync: Option<&crate::unit_sync::UnitSync>,
    policy: &doorstep_core::Policy,
) -> Vec<doorstep_core::shift::Freeze> {
    let Some(facts) = sync.and_then(|s| s.view().facts) else { return Vec::new() };
    policy.rules.shift.freezes(&facts, crate::settings::now().unix_timestamp())
}

/// What the warnings box shows: the freezes, a follow-up that failed, the revisits.
type Warnings = (Vec<doorstep_core::shift::Freeze>, bool, Vec<(String, String)>);

#[allow(clippy::too_many_arguments)]
fn show_freeze(
    mut commands: Commands,
    sync: Option<Res<crate::unit_sync::UnitSync>>,
    policy: Res<PolicyInUse>,
    lines: Query<Entity, With<FreezeLines>>,
    added: Query<(), Added<FreezeLines>>,
    mut start: Query<&mut Node, With<StartsVisit>>,
    new_start: Query<(), Added<StartsVisit>>,
    follow_up: Res<crate::visit_flow::FollowUpFailed>,
    mut shown: Local<Warnings>,
) {
    let now = freezes(sync.as_deref(), &policy.0);
    let failed = follow_up.0.load(std::sync::atomic::Ordering::SeqCst);
    let revisits = sync.as_ref().map(|s| s.view().revisits).unwrap_or_default();
    if shown.0 == now && shown.1 == failed && shown.2 == revisits && added.is_empty() && new_start.is_empty() {
        return;
    }
    for mut node in &mut start {
        node.display = if now.is_empty() { Display::Flex } else { Display::None };
    }
    for list in &lines {
        commands.entity(list).despawn_children();
        commands.entity(list).with_children(|l| {
            for f in &now {
                l.spawn(label(Tr::message(doorstep_core::Localize::message(f)), theme::BODY_SIZE, theme::ERROR));
            }
            if failed {
                l.spawn(label(Tr::new("home.follow_up_failed"), theme::BODY_SIZE, theme::ERROR));
            }
            for (id, reason) in &revisits {
                l.spawn(label(revisit_line(id, reason, &policy.0.rules.shift), theme::BODY_SIZE, theme::ERROR));
            }
        });
    }
    *shown = (now, failed, revisits);
}

/// The list of visits kept as drafts, rebuilt when it changes.
#[derive(Component, Debug)]
pub struct ResumeList;

pub fn plugin(app: &mut App) {
    app.add_systems(OnEnter(Screen::Home), spawn);
    app.add_systems(
        Update,
        (
            press_buttons,
            show_peripherals,
            show_sync,
            press_visit.after(PinAgainSet::Answer).before(PinAgainSet::Draw),
            show_resumable,
            // After the appointments' buttons are made, so that one made while new visits
            // are stopped is hidden in the same frame.
            show_freeze.after(show_appointments),
            show_appointments,
        )
            .run_if(in_state(Screen::Home)),
    );
    // The lock button is on the outreach desk too.
    app.add_systems(Update, press_lock);
    app.add_systems(PostUpdate, hide_empty_lists.before(bevy::ui::UiSystems::Layout).run_if(in_state(Screen::Home)));
}

/// The home screen's lists take no room while they are empty, not even the body's gap between
/// rows: "start a visit" stays where the officer's thumb expects it.
type HomeList = Or<(With<ResumeList>, With<AppointmentList>, With<super::feedback::InHandLine>)>;

fn hide_empty_lists(mut lists: Query<(&mut Node, Option<&Children>), HomeList>) {
    for (mut node, children) in &mut lists {
        let display = if children.is_some_and(|c| !c.is_empty()) { Display::Flex } else { Display::None };
        if node.display != display {
            node.display = display;
        }
    }
}

fn press_visit(
    buttons: Query<(&Interaction, &VisitButton), Changed<Interaction>>,
    guard: Res<super::TapGuard>,
    time: Res<Time<Real>>,
    mut pin: ResMut<PinAgain>,
    mut cmds: MessageWriter<VisitCmd>,
    (sync, policy): (Option<Res<crate::unit_sync::UnitSync>>, Res<PolicyInUse>),
    point: Res<super::queue::OutreachPoint>,
) {
    // A draft erased once the PIN was given again (R12).
    if let Some(Purpose::Discard(key) | Purpose::End(key)) =
        pin.take_granted(|p| matches!(p, Purpose::Discard(_) | Purpose::End(_)))
    {
        cmds.write(VisitCmd::Discard(key));
    }
    for (i, b) in &buttons {
        // Nothing under the PIN pad is acted on.
        if *i != Interaction::Pressed || !guard.accepting(time.elapsed()) || pin.is_open() {
            continue;
        }
        // Stopped by the freeze rules: the screen says why (a visit begun may still be resumed).
        if matches!(b, VisitButton::Start(_) | VisitButton::Appointment(_) | VisitButton::Outreach)
            && !freezes(sync.as_deref(), &policy.0).is_empty()
        {
            continue;
        }
        match b {
            VisitButton::Discard(key) => {
                pin.ask(Purpose::Discard(key.clone()), Screen::Home);
                continue;
            }
            VisitButton::End(key) => {
                pin.ask(Purpose::End(key.clone()), Screen::Home);
                continue;
            }
            _ => {}
        }
        cmds.write(match b {
            VisitButton::Start(kind) => VisitCmd::Start(VisitMode::Home {
                reason: match kind {
                    HomeReasonKind::Age => HomeReason::Age,
                    HomeReasonKind::Disability => HomeReason::Disability,
                    HomeReasonKind::Bedbound => HomeReason::Bedbound,
                },
            }),
            VisitButton::Resume(id) => VisitCmd::Resume(id.clone()),
            VisitButton::Appointment(id) => {
                let list = sync.as_ref().map(|s| s.view().appointments).unwrap_or_default();
                match list.iter().find(|a| a.id == *id) {
                    Some(a) => VisitCmd::StartAppointment(Box::new(a.clone())),
                    None => continue,
                }
            }
            VisitButton::Outreach => match point.visit() {
                Some(start) => start,
                None => continue,
            },
            VisitButton::Discard(_) | VisitButton::End(_) => continue,
        });
    }
}

/// "Continue this visit?" for each visit kept as a draft (a crash or a dead battery).
fn show_resumable(
    mut commands: Commands,
    flow: Res<VisitFlow>,
    list: Query<Entity, With<ResumeList>>,
    added: Query<(), Added<ResumeList>>,
) {
    if !flow.is_changed() && added.is_empty() {
        return;
    }
    let Ok(list) = list.single() else { return };
    commands.entity(list).despawn_children();
    commands.entity(list).with_children(|l| {
        for r in &flow.resumable {
            l.spawn(Node {
                column_gap: Val::Px(16.0),
                align_items: AlignItems::Center,
                width: Val::Percent(100.0),
                ..default()
            })
            .with_children(|row| {
                // Told apart by whom and when: two drafts are not two identical lines.
                let line = match (&r.who, r.unsealed()) {
                    (Some(who), false) => Tr::new("home.resume_sealed").with("who", who),
                    (Some(who), true) => Tr::new("home.resume").with("who", who),
                    (None, _) => Tr::new("home.resume_unread"),
                };
                let line = line.with("started", &r.started).with_key("step", r.step.key());
                // A fee taken: the visit is stopped in itself, where the refund is recorded.
                let fee = r.paid.filter(|(how, _)| *how != PaymentMethod::PayAtPickup && r.unsealed());
                // The line takes the width left, so that each draft's buttons line up.
                row.spawn(Node {
                    flex_grow: 1.0,
                    flex_basis: Val::Px(0.0),
                    min_width: Val::Px(0.0),
                    flex_direction: FlexDirection::Column,
                    row_gap: Val::Px(4.0),
                    ..default()
                })
                .with_children(|text| {
                    text.spawn(label(line, theme::BODY_SIZE, theme::TEXT));
                    if let Some((how, amount)) = fee {
                        let note = Tr::new("home.discard_paid").with("amount", amount).with_key("how", how.key());
                        text.spawn(label(note, theme::BODY_SIZE, theme::WARN));
                    }
                });
                row.spawn(action_button(VisitButton::Resume(r.id.clone()), Tr::new("home.resume_button"), true));
                if !r.unsealed() {
                    row.spawn(action_button(VisitButton::End(r.id.clone()), Tr::new("home.end_button"), false));
                } else if fee.is_none() {
                    row.spawn(action_button(VisitButton::Discard(r.id.clone()), Tr::new("home.discard_button"), false));
                }
            });
        }
    });
}

/// The text for the peripheral line, from a snapshot.
pub fn peripheral_text(s: &crate::peripherals::Snapshot, lang: crate::settings::Lang) -> Tr {
    if !s.connected {
        return Tr::new("home.no_bridge");
    }
    let zh = lang == crate::settings::Lang::Zh;
    let names: Vec<&str> = s
        .answering
        .iter()
        .map(|n| match (*n, zh) {
            ("fingerprint", true) => "指纹仪",
            ("id-card", true) => "身份证读卡器",
            ("gnss", true) => "定位",
            ("printer", true) => "打印机",
            ("id-card", false) => "ID-card reader",
            ("gnss", false) => "GNSS",
            (other, _) => other,
        })
        .collect();
    Tr::new(if s.simulated { "home.peripherals_sim" } else { "home.peripherals" })
        .with("battery", s.battery_percent.map_or("—".to_string(), |b| b.to_string()))
        .with("devices", if names.is_empty() { "—".to_string() } else { names.join(if zh { "、" } else { ", " }) })
}

fn show_peripherals(
    p: Option<Res<crate::peripherals::Peripherals>>,
    lang: Res<crate::settings::Lang>,
    mut line: Query<&mut Tr, With<PeripheralLine>>,
) {
    let wanted = p.map_or(Tr::new("home.no_bridge"), |p| peripheral_text(&p.snapshot(), *lang));
    for mut tr in &mut line {
        if *tr != wanted {
            *tr = wanted.clone();
        }
    }
}

fn spawn(
    mut commands: Commands,
    session: Res<Session>,
    policy: Res<PolicyInUse>,
    auth: Res<Auth>,
    point: Res<super::queue::OutreachPoint>,
) {
    let name = session.officer.as_ref().map(|o| o.display_name.clone()).unwrap_or_default();
    let today = crate::settings::now().date();
    let schedule = policy.0.fees.in_effect(today);
    // Named by the date it took effect from, as officers know it (its id is the policy file's).
    let from = schedule.map(|s| doorstep_core::format_date(s.effective_from)).unwrap_or_else(|| "—".into());
    commands.spawn(root(Screen::Home)).with_children(|root| {
        root.spawn(header(today_text(), auth.0.is_demo()));
        root.spawn((
            crate::ui::widgets::Scrolls,
            Node {
                flex_grow: 1.0,
                overflow: Overflow::scroll_y(),
                flex_direction: FlexDirection::Column,
                padding: UiRect::axes(Val::Px(40.0), Val::Px(24.0)),
                row_gap: Val::Px(16.0),
                ..default()
            },
        ))
        .with_children(|body| {
            body.spawn(label(Tr::new("home.greeting").with("name", name), theme::TITLE_SIZE, theme::TEXT));
            body.spawn(label(Tr::new("home.schedule").with("date", from), theme::BODY_SIZE, theme::MUTED));
            body.spawn((PeripheralLine, label(Tr::new("home.no_bridge"), theme::BODY_SIZE, theme::MUTED)));
            body.spawn((SyncLine, label(Tr::new("home.sync.waiting").with("n", 0), theme::BODY_SIZE, theme::MUTED)));
            let (visits, parts) = session.drafts_set_aside;
            for (n, key) in [(visits, "home.drafts_damaged"), (parts, "home.draft_parts_damaged")] {
                if n > 0 {
                    body.spawn(label(Tr::new(key).with("n", n), theme::BODY_SIZE, theme::ERROR));
                }
            }
            body.spawn((
                ResumeList,
                Node { flex_direction: FlexDirection::Column, row_gap: Val::Px(12.0), ..default() },
            ));
            // Words typed in the feedback box and not sealed (the unit locked in the middle).
            body.spawn((
                super::feedback::InHandLine,
                Node {
                    column_gap: Val::Px(16.0),
                    align_items: AlignItems::Center,
                    width: Val::Percent(100.0),
                    ..default()
                },
            ));
            body.spawn((
                AppointmentList,
                Node { flex_direction: FlexDirection::Column, row_gap: Val::Px(12.0), ..default() },
            ));
            body.spawn((
                FreezeLines,
                Node { flex_direction: FlexDirection::Column, row_gap: Val::Px(8.0), ..default() },
            ));
            body.spawn((
                StartVisits,
                StartsVisit,
                Node { flex_direction: FlexDirection::Column, row_gap: Val::Px(16.0), ..default() },
            ))
            .with_children(|start| {
                start.spawn(label(Tr::new("home.start"), theme::HEADING_SIZE, theme::TEXT));
                start
                    .spawn(Node {
                        column_gap: Val::Px(16.0),
                        row_gap: Val::Px(12.0),
                        flex_wrap: FlexWrap::Wrap,
                        ..default()
                    })
                    .with_children(|row| {
                        for (kind, key) in [
                            (HomeReasonKind::Age, "home.start.age"),
                            (HomeReasonKind::Disability, "home.start.disability"),
                            (HomeReasonKind::Bedbound, "home.start.bedbound"),
                        ] {
                            row.spawn(action_button(VisitButton::Start(kind), Tr::new(key), true));
                        }
                    });
            });
            body.spawn(label(Tr::new("home.outreach"), theme::HEADING_SIZE, theme::TEXT));
            body.spawn(Node {
                column_gap: Val::Px(16.0),
                row_gap: Val::Px(12.0),
                flex_wrap: FlexWrap::Wrap,
                ..default()
            })
            .with_children(|row| {
                row.spawn(action_button(QueueButton, Tr::new("home.queue"), true));
                // A walk-in's application at the point (one called from the queue is taken
                // at the counter).
                if point.visit().is_some() {
                    row.spawn((
                        action_button(VisitButton::Outreach, Tr::new("home.outreach_visit"), true),
                        StartsVisit,
                    ));
                }
                row.spawn(action_button(FeedbackButton, Tr::new("home.feedback"), true));
            });
            if point.visit().is_none() {
                body.spawn(label(Tr::new("home.outreach_unnamed"), theme::BODY_SIZE, theme::MUTED));
            }
            body.spawn(Node { width: Val::Px(360.0), ..default() })
                .with_child(primary_button(LockButton, Tr::new("home.lock")));
        });
    });
}

/// The lock button, on any screen that has one. Not held by the tap guard: a lock taken by the
/// second tap of a double tap is a safe failure, and a lock refused is not.
fn press_lock(
    buttons: Query<&Interaction, (Changed<Interaction>, With<LockButton>)>,
    mut lock: MessageWriter<LockNow>,
) {
    if buttons.iter().any(|i| *i == Interaction::Pressed) {
        lock.write(LockNow);
    }
}

fn press_buttons(
    queue: Query<&Interaction, (Changed<Interaction>, With<QueueButton>)>,
    feedback: Query<&Interaction, (Changed<Interaction>, With<FeedbackButton>)>,
    mut next: ResMut<NextState<Screen>>,
) {
    if queue.iter().any(|i| *i == Interaction::Pressed) {
        next.set(Screen::Queue);
    } else if feedback.iter().any(|i| *i == Interaction::Pressed) {
        next.set(Screen::Feedback);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unit_sync::{Outcome, SyncView};

    /// The officer's sync line for each way a run ends: this unit's files that did not read
    /// (damaged, or not read by the storage just now) are named only when nothing else held
    /// the sync back, and never counted as the hub's.
    #[test]
    fn the_sync_line_counts_what_each_side_holds_back() {
        let refusal = crate::shift::HubRefusal { code: "revoked-device".into(), key: None, officer: None };
        let view = |last: Outcome, pending: usize| SyncView { pending, last: Some(last), ..SyncView::default() };
        let failed = |failed, why, damaged, not_read| Outcome::Failed { failed, why, damaged, not_read };
        let refused = |n: usize| {
            Tr::message(
                doorstep_core::text::Message::new("home.sync.refused").with("n", n).with("why", refusal.message()),
            )
        };
        for (last, pending, want) in [
            (Outcome::Done { uploaded: 2 }, 0, Tr::new("home.sync.all_sent")),
            (failed(1, None, 1, 0), 0, Tr::new("home.sync.damaged").with("n", 1)),
            (failed(3, None, 1, 0), 2, Tr::new("home.sync.failed").with("n", 2)),
            (failed(2, Some(refusal.clone()), 0, 0), 2, refused(2)),
            (failed(2, Some(refusal.clone()), 1, 0), 1, refused(1)),
            // The storage did not read one: not called damaged; tried again at the next sync.
            (failed(1, None, 0, 1), 1, Tr::new("home.sync.not_read").with("n", 1)),
            (failed(3, None, 1, 2), 2, Tr::new("home.sync.damaged").with("n", 1)),
            (failed(4, None, 1, 2), 3, Tr::new("home.sync.failed").with("n", 1)),
            (failed(3, Some(refusal.clone()), 0, 1), 3, refused(2)),
            (Outcome::NoCoverage, 4, Tr::new("home.sync.no_coverage").with("n", 4)),
            (Outcome::Untrusted, 1, Tr::new("home.sync.untrusted").with("n", 1)),
        ] {
            assert_eq!(sync_text(&view(last.clone(), pending)), want, "{last:?}");
        }
    }
}
