//! doorstep-photo: assessment and crop of the exit-entry ID photo.
//!
//! [`face`] finds the face (SeetaFace); [`mesh`] finds its 468 landmarks (MediaPipe's face
//! mesh, run through `tract`). [`assess`] judges a photo against a document
//! [`profile::Profile`], whose every threshold and its source come from the policy data
//! (`assets/policy/photo.toml`): twenty checks, each with its measured value, its threshold
//! and what to do (or, when it cannot judge, why; or, on a pass, what the officer should look
//! at) as keys into the locale files; on a full
//! frame (the final path) or on a preview (the live path); and crops a frame to the standard.
//! [`geometry`] holds the measures of size, position and pose; [`features`] eyes, mouth and
//! glare; [`iris`] the eye model for the lids; [`checks`] the backdrop and the light on the
//! face; [`encode`] writes the JPEG the standard
//! asks for (3:4, 354×472 to 480×640, 24-bit, 300 dpi in JFIF, 20–80 KB, DOMAIN.md §1.1),
//! searching the JPEG quality so the size lands in range, and reads the result back.
//!
//! Architecture invariant: pure. Pixels in, measurements and bytes out: no camera, no files,
//! no clock, no threads.

#![forbid(unsafe_code)]

pub mod assess;
pub mod checks;
pub mod colour;
pub mod covering;
pub mod encode;
pub mod face;
pub mod features;
pub mod geometry;
pub mod iris;
pub mod mesh;
pub mod profile;

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
