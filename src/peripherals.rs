//! The peripherals seen from the app: the bridge (real, or the simulator on a demo unit only),
//! kept alive by a background thread, and a status snapshot the screens show.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bevy::prelude::*;
use doorstep_devices::io::BridgeHost;
use doorstep_firmware_bridge::sim::{SimConfig, Simulator};
use doorstep_link::Channel;

/// What the officer sees about the peripherals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Connected to a bridge (and whether it is the simulator).
    pub connected: bool,
    pub simulated: bool,
    pub battery_percent: Option<u8>,
    /// The devices that answer, by channel name.
    pub answering: Vec<&'static str>,
    /// Why there is no bridge, if there is none.
    pub problem: Option<String>,
}

/// The latest snapshot, shared with the keeper thread.
#[derive(Resource, Clone, Default)]
pub struct Peripherals {
    shared: Arc<Mutex<Snapshot>>,
    /// The bridge while its link is up, for the capture tasks' drivers.
    host: Arc<Mutex<Option<BridgeHost>>>,
    /// The simulator, on a demo unit: scenarios act on its devices.
    sim: Arc<Mutex<Option<Arc<Simulator>>>>,
}

impl Peripherals {
    pub fn snapshot(&self) -> Snapshot {
        self.shared.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Acts on a simulated device (`no-finger 2`, `silent printer`, `clear`…): the simulator's
    /// own command line. A unit with real peripherals has none to act on.
    pub fn simulate(&self, line: &str) -> Result<(), String> {
        let sim = self.sim.lock().map_err(|_| "the simulator is gone".to_string())?.clone();
        match sim {
            Some(sim) => sim.command(line).map_err(|e| e.to_string()),
            None => Err("no simulator runs on this unit".into()),
        }
    }

    /// The bridge, if one is connected, and whether it is the simulator.
    pub fn host(&self) -> Option<(BridgeHost, bool)> {
        let host = self.host.lock().ok()?.clone()?;
        Some((host, self.snapshot().simulated))
    }

    /// Keeps the link to the peripherals alive on a thread for the life of the app: the bridge
    /// at `path` when one is named; else, on a demo unit (`demo`: its vault is a demo vault),
    /// the simulator; else the first serial port where a bridge answers, looked for again every
    /// two seconds until one does. A provisioned unit never starts the simulator: simulated
    /// fingerprints or a simulated ID card must never reach a real application, so with a loose
    /// cable it says the bridge is missing and the capture steps wait.
    pub fn start(path: Option<String>, demo: bool, receipts: Option<std::path::PathBuf>) -> Peripherals {
        let p = Peripherals::default();
        let shared = p.shared.clone();
        let keep = p.host.clone();
        let keep_sim = p.sim.clone();
        let spawned = std::thread::Builder::new().name("peripherals".into()).spawn(move || {
            let (sim, path) = match source(path, demo) {
                Source::Named(path) => (None, path),
                Source::Simulator => {
                    match Simulator::start(SimConfig { printer_out: receipts, ..SimConfig::default() }) {
                        Ok(sim) => {
                            let path = sim.path.clone();
                            let sim = Arc::new(sim);
                            if let Ok(mut k) = keep_sim.lock() {
                                *k = Some(sim.clone());
                            }
                            (Some(sim), path)
                        }
                        Err(e) => {
                            set(&shared, |s| s.problem = Some(format!("simulator: {e}")));
                            return;
                        }
                    }
                }
                Source::Search => loop {
                    if let Some(path) = find_bridge() {
                        break (None, path);
                    }
                    // Not connected: the home screen says the bridge is missing.
                    set(&shared, |s| *s = Snapshot::default());
                    std::thread::sleep(Duration::from_secs(2));
                },
            };
            // Started here, or a simulator reached by its path (DOORSTEP_BRIDGE) that says so in
            // its heartbeats: once said, it stays said for this bridge (its captures are taken;
            // the seal reads this after a lost link too).
            let mut simulated = sim.is_some();
            loop {
                match BridgeHost::connect(&path, 115_200, Duration::from_secs(3)) {
                    Ok(host) => {
                        info!("peripheral bridge on {path}{}", if simulated { " (simulator)" } else { "" });
                        if let Ok(mut k) = keep.lock() {
                            *k = Some(host.clone());
                        }
                        while host.pump(Duration::from_millis(200)).is_ok() {
                            let st = host.status();
                            let hb = st.heartbeat.unwrap_or_default();
                            simulated |= hb.simulated;
                            set(&shared, |s| {
                                *s = Snapshot {
                                    connected: st.up,
                                    simulated,
                                    battery_percent: st.heartbeat.map(|h| h.battery_percent),
                                    answering: Channel::DEVICES
                                        .iter()
                                        .filter(|c| hb.is_present(**c))
                                        .map(|c| c.name())
                                        .collect(),
                                    problem: None,
                                }
                            });
                        }
                    }
                    Err(e) => set(&shared, |s| {
                        *s = Snapshot { problem: Some(e.to_string()), simulated, ..Snapshot::default() };
                    }),
                }
                if let Ok(mut k) = keep.lock() {
                    *k = None;
                }
                std::thread::sleep(Duration::from_secs(2));
            }
        });
        if let Err(e) = spawned {
            set(&p.shared, |s| s.problem = Some(e.to_string()));
        }
        p
    }
}

/// Where the peripherals come from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    /// The bridge at this path (named by `DOORSTEP_BRIDGE`).
    Named(String),
    /// The in-process simulator: demo units only.
    Simulator,
    /// The serial ports, until a bridge answers on one.
    Search,
}

/// A named bridge wins; a demo unit simulates; a real unit only ever searches for hardware.
fn source(path: Option<String>, demo: bool) -> Source {
    match (path, demo) {
        (Some(path), _) => Source::Named(path),
        (None, true) => Source::Simulator,
        (None, false) => Source::Search,
    }
}

/// The first serial port where a bridge completes the handshake.
fn find_bridge() -> Option<String> {
    let ports = serialport::available_ports().unwrap_or_default();
    ports
        .into_iter()
        .map(|p| p.port_name)
        .find(|name| BridgeHost::connect(name, 115_200, Duration::from_millis(800)).is_ok())
}

fn set(shared: &Arc<Mutex<Snapshot>>, f: impl FnOnce(&mut Snapshot)) {
    if let Ok(mut s) = shared.lock() {
        f(&mut s);
    }
}

/// What a device's error means for the officer: the device's own advice in both languages
/// when it refused (the drivers give it as "中文 / English"), else a locale key. The error
/// itself is logged (a device's errors carry no personal data).
pub fn device_problem(e: &doorstep_devices::DeviceError) -> crate::ui::i18n::Arg {
    use crate::ui::i18n::Arg;
    use doorstep_devices::DeviceError as D;
    warn!("device: {e}");
    match e {
        D::Timeout(_) => Arg::Key("device.timeout"),
        D::PaperOut => Arg::Key("device.paper_out"),
        D::PrinterOffline => Arg::Key("device.printer_offline"),
        D::Port(_) => Arg::Key("device.port"),
        // The module's advice in both languages, without its code (a hex number means
        // nothing to the officer; the log above keeps it).
        D::Refused(advice) => {
            let advice = advice.split_once(": ").filter(|(code, _)| code.starts_with("0x")).map_or(&**advice, |a| a.1);
            match advice.split_once(" / ") {
                Some((zh, en)) => Arg::Both(zh.trim().to_string(), en.trim().to_string()),
                None => Arg::Key("device.refused"),
            }
        }
        _ => Arg::Key("device.garbled"),
    }
}

/// What the printer's answer to a receipt or a ticket means: printed whole, and whether its
/// paper is near its end; or why it is not known to be: `silent` (the key) where every byte went
/// out and the printer said nothing after (gone silent as it took them, it may have printed
/// nothing), `cut_short` where it ran out of paper or went offline during it.
pub fn printed(
    answer: Result<doorstep_devices::io::Printed, doorstep_devices::DeviceError>,
    silent: &'static str,
    cut_short: &'static str,
) -> Result<bool, crate::ui::i18n::Arg> {
    use crate::ui::i18n::Arg;
    use doorstep_devices::io::Printed;
    match answer {
        Ok(Printed::Whole(status)) => Ok(status.paper == doorstep_devices::escpos::Paper::NearEnd),
        Ok(Printed::StatusUnknown(e)) => {
            warn!("the printer said nothing after printing: {e}");
            Err(Arg::Key(silent))
        }
        Ok(Printed::MaybeCutShort(e)) => {
            warn!("the printer stopped while printing: {e}");
            Err(Arg::Key(cut_short))
        }
        Err(e) => Err(device_problem(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a device's problem says to the officer: the module's own advice in both languages,
    /// never its code.
    #[test]
    fn a_devices_problem_is_said_in_words() {
        use crate::ui::i18n::Arg;
        use doorstep_devices::DeviceError as D;
        let both = |zh: &str, en: &str| Arg::Both(zh.into(), en.into());
        let cases = [
            (
                D::Refused("0x02: 请将手指平放在采集器上 / Place the finger flat".into()),
                both("请将手指平放在采集器上", "Place the finger flat"),
            ),
            (
                D::Refused("请将手指平放在采集器上 / Place the finger flat".into()),
                both("请将手指平放在采集器上", "Place the finger flat"),
            ),
            (D::Refused("0x02".into()), Arg::Key("device.refused")),
            (D::Timeout(2000), Arg::Key("device.timeout")),
            (D::PaperOut, Arg::Key("device.paper_out")),
            (D::Checksum, Arg::Key("device.garbled")),
        ];
        for (e, want) in cases {
            assert_eq!(device_problem(&e), want, "{e:?}");
        }
    }

    /// (bridge named, demo unit, where the peripherals come from)
    #[test]
    fn a_provisioned_unit_never_simulates() {
        let table = [
            (Some("/dev/ttyACM0"), false, Source::Named("/dev/ttyACM0".into())),
            (Some("/dev/pts/7"), true, Source::Named("/dev/pts/7".into())),
            (None, true, Source::Simulator),
            (None, false, Source::Search),
        ];
        for (path, demo, want) in table {
            assert_eq!(source(path.map(String::from), demo), want, "{path:?}, demo {demo}");
        }
    }

    /// R23: the simulator started by hand and named by its path on a provisioned unit (not
    /// started by the unit) still says it is one, over the real serial link, and the unit
    /// records its devices as simulated: their captures cannot be sealed to a real bureau key.
    #[test]
    fn a_simulator_named_by_its_path_is_known_for_one() {
        use doorstep_firmware_bridge::sim::{SimConfig, Simulator};
        let sim = Simulator::start(SimConfig::default()).expect("simulator");
        let p = Peripherals::start(Some(sim.path.clone()), false, None);
        let until = std::time::Instant::now() + Duration::from_secs(20);
        // Up, and its first heartbeat heard (the battery is in it).
        while p.snapshot().battery_percent.is_none() && std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(50));
        }
        let snapshot = p.snapshot();
        assert!(snapshot.connected, "{snapshot:?}");
        assert!(snapshot.simulated, "{snapshot:?}");
        // The simulator gone (its captures already taken): still said, for the seal to read.
        drop(sim);
        let until = std::time::Instant::now() + Duration::from_secs(20);
        while p.snapshot().connected && std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(50));
        }
        let snapshot = p.snapshot();
        assert!(!snapshot.connected, "{snapshot:?}");
        assert!(snapshot.simulated, "{snapshot:?}");
    }
}
