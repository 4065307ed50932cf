//! The simulated ZFM/R30x fingerprint module: password, capture, image and template uploads,
//! system parameters, and its baud rate and packet size set over the line.

use std::time::Instant;
use std::vec;
use std::vec::Vec;

use doorstep_devices::zfm::{self, Command as ZfmCommand, Confirmation, GreyImage, Pid, SystemParameters};

use super::{SharedFaults, SimDevice, lock};

/// A ZFM/R30x fingerprint module.
pub struct FingerprintModule {
    decoder: zfm::PacketDecoder,
    image: GreyImage,
    faults: SharedFaults,
    password_ok: bool,
    packet_size: usize,
    captured: bool,
    baud: u32,
    /// A baud change takes effect after its acknowledgement has gone out.
    next_baud: Option<u32>,
}

impl FingerprintModule {
    pub fn new(image: GreyImage, faults: SharedFaults) -> FingerprintModule {
        FingerprintModule {
            decoder: zfm::PacketDecoder::new(),
            image,
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
                        self.captured = true;
                        Self::ack(out, Confirmation::Ok, &[]);
                    }
                }
                ZfmCommand::Img2Tz(_) | ZfmCommand::RegModel | ZfmCommand::Store { .. } => {
                    Self::ack(out, if self.captured { Confirmation::Ok } else { Confirmation::NoValidImage }, &[]);
                }
                ZfmCommand::Search { .. } | ZfmCommand::Match => Self::ack(out, Confirmation::NotFound, &[]),
                ZfmCommand::UpImage => {
                    if !self.captured {
                        Self::ack(out, Confirmation::NoValidImage, &[]);
                        continue;
                    }
                    Self::ack(out, Confirmation::Ok, &[]);
                    let packed = zfm::pack_image(&self.image);
                    self.data_packets(out, &packed);
                }
                ZfmCommand::UpChar(_) => {
                    Self::ack(out, Confirmation::Ok, &[]);
                    let t = self.template();
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
