//! The officer unlock screen: a PIN pad with large keys, and the language switch.

use bevy::prelude::*;
use zeroize::Zeroize;

use super::{Screen, header, root, today_text};
use crate::auth::{Auth, AuthError, Unlocked};
use crate::session::Session;
use crate::tasks::{Pending, Poll, Waker};
use crate::ui::i18n::Tr;
use crate::ui::theme;
use crate::ui::widgets::{key_button, label, plain, primary_button};
use doorstep_vault::Anchor;
use doorstep_vault::pin::{PIN_DIGITS, may_extend};

/// What a key of the PIN pad (or the keyboard) asks for.
#[derive(Message, Component, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinKey {
    Digit(u8),
    Delete,
    Clear,
    Submit,
}

/// The digits typed so far. Never logged; zeroised when cleared and on leaving the screen.
#[derive(Resource)]
pub struct PinEntry {
    digits: zeroize::Zeroizing<String>,
}

impl Default for PinEntry {
    fn default() -> Self {
        PinEntry { digits: room_for_a_pin() }
    }
}

/// Room for the longest PIN from the start: typed digits never move to a new buffer, leaving
/// an old one unwiped.
pub fn room_for_a_pin() -> zeroize::Zeroizing<String> {
    zeroize::Zeroizing::new(String::with_capacity(*PIN_DIGITS.end()))
}

impl PinEntry {
    pub fn len(&self) -> usize {
        self.digits.len()
    }

    pub fn is_empty(&self) -> bool {
        self.digits.is_empty()
    }
}

/// The PIN being checked on a task (Argon2id), while it is. A second tap of "unlock" meanwhile
/// does nothing.
#[derive(Resource, Default)]
pub struct Checking(Option<Pending<Result<Unlocked, AuthError>>>);

impl Checking {
    pub fn is_running(&self) -> bool {
        self.0.is_some()
    }

    /// Forgets the check in hand: its answer (and the vault it may open) is dropped unread.
    pub fn cancel(&mut self) {
        self.0 = None;
    }
}

/// The user whose PIN is typed: the unit's officer unless another user was chosen.
#[derive(Resource, Default, Debug, Clone, PartialEq, Eq)]
pub struct ChosenUser(pub Option<String>);

/// A button choosing the user who unlocks (shown when the vault has more than one).
#[derive(Component, Debug, Clone, PartialEq, Eq)]
pub struct UserButton(pub String);

/// The row of user buttons and the demo PIN's hint, rebuilt when the choice changes.
#[derive(Component, Debug)]
struct UserRow;

#[derive(Component, Debug)]
struct DemoHint;

/// The message under the PIN, if the last attempt failed.
#[derive(Resource, Default, Debug, Clone, PartialEq, Eq)]
pub struct UnlockFeedback(pub Option<Tr>);

/// Draws the title with characters the font lacks: the screenshot test compares a render
/// of the real title against this one to prove that Chinese did not come out as boxes.
#[derive(Resource, Debug, Clone, Copy)]
pub struct GlyphProbe;

/// The screen's title, located by the screenshot test.
#[derive(Component, Debug)]
pub struct Title;

/// The long privacy note, whose wrapping the screenshot test checks (bevy has no line-break
/// model for Chinese, so wrapping falls back to breaking between characters).
#[derive(Component, Debug)]
pub struct PrivacyNote;

/// The width of the column holding the title and notes.
pub const TEXT_COLUMN_WIDTH: f32 = 560.0;

#[derive(Component)]
struct PinDots;

#[derive(Component)]
struct FeedbackText;

pub fn plugin(app: &mut App) {
    app.init_resource::<PinEntry>();
    app.init_resource::<UnlockFeedback>();
    app.init_resource::<Checking>();
    app.init_resource::<ChosenUser>();
    app.add_message::<PinKey>();
    app.add_systems(OnEnter(Screen::Unlock), spawn);
    app.add_systems(OnExit(Screen::Unlock), forget_pin);
    app.add_systems(
        Update,
        (press_keys, choose_user, type_keys, apply_pin_keys, finish_unlock, show_pin, show_users)
            .chain()
            .after(super::Locking)
            .run_if(in_state(Screen::Unlock)),
    );
}

fn spawn(mut commands: Commands, auth: Res<Auth>, idle: Res<super::IdleLock>, probe: Option<Res<GlyphProbe>>) {
    let demo = auth.0.is_demo();
    let title: Box<dyn FnOnce(&mut ChildSpawnerCommands)> = if probe.is_some() {
        // Nine characters of CJK Extension B (U+20000…), which the subset font does not carry.
        let missing: String = (0x20000u32..0x20009).filter_map(char::from_u32).collect();
        Box::new(move |p| {
            p.spawn((Title, plain(&missing, theme::TITLE_SIZE, theme::TEXT)));
        })
    } else {
        Box::new(|p| {
            p.spawn((Title, label(Tr::new("app.title"), theme::TITLE_SIZE, theme::TEXT)));
        })
    };
    let minutes = idle.timeout.as_secs().div_ceil(60);
    commands.spawn(root(Screen::Unlock)).with_children(|root| {
        root.spawn(header(today_text(), demo));
        // Scrolls when the text is larger than the screen holds (several users, larger text):
        // nothing is out of reach, and the top is never cut.
        root.spawn((
            crate::ui::widgets::Scrolls,
            Node {
                flex_grow: 1.0,
                min_height: Val::Px(0.0),
                overflow: Overflow::scroll_y(),
                padding: UiRect::all(Val::Px(32.0)),
                column_gap: Val::Px(64.0),
                justify_content: JustifyContent::Center,
                align_items: AlignItems::FlexStart,
                ..default()
            },
        ))
        .with_children(|body| {
            // Centred while there is room (auto margins), from the top when there is not.
            body.spawn(Node {
                width: Val::Px(TEXT_COLUMN_WIDTH),
                flex_direction: FlexDirection::Column,
                row_gap: Val::Px(20.0),
                margin: UiRect::vertical(Val::Auto),
                ..default()
            })
            .with_children(|left| {
                title(left);
                left.spawn((
                    UserRow,
                    Node { column_gap: Val::Px(12.0), row_gap: Val::Px(8.0), flex_wrap: FlexWrap::Wrap, ..default() },
                ));
                left.spawn(label(Tr::new("unlock.prompt"), theme::HEADING_SIZE, theme::TEXT));
                left.spawn((PinDots, plain(&dots(0), theme::KEY_SIZE, theme::PRIMARY)));
                left.spawn((FeedbackText, label(Tr::new(""), theme::BODY_SIZE, theme::ERROR)));
                left.spawn((DemoHint, label(Tr::new(""), theme::BODY_SIZE, theme::MUTED)));
                left.spawn((
                    PrivacyNote,
                    label(Tr::new("unlock.privacy").with("m", minutes), theme::BODY_SIZE, theme::MUTED),
                ));
            });
            body.spawn(Node {
                flex_direction: FlexDirection::Column,
                row_gap: Val::Px(12.0),
                width: Val::Px(3.0 * 128.0 + 2.0 * 12.0),
                margin: UiRect::vertical(Val::Auto),
                ..default()
            })
            .with_children(|pad| {
                pin_keys(pad, 128.0, None);
                pad.spawn(primary_button(PinKey::Submit, Tr::new("unlock.button")));
            });
        });
    });
}

/// The PIN pad's keys, four rows of three (the digits, clear and delete), each `width` wide
/// and, when given, `height` high (the unlock screen's are 88); each key is a [`PinKey`].
pub fn pin_keys(pad: &mut ChildSpawnerCommands, width: f32, height: Option<f32>) {
    let rows: [[PinKey; 3]; 4] = [
        [PinKey::Digit(1), PinKey::Digit(2), PinKey::Digit(3)],
        [PinKey::Digit(4), PinKey::Digit(5), PinKey::Digit(6)],
        [PinKey::Digit(7), PinKey::Digit(8), PinKey::Digit(9)],
        [PinKey::Clear, PinKey::Digit(0), PinKey::Delete],
    ];
    for row in rows {
        pad.spawn(Node { column_gap: Val::Px(12.0), ..default() }).with_children(|r| {
            for key in row {
                let mut k = match key {
                    PinKey::Digit(d) => {
                        r.spawn(key_button(key, width, plain(&d.to_string(), theme::KEY_SIZE, theme::TEXT)))
                    }
                    PinKey::Clear => {
                        r.spawn(key_button(key, width, label(Tr::new("unlock.clear"), theme::BODY_SIZE, theme::TEXT)))
                    }
                    _ => {
                        r.spawn(key_button(key, width, label(Tr::new("unlock.delete"), theme::BODY_SIZE, theme::TEXT)))
                    }
                };
                if let Some(h) = height {
                    k.entry::<Node>().and_modify(move |mut n| n.height = Val::Px(h));
                }
            }
        });
    }
}

/// Applies a key to the digits typed: a digit while there is room, delete, clear. Submit is
/// the caller's.
pub fn apply_key(digits: &mut zeroize::Zeroizing<String>, key: PinKey) {
    match key {
        PinKey::Digit(d) if may_extend(digits) && d < 10 => digits.push(char::from(b'0' + d)),
        PinKey::Delete => {
            digits.pop();
        }
        PinKey::Clear => digits.zeroize(),
        PinKey::Digit(_) | PinKey::Submit => {}
    }
}

/// One dot per digit typed, and empty ones up to the shortest PIN.
pub fn dots(filled: usize) -> String {
    let shown = filled.max(*PIN_DIGITS.start());
    (0..shown).map(|i| if i < filled { "●" } else { "○" }).collect::<Vec<_>>().join(" ")
}

fn press_keys(buttons: Query<(&Interaction, &PinKey), Changed<Interaction>>, mut out: MessageWriter<PinKey>) {
    for (interaction, key) in &buttons {
        if *interaction == Interaction::Pressed {
            out.write(*key);
        }
    }
}

fn type_keys(keys: Res<ButtonInput<KeyCode>>, mut out: MessageWriter<PinKey>) {
    const DIGITS: [(KeyCode, KeyCode); 10] = [
        (KeyCode::Digit0, KeyCode::Numpad0),
        (KeyCode::Digit1, KeyCode::Numpad1),
        (KeyCode::Digit2, KeyCode::Numpad2),
        (KeyCode::Digit3, KeyCode::Numpad3),
        (KeyCode::Digit4, KeyCode::Numpad4),
        (KeyCode::Digit5, KeyCode::Numpad5),
        (KeyCode::Digit6, KeyCode::Numpad6),
        (KeyCode::Digit7, KeyCode::Numpad7),
        (KeyCode::Digit8, KeyCode::Numpad8),
        (KeyCode::Digit9, KeyCode::Numpad9),
    ];
    for (d, (main, pad)) in DIGITS.iter().enumerate() {
        if keys.just_pressed(*main) || keys.just_pressed(*pad) {
            out.write(PinKey::Digit(d as u8));
        }
    }
    if keys.just_pressed(KeyCode::Backspace) {
        out.write(PinKey::Delete);
    }
    if keys.just_pressed(KeyCode::Escape) {
        out.write(PinKey::Clear);
    }
    if keys.just_pressed(KeyCode::Enter) || keys.just_pressed(KeyCode::NumpadEnter) {
        out.write(PinKey::Submit);
    }
}

#[allow(clippy::too_many_arguments)]
fn apply_pin_keys(
    mut keys: MessageReader<PinKey>,
    mut entry: ResMut<PinEntry>,
    auth: Res<Auth>,
    waker: Res<Waker>,
    mut checking: ResMut<Checking>,
    mut feedback: ResMut<UnlockFeedback>,
    time: Res<Time<Real>>,
    chosen: Res<ChosenUser>,
) {
    for key in keys.read() {
        if checking.is_running() {
            continue;
        }
        match *key {
            PinKey::Submit => {
                let pin = std::mem::replace(&mut entry.digits, room_for_a_pin());
                let (auth, elapsed) = (auth.0.clone(), time.elapsed());
                let user = chosen_user(&chosen, auth.as_ref());
                checking.0 = Some(crate::tasks::spawn("unlock", &waker, move || auth.verify(&user, &pin, elapsed)));
                feedback.0 = Some(Tr::new("unlock.checking"));
            }
            key => apply_key(&mut entry.digits, key),
        }
    }
}

/// Takes the unlock task's answer: the session opens on the home screen, or the screen says
/// why not.
fn finish_unlock(
    mut checking: ResMut<Checking>,
    mut feedback: ResMut<UnlockFeedback>,
    mut session: ResMut<Session>,
    mut next: ResMut<NextState<Screen>>,
    mut chosen: ResMut<ChosenUser>,
) {
    let Some(task) = &checking.0 else { return };
    let result = match task.poll() {
        Poll::Running => return,
        Poll::Ready(r) => r,
        Poll::Failed => Err(AuthError::Failed("the unlock task stopped".into())),
    };
    checking.0 = None;
    match result {
        Ok(Unlocked { officer, vault }) => {
            feedback.0 = None;
            let role = officer.role;
            // The next unlock offers the unit's officer again.
            chosen.0 = None;
            session.open(officer, vault);
            next.set(match role {
                doorstep_vault::Role::Officer => Screen::Home,
                doorstep_vault::Role::Supervisor => Screen::Shift,
            });
        }
        Err(e) => feedback.0 = Some(refusal(e)),
    }
}

/// What is said of what cannot be a PIN (too short, too long): here and on the release's pad.
pub fn not_a_pin() -> Tr {
    Tr::new("unlock.too_short").with("min", PIN_DIGITS.start()).with("max", PIN_DIGITS.end())
}

/// The unlock screen's words for a refused PIN.
fn refusal(e: AuthError) -> Tr {
    match e {
        AuthError::Pin(_) => not_a_pin(),
        AuthError::WrongPin { attempts_left } => Tr::new("unlock.wrong").with("n", attempts_left),
        AuthError::LockedOut(wait) => Tr::new("unlock.locked_out").with("s", wait.as_secs().max(1)),
        AuthError::Destroyed => Tr::new("unlock.destroyed"),
        // This unit itself: a release or a sync begun before the lock is still finishing.
        AuthError::Busy { pid: Some(pid) } if pid == std::process::id() => Tr::new("unlock.busy_here"),
        AuthError::Busy { pid } => {
            let pid = pid.map_or_else(|| "?".to_string(), |p| p.to_string());
            Tr::new("unlock.busy").with("pid", pid)
        }
        AuthError::Tampered(anchor) => {
            error!("unlock refused: the {anchor} was changed without the PIN");
            Tr::new(tampered_key(anchor))
        }
        AuthError::Failed(reason) => {
            error!("unlock failed: {reason}");
            Tr::new("unlock.failed")
        }
    }
}

/// The unlock screen's words for a trust anchor changed without the PIN, naming it (R26).
fn tampered_key(anchor: Anchor) -> &'static str {
    match anchor {
        Anchor::BureauKey => "unlock.tampered.bureau_key",
        Anchor::DeviceId => "unlock.tampered.device_id",
        Anchor::DeviceKey => "unlock.tampered.device_key",
        Anchor::FailurePolicy => "unlock.tampered.failure_policy",
        Anchor::Users => "unlock.tampered.users",
        Anchor::SealedCopy => "unlock.tampered.sealed_copy",
    }
}

fn show_pin(
    entry: Res<PinEntry>,
    feedback: Res<UnlockFeedback>,
    checking: Res<Checking>,
    mut dots_text: Query<&mut Text, With<PinDots>>,
    mut message: Query<(&mut Tr, &mut TextColor), With<FeedbackText>>,
) {
    if entry.is_changed() {
        for mut text in &mut dots_text {
            text.0 = dots(entry.len());
        }
    }
    if feedback.is_changed() || checking.is_changed() {
        for (mut tr, mut colour) in &mut message {
            *tr = feedback.0.clone().unwrap_or_else(|| Tr::new(""));
            // "Checking…" is not a refusal: grey while the PIN is checked, red only for an
            // answer that refused it.
            colour.0 = if checking.is_running() { theme::MUTED } else { theme::ERROR };
        }
    }
}

/// The user a PIN typed now is for: the one chosen, else the unit's own officer.
fn chosen_user(chosen: &ChosenUser, auth: &dyn crate::auth::OfficerAuth) -> String {
    chosen.0.clone().or_else(|| auth.users().first().map(|u| u.id.clone())).unwrap_or_default()
}

fn choose_user(
    buttons: Query<(&Interaction, &UserButton), Changed<Interaction>>,
    checking: Res<Checking>,
    mut chosen: ResMut<ChosenUser>,
    mut entry: ResMut<PinEntry>,
    mut feedback: ResMut<UnlockFeedback>,
) {
    for (i, b) in &buttons {
        if *i == Interaction::Pressed && !checking.is_running() && chosen.0.as_ref() != Some(&b.0) {
            chosen.0 = Some(b.0.clone());
            // A PIN half typed was for the other user.
            entry.digits.zeroize();
            feedback.0 = None;
        }
    }
}

/// One button per user when the vault has several (an officer and their supervisor), the
/// chosen one in the primary colour; and the demo PIN of the chosen user.
fn show_users(
    mut commands: Commands,
    auth: Res<Auth>,
    chosen: Res<ChosenUser>,
    row: Query<Entity, With<UserRow>>,
    added: Query<(), Added<UserRow>>,
    mut hint: Query<&mut Tr, With<DemoHint>>,
) {
    if !chosen.is_changed() && added.is_empty() {
        return;
    }
    let Ok(row) = row.single() else { return };
    let users = auth.0.users();
    let current = chosen_user(&chosen, auth.0.as_ref());
    commands.entity(row).despawn_children();
    if users.len() > 1 {
        commands.entity(row).with_children(|r| {
            for u in &users {
                let role = match u.role {
                    doorstep_vault::Role::Officer => "unlock.user.officer",
                    doorstep_vault::Role::Supervisor => "unlock.user.supervisor",
                };
                let tr = Tr::new("unlock.user").with_key("role", role).with("id", &u.id);
                r.spawn(crate::ui::form::action_button(UserButton(u.id.clone()), tr, u.id == current));
            }
        });
    }
    let wanted =
        auth.0.demo_pin(&current).map_or_else(|| Tr::new(""), |pin| Tr::new("unlock.demo_hint").with("pin", pin));
    for mut tr in &mut hint {
        *tr = wanted.clone();
    }
}

fn forget_pin(mut entry: ResMut<PinEntry>, mut feedback: ResMut<UnlockFeedback>) {
    entry.digits.zeroize();
    feedback.0 = None;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Lang;
    use crate::ui::i18n::Strings;

    /// Each anchor has its own words, in both languages (a missing key would show itself).
    #[test]
    fn every_changed_anchor_is_named_in_both_languages() {
        let strings = Strings::embedded();
        let anchors = [
            Anchor::BureauKey,
            Anchor::DeviceId,
            Anchor::DeviceKey,
            Anchor::FailurePolicy,
            Anchor::Users,
            Anchor::SealedCopy,
        ];
        for lang in [Lang::Zh, Lang::En] {
            let keys = strings.keys(lang);
            let mut texts = std::collections::BTreeSet::new();
            for anchor in anchors {
                let key = tampered_key(anchor);
                assert!(keys.contains(&key), "{key} in {lang:?}");
                texts.insert(strings.get(lang, key, &[]));
            }
            assert_eq!(texts.len(), anchors.len(), "each anchor's words differ");
        }
    }
}
