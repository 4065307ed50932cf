//! The simulated ZFM/R30x fingerprint module: password, capture, image and template uploads, a
//! template downloaded and matched against the one captured, system parameters, and its baud
//! rate and packet size set over the line.
//!
//! Each finger placed is a finger of its own (a synthetic pattern of its own, unless one image
//! was configured), so that prints of different fingers do not match, except when the
//! `same-finger` command says the next finger placed is the one placed before.

use std::time::Instant;
use std::vec;
use std::vec::Vec;

use doorstep_devices::zfm::{self, Command as ZfmCommand, Confirmation, GreyImage, Pid, SystemParameters};

use super::{SharedFaults, SimDevice, lock};

/// A ZFM/R30x fingerprint module.
pub struct FingerprintModule {
    decoder: zfm::PacketDecoder,
    image: GreyImage,
    /// Each finger placed gets a pattern of its own (no image was configured).
    distinct: bool,
    /// Fingers placed so far.
    placed: u32,
    /// The two character buffers (templates), empty until filled.
    buffers: [Vec<u8>; 2],
    /// A template being downloaded into buffer (index), and its bytes so far.
    download: Option<(usize, Vec<u8>)>,
    faults: SharedFaults,
    password_ok: bool,
    packet_size: usize,
    captured: bool,
    baud: u32,
    /// A baud change takes effect after its acknowledgement has gone out.
    next_baud: Option<u32>,
}

impl FingerprintModule {
    /// The module, giving `image` for every finger placed, or, with none, a synthetic finger of
    /// its own for each.
    pub fn new(image: Option<GreyImage>, faults: SharedFaults) -> FingerprintModule {
        let distinct = image.is_none();
        FingerprintModule {
            decoder: zfm::PacketDecoder::new(),
            image: image.unwrap_or_else(|| finger(0)),
            distinct,
            placed: 0,
            buffers: [Vec::new(), Vec::new()],
            download: None,
            faults,
            password_ok: false,
            packet_size: 128,
            captured: false,
            baud: 57_600,
            next_baud: None,
        }
    }

    fn ack(out: &mut Vec<u8>, c: Confirmation, data: &[u8]) {
        let mut p = vec![c.code()];
        p.extend_from_slice(data);
        out.extend(zfm::encode_packet(zfm::DEFAULT_ADDRESS, Pid::Ack, &p));
    }

    fn data_packets(&self, out: &mut Vec<u8>, data: &[u8]) {
        let chunks: Vec<&[u8]> = data.chunks(self.packet_size).collect();
        for (i, c) in chunks.iter().enumerate() {
            let pid = if i + 1 == chunks.len() { Pid::EndData } else { Pid::Data };
            out.extend(zfm::encode_packet(zfm::DEFAULT_ADDRESS, pid, c));
        }
    }

    /// A finger placed on the sensor: a new one, unless `same-finger` asked for the last again.
    fn place(&mut self, same: bool) {
        if self.distinct && self.placed > 0 && !same {
            self.image = finger(self.placed);
        }
        self.placed += 1;
    }

    fn template(&self) -> Vec<u8> {
        // A stand-in for the module's characteristic file: 512 bytes derived from the image.
        let mut t = vec![0u8; 512];
        for (i, &p) in self.image.pixels.iter().enumerate() {
            t[i % 512] = t[i % 512].wrapping_mul(31).wrapping_add(p);
        }
        t
    }
}

impl SimDevice for FingerprintModule {
    fn native_baud(&self) -> u32 {
        self.baud
    }

    fn tick(&mut self, _now: Instant, _out: &mut Vec<u8>) {
        if let Some(b) = self.next_baud.take() {
            self.baud = b;
        }
    }

    fn receive(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        for packet in self.decoder.push(bytes) {
            let Ok(packet) = packet else {
                Self::ack(out, Confirmation::PacketError, &[]);
                continue;
            };
            // A template's data packets after DownChar: no reply, as the module gives none.
            if let Some((buffer, data)) = &mut self.download
                && matches!(packet.pid, Pid::Data | Pid::EndData)
            {
                data.extend_from_slice(&packet.payload);
                if packet.pid == Pid::EndData {
                    let (buffer, data) = (*buffer, std::mem::take(data));
                    self.buffers[buffer] = data;
                    self.download = None;
                }
                continue;
            }
            let Some(cmd) = ZfmCommand::parse(&packet.payload) else {
                Self::ack(out, Confirmation::PacketError, &[]);
                continue;
            };
            if !self.password_ok && !matches!(cmd, ZfmCommand::VerifyPassword(_)) {
                Self::ack(out, Confirmation::PasswordRequired, &[]);
                continue;
            }
            match cmd {
                ZfmCommand::VerifyPassword(pw) => {
                    self.password_ok = pw == 0;
                    Self::ack(out, if self.password_ok { Confirmation::Ok } else { Confirmation::WrongPassword }, &[]);
                }
                ZfmCommand::GenImg => {
                    let mut f = lock(&self.faults);
                    if f.no_finger > 0 {
                        f.no_finger -= 1;
                        Self::ack(out, Confirmation::NoFinger, &[]);
                    } else {
                        let same = std::mem::take(&mut f.same_finger);
                        drop(f);
                        self.place(same);
                        self.captured = true;
                        Self::ack(out, Confirmation::Ok, &[]);
                    }
                }
                ZfmCommand::Img2Tz(b @ 1..=2) if self.captured => {
                    self.buffers[usize::from(b - 1)] = self.template();
                    Self::ack(out, Confirmation::Ok, &[]);
                }
                ZfmCommand::Img2Tz(_) | ZfmCommand::RegModel | ZfmCommand::Store { .. } => {
                    Self::ack(out, if self.captured { Confirmation::Ok } else { Confirmation::NoValidImage }, &[]);
                }
                ZfmCommand::DownChar(b @ 1..=2) => {
                    self.download = Some((usize::from(b - 1), Vec::new()));
                    Self::ack(out, Confirmation::Ok, &[]);
                }
                ZfmCommand::DownChar(_) => Self::ack(out, Confirmation::PacketError, &[]),
                // The two buffers hold one finger's template when they are the same (the
                // simulator's templates are the image's, so a finger matches only itself).
                ZfmCommand::Match => {
                    let [a, b] = &self.buffers;
                    if !a.is_empty() && a == b {
                        Self::ack(out, Confirmation::Ok, &200u16.to_be_bytes());
                    } else {
                        Self::ack(out, Confirmation::NoMatch, &[0, 0]);
                    }
                }
                ZfmCommand::Search { .. } => Self::ack(out, Confirmation::NotFound, &[]),
                ZfmCommand::UpImage => {
                    if !self.captured {
                        Self::ack(out, Confirmation::NoValidImage, &[]);
                        continue;
                    }
                    Self::ack(out, Confirmation::Ok, &[]);
                    let packed = zfm::pack_image(&self.image);
                    self.data_packets(out, &packed);
                }
                ZfmCommand::UpChar(b) => {
                    Self::ack(out, Confirmation::Ok, &[]);
                    let held = self.buffers.get(usize::from(b.wrapping_sub(1))).filter(|t| !t.is_empty());
                    let t = held.cloned().unwrap_or_else(|| self.template());
                    self.data_packets(out, &t);
                }
                ZfmCommand::ReadSysPara => {
                    let p = SystemParameters {
                        status: 0,
                        system_id: 0x0009,
                        capacity: 300,
                        security_level: 3,
                        address: zfm::DEFAULT_ADDRESS,
                        packet_size_code: (self.packet_size / 32).trailing_zeros() as u16,
                        baud_n: (self.baud / 9600) as u16,
                    };
                    Self::ack(out, Confirmation::Ok, &p.to_bytes());
                }
                ZfmCommand::TemplateNum => Self::ack(out, Confirmation::Ok, &[0, 0]),
                ZfmCommand::SetSysPara { register: 4, value } if (1..=12).contains(&value) => {
                    Self::ack(out, Confirmation::Ok, &[]);
                    self.next_baud = Some(u32::from(value) * 9600);
                }
                ZfmCommand::SetSysPara { register: 6, value } if value <= 3 => {
                    self.packet_size = 32 << value;
                    Self::ack(out, Confirmation::Ok, &[]);
                }
                ZfmCommand::SetSysPara { .. } => Self::ack(out, Confirmation::InvalidRegister, &[]),
            }
        }
    }
}

/// The `n`-th synthetic finger (a loop pattern of its own, good quality): no one's real print.
fn finger(n: u32) -> GreyImage {
    doorstep_devices::quality::synthetic_fingerprint(zfm::IMAGE_WIDTH, zfm::IMAGE_HEIGHT, 1 + n, 170.0, 1.0)
}
