//! The outcome of a check, and the image-level checks: the backdrop (colour, evenness, no
//! shadow), colour cast, exposure and sharpness measured on the face's skin, and even light
//! across the face. Each reports its measured value, its threshold, pass or fail (or `None`
//! with the reason when it cannot judge) and what to do (on a pass, at most what to look at),
//! as a key into the locale files.

use image::RgbImage;

use crate::Rect;
use crate::geometry::Plain;
use crate::mesh::{Landmarks, index};
use crate::profile::Profile;

/// A check's threshold, for a person to read: a key into the locale files (`photo.threshold.*`)
/// and the numbers its placeholders take.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub key: &'static str,
    pub args: Vec<(&'static str, f32)>,
}

impl Threshold {
    pub fn new(key: &'static str, args: &[(&'static str, f32)]) -> Threshold {
        Threshold { key, args: args.to_vec() }
    }

    /// No threshold to show (a check that could not start).
    pub fn none() -> Threshold {
        Threshold { key: "photo.threshold.none", args: Vec::new() }
    }
}

/// For logs and test messages; people read the locale's text.
impl std::fmt::Display for Threshold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.key)?;
        for (name, v) in &self.args {
            write!(f, " {name}={v}")?;
        }
        Ok(())
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckResult {
    pub name: &'static str,
    pub value: Option<f32>,
    pub threshold: Threshold,
    /// `None`: the check could not judge (see `advice` for why).
    pub pass: Option<bool>,
    /// A key into the locale files (`photo.*`): on a failure, the cause and what to do (for one
    /// the officer may clear by looking, what to look at); when the check cannot judge, why;
    /// on a pass, `None`.
    pub advice: Option<&'static str>,
    /// Not judged for this applicant (an infant's eyes, a toddler's expression): counts as a pass.
    pub exempt: bool,
    /// Refused on a measure that cannot tell what it sees from something allowed (`advice`
    /// says what to look at: a covering, or hair cut straight round the head?): a person who
    /// has looked may clear it with what was seen, without a written reason.
    pub look: bool,
}

impl CheckResult {
    pub fn judged(
        name: &'static str,
        value: f32,
        threshold: Threshold,
        pass: bool,
        advice: &'static str,
    ) -> CheckResult {
        CheckResult {
            name,
            value: Some(value),
            threshold,
            pass: Some(pass),
            advice: (!pass).then_some(advice),
            exempt: false,
            look: false,
        }
    }

    pub fn cannot(name: &'static str, threshold: Threshold, why: &'static str) -> CheckResult {
        CheckResult { name, value: None, threshold, pass: None, advice: Some(why), exempt: false, look: false }
    }

    /// Refused on the measure (`value`), which cannot tell what it saw from something allowed:
    /// the officer, having looked at what `note` says, may clear it.
    pub fn look(name: &'static str, value: Option<f32>, threshold: Threshold, note: &'static str) -> CheckResult {
        CheckResult { name, value, threshold, pass: Some(false), advice: Some(note), exempt: false, look: true }
    }

    pub fn exempt(name: &'static str, value: Option<f32>, threshold: Threshold) -> CheckResult {
        CheckResult { name, value, threshold, pass: Some(true), advice: None, exempt: true, look: false }
    }
}

/// Why a check cannot judge.
pub const NO_FACE: &str = "photo.cannot.no-face";
pub const NO_LANDMARKS: &str = "photo.cannot.no-landmarks";
pub const NO_BACKDROP: &str = "photo.cannot.no-backdrop";

/// `v` ≤ `max`; false when either is NaN, so a measure that could not be taken never passes.
pub(crate) fn at_most(v: f32, max: f32) -> bool {
    v <= max
}

/// `v` ≥ `min`; false when either is NaN.
pub(crate) fn at_least(v: f32, min: f32) -> bool {
    v >= min
}

pub fn luma(p: &image::Rgb<u8>) -> f32 {
    0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
}

/// The pixels of `r` (clipped to the image), every `step`-th.
pub fn pixels(img: &RgbImage, r: Rect, step: u32) -> impl Iterator<Item = (u32, u32, &image::Rgb<u8>)> {
    let x1 = (r.x + r.width).min(img.width());
    let y1 = (r.y + r.height).min(img.height());
    let step = step.max(1);
    (r.y.min(y1)..y1)
        .step_by(step as usize)
        .flat_map(move |y| (r.x.min(x1)..x1).step_by(step as usize).map(move |x| (x, y, img.get_pixel(x, y))))
}

/// A square of side `side` centred on (x, y).
pub fn square(x: f32, y: f32, side: f32) -> Rect {
    let h = side / 2.0;
    Rect {
        x: (x - h).max(0.0) as u32,
        y: (y - h).max(0.0) as u32,
        width: side.max(1.0) as u32,
        height: side.max(1.0) as u32,
    }
}

fn percentile(sorted: &[f32], p: usize) -> f32 {
    sorted.get(sorted.len().saturating_sub(1) * p / 100).copied().unwrap_or(0.0)
}

/// The mean luminance of a square of side `side` centred on mesh point `i` (a skin patch).
pub fn patch_luma(img: &RgbImage, lm: &Landmarks, i: usize, side: f32) -> f32 {
    let c = lm.p(i);
    let v: Vec<f32> = pixels(img, square(c.x, c.y, side), 1).map(|(_, _, p)| luma(p)).collect();
    v.iter().sum::<f32>() / v.len().max(1) as f32
}

/// The inner face: brows to mouth, eye corner to eye corner.
pub fn inner_face(lm: &Landmarks) -> Rect {
    let r = lm.p(index::EYE_RIGHT[0]);
    let l = lm.p(index::EYE_LEFT[0]);
    let top = lm.p(index::BROW_RIGHT).y.min(lm.p(index::BROW_LEFT).y);
    let bottom = lm.p(index::LIP_LOWER_INNER).y;
    Rect {
        x: r.x.min(l.x).max(0.0) as u32,
        y: top.max(0.0) as u32,
        width: (r.x - l.x).abs() as u32,
        height: (bottom - top).max(1.0) as u32,
    }
}

/// The face's skin, as the exposure and the colour are measured on it: a square on the
/// forehead and on each cheek.
fn skin_pixels<'a>(img: &'a RgbImage, lm: &Landmarks) -> impl Iterator<Item = &'a image::Rgb<u8>> {
    let side = lm.face_width() * 0.14;
    [index::FOREHEAD_MID, index::CHEEK_PATCH_RIGHT, index::CHEEK_PATCH_LEFT]
        .map(|i| lm.p(i))
        .into_iter()
        .flat_map(move |p| pixels(img, square(p.x, p.y, side), 1).map(|(_, _, p)| p))
}

/// The skin's brightness, sorted.
fn skin_lumas(img: &RgbImage, lm: &Landmarks) -> Vec<f32> {
    let mut v: Vec<f32> = skin_pixels(img, lm).map(luma).collect();
    v.sort_by(f32::total_cmp);
    v
}

/// The backdrop: above the crown; beside the head down to the eye line, further than 0.3 of
/// the face's width beyond each cheek (where ears and most hair end); and the picture's two
/// top corners (an eighth of the width by a twelfth of the height, outside any head a
/// compliant photo frames). Its image-left and image-right halves are compared.
pub struct Backdrop {
    pub mean: [f32; 3],
    pub std: f32,
    /// The darker half's luminance below the lighter's.
    pub shadow: f32,
    /// The widest shadow next to the head, in face widths (see [`shadow_beside_head`]).
    pub shadow_width: f32,
}

/// A shadow cast on the backdrop next to the head: on each row from the forehead to the
/// mouth, walking out from the cheek, the smooth run of pixels that are the backdrop's own
/// colour darkened (each channel 45–92 % of it), before the backdrop itself is reached. Hair
/// is textured or coloured, so it does not count; a shadow is smooth and takes the backdrop's
/// hue. The mean run on the worse side, over the face's width.
pub fn shadow_beside_head(img: &RgbImage, lm: &Landmarks, crown_y: f32, plain: Option<&Plain>) -> Option<f32> {
    let plain = plain?;
    let back = plain.colour;
    let fw = lm.face_width().max(1.0);
    let top = (crown_y + 0.1 * fw).max(1.0) as u32;
    let bottom = ((lm.p(index::MOUTH_RIGHT).y + lm.p(index::MOUTH_LEFT).y) / 2.0) as u32;
    let (w, h) = (img.width(), img.height());
    if bottom <= top || bottom + 1 >= h || w < 8 {
        return None;
    }
    let l = |x: u32, y: u32| luma(img.get_pixel(x, y));
    let is_shade = |x: u32, y: u32| {
        let p = img.get_pixel(x, y);
        let k: Vec<f32> = (0..3).map(|c| f32::from(p[c]) / back[c].max(1.0)).collect();
        let (lo, hi) = (k.iter().copied().fold(f32::MAX, f32::min), k.iter().copied().fold(f32::MIN, f32::max));
        let smooth = (l(x + 1, y) - l(x - 1, y)).abs() <= 6.0 && (l(x, y + 1) - l(x, y - 1)).abs() <= 6.0;
        lo >= 0.45 && hi <= 0.92 && hi - lo <= 0.08 && smooth
    };
    let mut widths = [0u32; 2];
    let mut rows = 0;
    for y in (top.max(1)..bottom).step_by(2) {
        rows += 1;
        for (side, start) in [(0usize, lm.p(index::CHEEK_RIGHT).x), (1, lm.p(index::CHEEK_LEFT).x)] {
            let xs: Vec<u32> = if side == 0 {
                (1..(start.max(1.0) as u32).min(w - 1)).rev().collect()
            } else {
                ((start.max(1.0) as u32).min(w - 1)..w - 1).collect()
            };
            // Shade counted since the last non-shade pixel, until the backdrop is reached.
            let mut run = 0;
            for x in xs {
                if plain.matches(img.get_pixel(x, y)) {
                    break;
                }
                run = if is_shade(x, y) { run + 1 } else { 0 };
            }
            widths[side] += run;
        }
    }
    (rows > 0).then(|| widths[0].max(widths[1]) as f32 / rows as f32 / fw)
}

pub fn backdrop(img: &RgbImage, lm: &Landmarks, crown_y: f32, plain: Option<&Plain>) -> Option<Backdrop> {
    let mid = (lm.p(index::CHEEK_RIGHT).x + lm.p(index::CHEEK_LEFT).x) / 2.0;
    let beyond = 0.3 * lm.face_width();
    let (left, right) = (lm.p(index::CHEEK_RIGHT).x - beyond, lm.p(index::CHEEK_LEFT).x + beyond);
    let ((_, eye_a), (_, eye_b)) = lm.eyes();
    let eye_line = eye_a.min(eye_b);
    let above = crown_y - 0.02 * img.height() as f32;
    let mut halves: [Vec<image::Rgb<u8>>; 2] = Default::default();
    let all = Rect { x: 0, y: 0, width: img.width(), height: img.height() };
    for (x, y, p) in pixels(img, all, 2) {
        let (fx, fy) = (x as f32, y as f32);
        let corner = y < img.height() / 12 && (x < img.width() / 8 || x >= img.width() - img.width() / 8);
        if corner || fy < above || (fy < eye_line && (fx < left || fx > right)) {
            halves[usize::from(fx > mid)].push(*p);
        }
    }
    let all: Vec<image::Rgb<u8>> = halves.iter().flatten().copied().collect();
    if all.len() < 32 {
        return None;
    }
    let n = all.len() as f32;
    let mut mean = [0f32; 3];
    for p in &all {
        for (c, m) in mean.iter_mut().enumerate() {
            *m += f32::from(p[c]) / n;
        }
    }
    let lm_all = all.iter().map(luma).sum::<f32>() / n;
    let std = (all.iter().map(|p| (luma(p) - lm_all).powi(2)).sum::<f32>() / n).sqrt();
    let means: Vec<f32> =
        halves.iter().filter(|z| z.len() >= 24).map(|z| z.iter().map(luma).sum::<f32>() / z.len() as f32).collect();
    let shadow = if means.len() == 2 { (means[0] - means[1]).abs() } else { 0.0 };
    // Without a plain backdrop at the corners there is no colour to find a shadow of; the
    // spread and the colour judge such a backdrop.
    let shadow_width = shadow_beside_head(img, lm, crown_y, plain).unwrap_or(0.0);
    Some(Backdrop { mean, std, shadow, shadow_width })
}

/// The allowed backdrop colours (DOMAIN.md §1.1): white/light grey, or light blue. The distance
/// from the nearest, and whether that is the grey.
fn nearest_allowed(mean: [f32; 3], min_grey: f32) -> (f32, bool) {
    let grey_level = mean.iter().sum::<f32>() / 3.0;
    let grey = [grey_level.max(min_grey); 3];
    let blue = [100.0, 197.0, 255.0];
    let dist =
        |a: [f32; 3], b: [f32; 3]| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt();
    let (dg, db) = (dist(mean, grey), dist(mean, blue));
    (dg.min(db), dg <= db)
}

/// The backdrop's verdict: the first of its measures that fails (shadow beside the head, the
/// halves' difference, the spread, the colour) is reported with its own value.
pub fn background(b: Option<&Backdrop>, p: &Profile, why: &'static str) -> CheckResult {
    let v = |k: &str| p.value("background", k);
    let (min_grey, max_std, max_shadow, max_width, max_blue) =
        (v("min_grey"), v("max_std"), v("max_shadow"), v("max_shadow_width"), v("max_blue_distance"));
    let threshold = Threshold::new(
        "photo.threshold.background",
        &[("width", max_width), ("halves", max_shadow), ("spread", max_std), ("grey", min_grey), ("blue", max_blue)],
    );
    let Some(b) = b else {
        return CheckResult::cannot("background", threshold, why);
    };
    let (dist, grey) = nearest_allowed(b.mean, min_grey);
    let colour_ok = if grey { b.mean.iter().all(|&c| c >= min_grey) } else { dist <= max_blue };
    let (value, pass, advice) = if !at_most(b.shadow_width, max_width) {
        (b.shadow_width, false, "photo.background.shadow")
    } else if !at_most(b.shadow, max_shadow) {
        (b.shadow, false, "photo.background.uneven")
    } else if !at_most(b.std, max_std) {
        (b.std, false, "photo.background.uneven")
    } else {
        (dist, colour_ok, "photo.background.colour")
    };
    CheckResult::judged("background", value, threshold, pass, advice)
}

pub fn colour_cast(b: Option<&Backdrop>, p: &Profile, why: &'static str) -> CheckResult {
    let max = p.max("colour_cast");
    let threshold = Threshold::new("photo.threshold.colour-cast", &[("max", max)]);
    let Some(b) = b else {
        return CheckResult::cannot("colour_cast", threshold, why);
    };
    // The backdrop is known to be neutral or light blue: its hue against the nearest of those
    // is the camera's cast. Only its chroma counts (brightness is the background check's).
    let mean = b.mean;
    let grey_level = mean.iter().sum::<f32>() / 3.0;
    let chroma = mean.iter().map(|c| (c - grey_level).abs()).fold(0.0, f32::max);
    let blue_like = mean[2] > mean[0] + 60.0;
    let cast = if blue_like { nearest_allowed(mean, p.value("background", "min_grey")).0 / 3.0 } else { chroma };
    CheckResult::judged("colour_cast", cast, threshold, cast <= max, "photo.colour-cast")
}

/// Exposure on the face's skin; the first of its measures that fails is reported with its own
/// value (the skin's mean when all pass).
pub fn exposure(img: &RgbImage, lm: Option<&Landmarks>, p: &Profile, why: &'static str) -> CheckResult {
    let v = |k: &str| p.value("exposure", k);
    let (lo, hi, min_range, max_blown, blown_level, min_highlight) =
        (v("min"), v("max"), v("min_range"), v("max_blown"), v("blown_level"), v("min_highlight"));
    let threshold = Threshold::new(
        "photo.threshold.exposure",
        &[
            ("min", lo),
            ("max", hi),
            ("blown", max_blown * 100.0),
            ("level", blown_level),
            ("range", min_range),
            ("highlight", min_highlight),
        ],
    );
    let mut all: Vec<f32> = img.pixels().step_by(3).map(|p| f32::from(p[0].max(p[1]).max(p[2]))).collect();
    all.sort_by(f32::total_cmp);
    let highlight = percentile(&all, 98);
    let Some(lm) = lm else {
        // Without a face, a picture with nothing light in it is too dark to find one in; one
        // mostly burnt to pure white (more than any framed backdrop covers), too bright.
        let n = img.pixels().len().max(1) as f32;
        let burnt = img.pixels().filter(|p| p[0].min(p[1]).min(p[2]) >= 254).count() as f32 / n;
        return if highlight < v("no_face_dark") {
            CheckResult::judged("exposure", highlight, threshold, false, "photo.exposure.dark")
        } else if burnt >= v("no_face_burnt") {
            CheckResult::judged("exposure", burnt, threshold, false, "photo.exposure.bright")
        } else {
            CheckResult::cannot("exposure", threshold, why)
        };
    };
    let skin = skin_lumas(img, lm);
    if skin.len() < 16 {
        return CheckResult::cannot("exposure", threshold, NO_LANDMARKS);
    }
    let mean = skin.iter().sum::<f32>() / skin.len() as f32;
    let blown = skin.iter().filter(|&&l| l >= blown_level).count() as f32 / skin.len() as f32;
    let mut face: Vec<f32> = pixels(img, inner_face(lm), 1).map(|(_, _, p)| luma(p)).collect();
    face.sort_by(f32::total_cmp);
    let range = percentile(&face, 98) - percentile(&face, 2);
    let (value, pass, advice) = if !at_least(highlight, min_highlight) {
        (highlight, false, "photo.exposure.dark")
    } else if !at_least(mean, lo) {
        (mean, false, "photo.exposure.dark")
    } else if !at_most(mean, hi) {
        (mean, false, "photo.exposure.bright")
    } else if !at_most(blown, max_blown) {
        (blown, false, "photo.exposure.bright")
    } else if !at_least(range, min_range) {
        (range, false, "photo.exposure.flat")
    } else {
        (mean, true, "")
    };
    CheckResult::judged("exposure", value, threshold, pass, advice)
}

/// How much of the inner face's detail is fine: on the inner face resampled (bilinear) so that
/// the face is 200 px wide, whatever the picture's size, then smoothed by a Gaussian of 1.5 px
/// (which takes out sensor noise and JPEG's block edges), the variance of the second difference
/// over the mean squared first difference, both 3 px apart (detail of about 1.5–3 % of the
/// face's width: lashes, the iris's rim, the line of the lips), across and down, the smaller.
/// Blur takes away second differences faster than first ones, so the ratio falls with blur,
/// and a blur one way (motion) shows in that way's ratio; both differences scale alike with
/// contrast and brightness, so a dim, flat or dark photo is not called blurred (the
/// Laplacian's variance alone was: it went with the square of the contrast), and a sharp
/// picture too small is refused by its size, not as blurred.
pub fn sharpness_value(img: &RgbImage, lm: &Landmarks) -> Option<f32> {
    let r = inner_face(lm);
    let k = lm.face_width() / 200.0;
    if k.is_nan() || k <= 0.0 || r.width < 2 || r.height < 2 {
        return None;
    }
    let (gw, gh) = ((r.width as f32 / k) as usize, (r.height as f32 / k) as usize);
    // The smoothing's reach and the differences' span from each edge, and some face between.
    const D: usize = 3;
    let margin = D + SMOOTH_RADIUS;
    if gw <= 2 * margin + 4 || gh <= 2 * margin + 4 {
        return None;
    }
    let (w, h) = (img.width() as f32, img.height() as f32);
    let at = |x: f32, y: f32| {
        let (x, y) = (x.clamp(0.0, w - 1.0), y.clamp(0.0, h - 1.0));
        let (x0, y0) = (x.floor(), y.floor());
        let (x1, y1) = ((x0 + 1.0).min(w - 1.0), (y0 + 1.0).min(h - 1.0));
        let (fx, fy) = (x - x0, y - y0);
        let l = |x: f32, y: f32| luma(img.get_pixel(x as u32, y as u32));
        (l(x0, y0) * (1.0 - fx) + l(x1, y0) * fx) * (1.0 - fy) + (l(x0, y1) * (1.0 - fx) + l(x1, y1) * fx) * fy
    };
    let grid: Vec<f32> = (0..gh)
        .flat_map(|v| (0..gw).map(move |u| (u, v)))
        .map(|(u, v)| at(r.x as f32 + u as f32 * k, r.y as f32 + v as f32 * k))
        .collect();
    let smooth = gaussian(&grid, gw, gh, SMOOTH_SIGMA);
    let g = |u: usize, v: usize| smooth[v * gw + u];
    // Each direction alone (a blur along one, as the subject or the camera moved, leaves the
    // other sharp): the Laplacian's variance over the gradient energy, `D` px apart.
    let ratio = |along: &dyn Fn(usize, usize, isize) -> f32| {
        let (mut second, mut first) = (Vec::new(), 0.0f32);
        for v in margin..gh - margin {
            for u in margin..gw - margin {
                let (back, mid, ahead) = (along(u, v, -(D as isize)), g(u, v), along(u, v, D as isize));
                second.push(2.0 * mid - back - ahead);
                first += (ahead - back).powi(2);
            }
        }
        let n = second.len() as f32;
        let mean = second.iter().sum::<f32>() / n;
        let variance = second.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / n;
        // A face without any change of brightness has no detail at all.
        let first = first / n;
        if first > f32::EPSILON { variance / first } else { 0.0 }
    };
    let across = ratio(&|u, v, d| g(u.wrapping_add_signed(d), v));
    let down = ratio(&|u, v, d| g(u, v.wrapping_add_signed(d)));
    Some(across.min(down))
}

/// The Gaussian that takes noise and JPEG's block edges out of the sharpness measure, in grid
/// pixels (the face 200 px wide), and how far its kernel reaches.
const SMOOTH_SIGMA: f32 = 1.5;
const SMOOTH_RADIUS: usize = 4;

/// `grid` (`w` × `h`) smoothed by a Gaussian of `sigma`, rows then columns; the edges repeat.
fn gaussian(grid: &[f32], w: usize, h: usize, sigma: f32) -> Vec<f32> {
    let r = SMOOTH_RADIUS as isize;
    let kernel: Vec<f32> = (-r..=r).map(|x| (-((x * x) as f32) / (2.0 * sigma * sigma)).exp()).collect();
    let total: f32 = kernel.iter().sum();
    let pass = |src: &[f32], horizontal: bool| -> Vec<f32> {
        let mut out = vec![0.0f32; src.len()];
        for v in 0..h {
            for u in 0..w {
                out[v * w + u] = kernel
                    .iter()
                    .zip(-r..=r)
                    .map(|(k, d)| {
                        let (x, y) = if horizontal {
                            ((u as isize + d).clamp(0, w as isize - 1) as usize, v)
                        } else {
                            (u, (v as isize + d).clamp(0, h as isize - 1) as usize)
                        };
                        k * src[y * w + x]
                    })
                    .sum::<f32>()
                    / total;
            }
        }
        out
    };
    pass(&pass(grid, true), false)
}

pub fn sharpness(img: &RgbImage, lm: Option<&Landmarks>, p: &Profile, why: &'static str) -> CheckResult {
    let min = p.min("sharpness");
    let threshold = Threshold::new("photo.threshold.sharpness", &[("min", min)]);
    match lm.and_then(|lm| sharpness_value(img, lm)) {
        Some(v) => CheckResult::judged("sharpness", v, threshold, v >= min, "photo.sharpness"),
        None => CheckResult::cannot("sharpness", threshold, why),
    }
}

pub fn face_lighting(img: &RgbImage, lm: Option<&Landmarks>, p: &Profile, why: &'static str) -> CheckResult {
    let max = p.max("face_lighting");
    let threshold = Threshold::new("photo.threshold.face-lighting", &[("max", max * 100.0)]);
    let Some(lm) = lm else {
        return CheckResult::cannot("face_lighting", threshold, why);
    };
    let side = lm.face_width() * 0.2;
    let (r, l) =
        (patch_luma(img, lm, index::CHEEK_PATCH_RIGHT, side), patch_luma(img, lm, index::CHEEK_PATCH_LEFT, side));
    let imbalance = (r - l).abs() / r.max(l).max(1.0) * 100.0;
    CheckResult::judged("face_lighting", imbalance, threshold, imbalance <= max * 100.0, "photo.face-lighting")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key this crate hands out for a person to read is in both locale files.
    #[test]
    fn every_advice_key_is_in_both_locale_files() {
        let sources = [
            include_str!("checks.rs"),
            include_str!("geometry.rs"),
            include_str!("features.rs"),
            include_str!("covering.rs"),
            include_str!("assess.rs"),
        ];
        let mut keys: Vec<&str> = sources
            .iter()
            .flat_map(|s| s.split('"').skip(1).step_by(2))
            .filter(|k| k.starts_with("photo.") && k.len() > "photo.".len())
            .collect();
        keys.sort_unstable();
        keys.dedup();
        assert!(keys.len() >= 30, "{keys:?}");
        for (name, text) in [
            ("zh-CN", include_str!("../../../assets/locales/zh-CN.toml")),
            ("en", include_str!("../../../assets/locales/en.toml")),
        ] {
            let table: toml::Table = toml::from_str(text).unwrap();
            for k in &keys {
                assert!(table.get(*k).and_then(|v| v.as_str()).is_some_and(|t| !t.is_empty()), "{k} missing in {name}");
            }
        }
    }

    #[test]
    fn a_check_that_cannot_judge_says_why_and_a_pass_says_nothing() {
        let c = CheckResult::cannot("roll", Threshold::none(), NO_LANDMARKS);
        assert_eq!((c.pass, c.value, c.advice), (None, None, Some(NO_LANDMARKS)));
        let ok = CheckResult::judged("roll", 1.0, Threshold::none(), true, "photo.roll");
        assert_eq!((ok.pass, ok.advice), (Some(true), None));
        let bad = CheckResult::judged("roll", 12.0, Threshold::none(), false, "photo.roll");
        assert_eq!((bad.pass, bad.advice), (Some(false), Some("photo.roll")));
        let exempt = CheckResult::exempt("eyes_open", Some(0.0), Threshold::none());
        assert_eq!((exempt.pass, exempt.exempt, exempt.advice), (Some(true), true, None));
        // A covering not told from hair: refused, and the officer may clear it by looking.
        let look = CheckResult::look("head_covering", Some(0.3), Threshold::none(), "photo.look.covering-or-hair");
        assert_eq!((look.pass, look.look, look.advice), (Some(false), true, Some("photo.look.covering-or-hair")));
    }

    /// The verdict: a check the officer may clear by looking holds the photo for the look, and
    /// any other refusal (or a check that cannot judge) refuses it outright.
    #[test]
    fn a_look_holds_the_photo_and_any_other_refusal_refuses_it() {
        use crate::assess::{Assessment, Verdict};
        let ok = CheckResult::judged("roll", 1.0, Threshold::none(), true, "photo.roll");
        let look = CheckResult::look("head_covering", Some(0.3), Threshold::none(), "photo.look.covering-or-hair");
        let bad = CheckResult::judged("roll", 12.0, Threshold::none(), false, "photo.roll");
        let cannot = CheckResult::cannot("roll", Threshold::none(), NO_LANDMARKS);
        let table = [
            (vec![ok.clone()], Verdict::Pass, 0, 0),
            (vec![ok.clone(), look.clone()], Verdict::Look, 0, 1),
            (vec![look.clone(), bad], Verdict::Fail, 1, 1),
            (vec![look, cannot], Verdict::Fail, 1, 1),
        ];
        for (checks, verdict, refusals, looks) in table {
            let a = Assessment { face_count: 1, face: None, landmarks: None, crown_y: None, checks };
            assert_eq!(a.verdict(), verdict, "{:?}", a.checks);
            assert_eq!((a.refusals().count(), a.looks().count()), (refusals, looks), "{:?}", a.checks);
            assert_eq!(a.pass(), verdict == Verdict::Pass);
        }
    }

    #[test]
    fn the_allowed_backdrops_are_white_grey_and_light_blue() {
        // (mean colour, distance within reach, nearest is the grey)
        let table = [
            ([255.0, 255.0, 255.0], true, true),
            ([226.0, 226.0, 226.0], true, true),
            ([120.0, 200.0, 252.0], true, false),
            ([235.0, 205.0, 90.0], false, true),
            ([150.0, 150.0, 150.0], false, true),
        ];
        for (mean, near, grey) in table {
            let (d, g) = nearest_allowed(mean, 210.0);
            assert_eq!((d <= 60.0, g), (near, grey), "{mean:?}: {d}");
        }
    }
}
