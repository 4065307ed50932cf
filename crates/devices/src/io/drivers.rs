//! The device drivers: each runs its protocol over a [`Transport`], with timeouts, and
//! recovers from a bad packet by asking again rather than by a restart.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::transport::Transport;
use crate::DeviceError;
use crate::escpos::{self, Paper, PrinterStatus};
use crate::nmea::{Fix, GnssEvent, NmeaDecoder};
use crate::quality::{Quality, QualityThresholds, assess};
use crate::sam::{self, CardIdentity, Status};
use crate::zfm::{self, Command, Confirmation, GreyImage, PacketDecoder, Pid, SystemParameters};

/// The module's refusal, with what the officer should do.
fn refused(c: Confirmation) -> DeviceError {
    DeviceError::Refused(format!("{:#04x}: {} / {}", c.code(), c.advice_zh(), c.advice_en()))
}

/// A finished fingerprint capture.
#[derive(Debug, Clone)]
pub struct Capture {
    pub image: GreyImage,
    pub quality: Quality,
    /// The module's characteristic file for the finger.
    pub template: Vec<u8>,
}

/// The fingerprint module.
pub struct FingerprintScanner<T: Transport> {
    t: T,
    decoder: PacketDecoder,
    /// Packets decoded but not yet consumed (one read may carry several).
    ready: VecDeque<Result<zfm::Packet, DeviceError>>,
    address: u32,
    /// The module's data packet size (register 6), as read at the handshake or last set: a
    /// download is cut to it.
    packet_size: usize,
    /// How long a reply may take (an image upload gets longer, by baud rate).
    pub reply_timeout: Duration,
    pub thresholds: QualityThresholds,
}

impl<T: Transport> FingerprintScanner<T> {
    pub fn new(t: T) -> Self {
        FingerprintScanner {
            t,
            decoder: PacketDecoder::new(),
            ready: VecDeque::new(),
            address: zfm::DEFAULT_ADDRESS,
            packet_size: 128,
            reply_timeout: Duration::from_millis(1500),
            thresholds: QualityThresholds::default(),
        }
    }

    pub fn transport(&mut self) -> &mut T {
        &mut self.t
    }

    /// Waits for the next good packet; checksum failures and garbage are skipped, since the
    /// caller retries the whole exchange when what it needs does not arrive.
    fn next_packet(&mut self, deadline: Instant) -> Result<zfm::Packet, DeviceError> {
        let mut last_error = None;
        loop {
            while let Some(r) = self.ready.pop_front() {
                match r {
                    Ok(p) => return Ok(p),
                    Err(e) => last_error = Some(e),
                }
            }
            let mut buf = [0u8; 2048];
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(last_error.unwrap_or(DeviceError::Timeout(self.reply_timeout.as_millis() as u64)));
            }
            let n = self.t.receive(&mut buf, left)?;
            self.ready.extend(self.decoder.push(&buf[..n]));
        }
    }

    fn reset_input(&mut self) -> Result<(), DeviceError> {
        self.t.discard()?;
        self.decoder.clear();
        self.ready.clear();
        Ok(())
    }

    fn exchange(&mut self, cmd: Command) -> Result<(Confirmation, Vec<u8>), DeviceError> {
        self.t.send(&cmd.encode(self.address))?;
        let deadline = Instant::now() + self.reply_timeout;
        loop {
            let p = self.next_packet(deadline)?;
            if p.pid == Pid::Ack {
                let c = Confirmation::from_u8(*p.payload.first().ok_or(DeviceError::Malformed("empty ZFM reply"))?);
                return Ok((c, p.payload[1..].to_vec()));
            }
        }
    }

    fn expect_ok(&mut self, cmd: Command) -> Result<Vec<u8>, DeviceError> {
        match self.exchange(cmd)? {
            (Confirmation::Ok, data) => Ok(data),
            (c, _) => Err(refused(c)),
        }
    }

    /// Verifies the module's password (the default is 0).
    pub fn handshake(&mut self, password: u32) -> Result<SystemParameters, DeviceError> {
        self.reset_input()?;
        self.expect_ok(Command::VerifyPassword(password))?;
        let data = self.expect_ok(Command::ReadSysPara)?;
        let params = SystemParameters::parse(&data).ok_or(DeviceError::Malformed("ReadSysPara reply"))?;
        // The module keeps its packet size: a download is cut to the one it has.
        self.packet_size = params.packet_size();
        Ok(params)
    }

    /// Sets the module's own baud rate (register 4, N × 9600). The module answers at the old
    /// rate; the line must then be switched to the new one.
    pub fn set_module_baud(&mut self, baud: u32) -> Result<(), DeviceError> {
        let n = baud / 9600;
        if !(1..=12).contains(&n) || n * 9600 != baud {
            return Err(DeviceError::Refused(format!("{baud} is not a multiple of 9600 up to 115200")));
        }
        self.expect_ok(Command::SetSysPara { register: 4, value: n as u8 })?;
        Ok(())
    }

    /// Sets the size of the module's data packets (register 6): 32, 64, 128 or 256 bytes.
    /// Larger packets waste less of the line on packet headers during an image upload.
    pub fn set_packet_size(&mut self, bytes: usize) -> Result<(), DeviceError> {
        let code = match bytes {
            32 => 0,
            64 => 1,
            128 => 2,
            256 => 3,
            _ => return Err(DeviceError::Refused(format!("{bytes} is not a ZFM packet size (32, 64, 128, 256)"))),
        };
        self.expect_ok(Command::SetSysPara { register: 6, value: code })?;
        self.packet_size = bytes;
        Ok(())
    }

    /// Reads a data transfer (PID 02 packets ending with PID 08).
    fn upload(&mut self, cmd: Command, expected: usize) -> Result<Vec<u8>, DeviceError> {
        self.expect_ok(cmd)?;
        // 10 bits a byte at the line's rate, with the packet overhead, and a second to spare.
        let budget = Duration::from_millis((expected as u64 * 12 * 1000) / u64::from(self.t.baud().max(1200)) + 1000);
        let deadline = Instant::now() + budget;
        let mut data = Vec::with_capacity(expected);
        loop {
            let p = self.next_packet(deadline).map_err(|e| match e {
                DeviceError::Timeout(_) => DeviceError::ImageSize { expected, got: data.len() },
                other => other,
            })?;
            if !matches!(p.pid, Pid::Data | Pid::EndData) {
                return Err(DeviceError::Malformed("unexpected packet during an upload"));
            }
            if data.len() + p.payload.len() > zfm::MAX_UPLOAD {
                return Err(DeviceError::TooLong { limit: zfm::MAX_UPLOAD });
            }
            data.extend_from_slice(&p.payload);
            if p.pid == Pid::EndData {
                return Ok(data);
            }
        }
    }

    /// Uploads the image in the module's buffer (after a capture): 36,864 bytes of packed
    /// 4-bit pixels. One attempt; see [`FingerprintScanner::capture`] for the retries.
    pub fn upload_image(&mut self) -> Result<Vec<u8>, DeviceError> {
        let d = self.upload(Command::UpImage, zfm::IMAGE_BYTES)?;
        if d.len() == zfm::IMAGE_BYTES {
            Ok(d)
        } else {
            Err(DeviceError::ImageSize { expected: zfm::IMAGE_BYTES, got: d.len() })
        }
    }

    /// Takes an image of the finger on the sensor (GenImg), waiting up to `finger_timeout`
    /// for a finger.
    pub fn take_image(&mut self, finger_timeout: Duration) -> Result<(), DeviceError> {
        let deadline = Instant::now() + finger_timeout;
        loop {
            match self.exchange(Command::GenImg)? {
                (Confirmation::Ok, _) => return Ok(()),
                (Confirmation::NoFinger, _) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100))
                }
                (c, _) => return Err(refused(c)),
            }
        }
    }

    /// Whether the finger just captured (its template in buffer 1, where [`Self::capture`] leaves
    /// it) is the finger `earlier` is the template of, as the module judges (DownChar into
    /// buffer 2, then Match): the guard against a finger placed twice, the same hand given for
    /// both. Nothing is stored in the module's library.
    pub fn same_finger(&mut self, earlier: &[u8]) -> Result<bool, DeviceError> {
        if earlier.is_empty() || earlier.len() > zfm::MAX_PAYLOAD {
            return Err(DeviceError::Malformed("a template is 1 to 512 bytes"));
        }
        self.expect_ok(Command::DownChar(2))?;
        let chunks: Vec<&[u8]> = earlier.chunks(self.packet_size.max(32)).collect();
        for (i, chunk) in chunks.iter().enumerate() {
            let pid = if i + 1 == chunks.len() { Pid::EndData } else { Pid::Data };
            self.t.send(&zfm::encode_packet(self.address, pid, chunk))?;
        }
        match self.exchange(Command::Match)? {
            (Confirmation::Ok, _) => Ok(true),
            (Confirmation::NoMatch, _) => Ok(false),
            (c, _) => Err(refused(c)),
        }
    }

    /// Captures one finger: waits for it (up to `finger_timeout`), uploads the image and the
    /// template, and measures quality. A transfer spoiled on the line is asked for again.
    pub fn capture(&mut self, finger_timeout: Duration) -> Result<Capture, DeviceError> {
        self.take_image(finger_timeout)?;
        self.expect_ok(Command::Img2Tz(1))?;
        let mut attempt = 0;
        let packed = loop {
            attempt += 1;
            match self.upload(Command::UpImage, zfm::IMAGE_BYTES) {
                Ok(d) if d.len() == zfm::IMAGE_BYTES => break d,
                Ok(d) if attempt >= 4 => {
                    return Err(DeviceError::ImageSize { expected: zfm::IMAGE_BYTES, got: d.len() });
                }
                Err(e) if attempt >= 4 => return Err(e),
                _ => {
                    // Let the rest of the spoiled transfer arrive, then drop it.
                    std::thread::sleep(Duration::from_millis(200));
                    self.t.discard()?;
                    self.decoder.clear();
                }
            }
        };
        let image = zfm::unpack_image(&packed)?;
        let template = self.upload(Command::UpChar(1), 512)?;
        let quality = assess(&image, &self.thresholds);
        Ok(Capture { image, quality, template })
    }
}

/// The ID-card reader.
pub struct CardReader<T: Transport> {
    t: T,
    decoder: sam::FrameDecoder,
    ready: VecDeque<Result<Vec<u8>, DeviceError>>,
    pub reply_timeout: Duration,
}

impl<T: Transport> CardReader<T> {
    pub fn new(t: T) -> Self {
        CardReader {
            t,
            decoder: sam::FrameDecoder::new(),
            ready: VecDeque::new(),
            reply_timeout: Duration::from_millis(1500),
        }
    }

    fn exchange(&mut self, cmd: sam::Command) -> Result<sam::Response, DeviceError> {
        self.t.send(&cmd.encode())?;
        let deadline = Instant::now() + self.reply_timeout;
        let mut last_error = None;
        loop {
            while let Some(r) = self.ready.pop_front() {
                match r {
                    Ok(body) => return sam::Response::from_body(&body),
                    Err(e) => last_error = Some(e),
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(last_error.unwrap_or(DeviceError::Timeout(self.reply_timeout.as_millis() as u64)));
            }
            let mut buf = [0u8; 2048];
            let n = self.t.receive(&mut buf, left)?;
            self.ready.extend(self.decoder.push(&buf[..n]));
        }
    }

    /// Finds, selects and reads the card on the reader; one retry after a spoiled reply.
    pub fn read(&mut self) -> Result<CardIdentity, DeviceError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.read_once() {
                Ok(c) => return Ok(c),
                Err(DeviceError::Checksum | DeviceError::Garbage { .. } | DeviceError::Malformed(_)) if attempt < 2 => {
                    self.t.discard()?;
                    self.decoder.clear();
                    self.ready.clear();
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn read_once(&mut self) -> Result<CardIdentity, DeviceError> {
        let refused = |s: Status| DeviceError::Refused(format!("{:#04x}: {}", s.code(), s.advice_zh()));
        let r = self.exchange(sam::Command::FindCard)?;
        if r.status != Status::FindSuccess {
            return Err(refused(r.status));
        }
        let r = self.exchange(sam::Command::SelectCard)?;
        if r.status != Status::Success {
            return Err(refused(r.status));
        }
        let r = self.exchange(sam::Command::ReadBase)?;
        if r.status != Status::Success {
            return Err(refused(r.status));
        }
        CardIdentity::parse(&r.data)
    }
}

/// The GNSS receiver.
pub struct GnssReader<T: Transport> {
    t: T,
    decoder: NmeaDecoder,
}

impl<T: Transport> GnssReader<T> {
    pub fn new(t: T) -> Self {
        GnssReader { t, decoder: NmeaDecoder::new() }
    }

    /// The next valid fix within `timeout`. Bad sentences and garbage are skipped; when
    /// nothing but those came, the last of them is the answer (a wrong baud rate, noise),
    /// and when nothing came at all, a timeout.
    pub fn next_fix(&mut self, timeout: Duration) -> Result<Fix, DeviceError> {
        let deadline = Instant::now() + timeout;
        let mut saw_sentences = false;
        let mut last_error = None;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(if saw_sentences {
                    DeviceError::Refused("no satellite fix yet: move near a window or outdoors".into())
                } else {
                    last_error.unwrap_or(DeviceError::Timeout(timeout.as_millis() as u64))
                });
            }
            let mut buf = [0u8; 512];
            let n = self.t.receive(&mut buf, left)?;
            for r in self.decoder.push(&buf[..n]) {
                match r {
                    Ok(GnssEvent::Fix(f)) => return Ok(f),
                    Ok(GnssEvent::NoFix) => saw_sentences = true,
                    Err(e) => last_error = Some(e),
                }
            }
        }
    }
}

/// The receipt printer.
pub struct ReceiptPrinter<T: Transport> {
    t: T,
}

impl<T: Transport> ReceiptPrinter<T> {
    pub fn new(t: T) -> Self {
        ReceiptPrinter { t }
    }

    /// How long the printer has to answer a status request, behind what it is still taking in.
    pub const STATUS_TIMEOUT: Duration = Duration::from_secs(2);

    /// How many times the status is asked after a receipt before the printer counts as silent.
    pub const TRIES_AFTER: usize = 3;

    /// Asks the printer how it is (DLE EOT 1 and 4): online or not, and its paper. No answer is
    /// a printer that is not there, or off. Bytes that cannot be status bytes (flow control,
    /// automatic messages) are passed over.
    pub fn status(&mut self) -> Result<PrinterStatus, DeviceError> {
        self.t.discard()?;
        self.t.send(&escpos::STATUS_REQUEST)?;
        let deadline = Instant::now() + Self::STATUS_TIMEOUT;
        let mut got = Vec::with_capacity(2);
        while got.len() < 2 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(DeviceError::Timeout(Self::STATUS_TIMEOUT.as_millis() as u64));
            }
            let mut buf = [0u8; 8];
            let n = self.t.receive(&mut buf, left)?;
            got.extend(buf[..n].iter().copied().filter(|b| PrinterStatus::is_status_byte(*b)));
        }
        PrinterStatus::parse([got[0], got[1]])
    }

    /// The printer's status, as an error when it cannot print: out of paper, or offline.
    fn ready(&mut self) -> Result<PrinterStatus, DeviceError> {
        let status = self.status()?;
        if status.paper == Paper::Out {
            return Err(DeviceError::PaperOut);
        }
        if !status.online {
            return Err(DeviceError::PrinterOffline);
        }
        Ok(status)
    }

    /// Sends a receipt, paced to the printer's line so no buffer on the way overflows. The
    /// printer is asked first whether it can print (an error: nothing was sent), and again
    /// after: what that says does not unsay the bytes sent, so it is told apart.
    pub fn print(&mut self, bytes: &[u8]) -> Result<Printed, DeviceError> {
        self.ready()?;
        let per_chunk = Duration::from_micros(256 * 10 * 1_000_000 / u64::from(self.t.baud().max(1200)));
        for chunk in bytes.chunks(256) {
            let start = Instant::now();
            self.t.send(chunk)?;
            let mut sink = [0u8; 64];
            // Keep the link serviced while the printer's line drains.
            let _ = self.t.receive(&mut sink, per_chunk.saturating_sub(start.elapsed()))?;
        }
        // A printer still feeding and cutting may answer late: asked again before it is taken
        // as silent (a receipt or ticket then kept as not printed, and likely printed twice).
        let mut after = self.ready();
        for _ in 1..Self::TRIES_AFTER {
            if !matches!(after, Err(DeviceError::Timeout(_))) {
                break;
            }
            after = self.ready();
        }
        Ok(match after {
            Ok(status) => Printed::Whole(status),
            Err(e @ (DeviceError::PaperOut | DeviceError::PrinterOffline)) => Printed::MaybeCutShort(e),
            Err(e) => Printed::StatusUnknown(e),
        })
    }
}

/// What a receipt sent whole to the printer came to.
#[derive(Debug)]
pub enum Printed {
    /// Printed, and the printer ready for the next (its paper may be near its end).
    Whole(PrinterStatus),
    /// The printer ran out of paper or went offline while it printed: the receipt may be cut
    /// short.
    MaybeCutShort(DeviceError),
    /// Every byte was sent; the printer did not say how it is now.
    StatusUnknown(DeviceError),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Moves as many of a fake device's pending bytes as fit into `buf`: what it receives.
    fn take_into(out: &mut VecDeque<u8>, buf: &mut [u8]) -> usize {
        let n = buf.len().min(out.len());
        for (b, o) in buf.iter_mut().zip(out.drain(..n)) {
            *b = o;
        }
        n
    }

    /// A module that answers every command with OK, then sends `data_packets` data packets
    /// of 256 bytes and never an end, then falls silent.
    struct Endless {
        out: VecDeque<u8>,
        data_packets: usize,
    }

    impl Transport for Endless {
        fn send(&mut self, _bytes: &[u8]) -> Result<(), DeviceError> {
            self.out.extend(zfm::encode_packet(zfm::DEFAULT_ADDRESS, Pid::Ack, &[0]));
            for _ in 0..self.data_packets {
                self.out.extend(zfm::encode_packet(zfm::DEFAULT_ADDRESS, Pid::Data, &[0x11; 256]));
            }
            Ok(())
        }

        fn receive(&mut self, buf: &mut [u8], _timeout: Duration) -> Result<usize, DeviceError> {
            Ok(take_into(&mut self.out, buf))
        }

        fn discard(&mut self) -> Result<(), DeviceError> {
            self.out.clear();
            Ok(())
        }

        fn baud(&self) -> u32 {
            // The fastest line: an upload's time budget is only its spare second.
            u32::MAX
        }
    }

    #[test]
    fn an_upload_that_never_ends_is_refused_at_the_limit() {
        // Four images' worth, without an end: refused once past one image, not buffered.
        let mut fp = FingerprintScanner::new(Endless { out: VecDeque::new(), data_packets: 4 * zfm::MAX_UPLOAD / 256 });
        assert_eq!(fp.upload_image(), Err(DeviceError::TooLong { limit: zfm::MAX_UPLOAD }));
        assert!(fp.transport().out.len() > 2 * zfm::MAX_UPLOAD, "the rest was left unread");
        // A transfer cut short is still that.
        let mut fp = FingerprintScanner::new(Endless { out: VecDeque::new(), data_packets: 10 });
        assert_eq!(fp.upload_image(), Err(DeviceError::ImageSize { expected: zfm::IMAGE_BYTES, got: 2560 }));
    }

    /// A printer that answers each status request with the next scripted bytes (none when the
    /// script is done) and keeps everything else it is sent.
    struct ScriptedPrinter {
        answers: VecDeque<Vec<u8>>,
        out: VecDeque<u8>,
        printed: Vec<u8>,
    }

    impl Transport for ScriptedPrinter {
        fn send(&mut self, bytes: &[u8]) -> Result<(), DeviceError> {
            if bytes == escpos::STATUS_REQUEST {
                self.out.extend(self.answers.pop_front().unwrap_or_default());
            } else {
                self.printed.extend_from_slice(bytes);
            }
            Ok(())
        }

        fn receive(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, DeviceError> {
            if self.out.is_empty() {
                std::thread::sleep(timeout.min(Duration::from_millis(20)));
            }
            Ok(take_into(&mut self.out, buf))
        }

        fn discard(&mut self) -> Result<(), DeviceError> {
            self.out.clear();
            Ok(())
        }

        fn baud(&self) -> u32 {
            u32::MAX
        }
    }

    /// What the printer says before and after a receipt, table-driven: refused before (nothing
    /// sent), or printed and told apart by what it said after. Flow-control bytes are not
    /// answers.
    #[test]
    fn a_receipt_is_printed_only_when_the_printer_says_it_can() {
        let ok = PrinterStatus { online: true, paper: Paper::Loaded }.to_bytes().to_vec();
        let low = PrinterStatus { online: true, paper: Paper::NearEnd }.to_bytes().to_vec();
        let out = PrinterStatus { online: false, paper: Paper::Out }.to_bytes().to_vec();
        let offline = PrinterStatus { online: false, paper: Paper::Loaded }.to_bytes().to_vec();
        let xon_then_ok = [&[0x11][..], &ok].concat();
        let receipt = escpos::ReceiptBuilder::new().line("测试").cut();
        type Want = fn(&Result<Printed, DeviceError>) -> bool;
        let cases: [(Vec<Vec<u8>>, Want, bool); 7] = [
            (vec![xon_then_ok, low.clone()], |r| matches!(r, Ok(Printed::Whole(s)) if s.paper == Paper::NearEnd), true),
            (vec![ok.clone(), out.clone()], |r| matches!(r, Ok(Printed::MaybeCutShort(DeviceError::PaperOut))), true),
            (vec![ok.clone()], |r| matches!(r, Ok(Printed::StatusUnknown(DeviceError::Timeout(_)))), true),
            // Late after the receipt (still cutting), then answering: printed.
            (vec![ok.clone(), vec![], ok.clone()], |r| matches!(r, Ok(Printed::Whole(_))), true),
            (vec![out], |r| matches!(r, Err(DeviceError::PaperOut)), false),
            (vec![offline], |r| matches!(r, Err(DeviceError::PrinterOffline)), false),
            (vec![], |r| matches!(r, Err(DeviceError::Timeout(_))), false),
        ];
        for (answers, want, sent) in cases {
            let script = format!("{answers:02X?}");
            let t = ScriptedPrinter { answers: answers.into(), out: VecDeque::new(), printed: Vec::new() };
            let mut printer = ReceiptPrinter::new(t);
            let result = printer.print(&receipt);
            assert!(want(&result), "{script}: {result:?}");
            assert_eq!(printer.t.printed == receipt, sent, "{script}: sent or not");
        }
    }
}
