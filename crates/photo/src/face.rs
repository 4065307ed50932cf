//! Finding the face and the eyes with trained models shipped in `assets/models`:
//! the SeetaFace frontal face detector (through `rustface`, single-threaded) and OpenCV's Haar
//! cascade for eyes, evaluated here as OpenCV does (image pyramid, variance-normalised stumps,
//! grouped detections).

use std::io::Cursor;

use image::GrayImage;
use image::imageops::FilterType;

use crate::Rect;

const FACE_MODEL: &[u8] = include_bytes!("../../../assets/models/seeta_fd_frontal_v1.0.bin");
const EYE_CASCADE: &str = include_str!("../../../assets/models/haarcascade_eye.xml");

/// A detected face.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Face {
    pub rect: Rect,
    pub score: f64,
}

/// The SeetaFace detector.
pub struct FaceDetector {
    inner: Box<dyn rustface::Detector>,
}

impl FaceDetector {
    pub fn new() -> Result<FaceDetector, ModelError> {
        let model = rustface::read_model(Cursor::new(FACE_MODEL)).map_err(|e| ModelError::FaceModel(e.to_string()))?;
        let mut inner = rustface::create_detector_with_model(model);
        inner.set_min_face_size(40);
        inner.set_score_thresh(2.0);
        inner.set_pyramid_scale_factor(0.8);
        inner.set_slide_window_step(4, 4);
        Ok(FaceDetector { inner })
    }

    /// Faces in a grey image, largest first. A picture far too bright or too dark is looked at
    /// again with its tones brought back towards the middle, so that the officer hears "too
    /// bright" rather than "no face".
    pub fn detect(&mut self, grey: &GrayImage) -> Vec<Face> {
        let faces = self.detect_as_is(grey);
        if !faces.is_empty() {
            return faces;
        }
        let mean = grey.pixels().map(|p| f32::from(p[0])).sum::<f32>() / grey.len().max(1) as f32 / 255.0;
        if !(0.25..=0.7).contains(&mean) {
            // The gamma that takes the mean to the middle grey.
            let gamma = (0.5f32.ln() / mean.clamp(0.01, 0.99).ln()).clamp(0.3, 4.0);
            let lut: Vec<u8> = (0..=255u32).map(|v| (255.0 * (v as f32 / 255.0).powf(gamma)) as u8).collect();
            let mut adjusted = grey.clone();
            adjusted.pixels_mut().for_each(|p| p[0] = lut[p[0] as usize]);
            return self.detect_as_is(&adjusted);
        }
        faces
    }

    fn detect_as_is(&mut self, grey: &GrayImage) -> Vec<Face> {
        if grey.width() < 40 || grey.height() < 40 {
            return Vec::new();
        }
        let data = rustface::ImageData::new(grey.as_raw(), grey.width(), grey.height());
        let mut faces: Vec<Face> = self
            .inner
            .detect(&data)
            .into_iter()
            .map(|f| {
                let b = f.bbox();
                let x = b.x().max(0) as u32;
                let y = b.y().max(0) as u32;
                Face {
                    rect: Rect {
                        x,
                        y,
                        width: b.width().min(grey.width().saturating_sub(x)),
                        height: b.height().min(grey.height().saturating_sub(y)),
                    },
                    score: f.score(),
                }
            })
            .collect();
        faces.sort_by_key(|f| std::cmp::Reverse(f.rect.width * f.rect.height));
        faces
    }
}

struct Stump {
    feature: usize,
    threshold: f32,
    left: f32,
    right: f32,
}

struct Stage {
    threshold: f32,
    stumps: Vec<Stump>,
}

/// A weighted rectangle of a Haar feature: x, y, width, height, weight.
type WeightedRect = (u32, u32, u32, u32, f32);

/// A Haar cascade in OpenCV's XML format (stumps, upright features).
pub struct Cascade {
    width: u32,
    height: u32,
    stages: Vec<Stage>,
    features: Vec<Vec<WeightedRect>>,
}

fn numbers(text: Option<&str>) -> Vec<f32> {
    text.unwrap_or_default().split_whitespace().filter_map(|t| t.parse().ok()).collect()
}

/// Why a model would not load: the shipped models always do (a test loads them), so this is
/// a damaged build.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("the face model does not load: {0}")]
    FaceModel(String),
    #[error("the eye cascade does not load: {0}")]
    Cascade(#[from] CascadeError),
}

/// Why an OpenCV cascade file was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CascadeError {
    #[error("not XML: {0}")]
    Xml(String),
    #[error("no <{0}>")]
    Missing(&'static str),
    #[error("only stump classifiers are supported")]
    NotStumps,
    #[error("tilted features are not supported")]
    Tilted,
    #[error("a rectangle needs x y w h weight")]
    BadRectangle,
    #[error("a classifier names a missing feature")]
    MissingFeature,
}

impl Cascade {
    pub fn parse(xml: &str) -> Result<Cascade, CascadeError> {
        let doc = roxmltree::Document::parse(xml).map_err(|e| CascadeError::Xml(e.to_string()))?;
        let cascade = doc.descendants().find(|n| n.has_tag_name("cascade")).ok_or(CascadeError::Missing("cascade"))?;
        let child = |name: &str| cascade.children().find(|n| n.has_tag_name(name));
        let dim = |name: &'static str| {
            child(name).and_then(|n| n.text()).and_then(|t| t.trim().parse().ok()).ok_or(CascadeError::Missing(name))
        };
        let (width, height) = (dim("width")?, dim("height")?);
        let mut stages = Vec::new();
        for stage in child("stages").ok_or(CascadeError::Missing("stages"))?.children().filter(|n| n.is_element()) {
            let threshold = numbers(stage.children().find(|n| n.has_tag_name("stageThreshold")).and_then(|n| n.text()));
            let mut stumps = Vec::new();
            let weak = stage
                .children()
                .find(|n| n.has_tag_name("weakClassifiers"))
                .ok_or(CascadeError::Missing("weakClassifiers"))?;
            for w in weak.children().filter(|n| n.is_element()) {
                let nodes = numbers(w.children().find(|n| n.has_tag_name("internalNodes")).and_then(|n| n.text()));
                let leaves = numbers(w.children().find(|n| n.has_tag_name("leafValues")).and_then(|n| n.text()));
                if nodes.len() != 4 || leaves.len() != 2 {
                    return Err(CascadeError::NotStumps);
                }
                stumps.push(Stump {
                    feature: nodes[2] as usize,
                    threshold: nodes[3],
                    left: leaves[0],
                    right: leaves[1],
                });
            }
            let threshold = *threshold.first().ok_or(CascadeError::Missing("stageThreshold"))?;
            stages.push(Stage { threshold, stumps });
        }
        let mut features = Vec::new();
        for f in child("features").ok_or(CascadeError::Missing("features"))?.children().filter(|n| n.is_element()) {
            if f.children().any(|n| n.has_tag_name("tilted") && n.text().is_some_and(|t| t.trim() == "1")) {
                return Err(CascadeError::Tilted);
            }
            let rects = f.children().find(|n| n.has_tag_name("rects")).ok_or(CascadeError::Missing("rects"))?;
            let mut rs = Vec::new();
            for r in rects.children().filter(|n| n.is_element()) {
                let v = numbers(r.text());
                if v.len() != 5 {
                    return Err(CascadeError::BadRectangle);
                }
                rs.push((v[0] as u32, v[1] as u32, v[2] as u32, v[3] as u32, v[4]));
            }
            features.push(rs);
        }
        if stages.iter().flat_map(|s| &s.stumps).any(|s| s.feature >= features.len()) {
            return Err(CascadeError::MissingFeature);
        }
        Ok(Cascade { width, height, stages, features })
    }

    /// The eye cascade shipped in `assets/models`.
    pub fn eyes() -> Result<Cascade, CascadeError> {
        Cascade::parse(EYE_CASCADE)
    }

    /// Windows the cascade accepts, in the coordinates of `img`, grouped (at least
    /// `min_neighbors` overlapping hits), with the number of hits in each group.
    pub fn detect(&self, img: &GrayImage, min_size: u32, max_size: u32, min_neighbors: usize) -> Vec<(Rect, usize)> {
        let mut hits = Vec::new();
        let mut scale = f32::max(1.0, min_size as f32 / self.width as f32);
        while (self.width as f32 * scale) as u32 <= max_size.min(img.width()).min(img.height()) {
            let (w, h) = ((img.width() as f32 / scale) as u32, (img.height() as f32 / scale) as u32);
            if w < self.width + 2 || h < self.height + 2 {
                break;
            }
            let small = image::imageops::resize(img, w, h, FilterType::Triangle);
            let ii = Integral::new(&small);
            let step = if scale > 2.0 { 1 } else { 2 };
            let mut y = 0;
            while y + self.height < h {
                let mut x = 0;
                while x + self.width < w {
                    if self.accepts(&ii, x, y) {
                        hits.push(Rect {
                            x: (x as f32 * scale) as u32,
                            y: (y as f32 * scale) as u32,
                            width: (self.width as f32 * scale) as u32,
                            height: (self.height as f32 * scale) as u32,
                        });
                    }
                    x += step;
                }
                y += step;
            }
            scale *= 1.1;
        }
        group(&hits, min_neighbors)
    }

    fn accepts(&self, ii: &Integral, x: u32, y: u32) -> bool {
        // Normalise by the window's standard deviation, over the window less a 1-pixel border.
        let (nx, ny, nw, nh) = (x + 1, y + 1, self.width - 2, self.height - 2);
        let area = f64::from(nw * nh);
        let sum = ii.sum(nx, ny, nw, nh);
        let sq = ii.sq_sum(nx, ny, nw, nh);
        let nf = area * sq - sum * sum;
        let factor = if nf > 0.0 { 1.0 / nf.sqrt() } else { 1.0 };
        for stage in &self.stages {
            let mut total = 0.0f32;
            for s in &stage.stumps {
                let value: f64 = self.features[s.feature]
                    .iter()
                    .map(|&(rx, ry, rw, rh, wt)| f64::from(wt) * ii.sum(x + rx, y + ry, rw, rh))
                    .sum();
                total += if ((value * factor) as f32) < s.threshold { s.left } else { s.right };
            }
            if total < stage.threshold {
                return false;
            }
        }
        true
    }
}

/// Summed-area tables of an image and of its squares.
struct Integral {
    w: usize,
    sum: Vec<f64>,
    sq: Vec<f64>,
}

impl Integral {
    fn new(img: &GrayImage) -> Integral {
        let (w, h) = (img.width() as usize + 1, img.height() as usize + 1);
        let mut sum = vec![0.0; w * h];
        let mut sq = vec![0.0; w * h];
        for y in 1..h {
            let (mut row, mut row_sq) = (0.0, 0.0);
            for x in 1..w {
                let v = f64::from(img.get_pixel(x as u32 - 1, y as u32 - 1)[0]);
                row += v;
                row_sq += v * v;
                sum[y * w + x] = sum[(y - 1) * w + x] + row;
                sq[y * w + x] = sq[(y - 1) * w + x] + row_sq;
            }
        }
        Integral { w, sum, sq }
    }

    fn rect(&self, t: &[f64], x: u32, y: u32, w: u32, h: u32) -> f64 {
        let (x0, y0, x1, y1) = (x as usize, y as usize, (x + w) as usize, (y + h) as usize);
        t[y1 * self.w + x1] - t[y0 * self.w + x1] - t[y1 * self.w + x0] + t[y0 * self.w + x0]
    }

    fn sum(&self, x: u32, y: u32, w: u32, h: u32) -> f64 {
        self.rect(&self.sum, x, y, w, h)
    }

    fn sq_sum(&self, x: u32, y: u32, w: u32, h: u32) -> f64 {
        self.rect(&self.sq, x, y, w, h)
    }
}

/// Groups overlapping detections (as OpenCV's groupRectangles with eps 0.2): keeps groups
/// of at least `min_neighbors`, averaged, with their size.
fn group(rects: &[Rect], min_neighbors: usize) -> Vec<(Rect, usize)> {
    let similar = |a: &Rect, b: &Rect| {
        let delta = 0.2 * 0.5 * (a.width.min(b.width) + a.height.min(b.height)) as f32;
        (a.x as f32 - b.x as f32).abs() <= delta
            && (a.y as f32 - b.y as f32).abs() <= delta
            && ((a.x + a.width) as f32 - (b.x + b.width) as f32).abs() <= delta
            && ((a.y + a.height) as f32 - (b.y + b.height) as f32).abs() <= delta
    };
    let mut label: Vec<usize> = (0..rects.len()).collect();
    fn find(l: &mut [usize], i: usize) -> usize {
        let mut r = i;
        while l[r] != r {
            r = l[r];
        }
        l[i] = r;
        r
    }
    for i in 0..rects.len() {
        for j in i + 1..rects.len() {
            if similar(&rects[i], &rects[j]) {
                let (a, b) = (find(&mut label, i), find(&mut label, j));
                label[a] = b;
            }
        }
    }
    let mut groups: std::collections::BTreeMap<usize, Vec<Rect>> = std::collections::BTreeMap::new();
    for (i, r) in rects.iter().enumerate() {
        let root = find(&mut label, i);
        groups.entry(root).or_default().push(*r);
    }
    let mut out: Vec<(Rect, usize)> = groups
        .into_values()
        .filter(|g| g.len() >= min_neighbors)
        .map(|g| {
            let n = g.len() as u32;
            let avg = |f: fn(&Rect) -> u32| g.iter().map(f).sum::<u32>() / n;
            (Rect { x: avg(|r| r.x), y: avg(|r| r.y), width: avg(|r| r.width), height: avg(|r| r.height) }, g.len())
        })
        .collect();
    out.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    out
}

/// A point in an image, in pixels.
pub type Point = (f32, f32);

/// The centres of the two eyes in a face, left then right in the image, found in the upper
/// half of the face box; `None` unless a plausible pair is found, one eye on each side.
pub fn find_eyes(grey: &GrayImage, face: Rect, cascade: &Cascade) -> Option<(Point, Point)> {
    let region = Rect { x: face.x, y: face.y + face.height / 8, width: face.width, height: face.height / 2 };
    let crop = image::imageops::crop_imm(grey, region.x, region.y, region.width, region.height).to_image();
    let eyes = cascade.detect(&crop, face.width / 8, face.width / 2, 2);
    let centre = |r: &Rect| {
        (region.x as f32 + r.x as f32 + r.width as f32 / 2.0, region.y as f32 + r.y as f32 + r.height as f32 / 2.0)
    };
    let mid = face.width as f32 / 2.0;
    let (lefts, rights): (Vec<_>, Vec<_>) = eyes.iter().partition(|(r, _)| (r.x as f32 + r.width as f32 / 2.0) < mid);
    // Glasses' rims and brows also look like eyes to the cascade: take the pair that is most
    // like a pair of eyes (about 0.41 of the face box apart, level, alike in size), and among
    // those the better supported.
    let fw = face.width as f32;
    let mut best: Option<(f32, Point, Point)> = None;
    for (lr, ls) in &lefts {
        for (rr, rs) in &rights {
            let (l, r) = (centre(lr), centre(rr));
            let d = ((r.0 - l.0).powi(2) + (r.1 - l.1).powi(2)).sqrt();
            let roll = (r.1 - l.1).atan2(r.0 - l.0).to_degrees();
            if !(0.25..=0.65).contains(&(d / fw)) || roll.abs() > 25.0 {
                continue;
            }
            let size = (lr.width.min(rr.width) as f32) / (lr.width.max(rr.width) as f32);
            let cost = 4.0 * (d / fw - 0.41).abs() + roll.abs() / 20.0 + (1.0 - size)
                - 0.1 * ((*ls * *rs) as f32).max(1.0).ln();
            if best.is_none_or(|b| cost < b.0) {
                best = Some((cost, l, r));
            }
        }
    }
    best.map(|(_, l, r)| (l, r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eye_cascade_loads() {
        let c = Cascade::eyes().unwrap();
        assert_eq!((c.width, c.height), (20, 20));
        assert!(c.stages.len() > 20);
        assert_eq!(Cascade::parse("<opencv_storage/>").err(), Some(CascadeError::Missing("cascade")));
        assert!(matches!(Cascade::parse("not xml"), Err(CascadeError::Xml(_))));
    }

    #[test]
    fn grouping_keeps_supported_clusters() {
        let r = |x| Rect { x, y: 10, width: 20, height: 20 };
        let groups = group(&[r(10), r(11), r(12), r(200)], 2);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].1, 3);
        assert_eq!(groups[0].0.x, 11);
    }

    #[test]
    fn a_blank_image_has_no_face_and_tiny_images_are_refused() {
        let mut d = FaceDetector::new().unwrap();
        assert!(d.detect(&GrayImage::from_pixel(320, 240, image::Luma([200]))).is_empty());
        assert!(d.detect(&GrayImage::new(10, 10)).is_empty());
    }
}
