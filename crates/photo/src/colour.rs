//! A colour photo (DOMAIN.md §1.1: 24-bit true colour; 照相指引: 颜色真实), told by what a photo
//! in colour has and a monochrome one cannot: colours that differ at the same brightness. In a
//! black-and-white photo, and in one toned (sepia) or tinted, each brightness has one colour,
//! whatever the tone; in colour, the lips, the eyes, the brows and the skin differ in hue where
//! they are as bright. A cast moves every colour the same way and leaves the measure alone.

use image::RgbImage;

use crate::checks::{CheckResult, Threshold};
use crate::mesh::{Landmarks, index};
use crate::profile::Profile;

/// Brightness bands the face's pixels are taken in.
const BANDS: usize = 16;
/// The side of the square each pixel is averaged over, in the face's widths: about 9 pixels
/// on the digital photo's face of 200. A camera's colour noise, even spread over neighbouring
/// pixels by its demosaicing and JPEG's blocks, averages out over it; the lips, eyes and brows
/// are larger.
const BLOCK: f32 = 1.0 / 22.0;

/// The check. Its value is [`spread`]; with too few pixels neither dark nor burnt out (a face
/// burnt white, or black) the exposure is what is wrong, and this check passes with no value
/// rather than name a second cause.
pub fn colour(img: &RgbImage, lm: Option<&Landmarks>, p: &Profile, why: &'static str) -> CheckResult {
    let min = p.min("colour");
    let threshold = Threshold::new("photo.threshold.colour", &[("min", min)]);
    let Some(lm) = lm else {
        return CheckResult::cannot("colour", threshold, why);
    };
    match spread(img, lm) {
        Some(v) => CheckResult::judged("colour", v, threshold, v >= min, "photo.colour"),
        None => {
            let mut r = CheckResult::judged("colour", 0.0, threshold, true, "");
            r.value = None;
            r
        }
    }
}

/// Over the face (cheek to cheek, brows to chin), each pixel averaged over a square of
/// [`BLOCK`] of the face's width, taken by brightness in [`BANDS`] bands: the spread of the
/// chromaticity (r and g of r + g + b) within each band, as a root mean square over the pixels.
/// `None` with fewer than 500 pixels to measure.
pub fn spread(img: &RgbImage, lm: &Landmarks) -> Option<f32> {
    let (right, left, chin) = (lm.p(index::CHEEK_RIGHT), lm.p(index::CHEEK_LEFT), lm.p(index::CHIN));
    let top = lm.p(index::BROW_RIGHT).y.min(lm.p(index::BROW_LEFT).y);
    let (w, h) = img.dimensions();
    let k = ((lm.face_width() * BLOCK).round() as u32).clamp(3, 15);
    let clampx = |v: f32| (v.max(0.0) as u32).min(w);
    let clampy = |v: f32| (v.max(0.0) as u32).min(h);
    let (x0, x1) = (clampx(right.x.min(left.x)), clampx(right.x.max(left.x)));
    let (y0, y1) = (clampy(top), clampy(chin.y));
    if x1 < x0 + k || y1 < y0 + k {
        return None;
    }
    // Sums over the region (an integral image per channel), for the squares' means.
    let (rw, rh) = ((x1 - x0) as usize, (y1 - y0) as usize);
    let mut integral = vec![[0f64; 3]; (rw + 1) * (rh + 1)];
    for y in 0..rh {
        let mut row = [0f64; 3];
        for x in 0..rw {
            let p = img.get_pixel(x0 + x as u32, y0 + y as u32).0;
            (0..3).for_each(|c| row[c] += f64::from(p[c]));
            let above = integral[y * (rw + 1) + x + 1];
            integral[(y + 1) * (rw + 1) + x + 1] = [row[0] + above[0], row[1] + above[1], row[2] + above[2]];
        }
    }
    let k = k as usize;
    let at = |x: usize, y: usize| integral[y * (rw + 1) + x];
    // Per band: pixels, Σr, Σg, Σr², Σg².
    let mut bands = [[0.0f64; 5]; BANDS];
    let n = (k * k) as f64;
    for y in 0..=rh - k {
        for x in 0..=rw - k {
            let (a, b, c, d) = (at(x, y), at(x + k, y), at(x, y + k), at(x + k, y + k));
            let [r, g, b] = [0, 1, 2].map(|i| (d[i] - b[i] - c[i] + a[i]) / n);
            let (mx, mn) = (r.max(g).max(b), r.min(g).min(b));
            // Dark pixels, and pixels burnt out toward white, show no colour.
            if mx < 40.0 || mn > 230.0 {
                continue;
            }
            let total = r + g + b;
            let (cr, cg) = (r / total, g / total);
            let band = ((0.299 * r + 0.587 * g + 0.114 * b) / 16.0) as usize;
            let s = &mut bands[band.min(BANDS - 1)];
            s[0] += 1.0;
            s[1] += cr;
            s[2] += cg;
            s[3] += cr * cr;
            s[4] += cg * cg;
        }
    }
    // Bands of fewer than 30 pixels say nothing of their spread.
    let (mut sum, mut count) = (0.0, 0.0);
    for [m, r, g, rr, gg] in bands.into_iter().filter(|s| s[0] >= 30.0) {
        let var = (rr / m - (r / m).powi(2)) + (gg / m - (g / m).powi(2));
        sum += var.max(0.0) * m;
        count += m;
    }
    (count >= 500.0).then(|| (sum / count).sqrt() as f32)
}
