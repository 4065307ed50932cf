//! The standard's geometry, measured on the face mesh: face width and eye distance against
//! the picture's width, the whole head in the frame (crown and chin margins), the eye line,
//! centring, and the head's roll, yaw and pitch.

use image::RgbImage;

use crate::checks::{CheckResult, luma};
use crate::mesh::{Landmarks, index};
use crate::profile::Profile;

/// The mesh's top point (10) is the top of the forehead, not the crown. The crown is found by
/// walking up the face's axis from it until the backdrop shows across the head; on a picture
/// without a plain backdrop it is taken as a quarter of the chin–forehead length above it.
pub fn crown(img: &RgbImage, lm: &Landmarks) -> (f32, f32) {
    let top = lm.p(index::FOREHEAD_TOP);
    let chin = lm.p(index::CHIN);
    let length = ((top.x - chin.x).powi(2) + (top.y - chin.y).powi(2)).sqrt();
    let (ux, uy) = lm.up();
    let fallback = (top.x + ux * 0.25 * length, top.y + uy * 0.25 * length);
    let Some(back) = backdrop_colour(img) else {
        return fallback;
    };
    let half = 0.12 * lm.face_width();
    let (w, h) = (img.width() as f32, img.height() as f32);
    let is_back = |x: f32, y: f32| {
        if x < 0.0 || y < 0.0 || x >= w || y >= h {
            return false;
        }
        let p = img.get_pixel(x as u32, y as u32);
        (0..3).all(|c| (f32::from(p[c]) - back[c]).abs() <= 28.0)
    };
    let step = (length / 200.0).max(0.5);
    let mut t = 0.0;
    loop {
        let (cx, cy) = (top.x + ux * t, top.y + uy * t);
        if cx < 0.0 || cy < 0.0 || cx >= w || cy >= h {
            // The head reaches the edge: its crown is outside the picture.
            return (cx, cy.min(0.0) - 1.0);
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

/// The backdrop's colour, from the two top corners, when they agree and are light.
pub(crate) fn backdrop_colour(img: &RgbImage) -> Option<[f32; 3]> {
    let (w, h) = (img.width(), img.height());
    let (cw, ch) = ((w / 8).max(1), (h / 12).max(1));
    let mean = |x0: u32| {
        let mut s = [0f32; 3];
        let mut n = 0.0;
        let mut lumas = Vec::new();
        for y in 0..ch {
            for x in x0..(x0 + cw).min(w) {
                let p = img.get_pixel(x, y);
                for (c, v) in s.iter_mut().enumerate() {
                    *v += f32::from(p[c]);
                }
                lumas.push(luma(p));
                n += 1.0;
            }
        }
        let m = lumas.iter().sum::<f32>() / n;
        let std = (lumas.iter().map(|l| (l - m).powi(2)).sum::<f32>() / n).sqrt();
        (s.map(|v| v / n), std)
    };
    let (a, sa) = mean(0);
    let (b, sb) = mean(w.saturating_sub(cw));
    let agree = (0..3).all(|c| (a[c] - b[c]).abs() <= 20.0);
    let light = (a[0] + a[1] + a[2]) / 3.0 >= 120.0;
    (agree && light && sa <= 16.0 && sb <= 16.0).then(|| [0, 1, 2].map(|c| (a[c] + b[c]) / 2.0))
}

fn range(p: &Profile, measure: &str) -> (f32, f32) {
    (p.min(measure), p.max(measure))
}

pub fn face_width(lm: &Landmarks, w: f32, p: &Profile) -> CheckResult {
    let (lo, hi) = range(p, "face_width");
    let v = lm.face_width() / w;
    let advice = if v < lo { "photo.face-width.small" } else { "photo.face-width.large" };
    CheckResult::judged(
        "face_width",
        v,
        format!("cheek to cheek {lo:.2}–{hi:.2} of the width"),
        (lo..=hi).contains(&v),
        advice,
    )
}

pub fn eye_distance(lm: &Landmarks, w: f32, p: &Profile) -> CheckResult {
    let (lo, hi) = range(p, "eye_distance");
    let v = lm.eye_distance() / w;
    let advice = if v < lo { "photo.eye-distance.small" } else { "photo.eye-distance.large" };
    CheckResult::judged("eye_distance", v, format!("{lo:.2}–{hi:.2} of the width"), (lo..=hi).contains(&v), advice)
}

/// The whole head in the picture: the crown's gap below the top edge and the chin's above the
/// bottom, as shares of the height. The value reported is the smaller margin.
pub fn head_in_frame(lm: &Landmarks, crown_y: f32, h: f32, p: &Profile) -> CheckResult {
    let (crown_min, chin_min) = (p.min("crown_margin"), p.min("chin_margin"));
    let crown = crown_y / h;
    let chin = (h - lm.p(index::CHIN).y) / h;
    let threshold = format!("crown ≥ {crown_min:.2} below the top, chin ≥ {chin_min:.2} above the bottom");
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
        format!("eye line {lo:.2}–{hi:.2} of the height from the top"),
        (lo..=hi).contains(&v),
        advice,
    )
}

pub fn centred(lm: &Landmarks, w: f32, p: &Profile) -> CheckResult {
    let max = p.max("centred");
    let ((a, _), (b, _)) = lm.eyes();
    let v = ((a + b) / 2.0 - w / 2.0) / w;
    let advice = if v < 0.0 { "photo.centred.left" } else { "photo.centred.right" };
    CheckResult::judged("centred", v, format!("≤ {:.0} % of the width off centre", max * 100.0), v.abs() <= max, advice)
}

pub fn roll(lm: &Landmarks, p: &Profile) -> CheckResult {
    let max = p.max("roll");
    let v = lm.roll();
    CheckResult::judged("roll", v, format!("≤ {max:.0}°"), v.abs() <= max, "photo.roll")
}

pub fn yaw(lm: &Landmarks, p: &Profile) -> CheckResult {
    let max = p.max("yaw");
    let v = lm.yaw();
    let threshold = format!("≤ {max:.0}°");
    if p.relaxed.expression_gaze {
        return CheckResult::exempt("yaw", Some(v), threshold);
    }
    CheckResult::judged("yaw", v, threshold, v.abs() <= max, "photo.yaw")
}

pub fn pitch(lm: &Landmarks, p: &Profile) -> CheckResult {
    let max = p.max("pitch");
    let v = lm.pitch();
    let threshold = format!("≤ {max:.0}°");
    if p.relaxed.expression_gaze {
        return CheckResult::exempt("pitch", Some(v), threshold);
    }
    let advice = if v > 0.0 { "photo.pitch.up" } else { "photo.pitch.down" };
    CheckResult::judged("pitch", v, threshold, v.abs() <= max, advice)
}
