//! The whole assessment of a photo against a document profile: the face, its mesh, the
//! standard's measures on it; and the crop to the standard.

use image::RgbImage;

use crate::Rect;
use crate::checks::{self, CheckResult, NO_BACKDROP, NO_FACE, NO_LANDMARKS, Threshold, at_most};
use crate::encode::{self, EncodeError};
use crate::face::FaceDetector;
use crate::features;
use crate::geometry;
use crate::iris::IrisModel;
use crate::mesh::{Landmarks, Mesh, MeshModel, Roi};
pub use crate::profile::Profile;

/// The width the live path works at.
pub const LIVE_WIDTH: u32 = 400;

/// The checks an assessment reports, by name, in its order.
pub const CHECKS: [&str; 18] = [
    "single_face",
    "resolution",
    "face_width",
    "eye_distance",
    "head_in_frame",
    "eye_line",
    "centred",
    "roll",
    "yaw",
    "pitch",
    "eyes_open",
    "mouth_closed",
    "glare",
    "background",
    "colour_cast",
    "exposure",
    "sharpness",
    "face_lighting",
];

/// The result of assessing one image.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub face_count: usize,
    pub face: Option<Rect>,
    /// The face mesh, in the image's coordinates (the camera frame's, on the live path).
    pub landmarks: Option<Landmarks>,
    /// The crown's height in the image (negative: above the top edge).
    pub crown_y: Option<f32>,
    /// The checks, in the order of [`CHECKS`].
    pub checks: Vec<CheckResult>,
}

impl Assessment {
    /// Every check passed (a check that could not judge is not a pass; an exempt one is).
    pub fn pass(&self) -> bool {
        self.checks.iter().all(|c| c.pass == Some(true))
    }

    pub fn check(&self, name: &str) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.name == name)
    }

    /// The checks that failed or could not judge, in order.
    pub fn refusals(&self) -> impl Iterator<Item = &CheckResult> {
        self.checks.iter().filter(|c| c.pass != Some(true))
    }

    /// Eye centres, image left then image right.
    pub fn eyes(&self) -> Option<((f32, f32), (f32, f32))> {
        self.landmarks.as_ref().map(Landmarks::eyes)
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CropError {
    #[error("no single face: {0} found")]
    FaceCount(usize),
    #[error("the face's landmarks cannot be found: ask the applicant to face the camera, remove tinted glasses")]
    NoLandmarks,
    #[error("the head is tilted by {0:.1}°: ask the applicant to hold the head level")]
    Tilted(f32),
    #[error("the face is too small in the picture ({0:.1}× enlargement needed): move the camera closer")]
    TooSmall(f32),
    #[error("the head is too close to the edge of the picture: centre the applicant with room around the head")]
    NoMargin,
    #[error("{0}")]
    Encode(#[from] EncodeError),
    #[error("the cropped photo fails: {0}")]
    Fails(String),
}

impl CropError {
    /// The locale key (`photo.crop.*`) saying what went wrong and what to do, and the values
    /// of its placeholders. `Display` is the English text, for logs.
    pub fn message(&self) -> (&'static str, Vec<(&'static str, String)>) {
        match self {
            CropError::FaceCount(n) => ("photo.crop.face-count", vec![("count", n.to_string())]),
            CropError::NoLandmarks => ("photo.crop.no-landmarks", Vec::new()),
            CropError::Tilted(d) => ("photo.crop.tilted", vec![("degrees", format!("{d:.1}"))]),
            CropError::TooSmall(k) => ("photo.crop.too-small", vec![("factor", format!("{k:.1}"))]),
            CropError::NoMargin => ("photo.crop.no-margin", Vec::new()),
            CropError::Encode(e) => ("photo.crop.encode", vec![("why", e.to_string())]),
            CropError::Fails(why) => ("photo.crop.fails", vec![("why", why.clone())]),
        }
    }
}

/// The models, loaded once.
pub struct Assessor {
    faces: FaceDetector,
    mesh: MeshModel,
    iris: IrisModel,
}

impl Assessor {
    pub fn new() -> Result<Assessor, crate::face::ModelError> {
        Ok(Assessor { faces: FaceDetector::new()?, mesh: MeshModel::new()?, iris: IrisModel::new()? })
    }

    /// Assesses `img` as the final photo under `profile`.
    pub fn assess(&mut self, img: &RgbImage, profile: &Profile) -> Assessment {
        let grey = image::imageops::grayscale(img);
        let faces = self.faces.detect(&grey);
        let face = (faces.len() == 1).then(|| faces[0].rect);
        let landmarks = face.and_then(|f| self.mesh.run_refined(img, f)).map(Landmarks::new);
        let iris = landmarks.as_ref().and_then(|l| self.iris.openness(img, l));
        judge(img, faces.len(), face, landmarks, iris, None, profile)
    }

    /// The live path, for guidance on every preview frame: the face is found on the frame
    /// reduced to at most `LIVE_WIDTH` pixels across, its mesh on the full frame (one pass),
    /// and the image checks run on the reduced frame. Values that depend on the framing are
    /// those of the frame, which is what the officer adjusts. The face and mesh come back in
    /// the frame's coordinates.
    pub fn assess_live(&mut self, frame: &RgbImage, profile: &Profile) -> Assessment {
        let factor = (frame.width() as f32 / LIVE_WIDTH as f32).max(1.0);
        if factor <= 1.0 {
            return self.assess(frame, profile);
        }
        let (w, h) = ((frame.width() as f32 / factor) as u32, (frame.height() as f32 / factor) as u32);
        let small = image::imageops::resize(frame, w.max(1), h.max(1), image::imageops::FilterType::Triangle);
        let faces = self.faces.detect(&image::imageops::grayscale(&small));
        let face_small = (faces.len() == 1).then(|| faces[0].rect);
        let up = |r: Rect| Rect {
            x: (r.x as f32 * factor) as u32,
            y: (r.y as f32 * factor) as u32,
            width: (r.width as f32 * factor) as u32,
            height: (r.height as f32 * factor) as u32,
        };
        let mesh = face_small.and_then(|f| self.mesh.run(frame, Roi::from_box(up(f))));
        let small_mesh = mesh.as_ref().map(|m| scaled(m, 1.0 / factor));
        let mut a = judge(&small, faces.len(), face_small, small_mesh.map(Landmarks::new), None, Some(factor), profile);
        a.face = face_small.map(up);
        a.crown_y = a.crown_y.map(|y| y * factor);
        a.landmarks = mesh.map(Landmarks::new);
        a
    }

    /// Crops a camera frame to the profile's output (eyes at the target distance and line,
    /// centred), encodes it, and assesses the result; an error says what to change.
    pub fn crop(&mut self, frame: &RgbImage, profile: &Profile) -> Result<(Vec<u8>, Assessment), CropError> {
        let grey = image::imageops::grayscale(frame);
        let faces = self.faces.detect(&grey);
        if faces.len() != 1 {
            return Err(CropError::FaceCount(faces.len()));
        }
        let lm = self.mesh.run_refined(frame, faces[0].rect).map(Landmarks::new).ok_or(CropError::NoLandmarks)?;
        let roll = lm.roll();
        if !at_most(roll.abs(), profile.max("roll")) {
            return Err(CropError::Tilted(roll));
        }
        let (l, r) = lm.eyes();
        let (w, h) = (profile.output.width as f32, profile.output.height as f32);
        let distance = lm.eye_distance();
        let scale = profile.value("crop", "eye_distance") * w / distance;
        if !at_most(scale, profile.value("crop", "max_upscale")) {
            return Err(CropError::TooSmall(scale));
        }
        let (cw, ch) = (w / scale, h / scale);
        let mid = ((l.0 + r.0) / 2.0, (l.1 + r.1) / 2.0);
        let (x0, y0) = (mid.0 - cw / 2.0, mid.1 - profile.value("crop", "eye_line") * ch);
        if x0 < 0.0 || y0 < 0.0 || x0 + cw > frame.width() as f32 || y0 + ch > frame.height() as f32 {
            return Err(CropError::NoMargin);
        }
        let crop = image::imageops::crop_imm(frame, x0 as u32, y0 as u32, cw as u32, ch as u32).to_image();
        let jpeg = encode::encode(&crop, &profile.output)?;
        let out = image::load_from_memory(&jpeg).map_err(|e| CropError::Fails(e.to_string()))?.to_rgb8();
        let assessment = self.assess(&out, profile);
        Ok((jpeg, assessment))
    }
}

fn scaled(m: &Mesh, k: f32) -> Mesh {
    Mesh {
        points: m.points.iter().map(|p| crate::mesh::Point3 { x: p.x * k, y: p.y * k, z: p.z * k }).collect(),
        presence: m.presence,
    }
}

/// Every check, for an image whose face and mesh were found (in its own coordinates); `iris`:
/// the eye model's lid openings, where it ran; `live`: on the live path, the camera frame's
/// pixels per pixel of `img`.
fn judge(
    img: &RgbImage,
    face_count: usize,
    face: Option<Rect>,
    landmarks: Option<Landmarks>,
    iris: Option<(f32, f32)>,
    live: Option<f32>,
    profile: &Profile,
) -> Assessment {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let single = if face_count == 1 {
        CheckResult::judged("single_face", 1.0, Threshold::new("photo.threshold.single-face", &[]), true, "")
    } else {
        let advice = if face_count == 0 { "photo.single-face.none" } else { "photo.single-face.many" };
        CheckResult::judged(
            "single_face",
            face_count as f32,
            Threshold::new("photo.threshold.single-face", &[]),
            false,
            advice,
        )
    };
    let why = if face.is_none() { NO_FACE } else { NO_LANDMARKS };
    let lm = landmarks.as_ref();
    let plain = geometry::Plain::find(img);
    let crown_y = lm.map(|l| geometry::crown(img, l, plain.as_ref()).1);
    let backdrop = lm.zip(crown_y).and_then(|(l, c)| checks::backdrop(img, l, c, plain.as_ref()));
    let why_backdrop = if lm.is_some() { NO_BACKDROP } else { why };
    let mut out = vec![single, geometry::resolution(w, h, lm, live, profile)];
    match (lm, crown_y) {
        (Some(l), Some(crown)) => out.extend([
            geometry::face_width(l, w, profile),
            geometry::eye_distance(l, w, profile),
            geometry::head_in_frame(l, crown, h, profile),
            geometry::eye_line(l, h, profile),
            geometry::centred(l, w, profile),
            geometry::roll(l, profile),
            geometry::yaw(l, profile),
            geometry::pitch(l, profile),
            features::eyes_open(l, iris, profile),
            features::mouth_closed(img, l, profile),
            features::glare(img, l, profile),
        ]),
        _ => out.extend(CHECKS[2..13].iter().map(|&name| CheckResult::cannot(name, Threshold::none(), why))),
    }
    out.extend([
        checks::background(backdrop.as_ref(), profile, why_backdrop),
        checks::colour_cast(backdrop.as_ref(), profile, why_backdrop),
        checks::exposure(img, lm, profile, why),
        checks::sharpness(img, lm, profile, why),
        checks::face_lighting(img, lm, profile, why),
    ]);
    Assessment { face_count, face, landmarks, crown_y, checks: out }
}
