//! `doorstep devices list`: the cameras and serial ports, and what answered on each.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;
use doorstep_devices::camera::{CameraSource, ReplayCamera, list_cameras};
use doorstep_devices::io::{BridgeHost, CardReader, DirectSerial, FingerprintScanner, GnssReader};
use doorstep_link::Channel;
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum DevicesCommand {
    /// List cameras and serial ports, and probe each port for the bridge or a device.
    List(ListArgs),
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Also probe these ports (pseudo-terminals and the like are not enumerated).
    #[arg(long = "port", value_name = "PATH", env = "DOORSTEP_BRIDGE")]
    ports: Vec<String>,
    /// The replay camera's folder.
    #[arg(long, value_name = "DIR")]
    replay: Option<PathBuf>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// The demo frames shipped with the source.
pub fn default_replay_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/demo/camera")
}

/// What answered on a port.
fn probe(path: &str) -> (String, serde_json::Value) {
    // A path that is not there (a typo, a bridge unplugged) is said so, not probed.
    if let Err(e) = std::fs::metadata(path) {
        return (format!("cannot open it: {e}"), json!({"kind": null, "error": e.to_string()}));
    }
    if let Ok(host) = BridgeHost::connect(path, 115_200, Duration::from_millis(1200)) {
        let status = host.status();
        let hb = status.heartbeat.unwrap_or_default();
        let devices: Vec<&str> = Channel::DEVICES.iter().filter(|c| hb.is_present(**c)).map(|c| c.name()).collect();
        let text = format!(
            "doorstep bridge: battery {} %, answering: {}",
            hb.battery_percent,
            if devices.is_empty() { "nothing".to_string() } else { devices.join(", ") }
        );
        return (text, json!({"kind": "bridge", "battery_percent": hb.battery_percent, "devices": devices}));
    }
    if let Ok(port) = DirectSerial::open(path, 57_600) {
        let mut fp = FingerprintScanner::new(port);
        fp.reply_timeout = Duration::from_millis(500);
        if let Ok(p) = fp.handshake(0) {
            return (
                format!("fingerprint module (capacity {}, {} baud)", p.capacity, p.baud()),
                json!({"kind": "fingerprint", "capacity": p.capacity}),
            );
        }
    }
    if let Ok(port) = DirectSerial::open(path, 115_200) {
        let mut reader = CardReader::new(port);
        reader.reply_timeout = Duration::from_millis(500);
        match reader.read() {
            Ok(_) => return ("ID-card reader (a card is on it)".into(), json!({"kind": "id-card"})),
            Err(doorstep_devices::DeviceError::Refused(_)) => {
                return ("ID-card reader".into(), json!({"kind": "id-card"}));
            }
            Err(_) => {}
        }
    }
    if let Ok(port) = DirectSerial::open(path, 9_600) {
        let mut gnss = GnssReader::new(port);
        match gnss.next_fix(Duration::from_millis(1500)) {
            Ok(f) => return (format!("GNSS receiver ({} satellites)", f.satellites), json!({"kind": "gnss"})),
            Err(doorstep_devices::DeviceError::Refused(_)) => {
                return ("GNSS receiver (no fix yet)".into(), json!({"kind": "gnss"}));
            }
            Err(_) => {}
        }
    }
    (
        "no answer (tried the bridge, a fingerprint module, an ID-card reader and a GNSS receiver)".into(),
        json!({"kind": null}),
    )
}

pub fn run(command: DevicesCommand) -> anyhow::Result<ExitCode> {
    let DevicesCommand::List(args) = command;
    let cameras = list_cameras();
    let replay_dir = args.replay.unwrap_or_else(default_replay_dir);
    let mut replay = ReplayCamera::new(&replay_dir);
    let replay_ok = replay.open().is_ok();
    let mut ports: Vec<String> =
        serialport::available_ports().unwrap_or_default().into_iter().map(|p| p.port_name).collect();
    for p in args.ports {
        if !ports.contains(&p) {
            ports.push(p);
        }
    }
    let probed: Vec<(String, String, serde_json::Value)> = ports
        .iter()
        .map(|p| {
            let (text, value) = probe(p);
            (p.clone(), text, value)
        })
        .collect();
    if args.json {
        let v = json!({
            "cameras": cameras.iter().map(|c| json!({"name": c.name, "description": c.description})).collect::<Vec<_>>(),
            "replay_camera": replay_ok.then(|| replay_dir.display().to_string()),
            "ports": probed.iter().map(|(p, text, v)| json!({"path": p, "found": v, "summary": text})).collect::<Vec<_>>(),
        });
        out!("{v}");
        return Ok(ExitCode::SUCCESS);
    }
    out!("Cameras:");
    if cameras.is_empty() {
        out!("  (no camera found)");
    }
    for c in &cameras {
        out!("  {} — {}", c.name, c.description);
    }
    if replay_ok {
        out!("  replay — {} (demo mode)", replay_dir.display());
    }
    out!("Serial ports:");
    if probed.is_empty() {
        out!("  (none found; give a pseudo-terminal with --port PATH)");
    }
    for (p, text, _) in &probed {
        out!("  {p}: {text}");
    }
    Ok(ExitCode::SUCCESS)
}
