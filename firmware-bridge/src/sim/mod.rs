//! The host simulator: the bridge's firmware logic on a pseudo-terminal, with simulated
//! devices that speak the real protocols, paced at the configured baud rates, and faults on
//! request (corrupt or dropped bytes, a disconnect, a device that stops answering).
//!
//! `pty` is the link to the tablet, `uart` the devices' ports, then one module per simulated
//! device; `error` has what can go wrong. What the printer prints is drawn by
//! `doorstep_devices::receipt_file`, the same drawing the unit saves when no printer answers.

extern crate std;

mod card_reader;
mod error;
mod fingerprint;
mod gnss;
mod printer;
mod pty;
mod uart;

use std::boxed::Box;
use std::path::PathBuf;
use std::str::FromStr;
use std::string::{String, ToString};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use doorstep_devices::sam;
use doorstep_devices::zfm::{self, GreyImage};
use doorstep_link::Channel;
use serialport::{SerialPort, TTYPort};

use crate::{Board, Bridge};

pub use card_reader::CardReader;
pub use error::SimError;
pub use fingerprint::FingerprintModule;
pub use gnss::GnssReceiver;
pub use printer::Printer;
pub use pty::PtyHost;
pub use uart::{SimDevice, SimUart};

/// The CJK font the simulated printer draws in (the unit's).
const FONT: &[u8] = include_bytes!("../../../assets/fonts/NotoSansSC-doorstep.otf");

/// Draws what a receipt's bytes print, as the simulated printer does on each cut.
pub fn render_receipt(bytes: &[u8]) -> Result<image::GrayImage, SimError> {
    Ok(doorstep_devices::receipt_file::render(bytes, FONT)?)
}

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
    /// The card on the reader, when not the published example's (`card NAME ID-NUMBER`).
    pub card: Option<doorstep_devices::sam::CardIdentity>,
    /// The printer's paper roll (`paper out`, `paper low`, `paper in`).
    pub paper: doorstep_devices::escpos::Paper,
    /// The next finger placed is the one placed before (`same-finger`, one-shot).
    pub same_finger: bool,
}

pub type SharedFaults = Arc<Mutex<Faults>>;

fn lock(f: &SharedFaults) -> std::sync::MutexGuard<'_, Faults> {
    f.lock().unwrap_or_else(|e| e.into_inner())
}

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
pub fn load_fingerprint(path: &std::path::Path) -> Result<GreyImage, SimError> {
    let img =
        image::open(path).map_err(|source| SimError::FingerprintImage { path: path.to_path_buf(), source })?.to_luma8();
    if (img.width() as usize, img.height() as usize) != (zfm::IMAGE_WIDTH, zfm::IMAGE_HEIGHT) {
        return Err(SimError::FingerprintSize { path: path.to_path_buf(), width: img.width(), height: img.height() });
    }
    Ok(GreyImage { width: zfm::IMAGE_WIDTH, height: zfm::IMAGE_HEIGHT, pixels: img.into_raw() })
}

struct SimBoard;

impl Board for SimBoard {
    fn battery_percent(&self) -> u8 {
        87
    }

    fn simulated(&self) -> bool {
        true
    }
}

/// The simulator's shortest and longest wait on the port when nothing moves.
const IDLE_MIN: Duration = Duration::from_micros(100);
const IDLE_MAX: Duration = Duration::from_millis(20);
/// How long nothing may move before the simulator waits on the port longer than `IDLE_MIN`,
/// once a transfer is under way. Shorter loses throughput: a device's data pauses between its
/// packets longer than 5 ms (measured: 81 % of the line rate against 89 % with 5 ms).
const IDLE_SETTLE: Duration = Duration::from_millis(100);
/// The same after a small burst (a heartbeat, a GNSS sentence): nothing follows it, so the
/// simulator goes back to waiting on the port almost at once.
const IDLE_SETTLE_SHORT: Duration = Duration::from_millis(3);
/// Busy polls in a burst beyond which it is a transfer (a fingerprint image, a card's reply),
/// not a heartbeat or a sentence (a GNSS sentence is about 80 bytes).
const TRANSFER_POLLS: u32 = 200;

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
    pub fn start(cfg: SimConfig) -> Result<Simulator, SimError> {
        if cfg.link_baud == 0 {
            return Err(SimError::LinkBaud);
        }
        let (mut master, slave) = TTYPort::pair().map_err(SimError::Pty)?;
        let path = slave.name().ok_or(SimError::PtyUnnamed)?;
        master.set_timeout(pty::SHORT).map_err(SimError::Pty)?;
        let faults: SharedFaults = Arc::default();
        let printer = Printer::new(cfg.printer_out.clone(), faults.clone());
        let receipts = printer.receipts.clone();
        let uart =
            |channel: Channel, device: Box<dyn SimDevice>| SimUart::new(channel, device, faults.clone(), cfg.paced);
        let devices = [
            uart(Channel::Fingerprint, Box::new(FingerprintModule::new(cfg.fingerprint.clone(), faults.clone()))),
            uart(Channel::IdCard, Box::new(CardReader::new(demo_card(), faults.clone()))),
            uart(Channel::Gnss, Box::<GnssReceiver>::default()),
            uart(Channel::Printer, Box::new(printer)),
        ];
        let host = PtyHost::new(master, cfg.link_baud, faults.clone(), cfg.paced);
        let stop = Arc::new(AtomicBool::new(false));
        let stop_thread = stop.clone();
        let thread = std::thread::Builder::new()
            .name("bridge-sim".into())
            .spawn(move || {
                let start = Instant::now();
                let mut bridge = Bridge::new(host, devices, SimBoard, 0);
                // Keep the slave end open so the pty stays up while nobody is connected.
                let _slave = slave;
                let (mut idle, mut quiet_since, mut burst) = (Duration::ZERO, Instant::now(), 0u32);
                while !stop_thread.load(Ordering::Relaxed) {
                    let now = Instant::now();
                    for c in Channel::DEVICES {
                        if let Some(d) = bridge.device(c) {
                            d.tick(now);
                        }
                    }
                    let busy = bridge.poll(start.elapsed().as_millis() as u64);
                    let settle = if burst > TRANSFER_POLLS { IDLE_SETTLE } else { IDLE_SETTLE_SHORT };
                    if busy {
                        (idle, quiet_since) = (Duration::ZERO, now);
                        burst = burst.saturating_add(1);
                    } else if now.duration_since(quiet_since) < settle {
                        // Data is flowing: shorter than a byte at 115,200 baud (87 µs) would
                        // spin; a FIFO's worth of slack (16 bytes) covers the sleep's jitter.
                        std::thread::sleep(IDLE_MIN);
                    } else {
                        // Nothing has moved for a while: wait on the port for the tablet, twice
                        // as long each pass from 1 ms (the port's wait counts whole
                        // milliseconds) to 20 ms (a device's reply or a heartbeat is at most
                        // that late), so an idle unit costs little.
                        idle = (idle * 2).clamp(Duration::from_millis(1), IDLE_MAX);
                        burst = 0;
                        bridge.host().wait(idle);
                    }
                }
            })
            .map_err(SimError::Thread)?;
        Ok(Simulator { path, faults, receipts, stop, thread: Some(thread) })
    }

    pub fn faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        lock(&self.faults)
    }

    /// Applies a command line such as `corrupt 0.01`, `drop 0.001`, `disconnect 500`,
    /// `silent fingerprint`, `answer fingerprint`, `no-finger 2`, `card NAME ID-NUMBER` (another
    /// card on the reader: its birth date and sex from the number), `clear`.
    pub fn command(&self, line: &str) -> Result<(), SimError> {
        let mut words = line.split_whitespace();
        let verb = words.next().unwrap_or_default();
        let arg = words.next().unwrap_or_default();
        let channel = |name: &str| {
            Channel::DEVICES
                .into_iter()
                .find(|c| c.name() == name)
                .ok_or_else(|| SimError::UnknownDevice(name.to_string()))
        };
        let mut f = self.faults();
        match verb {
            "corrupt" => f.corrupt_rate = parse_rate(arg, "corrupt")?,
            "drop" => f.drop_rate = parse_rate(arg, "drop")?,
            "disconnect" => {
                let ms: u64 = parse_arg(arg, "disconnect", "MS")?;
                f.disconnected_until = Some(Instant::now() + Duration::from_millis(ms));
            }
            "silent" => f.silent[channel(arg)?.index()] = true,
            "answer" => f.silent[channel(arg)?.index()] = false,
            "no-finger" => f.no_finger = parse_arg(arg, "no-finger", "COUNT")?,
            "same-finger" => f.same_finger = true,
            "corrupt-after" => f.corrupt_after = Some(parse_arg(arg, "corrupt-after", "BYTES")?),
            "card" => {
                let number = words.next().unwrap_or_default();
                f.card = Some(card(arg, number, words.next())?);
            }
            "paper" => {
                use doorstep_devices::escpos::Paper;
                f.paper = match arg {
                    "in" => Paper::Loaded,
                    "low" => Paper::NearEnd,
                    "out" => Paper::Out,
                    _ => return Err(SimError::Argument { command: "paper", expected: "in|low|out" }),
                };
            }
            "clear" => *f = Faults::default(),
            "" => {}
            other => return Err(SimError::UnknownCommand(other.to_string())),
        }
        Ok(())
    }
}

/// The card on the simulated reader: the published example identity, first valid on 1 January
/// two years ago (the year from the clock), so that a demo's 60+ applicant may always reuse its
/// photo under the 5-year rule, whatever year the demo runs in.
pub fn demo_card() -> doorstep_devices::sam::CardIdentity {
    let days = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() / 86_400);
    // Whole Gregorian years since 1970 (400 years are 146,097 days): a day off at New Year
    // at most, which two years back does not mind.
    let year = 1970 + days * 400 / 146_097;
    doorstep_devices::sam::CardIdentity { valid_from: format!("{}0101", year - 2), ..sam::example_identity() }
}

/// The example card with another holder: `name`, and the ID number's birth date and sex (its
/// 17th digit odd for a man), first valid on `issued` (YYYYMMDD) when given. The number is only
/// checked for its shape, the day for being eight digits: the unit judges them.
fn card(name: &str, number: &str, issued: Option<&str>) -> Result<doorstep_devices::sam::CardIdentity, SimError> {
    let wrong = SimError::Argument { command: "card", expected: "NAME ID-NUMBER [ISSUED-YYYYMMDD]" };
    let shaped = number.len() == 18
        && number.bytes().take(17).all(|b| b.is_ascii_digit())
        && number.bytes().last().is_some_and(|b| b.is_ascii_digit() || b == b'X');
    // The card's name field holds 15 UTF-16 units: a longer name would be cut on the chip.
    let day = issued.is_none_or(|d| d.len() == 8 && d.bytes().all(|b| b.is_ascii_digit()));
    if name.is_empty() || name.encode_utf16().count() > 15 || !shaped || !day {
        return Err(wrong);
    }
    let sex = if (number.as_bytes()[16] - b'0') % 2 == 1 { '1' } else { '2' };
    Ok(doorstep_devices::sam::CardIdentity {
        name: name.to_string(),
        sex_code: sex,
        birth_date: number[6..14].to_string(),
        id_number: number.to_string(),
        valid_from: issued.map_or_else(|| demo_card().valid_from, str::to_string),
        ..demo_card()
    })
}

/// A fault command's argument, or what the command needs.
fn parse_arg<T: FromStr>(arg: &str, command: &'static str, expected: &'static str) -> Result<T, SimError> {
    arg.parse().map_err(|_| SimError::Argument { command, expected })
}

/// A probability per byte, 0 to 1.
fn parse_rate(arg: &str, command: &'static str) -> Result<f64, SimError> {
    let rate: f64 = parse_arg(arg, command, "RATE")?;
    if (0.0..=1.0).contains(&rate) { Ok(rate) } else { Err(SimError::Argument { command, expected: "RATE" }) }
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
    use doorstep_devices::DeviceError;

    #[test]
    fn fault_commands_apply_or_say_what_is_wrong() {
        let sim = Simulator::start(SimConfig { paced: false, ..SimConfig::default() }).unwrap();
        sim.command("no-finger 2").unwrap();
        sim.command("silent gnss").unwrap();
        assert_eq!(sim.faults().no_finger, 2);
        assert!(sim.faults().silent[Channel::Gnss.index()]);
        assert!(matches!(sim.command("corrupt"), Err(SimError::Argument { command: "corrupt", expected: "RATE" })));
        assert!(matches!(
            sim.command("no-finger -1"),
            Err(SimError::Argument { command: "no-finger", expected: "COUNT" })
        ));
        for bad in ["corrupt 1.5", "drop -0.1", "drop NaN"] {
            assert!(matches!(sim.command(bad), Err(SimError::Argument { expected: "RATE", .. })), "{bad}");
        }
        assert!(matches!(sim.command("silent scanner"), Err(SimError::UnknownDevice(d)) if d == "scanner"));
        assert!(matches!(sim.command("explode now"), Err(SimError::UnknownCommand(c)) if c == "explode"));
        sim.command("").unwrap();
        // Another card on the reader: the holder named, birth date and sex from the number.
        sim.command("card 测试儿童 11010520140101001X").unwrap();
        let placed = sim.faults().card.clone().expect("a card placed");
        assert_eq!(
            (placed.name.as_str(), placed.id_number.as_str(), placed.birth_date.as_str(), placed.sex_code),
            ("测试儿童", "11010520140101001X", "20140101", '1')
        );
        assert_eq!(placed.valid_from, demo_card().valid_from, "the demo card's day when none is given");
        let year: i32 = demo_card().valid_from[..4].parse().unwrap();
        assert!(
            (2024..2200).contains(&year) && demo_card().valid_from.ends_with("0101"),
            "two years back, from the clock"
        );
        sim.command("card 测试 11010519491231002X 20250301").unwrap();
        assert_eq!(sim.faults().card.clone().expect("a card placed").valid_from, "20250301");
        // Eight characters beyond the basic plane are 16 UTF-16 units: more than the chip holds.
        let long = format!("card {} 11010520140101001X", "\u{20000}".repeat(8));
        let bad_cards = [
            "card",
            "card 测试",
            "card 测试 1101052014",
            "card 测试 11010520140101001Y",
            long.as_str(),
            "card 测试 11010520140101001X 2025031",
            "card 测试 11010520140101001X 2025-3-1",
        ];
        for bad in bad_cards {
            let expected = "NAME ID-NUMBER [ISSUED-YYYYMMDD]";
            assert!(
                matches!(sim.command(bad), Err(SimError::Argument { command: "card", expected: e }) if e == expected),
                "{bad}"
            );
        }
        sim.command("clear").unwrap();
        assert_eq!(sim.faults().no_finger, 0);
        assert!(!sim.faults().silent[Channel::Gnss.index()]);
        assert!(sim.faults().card.is_none(), "the example card again");
        sim.command("paper out").unwrap();
        assert_eq!(sim.faults().paper, doorstep_devices::escpos::Paper::Out);
        assert!(matches!(sim.command("paper gone"), Err(SimError::Argument { command: "paper", .. })));
        sim.command("paper in").unwrap();
        assert_eq!(sim.faults().paper, doorstep_devices::escpos::Paper::Loaded);
    }

    #[test]
    fn a_link_at_zero_baud_is_refused() {
        let cfg = SimConfig { link_baud: 0, ..SimConfig::default() };
        assert!(matches!(Simulator::start(cfg), Err(SimError::LinkBaud)));
    }

    #[test]
    fn fingerprint_images_must_be_the_sensors_size() {
        let dir = std::env::temp_dir().join(format!("doorstep-sim-fp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let small = dir.join("small.png");
        image::GrayImage::from_pixel(10, 12, image::Luma([200])).save(&small).unwrap();
        let err = load_fingerprint(&small).unwrap_err();
        assert!(
            matches!(err, SimError::FingerprintSize { width: 10, height: 12, ref path } if *path == small),
            "{err:?}"
        );
        let missing = dir.join("missing.png");
        let err = load_fingerprint(&missing).unwrap_err();
        assert!(matches!(err, SimError::FingerprintImage { ref path, .. } if *path == missing), "{err:?}");
        std::fs::remove_dir_all(&dir).ok();
        let demo = demo_fingerprint().expect("the demo print loads");
        assert_eq!((demo.width, demo.height), (zfm::IMAGE_WIDTH, zfm::IMAGE_HEIGHT));
    }

    #[test]
    fn a_receipt_cut_short_is_an_error_of_its_bytes() {
        let err = render_receipt(&[0x1D, 0x28, 0x6B, 0xFF, 0x00, 0x31]).unwrap_err();
        assert!(
            matches!(
                err,
                SimError::Render(doorstep_devices::receipt_file::RenderError::Bytes(DeviceError::Malformed(_)))
            ),
            "{err:?}"
        );
    }
}
