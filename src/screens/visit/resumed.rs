//! A visit taken up again (after a restart, a lock, or another visit): the step's work follows
//! the visit and its applicant, and what the draft kept of the photo taken and the fingers done
//! is taken up, so that nothing is taken again, at their steps or when the officer goes back
//! to them.

use bevy::prelude::*;
use doorstep_core::visit::Step;

use super::capture::Work;
use crate::tasks::Waker;
use crate::visit_flow::{Drafts, VisitFlow};

/// Keeps the step's work to this visit and its applicant (`Work::follow_applicant`); a visit
/// taken up again has the fingers done and the photo taken before it was cut off, whichever
/// step it is at (the photo is checked again at the photo step, [`check_kept_photo`]).
pub fn follow_applicant(mut flow: ResMut<VisitFlow>, mut work: ResMut<Work>, drafts: Res<Drafts>) {
    let Some(visit) = &flow.visit else { return };
    let tag = crate::visit_flow::applicant_tag(visit);
    let who = visit.state.identified().map(|w| &w.applicant.identity);
    let other_visit = work.visit_id() != Some(visit.id.as_str());
    if !other_visit && (work.captured_for.as_ref() == who || who.is_none()) {
        return;
    }
    let id = visit.id.clone();
    let had_prints = work.attempts.clone();
    let forgetting = !other_visit && work.captured_for.is_some();
    work.follow(&id);
    work.follow_applicant(who);
    if other_visit && who.is_none() {
        // Taken up back at its applicant step: what was taken waits for the card.
    } else if !forgetting {
        // Taken up, or its applicant's card read again after it was taken up back at its
        // applicant step: what was taken of this applicant is theirs again; what was taken of
        // another is forgotten in the draft.
        let kept = flow.take_in_hand(&id);
        let theirs = |of: &str| tag.as_deref() == Some(of);
        if theirs(&kept.prints.applicant) {
            (work.attempts, work.templates) = (kept.prints.attempts, kept.prints.templates);
        } else if !kept.prints.attempts.is_empty() {
            super::fingers::forget_prints(&drafts, &id, &kept.prints.attempts);
        }
        match kept.photo {
            Some(jpeg) if theirs(&kept.photo_of) => {
                work.restore_brought = Some(kept.brought);
                work.photo_kept = Some(jpeg);
            }
            Some(_) => super::shot::forget_all(&drafts, &id),
            None => {}
        }
    } else {
        // Another applicant's: forgotten in the draft too.
        // Kept in the draft even when not on the screen (taken before a restart).
        super::shot::forget_all(&drafts, &id);
        super::fingers::forget_prints(&drafts, &id, &had_prints);
    }
}

/// The photo kept over a restart, checked again on a task when a step shows it (the photo
/// step, the review): what the screen showed before the unit stopped. Not elsewhere (a body
/// redrawn at the signature would cut a stroke). Only its result is taken (`finish`): it is in
/// the draft already, and what the officer said of it stands.
pub fn check_kept_photo(flow: Res<VisitFlow>, mut work: ResMut<Work>, waker: Res<Waker>) {
    let Some(visit) = &flow.visit else { return };
    if !matches!(visit.step(), Step::Photo | Step::Review) || work.photo.is_some() || work.photo_kept.is_none() {
        return;
    }
    let Ok(profile) = super::shot::photo_profile(visit, crate::settings::now().date()) else { return };
    let Some(jpeg) = work.photo_kept.take() else { return };
    work.photo = Some((crate::tasks::spawn("photo", &waker, move || super::shot::check_kept(jpeg, &profile)), true));
    work.touch();
}
