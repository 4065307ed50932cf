//! The photo taken at the photo step: checked against the standard as it applies to the
//! applicant (an infant's or a toddler's relaxed, by age on the day), and kept in the visit's
//! draft as soon as it is taken, so that a unit that stops before the officer uses it shows
//! the same photo again after unlock, checked anew, instead of asking the applicant to sit for
//! another.

use bevy::prelude::*;
use doorstep_core::Visit;
use doorstep_core::visit::Step;
use doorstep_photo::assess::{Assessment, Assessor, Profile};

use super::capture::{BROUGHT, LOOK, OVERRIDE, Work};
use super::live::CameraChoice;
use crate::ui::form::Form;
use crate::ui::i18n::Tr;
use crate::visit_flow::{Drafts, VisitFlow, part};

/// A photo taken and checked: the cropped JPEG and the checks' verdicts.
#[derive(Clone)]
pub struct Shot {
    pub jpeg: Vec<u8>,
    /// The checks that failed, by name, and what to do (locale keys).
    pub failed: Vec<(&'static str, &'static str)>,
    /// The checks that refuse on what the officer may clear by looking, by name and what to
    /// look at (a locale key): a covering not told from hair. The officer says what was seen
    /// before the photo is used.
    pub looks: Vec<(&'static str, &'static str)>,
    /// The checks the standard does not ask of this applicant (an infant's eyes), by name.
    pub exempt: Vec<&'static str>,
    pub checks: usize,
    /// The JPEG decoded for the screen on the task's thread, not in a frame (width, height, RGBA).
    pub rgba: Option<(u32, u32, Vec<u8>)>,
}

impl Shot {
    /// A photo taken, its JPEG decoded for the screen here, on the thread that took it: a frame
    /// only hands the pixels over.
    pub fn new(jpeg: Vec<u8>, checked: &Assessment) -> Shot {
        let rgba =
            image::load_from_memory(&jpeg).ok().map(|i| i.to_rgba8()).map(|i| (i.width(), i.height(), i.into_raw()));
        let failed = checked.refusals().map(|c| (c.name, c.advice.unwrap_or("photo.cannot.no-face"))).collect();
        let exempt = checked.checks.iter().filter(|c| c.exempt).map(|c| c.name).collect();
        Shot { jpeg, failed, looks: checked.looks().collect(), exempt, checks: checked.checks.len(), rgba }
    }
}

/// The standard's profile for the visit's applicant on `today`: the rules it relaxes for
/// infants and toddlers (eyes open; expression and gaze) relaxed by the applicant's age in
/// whole months. The four documents' photos follow one standard, so one profile serves them.
pub(super) fn photo_profile(visit: &Visit, today: time::Date) -> Result<Profile, Tr> {
    let profile = Profile::by_name("passport").ok_or_else(|| Tr::new("visit.photo.no_model"))?;
    Ok(match visit.state.identified() {
        Some(who) => {
            let birth = who.applicant.identity.birth_date();
            profile.for_age_months(doorstep_core::date::months_on(birth, today))
        }
        None => profile,
    })
}

/// [`photo_profile`] for today, or, where the policy has none, `None` with why said on the step.
pub(super) fn profile_or_note(visit: &Visit, work: &mut Work) -> Option<Profile> {
    match photo_profile(visit, crate::settings::now().date()) {
        Ok(profile) => Some(profile),
        Err(note) => {
            work.photo_note = Some(note);
            work.touch();
            None
        }
    }
}

/// Forgets what the officer said of the photo before (what was seen of the head, the reason to
/// keep it): another photo has come, or none is in hand, and it is asked anew.
pub(super) fn forget_said(form: &mut Form) {
    form.set(LOOK, "");
    form.set(OVERRIDE, "");
    if form.focus == Some(OVERRIDE) {
        form.focus = None;
    }
}

/// The face models, loaded on the task that uses them.
pub(super) fn assessor() -> Result<Assessor, Tr> {
    Assessor::new().map_err(|e| {
        error!("the face models: {e}");
        Tr::new("visit.photo.no_model")
    })
}

/// Takes a frame from the camera (the replay camera in demo mode), crops it to the photo
/// standard and checks it. The face models load on this task (they are not `Send`, so they
/// cannot wait in a resource between photos).
pub(super) fn take(camera: &CameraChoice, profile: &Profile) -> Result<Shot, Tr> {
    let img = camera.open()?.next()?;
    match assessor()?.crop(&img, profile) {
        Ok((jpeg, a)) => Ok(Shot::new(jpeg, &a)),
        Err(e) => Err(Tr::new(e.message().0)),
    }
}

/// The photo kept in the draft, checked again as when it was taken (its checks ran on this
/// same JPEG, decoded), on a task: what the screen showed before the unit stopped.
pub(super) fn check_kept(jpeg: Vec<u8>, profile: &Profile) -> Result<Shot, Tr> {
    let img = image::load_from_memory(&jpeg).map_err(|_| Tr::new("visit.photo.kept_unreadable"))?.to_rgb8();
    let checked = assessor()?.assess(&img, profile);
    Ok(Shot::new(jpeg, &checked))
}

/// Keeps beside the photo in hand, in the draft, whose it is and whether it was brought
/// printed, as the officer says so (the JPEG itself is kept as it comes, [`take_in`]). A photo
/// kept before a restart is said to be brought as it was then as soon as the photo step's
/// form is drawn (`rebuild`, before this, gives each step its own form and records it in
/// `Shown`), while the photo is still being checked: the officer sees the tick, may take it
/// off, and a photo taken again of the same printed one keeps it.
pub(super) fn keep_photo_of(
    flow: Res<VisitFlow>,
    mut work: ResMut<Work>,
    mut form: ResMut<Form>,
    drafts: Res<Drafts>,
    shown: Res<super::Shown>,
) {
    let Some(visit) = &flow.visit else { return };
    let on_screen = shown.0.as_ref().is_some_and(|(id, step)| *id == visit.id && *step == Step::Photo);
    if !on_screen || visit.step() != Step::Photo {
        return;
    }
    if work.restore_brought.take() == Some(true) {
        form.on.insert(BROUGHT);
        work.touch();
    }
    let brought = form.is_on(BROUGHT);
    if work.brought_kept != Some(brought)
        && let Some(shot) = &work.shot
    {
        crate::visit_flow::keep_photo_of(&drafts, visit, &shot.jpeg, brought);
        work.brought_kept = Some(brought);
    }
}

/// A photo come (taken, or checked again after a restart): kept in the visit's draft at once
/// (its photo step not yet finished), shown, and asked about afresh: what the officer said of
/// the one before is not said of it, and whose it is is kept beside it ([`keep_photo_of`]).
/// A photo kept over a restart and checked again is neither kept again nor asked about afresh
/// (`form` and `drafts` none).
pub(super) fn take_in(
    work: &mut Work,
    form: Option<&mut Form>,
    drafts: Option<&Drafts>,
    visit: &str,
    mut shot: Shot,
    images: Option<&mut Assets<Image>>,
) {
    if let Some(drafts) = drafts {
        drafts.save(visit, part::PHOTO_IN_HAND, shot.jpeg.clone());
    }
    if let Some(form) = form {
        forget_said(form);
    }
    work.brought_kept = None;
    work.shot_image = images
        .zip(shot.rgba.take())
        .and_then(|(images, (w, h, rgba))| Some(images.add(super::live::screen_image_rgba(w, h, rgba)?)));
    work.shot = Some(shot);
    work.photo_note = None;
}

/// Forgets the photo in hand in the draft: another is being taken, the card's is reused, or
/// it was another applicant's.
pub(super) fn forget(drafts: &Drafts, visit: &str) {
    drafts.save(visit, part::PHOTO_IN_HAND, Vec::new());
}

/// Forgets in the draft the photo used at the photo step as well as the one in hand: the
/// card's is reused, or they were another applicant's.
pub(super) fn forget_all(drafts: &Drafts, visit: &str) {
    drafts.save(visit, part::PHOTO, Vec::new());
    forget(drafts, visit);
}

/// The photo taken or checked, once its task ends: taken in ([`take_in`]), or its failure said.
pub(super) fn photo_done(
    work: &mut Work,
    visit: &doorstep_core::Visit,
    form: &mut Form,
    drafts: &Drafts,
    images: Option<&mut Assets<Image>>,
) {
    if let Some((task, _)) = &work.photo {
        let result = task.finished(|| Err(Tr::new("visit.task_failed")));
        if let Some(r) = result {
            // The photo kept over a restart: not kept again, and what the officer said of it
            // (on the photo step's form, put back) stands.
            let kept = work.photo.take().is_some_and(|(_, kept)| kept);
            match r {
                Ok(shot) => {
                    let here = visit.step() == Step::Photo;
                    let form = (!kept && here).then_some(form);
                    take_in(work, form, (!kept).then_some(drafts), &visit.id, shot, images);
                    // Come while the officer is on another step: whose it is is kept with it
                    // now, or a stop before the photo step is shown again would find a photo
                    // in hand of no one, and drop it.
                    if !kept
                        && !here
                        && let Some(shot) = &work.shot
                    {
                        crate::visit_flow::keep_photo_of(drafts, visit, &shot.jpeg, work.photo_brought);
                        work.brought_kept = Some(work.photo_brought);
                    }
                }
                Err(note) => work.photo_note = Some(note),
            }
            work.touch();
        }
    }
}
