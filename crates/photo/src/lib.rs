//! doorstep-photo: assessment and crop of the exit-entry ID photo.
//!
//! Finds the face and eyes with a real trained model, checks the photo against the
//! exit-entry standard (DOMAIN.md §1, §7) with advice an officer can act on, and crops and
//! encodes the 354×472 JPEG. Filled by the photo issue; it starts empty.
//!
//! Architecture invariant: pure. Pixels in, measurements and bytes out: no camera, no files,
//! no clock.

#![forbid(unsafe_code)]
