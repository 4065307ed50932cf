//! The second-generation ID-card reader's SAM serial protocol (DOMAIN.md §6.b).
//!
//! Request: `AA AA AA 96 69` | length (2, big-endian: bytes after it, checksum included) |
//! CMD PARA \[data\] | XOR of every byte from the length to the last data byte.
//! Response: the same, with SW1 SW2 SW3 in place of CMD PARA; SW3 is the status.

use crate::DeviceError;

pub const PREAMBLE: [u8; 5] = [0xAA, 0xAA, 0xAA, 0x96, 0x69];
/// The largest response accepted (read with fingerprint is about 2.3 KB).
pub const MAX_LEN: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    ResetSam,
    SamStatus,
    ReadSamId,
    FindCard,
    SelectCard,
    /// Text and WLT photo.
    ReadBase,
}

impl Command {
    pub fn bytes(self) -> (u8, u8) {
        match self {
            Command::ResetSam => (0x10, 0xFF),
            Command::SamStatus => (0x11, 0xFF),
            Command::ReadSamId => (0x12, 0xFF),
            Command::FindCard => (0x20, 0x01),
            Command::SelectCard => (0x20, 0x02),
            Command::ReadBase => (0x30, 0x01),
        }
    }

    pub fn from_bytes(cmd: u8, para: u8) -> Option<Command> {
        [
            Command::ResetSam,
            Command::SamStatus,
            Command::ReadSamId,
            Command::FindCard,
            Command::SelectCard,
            Command::ReadBase,
        ]
        .into_iter()
        .find(|c| c.bytes() == (cmd, para))
    }

    pub fn encode(self) -> Vec<u8> {
        let (c, p) = self.bytes();
        frame(&[c, p])
    }
}

/// A frame around `body` (CMD PARA data, or SW1 SW2 SW3 data).
pub fn frame(body: &[u8]) -> Vec<u8> {
    let len = (body.len() + 1) as u16;
    let mut out = PREAMBLE.to_vec();
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
    let chk = out[5..].iter().fold(0u8, |a, b| a ^ b);
    out.push(chk);
    out
}

/// SW3 status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Success,
    FindSuccess,
    ChecksumError,
    LengthError,
    CommandError,
    Unauthorised,
    CardAuthFailed,
    SamAuthFailed,
    VerificationError,
    UnknownCardType,
    ReadFailed,
    SamSelfTestFailed,
    SamNotAuthorised,
    FindFailed,
    SelectFailed,
    NoContent,
    Other(u8),
}

impl Status {
    pub fn from_u8(b: u8) -> Status {
        match b {
            0x90 => Status::Success,
            0x9F => Status::FindSuccess,
            0x10 => Status::ChecksumError,
            0x11 => Status::LengthError,
            0x21 => Status::CommandError,
            0x23 => Status::Unauthorised,
            0x31 => Status::CardAuthFailed,
            0x32 => Status::SamAuthFailed,
            0x33 => Status::VerificationError,
            0x40 => Status::UnknownCardType,
            0x41 => Status::ReadFailed,
            0x60 => Status::SamSelfTestFailed,
            0x66 => Status::SamNotAuthorised,
            0x80 => Status::FindFailed,
            0x81 => Status::SelectFailed,
            0x91 => Status::NoContent,
            other => Status::Other(other),
        }
    }

    pub fn code(self) -> u8 {
        match self {
            Status::Success => 0x90,
            Status::FindSuccess => 0x9F,
            Status::ChecksumError => 0x10,
            Status::LengthError => 0x11,
            Status::CommandError => 0x21,
            Status::Unauthorised => 0x23,
            Status::CardAuthFailed => 0x31,
            Status::SamAuthFailed => 0x32,
            Status::VerificationError => 0x33,
            Status::UnknownCardType => 0x40,
            Status::ReadFailed => 0x41,
            Status::SamSelfTestFailed => 0x60,
            Status::SamNotAuthorised => 0x66,
            Status::FindFailed => 0x80,
            Status::SelectFailed => 0x81,
            Status::NoContent => 0x91,
            Status::Other(b) => b,
        }
    }

    pub fn advice_zh(self) -> &'static str {
        match self {
            Status::Success | Status::FindSuccess => "成功",
            Status::FindFailed | Status::NoContent => "未检测到身份证，请将证件平放在读卡区",
            Status::SelectFailed | Status::ReadFailed => "读卡失败，请取下证件后重新放置",
            Status::CardAuthFailed | Status::SamAuthFailed | Status::VerificationError => {
                "证件认证失败，请核验证件真伪或人工录入"
            }
            Status::UnknownCardType => "无法识别的证件类型",
            _ => "读卡器报错，请重新连接读卡器",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub sw1: u8,
    pub sw2: u8,
    pub status: Status,
    pub data: Vec<u8>,
}

/// Reassembles responses (or requests, for the simulator) from a byte stream.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buf: Vec<u8>,
}

impl FrameDecoder {
    pub fn new() -> FrameDecoder {
        FrameDecoder::default()
    }

    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// Adds bytes; returns the body (after the length, before the checksum) of each complete
    /// frame, or why it was not one.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Result<Vec<u8>, DeviceError>> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        loop {
            if !crate::resync(&mut self.buf, &PREAMBLE, &mut out) {
                return out;
            }
            if self.buf.len() < 7 {
                return out;
            }
            let len = usize::from(u16::from_be_bytes([self.buf[5], self.buf[6]]));
            if !(2..=MAX_LEN).contains(&len) {
                self.buf.drain(..5);
                out.push(Err(DeviceError::Garbage { bytes: 5 }));
                continue;
            }
            if self.buf.len() < 7 + len {
                return out;
            }
            let chk = self.buf[5..7 + len - 1].iter().fold(0u8, |a, b| a ^ b);
            let body = self.buf[7..7 + len - 1].to_vec();
            let ok = chk == self.buf[7 + len - 1];
            self.buf.drain(..7 + len);
            out.push(if ok { Ok(body) } else { Err(DeviceError::Checksum) });
        }
    }
}

impl Response {
    pub fn from_body(body: &[u8]) -> Result<Response, DeviceError> {
        if body.len() < 3 {
            return Err(DeviceError::Malformed("SAM response shorter than its status words"));
        }
        Ok(Response { sw1: body[0], sw2: body[1], status: Status::from_u8(body[2]), data: body[3..].to_vec() })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut body = vec![self.sw1, self.sw2, self.status.code()];
        body.extend_from_slice(&self.data);
        frame(&body)
    }
}

/// The identity as read from the card's text block. `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct CardIdentity {
    pub name: String,
    /// GB/T 2261: '1' male, '2' female.
    pub sex_code: char,
    /// "01"…"56", "97", "98".
    pub nation_code: String,
    /// YYYYMMDD.
    pub birth_date: String,
    pub address: String,
    pub id_number: String,
    pub issuer: String,
    pub valid_from: String,
    /// YYYYMMDD or 长期.
    pub valid_until: String,
    /// The WLT-compressed photo, kept opaque (decoding needs the licensed vendor library).
    pub wlt_photo: Vec<u8>,
}

impl std::fmt::Debug for CardIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CardIdentity(<redacted>, photo {} bytes)", self.wlt_photo.len())
    }
}

/// Character offset and length of each field in the 128-character text block.
const FIELDS: [(usize, usize); 9] =
    [(0, 15), (15, 1), (16, 2), (18, 8), (26, 35), (61, 18), (79, 15), (94, 8), (102, 8)];
pub const TEXT_LEN: usize = 256;
pub const PHOTO_LEN: usize = 1024;

impl CardIdentity {
    /// Parses the data of a ReadBase response: text length (2), photo length (2), the
    /// UTF-16LE text block, the WLT photo.
    pub fn parse(data: &[u8]) -> Result<CardIdentity, DeviceError> {
        if data.len() < 4 {
            return Err(DeviceError::Malformed("card data shorter than its lengths"));
        }
        let text_len = usize::from(u16::from_be_bytes([data[0], data[1]]));
        let photo_len = usize::from(u16::from_be_bytes([data[2], data[3]]));
        if text_len != TEXT_LEN || data.len() != 4 + text_len + photo_len {
            return Err(DeviceError::Malformed("card data lengths do not add up"));
        }
        let units: Vec<u16> = data[4..4 + TEXT_LEN].chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        let field = |(at, len): (usize, usize)| -> Result<String, DeviceError> {
            let s = String::from_utf16(&units[at..at + len])
                .map_err(|_| DeviceError::Malformed("card text is not UTF-16"))?;
            Ok(s.trim_end_matches([' ', '\0']).to_string())
        };
        let f: Vec<String> = FIELDS.iter().map(|&r| field(r)).collect::<Result<_, _>>()?;
        Ok(CardIdentity {
            name: f[0].clone(),
            sex_code: f[1].chars().next().unwrap_or(' '),
            nation_code: f[2].clone(),
            birth_date: f[3].clone(),
            address: f[4].clone(),
            id_number: f[5].clone(),
            issuer: f[6].clone(),
            valid_from: f[7].clone(),
            valid_until: f[8].clone(),
            wlt_photo: data[4 + TEXT_LEN..].to_vec(),
        })
    }

    /// The data of a ReadBase response for this identity (the simulator's side).
    pub fn to_data(&self) -> Vec<u8> {
        let values = [
            self.name.clone(),
            self.sex_code.to_string(),
            self.nation_code.clone(),
            self.birth_date.clone(),
            self.address.clone(),
            self.id_number.clone(),
            self.issuer.clone(),
            self.valid_from.clone(),
            self.valid_until.clone(),
        ];
        let mut units = vec![0x0020u16; TEXT_LEN / 2];
        for ((at, len), v) in FIELDS.iter().zip(values) {
            for (i, u) in v.encode_utf16().take(*len).enumerate() {
                units[at + i] = u;
            }
        }
        let mut data = Vec::with_capacity(4 + TEXT_LEN + self.wlt_photo.len());
        data.extend_from_slice(&(TEXT_LEN as u16).to_be_bytes());
        data.extend_from_slice(&(self.wlt_photo.len() as u16).to_be_bytes());
        data.extend(units.iter().flat_map(|u| u.to_le_bytes()));
        data.extend_from_slice(&self.wlt_photo);
        data
    }
}

/// The published example identity number (DOMAIN.md §2) with an obviously fake name and
/// address, for the simulator, demos and tests.
pub fn example_identity() -> CardIdentity {
    CardIdentity {
        name: "测试".into(),
        sex_code: '2',
        nation_code: "01".into(),
        birth_date: "19491231".into(),
        address: "北京市朝阳区测试路1号".into(),
        id_number: "11010519491231002X".into(),
        issuer: "北京市公安局朝阳分局".into(),
        valid_from: "20200101".into(),
        valid_until: "长期".into(),
        wlt_photo: (0..PHOTO_LEN).map(|i| (i * 31 % 251) as u8).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace().map(|b| u8::from_str_radix(b, 16).unwrap()).collect()
    }

    #[test]
    fn worked_frames_from_domain_md() {
        assert_eq!(Command::SamStatus.encode(), hex("AA AA AA 96 69 00 03 11 FF ED"));
        assert_eq!(Command::ReadSamId.encode(), hex("AA AA AA 96 69 00 03 12 FF EE"));
        assert_eq!(Command::FindCard.encode(), hex("AA AA AA 96 69 00 03 20 01 22"));
        assert_eq!(Command::SelectCard.encode(), hex("AA AA AA 96 69 00 03 20 02 21"));
        assert_eq!(Command::ReadBase.encode(), hex("AA AA AA 96 69 00 03 30 01 32"));
        assert_eq!(Command::ResetSam.encode(), hex("AA AA AA 96 69 00 03 10 FF EC"));
        assert_eq!(frame(&[0x61, 0xFF, 0x50]), hex("AA AA AA 96 69 00 04 61 FF 50 CA"));
    }

    fn example() -> CardIdentity {
        example_identity()
    }

    #[test]
    fn the_read_response_is_1295_bytes_and_parses_back() {
        let r = Response { sw1: 0, sw2: 0, status: Status::Success, data: example().to_data() };
        let bytes = r.encode();
        assert_eq!(bytes.len(), 1295);
        assert_eq!(&bytes[5..7], &[0x05, 0x08]);
        let mut d = FrameDecoder::new();
        let mut bodies = Vec::new();
        for c in bytes.chunks(13) {
            bodies.extend(d.push(c));
        }
        assert_eq!(bodies.len(), 1);
        let resp = Response::from_body(bodies[0].as_ref().unwrap()).unwrap();
        assert_eq!(resp.status, Status::Success);
        let id = CardIdentity::parse(&resp.data).unwrap();
        assert_eq!(id, example());
        assert!(!format!("{id:?}").contains("测试"));
    }

    #[test]
    fn statuses_and_errors() {
        for b in 0..=255u8 {
            assert_eq!(Status::from_u8(b).code(), b);
        }
        assert!(Status::FindFailed.advice_zh().contains("身份证"));
        let mut bytes = Command::FindCard.encode();
        bytes[8] ^= 1;
        let mut d = FrameDecoder::new();
        let mut input = vec![0x00, 0xAA, 0x55];
        input.extend_from_slice(&bytes);
        input.extend_from_slice(&Command::FindCard.encode());
        let got = d.push(&input);
        assert!(got.iter().any(|r| matches!(r, Err(DeviceError::Checksum))));
        assert!(got.iter().any(|r| matches!(r, Err(DeviceError::Garbage { .. }))));
        assert_eq!(got.last().unwrap().as_ref().unwrap(), &vec![0x20, 0x01]);
        assert!(matches!(CardIdentity::parse(&[0, 1]), Err(DeviceError::Malformed(_))));
        assert!(matches!(CardIdentity::parse(&example().to_data()[..300]), Err(DeviceError::Malformed(_))));
    }

    proptest::proptest! {
        /// R19: any bytes from the device, never a panic.
        #[test]
        fn noise_never_panics(noise in proptest::collection::vec(proptest::num::u8::ANY, 0..2000)) {
            let mut d = FrameDecoder::new();
            for r in d.push(&noise).into_iter().flatten() {
                let _ = Response::from_body(&r).map(|r| CardIdentity::parse(&r.data));
            }
        }
    }
}
