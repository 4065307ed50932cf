//! End to end through `serialport` on a pseudo-terminal, against the bridge simulator that
//! runs the firmware's logic with simulated devices speaking the real protocols.

use std::time::{Duration, Instant};

use doorstep_devices::DeviceError;
use doorstep_devices::escpos::{Align, PrintItem, ReceiptBuilder, parse};
use doorstep_devices::io::{BridgeHost, CardReader, DirectSerial, FingerprintScanner, GnssReader, ReceiptPrinter};
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
    assert!(fp.set_packet_size(100).is_err());
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
    // The card must be lifted and put back before it reads again.
    let again = reader.read().unwrap_err();
    assert!(again.to_string().contains("未检测到身份证"), "{again}");

    // GNSS: a fix in WGS-84 near the simulated track.
    let mut gnss = GnssReader::new(host.channel(Channel::Gnss));
    let fix = gnss.next_fix(Duration::from_secs(8)).unwrap();
    assert!((fix.latitude - 39.9087).abs() < 0.01 && (fix.longitude - 116.3975).abs() < 0.01, "{fix:?}");

    // Printer: a receipt, read back from what the printer received.
    let receipt = ReceiptBuilder::new().align(Align::Centre).line("受理回执").qr("TEST-0001").cut();
    ReceiptPrinter::new(host.channel(Channel::Printer)).print(&receipt).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while sim.receipts.lock().unwrap().is_empty() && Instant::now() < deadline {
        host.pump(Duration::from_millis(20)).unwrap();
    }
    let printed = sim.receipts.lock().unwrap().clone();
    assert_eq!(printed, std::slice::from_ref(&receipt));
    assert!(parse(&printed[0]).unwrap().contains(&PrintItem::Qr("TEST-0001".into())));
}

#[test]
fn a_silent_device_times_out_clearly_and_recovers() {
    let (sim, host) = start(115_200);
    sim.command("silent fingerprint").unwrap();
    let mut fp = FingerprintScanner::new(host.channel(Channel::Fingerprint));
    fp.reply_timeout = Duration::from_millis(400);
    let err = fp.handshake(0).unwrap_err();
    assert!(matches!(err, DeviceError::Timeout(_)), "{err:?}");
    assert!(err.to_string().contains("connected and powered"));
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

#[test]
fn corrupted_bytes_cost_frames_not_the_capture() {
    let (sim, host) = start(115_200);
    let mut fp = FingerprintScanner::new(host.channel(Channel::Fingerprint));
    fp.handshake(0).unwrap();
    // One byte in the middle of the image upload is damaged on the line.
    let before = host.status().bad_frames;
    sim.command("corrupt-after 20000").unwrap();
    let capture = fp.capture(Duration::from_secs(5)).expect("the driver asks again after a spoiled upload");
    assert_eq!(capture.image.pixels.len(), 256 * 288);
    assert!(host.status().bad_frames > before, "the damaged frame was seen and dropped");
    // And with random damage at one byte in 100,000, captures still come through.
    sim.command("corrupt 0.00001").unwrap();
    for _ in 0..2 {
        fp.capture(Duration::from_secs(5)).expect("capture under line noise");
    }
    sim.command("clear").unwrap();
}

#[test]
fn a_disconnect_in_the_middle_of_an_image_upload() {
    let (sim, host) = start(115_200);
    let mut fp = FingerprintScanner::new(host.channel(Channel::Fingerprint));
    fp.handshake(0).unwrap();
    let cutter = std::thread::spawn({
        let faults = sim.faults.clone();
        move || {
            std::thread::sleep(Duration::from_millis(1200));
            faults.lock().unwrap().disconnected_until = Some(Instant::now() + Duration::from_millis(800));
        }
    });
    let first = fp.capture(Duration::from_secs(5));
    cutter.join().unwrap();
    // Either the retry after the cut succeeded, or the driver said clearly what happened.
    if let Err(e) = &first {
        assert!(matches!(e, DeviceError::ImageSize { .. } | DeviceError::Timeout(_) | DeviceError::Port(_)), "{e:?}");
        // The link comes back by itself (handshake again) and the next capture works.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !host.status().up && Instant::now() < deadline {
            host.pump(Duration::from_millis(20)).unwrap();
        }
        fp.capture(Duration::from_secs(5)).expect("captures again without a restart");
    }
}

#[test]
fn link_frames_read_as_garbage_by_a_direct_driver() {
    // A device on its own port, here the simulator's pty spoken to without the link framing:
    // what comes back is link frames, i.e. garbage to a ZFM driver, which must say so.
    let sim = Simulator::start(SimConfig::default()).unwrap();
    let port = DirectSerial::open(&sim.path, 57_600).unwrap();
    let mut fp = FingerprintScanner::new(port);
    fp.reply_timeout = Duration::from_millis(1500);
    let err = fp.handshake(0).unwrap_err();
    assert!(matches!(err, DeviceError::Garbage { .. } | DeviceError::Timeout(_)), "{err:?}");
}

#[test]
fn the_wrong_baud_rate_reads_as_garbage_and_the_right_one_recovers() {
    let (_sim, host) = start(115_200);
    // The module listens at 57,600; set the bridge's port to 9,600.
    host.set_baud(Channel::Fingerprint, 9_600).unwrap();
    let mut fp = FingerprintScanner::new(host.channel(Channel::Fingerprint));
    fp.reply_timeout = Duration::from_millis(600);
    let err = fp.handshake(0).unwrap_err();
    assert!(matches!(err, DeviceError::Garbage { .. } | DeviceError::Timeout(_) | DeviceError::Checksum), "{err:?}");
    host.set_baud(Channel::Fingerprint, 57_600).unwrap();
    assert_eq!(fp.handshake(0).expect("right rate, no restart").baud(), 57_600);
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
