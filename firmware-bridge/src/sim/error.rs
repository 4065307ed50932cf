//! What can go wrong in the simulator, as values: starting it, loading a fingerprint image,
//! drawing a receipt, and the fault commands typed at it.

use std::path::PathBuf;
use std::string::String;

use doorstep_devices::DeviceError;
use doorstep_devices::zfm::{IMAGE_HEIGHT, IMAGE_WIDTH};

use super::receipt::MAX_RECEIPT_ROWS;

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
    #[error("the receipt's bytes: {0}")]
    Receipt(#[from] DeviceError),
    #[error("the receipt font: {0}")]
    Font(#[source] ab_glyph::InvalidFont),
    #[error("the receipt's QR code: {0}")]
    Qr(#[source] qrcode::types::QrError),
    #[error("the receipt is {rows} dots long; the simulated printer draws at most {MAX_RECEIPT_ROWS}")]
    ReceiptTooLong { rows: usize },
    #[error("the receipt image could not be made")]
    ReceiptImage,
    #[error("unknown command {0:?}")]
    UnknownCommand(String),
    #[error("no device {0:?}")]
    UnknownDevice(String),
    /// A command's argument is missing or out of range: `corrupt` needs a RATE, and so on.
    #[error("usage: {command} {expected}")]
    Argument { command: &'static str, expected: &'static str },
}
