//! The consent and signature step: the two consents, and a canvas for each person who signs
//! (the applicant, unless a pre-school child; each guardian at the visit, or the companion they
//! entrusted when none is), strokes recorded
//! from the pointer or a finger, drawn as they come, and kept as PNGs with the application.

use bevy::prelude::*;
use doorstep_core::requirements::SignatureRequirement;
use doorstep_core::visit::{ConsentInput, Step, Strokes, VisitEvent};

use super::capture::{CONSENT_APPLICATION, CONSENT_BIOMETRICS, UNABLE_TO_SIGN, Work, digest};
use super::{Act, View, actions, line};
use crate::ui::form::{Form, choice_button};
use crate::ui::i18n::Tr;
use crate::ui::theme;
use crate::visit_flow::{Drafts, VisitCmd, VisitFlow, part};

/// A signature canvas, and whose signature it takes.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SignaturePad {
    Applicant,
    /// Guardian number `n`, from 1, in the order the applicant step lists them.
    Guardian(usize),
    /// The adult the guardians entrusted, when none of them is here.
    Companion,
}

impl SignaturePad {
    /// Who signed on it, as the sealed record names the signatures other than the applicant's
    /// ("guardian-1", "companion"); the applicant's has none.
    pub fn signer(self) -> Option<String> {
        match self {
            SignaturePad::Applicant => None,
            SignaturePad::Guardian(n) => Some(format!("guardian-{n}")),
            SignaturePad::Companion => Some("companion".into()),
        }
    }

    /// The draft part its PNG is kept in.
    pub fn part(self) -> String {
        self.signer().map_or_else(|| part::SIGNATURE.to_string(), |s| part::signature_of(&s))
    }
}

/// The entrusted companion's name, when the guardians sent one.
fn companion(visit: &doorstep_core::Visit) -> Option<String> {
    let g = visit.state.identified()?.guardians.as_ref()?;
    g.companion.as_ref().map(|c| c.name.as_str().to_string())
}

/// The words of the consent to what was collected of the applicant at this visit: photo and
/// fingerprints, or the photo only (no prints taken: a young child, a guardian declined, the
/// services take none); the guardians' consent for the child when the child does not sign.
/// `None` when nothing was collected (no photo and no prints).
fn biometrics_consent(visit: &doorstep_core::Visit, applicant_signs: bool) -> Option<&'static str> {
    use doorstep_core::visit::{Fingerprints, PhotoInput};
    let photo = visit.state.photo().is_some_and(|p| !matches!(p, PhotoInput::NotNeeded));
    let prints = matches!(visit.state.fingerprints(), Some(Fingerprints::Taken(_)));
    // What core asks consent for: the services' rules (a guardian who declined the prints of a
    // child whose services need them still agrees, as core asks).
    let asked = visit.state.services().is_some_and(|s| {
        s.rules.photo != doorstep_core::requirements::PhotoRequirement::NotNeeded
            || s.rules.fingerprints != doorstep_core::requirements::FingerprintRequirement::NotTaken
    });
    // A child who signs, with guardians (here to sign, or consenting in writing): the consent
    // is the child's and the guardians' both (under 16 the prints are taken only with the
    // guardians' agreement).
    let with_guardians = visit.state.identified().is_some_and(|w| w.guardians.is_some());
    if applicant_signs && with_guardians {
        return Some(match (photo, prints) {
            (false, false) if asked => "visit.sign.both_consent_biometrics",
            (false, false) => return None,
            (true, true) => "visit.sign.both_consent_biometrics",
            (true, false) => "visit.sign.both_consent_photo",
            (false, true) => "visit.sign.both_consent_prints",
        });
    }
    Some(match (photo, prints, applicant_signs) {
        (false, false, true) if asked => "visit.sign.consent_biometrics",
        (false, false, false) if asked => "visit.sign.guardian_consent_biometrics",
        (false, false, _) => return None,
        (true, true, true) => "visit.sign.consent_biometrics",
        (true, false, true) => "visit.sign.consent_photo",
        (false, true, true) => "visit.sign.consent_prints",
        (true, true, false) => "visit.sign.guardian_consent_biometrics",
        (true, false, false) => "visit.sign.guardian_consent_photo",
        (false, true, false) => "visit.sign.guardian_consent_prints",
    })
}

/// Who signs at this visit: the applicant unless a pre-school child or not here, and each
/// guardian here (their number and name).
fn signers(visit: &doorstep_core::Visit) -> (bool, Vec<(usize, String)>) {
    let pre_school = visit.state.services().is_some_and(|s| s.rules.signature == SignatureRequirement::Guardian)
        || super::capture::child_absent(visit);
    let guardians = visit
        .state
        .identified()
        .and_then(|w| w.guardians.as_ref())
        .map(|g| {
            g.guardians
                .iter()
                .enumerate()
                .filter(|(_, x)| x.present)
                .map(|(i, x)| (i + 1, x.name.as_str().to_string()))
                .collect()
        })
        .unwrap_or_default();
    (!pre_school, guardians)
}

pub fn view(v: &View, ui: &mut ChildSpawnerCommands) {
    super::heading(ui, Tr::new("visit.sign.title"));
    let (applicant_signs, guardians) = signers(v.visit);
    let companion = companion(v.visit);
    let pads = usize::from(applicant_signs) + guardians.len() + usize::from(companion.is_some());
    // The applicant alone signs (the common case, an elder at home): the consents beside the
    // pad, so that the whole pad is in view with no scrolling on a small screen, in large text
    // too (below them, it went under the foot bar, and a finger that swiped to scroll signed).
    // A narrow window puts the pad under the consents.
    if applicant_signs && pads == 1 {
        beside_the_pad(v, ui);
    } else {
        consent_buttons(v, ui, applicant_signs);
        // Where several sign, each pad has its own 重签 under it (a button, not a box to tick):
        // one person signs again, never all at one tap beside 已签名.
        let clear_one = |ui: &mut ChildSpawnerCommands, which: SignaturePad, words: Tr| {
            if pads > 1 {
                ui.spawn(Node::default()).with_child(crate::ui::form::action_button(
                    Act::ClearPad(which),
                    words,
                    false,
                ));
            }
        };
        if applicant_signs {
            line(ui, Tr::new("visit.sign.pad"));
            ui.spawn(pad(SignaturePad::Applicant, v.work.strokes(SignaturePad::Applicant)));
            clear_one(ui, SignaturePad::Applicant, Tr::new("visit.sign.clear_applicant"));
            // An applicant who cannot hold a pen does not sign; the reason is recorded instead.
            ui.spawn(crate::ui::form::text_field(UNABLE_TO_SIGN, Tr::new("visit.sign.unable"), 60));
        }
        for (n, name) in guardians {
            line(ui, Tr::new("visit.sign.guardian_pad").with("name", &name));
            ui.spawn(pad(SignaturePad::Guardian(n), v.work.strokes(SignaturePad::Guardian(n))));
            clear_one(ui, SignaturePad::Guardian(n), Tr::new("visit.sign.clear_guardian").with("name", name));
        }
        if let Some(name) = companion {
            line(ui, Tr::new("visit.sign.companion_pad").with("name", &name));
            ui.spawn(pad(SignaturePad::Companion, v.work.strokes(SignaturePad::Companion)));
            clear_one(ui, SignaturePad::Companion, Tr::new("visit.sign.clear_companion").with("name", name));
        }
    }
    let mut foot = vec![(Act::Next, Tr::new("visit.sign.done"), true)];
    if pads == 1 {
        foot.insert(0, (Act::ClearSignature, Tr::new("visit.sign.clear"), false));
    }
    actions(v, foot);
}

/// The applicant alone signs: the consents and the field for why they cannot, beside the pad.
fn beside_the_pad(v: &View, ui: &mut ChildSpawnerCommands) {
    let row = Node {
        flex_wrap: FlexWrap::Wrap,
        column_gap: Val::Px(16.0),
        row_gap: Val::Px(12.0),
        align_items: AlignItems::FlexStart,
        width: Val::Percent(100.0),
        ..default()
    };
    ui.spawn(row).with_children(|row| {
        let consents = Node {
            flex_direction: FlexDirection::Column,
            row_gap: Val::Px(12.0),
            flex_grow: 1.0,
            flex_basis: Val::Px(0.0),
            // With the pad (640) and the gap, within the narrowest body in large text: the
            // tablet's 1280×800 (1024 wide, less the padding: 944).
            min_width: Val::Px(260.0),
            ..default()
        };
        row.spawn(consents).with_children(|col| {
            consent_buttons(v, col, true);
            col.spawn(crate::ui::form::text_field(UNABLE_TO_SIGN, Tr::new("visit.sign.unable"), 60));
        });
        let at_pad = Node { flex_direction: FlexDirection::Column, row_gap: Val::Px(8.0), ..default() };
        row.spawn(at_pad).with_children(|col| {
            line(col, Tr::new("visit.sign.pad"));
            col.spawn(pad(SignaturePad::Applicant, v.work.strokes(SignaturePad::Applicant)));
        });
    });
}

/// The declaration and the consent to the photo and prints, as ticks.
fn consent_buttons(v: &View, ui: &mut ChildSpawnerCommands, applicant_signs: bool) {
    // The declaration is the guardians' where they apply for a child who does not sign, and
    // the child's and the guardians' both where the child signs with guardians (as the consent
    // to the photo and prints is): the guardian signs it too.
    let with_guardians = v.visit.state.identified().is_some_and(|w| w.guardians.is_some());
    let applies = match (applicant_signs, with_guardians) {
        (true, true) => "visit.sign.both_consent_application",
        (true, false) => "visit.sign.consent_application",
        (false, _) => "visit.sign.guardian_consent_application",
    };
    ui.spawn(choice_button(Act::Toggle(CONSENT_APPLICATION), Tr::new(applies), v.form.is_on(CONSENT_APPLICATION)));
    // The consent names what this visit collected, and is the guardians' where they sign for
    // the child; nothing collected, nothing to agree to.
    if let Some(words) = biometrics_consent(v.visit, applicant_signs) {
        ui.spawn(choice_button(Act::Toggle(CONSENT_BIOMETRICS), Tr::new(words), v.form.is_on(CONSENT_BIOMETRICS)));
    }
}

/// A canvas with the strokes drawn so far.
fn pad(which: SignaturePad, strokes: &[Vec<Vec2>]) -> impl Bundle {
    let ink: Vec<Vec2> = strokes.iter().flat_map(|s| along(s, 3.0)).collect();
    (
        Button,
        which,
        crate::ui::widgets::TakesDrag,
        Node {
            width: Val::Px(PAD.x),
            height: Val::Px(PAD.y),
            flex_shrink: 0.0,
            border: UiRect::all(Val::Px(2.0)),
            border_radius: BorderRadius::all(Val::Px(8.0)),
            ..default()
        },
        BackgroundColor(Color::WHITE),
        BorderColor::all(theme::KEY_BORDER),
        Children::spawn(SpawnIter(ink.into_iter().map(dot))),
    )
}

/// The signature canvas, in logical pixels.
pub const PAD: Vec2 = Vec2::new(640.0, 220.0);

/// One dot of ink on a canvas.
#[derive(Component, Debug)]
struct Ink;

/// Records the pointer while a canvas is pressed, one stroke per press, and draws it.
pub fn draw_signature(
    mut commands: Commands,
    pads: Query<(Entity, &SignaturePad, &Interaction, &ComputedNode, &UiGlobalTransform)>,
    windows: Query<&Window>,
    mut work: ResMut<Work>,
    mut pressed_before: Local<Option<SignaturePad>>,
) {
    let pressed = pads.iter().find(|(_, _, i, _, _)| **i == Interaction::Pressed);
    let cursor = windows.iter().find_map(Window::physical_cursor_position);
    let now = pressed.map(|p| *p.1);
    if let (Some((entity, which, _, node, at)), Some(c)) = (pressed, cursor) {
        let scale = node.inverse_scale_factor;
        let local = (c - (at.translation - node.size / 2.0)) * scale;
        let strokes = work.strokes.entry(*which).or_default();
        if *pressed_before != now {
            strokes.push(Vec::new());
        }
        let inside = local.cmpge(Vec2::ZERO).all() && local.cmple(PAD).all();
        if inside
            && let Some(stroke) = strokes.last_mut()
            && stroke.last() != Some(&local)
        {
            stroke.push(local);
            commands.entity(entity).with_child(dot(local));
        }
    }
    *pressed_before = now;
}

/// The sign step's buttons: clear every canvas, or sign: each signature kept as its own part
/// and sent with its digest; core decides whether everyone who must sign has.
pub fn act(
    mut acts: MessageReader<Act>,
    flow: Res<VisitFlow>,
    form: Res<Form>,
    mut work: ResMut<Work>,
    drafts: Res<Drafts>,
    mut cmds: MessageWriter<VisitCmd>,
    mut seen: Local<super::SeenStep>,
) {
    if seen.changed(&flow) {
        acts.clear();
        // Back before signing (another guardian, a corrected ID): ink drawn for the earlier
        // people must not be signed as the new ones'.
        let before_sign = flow.visit.as_ref().is_some_and(|v| {
            matches!(
                v.step(),
                Step::Applicant | Step::Services | Step::Photo | Step::Fingerprints | Step::Details | Step::Review
            )
        });
        if before_sign && !work.strokes.is_empty() {
            work.strokes.clear();
        }
        return;
    }
    let Some(visit) = flow.visit.as_ref().filter(|v| v.step() == Step::Sign) else {
        acts.clear();
        return;
    };
    for act in acts.read() {
        match act {
            Act::ClearSignature => {
                work.strokes.clear();
                work.touch();
            }
            Act::ClearPad(which) => {
                work.strokes.remove(which);
                work.touch();
            }
            Act::Next => {
                let keep = |which: SignaturePad| -> Option<Strokes> {
                    let strokes = work.strokes(which);
                    let count = strokes.iter().filter(|s| !s.is_empty()).count() as u32;
                    (count > 0).then(|| {
                        let png = signature_png(strokes);
                        let d = digest(&png);
                        drafts.save(&visit.id, &which.part(), png);
                        Strokes { digest: d, strokes: count }
                    })
                };
                let (applicant_signs, here) = signers(visit);
                let applicant = if applicant_signs { keep(SignaturePad::Applicant) } else { None };
                // One entry per guardian, in order: a signature from each one here.
                let listed =
                    visit.state.identified().and_then(|w| w.guardians.as_ref()).map_or(0, |g| g.guardians.len());
                let guardians = (1..=listed)
                    .map(|n| if here.iter().any(|(h, _)| *h == n) { keep(SignaturePad::Guardian(n)) } else { None })
                    .collect();
                cmds.write(VisitCmd::apply(VisitEvent::Signed(ConsentInput {
                    application: form.is_on(CONSENT_APPLICATION),
                    biometrics: form.is_on(CONSENT_BIOMETRICS),
                    applicant,
                    applicant_unable_reason: form.get(UNABLE_TO_SIGN).trim().to_string(),
                    guardians,
                    companion: companion(visit).and_then(|_| keep(SignaturePad::Companion)),
                })));
            }
            _ => {}
        }
    }
}

/// Points every `step` pixels along a stroke, so it is drawn as a line.
fn along(stroke: &[Vec2], step: f32) -> Vec<Vec2> {
    let mut out: Vec<Vec2> = stroke.first().copied().into_iter().collect();
    for pair in stroke.windows(2) {
        let n = (pair[0].distance(pair[1]) / step).ceil().max(1.0) as usize;
        out.extend((1..=n).map(|i| pair[0].lerp(pair[1], i as f32 / n as f32)));
    }
    out
}

fn dot(p: Vec2) -> impl Bundle {
    (
        Ink,
        Node {
            position_type: PositionType::Absolute,
            left: Val::Px(p.x - 3.0),
            top: Val::Px(p.y - 3.0),
            width: Val::Px(6.0),
            height: Val::Px(6.0),
            border_radius: BorderRadius::all(Val::Px(3.0)),
            ..default()
        },
        BackgroundColor(theme::TEXT),
    )
}

/// The signature as a PNG: each stroke drawn as a 3-pixel line on white.
pub fn signature_png(strokes: &[Vec<Vec2>]) -> Vec<u8> {
    let (w, h) = (PAD.x as u32, PAD.y as u32);
    let mut img = image::GrayImage::from_pixel(w, h, image::Luma([255]));
    let mut dot = |p: Vec2| {
        for dy in -1..=1 {
            for dx in -1..=1 {
                let (x, y) = (p.x as i64 + dx, p.y as i64 + dy);
                if (0..w as i64).contains(&x) && (0..h as i64).contains(&y) {
                    img.put_pixel(x as u32, y as u32, image::Luma([0]));
                }
            }
        }
    };
    for stroke in strokes {
        for pair in stroke.windows(2) {
            let steps = pair[0].distance(pair[1]).ceil().max(1.0) as usize;
            for i in 0..=steps {
                dot(pair[0].lerp(pair[1], i as f32 / steps as f32));
            }
        }
        if let [only] = stroke.as_slice() {
            dot(*only);
        }
    }
    let mut png = Vec::new();
    if let Err(e) =
        image::DynamicImage::ImageLuma8(img).write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
    {
        error!("cannot encode the signature: {e}");
    }
    png
}
