//! Fingerprint image upload through the bridge, paced at the baud rate (run:
//! `cargo bench -p doorstep-devices`): the effective throughput as a share of the line rate,
//! and the host's CPU time per image; then what the peripherals cost while nobody uses them
//! (the simulator and the host kept alive as the app keeps them), as a share of one core.

use std::time::{Duration, Instant};

use doorstep_devices::io::{BridgeHost, FingerprintScanner};
use doorstep_devices::zfm::IMAGE_BYTES;
use doorstep_firmware_bridge::sim::{SimConfig, Simulator};
use doorstep_link::Channel;
use rustix::time::{ClockId, clock_gettime};

fn thread_cpu() -> Duration {
    let t = clock_gettime(ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

fn process_cpu() -> Duration {
    let t = clock_gettime(ClockId::ProcessCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// The simulator and a connected host left alone, the host pumped as the app's keeper thread
/// pumps it (`src/peripherals.rs`): the process's CPU time over the wall time.
fn idle(seconds: u64) {
    let sim = Simulator::start(SimConfig::default()).expect("simulator");
    let host = BridgeHost::connect(&sim.path, 115_200, Duration::from_secs(5)).expect("bridge");
    let (w0, c0) = (Instant::now(), process_cpu());
    while w0.elapsed() < Duration::from_secs(seconds) {
        host.pump(Duration::from_millis(200)).expect("link kept up");
    }
    let share = (process_cpu() - c0).as_secs_f64() / w0.elapsed().as_secs_f64();
    println!(
        "idle peripherals (simulator and host, link kept up by heartbeats) over {seconds} s: {:.2} % of a core (goal ≤ 3 % for the whole app)",
        100.0 * share
    );
    assert!(host.status().up, "the link stayed up while idle");
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let rounds = if full { 5 } else { 1 };
    println!("fingerprint image upload (36,864 bytes; 144 ZFM data packets of 256 bytes) through the bridge, paced:");
    for baud in [57_600u32, 115_200] {
        let paced = std::env::var("UNPACED").is_err();
        let sim = Simulator::start(SimConfig { link_baud: baud, paced, ..SimConfig::default() }).expect("simulator");
        let host = BridgeHost::connect(&sim.path, baud, Duration::from_secs(5)).expect("bridge");
        let mut fp = FingerprintScanner::new(host.channel(Channel::Fingerprint));
        fp.handshake(0).expect("handshake");
        // The module starts at 57,600: move it and the bridge's port to the rate under test.
        fp.set_module_baud(baud).expect("module baud");
        std::thread::sleep(Duration::from_millis(50));
        host.set_baud(Channel::Fingerprint, baud).expect("set baud");
        let params = fp.handshake(0).expect("handshake at the new rate");
        assert_eq!(params.baud(), baud);
        fp.set_packet_size(256).expect("256-byte packets");
        fp.take_image(Duration::from_secs(2)).expect("image");
        let mut walls = Vec::new();
        let mut cpus = Vec::new();
        for _ in 0..rounds {
            let (w0, c0) = (Instant::now(), thread_cpu());
            let data = match fp.upload_image() {
                Ok(d) => d,
                Err(e) => panic!("upload at {baud} after {:?}: {e}; link {:?}", w0.elapsed(), host.status()),
            };
            walls.push(w0.elapsed());
            cpus.push(thread_cpu() - c0);
            assert_eq!(data.len(), IMAGE_BYTES);
        }
        walls.sort();
        cpus.sort();
        let wall = walls[walls.len() / 2];
        let cpu = cpus[cpus.len() / 2];
        let line_bytes_per_s = f64::from(baud) / 10.0;
        let image_rate = IMAGE_BYTES as f64 / wall.as_secs_f64();
        let zfm_stream = (IMAGE_BYTES + 144 * 11 + 12) as f64;
        println!(
            "  {baud:>7} baud: {:.2} s per image; image bytes {:.1} % of the line rate, ZFM stream {:.1} %; host CPU {:.1} ms per image",
            wall.as_secs_f64(),
            100.0 * image_rate / line_bytes_per_s,
            100.0 * zfm_stream / wall.as_secs_f64() / line_bytes_per_s,
            cpu.as_secs_f64() * 1000.0
        );
    }
    idle(if full { 10 } else { 2 });
}
