//! The screens, one bevy plugin each, as states of [`Screen`]; plus the session and the idle
//! lock that every screen shares.

pub mod diagnostics;
pub mod feedback;
pub mod home;
mod idle;
pub mod pin_again;
pub mod queue;
pub mod shift;
pub mod unlock;
pub mod visit;

use std::time::Duration;

use bevy::prelude::*;
use bevy::window::{RequestRedraw, WindowClosed, WindowFocused, WindowOccluded};
use doorstep_core::Policy;

pub use crate::session::Session;
use crate::settings::Lang;
use crate::ui::contrast::HighContrast;
use crate::ui::i18n::Tr;
use crate::ui::theme;
use crate::ui::widgets::{ButtonColors, label};
pub use idle::IdleLock;

#[derive(States, Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Screen {
    /// The officer unlock screen: where the unit starts and returns when locked.
    #[default]
    Unlock,
    /// The officer's home: today's work.
    Home,
    /// A visit in hand, at its step.
    Visit,
    /// The supervisor's shift: review, approve or return, release.
    Shift,
    /// The outreach point's desk and counter: tickets, the queue, the call board.
    Queue,
    /// Settings and diagnostics, for the supervisor.
    Diagnostics,
    /// Praise, opinions, complaints and "could not get it done", taken down by the officer.
    Feedback,
}

/// A double tap never skips a step: for a moment after the screen or the visit's step
/// changes, taps on the new screen's buttons are ignored (the second tap of a double tap lands
/// where the first one's button was).
#[derive(Resource, Debug, Default)]
pub struct TapGuard {
    changed_at: Duration,
    seen: Option<(Screen, Option<doorstep_core::visit::Step>)>,
}

impl TapGuard {
    /// How long taps are ignored after a change.
    pub const QUIET: Duration = Duration::from_millis(400);

    pub fn accepting(&self, now: Duration) -> bool {
        now.saturating_sub(self.changed_at) >= Self::QUIET
    }
}

/// The tap guard, following the screen and the step before the taps are read, and once more
/// at the end of the frame, so that a step changed in this frame (by a task that ended, or a
/// command applied after the tap systems ran) is seen now: the unit may draw no other frame
/// before the next touch, and that touch must not be taken for the second half of a double tap.
fn guard_taps(app: &mut App) {
    app.init_resource::<TapGuard>();
    app.add_systems(Update, follow_changes);
    app.add_systems(PostUpdate, follow_changes);
}

/// Runs before any system that takes a tap (they are ordered after it).
pub fn follow_changes(
    screen: Res<State<Screen>>,
    flow: Res<crate::visit_flow::VisitFlow>,
    time: Res<Time<Real>>,
    mut guard: ResMut<TapGuard>,
) {
    let now = (*screen.get(), flow.step());
    if guard.seen != Some(now) {
        guard.seen = Some(now);
        guard.changed_at = time.elapsed();
    }
}

/// The policy in force, for what the screens show.
#[derive(Resource, Debug, Clone)]
pub struct PolicyInUse(pub Policy);

/// The systems that lock the unit: they run before the unlock screen takes a PIN check's
/// answer, so a lid closed in the same frame wins.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub struct Locking;

/// Asks for the unit to be locked now.
#[derive(Message, Debug, Clone, Copy)]
pub struct LockNow;

/// The button that switches between Chinese and English.
#[derive(Component, Debug)]
pub struct LangButton;

/// The button that makes everything on screen larger (or back to normal), for an applicant who
/// reads with difficulty: the whole interface is scaled, touch targets with it.
#[derive(Component, Debug)]
pub struct TextSizeButton;

/// The text-size button's words: what a press will do.
#[derive(Component, Debug)]
struct TextSizeLabel;

/// The button that switches high contrast on or off (black on white, the chosen option yellow).
#[derive(Component, Debug)]
pub struct ContrastButton;

/// The contrast button's words: what a press will do.
#[derive(Component, Debug)]
struct ContrastLabel;

/// The scale of the larger text.
pub const LARGE_SCALE: f32 = 1.25;

/// Frames still to draw after a screen appears, so its layout and text settle even when no
/// input arrives (rendering is reactive: nothing is drawn while idle).
#[derive(Resource, Debug)]
struct Settle(u32);

const SETTLE_FRAMES: u32 = 10;

pub fn plugin(app: &mut App) {
    app.init_state::<Screen>();
    app.add_message::<RequestRedraw>();
    app.add_message::<WindowFocused>();
    app.add_message::<WindowOccluded>();
    app.add_message::<WindowClosed>();
    app.init_resource::<BoardHandOver>();
    app.insert_resource(Settle(SETTLE_FRAMES));
    // At the end of the frame: a step changed by a command applied late in it gets its frames.
    app.add_systems(PostUpdate, settle_new_screens);
    app.init_resource::<Session>();
    app.init_resource::<IdleLock>();
    guard_taps(app);
    app.add_message::<LockNow>();
    app.add_plugins((
        unlock::plugin,
        home::plugin,
        visit::plugin,
        shift::plugin,
        queue::plugin,
        diagnostics::plugin,
        feedback::plugin,
        pin_again::plugin,
    ));
    app.add_systems(Update, (switch_language, idle::track_idle, lock_when_hidden, lock).chain().in_set(Locking));
    // bevy's UI inserts it; a headless unit (the tests) has it too.
    app.init_resource::<UiScale>();
    app.init_resource::<LargeText>();
    app.add_systems(Update, (switch_text_size, fit_ui_scale, label_text_size).chain());
    app.add_systems(Update, switch_contrast);
}

fn settle_new_screens(
    screen: Res<State<Screen>>,
    lang: Res<Lang>,
    scale: Option<Res<UiScale>>,
    flow: Res<crate::visit_flow::VisitFlow>,
    mut step: Local<Option<doorstep_core::visit::Step>>,
    mut settle: ResMut<Settle>,
    mut redraw: MessageWriter<RequestRedraw>,
) {
    // A new step of the visit is a new screen too.
    let step_changed = *step != flow.step();
    *step = flow.step();
    if screen.is_changed() || lang.is_changed() || scale.is_some_and(|s| s.is_changed()) || step_changed {
        settle.0 = SETTLE_FRAMES;
    }
    if settle.0 > 0 {
        settle.0 -= 1;
        redraw.write(RequestRedraw);
    }
}

/// The screens are laid out for 1280×800 logical pixels. A smaller window shows them scaled
/// down to fit (no part of a screen out of reach); never up. The larger text multiplies it.
pub const DESIGN_SIZE: Vec2 = Vec2::new(1280.0, 800.0);

/// Whether the larger text is on.
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LargeText(pub bool);

fn switch_text_size(
    buttons: Query<&Interaction, (Changed<Interaction>, With<TextSizeButton>)>,
    mut large: ResMut<LargeText>,
) {
    if buttons.iter().any(|i| *i == Interaction::Pressed) {
        large.0 = !large.0;
    }
}

/// The interface's scale for a window of `size` (logical pixels; none headless): the window's
/// fit, at most 1 and at least 0.5 (below 640×400 the screens no longer fit whole), times the
/// larger text's.
pub fn ui_scale(size: Option<Vec2>, large: bool) -> f32 {
    let fit = size.map_or(1.0, |s| {
        let f = (s.x / DESIGN_SIZE.x).min(s.y / DESIGN_SIZE.y);
        // A minimised window (0×0) keeps the floor.
        if f.is_finite() { f.clamp(0.5, 1.0) } else { 1.0 }
    });
    fit * if large { LARGE_SCALE } else { 1.0 }
}

/// The interface's scale, kept to the officer's window (not the call board's) and the text size.
fn fit_ui_scale(
    large: Res<LargeText>,
    windows: Query<&Window, With<bevy::window::PrimaryWindow>>,
    scale: Option<ResMut<UiScale>>,
) {
    let Some(mut scale) = scale else { return };
    let want = ui_scale(windows.iter().next().map(|w| Vec2::new(w.width(), w.height())), large.0);
    if (scale.0 - want).abs() > 1e-3 {
        scale.0 = want;
    }
}

/// The button says what a press will do, on every screen's header as it appears.
fn label_text_size(large: Res<LargeText>, labels: Query<&mut Tr, With<TextSizeLabel>>) {
    say(if large.0 { "text.normal" } else { "text.larger" }, labels);
}

/// A header button's words, set to `key` where they are not already.
fn say<M: Component>(key: &'static str, mut labels: Query<&mut Tr, With<M>>) {
    for mut tr in &mut labels {
        if tr.key != key {
            *tr = Tr::new(key);
        }
    }
}

fn switch_contrast(
    buttons: Query<&Interaction, (Changed<Interaction>, With<ContrastButton>)>,
    mut contrast: ResMut<HighContrast>,
    labels: Query<&mut Tr, With<ContrastLabel>>,
) {
    if buttons.iter().any(|i| *i == Interaction::Pressed) {
        contrast.0 = !contrast.0;
    }
    say(if contrast.0 { "contrast.normal" } else { "contrast.high" }, labels);
}

fn switch_language(buttons: Query<&Interaction, (Changed<Interaction>, With<LangButton>)>, mut lang: ResMut<Lang>) {
    if buttons.iter().any(|i| *i == Interaction::Pressed) {
        *lang = lang.other();
    }
}

/// Locks when the unit, having had focus, loses it or is hidden (another app in front, the
/// lid closed): SECURITY.md R12. A window that never had focus (no window manager) does not
/// count. The unit's windows are the officer's screen and, at an outreach point, the call
/// board: for [`HAND_OVER`] after the unit opens or closes the board, focus moving between them
/// and the board covering the screen are the board's doing, and the unit is judged when that is
/// over (locked if no window of its own has focus then, or the officer's screen is still
/// covered: the lid). Otherwise focus lost with no window of the unit's in focus, or the
/// officer's screen covered, locks (the board covered by the officer's screen does not).
#[allow(clippy::too_many_arguments)]
fn lock_when_hidden(
    mut focus: MessageReader<WindowFocused>,
    mut occluded: MessageReader<WindowOccluded>,
    mut closed: MessageReader<WindowClosed>,
    mut shown: Local<Shown>,
    primary: Query<Entity, With<bevy::window::PrimaryWindow>>,
    (time, hand_over): (Res<Time<Real>>, Res<BoardHandOver>),
    (screen, checking): (Res<State<Screen>>, Res<unlock::Checking>),
    (mut lock, mut redraw): (MessageWriter<LockNow>, MessageWriter<RequestRedraw>),
) {
    let mut lost = false;
    for f in focus.read() {
        if f.focused {
            shown.had_focus = true;
            shown.focused.insert(f.window);
        } else {
            shown.focused.remove(&f.window);
            lost |= shown.had_focus;
        }
    }
    // The officer's screen (headless, with no window entity: any window).
    let primary = primary.single().ok();
    let officers = |w: Entity| primary.is_none_or(|p| p == w);
    let mut covered = false;
    for o in occluded.read() {
        if o.occluded {
            shown.covered.insert(o.window);
            covered |= officers(o.window);
        } else {
            shown.covered.remove(&o.window);
        }
    }
    for c in closed.read() {
        shown.focused.remove(&c.window);
        shown.covered.remove(&c.window);
    }
    if hand_over.0.is_some_and(|at| time.elapsed().saturating_sub(at) <= HAND_OVER) {
        shown.judge_after_hand_over = true;
        // Frames until it is over (rendering is reactive; an unfocused unit may wait a minute).
        redraw.write(RequestRedraw);
        return;
    }
    let judged = std::mem::take(&mut shown.judge_after_hand_over)
        && shown.had_focus
        && (shown.focused.is_empty() || shown.covered.iter().any(|&w| officers(w)));
    let hide = covered || judged || (lost && shown.had_focus && shown.focused.is_empty());
    // Hidden while the PIN is checked: the check is dropped too, so the unit cannot open
    // behind a closed lid.
    if hide && (*screen.get() != Screen::Unlock || checking.is_running()) {
        lock.write(LockNow);
    }
}

/// How long after the call board opens or closes its window's focus and cover are its own.
pub const HAND_OVER: Duration = Duration::from_secs(2);

/// When (the real clock, `Time<Real>`: the virtual one advances at most a quarter of a second
/// an update) the unit last opened or closed the call board.
#[derive(Resource, Debug, Default)]
pub struct BoardHandOver(pub Option<Duration>);

/// Which of the unit's windows have focus or are covered, whether one ever had focus, and
/// whether a hand-over to or from the board is still to be judged.
#[derive(Default)]
struct Shown {
    had_focus: bool,
    focused: std::collections::HashSet<Entity>,
    /// The windows reported fully covered, until reported shown again.
    covered: std::collections::HashSet<Entity>,
    judge_after_hand_over: bool,
}

fn lock(
    mut requests: MessageReader<LockNow>,
    mut session: ResMut<Session>,
    mut checking: ResMut<unlock::Checking>,
    mut feedback: ResMut<unlock::UnlockFeedback>,
    screen: Res<State<Screen>>,
    mut next: ResMut<NextState<Screen>>,
    sync: Option<Res<crate::unit_sync::UnitSync>>,
) {
    if requests.read().count() > 0 {
        session.end();
        // Nothing that names a person stays in memory while the unit is locked.
        if let Some(sync) = &sync {
            sync.forget_people();
        }
        // A PIN check in hand is dropped unread: the vault it may open closes with it.
        if checking.is_running() {
            feedback.0 = None;
        }
        checking.cancel();
        if *screen.get() == Screen::Unlock {
            // A check that answered this very frame may have asked for the home screen.
            next.reset();
        } else {
            next.set(Screen::Unlock);
        }
    }
}

/// The bar across the top of every screen: today's date, a demo badge, the language switch;
/// under it, the tablet's battery when it runs low.
pub fn header(today: String, demo: bool) -> impl Bundle {
    let badge = (
        Node {
            padding: UiRect::axes(Val::Px(16.0), Val::Px(6.0)),
            border_radius: BorderRadius::all(Val::Px(8.0)),
            display: if demo { Display::Flex } else { Display::None },
            ..default()
        },
        BackgroundColor(theme::DEMO_BADGE),
        // Dark on the orange: white on it would be under 3:1.
        children![label(Tr::new("app.demo"), theme::BODY_SIZE, theme::TEXT)],
    );
    let lang = header_button(LangButton, label(Tr::new("lang.switch"), theme::BODY_SIZE, theme::ON_HEADER));
    let size = header_button(
        TextSizeButton,
        (TextSizeLabel, label(Tr::new("text.larger"), theme::BODY_SIZE, theme::ON_HEADER)),
    );
    let contrast = header_button(
        ContrastButton,
        (ContrastLabel, label(Tr::new("contrast.high"), theme::BODY_SIZE, theme::ON_HEADER)),
    );
    let bar = (
        Node {
            width: Val::Percent(100.0),
            height: Val::Px(72.0),
            padding: UiRect::horizontal(Val::Px(24.0)),
            justify_content: JustifyContent::SpaceBetween,
            align_items: AlignItems::Center,
            flex_shrink: 0.0,
            ..default()
        },
        BackgroundColor(theme::HEADER),
        children![
            label(Tr::new("home.date").with("date", today), theme::BODY_SIZE, theme::ON_HEADER),
            (
                Node { column_gap: Val::Px(16.0), align_items: AlignItems::Center, ..default() },
                children![badge, contrast, size, lang],
            ),
        ],
    );
    // Under the bar, only while the tablet's battery is low (power.rs).
    let low_battery = (
        crate::power::LowBattery,
        Node {
            display: Display::None,
            width: Val::Percent(100.0),
            padding: UiRect::axes(Val::Px(24.0), Val::Px(6.0)),
            ..default()
        },
        BackgroundColor(theme::ERROR),
        children![(crate::power::LowBatteryWords, label(Tr::new("power.low"), theme::BODY_SIZE, theme::ON_PRIMARY))],
    );
    (
        Node { flex_direction: FlexDirection::Column, width: Val::Percent(100.0), flex_shrink: 0.0, ..default() },
        children![bar, low_battery],
    )
}

/// A button on the header bar: outlined in white, at least a touch target's size.
fn header_button(marker: impl Component, words: impl Bundle) -> impl Bundle {
    (
        Button,
        marker,
        Node {
            min_width: Val::Px(120.0),
            height: Val::Px(theme::MIN_TOUCH),
            padding: UiRect::horizontal(Val::Px(12.0)),
            justify_content: JustifyContent::Center,
            align_items: AlignItems::Center,
            border: UiRect::all(Val::Px(2.0)),
            border_radius: BorderRadius::all(Val::Px(12.0)),
            ..default()
        },
        BorderColor::all(theme::ON_HEADER),
        BackgroundColor(theme::HEADER),
        ButtonColors { normal: theme::HEADER, pressed: theme::PRIMARY_PRESSED },
        children![words],
    )
}

/// A screen's body between its header and its foot: a column that scrolls (with the wheel or a
/// finger) and may be shorter than its content, so the foot stays in view.
pub fn scrolling_body(row_gap: f32) -> impl Bundle {
    (
        crate::ui::widgets::Scrolls,
        Node {
            flex_grow: 1.0,
            min_height: Val::Px(0.0),
            overflow: Overflow::scroll_y(),
            flex_direction: FlexDirection::Column,
            padding: UiRect::axes(Val::Px(40.0), Val::Px(20.0)),
            row_gap: Val::Px(row_gap),
            ..default()
        },
    )
}

/// A screen's foot: its buttons in a row, always in view.
pub fn foot() -> Node {
    Node {
        padding: UiRect::axes(Val::Px(40.0), Val::Px(12.0)),
        column_gap: Val::Px(16.0),
        align_items: AlignItems::Center,
        flex_shrink: 0.0,
        ..default()
    }
}

/// A full-screen column that goes away when `screen` is left.
pub fn root(screen: Screen) -> impl Bundle {
    (
        DespawnOnExit(screen),
        Node {
            width: Val::Percent(100.0),
            height: Val::Percent(100.0),
            flex_direction: FlexDirection::Column,
            ..default()
        },
        BackgroundColor(theme::BACKGROUND),
    )
}

/// Today's date for display, from the one clock the app reads.
pub fn today_text() -> String {
    doorstep_core::format_date(crate::settings::now().date())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A step changed late in a frame (by a task that ended, after the tap systems ran) is
    /// seen in that same frame: the unit may draw no other until the next touch, and that
    /// touch, a second or more later, must be taken, not ignored as half of a double tap.
    #[test]
    fn a_step_changed_late_in_a_frame_is_seen_in_it() {
        use doorstep_core::visit::{Step, Visit, VisitMode, VisitStart};
        let mut app = App::new();
        app.add_plugins((bevy::state::app::StatesPlugin, bevy::time::TimePlugin));
        app.init_state::<Screen>();
        app.init_resource::<crate::visit_flow::VisitFlow>();
        guard_taps(&mut app);
        // The visit begins after the tap systems have run this frame.
        let begin = |mut flow: ResMut<crate::visit_flow::VisitFlow>, mut done: Local<bool>| {
            if !*done {
                let start =
                    VisitStart { id: "v".into(), officer: "o".into(), mode: VisitMode::Hall, appointment: None };
                flow.visit = Some(Visit::start(start, time::OffsetDateTime::UNIX_EPOCH).unwrap());
                *done = true;
            }
        };
        app.add_systems(Update, begin.after(follow_changes));
        app.update();
        let guard = app.world().resource::<TapGuard>();
        assert_eq!(guard.seen, Some((Screen::default(), Some(Step::Applicant))));
        let changed_at = guard.changed_at;
        // The next frame, whenever it comes, does not start the quiet time again.
        app.update();
        assert_eq!(app.world().resource::<TapGuard>().changed_at, changed_at);
    }
}
