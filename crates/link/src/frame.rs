//! Frames, their bytes, and the resynchronising decoder.
//!
//! Before COBS a frame is: channel (1) | kind (1) | sequence (1) | payload length (1) |
//! payload (0–250) | CRC-16/CCITT-FALSE of everything before it, little-endian (2).
//! On the wire: 0x00, COBS of that, 0x00. The leading delimiter ends whatever garbage came
//! before, so line noise costs no good frame.

use crate::cobs::{cobs_decode, cobs_encode, cobs_max_encoded_len};
use crate::crc::crc16;

/// The largest payload of one frame.
pub const MAX_PAYLOAD: usize = 250;
const HEADER: usize = 4;
const RAW_MAX: usize = HEADER + MAX_PAYLOAD + 2;
/// The longest frame on the wire, both delimiters included.
pub const MAX_ENCODED: usize = cobs_max_encoded_len(RAW_MAX) + 2;

/// What a frame is about. Each peripheral has its own channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Channel {
    Control = 0,
    Fingerprint = 1,
    IdCard = 2,
    Gnss = 3,
    Printer = 4,
}

impl Channel {
    pub const COUNT: usize = 5;
    pub const ALL: [Channel; Channel::COUNT] =
        [Channel::Control, Channel::Fingerprint, Channel::IdCard, Channel::Gnss, Channel::Printer];
    /// The peripheral channels (all but control).
    pub const DEVICES: [Channel; 4] = [Channel::Fingerprint, Channel::IdCard, Channel::Gnss, Channel::Printer];

    pub fn from_u8(b: u8) -> Option<Channel> {
        Channel::ALL.get(usize::from(b)).copied()
    }

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Channel::Control => "control",
            Channel::Fingerprint => "fingerprint",
            Channel::IdCard => "id-card",
            Channel::Gnss => "gnss",
            Channel::Printer => "printer",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// Peripheral bytes; sequence numbers reveal gaps.
    Data = 0,
    /// Acknowledges a control message with the same sequence number.
    Ack = 1,
    /// Opens the link: payload is the protocol version.
    Hello = 2,
    HelloAck = 3,
    /// Liveness; from the bridge it carries battery, peripherals and overflow counters.
    Heartbeat = 4,
    /// A control message (configuration, status request); acknowledged and retransmitted.
    Control = 5,
}

impl Kind {
    fn from_u8(b: u8) -> Option<Kind> {
        Some(match b {
            0 => Kind::Data,
            1 => Kind::Ack,
            2 => Kind::Hello,
            3 => Kind::HelloAck,
            4 => Kind::Heartbeat,
            5 => Kind::Control,
            _ => return None,
        })
    }
}

/// A frame, borrowing its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    pub channel: Channel,
    pub kind: Kind,
    pub seq: u8,
    pub payload: &'a [u8],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodeError {
    PayloadTooLong,
    BufferTooSmall,
}

/// Encodes `frame` with its delimiter into `out`; returns the number of bytes.
pub fn encode(frame: &Frame<'_>, out: &mut [u8]) -> Result<usize, EncodeError> {
    if frame.payload.len() > MAX_PAYLOAD {
        return Err(EncodeError::PayloadTooLong);
    }
    let mut raw = [0u8; RAW_MAX];
    raw[0] = frame.channel as u8;
    raw[1] = frame.kind as u8;
    raw[2] = frame.seq;
    raw[3] = frame.payload.len() as u8;
    let end = HEADER + frame.payload.len();
    raw[HEADER..end].copy_from_slice(frame.payload);
    let crc = crc16(&raw[..end]);
    raw[end..end + 2].copy_from_slice(&crc.to_le_bytes());
    if out.len() < 2 {
        return Err(EncodeError::BufferTooSmall);
    }
    out[0] = 0;
    let n = cobs_encode(&raw[..end + 2], &mut out[1..]).ok_or(EncodeError::BufferTooSmall)?;
    if n + 1 >= out.len() {
        return Err(EncodeError::BufferTooSmall);
    }
    out[n + 1] = 0;
    Ok(n + 2)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// More bytes than the longest frame before a delimiter: skipped to the next delimiter.
    TooLong,
    /// The bytes are not valid COBS.
    Cobs,
    /// Fewer bytes than a header and CRC.
    Short,
    /// The length field does not match the bytes received.
    Length,
    /// The CRC does not match: a byte was corrupted on the line.
    Crc,
    UnknownChannel(u8),
    UnknownKind(u8),
}

/// Counts of what the decoder saw, for the officer's diagnostics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeStats {
    pub frames: u32,
    pub errors: u32,
    pub bytes: u64,
}

/// Turns a byte stream, however it is chunked, into frames. After garbage it resynchronises
/// at the next 0x00.
pub struct Decoder {
    raw: [u8; MAX_ENCODED],
    len: usize,
    discarding: bool,
    decoded: [u8; RAW_MAX],
    stats: DecodeStats,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    pub const fn new() -> Decoder {
        Decoder {
            raw: [0; MAX_ENCODED],
            len: 0,
            discarding: false,
            decoded: [0; RAW_MAX],
            stats: DecodeStats { frames: 0, errors: 0, bytes: 0 },
        }
    }

    pub fn stats(&self) -> DecodeStats {
        self.stats
    }

    /// Feeds one byte. Returns a frame (or why the bytes before this delimiter were not one)
    /// when `byte` ends a frame.
    pub fn push(&mut self, byte: u8) -> Option<Result<Frame<'_>, DecodeError>> {
        self.stats.bytes += 1;
        if byte != 0 {
            if self.discarding {
                return None;
            }
            if self.len >= self.raw.len() {
                self.discarding = true;
                self.len = 0;
                return None;
            }
            self.raw[self.len] = byte;
            self.len += 1;
            return None;
        }
        if self.discarding {
            self.discarding = false;
            self.stats.errors = self.stats.errors.saturating_add(1);
            return Some(Err(DecodeError::TooLong));
        }
        if self.len == 0 {
            return None; // idle delimiters between frames
        }
        let len = core::mem::take(&mut self.len);
        let result = self.parse(len);
        match result {
            Ok(_) => self.stats.frames = self.stats.frames.saturating_add(1),
            Err(_) => self.stats.errors = self.stats.errors.saturating_add(1),
        }
        Some(result.map(|(channel, kind, seq, n)| Frame {
            channel,
            kind,
            seq,
            payload: &self.decoded[HEADER..HEADER + n],
        }))
    }

    fn parse(&mut self, len: usize) -> Result<(Channel, Kind, u8, usize), DecodeError> {
        let n = cobs_decode(&self.raw[..len], &mut self.decoded).ok_or(DecodeError::Cobs)?;
        if n < HEADER + 2 {
            return Err(DecodeError::Short);
        }
        let payload_len = usize::from(self.decoded[3]);
        if HEADER + payload_len + 2 != n {
            return Err(DecodeError::Length);
        }
        let crc = u16::from_le_bytes([self.decoded[n - 2], self.decoded[n - 1]]);
        if crc16(&self.decoded[..n - 2]) != crc {
            return Err(DecodeError::Crc);
        }
        let channel = Channel::from_u8(self.decoded[0]).ok_or(DecodeError::UnknownChannel(self.decoded[0]))?;
        let kind = Kind::from_u8(self.decoded[1]).ok_or(DecodeError::UnknownKind(self.decoded[1]))?;
        Ok((channel, kind, self.decoded[2], payload_len))
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::*;

    fn wire(f: &Frame<'_>) -> Vec<u8> {
        let mut buf = [0u8; MAX_ENCODED];
        let n = encode(f, &mut buf).unwrap();
        buf[..n].to_vec()
    }

    type Decoded = Result<(Channel, Kind, u8, Vec<u8>), DecodeError>;

    /// Collects (channel, kind, seq, payload) or errors from a byte stream.
    fn feed(bytes: &[u8]) -> Vec<Decoded> {
        let mut d = Decoder::new();
        let mut out = Vec::new();
        for &b in bytes {
            if let Some(r) = d.push(b) {
                out.push(r.map(|f| (f.channel, f.kind, f.seq, f.payload.to_vec())));
            }
        }
        out
    }

    #[test]
    fn a_frame_round_trips_and_ends_with_its_only_zero() {
        let f = Frame { channel: Channel::Fingerprint, kind: Kind::Data, seq: 7, payload: &[0, 1, 0, 0xEF, 0x01] };
        let w = wire(&f);
        assert_eq!((w[0], *w.last().unwrap()), (0, 0));
        assert!(!w[1..w.len() - 1].contains(&0));
        assert_eq!(feed(&w), [Ok((Channel::Fingerprint, Kind::Data, 7, std::vec![0, 1, 0, 0xEF, 0x01]))]);
    }

    #[test]
    fn worked_frame() {
        // Control, Hello, seq 0, payload [1]: raw 00 02 00 01 01 + CRC over those 5 bytes.
        let f = Frame { channel: Channel::Control, kind: Kind::Hello, seq: 0, payload: &[1] };
        // The raw bytes are 00 02 00 01 01 c0 c1; COBS turns each zero into the distance to
        // the next one.
        let crc = crc16(&[0, 2, 0, 1, 1]).to_le_bytes();
        let mut expected = std::vec![0x00, 0x01, 0x02, 0x02, 0x05, 0x01, 0x01, crc[0], crc[1]];
        // This holds when neither CRC byte is zero (true for this frame).
        assert!(crc[0] != 0 && crc[1] != 0);
        expected.push(0);
        assert_eq!(wire(&f), expected);
    }

    #[test]
    fn garbage_and_corruption_cost_one_frame() {
        let a = wire(&Frame { channel: Channel::Gnss, kind: Kind::Data, seq: 1, payload: b"$GPGGA" });
        let b = wire(&Frame { channel: Channel::Gnss, kind: Kind::Data, seq: 2, payload: b"$GPRMC" });
        let mut stream = std::vec![0x13, 0x37, 0xFF];
        stream.extend_from_slice(&a);
        let mut corrupted = b.clone();
        corrupted[3] ^= 0x40;
        stream.extend_from_slice(&corrupted);
        stream.extend_from_slice(&b);
        let got = feed(&stream);
        assert_eq!(got.len(), 4, "{got:?}");
        assert!(got[0].is_err(), "leading garbage is reported, not mistaken for a frame");
        assert_eq!(got[1].as_ref().unwrap().2, 1);
        assert!(matches!(got[2], Err(DecodeError::Crc | DecodeError::Cobs | DecodeError::Length)), "{:?}", got[2]);
        assert_eq!(got[3].as_ref().unwrap().2, 2);
    }

    #[test]
    fn a_bad_crc_is_named_and_every_single_flip_is_caught() {
        let raw = [4u8, 0, 3, b'h', b'i', b'!', 0x12, 0x34];
        let mut enc = [0u8; 32];
        let n = cobs_encode(&raw, &mut enc[1..]).unwrap();
        let mut stream = std::vec![0u8];
        stream.extend_from_slice(&enc[1..=n]);
        stream.push(0);
        assert_eq!(feed(&stream), [Err(DecodeError::Length)]);
        let raw = [4u8, 0, 3, 3, b'h', b'i', b'!', 0x12, 0x34];
        let n = cobs_encode(&raw, &mut enc[1..]).unwrap();
        let mut stream = std::vec![0u8];
        stream.extend_from_slice(&enc[1..=n]);
        stream.push(0);
        assert_eq!(feed(&stream), [Err(DecodeError::Crc)]);

        let good =
            wire(&Frame { channel: Channel::IdCard, kind: Kind::Data, seq: 3, payload: b"\xAA\xAA\xAA\x96\x69" });
        for i in 1..good.len() - 1 {
            for bit in 0..8 {
                let mut bad = good.clone();
                bad[i] ^= 1 << bit;
                let got = feed(&bad);
                assert!(got.iter().all(|r| r.is_err()), "flip of bit {bit} in byte {i} accepted: {got:?}");
            }
        }
    }

    #[test]
    fn an_endless_run_without_delimiter_is_skipped() {
        let mut stream = std::vec![0x55u8; MAX_ENCODED * 3];
        stream.push(0);
        stream.extend_from_slice(&wire(&Frame { channel: Channel::Printer, kind: Kind::Data, seq: 9, payload: b"ok" }));
        let got = feed(&stream);
        assert_eq!(got[0], Err(DecodeError::TooLong));
        assert_eq!(got[1].as_ref().unwrap().3, b"ok");
    }

    #[test]
    fn limits() {
        let big = [1u8; MAX_PAYLOAD + 1];
        let mut buf = [0u8; MAX_ENCODED + 8];
        assert_eq!(
            encode(&Frame { channel: Channel::Control, kind: Kind::Data, seq: 0, payload: &big }, &mut buf),
            Err(EncodeError::PayloadTooLong)
        );
        let full = [0xABu8; MAX_PAYLOAD];
        let n =
            encode(&Frame { channel: Channel::Control, kind: Kind::Data, seq: 0, payload: &full }, &mut buf).unwrap();
        assert!(n <= MAX_ENCODED);
        assert_eq!(
            encode(&Frame { channel: Channel::Control, kind: Kind::Data, seq: 0, payload: &full }, &mut buf[..10]),
            Err(EncodeError::BufferTooSmall)
        );
    }

    proptest::proptest! {
        #[test]
        fn any_frame_round_trips_in_any_chunking(
            ch in 0u8..5, kind in 0u8..6, seq in proptest::num::u8::ANY,
            payload in proptest::collection::vec(proptest::num::u8::ANY, 0..=MAX_PAYLOAD),
            junk in proptest::collection::vec(1u8..=255, 0..20),
        ) {
            let f = Frame { channel: Channel::from_u8(ch).unwrap(), kind: Kind::from_u8(kind).unwrap(), seq, payload: &payload };
            let mut stream = junk.clone();
            stream.push(0);
            stream.extend_from_slice(&wire(&f));
            let got = feed(&stream);
            let last = got.last().unwrap().clone().unwrap();
            proptest::prop_assert_eq!(last, (f.channel, f.kind, seq, payload.clone()));
        }

        #[test]
        fn decoding_noise_never_panics(noise in proptest::collection::vec(proptest::num::u8::ANY, 0..2000)) {
            let _ = feed(&noise);
        }
    }
}
