//! What can go wrong in the simulator, as values: starting it, loading a fingerprint image,
//! drawing a receipt, and the fault commands typed at it.

use std::path::PathBuf;
use std::string::String;

use doorstep_devices::zfm::{IMAGE_HEIGHT, IMAGE_WIDTH};

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot open a pseudo-terminal: {0}")]
    Pty(#[source] serialport::Error),
    #[error("the pseudo-terminal has no name")]
    PtyUnnamed,
    #[error("cannot start the simulator's thread: {0}")]
    Thread(#[source] std::io::Error),
    #[error("the link's baud rate must be above zero")]
    LinkBaud,
    #[error("{path}: {source}")]
    FingerprintImage {
        path: PathBuf,
        #[source]
        source: image::ImageError,
    },
    #[error("{path}: the image is {width}×{height}, the sensor's are {IMAGE_WIDTH}×{IMAGE_HEIGHT}")]
    FingerprintSize { path: PathBuf, width: u32, height: u32 },
    #[error("{0}")]
    Render(#[from] doorstep_devices::receipt_file::RenderError),
    #[error("unknown command {0:?}")]
    UnknownCommand(String),
    #[error("no device {0:?}")]
    UnknownDevice(String),
    /// A command's argument is missing or out of range: `corrupt` needs a RATE, and so on.
    #[error("usage: {command} {expected}")]
    Argument { command: &'static str, expected: &'static str },
}
