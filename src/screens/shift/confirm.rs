//! The supervisor's PIN asked again before the release (SECURITY.md R12: re-authenticate for
//! batch upload): the release signs the batch with the supervisor's key and cannot be taken
//! back, and the unit may have been left unlocked since. A PIN pad over the shift; the PIN is
//! checked on a task (Argon2id), counted as an unlock attempt is; right, the release starts;
//! wrong, the pad says how many attempts are left; the last wrong one erases the key slots and
//! the unit locks.

use bevy::prelude::*;

use super::{ShiftTasks, ShiftView};
use crate::screens::unlock::{PinKey, UnlockFeedback, apply_key, dots, not_a_pin, pin_keys};
use crate::screens::{LockNow, Screen, Session};
use crate::tasks::{Pending, Poll, Waker};
use crate::ui::form::action_button;
use crate::ui::i18n::Tr;
use crate::ui::theme;
use crate::ui::widgets::{label, primary_button};

/// The PIN pad over the shift, while it is open.
pub struct Confirm {
    /// Room for the longest PIN from the start: the digits never move to a new buffer,
    /// leaving an old one unwiped.
    digits: zeroize::Zeroizing<String>,
    /// Why the last PIN was not taken (wrong, and how many attempts are left).
    said: Option<Tr>,
}

impl Default for Confirm {
    fn default() -> Self {
        let room = *doorstep_vault::pin::PIN_DIGITS.end();
        Confirm { digits: zeroize::Zeroizing::new(String::with_capacity(room)), said: None }
    }
}

/// A PIN being checked (on a task; it waits for the vault, which a sync may hold).
pub type PinCheck = Pending<Result<(), doorstep_vault::VaultError>>;

/// The pad's buttons other than its keys.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmButton {
    Cancel,
}

/// The pad over the shift (what a test looks for after a lock).
#[derive(Component)]
pub struct ConfirmOverlay;

/// Keys, cancel and submit; a submitted PIN is checked on a task.
pub(super) fn press(
    keys: Query<(&Interaction, &PinKey), Changed<Interaction>>,
    buttons: Query<(&Interaction, &ConfirmButton), Changed<Interaction>>,
    mut view: ResMut<ShiftView>,
    mut tasks: ResMut<ShiftTasks>,
    session: Res<Session>,
    waker: Res<Waker>,
) {
    // Read first, written only when a key or a button was pressed on an open pad (the list
    // under it is drawn again only when the view changes).
    let pressed =
        keys.iter().any(|(i, _)| *i == Interaction::Pressed) || buttons.iter().any(|(i, _)| *i == Interaction::Pressed);
    if !pressed || view.confirming.is_none() {
        return;
    }
    // Cancel closes the pad at any time; a PIN being checked goes on, and its answer is still
    // acted on (the erasure of the slots locks the unit), but no release follows it.
    if buttons.iter().any(|(i, b)| *i == Interaction::Pressed && *b == ConfirmButton::Cancel) {
        view.confirming = None;
        return;
    }
    if tasks.pin_check.is_some() {
        return;
    }
    let vault = session.vault.clone();
    let Some(confirm) = view.confirming.as_mut() else { return };
    for (_, key) in keys.iter().filter(|(i, _)| **i == Interaction::Pressed) {
        match *key {
            PinKey::Submit => {
                let pin = std::mem::take(&mut confirm.digits);
                let Some(vault) = vault.clone() else { continue };
                let now = crate::settings::now().unix_timestamp();
                tasks.pin_check = Some(crate::tasks::spawn("confirm-pin", &waker, move || {
                    crate::session::lock(&vault).confirm_pin(&pin, now)
                }));
                confirm.said = None;
            }
            key => {
                apply_key(&mut confirm.digits, key);
                confirm.said = None;
            }
        }
    }
}

/// The PIN's answer: the release starts, or the pad says why not; the slots erased, the unit
/// locks.
pub(super) fn take(
    mut view: ResMut<ShiftView>,
    mut tasks: ResMut<ShiftTasks>,
    mut lock: MessageWriter<LockNow>,
    mut unlock_said: ResMut<UnlockFeedback>,
) {
    // Polled through a shared borrow: the view and the tasks are marked changed only when the
    // answer came.
    let Some(task) = tasks.pin_check.as_ref() else { return };
    let answer = match task.poll() {
        Poll::Running => return,
        Poll::Ready(a) => a,
        Poll::Failed => Err(doorstep_vault::VaultError::Kdf("the check stopped".into())),
    };
    tasks.pin_check = None;
    use doorstep_vault::VaultError as E;
    let said = match answer {
        // The pad still open: the release follows (cancelled meanwhile: nothing does).
        Ok(()) => {
            if view.confirming.is_some() {
                view.confirming = None;
                tasks.release_signed = true;
            }
            None
        }
        Err(E::WrongPin { attempts_left }) => Some(Tr::new("shift.pin_wrong").with("n", attempts_left)),
        Err(E::Pin(_)) => Some(not_a_pin()),
        Err(E::Destroyed) => {
            // The unlock screen says why it no longer opens.
            view.confirming = None;
            unlock_said.0 = Some(Tr::new("unlock.destroyed"));
            lock.write(LockNow);
            None
        }
        Err(e) => {
            error!("the PIN could not be checked: {e}");
            Some(Tr::new("shift.pin_failed"))
        }
    };
    // Said on the pad, if it is still open.
    if let (Some(said), Some(confirm)) = (said, view.confirming.as_mut()) {
        confirm.said = Some(said);
    }
}

/// Draws the pad over the shift while it is open, again as it changes.
pub(super) fn show(
    mut commands: Commands,
    (view, tasks): (Res<ShiftView>, Res<ShiftTasks>),
    (auth, session): (Res<crate::auth::Auth>, Res<Session>),
    overlay: Query<Entity, With<ConfirmOverlay>>,
    mut shown: Local<Option<(usize, Option<Tr>, bool)>>,
) {
    let checking = tasks.pin_check.is_some();
    let now = view.confirming.as_ref().map(|c| (c.digits.len(), c.said.clone(), checking));
    if now == *shown {
        return;
    }
    *shown = now.clone();
    for e in &overlay {
        commands.entity(e).despawn();
    }
    let Some((typed, said, checking)) = now else { return };
    // A demo unit says its supervisor's PIN, as its unlock screen does.
    let hint = session
        .officer
        .as_ref()
        .and_then(|o| auth.0.demo_pin(&o.id))
        .map(|pin| Tr::new("shift.pin_demo_hint").with("pin", pin));
    commands
        .spawn((
            ConfirmOverlay,
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
            // Gone with the shift screen (a lock): never left over the unlock screen, whose
            // keys are the same.
            DespawnOnExit(Screen::Shift),
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
                c.spawn(label(Tr::new("shift.pin_title"), theme::HEADING_SIZE, theme::TEXT));
                c.spawn(label(Tr::new("shift.pin_why"), theme::BODY_SIZE, theme::MUTED));
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
                c.spawn(primary_button(PinKey::Submit, Tr::new("shift.pin_submit")));
                c.spawn(action_button(ConfirmButton::Cancel, Tr::new("shift.pin_cancel"), false));
            });
            o.spawn(Node { flex_direction: FlexDirection::Column, row_gap: Val::Px(10.0), ..default() })
                .with_children(|pad| pin_keys(pad, 104.0, Some(72.0)));
        });
}
