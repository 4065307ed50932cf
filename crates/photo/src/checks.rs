//! Image-level checks of an ID photo: exposure and dynamic range, sharpness, colour cast,
//! background, and left/right lighting of the face. Each reports its measured value, its
//! threshold, pass or fail (or `None` when it cannot be assessed, e.g. without a face), and
//! advice an officer can act on, in Chinese and English.

use image::RgbImage;

use crate::Rect;

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckResult {
    pub name: &'static str,
    pub value: Option<f32>,
    pub threshold: String,
    pub pass: Option<bool>,
    pub advice_zh: &'static str,
    pub advice_en: &'static str,
}

/// Thresholds, configurable per document profile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Mean luminance of the face's skin, 0–255. Wide, because skin is light or dark: a dark
    /// picture is told by its backdrop (`min_highlight`), not by the face.
    pub face_luminance: (f32, f32),
    /// Spread between the 2nd and 98th percentile of the face's luminance.
    pub min_dynamic_range: f32,
    /// Largest share of the face's skin at 250 or more (blown out).
    pub max_blown: f32,
    /// Largest share of the picture burnt out to pure white (every channel ≥ 254). A lit
    /// backdrop straight from the camera sits below that; burnt out, the face is too bright.
    pub max_burnt: f32,
    /// Smallest value of the brightest 2 % of the picture, by its brightest channel: the
    /// backdrop is white, light grey or light blue, so a well exposed picture has light in it.
    pub min_highlight: f32,
    /// Variance of the Laplacian over the face (at the analysed scale).
    pub min_sharpness: f32,
    /// Largest distance of the background's mean colour from the allowed colour, in RGB.
    pub max_colour_cast: f32,
    /// Largest standard deviation of the background's luminance.
    pub max_background_std: f32,
    /// Smallest mean of each channel for a white or light-grey background (DOMAIN.md: ≥ 210).
    pub min_background_grey: f32,
    /// Largest relative difference between the face's left and right halves.
    pub max_lighting_imbalance: f32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            face_luminance: (55.0, 215.0),
            min_dynamic_range: 80.0,
            max_blown: 0.10,
            max_burnt: 0.2,
            min_highlight: 210.0,
            min_sharpness: 8.0,
            max_colour_cast: 18.0,
            max_background_std: 14.0,
            min_background_grey: 210.0,
            max_lighting_imbalance: 0.18,
        }
    }
}

fn luma(p: &image::Rgb<u8>) -> f32 {
    0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
}

fn clip(r: Rect, img: &RgbImage) -> Rect {
    let x = r.x.min(img.width());
    let y = r.y.min(img.height());
    Rect { x, y, width: r.width.min(img.width() - x), height: r.height.min(img.height() - y) }
}

/// The background, sampled away from the person: beside the head (more than 0.6 of the face
/// box from its centre line), from the top down to the mouth, where shoulders do not reach;
/// and above the head (more than 0.6 of the box above it) when the picture has room there.
fn background_pixels(img: &RgbImage, face: Rect) -> Vec<image::Rgb<u8>> {
    let (fw, fh) = (face.width as f32, face.height as f32);
    let mid = face.x as f32 + fw / 2.0;
    let bottom = face.y as f32 + 0.65 * fh;
    let head_top = face.y as f32 - 0.6 * fh;
    let mut out = Vec::new();
    for (x, y, p) in img.enumerate_pixels() {
        let (fx, fy) = (x as f32, y as f32);
        if fy < bottom && ((fx - mid).abs() > 0.6 * fw || fy < head_top) && x % 2 == 0 && y % 2 == 0 {
            out.push(*p);
        }
    }
    out
}

/// The skin of the face: the middle of the face box (forehead to mouth, cheek to cheek),
/// without the hair, ears and backdrop at its edges.
fn skin(f: Rect) -> Rect {
    Rect { x: f.x + f.width / 5, y: f.y + f.height / 4, width: f.width * 3 / 5, height: f.height * 3 / 5 }
}

pub(crate) fn result(
    name: &'static str,
    value: Option<f32>,
    threshold: String,
    pass: Option<bool>,
    zh: &'static str,
    en: &'static str,
) -> CheckResult {
    let ok = pass != Some(false);
    CheckResult {
        name,
        value,
        threshold,
        pass,
        advice_zh: if ok { "合格" } else { zh },
        advice_en: if ok { "OK" } else { en },
    }
}

/// Runs the image-level checks. Without a face, the checks that need one are `None`.
pub fn assess(img: &RgbImage, face: Option<Rect>, t: &Thresholds) -> Vec<CheckResult> {
    let face = face.map(|f| clip(f, img)).filter(|f| f.width >= 8 && f.height >= 8);
    vec![
        exposure(img, face, t),
        sharpness(img, face, t),
        colour_cast(img, face, t),
        background(img, face, t),
        face_lighting(img, face, t),
    ]
}

fn face_lumas(img: &RgbImage, f: Rect) -> Vec<f32> {
    let mut v = Vec::with_capacity((f.width * f.height) as usize);
    for y in f.y..f.y + f.height {
        for x in f.x..f.x + f.width {
            v.push(luma(img.get_pixel(x, y)));
        }
    }
    v
}

fn exposure(img: &RgbImage, face: Option<Rect>, t: &Thresholds) -> CheckResult {
    let (lo, hi) = t.face_luminance;
    let threshold = format!(
        "face mean {lo}–{hi}, face range ≥ {}, ≤ {:.0} % of the face blown out, ≤ {:.0} % of the picture burnt white, brightest 2 % of the picture ≥ {} (brightest channel)",
        t.min_dynamic_range,
        t.max_blown * 100.0,
        t.max_burnt * 100.0,
        t.min_highlight
    );
    const DARK: (&str, &str) = (
        "脸部太暗：请打开室内灯，或让申请人面向窗户",
        "Face too dark: turn on the room light, or face the applicant towards the window",
    );
    const BRIGHT: (&str, &str) =
        ("脸部过亮：请避开直射光，或调暗补光灯", "Face too bright: avoid direct light, or dim the fill light");
    let mut all: Vec<f32> = img.pixels().step_by(3).map(|p| f32::from(p[0].max(p[1]).max(p[2]))).collect();
    all.sort_by(f32::total_cmp);
    let highlight = all.get(all.len() * 98 / 100).copied().unwrap_or(0.0);
    let burnt = img.pixels().filter(|p| p[0].min(p[1]).min(p[2]) >= 254).count() as f32 / all.len().max(1) as f32 / 3.0;
    let Some(f) = face else {
        // No face may be the light's fault: a picture mostly burnt out to white, or with
        // nothing bright in it at all, is told so; otherwise it cannot be assessed.
        let mean = img.pixels().map(luma).sum::<f32>() / img.len().max(1) as f32 * 3.0;
        return if burnt > t.max_burnt {
            result("exposure", Some(mean), threshold, Some(false), BRIGHT.0, BRIGHT.1)
        } else if highlight < 60.0 {
            result("exposure", Some(mean), threshold, Some(false), DARK.0, DARK.1)
        } else {
            result("exposure", None, threshold, None, "", "")
        };
    };
    let mut l = face_lumas(img, skin(f));
    l.sort_by(f32::total_cmp);
    let mean = l.iter().sum::<f32>() / l.len() as f32;
    let range = l[l.len() * 98 / 100] - l[l.len() * 2 / 100];
    let blown = l.iter().filter(|&&v| v >= 250.0).count() as f32 / l.len() as f32;
    // With a white or light backdrop something in a well exposed picture is bright; a dark
    // face can be the applicant's skin, a dark picture is the light.
    let (zh, en) = if mean < lo || highlight < t.min_highlight {
        DARK
    } else if mean > hi || blown > t.max_blown || burnt > t.max_burnt {
        BRIGHT
    } else {
        ("画面发灰：请增加正面补光，避免逆光", "Flat, washed-out face: add light from the front and avoid back light")
    };
    let pass = (lo..=hi).contains(&mean)
        && range >= t.min_dynamic_range
        && blown <= t.max_blown
        && highlight >= t.min_highlight
        && burnt <= t.max_burnt;
    result("exposure", Some(mean), threshold, Some(pass), zh, en)
}

fn sharpness(img: &RgbImage, face: Option<Rect>, t: &Thresholds) -> CheckResult {
    let threshold = format!("Laplacian variance ≥ {}", t.min_sharpness);
    let Some(f) = face else {
        return result("sharpness", None, threshold, None, "", "");
    };
    let g = |x: u32, y: u32| luma(img.get_pixel(x, y));
    // The inner part of the face only: its outline against the background is sharp even in
    // a blurred photo.
    let inner = skin(f);
    let mut values = Vec::new();
    for y in inner.y.max(1)..(inner.y + inner.height).min(img.height() - 1) {
        for x in inner.x.max(1)..(inner.x + inner.width).min(img.width() - 1) {
            values.push(4.0 * g(x, y) - g(x - 1, y) - g(x + 1, y) - g(x, y - 1) - g(x, y + 1));
        }
    }
    let n = values.len().max(1) as f32;
    let mean = values.iter().sum::<f32>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n;
    result(
        "sharpness",
        Some(var),
        threshold,
        Some(var >= t.min_sharpness),
        "照片模糊：请稳住相机、重新对焦，并请申请人保持不动",
        "Blurred: hold the camera steady, refocus, and ask the applicant to keep still",
    )
}

/// The allowed background colours (DOMAIN.md §1.1): white/light grey, or light blue.
fn nearest_allowed(mean: [f32; 3], t: &Thresholds) -> (f32, bool) {
    let grey_level = mean.iter().sum::<f32>() / 3.0;
    let grey = [grey_level.max(t.min_background_grey); 3];
    let blue = [100.0, 197.0, 255.0];
    let dist =
        |a: [f32; 3], b: [f32; 3]| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt();
    let (dg, db) = (dist(mean, grey), dist(mean, blue));
    (dg.min(db), dg <= db)
}

fn background_mean(img: &RgbImage, face: Rect) -> Option<([f32; 3], f32)> {
    let px = background_pixels(img, face);
    if px.len() < 16 {
        return None;
    }
    let n = px.len() as f32;
    let mut mean = [0f32; 3];
    for p in &px {
        for c in 0..3 {
            mean[c] += f32::from(p[c]) / n;
        }
    }
    let lm = px.iter().map(luma).sum::<f32>() / n;
    let std = (px.iter().map(|p| (luma(p) - lm).powi(2)).sum::<f32>() / n).sqrt();
    Some((mean, std))
}

fn colour_cast(img: &RgbImage, face: Option<Rect>, t: &Thresholds) -> CheckResult {
    let threshold = format!("background within {} of white/grey or light blue", t.max_colour_cast);
    let Some((mean, _)) = face.and_then(|f| background_mean(img, f)) else {
        return result("colour_cast", None, threshold, None, "", "");
    };
    // The background is known to be neutral or light blue: its hue against the nearest of
    // those is the camera's cast. Only its chroma counts here (brightness is the background
    // check's business).
    let grey_level = mean.iter().sum::<f32>() / 3.0;
    let chroma = mean.iter().map(|c| (c - grey_level).abs()).fold(0.0, f32::max);
    let blue_like = mean[2] > mean[0] + 60.0;
    let cast = if blue_like { nearest_allowed(mean, t).0 / 3.0 } else { chroma };
    result(
        "colour_cast",
        Some(cast),
        threshold,
        Some(cast <= t.max_colour_cast),
        "偏色：请关闭彩色灯光，使用白平衡自动或日光模式",
        "Colour cast: switch off coloured lights and set the white balance to auto or daylight",
    )
}

fn background(img: &RgbImage, face: Option<Rect>, t: &Thresholds) -> CheckResult {
    let threshold =
        format!("std ≤ {}, white/grey (each channel ≥ {}) or light blue", t.max_background_std, t.min_background_grey);
    let Some((mean, std)) = face.and_then(|f| background_mean(img, f)) else {
        return result("background", None, threshold, None, "", "");
    };
    let (dist, grey) = nearest_allowed(mean, t);
    let colour_ok = if grey { mean.iter().all(|&c| c >= t.min_background_grey) } else { dist <= 60.0 };
    let uniform = std <= t.max_background_std;
    let (zh, en) = if !uniform {
        (
            "背景不均匀：请拉平背景布，移开身后的物品和人",
            "Uneven background: smooth the backdrop and move objects and people out of view",
        )
    } else {
        (
            "背景颜色不符：请使用白色（或淡灰、淡蓝）背景布并补光",
            "Background colour: use a white (or light grey, light blue) backdrop and light it",
        )
    };
    result("background", Some(std), threshold, Some(uniform && colour_ok), zh, en)
}

fn face_lighting(img: &RgbImage, face: Option<Rect>, t: &Thresholds) -> CheckResult {
    let threshold = format!("left/right difference ≤ {:.0} %", t.max_lighting_imbalance * 100.0);
    let Some(f) = face else {
        return result("face_lighting", None, threshold, None, "", "");
    };
    let f = skin(f);
    let half = f.width / 2;
    let mean = |r: Rect| face_lumas(img, r).iter().sum::<f32>() / (r.width * r.height).max(1) as f32;
    let left = mean(Rect { width: half, ..f });
    let right = mean(Rect { x: f.x + half, width: f.width - half, ..f });
    let imbalance = (left - right).abs() / left.max(right).max(1.0);
    result(
        "face_lighting",
        Some(imbalance),
        threshold,
        Some(imbalance <= t.max_lighting_imbalance),
        "脸部一侧有阴影：请让光线从正面照射，或在暗侧用白纸反光",
        "One side of the face is in shadow: light from the front, or reflect light onto the dark side with white paper",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const FACE: Rect = Rect { x: 110, y: 90, width: 134, height: 170 };

    /// A head-and-shoulders card on a chosen background, with fine texture on the face.
    fn card(bg: [u8; 3], face_level: f32, left_shade: f32, texture: f32) -> RgbImage {
        RgbImage::from_fn(354, 472, |x, y| {
            let in_face = FACE.contains(x, y);
            let in_body = y > 300 && x > 60 && x < 294;
            if in_face {
                let t = ((x as f32 * 1.7).sin() * (y as f32 * 1.3).cos()) * texture;
                let shade = if x < FACE.x + FACE.width / 2 { 1.0 - left_shade } else { 1.0 };
                let v = ((face_level + t) * shade).clamp(0.0, 255.0);
                image::Rgb([v as u8, (v * 0.85) as u8, (v * 0.75) as u8])
            } else if in_body {
                image::Rgb([40, 40, 50])
            } else {
                image::Rgb(bg)
            }
        })
    }

    fn by_name<'a>(r: &'a [CheckResult], name: &str) -> &'a CheckResult {
        r.iter().find(|c| c.name == name).unwrap()
    }

    #[test]
    fn a_good_photo_passes_every_check() {
        let r = assess(&card([250, 250, 250], 170.0, 0.0, 60.0), Some(FACE), &Thresholds::default());
        for c in &r {
            assert_eq!(c.pass, Some(true), "{c:?}");
            assert_eq!(c.advice_zh, "合格");
        }
    }

    #[test]
    fn each_fault_fails_its_check_with_advice() {
        let t = Thresholds::default();
        let dark = assess(&card([250, 250, 250], 60.0, 0.0, 40.0), Some(FACE), &t);
        assert_eq!(by_name(&dark, "exposure").pass, Some(false));
        assert!(by_name(&dark, "exposure").advice_zh.contains("太暗"));
        let bright = assess(&card([250, 250, 250], 245.0, 0.0, 5.0), Some(FACE), &t);
        assert!(by_name(&bright, "exposure").advice_en.contains("too bright"));
        let blurred = assess(&card([250, 250, 250], 170.0, 0.0, 0.5), Some(FACE), &t);
        assert_eq!(by_name(&blurred, "sharpness").pass, Some(false));
        let shaded = assess(&card([250, 250, 250], 170.0, 0.4, 60.0), Some(FACE), &t);
        assert_eq!(by_name(&shaded, "face_lighting").pass, Some(false));
        let yellow = assess(&card([250, 235, 180], 170.0, 0.0, 60.0), Some(FACE), &t);
        assert_eq!(by_name(&yellow, "colour_cast").pass, Some(false));
        assert_eq!(by_name(&yellow, "background").pass, Some(false));
        let grey_dark = assess(&card([150, 150, 150], 170.0, 0.0, 60.0), Some(FACE), &t);
        assert_eq!(by_name(&grey_dark, "background").pass, Some(false));
        assert!(by_name(&grey_dark, "background").advice_zh.contains("颜色"));
        let blue = assess(&card([110, 195, 250], 170.0, 0.0, 60.0), Some(FACE), &t);
        assert_eq!(by_name(&blue, "background").pass, Some(true), "light blue is allowed");
        assert_eq!(by_name(&blue, "colour_cast").pass, Some(true));
        let mut cluttered = card([250, 250, 250], 170.0, 0.0, 60.0);
        for y in 20..80 {
            for x in 10..90 {
                cluttered.put_pixel(x, y, image::Rgb([30, 90, 40]));
            }
        }
        let r = assess(&cluttered, Some(FACE), &t);
        assert_eq!(by_name(&r, "background").pass, Some(false));
        assert!(by_name(&r, "background").advice_zh.contains("不均匀"));
    }

    #[test]
    fn without_a_face_the_checks_cannot_be_assessed() {
        let r = assess(&card([250, 250, 250], 170.0, 0.0, 60.0), None, &Thresholds::default());
        assert_eq!(r.len(), 5);
        assert!(r.iter().all(|c| c.pass.is_none() && c.value.is_none()));
    }
}
