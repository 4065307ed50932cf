//! The ZhianTec ZFM / R30x fingerprint module's serial protocol (DOMAIN.md §6.a).
//!
//! Packet: `EF 01` | address (4, big-endian) | PID | length (2, big-endian, payload + 2) |
//! payload | checksum (2, big-endian: low 16 bits of PID + length bytes + payload).

use crate::DeviceError;

pub const HEADER: [u8; 2] = [0xEF, 0x01];
pub const DEFAULT_ADDRESS: u32 = 0xFFFF_FFFF;
/// The largest payload accepted from the module (data packets are at most 256 bytes).
pub const MAX_PAYLOAD: usize = 512;
/// Optical R30x/ZFM sensors: 256 × 288 pixels, 4 bits each, two per byte.
pub const IMAGE_WIDTH: usize = 256;
pub const IMAGE_HEIGHT: usize = 288;
pub const IMAGE_BYTES: usize = IMAGE_WIDTH * IMAGE_HEIGHT / 2;
/// The most a data transfer from the module may carry: its largest, an image. A module that
/// sends more is refused rather than buffered.
pub const MAX_UPLOAD: usize = IMAGE_BYTES;

/// Packet identifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pid {
    Command = 0x01,
    Data = 0x02,
    Ack = 0x07,
    EndData = 0x08,
}

impl Pid {
    fn from_u8(b: u8) -> Option<Pid> {
        Some(match b {
            0x01 => Pid::Command,
            0x02 => Pid::Data,
            0x07 => Pid::Ack,
            0x08 => Pid::EndData,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub address: u32,
    pub pid: Pid,
    pub payload: Vec<u8>,
}

fn checksum(pid: u8, len: u16, payload: &[u8]) -> u16 {
    let mut sum = u32::from(pid) + u32::from(len >> 8) + u32::from(len & 0xFF);
    for &b in payload {
        sum += u32::from(b);
    }
    (sum & 0xFFFF) as u16
}

/// The bytes of a packet.
pub fn encode_packet(address: u32, pid: Pid, payload: &[u8]) -> Vec<u8> {
    let len = (payload.len() + 2) as u16;
    let mut out = Vec::with_capacity(11 + payload.len());
    out.extend_from_slice(&HEADER);
    out.extend_from_slice(&address.to_be_bytes());
    out.push(pid as u8);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&checksum(pid as u8, len, payload).to_be_bytes());
    out
}

/// Reassembles packets from bytes however they are chunked; skips garbage up to the next
/// `EF 01` header.
#[derive(Debug, Default)]
pub struct PacketDecoder {
    buf: Vec<u8>,
}

impl PacketDecoder {
    pub fn new() -> PacketDecoder {
        PacketDecoder::default()
    }

    /// Bytes held waiting for the rest of a packet.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// Adds bytes and returns every packet (or packet error) now complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Result<Packet, DeviceError>> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        loop {
            if !crate::resync(&mut self.buf, &HEADER, &mut out) {
                return out;
            }
            if self.buf.len() < 9 {
                return out;
            }
            let len = usize::from(u16::from_be_bytes([self.buf[7], self.buf[8]]));
            let Some(pid) = Pid::from_u8(self.buf[6]).filter(|_| (2..=MAX_PAYLOAD + 2).contains(&len)) else {
                // Not a packet after all: drop the header bytes and look again.
                self.buf.drain(..2);
                out.push(Err(DeviceError::Garbage { bytes: 2 }));
                continue;
            };
            if self.buf.len() < 9 + len {
                return out;
            }
            let payload = self.buf[9..9 + len - 2].to_vec();
            let got = u16::from_be_bytes([self.buf[9 + len - 2], self.buf[9 + len - 1]]);
            let address = u32::from_be_bytes([self.buf[2], self.buf[3], self.buf[4], self.buf[5]]);
            let want = checksum(pid as u8, len as u16, &payload);
            self.buf.drain(..9 + len);
            out.push(if got == want { Ok(Packet { address, pid, payload }) } else { Err(DeviceError::Checksum) });
        }
    }
}

/// Commands the host sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    VerifyPassword(u32),
    GenImg,
    Img2Tz(u8),
    Match,
    Search {
        buffer: u8,
        start: u16,
        count: u16,
    },
    RegModel,
    Store {
        buffer: u8,
        page: u16,
    },
    UpChar(u8),
    /// A template into a buffer (1 or 2): the host sends it in data packets after the ack.
    DownChar(u8),
    UpImage,
    ReadSysPara,
    /// Register 4 = baud (N × 9600), 5 = security level, 6 = data packet size code.
    SetSysPara {
        register: u8,
        value: u8,
    },
    TemplateNum,
}

impl Command {
    pub fn code(&self) -> u8 {
        match self {
            Command::VerifyPassword(_) => 0x13,
            Command::GenImg => 0x01,
            Command::Img2Tz(_) => 0x02,
            Command::Match => 0x03,
            Command::Search { .. } => 0x04,
            Command::RegModel => 0x05,
            Command::Store { .. } => 0x06,
            Command::UpChar(_) => 0x08,
            Command::DownChar(_) => 0x09,
            Command::UpImage => 0x0A,
            Command::ReadSysPara => 0x0F,
            Command::SetSysPara { .. } => 0x0E,
            Command::TemplateNum => 0x1D,
        }
    }

    pub fn payload(&self) -> Vec<u8> {
        let mut p = vec![self.code()];
        match *self {
            Command::VerifyPassword(pw) => p.extend_from_slice(&pw.to_be_bytes()),
            Command::Img2Tz(b) | Command::UpChar(b) | Command::DownChar(b) => p.push(b),
            Command::Search { buffer, start, count } => {
                p.push(buffer);
                p.extend_from_slice(&start.to_be_bytes());
                p.extend_from_slice(&count.to_be_bytes());
            }
            Command::Store { buffer, page } => {
                p.push(buffer);
                p.extend_from_slice(&page.to_be_bytes());
            }
            Command::SetSysPara { register, value } => {
                p.push(register);
                p.push(value);
            }
            _ => {}
        }
        p
    }

    pub fn encode(&self, address: u32) -> Vec<u8> {
        encode_packet(address, Pid::Command, &self.payload())
    }

    /// Parses a command packet's payload (the simulator's side).
    pub fn parse(payload: &[u8]) -> Option<Command> {
        let (&code, rest) = payload.split_first()?;
        let u16_at = |i: usize| rest.get(i..i + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
        Some(match code {
            0x13 => Command::VerifyPassword(u32::from_be_bytes(rest.get(..4)?.try_into().ok()?)),
            0x01 => Command::GenImg,
            0x02 => Command::Img2Tz(*rest.first()?),
            0x03 => Command::Match,
            0x04 => Command::Search { buffer: *rest.first()?, start: u16_at(1)?, count: u16_at(3)? },
            0x05 => Command::RegModel,
            0x06 => Command::Store { buffer: *rest.first()?, page: u16_at(1)? },
            0x08 => Command::UpChar(*rest.first()?),
            0x09 => Command::DownChar(*rest.first()?),
            0x0A => Command::UpImage,
            0x0F => Command::ReadSysPara,
            0x0E => Command::SetSysPara { register: *rest.first()?, value: *rest.get(1)? },
            0x1D => Command::TemplateNum,
            _ => return None,
        })
    }
}

/// The module's confirmation codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    Ok,
    PacketError,
    NoFinger,
    CaptureFailed,
    TooDisorderly,
    TooFewFeatures,
    NoMatch,
    NotFound,
    MergeFailed,
    PageOutOfRange,
    TemplateReadError,
    UploadFeatureFailed,
    CannotReceive,
    UploadImageFailed,
    WrongPassword,
    NoValidImage,
    FlashError,
    InvalidRegister,
    PasswordRequired,
    Other(u8),
}

impl Confirmation {
    pub fn from_u8(b: u8) -> Confirmation {
        match b {
            0x00 => Confirmation::Ok,
            0x01 => Confirmation::PacketError,
            0x02 => Confirmation::NoFinger,
            0x03 => Confirmation::CaptureFailed,
            0x06 => Confirmation::TooDisorderly,
            0x07 => Confirmation::TooFewFeatures,
            0x08 => Confirmation::NoMatch,
            0x09 => Confirmation::NotFound,
            0x0A => Confirmation::MergeFailed,
            0x0B => Confirmation::PageOutOfRange,
            0x0C => Confirmation::TemplateReadError,
            0x0D => Confirmation::UploadFeatureFailed,
            0x0E => Confirmation::CannotReceive,
            0x0F => Confirmation::UploadImageFailed,
            0x13 => Confirmation::WrongPassword,
            0x15 => Confirmation::NoValidImage,
            0x18 => Confirmation::FlashError,
            0x1A => Confirmation::InvalidRegister,
            0x21 => Confirmation::PasswordRequired,
            other => Confirmation::Other(other),
        }
    }

    pub fn code(self) -> u8 {
        match self {
            Confirmation::Ok => 0x00,
            Confirmation::PacketError => 0x01,
            Confirmation::NoFinger => 0x02,
            Confirmation::CaptureFailed => 0x03,
            Confirmation::TooDisorderly => 0x06,
            Confirmation::TooFewFeatures => 0x07,
            Confirmation::NoMatch => 0x08,
            Confirmation::NotFound => 0x09,
            Confirmation::MergeFailed => 0x0A,
            Confirmation::PageOutOfRange => 0x0B,
            Confirmation::TemplateReadError => 0x0C,
            Confirmation::UploadFeatureFailed => 0x0D,
            Confirmation::CannotReceive => 0x0E,
            Confirmation::UploadImageFailed => 0x0F,
            Confirmation::WrongPassword => 0x13,
            Confirmation::NoValidImage => 0x15,
            Confirmation::FlashError => 0x18,
            Confirmation::InvalidRegister => 0x1A,
            Confirmation::PasswordRequired => 0x21,
            Confirmation::Other(b) => b,
        }
    }

    /// What the officer should do, in Chinese.
    pub fn advice_zh(self) -> &'static str {
        match self {
            Confirmation::Ok => "成功",
            Confirmation::NoFinger => "请将手指平放在采集器上",
            Confirmation::CaptureFailed | Confirmation::NoValidImage => "采集失败，请擦净采集窗口后重试",
            Confirmation::TooDisorderly | Confirmation::TooFewFeatures => {
                "指纹不清晰，请手指稍用力按压，干燥时可先哈气湿润"
            }
            Confirmation::WrongPassword | Confirmation::PasswordRequired => "指纹模块口令错误，请联系管理员",
            Confirmation::PacketError | Confirmation::CannotReceive | Confirmation::UploadImageFailed => {
                "传输出错，请检查连接线后重试"
            }
            _ => "指纹模块报错，请重试",
        }
    }

    pub fn advice_en(self) -> &'static str {
        match self {
            Confirmation::Ok => "done",
            Confirmation::NoFinger => "Place the finger flat on the sensor",
            Confirmation::CaptureFailed | Confirmation::NoValidImage => {
                "Capture failed: wipe the sensor window and retry"
            }
            Confirmation::TooDisorderly | Confirmation::TooFewFeatures => {
                "Unclear print: press a little harder; breathe on a dry finger first"
            }
            Confirmation::WrongPassword | Confirmation::PasswordRequired => {
                "The module's password is wrong: call an administrator"
            }
            Confirmation::PacketError | Confirmation::CannotReceive | Confirmation::UploadImageFailed => {
                "Transmission error: check the cable and retry"
            }
            _ => "The fingerprint module reported an error: retry",
        }
    }
}

/// The reply to ReadSysPara.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SystemParameters {
    pub status: u16,
    pub system_id: u16,
    pub capacity: u16,
    pub security_level: u16,
    pub address: u32,
    /// 0 = 32, 1 = 64, 2 = 128, 3 = 256 bytes per data packet.
    pub packet_size_code: u16,
    /// Baud = N × 9600.
    pub baud_n: u16,
}

impl SystemParameters {
    pub fn parse(data: &[u8]) -> Option<SystemParameters> {
        if data.len() < 16 {
            return None;
        }
        let w = |i: usize| u16::from_be_bytes([data[i], data[i + 1]]);
        Some(SystemParameters {
            status: w(0),
            system_id: w(2),
            capacity: w(4),
            security_level: w(6),
            address: u32::from_be_bytes([data[8], data[9], data[10], data[11]]),
            packet_size_code: w(12),
            baud_n: w(14),
        })
    }

    pub fn to_bytes(&self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[0..2].copy_from_slice(&self.status.to_be_bytes());
        b[2..4].copy_from_slice(&self.system_id.to_be_bytes());
        b[4..6].copy_from_slice(&self.capacity.to_be_bytes());
        b[6..8].copy_from_slice(&self.security_level.to_be_bytes());
        b[8..12].copy_from_slice(&self.address.to_be_bytes());
        b[12..14].copy_from_slice(&self.packet_size_code.to_be_bytes());
        b[14..16].copy_from_slice(&self.baud_n.to_be_bytes());
        b
    }

    pub fn packet_size(&self) -> usize {
        32 << self.packet_size_code.min(3)
    }

    pub fn baud(&self) -> u32 {
        u32::from(self.baud_n) * 9600
    }
}

/// An 8-bit grey image.
#[derive(Clone, PartialEq, Eq)]
pub struct GreyImage {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

impl std::fmt::Debug for GreyImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GreyImage({}×{})", self.width, self.height)
    }
}

/// Unpacks an uploaded image: two 4-bit pixels per byte, the high nibble first (the order is
/// \[U\] in DOMAIN.md; FPM duplicates each byte, which is consistent with either), scaled to 8
/// bits.
pub fn unpack_image(data: &[u8]) -> Result<GreyImage, DeviceError> {
    if data.len() != IMAGE_BYTES {
        return Err(DeviceError::ImageSize { expected: IMAGE_BYTES, got: data.len() });
    }
    let mut pixels = Vec::with_capacity(IMAGE_WIDTH * IMAGE_HEIGHT);
    for &b in data {
        pixels.push((b >> 4) * 17);
        pixels.push((b & 0x0F) * 17);
    }
    Ok(GreyImage { width: IMAGE_WIDTH, height: IMAGE_HEIGHT, pixels })
}

/// The opposite of [`unpack_image`], for the simulator.
pub fn pack_image(img: &GreyImage) -> Vec<u8> {
    img.pixels.chunks(2).map(|p| ((p[0] >> 4) << 4) | (p.get(1).copied().unwrap_or(0) >> 4)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace().map(|b| u8::from_str_radix(b, 16).unwrap()).collect()
    }

    #[test]
    fn worked_frames_from_domain_md() {
        let a = DEFAULT_ADDRESS;
        assert_eq!(Command::VerifyPassword(0).encode(a), hex("EF 01 FF FF FF FF 01 00 07 13 00 00 00 00 00 1B"));
        assert_eq!(Command::GenImg.encode(a), hex("EF 01 FF FF FF FF 01 00 03 01 00 05"));
        assert_eq!(Command::Img2Tz(1).encode(a), hex("EF 01 FF FF FF FF 01 00 04 02 01 00 08"));
        assert_eq!(Command::Img2Tz(2).encode(a), hex("EF 01 FF FF FF FF 01 00 04 02 02 00 09"));
        assert_eq!(Command::RegModel.encode(a), hex("EF 01 FF FF FF FF 01 00 03 05 00 09"));
        assert_eq!(
            Command::Store { buffer: 1, page: 1 }.encode(a),
            hex("EF 01 FF FF FF FF 01 00 06 06 01 00 01 00 0F")
        );
        assert_eq!(
            Command::Search { buffer: 1, start: 0, count: 163 }.encode(a),
            hex("EF 01 FF FF FF FF 01 00 08 04 01 00 00 00 A3 00 B1")
        );
        assert_eq!(Command::UpImage.encode(a), hex("EF 01 FF FF FF FF 01 00 03 0A 00 0E"));
        assert_eq!(Command::ReadSysPara.encode(a), hex("EF 01 FF FF FF FF 01 00 03 0F 00 13"));
        assert_eq!(encode_packet(a, Pid::Ack, &[0]), hex("EF 01 FF FF FF FF 07 00 03 00 00 0A"));
    }

    #[test]
    fn decoding_in_any_chunking_with_garbage_and_bad_checksums() {
        let ack = hex("EF 01 FF FF FF FF 07 00 03 00 00 0A");
        let mut stream = vec![0x00, 0x13, 0xEF];
        stream.extend_from_slice(&ack);
        let mut bad = ack.clone();
        bad[9] = 0x02; // "no finger" with the checksum of "OK"
        stream.extend_from_slice(&bad);
        stream.extend_from_slice(&ack);
        for chunk in [1, 2, 3, 7, 100] {
            let mut d = PacketDecoder::new();
            let mut got = Vec::new();
            for c in stream.chunks(chunk) {
                got.extend(d.push(c));
            }
            let ok: Vec<_> = got.iter().filter_map(|r| r.as_ref().ok()).collect();
            assert_eq!(ok.len(), 2, "chunk {chunk}: {got:?}");
            assert_eq!(ok[0].payload, [0]);
            assert!(got.iter().any(|r| matches!(r, Err(DeviceError::Checksum))));
            assert!(got.iter().any(|r| matches!(r, Err(DeviceError::Garbage { .. }))));
        }
    }

    #[test]
    fn commands_parse_back() {
        for c in [
            Command::VerifyPassword(7),
            Command::GenImg,
            Command::Img2Tz(2),
            Command::Search { buffer: 1, start: 3, count: 163 },
            Command::Store { buffer: 2, page: 9 },
            Command::UpChar(1),
            Command::UpImage,
            Command::ReadSysPara,
            Command::SetSysPara { register: 4, value: 12 },
        ] {
            assert_eq!(Command::parse(&c.payload()), Some(c));
        }
        assert_eq!(Command::parse(&[0x77]), None);
        assert_eq!(Command::parse(&[]), None);
    }

    #[test]
    fn confirmation_codes_and_parameters() {
        for b in 0..=0x30u8 {
            assert_eq!(Confirmation::from_u8(b).code(), b);
        }
        assert_eq!(Confirmation::from_u8(2), Confirmation::NoFinger);
        assert!(Confirmation::NoFinger.advice_zh().contains("手指"));
        let p = SystemParameters {
            status: 0,
            system_id: 9,
            capacity: 300,
            security_level: 3,
            address: DEFAULT_ADDRESS,
            packet_size_code: 2,
            baud_n: 6,
        };
        assert_eq!(SystemParameters::parse(&p.to_bytes()), Some(p));
        assert_eq!((p.packet_size(), p.baud()), (128, 57600));
    }

    #[test]
    fn images_pack_and_unpack() {
        let img = GreyImage {
            width: IMAGE_WIDTH,
            height: IMAGE_HEIGHT,
            pixels: (0..IMAGE_WIDTH * IMAGE_HEIGHT).map(|i| ((i % 16) * 17) as u8).collect(),
        };
        let packed = pack_image(&img);
        assert_eq!(packed.len(), IMAGE_BYTES);
        assert_eq!(packed[0], 0x01);
        assert_eq!(unpack_image(&packed).unwrap(), img);
        assert_eq!(
            unpack_image(&packed[1..]),
            Err(DeviceError::ImageSize { expected: IMAGE_BYTES, got: IMAGE_BYTES - 1 })
        );
    }

    proptest::proptest! {
        #[test]
        fn packets_round_trip(pid in 0usize..4, payload in proptest::collection::vec(proptest::num::u8::ANY, 0..300), addr in proptest::num::u32::ANY, split in 0usize..320) {
            let pid = [Pid::Command, Pid::Data, Pid::Ack, Pid::EndData][pid];
            let bytes = encode_packet(addr, pid, &payload);
            let mut d = PacketDecoder::new();
            let split = split.min(bytes.len());
            let mut got = d.push(&bytes[..split]);
            got.extend(d.push(&bytes[split..]));
            proptest::prop_assert_eq!(got, vec![Ok(Packet { address: addr, pid, payload })]);
        }


        /// R19: any bytes from the device, never a panic.
        #[test]
        fn noise_never_panics(noise in proptest::collection::vec(proptest::num::u8::ANY, 0..1000)) {
            let mut d = PacketDecoder::new();
            let _ = d.push(&noise);
        }
    }
}
