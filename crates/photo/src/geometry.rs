//! The standard's geometry, measured on the face mesh: face width and eye distance against
//! the picture's width, the whole head in the frame (crown and chin margins), the eye line,
//! centring, and the head's roll, yaw and pitch.

use image::RgbImage;

use crate::checks::{CheckResult, Threshold, luma};
use crate::mesh::{Landmarks, index};
use crate::profile::Profile;

/// A plain backdrop, seen in the picture's top corners: its colour, and how far a pixel
/// may stray from it and still be backdrop (the corners' own spread, at least 12 and at most
/// 28 levels, so that grey or white hair is not taken for a flat white backdrop).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plain {
    pub colour: [f32; 3],
    pub tolerance: f32,
}

impl Plain {
    /// The backdrop of `img`: its top corners where they are light and even and agree, or the
    /// one that is.
    pub fn find(img: &RgbImage) -> Option<Plain> {
        let (w, h) = (img.width(), img.height());
        let (cw, ch) = ((w / 8).max(1), (h / 12).max(1));
        let mean = |x0: u32| {
            let mut s = [0f32; 3];
            let mut lumas = Vec::new();
            for y in 0..ch.min(h) {
                for x in x0..(x0 + cw).min(w) {
                    let p = img.get_pixel(x, y);
                    for (c, v) in s.iter_mut().enumerate() {
                        *v += f32::from(p[c]);
                    }
                    lumas.push(luma(p));
                }
            }
            let n = lumas.len().max(1) as f32;
            let m = lumas.iter().sum::<f32>() / n;
            let std = (lumas.iter().map(|l| (l - m).powi(2)).sum::<f32>() / n).sqrt();
            (s.map(|v| v / n), std)
        };
        let plain = |(c, s): ([f32; 3], f32)| (s <= 16.0 && (c[0] + c[1] + c[2]) / 3.0 >= 120.0).then_some((c, s));
        let tolerance = |s: f32| (3.0 * s + 10.0).clamp(12.0, 28.0);
        match (plain(mean(0)), plain(mean(w.saturating_sub(cw)))) {
            (Some((a, sa)), Some((b, sb))) if (0..3).all(|c| (a[c] - b[c]).abs() <= 20.0) => {
                Some(Plain { colour: [0, 1, 2].map(|c| (a[c] + b[c]) / 2.0), tolerance: tolerance(sa.max(sb)) })
            }
            // One corner plain, the other not (hair or a head reaching into it): the plain one.
            (Some((c, sd)), None) | (None, Some((c, sd))) => Some(Plain { colour: c, tolerance: tolerance(sd) }),
            _ => None,
        }
    }

    /// Whether a pixel is the backdrop's colour.
    pub fn matches(&self, p: &image::Rgb<u8>) -> bool {
        (0..3).all(|c| (f32::from(p[c]) - self.colour[c]).abs() <= self.tolerance)
    }

    /// Whether a pixel is the backdrop's colour, or that colour lit more brightly (a backdrop
    /// is often lighter behind the head than in the corners; hair is not lighter than it).
    pub fn matches_lit(&self, p: &image::Rgb<u8>) -> bool {
        let lift = (0..3).map(|c| f32::from(p[c]) - self.colour[c]).fold(f32::MIN, f32::max);
        (0..3).all(|c| {
            let d = f32::from(p[c]) - self.colour[c];
            d >= -self.tolerance && (d - lift).abs() <= self.tolerance
        })
    }
}

/// The mesh's top point (10) is the top of the forehead, not the crown. The skull reaches at
/// least a fifth of the chin–forehead length above it (the vertex is about a quarter above the
/// hairline); the crown is that, or higher where hair rises above it: found by walking up the
/// face's axis until the backdrop shows across the head (the backdrop's colour, and smooth:
/// hair has texture). Light hair against a white backdrop can stop the walk early; the skull's
/// own top still counts. A crown above the top edge comes back negative.
pub fn crown(img: &RgbImage, lm: &Landmarks, plain: Option<&Plain>) -> (f32, f32) {
    let (x, y) = walk_to_backdrop(img, lm, plain);
    if plain.is_some_and(|p| head_touches_top(img, lm, p)) {
        return (x, -1.0);
    }
    let skull = above_forehead(lm, 0.2);
    if skull.1 < y { skull } else { (x, y) }
}

/// The point `k` chin–forehead lengths above the mesh's forehead top, up the face's axis.
fn above_forehead(lm: &Landmarks, k: f32) -> (f32, f32) {
    let top = lm.p(index::FOREHEAD_TOP);
    let chin = lm.p(index::CHIN);
    let length = ((top.x - chin.x).powi(2) + (top.y - chin.y).powi(2)).sqrt();
    let (ux, uy) = lm.up();
    (top.x + ux * k * length, top.y + uy * k * length)
}

/// Whether the head reaches the top edge: along the top rows, over the head (within 0.3 of the
/// face's width of its middle), a third or more of the pixels are not the backdrop (nor the
/// backdrop lit more brightly).
fn head_touches_top(img: &RgbImage, lm: &Landmarks, plain: &Plain) -> bool {
    let mid = (lm.p(index::CHEEK_RIGHT).x + lm.p(index::CHEEK_LEFT).x) / 2.0;
    let half = 0.3 * lm.face_width();
    let (x0, x1) = ((mid - half).max(0.0) as u32, (mid + half).clamp(0.0, img.width() as f32) as u32);
    let (mut n, mut foreign) = (0u32, 0u32);
    for y in 0..img.height().min(3) {
        for x in x0..x1 {
            n += 1;
            foreign += u32::from(!plain.matches_lit(img.get_pixel(x, y)));
        }
    }
    n > 0 && foreign * 3 >= n
}

fn walk_to_backdrop(img: &RgbImage, lm: &Landmarks, plain: Option<&Plain>) -> (f32, f32) {
    let top = lm.p(index::FOREHEAD_TOP);
    let chin = lm.p(index::CHIN);
    let length = ((top.x - chin.x).powi(2) + (top.y - chin.y).powi(2)).sqrt();
    let (ux, uy) = lm.up();
    let fallback = above_forehead(lm, 0.25);
    let Some(plain) = plain else {
        return fallback;
    };
    let half = 0.12 * lm.face_width();
    let (w, h) = (img.width() as f32, img.height() as f32);
    let is_back = |x: f32, y: f32| {
        if !(x >= 1.0 && y >= 0.0 && x < w - 1.0 && y < h) {
            return false;
        }
        let (xi, yi) = (x as u32, y as u32);
        let smooth = (luma(img.get_pixel(xi + 1, yi)) - luma(img.get_pixel(xi - 1, yi))).abs() <= 6.0;
        smooth && plain.matches_lit(img.get_pixel(xi, yi))
    };
    let step = (length / 200.0).max(0.5);
    let mut t = 0.0;
    loop {
        let (cx, cy) = (top.x + ux * t, top.y + uy * t);
        if cy < 0.0 {
            // The head reaches the top edge: its crown is outside the picture.
            return (cx, cy.min(0.0) - 1.0);
        }
        if !(cx >= 0.0 && cx < w && cy < h) {
            return fallback;
        }
        // Across the head, perpendicular to the axis.
        let samples = 9;
        let back = (0..samples)
            .filter(|i| {
                let s = -half + 2.0 * half * *i as f32 / (samples - 1) as f32;
                is_back(cx - uy * s, cy + ux * s)
            })
            .count();
        if back * 10 >= samples * 8 {
            return (cx, cy);
        }
        t += step;
        if t > length {
            return fallback;
        }
    }
}

fn range(p: &Profile, measure: &str) -> (f32, f32) {
    (p.min(measure), p.max(measure))
}

/// A length of the face as a share of the picture's width, within the profile's range for
/// `name`; the advice says too small or too large.
fn share_of_width(name: &'static str, v: f32, p: &Profile, keys: [&'static str; 3]) -> CheckResult {
    let (lo, hi) = range(p, name);
    let [threshold, small, large] = keys;
    let advice = if v < lo { small } else { large };
    CheckResult::judged(name, v, Threshold::new(threshold, &[("min", lo), ("max", hi)]), (lo..=hi).contains(&v), advice)
}

pub fn face_width(lm: &Landmarks, w: f32, p: &Profile) -> CheckResult {
    let keys = ["photo.threshold.face-width", "photo.face-width.small", "photo.face-width.large"];
    share_of_width("face_width", lm.face_width() / w, p, keys)
}

pub fn eye_distance(lm: &Landmarks, w: f32, p: &Profile) -> CheckResult {
    let keys = ["photo.threshold.eye-distance", "photo.eye-distance.small", "photo.eye-distance.large"];
    share_of_width("eye_distance", lm.eye_distance() / w, p, keys)
}

/// The whole head in the picture: the crown's gap below the top edge and the chin's above the
/// bottom, as shares of the height. The value reported is the smaller margin.
pub fn head_in_frame(lm: &Landmarks, crown_y: f32, h: f32, p: &Profile) -> CheckResult {
    let (crown_min, chin_min) = (p.min("crown_margin"), p.min("chin_margin"));
    let crown = crown_y / h;
    let chin = (h - lm.p(index::CHIN).y) / h;
    let threshold = Threshold::new("photo.threshold.head-in-frame", &[("crown", crown_min), ("chin", chin_min)]);
    let advice = if crown < crown_min { "photo.head-in-frame.crown" } else { "photo.head-in-frame.chin" };
    CheckResult::judged("head_in_frame", crown.min(chin), threshold, crown >= crown_min && chin >= chin_min, advice)
}

pub fn eye_line(lm: &Landmarks, h: f32, p: &Profile) -> CheckResult {
    let (lo, hi) = range(p, "eye_line");
    let ((_, a), (_, b)) = lm.eyes();
    let v = (a + b) / 2.0 / h;
    let advice = if v > hi { "photo.eye-line.low" } else { "photo.eye-line.high" };
    CheckResult::judged(
        "eye_line",
        v,
        Threshold::new("photo.threshold.eye-line", &[("min", lo), ("max", hi)]),
        (lo..=hi).contains(&v),
        advice,
    )
}

pub fn centred(lm: &Landmarks, w: f32, p: &Profile) -> CheckResult {
    let max = p.max("centred");
    let ((a, _), (b, _)) = lm.eyes();
    let v = ((a + b) / 2.0 - w / 2.0) / w * 100.0;
    let advice = if v < 0.0 { "photo.centred.left" } else { "photo.centred.right" };
    CheckResult::judged(
        "centred",
        v,
        Threshold::new("photo.threshold.centred", &[("max", max * 100.0)]),
        v.abs() <= max * 100.0,
        advice,
    )
}

pub fn roll(lm: &Landmarks, p: &Profile) -> CheckResult {
    let max = p.max("roll");
    let v = lm.roll();
    CheckResult::judged(
        "roll",
        v,
        Threshold::new("photo.threshold.angle", &[("max", max)]),
        v.abs() <= max,
        "photo.roll",
    )
}

pub fn yaw(lm: &Landmarks, p: &Profile) -> CheckResult {
    let max = p.max("yaw");
    let v = lm.yaw();
    let threshold = Threshold::new("photo.threshold.angle", &[("max", max)]);
    if p.relaxed.expression_gaze {
        return CheckResult::exempt("yaw", Some(v), threshold);
    }
    CheckResult::judged("yaw", v, threshold, v.abs() <= max, "photo.yaw")
}

pub fn pitch(lm: &Landmarks, p: &Profile) -> CheckResult {
    let max = p.max("pitch");
    let v = lm.pitch();
    let threshold = Threshold::new("photo.threshold.angle", &[("max", max)]);
    if p.relaxed.expression_gaze {
        return CheckResult::exempt("pitch", Some(v), threshold);
    }
    let advice = if v > 0.0 { "photo.pitch.up" } else { "photo.pitch.down" };
    CheckResult::judged("pitch", v, threshold, v.abs() <= max, advice)
}

/// The picture's size. A photo (the final check) must have the digital photo's pixels: 354–480
/// by 472–640, 3:4. A camera frame (the live path, `live` = frame pixels per analysed pixel)
/// must hold the face large enough that the crop needs no more than the allowed enlargement.
pub fn resolution(w: f32, h: f32, lm: Option<&Landmarks>, live: Option<f32>, p: &Profile) -> CheckResult {
    let v = |k: &str| p.value("resolution", k);
    let (w0, w1, h0, h1, aspect) =
        (v("min_width"), v("max_width"), v("min_height"), v("max_height"), v("max_aspect_error"));
    match live {
        None => {
            let threshold = Threshold::new(
                "photo.threshold.resolution",
                &[("w0", w0), ("w1", w1), ("h0", h0), ("h1", h1), ("aspect", aspect)],
            );
            let pass = (w0..=w1).contains(&w) && (h0..=h1).contains(&h) && (w / h - 0.75).abs() <= aspect;
            CheckResult::judged("resolution", w, threshold, pass, "photo.resolution.size")
        }
        Some(factor) => {
            let (target, max) = (p.value("crop", "eye_distance"), p.value("crop", "max_upscale"));
            let threshold = Threshold::new("photo.threshold.enlargement", &[("max", max)]);
            let Some(lm) = lm else {
                return CheckResult::cannot("resolution", threshold, crate::checks::NO_LANDMARKS);
            };
            let needed = target * w0 / (lm.eye_distance() * factor).max(1e-3);
            CheckResult::judged("resolution", needed, threshold, needed <= max, "photo.resolution.far")
        }
    }
}
