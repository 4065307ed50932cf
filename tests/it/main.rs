//! The root package's integration tests, in one binary so bevy is linked once.

mod applicants;
mod appointments;
mod cli;
mod exceptions;
mod faults;
mod feedback;
mod headless;
mod queue;
mod receipt_files;
mod screenshot;
mod shift;
mod sync;
mod tidy;
mod visit;
mod windows;

use std::path::PathBuf;

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
