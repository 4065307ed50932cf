//! What a visit kept as a draft had in hand, beside the visit itself: the photo taken, the
//! fingers done, and what was typed. Core keeps nothing of a step the officer goes back past
//! (its data is entered again from the step on); the draft keeps these so that going back,
//! after a restart too, takes nothing again that was already taken or typed.

use bevy::prelude::*;
use doorstep_core::visit::{Fingerprints, PhotoInput, Step, Visit};

use super::{Drafts, draft_key, part};

/// What a visit kept as a draft had in hand when the unit stopped: the fingers done and the
/// photo taken for its applicant (and whether that photo is a printed one the applicant
/// brought), what was typed on the step it was cut off at, and on the form steps left before.
/// A visit cut off back at its applicant step (no card read since) has the captures whoever's
/// they are, with whose: taken up once the same applicant's card is read, forgotten if
/// another's is.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct InHand {
    /// With whose they are ([`PrintsInHand::applicant`]).
    pub prints: PrintsInHand,
    pub photo: Option<Vec<u8>>,
    /// Whose the photo is ([`applicant_tag`]).
    pub photo_of: String,
    pub brought: bool,
    /// What was typed and chosen on the step it was cut off at, with the step and whose.
    pub form: Option<FormInHand>,
    /// What was typed and chosen on each form step the officer left (Next, or back to an
    /// earlier one), with whose: put back when the officer comes back to that step.
    pub forms_left: Vec<FormInHand>,
}

/// What was typed and chosen on a form step, the step, and whose (an applicant's
/// [`applicant_tag`], or none before the card is read): put back only on that step, for that
/// applicant.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FormInHand {
    pub step: Option<Step>,
    pub applicant: Option<String>,
    pub typed: crate::ui::form::Typed,
}

impl FormInHand {
    /// What was typed on `step` for `applicant` (a visit's step and [`applicant_tag`] as it
    /// now stands): none where the bytes are another step's, another applicant's, or do not
    /// read.
    pub fn read(bytes: &[u8], step: Step, applicant: Option<&str>) -> Option<FormInHand> {
        let kept: FormInHand = serde_json::from_slice(bytes).ok()?;
        kept.is_for(step, applicant).then_some(kept)
    }

    /// Whether it was typed on `step` for `applicant`.
    pub fn is_for(&self, step: Step, applicant: Option<&str>) -> bool {
        self.step == Some(step) && self.applicant.as_deref() == applicant
    }
}

/// Whose the photo in hand is, and which: kept beside it in the draft, so that a visit whose
/// applicant was changed (the officer went back and read another card, and the unit stopped
/// before anything new was taken) never shows one person's photo for another. It vouches for
/// one photo only (its digest), whatever was written after it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PhotoInHandOf {
    /// [`applicant_tag`] of the applicant it was taken of.
    pub applicant: String,
    /// SHA-256 of the JPEG, hex.
    pub digest: String,
    /// A printed photo the applicant brought, which the camera took.
    pub brought: bool,
}

/// SHA-256 of `bytes`, hex: how the visit names a captured part (photo, print, signature).
pub fn digest(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// The visit's applicant, as a SHA-256 of the identity it records (hex), to tell whose the
/// captures in hand are. (Not a secret: the draft holds the identity itself beside it.)
/// `None` before the applicant is identified.
pub fn applicant_tag(visit: &Visit) -> Option<String> {
    let who = visit.state.identified()?;
    Some(digest(&serde_json::to_vec(&who.applicant.identity).ok()?))
}

/// Keeps in the draft whose the photo in hand (`jpeg`) is, and whether it was brought printed.
pub fn keep_photo_of(drafts: &Drafts, visit: &Visit, jpeg: &[u8], brought: bool) {
    let Some(applicant) = applicant_tag(visit) else { return };
    let of = PhotoInHandOf { applicant, digest: digest(jpeg), brought };
    match serde_json::to_vec(&of) {
        Ok(bytes) => drafts.save(&visit.id, part::PHOTO_IN_HAND_OF, bytes),
        Err(e) => error!("whose the photo in hand is cannot be kept: {e}"),
    }
}

/// The fingers done at a fingerprint step not finished, as the draft keeps them: each finger's
/// result, the module's template of each valid print (so that a finger presented again for
/// another is still caught after the unit stopped), and whose they are ([`applicant_tag`],
/// written with them: they are taken up again only for that applicant).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PrintsInHand {
    pub attempts: Vec<doorstep_core::fingerprint::Attempt>,
    pub templates: Vec<(doorstep_core::fingerprint::Finger, Vec<u8>)>,
    pub applicant: String,
}

impl PrintsInHand {
    /// As the draft keeps it, if they are `applicant`'s (`None`: whoever's, for a visit back
    /// at its applicant step). A draft kept by an earlier version (no applicant in it),
    /// blanked, or damaged: `None`, and the fingers are taken again.
    pub fn read(bytes: &[u8], applicant: Option<&str>) -> Option<PrintsInHand> {
        serde_json::from_slice::<PrintsInHand>(bytes)
            .ok()
            .filter(|p| !p.applicant.is_empty() && applicant.is_none_or(|a| p.applicant == a))
    }
}

/// The captures a visit kept as a draft had in hand for its applicant, to take up again: the
/// photo taken and the fingers done, whichever step before the signature it was cut off at
/// (the officer may go back to their steps), and only where they are the ones the visit
/// records, if it records any. Nothing once signed: the visit cannot go back to them then.
pub(super) fn captures_in_hand<B: AsRef<[u8]>>(visit: &Visit, load: &dyn Fn(&str) -> Option<B>) -> InHand {
    if visit.step() > Step::Sign {
        return InHand::default();
    }
    // None: back at the applicant step, whoever's they are.
    let applicant = applicant_tag(visit);
    let whose = |of: &str| !of.is_empty() && applicant.as_deref().is_none_or(|a| a == of);
    let prints = load(part::PRINTS_IN_HAND)
        .and_then(|b| PrintsInHand::read(b.as_ref(), applicant.as_deref()))
        .filter(|p| match visit.state.fingerprints() {
            None => true,
            Some(Fingerprints::Taken(record)) => record.attempts == p.attempts,
            Some(_) => false,
        })
        .unwrap_or_default();
    match photo_in_hand(visit, load).filter(|(_, of)| whose(&of.applicant)) {
        Some((photo, of)) => {
            InHand { prints, photo: Some(photo), photo_of: of.applicant, brought: of.brought, ..InHand::default() }
        }
        None => InHand { prints, ..InHand::default() },
    }
}

/// The photo in hand and whose it is: the one the visit records if it records a photo taken
/// (none where it records another kind).
fn photo_in_hand<B: AsRef<[u8]>>(visit: &Visit, load: &dyn Fn(&str) -> Option<B>) -> Option<(Vec<u8>, PhotoInHandOf)> {
    // A photo blanked (another taken, the card's reused) never has the digest.
    let photo = load(part::PHOTO_IN_HAND)?.as_ref().to_vec();
    let of: PhotoInHandOf = serde_json::from_slice(load(part::PHOTO_IN_HAND_OF)?.as_ref()).ok()?;
    let used = match visit.state.photo() {
        None => None,
        Some(PhotoInput::Captured(t) | PhotoInput::Supplied(t)) => Some(t.digest.as_str()),
        Some(_) => return None,
    };
    let taken = digest(&photo);
    (of.digest == taken && used.is_none_or(|u| u == taken)).then_some((photo, of))
}

/// Keeps in `visit`'s draft what was typed and chosen on `form`'s step, with whose it is
/// ([`part::FORM_IN_HAND`]), to read back with [`FormInHand::read`] (or, of a step left,
/// among the forms left: `forms_kept`).
pub fn keep_form_in_hand(drafts: &Drafts, visit: &Visit, form: &FormInHand) {
    match serde_json::to_vec(form) {
        Ok(bytes) => drafts.save(&draft_key(visit), part::FORM_IN_HAND, bytes),
        Err(e) => error!("what was typed on the step cannot be kept: {e}"),
    }
}

/// Keeps in the draft what was typed and chosen on the form steps the officer left, each with
/// its step and whose ([`part::FORMS_LEFT`]).
pub fn keep_forms_left(drafts: &Drafts, visit: &Visit, forms: &[FormInHand]) {
    match serde_json::to_vec(forms) {
        Ok(bytes) => drafts.save(&draft_key(visit), part::FORMS_LEFT, bytes),
        Err(e) => error!("what was typed on the steps left cannot be kept: {e}"),
    }
}

/// The steps whose typing and choices are kept when the officer goes back past them. The
/// photo step's are about the photo in hand (what the officer saw of the head, the reason to
/// keep it), which is kept too, and are cleared when another is taken; the fingerprint step's
/// about the prints kept. The consents are not: they are given for what the visit holds when
/// they are signed; nor the payment: its number is of a fee that going back may change.
pub const KEPT_WHEN_LEFT: [Step; 5] = [Step::Applicant, Step::Services, Step::Photo, Step::Fingerprints, Step::Details];

/// What was typed on the step `visit` stands at (from `in_hand`, the form in hand's bytes), and
/// on the steps left (`left`, as [`read_forms_left`] read them). A form in hand of another
/// step is the newest of that step: a step left writes its form as the form in hand, then the
/// forms left, after the visit's move; a stop between the writes leaves it there. It goes
/// among the forms left, in place of that step's, where the forms left would have it: a step
/// kept when left ([`KEPT_WHEN_LEFT`]; not the consents of a step signed), the applicant
/// step's, and any before a card is read; after, only the applicant's.
pub(super) fn forms_kept(
    visit: &Visit,
    in_hand: Option<&[u8]>,
    mut left: Vec<FormInHand>,
) -> (Option<FormInHand>, Vec<FormInHand>) {
    let Some(bytes) = in_hand else { return (None, left) };
    let who = applicant_tag(visit);
    if let Some(form) = FormInHand::read(bytes, visit.step(), who.as_deref()) {
        return (Some(form), left);
    }
    let theirs = |f: &FormInHand| f.step == Some(Step::Applicant) || who.is_none() || f.applicant == who;
    let kept_when_left = |f: &FormInHand| f.step.is_some_and(|s| KEPT_WHEN_LEFT.contains(&s));
    if let Some(kept) = serde_json::from_slice::<FormInHand>(bytes).ok().filter(|f| kept_when_left(f) && theirs(f)) {
        left.retain(|f| !(f.step == kept.step && f.applicant == kept.applicant));
        left.push(kept);
    }
    (None, left)
}

/// What [`keep_forms_left`] kept; nothing where the bytes do not read (the steps are then
/// filled in again, as before they were kept).
pub(super) fn read_forms_left(bytes: &[u8]) -> Vec<FormInHand> {
    serde_json::from_slice::<Vec<FormInHand>>(bytes)
        .unwrap_or_default()
        .into_iter()
        .filter(|f| f.step.is_some())
        .collect()
}
