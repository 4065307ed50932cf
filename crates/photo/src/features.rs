//! What the standard asks of the face itself, measured inside the mesh's outlines: eyes open,
//! lips closed (no smile with teeth), no glare on spectacles.

use image::RgbImage;

use crate::Rect;
use crate::checks::{CheckResult, Threshold, luma, pixels};
use crate::iris::Eye;
use crate::mesh::{Landmarks, bounds, index, inside};
use crate::profile::Profile;

/// Pixels inside a polygon of mesh points.
fn inside_ring<'a>(img: &'a RgbImage, lm: &Landmarks, ring: &[usize]) -> Vec<&'a image::Rgb<u8>> {
    let poly = lm.polygon(ring);
    let r = bounds(&poly, img.width(), img.height());
    pixels(img, r, 1).filter(|(x, y, _)| inside(&poly, *x as f32 + 0.5, *y as f32 + 0.5)).map(|(_, _, p)| p).collect()
}

/// Eyes open: from the eye model where it ran (the final check: its lids, and each iris
/// showing where it puts it), else from the mesh's lids (the live path), each against its own
/// threshold. The value is the measure that decided: the smaller lid opening, or, when the
/// lids pass and an iris does not show, the smaller iris contrast.
pub fn eyes_open(lm: &Landmarks, iris: Option<(Eye, Eye)>, p: &Profile) -> CheckResult {
    let (value, pass, threshold) = match iris {
        Some((a, b)) => {
            let (min, shows) = (p.min("eyes_open"), p.value("eyes_open", "min_iris"));
            let lids = a.open.min(b.open);
            // An iris brighter than the skin is a reflection (the glare check judges it), not a
            // closed lid.
            let contrast = [a.iris, b.iris].into_iter().filter(|c| *c >= 0.0).fold(f32::INFINITY, f32::min);
            if lids >= min && contrast < shows {
                (contrast, false, Threshold::new("photo.threshold.eyes-iris", &[("min", shows)]))
            } else {
                (lids, lids >= min, Threshold::new("photo.threshold.eyes-open", &[("min", min), ("iris", shows)]))
            }
        }
        None => {
            let (a, b) = lm.eye_openness();
            let min = p.value("eyes_open", "min_mesh");
            (a.min(b), a.min(b) >= min, Threshold::new("photo.threshold.eyes-open-mesh", &[("min", min)]))
        }
    };
    if p.relaxed.eyes_open {
        return CheckResult::exempt("eyes_open", Some(value), threshold);
    }
    CheckResult::judged("eyes_open", value, threshold, pass, "photo.eyes-open")
}

/// The share of the mouth's opening (inside the inner lips) that is teeth: light and
/// unsaturated, lighter than the face's skin around it.
pub fn teeth(img: &RgbImage, lm: &Landmarks) -> f32 {
    let mouth = inside_ring(img, lm, &index::INNER_LIPS);
    // The mouth's width squared sets the scale: a closed mouth has next to no opening.
    let w = lm.p(index::MOUTH_RIGHT).x - lm.p(index::MOUTH_LEFT).x;
    let area = (w * w * 0.25).max(1.0);
    let skin = crate::checks::patch_luma(img, lm, index::CHEEK_PATCH_RIGHT, lm.face_width() * 0.12);
    let is_tooth = |p: &image::Rgb<u8>| {
        let (mx, mn) = (p[0].max(p[1]).max(p[2]), p[0].min(p[1]).min(p[2]));
        luma(p) >= skin.min(235.0) && f32::from(mx - mn) <= 0.3 * f32::from(mx).max(1.0)
    };
    mouth.into_iter().filter(|p| is_tooth(p)).count() as f32 / area
}

pub fn mouth_closed(img: &RgbImage, lm: &Landmarks, p: &Profile) -> CheckResult {
    let (max, max_teeth) = (p.max("mouth_closed"), p.value("mouth_closed", "max_teeth"));
    let gap = lm.mouth_gap();
    let threshold = Threshold::new("photo.threshold.mouth-closed", &[("teeth", max_teeth), ("gap", max)]);
    if p.relaxed.expression_gaze {
        return CheckResult::exempt("mouth_closed", Some(gap), threshold);
    }
    // The measure that fails is the one reported: teeth first (a smile), then the gap.
    let teeth = teeth(img, lm);
    let (value, pass) = if crate::checks::at_most(teeth, max_teeth) { (gap, gap <= max) } else { (teeth, false) };
    CheckResult::judged("mouth_closed", value, threshold, pass, "photo.mouth-closed")
}

/// The spectacle area round one eye: the eye's outline widened to where a lens reaches.
fn lens(lm: &Landmarks, ring: &[usize], w: u32, h: u32) -> Rect {
    let r = bounds(&lm.polygon(ring), w, h);
    let (dx, dy) = (r.width as f32 * 0.3, r.width as f32 * 0.35);
    Rect {
        x: (r.x as f32 - dx).max(0.0) as u32,
        y: (r.y as f32 - dy).max(0.0) as u32,
        width: (r.width as f32 + 2.0 * dx) as u32,
        height: (r.height as f32 + 2.0 * dy) as u32,
    }
}

/// The larger share, of the two spectacle areas, burnt to white (every channel ≥ `level`).
pub fn glare_value(img: &RgbImage, lm: &Landmarks, level: u8) -> f32 {
    let share = |ring: &[usize]| {
        let r = lens(lm, ring, img.width(), img.height());
        let (mut n, mut white) = (0usize, 0usize);
        for (_, _, p) in pixels(img, r, 1) {
            n += 1;
            white += usize::from(p[0].min(p[1]).min(p[2]) >= level);
        }
        white as f32 / n.max(1) as f32
    };
    share(&index::EYE_RIGHT_RING).max(share(&index::EYE_LEFT_RING))
}

pub fn glare(img: &RgbImage, lm: &Landmarks, p: &Profile) -> CheckResult {
    let max = p.max("glare");
    let level = p.value("glare", "white_level").clamp(0.0, 255.0) as u8;
    let v = glare_value(img, lm, level) * 100.0;
    CheckResult::judged(
        "glare",
        v,
        Threshold::new("photo.threshold.glare", &[("max", max * 100.0)]),
        v <= max * 100.0,
        "photo.glare",
    )
}
