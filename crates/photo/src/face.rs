//! Finding the face with a trained model shipped in `assets/models`: the SeetaFace frontal
//! face detector (through `rustface`, single-threaded). The eyes and the rest of the face come
//! from the face mesh ([`crate::mesh`]).

use std::io::Cursor;

use image::GrayImage;

use crate::Rect;

const FACE_MODEL: &[u8] = include_bytes!("../../../assets/models/seeta_fd_frontal_v1.0.bin");

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

/// Why a model would not load: the shipped models always do (a test loads them), so this is
/// a damaged build.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("the face model does not load: {0}")]
    FaceModel(String),
    #[error("{0}")]
    Mesh(#[from] crate::mesh::MeshModelError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blank_image_has_no_face_and_tiny_images_are_refused() {
        let mut d = FaceDetector::new().unwrap();
        assert!(d.detect(&GrayImage::from_pixel(320, 240, image::Luma([200]))).is_empty());
        assert!(d.detect(&GrayImage::new(10, 10)).is_empty());
    }
}
