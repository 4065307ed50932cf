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

/// Pictures wider than twice this are searched for faces at about this width (a face the
/// standard can use is far larger than the detector's smallest at this scale).
pub const DETECT_WIDTH: u32 = 640;

/// The width at which the live path first looks for a face.
pub const LIVE_DETECT_WIDTH: u32 = 320;

/// The width the live path works at.
pub const LIVE_WIDTH: u32 = 400;

/// The checks an assessment reports, by name, in its order.
pub const CHECKS: [&str; 20] = [
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
    "head_covering",
    "background",
    "colour_cast",
    "colour",
    "exposure",
    "sharpness",
    "face_lighting",
];

/// The checks of where the face sits in the picture: a camera frame fails them until it is
/// cropped; a photo already framed to the standard passes them.
pub const FRAMING: [&str; 6] = ["resolution", "face_width", "eye_distance", "head_in_frame", "eye_line", "centred"];

/// What an assessment comes to, from best to worst (of several photos, the worst is the
/// greatest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// Every check passed.
    Pass,
    /// Refused only by a check the officer may clear by looking (a cap, or hair cut straight
    /// round the head?): the photo is used once the officer has looked and said what was seen,
    /// without a written reason.
    Look,
    /// A check failed or could not judge: retake, or the officer's written reason.
    Fail,
}

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
    /// Every check passed (a check that could not judge, or asks the officer to look, is not a
    /// pass; an exempt one is).
    pub fn pass(&self) -> bool {
        self.checks.iter().all(|c| c.pass == Some(true))
    }

    /// Passed, refused, or held for the officer's look (refused only by checks the officer may
    /// clear by looking).
    pub fn verdict(&self) -> Verdict {
        if self.refusals().next().is_some() {
            Verdict::Fail
        } else if self.checks.iter().any(|c| c.look) {
            Verdict::Look
        } else {
            Verdict::Pass
        }
    }

    pub fn check(&self, name: &str) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.name == name)
    }

    /// The checks that failed or could not judge, in order, that only a retake or a written
    /// reason clears (not those the officer may clear by looking, [`Assessment::looks`]).
    pub fn refusals(&self) -> impl Iterator<Item = &CheckResult> {
        self.checks.iter().filter(|c| c.pass != Some(true) && !c.look)
    }

    /// The checks that refuse on a measure the officer may clear by looking: the check's name
    /// and what to look at (a locale key), such as a covering the check cannot tell from hair.
    pub fn looks(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        self.checks.iter().filter(|c| c.look).filter_map(|c| Some((c.name, c.advice?)))
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
    /// The live path's tracking: the last preview frame's face (its mesh's region and the
    /// detector's count) and how many frames ago the detector last ran.
    tracked: Option<Tracked>,
}

#[derive(Debug, Clone, Copy)]
struct Tracked {
    roi: Roi,
    face_count: usize,
    frames: u32,
}

/// On the live path the face detector runs on every this many preview frames; between, the
/// face is followed by its mesh (as MediaPipe follows it), and is looked for again as soon as
/// the mesh loses it.
pub const REDETECT_EVERY: u32 = 10;

impl Assessor {
    pub fn new() -> Result<Assessor, crate::face::ModelError> {
        Ok(Assessor { faces: FaceDetector::new()?, mesh: MeshModel::new()?, iris: IrisModel::new()?, tracked: None })
    }

    /// The faces in `img`, found on a copy reduced by a whole factor to about `DETECT_WIDTH`
    /// pixels across when it is wider (a camera frame), in `img`'s coordinates. The mesh then
    /// places the face precisely on the full picture.
    fn detect(&mut self, img: &RgbImage) -> Vec<Rect> {
        let k = img.width() / DETECT_WIDTH;
        if k <= 1 || img.height() / k < 40 {
            return self.faces.detect(&image::imageops::grayscale(img)).into_iter().map(|f| f.rect).collect();
        }
        let small = image::imageops::grayscale(&shrink(img, k));
        let up = |r: Rect| Rect { x: r.x * k, y: r.y * k, width: r.width * k, height: r.height * k };
        self.faces.detect(&small).into_iter().map(|f| up(f.rect)).collect()
    }

    /// Assesses `img` as the final photo under `profile`.
    pub fn assess(&mut self, img: &RgbImage, profile: &Profile) -> Assessment {
        let faces = if img.width() == 0 || img.height() == 0 { Vec::new() } else { self.detect(img) };
        let face = (faces.len() == 1).then(|| faces[0]);
        let landmarks = face.and_then(|f| self.mesh.run_refined(img, f)).map(Landmarks::new);
        let iris = landmarks.as_ref().and_then(|l| self.iris.openness(img, l));
        judge(img, faces.len(), face, landmarks, iris, None, profile)
    }

    /// The live path, for guidance on every preview frame: the frame is reduced by a whole
    /// factor to about `LIVE_WIDTH` pixels across (an area average) and the image checks run
    /// there; the face's mesh runs on the full frame. The face detector runs (at about
    /// `LIVE_DETECT_WIDTH`, then `LIVE_WIDTH` if it found nothing) every `REDETECT_EVERY`
    /// frames, and whenever the mesh loses the face; between, the
    /// mesh follows the face from the last frame's. Values that depend on the framing are those
    /// of the frame, which is what the officer adjusts. The face and mesh come back in the
    /// frame's coordinates.
    pub fn assess_live(&mut self, frame: &RgbImage, profile: &Profile) -> Assessment {
        let k = frame.width() / LIVE_WIDTH;
        if k <= 1 || frame.height() / k < 8 {
            self.tracked = None;
            return self.assess(frame, profile);
        }
        let factor = k as f32;
        let small = shrink(frame, k);
        let followed = self
            .tracked
            .filter(|t| t.frames + 1 < REDETECT_EVERY)
            .and_then(|t| self.mesh.run(frame, t.roi).map(|m| (t, m)));
        let (face_count, face, mesh) = match followed {
            Some((t, m)) => {
                // The face's box follows the mesh; the count is the detector's last (a person
                // stepping in is seen at its next run, at most REDETECT_EVERY frames on).
                let poly: Vec<(f32, f32)> = m.points.iter().map(|p| (p.x, p.y)).collect();
                let face = crate::mesh::bounds(&poly, frame.width(), frame.height());
                self.tracked = Some(Tracked { roi: Roi::from_mesh(&m), frames: t.frames + 1, ..t });
                (t.face_count, Some(face), Some(m))
            }
            None => {
                // First at a quarter of the live width's scale again (fast: a face filling an ID
                // photo is large), then, when none is found there, on the live image itself.
                let up = |r: Rect, k: u32| Rect { x: r.x * k, y: r.y * k, width: r.width * k, height: r.height * k };
                let kq = frame.width() / LIVE_DETECT_WIDTH;
                let mut faces: Vec<Rect> = Vec::new();
                if kq > k && frame.height() / kq >= 40 {
                    let quick = image::imageops::grayscale(&shrink(frame, kq));
                    faces = self.faces.detect(&quick).into_iter().map(|f| up(f.rect, kq)).collect();
                }
                if faces.is_empty() {
                    let grey = image::imageops::grayscale(&small);
                    faces = self.faces.detect(&grey).into_iter().map(|f| up(f.rect, k)).collect();
                }
                let face = (faces.len() == 1).then(|| faces[0]);
                let mesh = face.and_then(|f| self.mesh.run(frame, Roi::from_box(f)));
                self.tracked =
                    mesh.as_ref().map(|m| Tracked { roi: Roi::from_mesh(m), face_count: faces.len(), frames: 0 });
                (faces.len(), face, mesh)
            }
        };
        let small_mesh = mesh.as_ref().map(|m| scaled(m, 1.0 / factor));
        let small_face = face.map(|f| Rect { x: f.x / k, y: f.y / k, width: f.width / k, height: f.height / k });
        let mut a = judge(&small, face_count, small_face, small_mesh.map(Landmarks::new), None, Some(factor), profile);
        a.face = face;
        a.crown_y = a.crown_y.map(|y| y * factor);
        a.landmarks = mesh.map(Landmarks::new);
        a
    }

    /// Crops a camera frame to the profile's output (eyes at the target distance and line,
    /// centred), encodes it, and assesses the result; an error says what to change. A photo
    /// already framed to the standard, with no margin round it to crop from, is kept as framed.
    pub fn crop(&mut self, frame: &RgbImage, profile: &Profile) -> Result<(Vec<u8>, Assessment), CropError> {
        let faces = if frame.width() == 0 || frame.height() == 0 { Vec::new() } else { self.detect(frame) };
        if faces.len() != 1 {
            return Err(CropError::FaceCount(faces.len()));
        }
        let lm = self.mesh.run_refined(frame, faces[0]).map(Landmarks::new).ok_or(CropError::NoLandmarks)?;
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
        let crop = if x0 < 0.0 || y0 < 0.0 || x0 + cw > frame.width() as f32 || y0 + ch > frame.height() as f32 {
            // A photo already framed to the standard has no margin to crop the target framing
            // from: kept as it is framed (the size rule makes it 3:4), encoded to the file rules.
            let own = self.assess(frame, profile);
            if !FRAMING.iter().all(|name| own.check(name).is_some_and(|c| c.pass == Some(true))) {
                return Err(CropError::NoMargin);
            }
            frame.clone()
        } else {
            image::imageops::crop_imm(frame, x0 as u32, y0 as u32, cw as u32, ch as u32).to_image()
        };
        let jpeg = encode::encode(&crop, &profile.output)?;
        let out = image::load_from_memory(&jpeg).map_err(|e| CropError::Fails(e.to_string()))?.to_rgb8();
        let assessment = self.assess(&out, profile);
        Ok((jpeg, assessment))
    }
}

/// The frame reduced by a whole factor `k`, each pixel the mean of a k×k block.
fn shrink(frame: &RgbImage, k: u32) -> RgbImage {
    let (w, h) = (frame.width() / k, frame.height() / k);
    let raw = frame.as_raw();
    let stride = frame.width() as usize * 3;
    let n = k * k;
    RgbImage::from_fn(w.max(1), h.max(1), |x, y| {
        let mut sum = [0u32; 3];
        for dy in 0..k {
            let row = (y * k + dy) as usize * stride;
            for dx in 0..k {
                let i = row + (x * k + dx) as usize * 3;
                for (c, s) in sum.iter_mut().enumerate() {
                    *s += u32::from(raw[i + c]);
                }
            }
        }
        image::Rgb(sum.map(|s| (s / n) as u8))
    })
}

fn scaled(m: &Mesh, k: f32) -> Mesh {
    Mesh {
        points: m.points.iter().map(|p| crate::mesh::Point3 { x: p.x * k, y: p.y * k, z: p.z * k }).collect(),
        presence: m.presence,
    }
}

/// Every check, for an image whose face and mesh were found (in its own coordinates); `iris`:
/// what the eye model saw of each eye, where it ran; `live`: on the live path, the camera frame's
/// pixels per pixel of `img`.
fn judge(
    img: &RgbImage,
    face_count: usize,
    face: Option<Rect>,
    landmarks: Option<Landmarks>,
    iris: Option<(crate::iris::Eye, crate::iris::Eye)>,
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
            crate::covering::head_covering(img, l, plain.as_ref(), profile),
        ]),
        _ => out.extend(CHECKS[2..14].iter().map(|&name| CheckResult::cannot(name, Threshold::none(), why))),
    }
    out.extend([
        checks::background(backdrop.as_ref(), profile, why_backdrop),
        checks::colour_cast(backdrop.as_ref(), profile, why_backdrop),
        crate::colour::colour(img, lm, profile, why),
        checks::exposure(img, lm, profile, why),
        checks::sharpness(img, lm, profile, why),
        checks::face_lighting(img, lm, profile, why),
    ]);
    Assessment { face_count, face, landmarks, crown_y, checks: out }
}
