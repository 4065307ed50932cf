//! The peripherals seen from the app: the bridge (real, or the simulator in demo mode), kept
//! alive by a background thread, and a status snapshot the screens show.

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
}

impl Peripherals {
    pub fn snapshot(&self) -> Snapshot {
        self.shared.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Connects to the bridge at `path`, or to the first serial port where a bridge answers,
    /// or else starts the simulator (demo mode); then keeps the link alive on a thread for the
    /// life of the app.
    pub fn start(path: Option<String>) -> Peripherals {
        let p = Peripherals::default();
        let shared = p.shared.clone();
        let spawned = std::thread::Builder::new().name("peripherals".into()).spawn(move || {
            let path = path.or_else(find_bridge);
            let (sim, path) = match path {
                Some(path) => (None, path),
                None => match Simulator::start(SimConfig::default()) {
                    Ok(sim) => {
                        let path = sim.path.clone();
                        (Some(sim), path)
                    }
                    Err(e) => {
                        set(&shared, |s| s.problem = Some(format!("simulator: {e}")));
                        return;
                    }
                },
            };
            let simulated = sim.is_some();
            loop {
                match BridgeHost::connect(&path, 115_200, Duration::from_secs(3)) {
                    Ok(host) => {
                        info!("peripheral bridge on {path}{}", if simulated { " (simulator)" } else { "" });
                        while host.pump(Duration::from_millis(200)).is_ok() {
                            let st = host.status();
                            let hb = st.heartbeat.unwrap_or_default();
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
                std::thread::sleep(Duration::from_secs(2));
            }
        });
        if let Err(e) = spawned {
            set(&p.shared, |s| s.problem = Some(e.to_string()));
        }
        p
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
