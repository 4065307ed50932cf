//! doorstep-link: the tablet↔bridge wire protocol.
//!
//! Frames with a channel, a sequence number, a kind, a payload and a CRC, COBS-encoded and
//! 0x00-delimited; the link state machine (version handshake, heartbeats, ack/retransmit).
//! Shared by `firmware-bridge` and `doorstep-devices`. Filled by the peripherals issue; it
//! starts empty.
//!
//! Architecture invariant: `#![no_std]`, no alloc, sans-IO. Bytes and time go in, bytes and
//! events come out; it knows nothing of serial ports, threads or the devices behind channels.

#![no_std]
#![forbid(unsafe_code)]
