//! Fingerprint image quality: contrast, foreground area and ridge clarity, each with the
//! reason an officer can act on. A simple, explainable measure in the spirit of NFIQ's
//! local features (the real NFIQ 2 is not available here); thresholds are configurable.

use crate::zfm::GreyImage;

const BLOCK: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QualityThresholds {
    /// Spread between the 5th and 95th percentile of grey levels, 0–255.
    pub min_contrast: f32,
    /// Share of blocks holding ridges, 0–1.
    pub min_area: f32,
    /// Mean ridge-orientation coherence in the foreground, 0–1.
    pub min_clarity: f32,
}

impl Default for QualityThresholds {
    fn default() -> Self {
        QualityThresholds { min_contrast: 80.0, min_area: 0.35, min_clarity: 0.45 }
    }
}

/// Why a capture is not good enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QualityReason {
    LowContrast,
    SmallArea,
    UnclearRidges,
}

impl QualityReason {
    pub fn advice_zh(self) -> &'static str {
        match self {
            QualityReason::LowContrast => "图像太淡：请手指稍用力按压，或擦净采集窗口",
            QualityReason::SmallArea => "指纹面积太小：请将手指平放并居中",
            QualityReason::UnclearRidges => "纹线不清：手指过干或磨损，可先哈气湿润后重试",
        }
    }

    pub fn advice_en(self) -> &'static str {
        match self {
            QualityReason::LowContrast => "Too faint: press a little harder, or wipe the sensor window",
            QualityReason::SmallArea => "Too small: place the finger flat and centred",
            QualityReason::UnclearRidges => "Unclear ridges: the finger is dry or worn; breathe on it and retry",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Quality {
    /// 0–100.
    pub score: u8,
    pub contrast: f32,
    pub area: f32,
    pub clarity: f32,
    pub reasons: Vec<QualityReason>,
}

impl Quality {
    pub fn acceptable(&self) -> bool {
        self.reasons.is_empty()
    }
}

/// Measures an 8-bit grey fingerprint image.
pub fn assess(img: &GreyImage, t: &QualityThresholds) -> Quality {
    let (w, h) = (img.width, img.height);
    // The size is checked without overflow: a width and height whose product wraps could
    // otherwise pass for the pixels' length.
    if w < BLOCK || h < BLOCK || w.checked_mul(h) != Some(img.pixels.len()) {
        return Quality { score: 0, contrast: 0.0, area: 0.0, clarity: 0.0, reasons: vec![QualityReason::SmallArea] };
    }
    let mut hist = [0u32; 256];
    for &p in &img.pixels {
        hist[usize::from(p)] += 1;
    }
    let percentile = |q: f32| -> f32 {
        let target = (img.pixels.len() as f32 * q) as u32;
        let mut acc = 0;
        for (v, &n) in hist.iter().enumerate() {
            acc += n;
            if acc > target {
                return v as f32;
            }
        }
        255.0
    };
    let contrast = percentile(0.95) - percentile(0.05);

    let px = |x: usize, y: usize| f32::from(img.pixels[y * w + x]);
    let (bw, bh) = (w / BLOCK, h / BLOCK);
    let mut foreground = 0usize;
    let mut coherence_sum = 0.0f32;
    for by in 0..bh {
        for bx in 0..bw {
            let (mut sum, mut sum2) = (0.0f32, 0.0f32);
            let (mut gxx, mut gyy, mut gxy) = (0.0f32, 0.0f32, 0.0f32);
            for y in by * BLOCK..(by + 1) * BLOCK {
                for x in bx * BLOCK..(bx + 1) * BLOCK {
                    let v = px(x, y);
                    sum += v;
                    sum2 += v * v;
                    if x > 0 && y > 0 && x + 1 < w && y + 1 < h {
                        let gx = px(x + 1, y) - px(x - 1, y);
                        let gy = px(x, y + 1) - px(x, y - 1);
                        gxx += gx * gx;
                        gyy += gy * gy;
                        gxy += gx * gy;
                    }
                }
            }
            let n = (BLOCK * BLOCK) as f32;
            let variance = sum2 / n - (sum / n).powi(2);
            // Ridges alternate dark and light: a block without variation is background.
            if variance > 300.0 {
                foreground += 1;
                let energy = gxx + gyy;
                if energy > 0.0 {
                    coherence_sum += ((gxx - gyy).powi(2) + 4.0 * gxy * gxy).sqrt() / energy;
                }
            }
        }
    }
    let area = foreground as f32 / (bw * bh) as f32;
    let clarity = if foreground > 0 { coherence_sum / foreground as f32 } else { 0.0 };
    let mut reasons = Vec::new();
    if contrast < t.min_contrast {
        reasons.push(QualityReason::LowContrast);
    }
    if area < t.min_area {
        reasons.push(QualityReason::SmallArea);
    }
    if clarity < t.min_clarity {
        reasons.push(QualityReason::UnclearRidges);
    }
    let part = |v: f32, min: f32| (v / min).min(1.5) / 1.5;
    let score = (100.0 * (part(contrast, t.min_contrast) + part(area, t.min_area) + part(clarity, t.min_clarity)) / 3.0)
        .round()
        .clamp(0.0, 100.0) as u8;
    Quality { score, contrast, area, clarity, reasons }
}

/// A synthetic fingerprint (a loop pattern), for the simulator and tests: a phase field of
/// concentric ridges around a core, masked by an ellipse, with the given contrast.
pub fn synthetic_fingerprint(width: usize, height: usize, seed: u32, contrast: f32, coverage: f32) -> GreyImage {
    let (cx, cy) = (width as f32 * 0.5, height as f32 * 0.45);
    let (rx, ry) = (width as f32 * 0.42 * coverage, height as f32 * 0.45 * coverage);
    let period = 8.0 + (seed % 3) as f32;
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    let mut noise = || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state % 1000) as f32 / 1000.0 - 0.5
    };
    let mut pixels = Vec::with_capacity(width * height);
    for y in 0..height {
        for x in 0..width {
            let (dx, dy) = (x as f32 - cx, (y as f32 - cy) * 1.2);
            let inside = (dx / rx).powi(2) + ((y as f32 - cy) / ry).powi(2) <= 1.0;
            let v = if inside {
                let r = (dx * dx + dy * dy).sqrt() + 6.0 * (dy.atan2(dx) * 2.0).sin();
                let ridge = (r * std::f32::consts::TAU / period).cos();
                200.0 - contrast * (0.5 + 0.5 * ridge) + 12.0 * noise()
            } else {
                235.0 + 8.0 * noise()
            };
            pixels.push(v.clamp(0.0, 255.0) as u8);
        }
    }
    GreyImage { width, height, pixels }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zfm::{IMAGE_HEIGHT, IMAGE_WIDTH};

    #[test]
    fn a_good_print_passes() {
        let img = synthetic_fingerprint(IMAGE_WIDTH, IMAGE_HEIGHT, 1, 170.0, 1.0);
        let q = assess(&img, &QualityThresholds::default());
        assert!(q.acceptable(), "{q:?}");
        assert!(q.score >= 60, "{q:?}");
    }

    #[test]
    fn faint_small_and_blank_prints_say_why() {
        let t = QualityThresholds::default();
        let faint = assess(&synthetic_fingerprint(IMAGE_WIDTH, IMAGE_HEIGHT, 2, 40.0, 1.0), &t);
        assert!(faint.reasons.contains(&QualityReason::LowContrast), "{faint:?}");
        let small = assess(&synthetic_fingerprint(IMAGE_WIDTH, IMAGE_HEIGHT, 3, 170.0, 0.35), &t);
        assert!(small.reasons.contains(&QualityReason::SmallArea), "{small:?}");
        let blank =
            GreyImage { width: IMAGE_WIDTH, height: IMAGE_HEIGHT, pixels: vec![230; IMAGE_WIDTH * IMAGE_HEIGHT] };
        let q = assess(&blank, &t);
        assert_eq!(q.reasons, [QualityReason::LowContrast, QualityReason::SmallArea, QualityReason::UnclearRidges]);
        assert!(q.score < 20);
        // Noise has contrast and "area" but no coherent ridges.
        let mut state = 7u32;
        let noise = GreyImage {
            width: IMAGE_WIDTH,
            height: IMAGE_HEIGHT,
            pixels: (0..IMAGE_WIDTH * IMAGE_HEIGHT)
                .map(|_| {
                    state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (state >> 24) as u8
                })
                .collect(),
        };
        assert!(assess(&noise, &t).reasons.contains(&QualityReason::UnclearRidges));
    }

    #[test]
    fn an_image_whose_size_does_not_add_up_is_refused_not_a_panic() {
        let t = QualityThresholds::default();
        for (width, height, len) in [(usize::MAX, 2, 0), (usize::MAX / 16 + 1, 16, 0), (16, 16, 255), (8, 300, 2400)] {
            let q = assess(&GreyImage { width, height, pixels: vec![200; len] }, &t);
            assert_eq!((q.score, q.reasons), (0, vec![QualityReason::SmallArea]), "{width}×{height}");
        }
    }
}
