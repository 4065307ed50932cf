//! The face mesh: MediaPipe's face landmark model (468 points with relative depth, Apache-2.0,
//! from the `mediapipe` 0.10.14 wheel on PyPI; see `assets/models/README.md`), run on the CPU
//! through `tract`. From a face box it samples a square, upright-or-levelled 192×192 crop,
//! runs the model, and maps the points back into the image. [`Landmarks`] derives the
//! measures the standard asks for from them: eye centres, cheeks, chin, forehead, nose, lids,
//! lips, and the head's roll, yaw and pitch.

use image::RgbImage;
use tract_onnx::prelude::*;

use crate::Rect;

const MODEL: &[u8] = include_bytes!("../../../assets/models/face_landmark.onnx");
const SIDE: usize = 192;
/// The mesh's pitch on a level face: its forehead sits behind its chin. The mean of the
/// frontal portraits of the labelled set (−10.8° to +0.9°).
const LEVEL_PITCH: f32 = -5.0;
/// Points in the mesh.
pub const POINTS: usize = 468;

/// MediaPipe mesh indices (the subject's right is the image's left).
pub mod index {
    pub const FOREHEAD_TOP: usize = 10;
    pub const CHIN: usize = 152;
    pub const NOSE_TIP: usize = 1;
    pub const CHEEK_RIGHT: usize = 234;
    pub const CHEEK_LEFT: usize = 454;
    /// Right eye: outer and inner corner, then upper and lower lid pairs (middle, inner, outer).
    pub const EYE_RIGHT: [usize; 8] = [33, 133, 159, 145, 158, 153, 160, 144];
    pub const EYE_LEFT: [usize; 8] = [263, 362, 386, 374, 385, 380, 387, 373];
    /// The eye's outline, in order round it.
    pub const EYE_RIGHT_RING: [usize; 16] =
        [33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7];
    pub const EYE_LEFT_RING: [usize; 16] =
        [263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249];
    /// Top of each eyebrow.
    pub const BROW_RIGHT: usize = 105;
    pub const BROW_LEFT: usize = 334;
    pub const MOUTH_RIGHT: usize = 61;
    pub const MOUTH_LEFT: usize = 291;
    /// Inner lips, upper then lower, and the inner outline in order round it.
    pub const LIP_UPPER_INNER: usize = 13;
    pub const LIP_LOWER_INNER: usize = 14;
    pub const INNER_LIPS: [usize; 20] =
        [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95];
    /// Skin patches: under each eye on the cheek, and the middle of the forehead.
    pub const CHEEK_PATCH_RIGHT: usize = 205;
    pub const CHEEK_PATCH_LEFT: usize = 425;
    pub const FOREHEAD_MID: usize = 151;
}

/// A point in image pixels, with the model's relative depth (same scale, negative towards the
/// camera).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point3 {
    pub x: f32,
    pub y: f32,
    pub z: f32,
}

/// The 468 points of one face, in image coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct Mesh {
    pub points: Vec<Point3>,
    /// The model's own confidence that the crop held a face (0–1).
    pub presence: f32,
}

/// Why the model would not load: the shipped model always does (a test loads it), so this is
/// a damaged build.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a landmark model does not load: {0}")]
pub struct MeshModelError(String);

pub(crate) type Plan = std::sync::Arc<TypedRunnableModel>;

/// The landmark model, loaded and optimised once (about 50 ms).
pub struct MeshModel {
    plan: Plan,
}

/// A square region to sample: centre, side, and rotation (radians, the angle of the eye line).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Roi {
    pub cx: f32,
    pub cy: f32,
    pub side: f32,
    pub angle: f32,
}

impl Roi {
    /// From a face detector's box: square, 1.6 times the box, centred a little below its middle
    /// (the detector's box starts at the brows; the model wants forehead to chin with room).
    pub fn from_box(face: Rect) -> Roi {
        let side = face.width.max(face.height) as f32 * 1.6;
        Roi {
            cx: face.x as f32 + face.width as f32 / 2.0,
            cy: face.y as f32 + face.height as f32 * 0.45,
            side,
            angle: 0.0,
        }
    }

    /// From an earlier mesh, as MediaPipe tracks: the points' bounding box made square and 1.5
    /// times larger, turned so that the eye line is level.
    pub fn from_mesh(mesh: &Mesh) -> Roi {
        let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
        for p in &mesh.points {
            x0 = x0.min(p.x);
            y0 = y0.min(p.y);
            x1 = x1.max(p.x);
            y1 = y1.max(p.y);
        }
        let r = mesh.points[index::EYE_RIGHT[0]];
        let l = mesh.points[index::EYE_LEFT[0]];
        Roi {
            cx: (x0 + x1) / 2.0,
            cy: (y0 + y1) / 2.0,
            side: (x1 - x0).max(y1 - y0) * 1.5,
            angle: (l.y - r.y).atan2(l.x - r.x),
        }
    }

    /// Image coordinates of a point of the 192×192 crop.
    fn to_image(self, u: f32, v: f32) -> (f32, f32) {
        self.to_image_from(u, v, SIDE)
    }

    /// Image coordinates of a point of a `side`×`side` crop.
    pub(crate) fn to_image_from(self, u: f32, v: f32, side: usize) -> (f32, f32) {
        let k = self.side / side as f32;
        let (dx, dy) = ((u - side as f32 / 2.0) * k, (v - side as f32 / 2.0) * k);
        let (s, c) = self.angle.sin_cos();
        (self.cx + dx * c - dy * s, self.cy + dx * s + dy * c)
    }
}

/// Loads an ONNX model shipped in the binary, for a `side`×`side` RGB input, optimised.
pub(crate) fn load(bytes: &[u8], side: usize) -> Result<Plan, MeshModelError> {
    let err = |e: TractError| MeshModelError(e.to_string());
    tract_onnx::onnx()
        .model_for_read(&mut std::io::Cursor::new(bytes))
        .map_err(err)?
        .with_input_fact(0, f32::fact([1, 3, side, side]).into())
        .map_err(err)?
        .into_optimized()
        .map_err(err)?
        .into_runnable()
        .map_err(err)
}

impl MeshModel {
    pub fn new() -> Result<MeshModel, MeshModelError> {
        Ok(MeshModel { plan: load(MODEL, SIDE)? })
    }

    /// The mesh of the face in `roi`, or `None` when the model sees no face there (presence
    /// below one half) or cannot run.
    pub fn run(&self, img: &RgbImage, roi: Roi) -> Option<Mesh> {
        if roi.side < 8.0 || img.width() < 2 || img.height() < 2 {
            return None;
        }
        let input = sample(img, roi, SIDE, false);
        let out = self.plan.run(tvec!(input.into_tensor().into())).ok()?;
        let raw: Vec<f32> = out.first()?.to_plain_array_view::<f32>().ok()?.iter().copied().collect();
        let logit = *out.get(1)?.to_plain_array_view::<f32>().ok()?.iter().next()?;
        let presence = 1.0 / (1.0 + (-logit).exp());
        if raw.len() < POINTS * 3 || presence < 0.5 {
            return None;
        }
        let k = roi.side / SIDE as f32;
        let points = raw
            .chunks_exact(3)
            .take(POINTS)
            .map(|c| {
                let (x, y) = roi.to_image(c[0], c[1]);
                Point3 { x, y, z: c[2] * k }
            })
            .collect();
        Some(Mesh { points, presence })
    }

    /// The mesh from a detector's box, refined once from its own points (levelled crop).
    pub fn run_refined(&self, img: &RgbImage, face: Rect) -> Option<Mesh> {
        let first = self.run(img, Roi::from_box(face))?;
        Some(self.run(img, Roi::from_mesh(&first)).unwrap_or(first))
    }
}

/// A model's input: the ROI sampled bilinearly at `side`×`side` (black outside the image),
/// mirrored left to right when `flip`, RGB in [0, 1], channels first.
pub(crate) fn sample(img: &RgbImage, roi: Roi, side: usize, flip: bool) -> tract_ndarray::Array4<f32> {
    let mut a = tract_ndarray::Array4::<f32>::zeros((1, 3, side, side));
    let (w, h) = (img.width() as i64, img.height() as i64);
    let raw = img.as_raw();
    let at = |x: i64, y: i64, c: usize| -> f32 {
        if x < 0 || y < 0 || x >= w || y >= h { 0.0 } else { f32::from(raw[((y * w + x) * 3) as usize + c]) }
    };
    for v in 0..side {
        for u in 0..side {
            let su = if flip { side - 1 - u } else { u };
            let (x, y) = roi.to_image_from(su as f32 + 0.5, v as f32 + 0.5, side);
            let (x, y) = (x - 0.5, y - 0.5);
            let (x0, y0) = (x.floor(), y.floor());
            let (fx, fy) = (x - x0, y - y0);
            let (xi, yi) = (x0 as i64, y0 as i64);
            for c in 0..3 {
                let top = at(xi, yi, c) * (1.0 - fx) + at(xi + 1, yi, c) * fx;
                let bottom = at(xi, yi + 1, c) * (1.0 - fx) + at(xi + 1, yi + 1, c) * fx;
                a[[0, c, v, u]] = (top * (1.0 - fy) + bottom * fy) / 255.0;
            }
        }
    }
    a
}

/// The measures the photo checks need, derived from a mesh.
#[derive(Debug, Clone, PartialEq)]
pub struct Landmarks {
    pub mesh: Mesh,
}

fn dist(a: Point3, b: Point3) -> f32 {
    ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt()
}

fn mean(points: &[Point3], idx: &[usize]) -> Point3 {
    let n = idx.len() as f32;
    let (mut x, mut y, mut z) = (0.0, 0.0, 0.0);
    for &i in idx {
        x += points[i].x;
        y += points[i].y;
        z += points[i].z;
    }
    Point3 { x: x / n, y: y / n, z: z / n }
}

impl Landmarks {
    pub fn new(mesh: Mesh) -> Landmarks {
        Landmarks { mesh }
    }

    pub fn p(&self, i: usize) -> Point3 {
        self.mesh.points[i]
    }

    /// Eye centres, (image left, image right): the mean of each eye's outline.
    pub fn eyes(&self) -> ((f32, f32), (f32, f32)) {
        let r = mean(&self.mesh.points, &index::EYE_RIGHT_RING);
        let l = mean(&self.mesh.points, &index::EYE_LEFT_RING);
        ((r.x, r.y), (l.x, l.y))
    }

    pub fn eye_distance(&self) -> f32 {
        let (a, b) = self.eyes();
        ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt()
    }

    /// Cheek to cheek (the face's width at the cheekbones, the face oval's widest points).
    pub fn face_width(&self) -> f32 {
        dist(self.p(index::CHEEK_RIGHT), self.p(index::CHEEK_LEFT))
    }

    /// The eye line's tilt, degrees (positive: the image-right eye is lower).
    pub fn roll(&self) -> f32 {
        let (a, b) = self.eyes();
        (b.1 - a.1).atan2(b.0 - a.0).to_degrees()
    }

    /// The unit vector "up the face" (from chin towards the forehead), in image coordinates.
    pub fn up(&self) -> (f32, f32) {
        let (c, t) = (self.p(index::CHIN), self.p(index::FOREHEAD_TOP));
        let (dx, dy) = (t.x - c.x, t.y - c.y);
        let n = (dx * dx + dy * dy).sqrt().max(1e-3);
        (dx / n, dy / n)
    }

    /// Left–right turn, degrees: from the depth of the two cheeks (positive: the face turns to
    /// the image's right).
    pub fn yaw(&self) -> f32 {
        let (r, l) = (self.p(index::CHEEK_RIGHT), self.p(index::CHEEK_LEFT));
        let across = ((l.x - r.x).powi(2) + (l.y - r.y).powi(2)).sqrt();
        (l.z - r.z).atan2(across).to_degrees()
    }

    /// Nod, degrees: from the depth of the forehead against the chin (positive: the chin is
    /// raised), less the mesh's own lean on a level face.
    pub fn pitch(&self) -> f32 {
        let (t, c) = (self.p(index::FOREHEAD_TOP), self.p(index::CHIN));
        let along = dist(t, c);
        (t.z - c.z).atan2(along).to_degrees() - LEVEL_PITCH
    }

    /// Lid opening over eye width, per eye (image left, image right): the mean of three lid pairs.
    pub fn eye_openness(&self) -> (f32, f32) {
        let one = |e: [usize; 8]| {
            let p = |i: usize| self.p(e[i]);
            let width = dist(p(0), p(1)).max(1e-3);
            (dist(p(2), p(3)) + dist(p(4), p(5)) + dist(p(6), p(7))) / 3.0 / width
        };
        (one(index::EYE_RIGHT), one(index::EYE_LEFT))
    }

    /// The gap between the inner lips over the mouth's width.
    pub fn mouth_gap(&self) -> f32 {
        dist(self.p(index::LIP_UPPER_INNER), self.p(index::LIP_LOWER_INNER))
            / dist(self.p(index::MOUTH_RIGHT), self.p(index::MOUTH_LEFT)).max(1e-3)
    }

    /// The polygon of points `ring`, in image coordinates.
    pub fn polygon(&self, ring: &[usize]) -> Vec<(f32, f32)> {
        ring.iter().map(|&i| (self.p(i).x, self.p(i).y)).collect()
    }
}

/// Whether (x, y) lies inside the polygon (even–odd rule).
pub fn inside(poly: &[(f32, f32)], x: f32, y: f32) -> bool {
    let mut odd = false;
    let mut j = poly.len().wrapping_sub(1);
    for i in 0..poly.len() {
        let (xi, yi) = poly[i];
        let (xj, yj) = poly[j];
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            odd = !odd;
        }
        j = i;
    }
    odd
}

/// The bounding box of a polygon, clipped to `w`×`h`.
pub fn bounds(poly: &[(f32, f32)], w: u32, h: u32) -> Rect {
    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for &(x, y) in poly {
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    let x = x0.floor().clamp(0.0, w as f32) as u32;
    let y = y0.floor().clamp(0.0, h as f32) as u32;
    let xe = x1.ceil().clamp(0.0, w as f32) as u32;
    let ye = y1.ceil().clamp(0.0, h as f32) as u32;
    Rect { x, y, width: xe.saturating_sub(x), height: ye.saturating_sub(y) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_and_bounds_of_a_polygon() {
        let square = [(10.0, 10.0), (20.0, 10.0), (20.0, 20.0), (10.0, 20.0)];
        // (x, y, inside)
        for (x, y, want) in [(15.0, 15.0, true), (5.0, 15.0, false), (15.0, 25.0, false), (19.9, 10.1, true)] {
            assert_eq!(inside(&square, x, y), want, "({x}, {y})");
        }
        assert_eq!(bounds(&square, 100, 100), Rect { x: 10, y: 10, width: 10, height: 10 });
        assert_eq!(bounds(&square, 15, 15), Rect { x: 10, y: 10, width: 5, height: 5 }, "clipped to the image");
    }

    #[test]
    fn a_roi_maps_its_crop_back_into_the_image_turned() {
        let roi = Roi { cx: 100.0, cy: 50.0, side: 96.0, angle: std::f32::consts::FRAC_PI_2 };
        // The crop's centre is the ROI's centre; its right edge, turned a quarter, is below it.
        let (x, y) = roi.to_image(96.0, 96.0);
        assert!((x - 100.0).abs() < 1e-3 && (y - 50.0).abs() < 1e-3);
        let (x, y) = roi.to_image(192.0, 96.0);
        assert!((x - 100.0).abs() < 1e-3 && (y - 98.0).abs() < 1e-3, "({x}, {y})");
    }
}
