//! doorstep-devices: the peripheral drivers.
//!
//! Sans-IO codecs, one per device, each fed bytes however they are chunked:
//! - [`zfm`]: the ZFM/R30x fingerprint module (`EF 01` packets), with image unpacking, and
//!   [`quality`] for the capture's contrast, area and ridge clarity;
//! - [`sam`]: the second-generation ID-card reader (`AA AA AA 96 69` frames) and the card's
//!   UTF-16LE text block;
//! - [`nmea`]: GNSS fixes from GGA and RMC;
//! - [`escpos`]: Chinese receipts in GB18030 with a QR code, and their parser;
//!   [`receipt_file`] draws one as the printer would, as a PNG or a PDF.
//!
//! [`io`] holds the shells: transports over `serialport` (a device's own port, or its channel
//! of the bridge) and the drivers that run each protocol with timeouts and recovery.
//! [`camera`] has the replay camera always, and real cameras through `nokhwa` with the
//! `camera` feature.
//!
//! Architecture invariant: the codecs are pure and open no port; only [`io`] does. Nothing
//! here knows about applications, the vault or the screens.

#![forbid(unsafe_code)]

pub mod camera;
pub mod escpos;
pub mod io;
pub mod nmea;
pub mod quality;
pub mod receipt_file;
pub mod sam;
pub mod zfm;

/// What can go wrong with a peripheral's bytes. Each error says what the officer can do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    #[error("{bytes} bytes of noise on the line were skipped (loose cable or wrong baud rate?)")]
    Garbage { bytes: usize },
    #[error("a packet failed its checksum (interference on the cable); it will be asked for again")]
    Checksum,
    #[error("malformed data from the device: {0}")]
    Malformed(&'static str),
    #[error("the image has {got} bytes, {expected} expected: the transfer was cut short")]
    ImageSize { expected: usize, got: usize },
    #[error("the device sent more than the {limit} bytes a transfer can have: it was refused")]
    TooLong { limit: usize },
    #[error("the device did not answer within {0} ms: check that it is connected and powered")]
    Timeout(u64),
    #[error("the device answered {0}")]
    Refused(String),
    #[error("the printer is out of paper: load a roll")]
    PaperOut,
    #[error("the printer is offline: close its cover")]
    PrinterOffline,
    #[error("serial port: {0}")]
    Port(String),
}

/// Drops bytes before the next `header` in `buf`, reporting them as garbage. Returns true when
/// `buf` now starts with the header; false when it holds no header yet (a prefix of one at the
/// end is kept, in case the rest is in the next chunk).
pub(crate) fn resync<T>(buf: &mut Vec<u8>, header: &[u8], out: &mut Vec<Result<T, DeviceError>>) -> bool {
    match buf.windows(header.len()).position(|w| w == header) {
        Some(0) => true,
        Some(skip) => {
            buf.drain(..skip);
            out.push(Err(DeviceError::Garbage { bytes: skip }));
            true
        }
        None => {
            let keep =
                (1..header.len()).rev().find(|&k| buf.len() >= k && buf[buf.len() - k..] == header[..k]).unwrap_or(0);
            let skip = buf.len() - keep;
            if skip > 0 {
                buf.drain(..skip);
                out.push(Err(DeviceError::Garbage { bytes: skip }));
            }
            false
        }
    }
}
