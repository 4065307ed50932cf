//! The whole assessment of a photo against a document profile: the face and eyes, the
//! geometry checks, the image checks; and the crop to the standard.

use image::RgbImage;

use crate::Rect;
use crate::checks::{self, CheckResult, Thresholds, result};
use crate::encode::{self, EncodeError, OutputSpec};
use crate::face::{Cascade, FaceDetector, find_eyes};

/// The rules for one kind of document. The sources disagree on the head box (DOMAIN.md §1.2),
/// so these are configurable; the defaults follow the digital rules of the 照相指引 [P].
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub name: &'static str,
    pub output: OutputSpec,
    /// Eye distance as a share of the width (0.23–0.33 W).
    pub eye_distance: (f32, f32),
    /// Height of the detected face box (brows to chin) as a share of the height.
    pub head_size: (f32, f32),
    /// Height of the eye line from the top, as a share of the height.
    pub eye_line: (f32, f32),
    /// Largest tilt of the eye line, in degrees.
    pub max_roll: f32,
    /// Largest horizontal offset of the eyes' midpoint from the centre, as a share of the width.
    pub max_off_centre: f32,
    /// Where the crop puts the eyes: distance and line.
    pub target_eye_distance: f32,
    pub target_eye_line: f32,
    /// Largest enlargement the crop may apply (beyond it the photo goes soft).
    pub max_upscale: f32,
    pub thresholds: Thresholds,
}

impl Profile {
    pub fn passport() -> Profile {
        Profile {
            name: "passport",
            output: OutputSpec::default(),
            eye_distance: (0.23, 0.33),
            head_size: (0.38, 0.62),
            eye_line: (0.30, 0.50),
            max_roll: 5.0,
            max_off_centre: 0.05,
            target_eye_distance: 0.27,
            target_eye_line: 0.44,
            max_upscale: 2.5,
            thresholds: Thresholds::default(),
        }
    }

    /// The 往来港澳通行证 and 往来台湾通行证 use the same exit-entry photo rules today; kept
    /// apart so a bureau can change one without the others.
    pub fn hk_macao_permit() -> Profile {
        Profile { name: "hk-macao-permit", ..Profile::passport() }
    }

    pub fn taiwan_permit() -> Profile {
        Profile { name: "taiwan-permit", ..Profile::passport() }
    }

    pub fn by_name(name: &str) -> Option<Profile> {
        [Profile::passport(), Profile::hk_macao_permit(), Profile::taiwan_permit()].into_iter().find(|p| p.name == name)
    }
}

/// The width the live path works at.
pub const LIVE_WIDTH: u32 = 400;

/// The checks an assessment reports, by name, in its order.
pub const CHECKS: [&str; 11] = [
    "single_face",
    "eye_distance",
    "head_size",
    "head_position",
    "roll",
    "centred",
    "exposure",
    "sharpness",
    "colour_cast",
    "background",
    "face_lighting",
];

/// The result of assessing one image.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub face_count: usize,
    pub face: Option<Rect>,
    /// Eye centres, left then right in the image.
    pub eyes: Option<((f32, f32), (f32, f32))>,
    /// The eleven checks, in the order of [`CHECKS`].
    pub checks: Vec<CheckResult>,
}

impl Assessment {
    /// Every check passed (a check that could not be assessed is not a pass).
    pub fn pass(&self) -> bool {
        self.checks.iter().all(|c| c.pass == Some(true))
    }

    pub fn check(&self, name: &str) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.name == name)
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CropError {
    #[error("no single face: {0} found")]
    FaceCount(usize),
    #[error("the eyes cannot be found: ask the applicant to look at the camera, remove tinted glasses")]
    NoEyes,
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

/// The models, loaded once.
pub struct Assessor {
    faces: FaceDetector,
    eyes: Cascade,
}

impl Assessor {
    pub fn new() -> Result<Assessor, crate::face::ModelError> {
        Ok(Assessor { faces: FaceDetector::new()?, eyes: Cascade::eyes()? })
    }

    /// Assesses `img` as the final photo under `profile`.
    pub fn assess(&mut self, img: &RgbImage, profile: &Profile) -> Assessment {
        let grey = image::imageops::grayscale(img);
        let faces = self.faces.detect(&grey);
        let face = (faces.len() == 1).then(|| faces[0].rect);
        let eyes = face.and_then(|f| find_eyes(&grey, f, &self.eyes));
        judge(img, faces.len(), face, eyes, profile)
    }

    /// The live path, for guidance on every preview frame: the frame is reduced to at most
    /// `LIVE_WIDTH` pixels across, assessed there, and the face and eyes mapped back. Values
    /// that depend on the frame's framing (eye distance, head size and position, centring) are
    /// those of the frame, which is what the officer adjusts.
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
        // The eyes are small at the reduced size: look for them at full resolution, in the
        // face only.
        let eyes = face_small.and_then(|f| {
            let full = up(f);
            let region = image::imageops::crop_imm(frame, full.x, full.y, full.width, full.height).to_image();
            let grey = image::imageops::grayscale(&region);
            let local = Rect { x: 0, y: 0, width: full.width, height: full.height };
            find_eyes(&grey, local, &self.eyes)
                .map(|(l, r)| ((l.0 + full.x as f32, l.1 + full.y as f32), (r.0 + full.x as f32, r.1 + full.y as f32)))
        });
        let eyes_small = eyes.map(|(l, r)| ((l.0 / factor, l.1 / factor), (r.0 / factor, r.1 / factor)));
        let mut a = judge(&small, faces.len(), face_small, eyes_small, profile);
        a.face = face_small.map(up);
        a.eyes = eyes;
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
        let (l, r) = find_eyes(&grey, faces[0].rect, &self.eyes).ok_or(CropError::NoEyes)?;
        let roll = (r.1 - l.1).atan2(r.0 - l.0).to_degrees();
        if roll.abs() > profile.max_roll {
            return Err(CropError::Tilted(roll));
        }
        let (w, h) = (profile.output.width as f32, profile.output.height as f32);
        let distance = ((r.0 - l.0).powi(2) + (r.1 - l.1).powi(2)).sqrt();
        let scale = profile.target_eye_distance * w / distance;
        if scale > profile.max_upscale {
            return Err(CropError::TooSmall(scale));
        }
        let (cw, ch) = (w / scale, h / scale);
        let mid = ((l.0 + r.0) / 2.0, (l.1 + r.1) / 2.0);
        let (x0, y0) = (mid.0 - cw / 2.0, mid.1 - profile.target_eye_line * ch);
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

/// The checks for an image whose face and eyes were found (in its own coordinates).
fn judge(
    img: &RgbImage,
    face_count: usize,
    face: Option<Rect>,
    eyes: Option<((f32, f32), (f32, f32))>,
    profile: &Profile,
) -> Assessment {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let mut checks = Vec::with_capacity(11);
    checks.push(result(
        "single_face",
        Some(face_count as f32),
        "exactly 1".into(),
        Some(face_count == 1),
        if face_count == 0 {
            "未检测到人脸：请申请人正对镜头，摘下帽子"
        } else {
            "画面中不止一人：请其他人离开画面"
        },
        if face_count == 0 {
            "No face found: the applicant should face the camera, hat off"
        } else {
            "More than one person in view: ask the others to step away"
        },
    ));
    let geometry = eyes.map(|(l, r)| {
        let distance = ((r.0 - l.0).powi(2) + (r.1 - l.1).powi(2)).sqrt();
        let roll = (r.1 - l.1).atan2(r.0 - l.0).to_degrees();
        let mid = ((l.0 + r.0) / 2.0, (l.1 + r.1) / 2.0);
        (distance / w, roll, mid)
    });
    let (ed, hs, el, mo) = (profile.eye_distance, profile.head_size, profile.eye_line, profile.max_off_centre);
    checks.push(result(
        "eye_distance",
        geometry.map(|g| g.0),
        format!("{:.2}–{:.2} of the width", ed.0, ed.1),
        geometry.map(|g| (ed.0..=ed.1).contains(&g.0)),
        if geometry.is_some_and(|g| g.0 < ed.0) {
            "脸太小：请靠近一些或放大"
        } else {
            "脸太大：请后退一些"
        },
        if geometry.is_some_and(|g| g.0 < ed.0) {
            "Face too small: move closer or zoom in"
        } else {
            "Face too large: step back"
        },
    ));
    let head = face.map(|f| f.height as f32 / h);
    checks.push(result(
        "head_size",
        head,
        format!("face {:.2}–{:.2} of the height", hs.0, hs.1),
        head.map(|v| (hs.0..=hs.1).contains(&v)),
        if head.is_some_and(|v| v < hs.0) {
            "头部太小：请靠近一些"
        } else {
            "头部太大：请后退一些"
        },
        if head.is_some_and(|v| v < hs.0) { "Head too small: move closer" } else { "Head too large: step back" },
    ));
    let line = geometry.map(|g| g.2.1 / h);
    checks.push(result(
        "head_position",
        line,
        format!("eye line {:.2}–{:.2} of the height from the top", el.0, el.1),
        line.map(|v| (el.0..=el.1).contains(&v)),
        if line.is_some_and(|v| v > el.1) {
            "头部偏低：请把镜头放低或请申请人坐直"
        } else {
            "头部偏高：请把镜头抬高一点"
        },
        if line.is_some_and(|v| v > el.1) {
            "Head too low: lower the camera or sit up straight"
        } else {
            "Head too high: raise the camera slightly"
        },
    ));
    let roll = geometry.map(|g| g.1);
    checks.push(result(
        "roll",
        roll,
        format!("≤ {:.0}°", profile.max_roll),
        roll.map(|v| v.abs() <= profile.max_roll),
        "头部歪斜：请把头摆正，双眼保持水平",
        "Head tilted: hold the head straight with the eyes level",
    ));
    let off = geometry.map(|g| (g.2.0 - w / 2.0) / w);
    checks.push(result(
        "centred",
        off,
        format!("≤ {:.0} % of the width off centre", mo * 100.0),
        off.map(|v| v.abs() <= mo),
        if off.is_some_and(|v| v < 0.0) {
            "人像偏左：请向右移动镜头"
        } else {
            "人像偏右：请向左移动镜头"
        },
        if off.is_some_and(|v| v < 0.0) {
            "Subject left of centre: move the camera to the right"
        } else {
            "Subject right of centre: move the camera to the left"
        },
    ));
    checks.extend(checks::assess(img, face, &profile.thresholds));
    Assessment { face_count, face, eyes, checks }
}
