//! What the officer is typing in the feedback box, kept sealed in the vault at each change
//! (by the draft writer, in order), so that the idle lock in the middle of a long complaint,
//! a restart or a flat battery loses none of it. It comes back when the box is opened again;
//! until it is sealed or cleared, the home screen says it is there, with a way back to it.
//! Nothing of it stays in memory while the unit is locked: only the vault holds it.

use bevy::prelude::*;
use doorstep_core::policy::FeedbackKind;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{FeedbackDesk, NAME, PHONE, TEXT};
use crate::tasks::{Pending, Poll};
use crate::ui::form::{Form, Typed};
use crate::ui::i18n::Tr;
use crate::ui::theme;
use crate::ui::widgets::label;
use crate::visit_flow::{Drafts, FeedbackRead};

/// The box's words as the vault keeps them (the person's consent is not kept: it is asked
/// again).
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct InHand {
    /// The feedback's id, taken when the first of it was kept: sealed under it, so that words
    /// that come back after their seal (a power cut before their drop) are never sealed twice.
    pub id: String,
    /// When the first of it was typed (unix seconds): how the officer tells it apart.
    pub since: i64,
    pub kind: Option<FeedbackKind>,
    pub category: Option<String>,
    pub typed: Typed,
}

/// Whether words typed in the feedback box are kept and not yet sealed, and since when: for
/// the home screen. Never the words.
#[derive(Resource, Default)]
pub struct FeedbackInHand {
    pub since: Option<i64>,
    reading: Option<Pending<FeedbackRead>>,
    /// A seal the box was left during (Back, the lock): once it ends, what is kept is read
    /// again (its words are gone once it is sealed).
    pub(super) sealing: Option<Pending<super::Sealed>>,
}

/// Only what the home screen needs of the words kept.
#[derive(Deserialize)]
struct Since {
    since: i64,
}

/// Only the feedback id of the words kept.
#[derive(Deserialize)]
struct IdOnly {
    id: String,
}

/// The feedback id of words kept (for the draft writer: words of a feedback sealed already
/// are dropped).
pub(crate) fn id_of(bytes: &[u8]) -> Option<String> {
    serde_json::from_slice::<IdOnly>(bytes).ok().map(|k| k.id)
}

/// On the home screen: the line for the words kept, rebuilt when they come or go.
#[derive(Component, Debug)]
pub struct InHandLine;

/// Takes the officer back to the words kept in the feedback box.
#[derive(Component, Debug)]
pub struct InHandButton;

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<FeedbackInHand>();
    app.add_systems(Update, follow_session);
    app.add_systems(
        Update,
        (show_on_home, open_from_home.after(super::super::follow_changes)).run_if(in_state(super::Screen::Home)),
    );
}

/// Whether anything worth keeping is typed: words, a name or a phone (a box or a category
/// chosen alone is soon chosen again).
pub(super) fn has_words(form: &Form) -> bool {
    [TEXT, NAME, PHONE].iter().any(|k| !form.get(k).trim().is_empty())
}

/// The words in hand as bytes to keep.
pub(super) fn to_bytes(id: &str, since: i64, desk: &FeedbackDesk, form: &Form) -> Zeroizing<Vec<u8>> {
    let mut typed = form.typed();
    typed.on.remove(super::CONSENT);
    let kept = InHand { id: id.to_string(), since, kind: desk.kind, category: desk.category.clone(), typed };
    // A value of plain fields: it always serialises.
    Zeroizing::new(serde_json::to_vec(&kept).unwrap_or_default())
}

/// What was kept, read back; `None` when nothing was, or it does not read (logged, never
/// quoted: it is the applicant's words).
pub(super) fn read(read: FeedbackRead) -> Option<InHand> {
    serde_json::from_slice(&kept(read)?)
        .inspect_err(|e| error!("the feedback kept while typed does not read (line {})", e.line()))
        .ok()
}

/// The bytes kept, if any; a vault that does not read them is logged (by its error only).
fn kept(read: FeedbackRead) -> Option<Zeroizing<Vec<u8>>> {
    read.inspect_err(|e| error!("the feedback kept while typed cannot be read: {e}")).ok().flatten()
}

/// A new session (an unlock) reads whether words are kept, for the home screen; a closed one
/// forgets (the draft writer is new or gone then).
fn follow_session(drafts: Res<Drafts>, mut in_hand: ResMut<FeedbackInHand>) {
    if drafts.is_changed() {
        in_hand.since = None;
        in_hand.sealing = None;
        in_hand.reading = drafts.read_feedback(id_of);
    }
    if let Some(sealing) = &in_hand.sealing
        && !matches!(sealing.poll(), Poll::Running)
    {
        in_hand.sealing = None;
        in_hand.reading = drafts.read_feedback(id_of);
    }
    let Some(reading) = &in_hand.reading else { return };
    let r = match reading.poll() {
        Poll::Running => return,
        Poll::Ready(r) => r,
        Poll::Failed => Ok(None),
    };
    in_hand.reading = None;
    // The time only: the words are not read into memory here.
    in_hand.since = kept(r).and_then(|bytes| serde_json::from_slice::<Since>(&bytes).ok()).map(|k| k.since);
}

fn show_on_home(
    mut commands: Commands,
    in_hand: Res<FeedbackInHand>,
    line: Query<Entity, With<InHandLine>>,
    added: Query<(), Added<InHandLine>>,
) {
    if !in_hand.is_changed() && added.is_empty() {
        return;
    }
    let Ok(line) = line.single() else { return };
    commands.entity(line).despawn_children();
    let Some(since) = in_hand.since else { return };
    commands.entity(line).with_children(|row| {
        let words = Tr::new("home.feedback_in_hand").with("at", crate::shift::local_time(since));
        row.spawn(Node { flex_grow: 1.0, flex_basis: Val::Px(0.0), min_width: Val::Px(0.0), ..default() })
            .with_child(label(words, theme::BODY_SIZE, theme::TEXT));
        row.spawn(crate::ui::form::action_button(InHandButton, Tr::new("home.feedback_in_hand_button"), true));
    });
}

fn open_from_home(
    buttons: Query<&Interaction, (Changed<Interaction>, With<InHandButton>)>,
    guard: Res<super::super::TapGuard>,
    time: Res<Time<Real>>,
    mut next: ResMut<NextState<super::Screen>>,
) {
    if buttons.iter().any(|i| *i == Interaction::Pressed) && guard.accepting(time.elapsed()) {
        next.set(super::Screen::Feedback);
    }
}
