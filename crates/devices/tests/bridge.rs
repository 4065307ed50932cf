//! End to end through `serialport` on a pseudo-terminal, against the bridge simulator that
//! runs the firmware's logic with simulated devices speaking the real protocols. SECURITY.md
//! R19: garbled bytes, a silent device, a cut cable and the wrong baud rate each cost frames
//! (counted, with a clear error), never the program.

use std::time::{Duration, Instant};

use doorstep_devices::DeviceError;
use doorstep_devices::escpos::{Align, Paper, PrintItem, ReceiptBuilder, parse};
use doorstep_devices::io::{
    BridgeHost, CardReader, DirectSerial, FingerprintScanner, GnssReader, Printed, ReceiptPrinter, Transport,
};
use doorstep_devices::quality::synthetic_fingerprint;
use doorstep_devices::zfm::{self, GreyImage};
use doorstep_firmware_bridge::sim::{SimConfig, Simulator};
use doorstep_link::Channel;

fn start(baud: u32) -> (Simulator, BridgeHost) {
    let sim = Simulator::start(SimConfig { link_baud: baud, ..SimConfig::default() }).expect("simulator");
    let host = BridgeHost::connect(&sim.path, baud, Duration::from_secs(5)).expect("bridge handshake");
    (sim, host)
}

#[test]
fn fingerprint_card_gnss_and_printer_through_the_bridge() {
    let (sim, host) = start(115_200);
    let hb = host.status().heartbeat.expect("a heartbeat");
    assert_eq!(hb.battery_percent, 87);
    for c in Channel::DEVICES {
        assert!(hb.is_present(c), "{c:?} answers");
    }

    // Fingerprint: the module says "no finger" twice, then captures.
    sim.command("no-finger 2").unwrap();
    let mut fp = FingerprintScanner::new(host.channel(Channel::Fingerprint));
    let params = fp.handshake(0).unwrap();
    assert_eq!(params.baud(), 57_600);
    assert_eq!(params.packet_size(), 128);
    fp.set_packet_size(256).unwrap();
    assert_eq!(fp.handshake(0).unwrap().packet_size(), 256);
    assert!(matches!(fp.set_packet_size(100), Err(DeviceError::Refused(_))));
    let capture = fp.capture(Duration::from_secs(5)).unwrap();
    assert_eq!((capture.image.width, capture.image.height), (256, 288));
    assert_eq!(capture.template.len(), 512);
    assert!(capture.quality.acceptable(), "{:?}", capture.quality);

    // ID card: the published example identity.
    let mut reader = CardReader::new(host.channel(Channel::IdCard));
    let card = reader.read().unwrap();
    assert_eq!(card.id_number, "11010519491231002X");
    assert_eq!(card.name, "测试");
    assert_eq!(card.valid_until, "长期");
    assert_eq!(card.wlt_photo.len(), 1024);
    // The card must be lifted and put back before it reads again: the reader finds no card
    // (status 0x80).
    let again = reader.read().unwrap_err();
    assert!(matches!(&again, DeviceError::Refused(m) if m.starts_with("0x80:")), "{again:?}");
    // Another card put on the reader (the first lifted) reads at once: a guardian's after the
    // child's.
    sim.command("card 测试父亲 440524188001010014").unwrap();
    assert_eq!(reader.read().unwrap().id_number, "440524188001010014");

    // GNSS: a fix in WGS-84 near the simulated track.
    let mut gnss = GnssReader::new(host.channel(Channel::Gnss));
    let fix = gnss.next_fix(Duration::from_secs(8)).unwrap();
    assert!((fix.latitude - 39.9087).abs() < 0.01 && (fix.longitude - 116.3975).abs() < 0.01, "{fix:?}");

    // Printer: a receipt, read back from what the printer received.
    let receipt = ReceiptBuilder::new().align(Align::Centre).line("受理回执").qr("TEST-0001").cut();
    let done = ReceiptPrinter::new(host.channel(Channel::Printer)).print(&receipt).unwrap();
    assert!(matches!(done, Printed::Whole(s) if s.online && s.paper == Paper::Loaded), "{done:?}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while sim.receipts.lock().unwrap().is_empty() && Instant::now() < deadline {
        host.pump(Duration::from_millis(20)).unwrap();
    }
    let printed = sim.receipts.lock().unwrap().clone();
    assert_eq!(printed, std::slice::from_ref(&receipt));
    assert!(parse(&printed[0]).unwrap().contains(&PrintItem::Qr("TEST-0001".into())));

    // Out of paper: refused before a byte is printed, saying so; then no printer at all.
    sim.command("paper out").unwrap();
    let err = ReceiptPrinter::new(host.channel(Channel::Printer)).print(&receipt).unwrap_err();
    assert!(matches!(err, DeviceError::PaperOut), "{err:?}");
    sim.command("paper in").unwrap();
    sim.command("silent printer").unwrap();
    let err = ReceiptPrinter::new(host.channel(Channel::Printer)).print(&receipt).unwrap_err();
    assert!(matches!(err, DeviceError::Timeout(_)), "{err:?}");
    assert_eq!(sim.receipts.lock().unwrap().len(), 1, "nothing more printed");
}

#[test]
fn a_silent_device_times_out_clearly_and_recovers() {
    let (sim, host) = start(115_200);
    sim.command("silent fingerprint").unwrap();
    let mut fp = FingerprintScanner::new(host.channel(Channel::Fingerprint));
    fp.reply_timeout = Duration::from_millis(400);
    let err = fp.handshake(0).unwrap_err();
    assert_eq!(err, DeviceError::Timeout(400));
    let mut gone = false;
    for _ in 0..100 {
        host.pump(Duration::from_millis(20)).unwrap();
        if host.status().heartbeat.is_some_and(|h| !h.is_present(Channel::Fingerprint)) {
            gone = true;
            break;
        }
    }
    assert!(gone, "the heartbeat reports the fingerprint module missing");
    sim.command("answer fingerprint").unwrap();
    fp.handshake(0).expect("works again without a restart");
}

/// The image of the `n`-th finger placed on the simulated module (from 0; each a finger of its
/// own), as the sensor's 4-bit pixels bring it.
fn simulated_image(n: u32) -> GreyImage {
    let img = synthetic_fingerprint(zfm::IMAGE_WIDTH, zfm::IMAGE_HEIGHT, 1 + n, 170.0, 1.0);
    zfm::unpack_image(&zfm::pack_image(&img)).unwrap()
}

#[test]
fn corrupted_bytes_cost_frames_not_the_capture() {
    let (sim, host) = start(115_200);
    let mut fp = FingerprintScanner::new(host.channel(Channel::Fingerprint));
    fp.handshake(0).unwrap();
    // One byte in the middle of the image upload is damaged on the line.
    let before = host.status().bad_frames;
    sim.command("corrupt-after 20000").unwrap();
    let capture = fp.capture(Duration::from_secs(5)).expect("the driver asks again after a spoiled upload");
    assert_eq!(capture.image, simulated_image(0));
    assert!(host.status().bad_frames > before, "the damaged frame was seen and dropped");
    // And with random damage at one byte in 100,000, captures still come through.
    sim.command("corrupt 0.00001").unwrap();
    for n in 1..3 {
        let capture = fp.capture(Duration::from_secs(5)).expect("capture under line noise");
        assert_eq!(capture.image, simulated_image(n));
    }
    sim.command("clear").unwrap();
}

#[test]
fn a_disconnect_in_the_middle_of_an_image_upload() {
    let (sim, host) = start(115_200);
    let mut fp = FingerprintScanner::new(host.channel(Channel::Fingerprint));
    fp.handshake(0).unwrap();
    let gaps_before = host.status().gaps[Channel::Fingerprint.index()];
    // The upload takes about 6.5 s at the module's 57,600 baud; the cable is out for 0.8 s of it.
    let cutter = std::thread::spawn({
        let faults = sim.faults.clone();
        move || {
            std::thread::sleep(Duration::from_millis(1200));
            faults.lock().unwrap().disconnected_until = Some(Instant::now() + Duration::from_millis(800));
        }
    });
    let capture = fp.capture(Duration::from_secs(5)).expect("the driver asks again after the cut, without a restart");
    cutter.join().unwrap();
    assert_eq!(capture.image, simulated_image(0));
    // The frames lost in the cut were seen as lost, on the fingerprint's channel.
    assert!(host.status().gaps[Channel::Fingerprint.index()] > gaps_before, "{:?}", host.status());
    assert!(host.status().up);
}

#[test]
fn link_frames_read_as_garbage_by_a_direct_driver() {
    // A device on its own port, here the simulator's pty spoken to without the link framing:
    // what comes back is the bridge's hellos (every 500 ms), i.e. garbage to a ZFM driver,
    // which must say so rather than time out.
    let sim = Simulator::start(SimConfig::default()).unwrap();
    let port = DirectSerial::open(&sim.path, 57_600).unwrap();
    let mut fp = FingerprintScanner::new(port);
    fp.reply_timeout = Duration::from_millis(1500);
    let err = fp.handshake(0).unwrap_err();
    assert!(matches!(err, DeviceError::Garbage { bytes } if bytes > 0), "{err:?}");
}

#[test]
fn the_wrong_baud_rate_reads_as_garbage_and_the_right_one_recovers() {
    let (_sim, host) = start(115_200);
    // The module listens at 57,600; set the bridge's port to 9,600. The module reads the
    // command as garbage and says so (a packet error), which reads as garbage here in turn.
    host.set_baud(Channel::Fingerprint, 9_600).unwrap();
    let mut fp = FingerprintScanner::new(host.channel(Channel::Fingerprint));
    fp.reply_timeout = Duration::from_millis(600);
    let err = fp.handshake(0).unwrap_err();
    assert!(matches!(err, DeviceError::Garbage { bytes } if bytes > 0), "{err:?}");
    host.set_baud(Channel::Fingerprint, 57_600).unwrap();
    assert_eq!(fp.handshake(0).expect("right rate, no restart").baud(), 57_600);
}

#[test]
fn a_gnss_receiver_at_the_wrong_baud_rate_reads_as_garbage_and_the_right_one_recovers() {
    let (_sim, host) = start(115_200);
    // The GNSS receiver talks at 9,600 without being asked; set the bridge's port to 115,200.
    host.set_baud(Channel::Gnss, 115_200).unwrap();
    let mut channel = host.channel(Channel::Gnss);
    // What it sent at the right rate before the switch arrives, then is dropped.
    let settle = Instant::now() + Duration::from_millis(1200);
    while Instant::now() < settle {
        host.pump(Duration::from_millis(20)).unwrap();
    }
    channel.discard().unwrap();
    let mut gnss = GnssReader::new(channel);
    let err = gnss.next_fix(Duration::from_secs(3)).unwrap_err();
    assert!(matches!(err, DeviceError::Garbage { bytes } if bytes > 0), "{err:?}");
    host.set_baud(Channel::Gnss, 9_600).unwrap();
    let fix = gnss.next_fix(Duration::from_secs(5)).expect("right rate, no restart");
    assert!((fix.latitude - 39.9087).abs() < 0.01, "{fix:?}");
}

#[test]
fn the_demo_prints_pass_and_fail_quality_as_labelled() {
    use doorstep_devices::quality::{QualityReason, QualityThresholds, assess};
    use doorstep_firmware_bridge::sim::load_fingerprint;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/demo/fingerprints");
    let t = QualityThresholds::default();
    for (name, reason) in [
        ("finger-good-1", None),
        ("finger-good-2", None),
        ("finger-faint", Some(QualityReason::LowContrast)),
        ("finger-partial", Some(QualityReason::SmallArea)),
    ] {
        let q = assess(&load_fingerprint(&dir.join(format!("{name}.png"))).unwrap(), &t);
        match reason {
            None => assert!(q.acceptable(), "{name}: {q:?}"),
            Some(r) => assert!(q.reasons.contains(&r), "{name}: {q:?}"),
        }
    }
}

/// The guard against a finger placed twice, through the module over the bridge: the template of
/// each print taken is downloaded into the module's second buffer and matched against the print
/// just captured (nothing is stored in the module's library). Two different fingers do not
/// match; the same finger placed again does.
#[test]
fn the_module_tells_a_finger_placed_twice_from_another() {
    let (sim, host) = start(115_200);
    let mut fp = FingerprintScanner::new(host.channel(Channel::Fingerprint));
    fp.handshake(0).unwrap();
    fp.set_packet_size(64).unwrap();
    let thumb = fp.capture(Duration::from_secs(5)).unwrap();
    let index = fp.capture(Duration::from_secs(5)).unwrap();
    assert_ne!(thumb.image, index.image, "each finger placed is a finger of its own");
    assert!(!fp.same_finger(&thumb.template).unwrap(), "another finger than the thumb");
    // The index finger placed again (the next finger was asked for).
    sim.command("same-finger").unwrap();
    let again = fp.capture(Duration::from_secs(5)).unwrap();
    assert_eq!(again.image, index.image, "the finger placed before, placed again");
    assert!(fp.same_finger(&index.template).unwrap(), "the same finger, in 8 packets of 64 bytes");
    assert!(!fp.same_finger(&thumb.template).unwrap());
    // A template the module cannot hold is refused before anything is sent.
    assert!(matches!(fp.same_finger(&[]), Err(DeviceError::Malformed(_))));
    assert!(matches!(fp.same_finger(&[0; 513]), Err(DeviceError::Malformed(_))));
}
