//! The user's PIN asked again before an action that cannot be taken back (SECURITY.md R12:
//! re-authenticate for delete and batch upload): the supervisor's release of a shift (it signs
//! the batch with the supervisor's key), and the erasure of a visit kept as a draft (its photo,
//! fingerprints and signature go from the unit). The unit may have been left unlocked since
//! the unlock. A PIN pad over the screen that asked; the PIN is checked on a task (Argon2id),
//! counted as an unlock attempt is; right, what was asked for is granted to that screen;
//! wrong, the pad says how many attempts are left; the last wrong one erases the key slots and
//! the unit locks. Leaving the screen (a lock) takes the pad and the grant away; a check under
//! way is still answered (the last wrong PIN locks the unit wherever it is), and grants only
//! the pad it was typed on, if that pad is still open.

use bevy::prelude::*;

use crate::screens::unlock::{PinKey, UnlockFeedback, apply_key, dots, not_a_pin, pin_keys, room_for_a_pin};
use crate::screens::{LockNow, Screen, Session};
use crate::tasks::{Pending, Poll, Waker};
use crate::ui::form::action_button;
use crate::ui::i18n::Tr;
use crate::ui::theme;
use crate::ui::widgets::{label, primary_button};

/// What the PIN is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// The supervisor signs and releases the shift's batch.
    Release,
    /// A visit kept as a draft is erased, with what was captured (the draft's key).
    Discard(String),
    /// A sealed visit's draft is erased (cut off at its receipt or rating; the draft's key).
    End(String),
}

impl Purpose {
    /// Why the PIN is asked, the submit button's words and the cancel's.
    fn words(&self) -> [Tr; 3] {
        match self {
            Purpose::Release => [Tr::new("shift.pin_why"), Tr::new("shift.pin_submit"), Tr::new("shift.pin_cancel")],
            Purpose::Discard(_) => {
                [Tr::new("home.discard_ask"), Tr::new("home.discard_confirm"), Tr::new("home.discard_cancel")]
            }
            Purpose::End(_) => [Tr::new("home.end_ask"), Tr::new("home.end_confirm"), Tr::new("home.discard_cancel")],
        }
    }
}

/// The pad, while it is open.
struct Pad {
    purpose: Purpose,
    /// Which opening of the pad this is: a PIN checked grants only the pad it was typed on.
    opening: u64,
    /// Made with room for the longest PIN ([`room_for_a_pin`]).
    digits: zeroize::Zeroizing<String>,
    /// Why the last PIN was not taken (wrong, and how many attempts are left).
    said: Option<Tr>,
}

/// A PIN being checked (on a task; it waits for the vault, which a sync may hold).
type PinCheck = Pending<Result<(), doorstep_vault::VaultError>>;

/// The PIN asked again: the pad, the check under way and what was granted, all of one screen.
#[derive(Resource, Default)]
pub struct PinAgain {
    /// The screen that asked (leaving it takes the pad and the grant away).
    screen: Option<Screen>,
    pad: Option<Pad>,
    /// How many times a pad was opened.
    openings: u64,
    /// Kept apart from the pad, with the opening it was typed on: a cancel closes the pad, not
    /// the check.
    check: Option<(u64, PinCheck)>,
    /// The PIN was right with the pad still open: for the screen that asked to take.
    granted: Option<Purpose>,
}

impl PinAgain {
    /// Opens the pad over `screen` for `purpose` (a check under way goes on, but grants
    /// nothing to this pad: its PIN was typed on another).
    pub fn ask(&mut self, purpose: Purpose, screen: Screen) {
        self.screen = Some(screen);
        self.granted = None;
        self.openings += 1;
        self.pad = Some(Pad { purpose, opening: self.openings, digits: room_for_a_pin(), said: None });
    }

    /// The pad is open (nothing under it is acted on).
    pub fn is_open(&self) -> bool {
        self.pad.is_some()
    }

    /// What the PIN was given for, once, if it is what `wanted` accepts.
    pub fn take_granted(&mut self, wanted: impl Fn(&Purpose) -> bool) -> Option<Purpose> {
        if self.granted.as_ref().is_some_and(wanted) { self.granted.take() } else { None }
    }
}

/// Answered (the check's end, a key) before the screens' own taps, drawn after them: a pad
/// opened by a tap is drawn in that frame (an idle unit may draw no other for seconds).
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub enum PinAgainSet {
    Answer,
    Draw,
}

pub fn plugin(app: &mut App) {
    app.init_resource::<PinAgain>();
    app.configure_sets(Update, (PinAgainSet::Answer.after(super::follow_changes), PinAgainSet::Draw).chain());
    app.add_systems(Update, (leave_with_screen, press, take).chain().in_set(PinAgainSet::Answer));
    app.add_systems(Update, show.in_set(PinAgainSet::Draw));
}

/// The screen that asked was left (a lock, or a tap that opened another): the pad and the
/// grant go; a check under way is still answered.
fn leave_with_screen(state: Res<State<Screen>>, mut pin: ResMut<PinAgain>) {
    if pin.screen.is_some_and(|s| s != *state.get()) {
        pin.screen = None;
        pin.pad = None;
        pin.granted = None;
    }
}

/// The pad's buttons other than its keys.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PadButton {
    Cancel,
}

/// The pad over the screen (what a test looks for after a lock).
#[derive(Component)]
pub struct PinPad;

/// Keys, cancel and submit; a submitted PIN is checked on a task.
fn press(
    keys: Query<(&Interaction, &PinKey), Changed<Interaction>>,
    buttons: Query<(&Interaction, &PadButton), Changed<Interaction>>,
    mut pin: ResMut<PinAgain>,
    session: Res<Session>,
    waker: Res<Waker>,
) {
    // Read first, written only when a key or a button was pressed on an open pad (the list
    // under it is drawn again only when the view changes).
    let pressed =
        keys.iter().any(|(i, _)| *i == Interaction::Pressed) || buttons.iter().any(|(i, _)| *i == Interaction::Pressed);
    if !pressed || pin.pad.is_none() {
        return;
    }
    // Cancel closes the pad at any time; a PIN being checked goes on, and its answer is still
    // acted on (the erasure of the slots locks the unit), but no release follows it.
    if buttons.iter().any(|(i, b)| *i == Interaction::Pressed && *b == PadButton::Cancel) {
        pin.pad = None;
        return;
    }
    if pin.check.is_some() {
        return;
    }
    let vault = session.vault.clone();
    let pin = &mut *pin;
    let Some(pad) = pin.pad.as_mut() else { return };
    for (_, key) in keys.iter().filter(|(i, _)| **i == Interaction::Pressed) {
        match *key {
            PinKey::Submit => {
                let typed = std::mem::replace(&mut pad.digits, room_for_a_pin());
                let Some(vault) = vault.clone() else { continue };
                let now = crate::settings::now().unix_timestamp();
                let task = crate::tasks::spawn("confirm-pin", &waker, move || {
                    crate::session::lock(&vault).confirm_pin(&typed, now)
                });
                pin.check = Some((pad.opening, task));
                pad.said = None;
            }
            key => {
                apply_key(&mut pad.digits, key);
                pad.said = None;
            }
        }
    }
}

/// The PIN's answer: granted to the screen that asked, or the pad says why not; the slots
/// erased, the unit locks.
fn take(mut pin: ResMut<PinAgain>, mut lock: MessageWriter<LockNow>, mut unlock_said: ResMut<UnlockFeedback>) {
    // Polled through a shared borrow: marked changed only when the answer came.
    let Some((opening, task)) = pin.check.as_ref() else { return };
    let opening = *opening;
    let answer = match task.poll() {
        Poll::Running => return,
        Poll::Ready(a) => a,
        Poll::Failed => Err(doorstep_vault::VaultError::Kdf("the check stopped".into())),
    };
    pin.check = None;
    use doorstep_vault::VaultError as E;
    let said = match answer {
        // The pad it was typed on still open: what it was asked for follows (cancelled, or
        // another pad opened meanwhile: nothing does).
        Ok(()) => {
            if pin.pad.as_ref().is_some_and(|p| p.opening == opening) {
                pin.granted = pin.pad.take().map(|p| p.purpose);
            }
            None
        }
        Err(E::WrongPin { attempts_left }) => Some(Tr::new("pin_again.wrong").with("n", attempts_left)),
        Err(E::Pin(_)) => Some(not_a_pin()),
        Err(E::Destroyed) => {
            // The unlock screen says why it no longer opens.
            pin.pad = None;
            unlock_said.0 = Some(Tr::new("unlock.destroyed"));
            lock.write(LockNow);
            None
        }
        Err(e) => {
            error!("the PIN could not be checked: {e}");
            Some(Tr::new("pin_again.failed"))
        }
    };
    // Said on the pad it was typed on, if that is still open.
    if let (Some(said), Some(pad)) = (said, pin.pad.as_mut().filter(|p| p.opening == opening)) {
        pad.said = Some(said);
    }
}

/// What the pad was last drawn with: what for, how many digits, what it said, checking.
type Drawn = (Purpose, usize, Option<Tr>, bool);

/// Draws the pad over the screen that asked while it is open, again as it changes.
fn show(
    mut commands: Commands,
    pin: Res<PinAgain>,
    (auth, session): (Res<crate::auth::Auth>, Res<Session>),
    overlay: Query<Entity, With<PinPad>>,
    mut shown: Local<Option<Drawn>>,
) {
    let checking = pin.check.is_some();
    let now = pin.pad.as_ref().map(|p| (p.purpose.clone(), p.digits.len(), p.said.clone(), checking));
    if now == *shown {
        return;
    }
    *shown = now.clone();
    for e in &overlay {
        commands.entity(e).despawn();
    }
    let (Some((purpose, typed, said, checking)), Some(screen)) = (now, pin.screen) else { return };
    let [why, submit, cancel] = purpose.words();
    // A demo unit says the PIN, as its unlock screen does.
    let hint = session
        .officer
        .as_ref()
        .and_then(|o| auth.0.demo_pin(&o.id))
        .map(|p| Tr::new("pin_again.demo_hint").with("pin", p));
    commands
        .spawn((
            PinPad,
            Node {
                position_type: PositionType::Absolute,
                width: Val::Percent(100.0),
                height: Val::Percent(100.0),
                padding: UiRect::all(Val::Px(24.0)),
                column_gap: Val::Px(32.0),
                justify_content: JustifyContent::Center,
                align_items: AlignItems::Center,
                flex_wrap: FlexWrap::Wrap,
                overflow: Overflow::scroll_y(),
                ..default()
            },
            BackgroundColor(theme::BACKGROUND),
            GlobalZIndex(60),
            // Gone with the screen that asked (a lock): never left over the unlock screen,
            // whose keys are the same.
            DespawnOnExit(screen),
            // Nothing under it is reached while it is open.
            bevy::ui::FocusPolicy::Block,
            Interaction::None,
        ))
        .with_children(|o| {
            o.spawn(Node {
                flex_direction: FlexDirection::Column,
                row_gap: Val::Px(16.0),
                max_width: Val::Px(360.0),
                ..default()
            })
            .with_children(|c| {
                c.spawn(label(Tr::new("pin_again.title"), theme::HEADING_SIZE, theme::TEXT));
                c.spawn(label(why, theme::BODY_SIZE, theme::MUTED));
                c.spawn(crate::ui::widgets::plain(&dots(typed), theme::KEY_SIZE, theme::TEXT));
                if let Some(hint) = hint {
                    c.spawn(label(hint, theme::BODY_SIZE, theme::MUTED));
                }
                if checking {
                    c.spawn(label(Tr::new("unlock.checking"), theme::BODY_SIZE, theme::MUTED));
                }
                if let Some(said) = said {
                    c.spawn(label(said, theme::BODY_SIZE, theme::ERROR));
                }
                c.spawn(primary_button(PinKey::Submit, submit));
                c.spawn(action_button(PadButton::Cancel, cancel, false));
            });
            o.spawn(Node { flex_direction: FlexDirection::Column, row_gap: Val::Px(10.0), ..default() })
                .with_children(|pad| pin_keys(pad, 104.0, Some(72.0)));
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use bevy::state::app::StatesPlugin;
    use doorstep_vault::VaultError;

    fn app() -> App {
        let mut app = App::new();
        app.add_plugins((MinimalPlugins, StatesPlugin));
        app.insert_state(Screen::Home);
        app.add_message::<LockNow>();
        app.init_resource::<UnlockFeedback>();
        app.init_resource::<PinAgain>();
        app.add_systems(Update, (leave_with_screen, take).chain());
        app
    }

    /// A check of the PIN typed on opening `opening`, answered `answer`, already done.
    fn checked(app: &mut App, opening: u64, answer: Result<(), VaultError>) {
        let task = crate::tasks::spawn("test-pin", &Waker::default(), move || answer);
        std::thread::sleep(std::time::Duration::from_millis(50));
        app.world_mut().resource_mut::<PinAgain>().check = Some((opening, task));
    }

    fn locks(app: &mut App) -> usize {
        app.world_mut().resource_mut::<Messages<LockNow>>().drain().count()
    }

    #[test]
    fn a_pin_grants_only_the_pad_it_was_typed_on() {
        let discard = |k: &str| Purpose::Discard(k.into());
        // Typed on the pad still open: granted, once.
        let mut a = app();
        a.world_mut().resource_mut::<PinAgain>().ask(discard("a"), Screen::Home);
        checked(&mut a, 1, Ok(()));
        a.update();
        let mut pin = a.world_mut().resource_mut::<PinAgain>();
        assert_eq!(pin.take_granted(|p| *p == discard("a")), Some(discard("a")));
        assert_eq!(pin.take_granted(|_| true), None);
        assert!(!pin.is_open());

        // Typed on a pad cancelled, another opened meanwhile: nothing granted, nothing said.
        let mut b = app();
        let mut pin = b.world_mut().resource_mut::<PinAgain>();
        pin.ask(discard("a"), Screen::Home);
        pin.pad = None;
        pin.ask(discard("b"), Screen::Home);
        checked(&mut b, 1, Err(VaultError::WrongPin { attempts_left: 3 }));
        b.update();
        let pin = b.world().resource::<PinAgain>();
        assert!(pin.is_open() && pin.pad.as_ref().is_some_and(|p| p.said.is_none()), "not said on another pad");
        checked(&mut b, 1, Ok(()));
        b.update();
        let mut pin = b.world_mut().resource_mut::<PinAgain>();
        assert_eq!(pin.take_granted(|_| true), None);
        assert!(pin.is_open(), "the other pad stays open");

        // The screen left while the last wrong PIN is checked: the pad goes, the answer still
        // locks the unit.
        let mut c = app();
        c.world_mut().resource_mut::<PinAgain>().ask(discard("a"), Screen::Home);
        checked(&mut c, 1, Err(VaultError::Destroyed));
        c.world_mut().resource_mut::<NextState<Screen>>().set(Screen::Queue);
        c.update();
        assert!(!c.world().resource::<PinAgain>().is_open());
        assert_eq!(locks(&mut c), 1, "the unit locks");
        assert!(c.world().resource::<UnlockFeedback>().0.is_some(), "and says why");
    }
}
