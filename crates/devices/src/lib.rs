//! doorstep-devices: the peripheral drivers.
//!
//! Sans-IO codecs for the fingerprint module (ZFM/R30x, `EF 01` packets), the ID-card
//! reader (SAM, `AA AA AA 96 69` frames), the GNSS receiver (NMEA 0183) and the receipt
//! printer (ESC/POS, GB18030, QR), with IO shells over `serialport`, and the camera
//! (`nokhwa` and a replay source). Filled by the peripherals issue; it starts empty.
//!
//! Architecture invariant: the codecs are pure and take any chunking of bytes; only the
//! shells touch ports. Nothing here knows about applications, the vault or the UI.

#![forbid(unsafe_code)]
