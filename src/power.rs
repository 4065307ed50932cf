//! The tablet's own battery, read from the kernel's power-supply folder (on Linux,
//! `/sys/class/power_supply`; `DOORSTEP_POWER_SUPPLY` names another, for a trainer or a test) on
//! a thread every half minute. When it runs low and nothing charges it, every screen shows a
//! line under its header: plug the tablet in; what is filled in is kept at every step. A tablet
//! with no battery the kernel reports (this machine, a desktop) shows nothing.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bevy::prelude::*;

use crate::tasks::Waker;
use crate::ui::i18n::Tr;

/// At or under this charge, not charging, the officer is told.
pub const LOW_PERCENT: u8 = 20;
/// How often the battery is read.
const EVERY: Duration = Duration::from_secs(30);

/// The battery as the kernel reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Battery {
    /// The charge, 0–100.
    pub percent: u8,
    /// A battery reports charging or full, or mains or USB power is on line.
    pub charging: bool,
}

impl Battery {
    pub fn low(&self) -> bool {
        self.percent <= LOW_PERCENT && !self.charging
    }
}

/// A battery's stored and full figures, and their unit (`energy`, µWh, or `charge`, µAh).
type Stored = (&'static str, u128, u128);

/// Reads the power supplies under `root`: the tablet's batteries (a pen's, a keyboard's or a
/// mouse's, `scope` `Device`, are not the tablet's) taken together, as their stored energy
/// over their full energy where each says both (`energy_*` or `charge_*`), else as the mean
/// of their charges (`capacity`, 0–100). `None` where there is no such battery, or none whose
/// charge reads. A supply whose files cannot be read or make no sense is left out, never a
/// panic.
pub fn read(root: &Path) -> Option<Battery> {
    let mut supplies: Vec<PathBuf> = std::fs::read_dir(root).ok()?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    supplies.sort();
    let field = |dir: &Path, name: &str| std::fs::read_to_string(dir.join(name)).ok().map(|s| s.trim().to_string());
    let number = |dir: &Path, name: &str| field(dir, name).and_then(|v| v.parse::<u64>().ok());
    // Each battery's (charge in percent, (stored, full) where it says them).
    let mut batteries: Vec<(u8, Option<Stored>)> = Vec::new();
    let mut charging = false;
    for dir in &supplies {
        let device = field(dir, "scope").as_deref() == Some("Device");
        match field(dir, "type").as_deref() {
            Some("Battery") if !device => {
                let stored = ["energy", "charge"].into_iter().find_map(|kind| {
                    let (now, full) = (number(dir, &format!("{kind}_now"))?, number(dir, &format!("{kind}_full"))?);
                    let (now, full) = (u128::from(now), u128::from(full));
                    (full > 0).then_some((kind, now.min(full), full))
                });
                let percent = number(dir, "capacity")
                    .filter(|p| *p <= 100)
                    .map(|p| p as u8)
                    .or_else(|| stored.map(|(_, now, full)| percent_of(now, full)));
                if let Some(p) = percent {
                    batteries.push((p, stored));
                    charging |= matches!(field(dir, "status").as_deref(), Some("Charging" | "Full"));
                }
            }
            Some("Mains" | "USB" | "USB_C" | "USB_PD") if !device => {
                charging |= field(dir, "online").as_deref() == Some("1");
            }
            _ => {}
        }
    }
    if batteries.is_empty() {
        return None;
    }
    // Stored over full only where every battery says it in the same unit (energy in µWh,
    // charge in µAh); the kernel's figures are u64, summed in u128, so nothing overflows.
    let kinds: Vec<Option<&str>> = batteries.iter().map(|b| b.1.map(|s| s.0)).collect();
    let percent = if kinds.iter().all(|k| k.is_some() && *k == kinds[0]) {
        let (now, full) = batteries.iter().filter_map(|b| b.1).fold((0u128, 0u128), |(n, f), (_, a, b)| (n + a, f + b));
        percent_of(now, full)
    } else {
        (batteries.iter().map(|b| u32::from(b.0)).sum::<u32>() / batteries.len() as u32) as u8
    };
    Some(Battery { percent, charging })
}

/// `now` of `full` in percent (`now` is at most `full`).
fn percent_of(now: u128, full: u128) -> u8 {
    (now * 100 / full.max(1)) as u8
}

/// The latest reading, shared with the thread that reads it.
#[derive(Resource, Clone, Default)]
pub struct Power(pub Arc<Mutex<Option<Battery>>>);

impl Power {
    pub fn battery(&self) -> Option<Battery> {
        self.0.lock().map(|b| *b).unwrap_or(None)
    }

    /// Reads the battery now and every half minute after, on a thread, waking the screen when
    /// the reading changes.
    pub fn start(root: PathBuf, waker: Waker) -> Power {
        let power = Power::default();
        let shared = power.0.clone();
        let spawned = std::thread::Builder::new().name("power".into()).spawn(move || {
            loop {
                let now = read(&root);
                let changed = shared.lock().map(|mut b| std::mem::replace(&mut *b, now) != now).unwrap_or(false);
                if changed {
                    waker.wake();
                }
                std::thread::sleep(EVERY);
            }
        });
        if let Err(e) = spawned {
            warn!("the battery is not read: {e}");
        }
        power
    }
}

/// The folder the battery is read from.
pub fn root() -> PathBuf {
    std::env::var_os("DOORSTEP_POWER_SUPPLY").map_or_else(|| PathBuf::from("/sys/class/power_supply"), PathBuf::from)
}

/// The line under the header that says the battery is low (hidden otherwise), and its words.
#[derive(Component, Debug)]
pub struct LowBattery;

#[derive(Component, Debug)]
pub struct LowBatteryWords;

pub fn plugin(app: &mut App) {
    app.init_resource::<Power>();
    app.add_systems(Update, show_low_battery);
}

/// Shows or hides each screen's low-battery line with the latest reading.
fn show_low_battery(
    power: Res<Power>,
    mut lines: Query<&mut Node, With<LowBattery>>,
    mut words: Query<&mut Tr, With<LowBatteryWords>>,
) {
    let battery = power.battery();
    let display = if battery.is_some_and(|b| b.low()) { Display::Flex } else { Display::None };
    for mut node in &mut lines {
        if node.display != display {
            node.display = display;
        }
    }
    let want = Tr::new("power.low").with("percent", battery.map_or(0, |b| b.percent));
    for mut tr in &mut words {
        if *tr != want {
            *tr = want.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A power-supply folder as the kernel lays it out: one folder a supply, one file a value.
    fn supplies(list: &[(&str, &[(&str, &str)])]) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        for (name, files) in list {
            let dir = root.path().join(name);
            std::fs::create_dir(&dir).unwrap();
            for (file, value) in *files {
                std::fs::write(dir.join(file), format!("{value}\n")).unwrap();
            }
        }
        root
    }

    #[test]
    fn the_battery_as_the_kernel_reports_it() {
        let bat = |capacity: &'static str, status: &'static str| -> Vec<(&'static str, &'static str)> {
            vec![("type", "Battery"), ("capacity", capacity), ("status", status)]
        };
        let ac =
            |online: &'static str| -> Vec<(&'static str, &'static str)> { vec![("type", "Mains"), ("online", online)] };
        for (what, list, want) in [
            ("no supply at all", vec![], None),
            ("mains only (a desktop)", vec![("AC", ac("1"))], None),
            ("discharging", vec![("BAT0", bat("14", "Discharging"))], Some(Battery { percent: 14, charging: false })),
            ("charging", vec![("BAT0", bat("14", "Charging"))], Some(Battery { percent: 14, charging: true })),
            ("full", vec![("BAT0", bat("100", "Full"))], Some(Battery { percent: 100, charging: true })),
            (
                "on mains, not charging yet",
                vec![("AC", ac("1")), ("BAT0", bat("15", "Not charging"))],
                Some(Battery { percent: 15, charging: true }),
            ),
            (
                "mains unplugged",
                vec![("AC", ac("0")), ("BAT0", bat("15", "Discharging"))],
                Some(Battery { percent: 15, charging: false }),
            ),
            (
                "two batteries, one drained first: together",
                vec![("BAT0", bat("80", "Discharging")), ("BAT1", bat("9", "Discharging"))],
                Some(Battery { percent: 44, charging: false }),
            ),
            (
                "two batteries by their energy: a big one nearly full, a small one empty",
                vec![
                    (
                        "BAT0",
                        [bat("95", "Discharging"), vec![("energy_now", "57000000"), ("energy_full", "60000000")]]
                            .concat(),
                    ),
                    (
                        "BAT1",
                        [bat("0", "Discharging"), vec![("energy_now", "0"), ("energy_full", "20000000")]].concat(),
                    ),
                ],
                Some(Battery { percent: 71, charging: false }),
            ),
            (
                "charge only, no capacity file",
                vec![(
                    "BAT0",
                    vec![
                        ("type", "Battery"),
                        ("status", "Discharging"),
                        ("charge_now", "1500000"),
                        ("charge_full", "10000000"),
                    ],
                )],
                Some(Battery { percent: 15, charging: false }),
            ),
            (
                "a pen's battery is not the tablet's",
                vec![
                    ("BAT0", bat("64", "Discharging")),
                    ("hid-pen-battery", [bat("10", "Charging"), vec![("scope", "Device")]].concat()),
                ],
                Some(Battery { percent: 64, charging: false }),
            ),
            (
                "one battery by energy, one by charge: the mean of their charges",
                vec![
                    (
                        "BAT0",
                        [bat("90", "Discharging"), vec![("energy_now", "54000000"), ("energy_full", "60000000")]]
                            .concat(),
                    ),
                    (
                        "BAT1",
                        [bat("10", "Discharging"), vec![("charge_now", "500000"), ("charge_full", "5000000")]].concat(),
                    ),
                ],
                Some(Battery { percent: 50, charging: false }),
            ),
            (
                "figures near the largest the kernel can give",
                vec![(
                    "BAT0",
                    vec![
                        ("type", "Battery"),
                        ("status", "Discharging"),
                        ("energy_now", "18446744073709551615"),
                        ("energy_full", "18446744073709551615"),
                    ],
                )],
                Some(Battery { percent: 100, charging: false }),
            ),
            (
                "stored over full, the full zero: the capacity file",
                vec![("BAT0", [bat("37", "Discharging"), vec![("energy_now", "5"), ("energy_full", "0")]].concat())],
                Some(Battery { percent: 37, charging: false }),
            ),
            (
                "only a pen's battery",
                vec![("hid-pen-battery", [bat("10", "Discharging"), vec![("scope", "Device")]].concat())],
                None,
            ),
            ("a charge that is not a number", vec![("BAT0", bat("lots", "Discharging"))], None),
            ("a charge over 100", vec![("BAT0", bat("250", "Discharging"))], None),
            (
                "one battery unreadable, the other read",
                vec![("BAT0", bat("", "Unknown")), ("BAT1", bat("33", "Discharging"))],
                Some(Battery { percent: 33, charging: false }),
            ),
        ] {
            let root = supplies(&list.iter().map(|(n, f)| (*n, f.as_slice())).collect::<Vec<_>>());
            assert_eq!(read(root.path()), want, "{what}");
        }
        assert_eq!(read(Path::new("/nonexistent/power_supply")), None, "no folder");
    }

    #[test]
    fn low_is_at_most_a_fifth_and_not_charging() {
        for (percent, charging, low) in
            [(21, false, false), (20, false, true), (3, false, true), (3, true, false), (0, false, true)]
        {
            assert_eq!(Battery { percent, charging }.low(), low, "{percent} % charging {charging}");
        }
    }
}
