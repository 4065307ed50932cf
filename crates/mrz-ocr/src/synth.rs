//! Synthetic document frames, for the tests and the demo's replay camera: rows of OCR-B text on
//! a light card under a camera's imperfections (tilt, blur, uneven light, sensor noise). No real
//! document, no real person.

use image::GrayImage;

/// The one-line machine-readable zone of a 往来港澳通行证 (DOMAIN.md §4.4): `CS`, the number
/// (9) and its check digit, `<`, the expiry (YYMMDD) and its, `<`, the birth date and its, `<`,
/// and the composite check digit over the three fields; the check digits by core.
pub fn permit_line(number: &str, expiry: &str, birth: &str) -> String {
    let cd = |s: &str| doorstep_core::mrz::check_digit(s).unwrap_or('<');
    let (a, b, c) =
        (format!("{number}{}", cd(number)), format!("{expiry}{}", cd(expiry)), format!("{birth}{}", cd(birth)));
    let composite = cd(&format!("{a}{b}{c}"));
    format!("CS{a}<{b}<{c}<{composite}")
}

/// How the camera sees the card.
#[derive(Debug, Clone, Copy)]
pub struct Camera {
    /// The frame's size.
    pub width: u32,
    pub height: u32,
    /// A capital's height in the frame, in pixels.
    pub char_height: f32,
    /// The card's tilt, in degrees.
    pub tilt_degrees: f32,
    /// Box blur radius, in pixels (0: sharp).
    pub blur: u32,
    /// Sensor noise, ± grey levels.
    pub noise: u8,
    /// Light falling off from left to right, in grey levels.
    pub shade: u8,
    pub seed: u32,
}

impl Default for Camera {
    fn default() -> Camera {
        Camera { width: 1280, height: 720, char_height: 22.0, tilt_degrees: 0.0, blur: 0, noise: 0, shade: 0, seed: 1 }
    }
}

/// `rows` of text in `font` (OCR-B for an MRZ), each row starting at `left` (a share of the
/// frame's width) and the rows' tops at `tops` (shares of its height), on a light card, as
/// `camera` sees it.
pub fn frame(font: &[u8], rows: &[(&str, f32, f32)], camera: &Camera) -> Result<GrayImage, ab_glyph::InvalidFont> {
    use ab_glyph::{Font as _, FontRef, PxScale, ScaleFont as _, point};
    let font = FontRef::try_from_slice(font)?;
    let (w, h) = (camera.width as usize, camera.height as usize);
    // Ink coverage, drawn upright, then turned by the tilt about the frame's centre.
    let mut cover = vec![0f32; w * h];
    let cap = font
        .outline_glyph(font.glyph_id('H').with_scale(PxScale::from(100.0)))
        .map_or(70.0, |g| g.px_bounds().height());
    let scale = PxScale::from(100.0 * camera.char_height / cap.max(1.0));
    let scaled = font.as_scaled(scale);
    for (text, left, top) in rows {
        let mut x = left * w as f32;
        let baseline = top * h as f32 + camera.char_height;
        for ch in text.chars() {
            let id = font.glyph_id(ch);
            let glyph = id.with_scale_and_position(scale, point(x, baseline));
            if let Some(o) = font.outline_glyph(glyph) {
                let b = o.px_bounds();
                o.draw(|gx, gy, c| {
                    let (px, py) = (b.min.x as i64 + gx as i64, b.min.y as i64 + gy as i64);
                    if px >= 0 && py >= 0 && (px as usize) < w && (py as usize) < h {
                        let i = py as usize * w + px as usize;
                        cover[i] = cover[i].max(c);
                    }
                });
            }
            x += scaled.h_advance(id);
        }
    }
    let (sin, cos) = camera.tilt_degrees.to_radians().sin_cos();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let mut state = camera.seed.wrapping_mul(2_654_435_761).max(1);
    let mut noise = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state % 1000) as f32 / 1000.0 - 0.5
    };
    let mut grey = vec![0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            // Where this pixel of the frame was on the upright card (nearest sample).
            let (dx, dy) = (x as f32 - cx, y as f32 - cy);
            let (sx, sy) = (cx + dx * cos + dy * sin, cy - dx * sin + dy * cos);
            let c = if sx >= 0.0 && sy >= 0.0 && (sx as usize) < w && (sy as usize) < h {
                cover[sy as usize * w + sx as usize]
            } else {
                0.0
            };
            let paper = 225.0 - f32::from(camera.shade) * x as f32 / w as f32;
            grey[y * w + x] = paper - c * (paper - 35.0);
        }
    }
    let blurred = box_blur(&grey, w, h, camera.blur as usize);
    let pixels =
        blurred.iter().map(|g| (g + noise() * 2.0 * f32::from(camera.noise)).clamp(0.0, 255.0) as u8).collect();
    Ok(GrayImage::from_raw(camera.width, camera.height, pixels).expect("the frame's own size"))
}

fn box_blur(src: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    if r == 0 {
        return src.to_vec();
    }
    let pass = |src: &[f32], horizontal: bool| -> Vec<f32> {
        let mut out = vec![0f32; src.len()];
        for y in 0..h {
            for x in 0..w {
                let (mut sum, mut n) = (0f32, 0f32);
                for k in 0..=2 * r {
                    let (sx, sy) =
                        if horizontal { ((x + k).checked_sub(r), Some(y)) } else { (Some(x), (y + k).checked_sub(r)) };
                    if let (Some(sx), Some(sy)) = (sx, sy)
                        && sx < w
                        && sy < h
                    {
                        sum += src[sy * w + sx];
                        n += 1.0;
                    }
                }
                out[y * w + x] = sum / n.max(1.0);
            }
        }
        out
    };
    pass(&pass(src, true), false)
}
