//! doorstep-link: the tablet↔bridge wire protocol.
//!
//! One USB serial line carries several peripherals. Each [`Frame`] has a channel, a kind, a
//! sequence number, a payload of at most [`MAX_PAYLOAD`] bytes and a CRC-16; it is
//! COBS-encoded and ends with a 0x00 delimiter, so a bad byte costs one frame, not the stream,
//! and the [`Decoder`] resynchronises at the next delimiter after garbage. The [`Link`] state
//! machine adds a version handshake, heartbeats, and acknowledgement with retransmission for
//! control messages; data channels carry sequence numbers so a gap is counted, never silent.
//!
//! Shared by `firmware-bridge` (the bridge's firmware) and `doorstep-devices` (the tablet).
//!
//! Architecture invariant: `#![no_std]`, no alloc, sans-IO. Bytes and the time (milliseconds)
//! go in, frames and events come out; it knows nothing of serial ports, threads or the
//! devices behind the channels.

#![no_std]
#![forbid(unsafe_code)]

mod cobs;
mod crc;
mod frame;
mod link;

pub use cobs::{cobs_decode, cobs_encode, cobs_max_encoded_len};
pub use crc::crc16;
pub use frame::{
    Channel, DecodeError, DecodeStats, Decoder, EncodeError, Frame, Kind, MAX_ENCODED, MAX_PAYLOAD, encode,
};
pub use link::{Event, Heartbeat, Link, LinkConfig, LinkError, LinkState, Outgoing, PROTOCOL_VERSION};
