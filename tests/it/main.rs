//! The root package's integration tests, in one binary so bevy is linked once.

mod applicants;
mod appointments;
mod cli;
mod cli_input;
mod exceptions;
mod faults;
mod feedback;
mod headless;
mod queue;
mod receipt_files;
mod resume;
mod resume_typed;
mod revocation;
mod screenshot;
mod services;
mod shift;
mod shift_decisions;
mod shift_pin;
mod shift_unsealed;
mod small_screen;
mod storage;
mod sync;
mod tidy;
mod to_receipt;
mod visit;
mod windows;

use std::path::PathBuf;

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A digital photo (354×472) stood in the middle of a 1280×720 camera frame, on its own
/// backdrop's colour, with room round it: what the camera would see, for the crop.
pub fn in_camera_frame(photo: &std::path::Path) -> image::RgbImage {
    let photo = image::open(photo).unwrap_or_else(|e| panic!("{}: {e}", photo.display())).to_rgb8();
    let mut frame = image::RgbImage::from_pixel(1280, 720, *photo.get_pixel(2, 2));
    let (x, y) = ((1280 - photo.width()) / 2, (720 - photo.height()) / 2);
    image::imageops::overlay(&mut frame, &photo, x.into(), y.into());
    frame
}
