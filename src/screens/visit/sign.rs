//! The consent and signature step's canvas: strokes recorded from the pointer or a finger,
//! drawn as they come, and kept as a PNG with the application.

use bevy::prelude::*;

use super::capture::{CONSENT_APPLICATION, CONSENT_BIOMETRICS, UNABLE_TO_SIGN, Work};
use super::{Act, View, actions, line};
use crate::ui::form::choice_button;
use crate::ui::i18n::Tr;
use crate::ui::theme;

pub fn view(v: &View, ui: &mut ChildSpawnerCommands) {
    super::heading(ui, Tr::new("visit.sign.title"));
    ui.spawn(choice_button(
        Act::Toggle(CONSENT_APPLICATION),
        Tr::new("visit.sign.consent_application"),
        v.form.is_on(CONSENT_APPLICATION),
    ));
    ui.spawn(choice_button(
        Act::Toggle(CONSENT_BIOMETRICS),
        Tr::new("visit.sign.consent_biometrics"),
        v.form.is_on(CONSENT_BIOMETRICS),
    ));
    line(ui, Tr::new("visit.sign.pad"));
    ui.spawn((
        Button,
        SignaturePad,
        crate::ui::widgets::TakesDrag,
        Node {
            width: Val::Px(PAD.x),
            height: Val::Px(PAD.y),
            border: UiRect::all(Val::Px(2.0)),
            border_radius: BorderRadius::all(Val::Px(8.0)),
            ..default()
        },
        BackgroundColor(Color::WHITE),
        BorderColor::all(theme::KEY_BORDER),
    ))
    .with_children(|pad| {
        for stroke in &v.work.strokes {
            for p in along(stroke, 3.0) {
                pad.spawn(ink(p));
            }
        }
    });
    // An applicant who cannot hold a pen does not sign; the reason is recorded instead.
    ui.spawn(crate::ui::form::text_field(UNABLE_TO_SIGN, Tr::new("visit.sign.unable"), 60));
    actions(
        v,
        vec![(Act::ClearSignature, Tr::new("visit.sign.clear"), false), (Act::Next, Tr::new("visit.sign.done"), true)],
    );
}

/// The signature canvas, in logical pixels.
pub const PAD: Vec2 = Vec2::new(640.0, 220.0);

/// The canvas: strokes are drawn into it while it is pressed.
#[derive(Component, Debug)]
pub struct SignaturePad;

/// One dot of ink on the canvas.
#[derive(Component, Debug)]
struct Ink;

/// Records the pointer while the canvas is pressed, one stroke per press, and draws it.
pub fn draw_signature(
    mut commands: Commands,
    pads: Query<(Entity, &Interaction, &ComputedNode, &UiGlobalTransform), With<SignaturePad>>,
    windows: Query<&Window>,
    mut work: ResMut<Work>,
    mut pressed_before: Local<bool>,
) {
    let Ok((pad, interaction, node, at)) = pads.single() else { return };
    let pressed = *interaction == Interaction::Pressed;
    let cursor = windows.iter().find_map(Window::physical_cursor_position);
    if pressed && let Some(c) = cursor {
        let scale = node.inverse_scale_factor;
        let local = (c - (at.translation - node.size / 2.0)) * scale;
        if !*pressed_before {
            work.strokes.push(Vec::new());
        }
        let inside = local.cmpge(Vec2::ZERO).all() && local.cmple(PAD).all();
        if inside
            && let Some(stroke) = work.strokes.last_mut()
            && stroke.last() != Some(&local)
        {
            stroke.push(local);
            commands.entity(pad).with_child(ink(local));
        }
    }
    *pressed_before = pressed;
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

fn ink(p: Vec2) -> impl Bundle {
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
