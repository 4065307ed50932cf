//! The eyes, closer: MediaPipe's iris landmark model (71 points of the eye's contour and
//! brow, 5 of the iris; Apache-2.0, from the same `mediapipe` 0.10.14 wheel as the face mesh;
//! see `assets/models/README.md`), run through `tract` on a 64×64 crop round each eye that the
//! face mesh places. Its lids follow a closing eye where the mesh's coarse lids do not. Used on
//! the final check (about 6 ms an eye), not on every preview frame.

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

pub struct IrisModel {
    plan: Plan,
}

impl IrisModel {
    pub fn new() -> Result<IrisModel, MeshModelError> {
        Ok(IrisModel { plan: load(MODEL, SIDE)? })
    }

    /// Lid opening over eye width for each eye (image left, image right), from the eye model;
    /// `None` when it cannot run.
    pub fn openness(&self, img: &RgbImage, lm: &Landmarks) -> Option<(f32, f32)> {
        let right = self.one(img, lm, index::EYE_RIGHT[0], index::EYE_RIGHT[1], false)?;
        let left = self.one(img, lm, index::EYE_LEFT[1], index::EYE_LEFT[0], true)?;
        Some((right, left))
    }

    /// One eye, between its image-left corner `a` and image-right corner `b`; the image-right
    /// eye is mirrored, as the model was trained on the image-left one.
    fn one(&self, img: &RgbImage, lm: &Landmarks, a: usize, b: usize, flip: bool) -> Option<f32> {
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
        let out = self.plan.run(tvec!(input.into_tensor().into())).ok()?;
        let raw: Vec<f32> = out.first()?.to_plain_array_view::<f32>().ok()?.iter().copied().collect();
        if raw.len() < 71 * 3 {
            return None;
        }
        // In the crop's pixels; the mirror does not change distances.
        let p = |i: usize| (raw[3 * i], raw[3 * i + 1]);
        let d = |i: usize, j: usize| ((p(i).0 - p(j).0).powi(2) + (p(i).1 - p(j).1).powi(2)).sqrt();
        let across = d(CORNER_OUTER, CORNER_INNER).max(1e-3);
        Some(LIDS.iter().map(|&(u, l)| d(u, l)).sum::<f32>() / LIDS.len() as f32 / across)
    }
}
