//! doorstep-photo: assessment and crop of the exit-entry ID photo.
//!
//! Built so far: the output side and the image-level checks. [`encode`] turns a crop into the
//! JPEG the standard asks for (3:4, 354×472 to 480×640, 24-bit, 300 dpi in JFIF, 20–80 KB,
//! DOMAIN.md §1.1), searching the JPEG quality so the size lands in range, and reads the
//! result back to check it. [`checks`] measures exposure, sharpness, colour cast, the
//! background's uniformity and colour, and left/right lighting, each with its value, its
//! threshold, pass or fail, and advice an officer can act on in Chinese and English. Finding
//! the face and the eyes (a trained model) and the geometry checks follow with the photo issue.
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
