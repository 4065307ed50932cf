//! The eyes, closer: MediaPipe's iris landmark model (71 points of the eye's contour and
//! brow, 5 of the iris; Apache-2.0, from the same `mediapipe` 0.10.14 wheel as the face mesh;
//! see `assets/models/README.md`), run through `tract` on a 64×64 crop round each eye that the
//! face mesh places. Its lids follow a closing eye where the mesh's coarse lids do not, and
//! where it puts the iris, an open eye is dark and a closed lid is skin. Used on the final
//! check (about 6 ms an eye), not on every preview frame.

use image::RgbImage;
use tract_onnx::prelude::*;

use crate::mesh::{Landmarks, MeshModelError, Plan, Roi, index, load, sample};

const MODEL: &[u8] = include_bytes!("../../../assets/models/iris_landmark.onnx");
const SIDE: usize = 64;

/// The eye's contour points (of the 71): the corners, and the lower and upper lids' middles.
const CORNER_OUTER: usize = 0;
const CORNER_INNER: usize = 8;
/// Lower lid points 3, 4, 5 face upper lid points 11, 12, 13.
const LIDS: [(usize, usize); 3] = [(11, 3), (12, 4), (13, 5)];

/// What the eye model sees of one eye.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Eye {
    /// The lids' opening over the eye's width.
    pub open: f32,
    /// How much darker the iris is than the cheeks' skin (1 − iris luma / skin luma): an open
    /// eye shows its iris, a closed lid is skin where the iris would be. Below zero the iris is
    /// brighter than the skin: a reflection, not a lid.
    pub iris: f32,
}

pub struct IrisModel {
    plan: Plan,
}

impl IrisModel {
    pub fn new() -> Result<IrisModel, MeshModelError> {
        Ok(IrisModel { plan: load(MODEL, SIDE)? })
    }

    /// Each eye (image left, image right), from the eye model; `None` when it cannot run.
    pub fn openness(&self, img: &RgbImage, lm: &Landmarks) -> Option<(Eye, Eye)> {
        let side = lm.face_width() * 0.12;
        let skin = (crate::checks::patch_luma(img, lm, index::CHEEK_PATCH_RIGHT, side)
            + crate::checks::patch_luma(img, lm, index::CHEEK_PATCH_LEFT, side))
            / 2.0;
        let right = self.one(img, lm, index::EYE_RIGHT[0], index::EYE_RIGHT[1], false, skin)?;
        let left = self.one(img, lm, index::EYE_LEFT[1], index::EYE_LEFT[0], true, skin)?;
        Some((right, left))
    }

    /// One eye, between its image-left corner `a` and image-right corner `b`; the image-right
    /// eye is mirrored, as the model was trained on the image-left one.
    fn one(&self, img: &RgbImage, lm: &Landmarks, a: usize, b: usize, flip: bool, skin: f32) -> Option<Eye> {
        let (pa, pb) = (lm.p(a), lm.p(b));
        let width = ((pb.x - pa.x).powi(2) + (pb.y - pa.y).powi(2)).sqrt();
        if width < 4.0 {
            return None;
        }
        let roi = Roi {
            cx: (pa.x + pb.x) / 2.0,
            cy: (pa.y + pb.y) / 2.0,
            side: width * 2.3,
            angle: (pb.y - pa.y).atan2(pb.x - pa.x),
        };
        let input = sample(img, roi, SIDE, flip);
        let out = self.plan.run(tvec!(input.clone().into_tensor().into())).ok()?;
        let raw: Vec<f32> = out.first()?.to_plain_array_view::<f32>().ok()?.iter().copied().collect();
        if raw.len() < 71 * 3 {
            return None;
        }
        // In the crop's pixels; the mirror does not change distances.
        let p = |i: usize| (raw[3 * i], raw[3 * i + 1]);
        let d = |i: usize, j: usize| ((p(i).0 - p(j).0).powi(2) + (p(i).1 - p(j).1).powi(2)).sqrt();
        let across = d(CORNER_OUTER, CORNER_INNER).max(1e-3);
        let open = LIDS.iter().map(|&(u, l)| d(u, l)).sum::<f32>() / LIDS.len() as f32 / across;
        let iris: Vec<f32> = out.get(1)?.to_plain_array_view::<f32>().ok()?.iter().copied().collect();
        if iris.len() < 5 * 3 {
            return None;
        }
        // The iris: a disk round its centre, within 0.7 of its radius (clear of the lids).
        let centre = (iris[0], iris[1]);
        let radius = (1..5)
            .map(|i| ((iris[3 * i] - centre.0).powi(2) + (iris[3 * i + 1] - centre.1).powi(2)).sqrt())
            .sum::<f32>()
            / 4.0;
        let luma = |x: f32, y: f32| {
            let (u, v) = (x.clamp(0.0, SIDE as f32 - 1.0) as usize, y.clamp(0.0, SIDE as f32 - 1.0) as usize);
            0.299 * input[[0, 0, v, u]] + 0.587 * input[[0, 1, v, u]] + 0.114 * input[[0, 2, v, u]]
        };
        let mut disk = Vec::new();
        // Bounded: the crop is SIDE pixels across, whatever the model says.
        let r = (0.7 * radius).clamp(1.0, SIDE as f32 / 4.0);
        for dy in -(r as i32)..=(r as i32) {
            for dx in -(r as i32)..=(r as i32) {
                if (dx * dx + dy * dy) as f32 <= r * r {
                    disk.push(luma(centre.0 + dx as f32, centre.1 + dy as f32));
                }
            }
        }
        let disk = 255.0 * disk.iter().sum::<f32>() / disk.len().max(1) as f32;
        // Against the cheeks' skin, in the picture (clear of spectacle rims and of the crop's
        // edge, which is black where the eye is near the picture's).
        let visible = 1.0 - disk / skin.max(1.0);
        Some(Eye { open, iris: visible })
    }
}
