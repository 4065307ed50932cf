//! doorstep-photo: assessment and crop of the exit-entry ID photo.
//!
//! [`face`] finds the face and the eyes with trained models (SeetaFace, OpenCV's eye cascade).
//! [`assess`] judges a photo against a document [`assess::Profile`]: the eleven checks, each
//! with its measured value, its threshold, pass or fail (or `None` when it cannot be
//! assessed), and advice an officer can act on in Chinese and English; on a full frame (the
//! final path) or on a preview reduced to 400 px (the live path); and crops a frame to the
//! standard. [`checks`] holds the image-level checks; [`encode`] writes the JPEG the standard
//! asks for (3:4, 354×472 to 480×640, 24-bit, 300 dpi in JFIF, 20–80 KB, DOMAIN.md §1.1),
//! searching the JPEG quality so the size lands in range, and reads the result back.
//!
//! Architecture invariant: pure. Pixels in, measurements and bytes out: no camera, no files,
//! no clock, no threads.

#![forbid(unsafe_code)]

pub mod assess;
pub mod checks;
pub mod encode;
pub mod face;

/// A region of an image, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl Rect {
    pub fn contains(&self, x: u32, y: u32) -> bool {
        x >= self.x && y >= self.y && x < self.x + self.width && y < self.y + self.height
    }
}
