//! The photo step's screen: the live preview with its guidance beside it, then the photo taken
//! with the checks' verdict beside it, and the ID card's photo where the applicant may reuse
//! it. What the buttons do is in `capture.rs`.

use bevy::prelude::*;

use doorstep_core::visit::LookAnswer;

use super::capture::{BROUGHT, LOOK, LiveAdvice, OVERRIDE, Shot, card_photo, child_absent};
use super::{Act, View, actions, heading, line};
use crate::ui::form::Form;
use crate::ui::form::text_field;
use crate::ui::i18n::Tr;
use crate::ui::theme;
use doorstep_core::text::{Arg, Message};

/// The photo step, as it stands.
pub(super) fn view(v: &View, ui: &mut ChildSpawnerCommands) {
    heading(ui, Tr::new("visit.photo.title"));
    // The services need no photo (an endorsement on a permit held): nothing to take.
    if photo_not_needed(v.visit) {
        line(ui, Tr::new("visit.photo.not_needed"));
        actions(v, vec![(Act::Next, Tr::new("visit.next"), true)]);
        return;
    }
    // Whether the photo is a printed one brought along: asked before it is taken, and below
    // what the checks found once one is in hand (so that, in large text on a small screen, the
    // officer's answers to the checks stay in view).
    let in_hand = v.work.shot.is_some();
    if !in_hand {
        brought(v, ui);
    }
    if v.work.photo.is_some() {
        line(ui, Tr::new("visit.photo.checking"));
    } else if let Some(note) = &v.work.photo_note {
        line(ui, note.clone());
    }
    if v.work.shot.is_none()
        && let Some(image) = &v.work.live_image
    {
        // The guidance beside the preview, where the officer reads it while framing the shot
        // (below it, a long line went under the action bar on an 800×480 screen).
        let (w, h) = super::live::PREVIEW;
        ui.spawn(side_by_side()).with_children(|row| {
            row.spawn((
                ImageNode::new(image.clone()),
                Node { width: Val::Px(w as f32), height: Val::Px(h as f32), flex_shrink: 0.0, ..default() },
            ));
            row.spawn(beside()).with_children(|col| {
                col.spawn((
                    LiveAdvice,
                    crate::ui::widgets::label(Tr::new("visit.photo.live_wait"), theme::HEADING_SIZE, theme::PRIMARY),
                ));
            });
        });
    }
    if v.work.shot_image.is_some() || v.work.shot.is_some() {
        // What the checks found beside the photo, with the field for a reason to keep it.
        ui.spawn(side_by_side()).with_children(|row| {
            if let Some(image) = &v.work.shot_image {
                // The photo at 354×472 px, half size: the officer and the applicant see what was
                // taken.
                row.spawn((
                    ImageNode::new(image.clone()),
                    Node { width: Val::Px(177.0), height: Val::Px(236.0), flex_shrink: 0.0, ..default() },
                ));
            }
            if let Some(shot) = &v.work.shot {
                let looked = look_answer(v.form, &shot.looks);
                row.spawn(beside()).with_children(|col| shot_result(col, shot, looked));
            }
        });
    }
    if in_hand {
        brought(v, ui);
    }
    match card_photo(v.visit, v.work, v.policy) {
        // Offered beside a photo taken too: the applicant may rather keep the card's.
        Some(Ok((issued, _))) => {
            let rule = &v.policy.rules.photo_reuse;
            line(
                ui,
                Tr::new("visit.photo.reuse_when")
                    .with("date", issued)
                    .with("age", rule.min_age_years)
                    .with("years", rule.max_photo_age_years),
            );
            ui.spawn(crate::ui::form::choice_button(Act::ReusePhoto, Tr::new("visit.photo.reuse"), false));
        }
        Some(Err(why)) => {
            line(ui, Tr::new("visit.photo.no_reuse"));
            line(ui, Tr::message(why));
        }
        _ => {}
    }
    let mut buttons = vec![(Act::TakePhoto, Tr::new("visit.photo.take"), v.work.shot.is_none())];
    if v.work.shot.is_some() {
        buttons.push((Act::Next, Tr::new("visit.photo.use"), true));
    }
    actions(v, buttons);
}

/// A printed photo brought along (the camera takes it, recorded as supplied), or the child's
/// photo supplied where the child is absent.
fn brought(v: &View, ui: &mut ChildSpawnerCommands) {
    if child_absent(v.visit) {
        line(ui, Tr::new("visit.photo.supplied"));
    } else {
        ui.spawn(crate::ui::form::choice_button(
            Act::Toggle(BROUGHT),
            Tr::new("visit.photo.brought"),
            v.form.is_on(BROUGHT),
        ));
    }
}

/// A row: a picture, and beside it a column that takes the rest of the width.
fn side_by_side() -> Node {
    Node { column_gap: Val::Px(16.0), align_items: AlignItems::FlexStart, width: Val::Percent(100.0), ..default() }
}

/// The column beside a picture: it wraps its lines in the width left.
fn beside() -> Node {
    Node {
        flex_direction: FlexDirection::Column,
        row_gap: Val::Px(6.0),
        flex_grow: 1.0,
        flex_basis: Val::Px(0.0),
        min_width: Val::Px(0.0),
        ..default()
    }
}

/// The checks' verdict on the photo taken: all passed, or each failure's advice and the
/// field for why the photo must be kept.
fn shot_result(col: &mut ChildSpawnerCommands, shot: &Shot, looked: Option<LookAnswer>) {
    // The checks made: not those the standard does not ask of this applicant.
    let made = shot.checks - shot.exempt.len();
    if shot.failed.is_empty() && shot.looks.is_empty() {
        col.spawn(crate::ui::widgets::label(
            Tr::new("visit.photo.all_pass").with("n", made),
            theme::HEADING_SIZE,
            theme::OK,
        ));
    } else if shot.failed.is_empty() {
        // Refused only by a check the officer may clear by looking (a cap, or hair?).
        col.spawn(crate::ui::widgets::label(
            Tr::new("visit.photo.passed_but_look").with("n", made - shot.looks.len()),
            theme::HEADING_SIZE,
            theme::WARN,
        ));
    } else {
        for (_, advice) in &shot.failed {
            col.spawn(crate::ui::widgets::label(Tr::new(advice), theme::BODY_SIZE, theme::ERROR));
        }
    }
    // What the standard does not ask of an infant or a toddler, said, so that the officer
    // knows why closed eyes or a turned head passed.
    if !shot.exempt.is_empty() {
        let names: Vec<String> = shot.exempt.iter().map(|n| n.to_string()).collect();
        let exempt = Message::new("visit.photo.exempt").with("checks", Arg::photo_checks(&names));
        col.spawn(crate::ui::widgets::label(Tr::message(exempt), theme::BODY_SIZE, theme::MUTED));
    }
    // What a check asks the officer to look at instead of judging (a band round the head: a
    // cap, or hair?), and the officer's word that it was looked at, which the visit keeps for
    // the supervisor.
    for (_, note) in &shot.looks {
        col.spawn(crate::ui::widgets::label(Tr::new(note), theme::BODY_SIZE, theme::TEXT));
    }
    if !shot.looks.is_empty() {
        for (answer, value, words) in [
            (LookAnswer::NoCovering, "no-covering", "visit.photo.looked"),
            // A covering that may stay (religious, medical): kept with the officer's reason.
            (LookAnswer::CoveringKept, "covering-kept", "visit.photo.covering_kept"),
        ] {
            col.spawn(crate::ui::form::choice_button(Act::Pick(LOOK, value), Tr::new(words), looked == Some(answer)));
        }
    }
    // One field for the reason, where one is asked: a check failed, or a covering is kept.
    if reason_asked(shot, looked) {
        // One reason for all the photo is accepted despite: the caption names each part.
        let caption = match (shot.failed.is_empty(), looked == Some(LookAnswer::CoveringKept)) {
            (true, _) => "visit.photo.covering_reason",
            (false, true) => "visit.photo.override_and_covering",
            (false, false) => "visit.photo.override",
        };
        col.spawn(text_field(OVERRIDE, Tr::new(caption), 60));
    }
    // What no check here judges: every covering (one of a colour hair has is only pointed out
    // where it goes round the head), and heavy make-up.
    col.spawn(crate::ui::widgets::label(Tr::new("visit.photo.by_eye"), theme::BODY_SIZE, theme::MUTED));
}

/// Whether the services chosen need no photo (an endorsement alone, on a permit held).
pub(super) fn photo_not_needed(visit: &doorstep_core::Visit) -> bool {
    visit.state.services().is_some_and(|s| s.rules.photo == doorstep_core::requirements::PhotoRequirement::NotNeeded)
}

/// What the officer answered where the checks asked to look (nothing when none asked).
pub(super) fn look_answer(form: &Form, looks: &[(&str, &str)]) -> Option<LookAnswer> {
    if looks.is_empty() {
        return None;
    }
    match form.get(LOOK) {
        "no-covering" => Some(LookAnswer::NoCovering),
        "covering-kept" => Some(LookAnswer::CoveringKept),
        _ => None,
    }
}

/// Whether the photo step asks the officer's written reason: a check failed, or a covering was
/// seen where the checks asked to look, and kept.
pub(super) fn reason_asked(shot: &Shot, looked: Option<LookAnswer>) -> bool {
    !shot.failed.is_empty() || looked == Some(LookAnswer::CoveringKept)
}
