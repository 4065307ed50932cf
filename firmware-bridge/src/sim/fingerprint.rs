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
    /// The image configured, if one was: each finger placed is a variant of it.
    configured: Option<GreyImage>,
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
        FingerprintModule {
            decoder: zfm::PacketDecoder::new(),
            image: image.clone().unwrap_or_else(|| finger(0)),
            configured: image,
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
        if self.placed > 0 && !same {
            self.image = match &self.configured {
                Some(image) => variant(image, self.placed),
                None => finger(self.placed),
            };
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
            // A template's data packets after DownChar: no reply, as the module gives none. Data
            // with no download asked for is dropped; one longer than a template ends the
            // download with the buffer empty (Match then fails rather than use an old one).
            if matches!(packet.pid, Pid::Data | Pid::EndData) {
                if let Some((buffer, data)) = &mut self.download {
                    data.extend_from_slice(&packet.payload);
                    if data.len() > zfm::MAX_PAYLOAD {
                        self.buffers[*buffer].clear();
                        self.download = None;
                    } else if packet.pid == Pid::EndData {
                        let (buffer, data) = (*buffer, std::mem::take(data));
                        self.buffers[buffer] = data;
                        self.download = None;
                    }
                }
                continue;
            }
            // A command while a download is unfinished ends it, the buffer empty.
            if let Some((buffer, _)) = self.download.take() {
                self.buffers[buffer].clear();
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
                    self.buffers[usize::from(b - 1)].clear();
                    self.download = Some((usize::from(b - 1), Vec::new()));
                    Self::ack(out, Confirmation::Ok, &[]);
                }
                ZfmCommand::DownChar(_) => Self::ack(out, Confirmation::PacketError, &[]),
                // The two buffers hold one finger's template when they are the same (the
                // simulator's templates are the image's, so a finger matches only itself).
                ZfmCommand::Match => {
                    let [a, b] = &self.buffers;
                    if a.is_empty() || b.is_empty() {
                        Self::ack(out, Confirmation::TemplateReadError, &[0, 0]);
                    } else if a == b {
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

/// The `n`-th finger placed when one image was configured: the image shifted along its rows by a
/// step of its own (the same ridges, another finger's template).
fn variant(image: &GreyImage, n: u32) -> GreyImage {
    let w = image.width.max(1);
    let shift = (n as usize * 37) % w;
    let mut pixels = image.pixels.clone();
    for row in pixels.chunks_mut(w) {
        row.rotate_left(shift.min(row.len()));
    }
    GreyImage { width: image.width, height: image.height, pixels }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends `packets` and gives the confirmation codes of the acks that came back.
    fn send(m: &mut FingerprintModule, packets: &[(Pid, Vec<u8>)]) -> Vec<Confirmation> {
        let mut out = Vec::new();
        for (pid, payload) in packets {
            m.receive(&zfm::encode_packet(zfm::DEFAULT_ADDRESS, *pid, payload), &mut out);
        }
        let mut d = zfm::PacketDecoder::new();
        d.push(&out)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|p| p.pid == Pid::Ack)
            .map(|p| Confirmation::from_u8(p.payload[0]))
            .collect()
    }

    fn cmd(c: ZfmCommand) -> (Pid, Vec<u8>) {
        (Pid::Command, c.payload())
    }

    /// Places a finger and fills buffer 1 with its template; gives the template.
    fn capture(m: &mut FingerprintModule) -> Vec<u8> {
        assert_eq!(send(m, &[cmd(ZfmCommand::GenImg), cmd(ZfmCommand::Img2Tz(1))]), [Confirmation::Ok; 2]);
        m.buffers[0].clone()
    }

    fn module(image: Option<GreyImage>) -> FingerprintModule {
        let mut m = FingerprintModule::new(image, SharedFaults::default());
        assert_eq!(send(&mut m, &[cmd(ZfmCommand::VerifyPassword(0))]), [Confirmation::Ok]);
        m
    }

    fn download(template: &[u8]) -> Vec<(Pid, Vec<u8>)> {
        vec![
            cmd(ZfmCommand::DownChar(2)),
            (Pid::Data, template[..256].to_vec()),
            (Pid::EndData, template[256..].to_vec()),
        ]
    }

    /// With one image configured (the standalone simulator's `--fingerprint`), each finger placed
    /// is still a finger of its own: it matches itself and not the one before.
    #[test]
    fn a_configured_image_still_gives_a_finger_of_its_own_each_time() {
        let image = finger(5);
        let mut m = module(Some(image.clone()));
        let first = capture(&mut m);
        assert_eq!(m.image, image, "the configured image first");
        let second = capture(&mut m);
        assert_ne!(first, second);
        let mut asked = download(&first);
        asked.push(cmd(ZfmCommand::Match));
        assert_eq!(send(&mut m, &asked), [Confirmation::Ok, Confirmation::NoMatch]);
        let mut asked = download(&second);
        asked.push(cmd(ZfmCommand::Match));
        assert_eq!(send(&mut m, &asked), [Confirmation::Ok, Confirmation::Ok]);
    }

    /// A download cut short by a command, too long, or never asked for leaves no old template
    /// to match against: Match says it has none to read.
    #[test]
    fn a_broken_download_leaves_nothing_to_match() {
        let mut m = module(None);
        let t = capture(&mut m);
        assert_eq!(send(&mut m, &[cmd(ZfmCommand::Match)]), [Confirmation::TemplateReadError], "nothing downloaded");
        // Cut short: DownChar, half the template, then a command.
        let cut = [cmd(ZfmCommand::DownChar(2)), (Pid::Data, t[..256].to_vec()), cmd(ZfmCommand::Match)];
        assert_eq!(send(&mut m, &cut), [Confirmation::Ok, Confirmation::TemplateReadError]);
        // Too long: more than a template.
        let long = [cmd(ZfmCommand::DownChar(2)), (Pid::Data, vec![1; 400]), (Pid::EndData, vec![1; 400])];
        assert_eq!(send(&mut m, &long), [Confirmation::Ok]);
        assert_eq!(send(&mut m, &[cmd(ZfmCommand::Match)]), [Confirmation::TemplateReadError]);
        // Data with no download asked for: no reply, and it is no command (0x01 would place a
        // finger).
        let placed = m.placed;
        assert!(send(&mut m, &[(Pid::EndData, vec![0x01])]).is_empty());
        assert_eq!(m.placed, placed);
        // A download whole after all that: the finger matches itself.
        let mut asked = download(&t);
        asked.push(cmd(ZfmCommand::Match));
        assert_eq!(send(&mut m, &asked), [Confirmation::Ok, Confirmation::Ok]);
    }
}
