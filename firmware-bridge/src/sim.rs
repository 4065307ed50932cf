//! The host simulator: the bridge's firmware logic on a pseudo-terminal, with simulated
//! devices that speak the real protocols, paced at the configured baud rates, and faults on
//! request (corrupt or dropped bytes, a disconnect, a device that stops answering).

extern crate std;

use std::collections::VecDeque;
use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::string::{String, ToString};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use std::vec::Vec;
use std::{boxed::Box, format, vec};

use doorstep_devices::quality::synthetic_fingerprint;
use doorstep_devices::sam::{self, CardIdentity};
use doorstep_devices::zfm::{self, Command as ZfmCommand, Confirmation, GreyImage, Pid, SystemParameters};
use doorstep_devices::{escpos, nmea};
use doorstep_link::Channel;
use embedded_io::{ErrorKind, ErrorType};
use serialport::{SerialPort, TTYPort};

use crate::{Board, Bridge, DevicePort};

/// Faults the simulator injects, changeable while it runs.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Probability per byte (to the tablet) of flipping a bit.
    pub corrupt_rate: f64,
    /// Probability per byte (to the tablet) of losing it.
    pub drop_rate: f64,
    /// Until then, the link is cut: nothing passes either way.
    pub disconnected_until: Option<Instant>,
    /// Devices that stop answering, by channel.
    pub silent: [bool; Channel::COUNT],
    /// GenImg answers "no finger" this many more times.
    pub no_finger: u32,
    /// Flip a bit in the byte to the tablet after this many more bytes (one-shot).
    pub corrupt_after: Option<u64>,
}

pub type SharedFaults = Arc<Mutex<Faults>>;

fn lock(f: &SharedFaults) -> std::sync::MutexGuard<'_, Faults> {
    f.lock().unwrap_or_else(|e| e.into_inner())
}

fn drop_guard<T>(_guard: T) {}

/// A small deterministic RNG for fault injection.
struct XorShift(u64);

impl XorShift {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The pty master as the bridge's host port: paced at the link's baud (10 bits a byte).
pub struct PtyHost {
    port: TTYPort,
    baud: u32,
    next_free: Instant,
    faults: SharedFaults,
    rng: XorShift,
    pub paced: bool,
}

impl ErrorType for PtyHost {
    type Error = ErrorKind;
}

impl PtyHost {
    fn cut(&self) -> bool {
        lock(&self.faults).disconnected_until.is_some_and(|t| Instant::now() < t)
    }
}

impl embedded_io::Read for PtyHost {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        match self.port.read(buf) {
            Ok(_) if self.cut() => Ok(0),
            Ok(n) => Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut || e.kind() == std::io::ErrorKind::WouldBlock => Ok(0),
            Err(_) => Err(ErrorKind::Other),
        }
    }
}

impl embedded_io::ReadReady for PtyHost {
    fn read_ready(&mut self) -> Result<bool, ErrorKind> {
        Ok(self.port.bytes_to_read().map_err(|_| ErrorKind::Other)? > 0)
    }
}

/// A UART's transmit FIFO: up to this many bytes may be handed over ahead of the line.
const FIFO: u32 = 16;

impl PtyHost {
    fn byte_time(&self) -> Duration {
        Duration::from_nanos(10 * 1_000_000_000 / u64::from(self.baud))
    }

    /// How many bytes the line can take now: what the FIFO holds beyond what is still being
    /// sent. Idle time is not banked beyond one FIFO's worth.
    fn room(&self) -> usize {
        let now = Instant::now();
        let fifo = self.byte_time() * FIFO;
        let start = self.next_free.max(now.checked_sub(fifo).unwrap_or(now));
        let ahead = (now + fifo).saturating_duration_since(start);
        (ahead.as_nanos() / self.byte_time().as_nanos().max(1)) as usize
    }
}

impl embedded_io::Write for PtyHost {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        let n = if self.paced { buf.len().min(self.room()).max(1) } else { buf.len() };
        if self.paced {
            let now = Instant::now();
            let fifo = self.byte_time() * FIFO;
            let start = self.next_free.max(now.checked_sub(fifo).unwrap_or(now));
            self.next_free = start + self.byte_time() * n as u32;
        }
        if self.cut() {
            return Ok(n);
        }
        let mut f = lock(&self.faults);
        let (corrupt, drop) = (f.corrupt_rate, f.drop_rate);
        let mut out = Vec::with_capacity(n);
        for &b in &buf[..n] {
            if drop > 0.0 && self.rng.next_f64() < drop {
                continue;
            }
            let mut b = if corrupt > 0.0 && self.rng.next_f64() < corrupt { b ^ (1 << (self.rng.0 % 8)) } else { b };
            match f.corrupt_after {
                Some(0) => {
                    b ^= 0x10;
                    f.corrupt_after = None;
                }
                Some(k) => f.corrupt_after = Some(k - 1),
                None => {}
            }
            out.push(b);
        }
        drop_guard(f);
        self.port.write_all(&out).map_err(|_| ErrorKind::Other)?;
        Ok(n)
    }

    fn flush(&mut self) -> Result<(), ErrorKind> {
        self.port.flush().map_err(|_| ErrorKind::Other)
    }
}

impl embedded_io::WriteReady for PtyHost {
    fn write_ready(&mut self) -> Result<bool, ErrorKind> {
        Ok(!self.paced || self.room() > 0)
    }
}

/// A simulated peripheral: bytes in from the bridge, bytes out to it.
pub trait SimDevice: Send {
    fn receive(&mut self, bytes: &[u8], out: &mut Vec<u8>);
    fn tick(&mut self, _now: Instant, _out: &mut Vec<u8>) {}
    /// The device's own line rate. When the bridge's port is set to another, each side sees
    /// the other's bytes as garbage, as on a real UART.
    fn native_baud(&self) -> u32;
}

/// What a byte sent at one rate looks like when read at another: not the same byte.
fn garble(b: u8) -> u8 {
    b.rotate_left(3) ^ 0xA5
}

/// A device's UART as seen by the bridge: paced at the device's baud.
pub struct SimUart {
    channel: Channel,
    device: Box<dyn SimDevice>,
    pending: VecDeque<u8>,
    baud: u32,
    released_at: Instant,
    faults: SharedFaults,
    paced: bool,
}

impl SimUart {
    fn mismatched(&self) -> bool {
        self.baud != self.device.native_baud()
    }

    fn silent(&self) -> bool {
        lock(&self.faults).silent[self.channel.index()]
    }

    /// Bytes the device has put on the wire by now.
    fn available(&self) -> usize {
        if !self.paced {
            return self.pending.len();
        }
        let elapsed = Instant::now().saturating_duration_since(self.released_at);
        let bytes = (elapsed.as_nanos() * u128::from(self.baud) / 10 / 1_000_000_000) as usize;
        bytes.min(self.pending.len())
    }

    fn tick(&mut self, now: Instant) {
        if self.silent() {
            return;
        }
        let mut out = Vec::new();
        self.device.tick(now, &mut out);
        self.queue(out);
    }

    fn queue(&mut self, mut out: Vec<u8>) {
        if out.is_empty() {
            return;
        }
        if self.mismatched() {
            out.iter_mut().for_each(|b| *b = garble(*b));
        }
        if self.pending.is_empty() {
            self.released_at = Instant::now();
        }
        self.pending.extend(out);
    }
}

impl ErrorType for SimUart {
    type Error = ErrorKind;
}

impl embedded_io::Read for SimUart {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        let n = self.available().min(buf.len());
        for b in buf.iter_mut().take(n) {
            *b = self.pending.pop_front().unwrap_or(0);
        }
        if self.paced && n > 0 {
            self.released_at += Duration::from_nanos(n as u64 * 10 * 1_000_000_000 / u64::from(self.baud));
        }
        Ok(n)
    }
}

impl embedded_io::ReadReady for SimUart {
    fn read_ready(&mut self) -> Result<bool, ErrorKind> {
        Ok(self.available() > 0)
    }
}

impl embedded_io::Write for SimUart {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        if !self.silent() {
            let mut out = Vec::new();
            if self.mismatched() {
                let garbled: Vec<u8> = buf.iter().map(|&b| garble(b)).collect();
                self.device.receive(&garbled, &mut out);
            } else {
                self.device.receive(buf, &mut out);
            }
            self.queue(out);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

impl embedded_io::WriteReady for SimUart {
    fn write_ready(&mut self) -> Result<bool, ErrorKind> {
        Ok(true)
    }
}

impl DevicePort for SimUart {
    fn set_baud(&mut self, baud: u32) {
        self.baud = baud.max(1200);
    }

    fn present(&self) -> bool {
        !self.silent()
    }
}

// ---------------------------------------------------------------------------------------
// The devices.

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

/// A SAM ID-card reader with a card on it.
pub struct CardReader {
    decoder: sam::FrameDecoder,
    card: CardIdentity,
    read_at: Option<Instant>,
}

impl CardReader {
    pub fn new(card: CardIdentity) -> CardReader {
        CardReader { decoder: sam::FrameDecoder::new(), card, read_at: None }
    }
}

impl SimDevice for CardReader {
    fn native_baud(&self) -> u32 {
        115_200
    }

    fn receive(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        for body in self.decoder.push(bytes) {
            let reply = |status: sam::Status, data: Vec<u8>| sam::Response { sw1: 0, sw2: 0, status, data }.encode();
            let Ok(body) = body else {
                out.extend(reply(sam::Status::ChecksumError, vec![]));
                continue;
            };
            let cmd = match body.as_slice() {
                [c, p, ..] => sam::Command::from_bytes(*c, *p),
                _ => None,
            };
            // After a read the card must be lifted and put back: the simulator puts it back
            // after a second.
            let card_ready = self.read_at.is_none_or(|t| t.elapsed() > Duration::from_secs(1));
            let r = match cmd {
                Some(sam::Command::FindCard) if card_ready => reply(sam::Status::FindSuccess, vec![0; 4]),
                Some(sam::Command::FindCard) => reply(sam::Status::FindFailed, vec![]),
                Some(sam::Command::SelectCard) => reply(sam::Status::Success, vec![0; 8]),
                Some(sam::Command::ReadBase) => {
                    self.read_at = Some(Instant::now());
                    reply(sam::Status::Success, self.card.to_data())
                }
                Some(sam::Command::SamStatus | sam::Command::ResetSam) => reply(sam::Status::Success, vec![]),
                Some(sam::Command::ReadSamId) => reply(sam::Status::Success, vec![0x05; 16]),
                None => reply(sam::Status::CommandError, vec![]),
            };
            out.extend(r);
        }
    }
}

/// An NMEA receiver moving along a small loop, losing its fix for 5 s in every 30.
pub struct GnssReceiver {
    started: Instant,
    last: Option<Instant>,
}

impl GnssReceiver {
    pub fn new() -> GnssReceiver {
        GnssReceiver { started: Instant::now(), last: None }
    }
}

impl Default for GnssReceiver {
    fn default() -> Self {
        GnssReceiver::new()
    }
}

impl SimDevice for GnssReceiver {
    fn native_baud(&self) -> u32 {
        9_600
    }

    fn receive(&mut self, _bytes: &[u8], _out: &mut Vec<u8>) {}

    fn tick(&mut self, now: Instant, out: &mut Vec<u8>) {
        if self.last.is_some_and(|t| now.duration_since(t) < Duration::from_secs(1)) {
            return;
        }
        self.last = Some(now);
        let secs = now.duration_since(self.started).as_secs();
        let utc = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let (h, m, s) = ((utc / 3600) % 24, (utc / 60) % 60, utc % 60);
        let days = utc / 86_400;
        let (y, mo, d) = civil_from_days(days as i64);
        let time = format!("{h:02}{m:02}{s:02}.00");
        let date = format!("{d:02}{mo:02}{:02}", y % 100);
        // A loop of about 100 m around a point in Beijing.
        let angle = secs as f64 / 60.0 * std::f64::consts::TAU;
        let lat = 39.9087 + 0.0005 * angle.sin();
        let lon = 116.3975 + 0.0006 * angle.cos();
        let nmea_lat = format!("{:02}{:07.4}", lat.trunc() as u32, lat.fract() * 60.0);
        let nmea_lon = format!("{:03}{:07.4}", lon.trunc() as u32, lon.fract() * 60.0);
        let fix = secs % 30 < 25;
        if fix {
            out.extend(
                nmea::with_checksum(&format!("GNGGA,{time},{nmea_lat},N,{nmea_lon},E,1,09,0.9,44.0,M,-8.0,M,,"))
                    .bytes(),
            );
            out.extend(
                nmea::with_checksum(&format!("GNRMC,{time},A,{nmea_lat},N,{nmea_lon},E,0.5,90.0,{date},,,A")).bytes(),
            );
        } else {
            out.extend(nmea::with_checksum(&format!("GNGGA,{time},,,,,0,00,99.9,,M,,M,,")).bytes());
            out.extend(nmea::with_checksum(&format!("GNRMC,{time},V,,,,,,,{date},,,N")).bytes());
        }
    }
}

/// Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// An ESC/POS printer: keeps every byte, and on each cut saves the receipt's bytes and a
/// PNG of it into `out_dir`.
pub struct Printer {
    received: Vec<u8>,
    out_dir: Option<PathBuf>,
    count: usize,
    pub receipts: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Printer {
    pub fn new(out_dir: Option<PathBuf>) -> Printer {
        Printer { received: Vec::new(), out_dir, count: 0, receipts: Arc::default() }
    }
}

impl SimDevice for Printer {
    fn native_baud(&self) -> u32 {
        9_600
    }

    fn receive(&mut self, bytes: &[u8], _out: &mut Vec<u8>) {
        self.received.extend_from_slice(bytes);
        // A cut (GS V 0) ends a receipt.
        while let Some(pos) = self.received.windows(3).position(|w| w == [0x1D, 0x56, 0x00]) {
            let receipt: Vec<u8> = self.received.drain(..pos + 3).collect();
            self.count += 1;
            if let Some(dir) = &self.out_dir {
                let _ = std::fs::create_dir_all(dir);
                let _ = std::fs::write(dir.join(format!("receipt-{}.bin", self.count)), &receipt);
                if let Ok(png) = render_receipt(&receipt) {
                    let _ = png.save(dir.join(format!("receipt-{}.png", self.count)));
                }
            }
            lock_receipts(&self.receipts).push(receipt);
        }
    }
}

fn lock_receipts(r: &Arc<Mutex<Vec<Vec<u8>>>>) -> std::sync::MutexGuard<'_, Vec<Vec<u8>>> {
    r.lock().unwrap_or_else(|e| e.into_inner())
}

/// The CJK font, for drawing receipts.
const FONT: &[u8] = include_bytes!("../../assets/fonts/NotoSansSC-doorstep.otf");
/// A 58 mm thermal printer: 384 dots across.
const PAPER_WIDTH: u32 = 384;

/// Draws what a receipt's bytes print, as a thermal printer would: black on white, 384 dots wide.
pub fn render_receipt(bytes: &[u8]) -> Result<image::GrayImage, String> {
    let items = escpos::parse(bytes).map_err(|e| e.to_string())?;
    use ab_glyph::{Font as _, ScaleFont as _};
    let font = ab_glyph::FontRef::try_from_slice(FONT).map_err(|e| e.to_string())?;
    let mut rows: Vec<Vec<u8>> = Vec::new();
    let blank = |rows: &mut Vec<Vec<u8>>, n: usize| rows.extend((0..n).map(|_| vec![255u8; PAPER_WIDTH as usize]));
    blank(&mut rows, 8);
    for item in items {
        match item {
            escpos::PrintItem::Text { text, align, double } => {
                let size = if double { 44.0 } else { 24.0 };
                let scaled = font.as_scaled(size);
                let line_h = (size * 1.3) as usize;
                let width: f32 = text.chars().map(|c| scaled.h_advance(font.glyph_id(c))).sum();
                let x0 = match align {
                    escpos::Align::Left => 4.0,
                    escpos::Align::Centre => ((PAPER_WIDTH as f32 - width) / 2.0).max(0.0),
                    escpos::Align::Right => (PAPER_WIDTH as f32 - width - 4.0).max(0.0),
                };
                let top = rows.len();
                blank(&mut rows, line_h);
                let baseline = top as f32 + scaled.ascent() + (line_h as f32 - scaled.height()) / 2.0;
                let mut x = x0;
                for c in text.chars() {
                    let id = font.glyph_id(c);
                    let glyph = id.with_scale_and_position(size, ab_glyph::point(x, baseline));
                    if let Some(outline) = font.outline_glyph(glyph) {
                        let b = outline.px_bounds();
                        outline.draw(|gx, gy, cov| {
                            let (px, py) = (b.min.x as i32 + gx as i32, b.min.y as i32 + gy as i32);
                            if cov > 0.45
                                && px >= 0
                                && (px as u32) < PAPER_WIDTH
                                && py >= 0
                                && (py as usize) < rows.len()
                            {
                                rows[py as usize][px as usize] = 0;
                            }
                        });
                    }
                    x += scaled.h_advance(id);
                }
            }
            escpos::PrintItem::Qr(data) => {
                let code = qrcode::QrCode::new(data.as_bytes()).map_err(|e| e.to_string())?;
                let modules = code.width();
                let scale = 6usize;
                let size = modules * scale;
                let x0 = (PAPER_WIDTH as usize).saturating_sub(size) / 2;
                let top = rows.len();
                blank(&mut rows, size + 16);
                for (i, dark) in code.to_colors().into_iter().enumerate() {
                    if dark == qrcode::Color::Dark {
                        let (mx, my) = (i % modules, i / modules);
                        for dy in 0..scale {
                            for dx in 0..scale {
                                let x = x0 + mx * scale + dx;
                                if x < PAPER_WIDTH as usize {
                                    rows[top + 8 + my * scale + dy][x] = 0;
                                }
                            }
                        }
                    }
                }
            }
            escpos::PrintItem::Cut => {
                blank(&mut rows, 16);
                rows.push(vec![128u8; PAPER_WIDTH as usize]);
            }
        }
    }
    let h = rows.len() as u32;
    image::GrayImage::from_raw(PAPER_WIDTH, h, rows.concat()).ok_or_else(|| "receipt image".to_string())
}

// ---------------------------------------------------------------------------------------
// The simulator.

/// Settings of a simulator run.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The tablet link's baud rate.
    pub link_baud: u32,
    /// Pace bytes at the baud rates (off only for quick unit tests).
    pub paced: bool,
    pub printer_out: Option<PathBuf>,
    pub fingerprint: Option<GreyImage>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig { link_baud: 115_200, paced: true, printer_out: None, fingerprint: None }
    }
}

/// The demo print in `assets/demo/fingerprints/finger-good-1.png`, if it is there and the
/// sensor's size.
pub fn demo_fingerprint() -> Option<GreyImage> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../assets/demo/fingerprints/finger-good-1.png");
    load_fingerprint(&path).ok()
}

/// Loads a fingerprint image for the simulated module: 8-bit grey, 256 × 288.
pub fn load_fingerprint(path: &std::path::Path) -> Result<GreyImage, String> {
    let img = image::open(path).map_err(|e| format!("{}: {e}", path.display()))?.to_luma8();
    if (img.width() as usize, img.height() as usize) != (zfm::IMAGE_WIDTH, zfm::IMAGE_HEIGHT) {
        return Err(format!("{}: the sensor's images are {}×{}", path.display(), zfm::IMAGE_WIDTH, zfm::IMAGE_HEIGHT));
    }
    Ok(GreyImage { width: zfm::IMAGE_WIDTH, height: zfm::IMAGE_HEIGHT, pixels: img.into_raw() })
}

struct SimBoard;

impl Board for SimBoard {
    fn battery_percent(&self) -> u8 {
        87
    }
}

/// A running simulator: its pty path, its faults, what the printer printed.
pub struct Simulator {
    pub path: String,
    pub faults: SharedFaults,
    pub receipts: Arc<Mutex<Vec<Vec<u8>>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Simulator {
    /// Opens a pseudo-terminal and starts the bridge logic on a thread.
    pub fn start(cfg: SimConfig) -> Result<Simulator, String> {
        let (mut master, slave) = TTYPort::pair().map_err(|e| format!("cannot open a pseudo-terminal: {e}"))?;
        let path = slave.name().ok_or("the pseudo-terminal has no name")?;
        master.set_timeout(Duration::from_millis(1)).map_err(|e| e.to_string())?;
        let faults: SharedFaults = Arc::default();
        let image = cfg
            .fingerprint
            .clone()
            .unwrap_or_else(|| synthetic_fingerprint(zfm::IMAGE_WIDTH, zfm::IMAGE_HEIGHT, 1, 170.0, 1.0));
        let printer = Printer::new(cfg.printer_out.clone());
        let receipts = printer.receipts.clone();
        let uart = |channel: Channel, device: Box<dyn SimDevice>| SimUart {
            channel,
            device,
            pending: VecDeque::new(),
            baud: 9600,
            released_at: Instant::now(),
            faults: faults.clone(),
            paced: cfg.paced,
        };
        let devices = [
            uart(Channel::Fingerprint, Box::new(FingerprintModule::new(image, faults.clone()))),
            uart(Channel::IdCard, Box::new(CardReader::new(sam::example_identity()))),
            uart(Channel::Gnss, Box::<GnssReceiver>::default()),
            uart(Channel::Printer, Box::new(printer)),
        ];
        let host = PtyHost {
            port: master,
            baud: cfg.link_baud,
            next_free: Instant::now(),
            faults: faults.clone(),
            rng: XorShift(0x2545_F491_4F6C_DD1D),
            paced: cfg.paced,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let stop_thread = stop.clone();
        let thread = std::thread::Builder::new()
            .name("bridge-sim".into())
            .spawn(move || {
                let start = Instant::now();
                let mut bridge = Bridge::new(host, devices, SimBoard, 0);
                // Keep the slave end open so the pty stays up while nobody is connected.
                let _slave = slave;
                while !stop_thread.load(Ordering::Relaxed) {
                    let now = Instant::now();
                    for c in Channel::DEVICES {
                        if let Some(d) = bridge.device(c) {
                            d.tick(now);
                        }
                    }
                    let busy = bridge.poll(start.elapsed().as_millis() as u64);
                    if !busy {
                        // Shorter than a byte at 115,200 baud (87 µs) would spin; a FIFO's
                        // worth of slack (16 bytes) covers the sleep's jitter.
                        std::thread::sleep(Duration::from_micros(100));
                    }
                }
            })
            .map_err(|e| e.to_string())?;
        Ok(Simulator { path, faults, receipts, stop, thread: Some(thread) })
    }

    pub fn faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        lock(&self.faults)
    }

    /// Applies a command line such as `corrupt 0.01`, `drop 0.001`, `disconnect 500`,
    /// `silent fingerprint`, `answer fingerprint`, `no-finger 2`, `clear`.
    pub fn command(&self, line: &str) -> Result<(), String> {
        let mut words = line.split_whitespace();
        let verb = words.next().unwrap_or_default();
        let arg = words.next().unwrap_or_default();
        let channel = |name: &str| {
            Channel::DEVICES.into_iter().find(|c| c.name() == name).ok_or_else(|| format!("no device {name:?}"))
        };
        let mut f = self.faults();
        match verb {
            "corrupt" => f.corrupt_rate = arg.parse().map_err(|_| "corrupt RATE")?,
            "drop" => f.drop_rate = arg.parse().map_err(|_| "drop RATE")?,
            "disconnect" => {
                let ms: u64 = arg.parse().map_err(|_| "disconnect MS")?;
                f.disconnected_until = Some(Instant::now() + Duration::from_millis(ms));
            }
            "silent" => f.silent[channel(arg)?.index()] = true,
            "answer" => f.silent[channel(arg)?.index()] = false,
            "no-finger" => f.no_finger = arg.parse().map_err(|_| "no-finger COUNT")?,
            "corrupt-after" => f.corrupt_after = Some(arg.parse().map_err(|_| "corrupt-after BYTES")?),
            "clear" => *f = Faults::default(),
            "" => {}
            other => return Err(format!("unknown command {other:?}")),
        }
        Ok(())
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_783), (2026, 11, 26));
    }

    #[test]
    fn the_font_maps_every_character_a_receipt_prints() {
        use ab_glyph::Font as _;
        let font = ab_glyph::FontRef::try_from_slice(FONT).unwrap();
        // These were lost when the subset font had only a format 4 cmap longer than 64 KB.
        for c in "受理回执往来港澳通行证首次申请签注合计领取方式：邮寄凭此查询办理进度测试㐀".chars()
        {
            assert_ne!(font.glyph_id(c).0, 0, "no glyph for {c}");
        }
    }

    #[test]
    fn receipts_render_with_text_and_qr() {
        let bytes = escpos::ReceiptBuilder::new()
            .align(escpos::Align::Centre)
            .double(true)
            .line("受理回执")
            .double(false)
            .line("测试")
            .qr("APP-1")
            .cut();
        let img = render_receipt(&bytes).unwrap();
        assert_eq!(img.width(), PAPER_WIDTH);
        let dark = img.pixels().filter(|p| p.0[0] == 0).count();
        assert!(dark > 2000, "{dark} dark dots");
    }
}
