//! Praise, opinions, complaints and "could not get it done" (表扬、意见建议、投诉、办不成事),
//! taken down by the officer: the box and its category (policy data), the words, and a contact
//! only with the person's consent. Checked by core's rules and sealed to the bureau on a task;
//! sent at the next sync like an application. The list below shows what this unit took down
//! and what the back office answered (heard at each sync), never the words themselves. What is
//! typed is kept sealed until it is sealed or cleared (`in_hand`): leaving the box, the idle
//! lock or a restart loses none of it.

mod in_hand;

pub use in_hand::{FeedbackInHand, InHandButton, InHandLine};

use bevy::prelude::*;
use doorstep_core::Localize;
use doorstep_core::feedback::{ContactInput, FeedbackInput};
use doorstep_core::policy::FeedbackKind;
use doorstep_vault::feedback::FeedbackEntry;

use super::{PolicyInUse, Screen, Session, header, root, today_text};
use crate::auth::Auth;
use crate::tasks::{Pending, Poll, Waker};
use crate::ui::form::{Form, action_button, text_field};
use crate::ui::i18n::Tr;
use crate::ui::theme;
use crate::ui::widgets::label;
use crate::visit_flow::Drafts;

/// Form keys.
const TEXT: &str = "feedback.text";
const NAME: &str = "feedback.name";
const PHONE: &str = "feedback.phone";
const CONSENT: &str = "feedback.consent";

#[derive(Component, Debug, Clone, PartialEq, Eq)]
pub enum FeedbackButton {
    Kind(FeedbackKind),
    Category(String),
    Consent,
    Submit,
    Back,
    /// Clears the form (and what is kept of it): the words in hand are not to be sent.
    Clear,
}

const KINDS: [(FeedbackKind, &str); 4] = [
    (FeedbackKind::Praise, "feedback.kind.praise"),
    (FeedbackKind::Suggestion, "feedback.kind.suggestion"),
    (FeedbackKind::Complaint, "feedback.kind.complaint"),
    (FeedbackKind::CouldNotGetDone, "feedback.kind.could-not-get-done"),
];

type Sealed = Result<FeedbackEntry, doorstep_vault::VaultError>;
type Listed = Result<Vec<FeedbackEntry>, doorstep_vault::VaultError>;

#[derive(Resource, Default)]
pub struct FeedbackDesk {
    pub kind: Option<FeedbackKind>,
    pub category: Option<String>,
    /// What the last submission came to, for the screen.
    pub said: Option<Tr>,
    /// What was said is a refusal (drawn as an error), not news (sealing, sealed).
    said_refusal: bool,
    pub entries: Vec<FeedbackEntry>,
    /// Why the hub refused those it refused at the last sync (id, why).
    pub refused: Vec<(String, crate::shift::HubRefusal)>,
    sealing: Option<Pending<Sealed>>,
    listing: Option<Pending<Listed>>,
    /// The words kept from before, being read: nothing is kept (or dropped) until they are in.
    restoring: Option<Pending<crate::visit_flow::FeedbackRead>>,
    /// When the words in hand were first typed, once kept.
    since: Option<i64>,
    /// They were brought back from before: the screen says so.
    restored: bool,
    /// What was last kept (or found kept), as a fingerprint of the form and choices.
    kept: Option<u64>,
    /// The feedback id the words in hand are kept and sealed under.
    id: Option<String>,
    /// The last keep failed (the card full or failing).
    keep_failed: bool,
}

#[derive(Component, Debug)]
struct Body;

pub fn plugin(app: &mut App) {
    app.init_resource::<FeedbackDesk>();
    in_hand::plugin(app);
    app.add_systems(OnEnter(Screen::Feedback), (reset, spawn, list).chain());
    // Nothing typed stays in memory once the box is left (the unit locked, or back home):
    // what is kept of it is in the vault.
    // The last change is kept on the way out (a word the input method committed with the tap).
    app.add_systems(OnExit(Screen::Feedback), (keep, reset).chain());
    app.add_systems(
        Update,
        (press.after(super::follow_changes), take, restore, keep.after(crate::ui::form::type_into_field), show)
            .chain()
            .run_if(in_state(Screen::Feedback)),
    );
}

fn reset(mut desk: ResMut<FeedbackDesk>, mut form: ResMut<Form>, mut in_hand: ResMut<FeedbackInHand>) {
    // A seal under way goes on without the screen: the home screen hears when it ends.
    if let Some(sealing) = desk.sealing.take() {
        in_hand.sealing = Some(sealing);
    }
    *desk = FeedbackDesk::default();
    form.clear();
}

fn list(
    session: Res<Session>,
    waker: Res<Waker>,
    drafts: Res<Drafts>,
    mut desk: ResMut<FeedbackDesk>,
    mut in_hand: ResMut<FeedbackInHand>,
) {
    desk.listing = listing(&session, &waker);
    // Back while the last one still seals: the box says so and ends it as it would have; its
    // words are not offered again meanwhile (edited, they would be sealed as they were).
    if let Some(sealing) = in_hand.sealing.take() {
        desk.sealing = Some(sealing);
        desk.said = Some(Tr::new("feedback.sealing"));
        return;
    }
    desk.restoring = drafts.read_feedback(in_hand::id_of);
}

/// The words kept from before, put back in the box (over anything typed in the moment they
/// took to read).
fn restore(mut desk: ResMut<FeedbackDesk>, mut form: ResMut<Form>) {
    let Some(reading) = &desk.restoring else { return };
    let r = match reading.poll() {
        Poll::Running => return,
        Poll::Ready(r) => r,
        Poll::Failed => Ok(None),
    };
    desk.restoring = None;
    let Some(kept) = in_hand::read(r) else { return };
    (desk.kind, desk.category) = (kept.kind, kept.category);
    form.clear();
    form.restore(&Form::from_typed(&kept.typed));
    desk.since = Some(kept.since);
    desk.id = Some(kept.id);
    desk.restored = true;
    desk.kept = Some(fingerprint(&desk, &form));
}

/// What is typed and chosen in the box, as one number.
fn fingerprint(desk: &FeedbackDesk, form: &Form) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (form.fingerprint(), desk.kind, &desk.category).hash(&mut h);
    h.finish()
}

/// Keeps the words in hand at each change (a key, a word from the input method, a tap), as a
/// visit's form is kept; forgets them once nothing is typed (sealed, cleared, or rubbed out).
fn keep(mut desk: ResMut<FeedbackDesk>, form: Res<Form>, drafts: Res<Drafts>, mut in_hand: ResMut<FeedbackInHand>) {
    // A keep that failed (the card full or failing) is said on the screen until one works.
    let failed = drafts.status.feedback_failed.load(std::sync::atomic::Ordering::SeqCst);
    if desk.keep_failed != failed {
        desk.keep_failed = failed;
    }
    // Nothing is kept without a vault (the in-memory test officer), nor before what was kept
    // is read back.
    if desk.restoring.is_some() || !drafts.keeps() {
        return;
    }
    let now = fingerprint(&desk, &form);
    if desk.kept == Some(now) {
        return;
    }
    // Not a change the screen shows (it would be drawn again at each key).
    let quiet = desk.bypass_change_detection();
    quiet.kept = Some(now);
    if in_hand::has_words(&form) {
        let now = crate::settings::now();
        let since = *quiet.since.get_or_insert_with(|| now.unix_timestamp());
        let id = quiet.id.get_or_insert_with(|| doorstep_vault::Vault::new_feedback_id(now)).clone();
        drafts.keep_feedback(in_hand::to_bytes(&id, since, quiet, &form));
        in_hand.since = Some(since);
    } else if quiet.since.take().is_some() {
        drafts.drop_feedback();
        in_hand.since = None;
        // The note that they were brought back goes with them.
        desk.restored = false;
    }
}

fn listing(session: &Session, waker: &Waker) -> Option<Pending<Listed>> {
    let vault = session.vault.clone()?;
    Some(crate::tasks::spawn("feedback-list", waker, move || crate::session::lock(&vault).feedback()))
}

fn take(
    mut desk: ResMut<FeedbackDesk>,
    mut form: ResMut<Form>,
    session: Res<Session>,
    waker: Res<Waker>,
    sync: Option<Res<crate::unit_sync::UnitSync>>,
    mut runs: Local<Option<u64>>,
) {
    // A sync finished (it may have sent one, or brought an answer): the list is read again.
    let view = sync.map(|s| s.view());
    let done = view.as_ref().map(|v| v.runs);
    if let Some(v) = view
        && desk.refused != v.feedback_refused
    {
        desk.refused = v.feedback_refused;
    }
    if *runs != done {
        if runs.is_some() && desk.listing.is_none() {
            desk.listing = listing(&session, &waker);
        }
        *runs = done;
    }
    if let Some(t) = &desk.sealing {
        let r = match t.poll() {
            Poll::Running => None,
            Poll::Ready(r) => Some(r),
            Poll::Failed => Some(Err(doorstep_vault::VaultError::Seal("the sealing task stopped".into()))),
        };
        if let Some(r) = r {
            desk.sealing = None;
            desk.said_refusal = r.is_err();
            desk.said = Some(match r {
                Ok(_) => {
                    // Nothing of it stays on the screen once sealed, its kind and category
                    // neither: the next person chooses their own.
                    form.clear();
                    (desk.kind, desk.category) = (None, None);
                    // The next words are another feedback. What was kept while typed went
                    // with the seal (and `keep` sees the empty form).
                    desk.id = None;
                    desk.listing = listing(&session, &waker);
                    Tr::new("feedback.sealed")
                }
                Err(doorstep_vault::VaultError::Feedback(e)) => Tr::message(e.message()),
                Err(e) => {
                    error!("feedback not sealed: {e}");
                    Tr::new("feedback.failed")
                }
            });
        }
    }
    if let Some(t) = &desk.listing {
        let r = match t.poll() {
            Poll::Running => return,
            Poll::Ready(r) => r,
            Poll::Failed => Ok(Vec::new()),
        };
        desk.listing = None;
        match r {
            Ok(entries) => desk.entries = entries,
            Err(e) => error!("the feedback kept cannot be listed: {e}"),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn press(
    buttons: Query<(&Interaction, &FeedbackButton), Changed<Interaction>>,
    guard: Res<super::TapGuard>,
    time: Res<Time<Real>>,
    mut desk: ResMut<FeedbackDesk>,
    mut form: ResMut<Form>,
    (session, policy, waker): (Res<Session>, Res<PolicyInUse>, Res<Waker>),
    mut next: ResMut<NextState<Screen>>,
) {
    for (i, b) in &buttons {
        if *i != Interaction::Pressed || !guard.accepting(time.elapsed()) {
            continue;
        }
        match b {
            FeedbackButton::Kind(k) => {
                desk.kind = Some(*k);
                desk.category = None;
            }
            FeedbackButton::Category(c) => desk.category = Some(c.clone()),
            FeedbackButton::Consent => form.toggle(CONSENT),
            FeedbackButton::Back => next.set(Screen::Home),
            FeedbackButton::Clear => {
                form.clear();
                (desk.kind, desk.category) = (None, None);
                desk.said = None;
                desk.id = None;
            }
            FeedbackButton::Submit => {
                if desk.sealing.is_some() {
                    continue;
                }
                let (Some(kind), Some(category)) = (desk.kind, desk.category.clone()) else {
                    desk.said = Some(Tr::new("feedback.choose"));
                    desk.said_refusal = true;
                    continue;
                };
                let Some(vault) = session.vault.clone() else { continue };
                let contact = ContactInput {
                    name: form.get(NAME).to_string(),
                    phone: form.get(PHONE).to_string(),
                    consent: form.is_on(CONSENT),
                };
                let input = FeedbackInput {
                    kind,
                    category,
                    text: form.get(TEXT).to_string(),
                    contact: Some(contact),
                    visit: None,
                };
                let rules = policy.0.feedback.clone();
                desk.said = Some(Tr::new("feedback.sealing"));
                desk.said_refusal = false;
                // Under the id its words are kept with: sealed once, whatever comes back.
                let now = crate::settings::now();
                let id = desk.id.get_or_insert_with(|| doorstep_vault::Vault::new_feedback_id(now)).clone();
                desk.sealing = Some(crate::tasks::spawn("feedback-seal", &waker, move || {
                    let mut v = crate::session::lock(&vault);
                    let sealed = v.seal_feedback_input_as(&id, input, &rules, now)?;
                    // Its words go with the seal, whether or not the screen is still there.
                    if let Err(e) = v.drop_feedback_in_hand() {
                        error!("the words of a feedback sealed could not be forgotten: {e}");
                    }
                    Ok(sealed)
                }));
            }
        }
    }
}

fn spawn(mut commands: Commands, auth: Res<Auth>) {
    commands.spawn(root(Screen::Feedback)).with_children(|root| {
        root.spawn(header(today_text(), auth.0.is_demo()));
        root.spawn((Body, super::scrolling_body(12.0)));
        // The foot stays in view: the form is longer than the screen.
        root.spawn(super::foot()).with_children(|foot| {
            foot.spawn(action_button(FeedbackButton::Back, Tr::new("feedback.back"), false));
            foot.spawn(action_button(FeedbackButton::Submit, Tr::new("feedback.submit"), true));
        });
    });
}

/// The words for where a feedback stands.
fn state_words(e: &FeedbackEntry) -> Tr {
    use doorstep_core::feedback::Escalation;
    match &e.state {
        Escalation::Open if !e.received => Tr::new("feedback.state.to_send"),
        Escalation::Open => Tr::new("feedback.state.received"),
        Escalation::Acknowledged { .. } => Tr::new("feedback.state.acknowledged"),
        Escalation::Answered { answer, .. } => Tr::new("feedback.state.answered").with("answer", answer),
        Escalation::Closed { note, .. } => Tr::new("feedback.state.closed").with("note", note),
    }
}

/// Rebuilds the body when the desk or the form's choices change (typing redraws the fields).
fn show(
    mut commands: Commands,
    desk: Res<FeedbackDesk>,
    form: Res<Form>,
    policy: Res<PolicyInUse>,
    mut body: Query<(Entity, &mut ScrollPosition), With<Body>>,
    added: Query<(), Added<Body>>,
    (mut choices, mut said): (Local<Option<u64>>, Local<Option<Tr>>),
) {
    if !desk.is_changed() && added.is_empty() && *choices == Some(form.choices) {
        return;
    }
    *choices = Some(form.choices);
    let Ok((body, mut at)) = body.single_mut() else { return };
    // A refusal just said is said at the top: the form scrolls up to it (tapped at the foot
    // with the form scrolled down, it was drawn out of sight and nothing seemed to happen).
    if desk.said != *said {
        said.clone_from(&desk.said);
        if desk.said_refusal {
            at.y = 0.0;
        }
    }
    commands.entity(body).despawn_children();
    commands.entity(body).with_children(|b| {
        b.spawn(label(Tr::new("feedback.title"), theme::TITLE_SIZE, theme::TEXT));
        if desk.keep_failed {
            b.spawn(label(Tr::new("feedback.keep_failed"), theme::BODY_SIZE, theme::ERROR));
        }
        if let (true, Some(since)) = (desk.restored, desk.since) {
            b.spawn(Node { column_gap: Val::Px(16.0), align_items: AlignItems::Center, ..default() }).with_children(
                |row| {
                    let words = Tr::new("feedback.restored").with("at", crate::shift::local_time(since));
                    row.spawn(Node { flex_grow: 1.0, flex_basis: Val::Px(0.0), min_width: Val::Px(0.0), ..default() })
                        .with_child(label(words, theme::BODY_SIZE, theme::PRIMARY));
                    row.spawn(action_button(FeedbackButton::Clear, Tr::new("feedback.clear"), false));
                },
            );
        }
        if let Some(said) = &desk.said {
            let colour = if desk.said_refusal { theme::ERROR } else { theme::PRIMARY };
            b.spawn(label(said.clone(), theme::BODY_SIZE, colour));
        }
        let row = || Node { column_gap: Val::Px(12.0), row_gap: Val::Px(8.0), flex_wrap: FlexWrap::Wrap, ..default() };
        b.spawn(row()).with_children(|r| {
            for (k, key) in KINDS {
                r.spawn(action_button(FeedbackButton::Kind(k), Tr::new(key), desk.kind == Some(k)));
            }
        });
        if let Some(kind) = desk.kind {
            b.spawn(row()).with_children(|r| {
                // A poor rating's follow-up is made by the rating itself, never typed.
                for c in policy.0.feedback.categories(kind).filter(|c| c.id != doorstep_core::policy::POOR_RATING) {
                    let tr = Tr::new("feedback.category").with_texts("name", &c.zh, &c.en);
                    r.spawn(action_button(
                        FeedbackButton::Category(c.id.clone()),
                        tr,
                        desk.category.as_ref() == Some(&c.id),
                    ));
                }
            });
        }
        b.spawn(text_field(TEXT, Tr::new("feedback.text"), doorstep_core::feedback::MAX_TEXT));
        b.spawn(label(Tr::new("feedback.contact_note"), theme::BODY_SIZE, theme::MUTED));
        b.spawn(text_field(NAME, Tr::new("feedback.name"), 30));
        b.spawn(text_field(PHONE, Tr::new("feedback.phone"), 20));
        b.spawn(Node::default()).with_child(action_button(
            FeedbackButton::Consent,
            Tr::new("feedback.consent"),
            form.is_on(CONSENT),
        ));
        if !desk.entries.is_empty() {
            b.spawn(label(Tr::new("feedback.kept"), theme::HEADING_SIZE, theme::TEXT));
        }
        for e in desk.entries.iter().rev() {
            let kind = KINDS.iter().find(|(k, _)| *k == e.kind).map_or("feedback.kind.suggestion", |(_, key)| key);
            let category = policy.0.feedback.category(e.kind, &e.category);
            let (zh, en) = category.map_or((e.category.as_str(), e.category.as_str()), |c| (&c.zh, &c.en));
            b.spawn(label(
                Tr::new("feedback.entry")
                    .with("at", crate::shift::local_time(e.created_at_unix))
                    .with_key("kind", kind)
                    .with_texts("category", zh, en),
                theme::BODY_SIZE,
                theme::TEXT,
            ));
            b.spawn(label(state_words(e), theme::BODY_SIZE, theme::MUTED));
            if let Some((_, why)) = desk.refused.iter().find(|(id, _)| *id == e.id).filter(|_| !e.received) {
                // The size limit's words name an application: a feedback has its own.
                let words = match why.code.as_str() {
                    "too-large" => Tr::new("feedback.too_large"),
                    _ => Tr::message(why.message()),
                };
                b.spawn((
                    label(words, theme::BODY_SIZE, theme::ERROR),
                    TextLayout { linebreak: LineBreak::WordOrCharacter, ..default() },
                ));
            }
        }
    });
}
