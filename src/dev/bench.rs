//! Figures for the unit's benchmark (`scripts/bench-unit`), written to `--bench-log FILE` as
//! JSON when the app exits: the time from start to the first interactive frame, every frame's
//! interval by phase (unlock, each visit step, with the task that was running), the live
//! preview's frame rate and guidance rate, and the peak resident memory.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bevy::prelude::*;

use crate::screens::Screen;
use crate::visit_flow::VisitFlow;

/// When the process started (set first thing in `main`).
pub static STARTED: OnceLock<Instant> = OnceLock::new();

#[derive(Resource, Debug)]
pub struct BenchLog {
    path: PathBuf,
    first_interactive: Option<Duration>,
    last_frame: Option<Instant>,
    /// Frame intervals in ms by phase.
    phases: BTreeMap<String, Vec<f32>>,
    guidance_hz: Vec<f32>,
}

impl BenchLog {
    pub fn new(path: PathBuf) -> BenchLog {
        BenchLog { path, first_interactive: None, last_frame: None, phases: BTreeMap::new(), guidance_hz: Vec::new() }
    }
}

pub fn plugin(app: &mut App) {
    app.add_systems(Last, record);
    app.add_systems(PostUpdate, write_on_exit);
}

fn phase(screen: Screen, flow: &VisitFlow, unlocking: bool, work: Option<&crate::screens::visit::Work>) -> String {
    if unlocking {
        return "unlock (Argon2id running)".into();
    }
    match (screen, flow.step()) {
        (Screen::Visit, Some(step)) => {
            let busy = work.map(|w| w.busy_with()).unwrap_or_default();
            if busy.is_empty() { format!("visit: {step:?}") } else { format!("visit: {step:?} ({busy} running)") }
        }
        (s, _) => format!("{s:?}"),
    }
}

#[allow(clippy::too_many_arguments)]
fn record(
    mut log: ResMut<BenchLog>,
    screen: Res<State<Screen>>,
    flow: Res<VisitFlow>,
    checking: Res<crate::screens::unlock::Checking>,
    work: Option<Res<crate::screens::visit::Work>>,
    title: Query<(), With<crate::screens::unlock::Title>>,
) {
    let now = Instant::now();
    if log.first_interactive.is_none() && !title.is_empty() {
        log.first_interactive = STARTED.get().map(|s| now.duration_since(*s));
    }
    if let Some(last) = log.last_frame {
        let p = phase(*screen.get(), &flow, checking.is_running(), work.as_deref());
        let ms = now.duration_since(last).as_secs_f32() * 1000.0;
        log.phases.entry(p).or_default().push(ms);
    }
    log.last_frame = Some(now);
    if let Some(hz) = work.as_deref().and_then(crate::screens::visit::Work::guidance_rate) {
        log.guidance_hz.push(hz);
    }
}

/// Peak resident set size, from the kernel (Linux), in kB.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn write_on_exit(mut exits: MessageReader<AppExit>, log: Res<BenchLog>) {
    if exits.read().next().is_none() {
        return;
    }
    let phases: serde_json::Map<String, serde_json::Value> = log
        .phases
        .iter()
        .map(|(name, frames)| {
            let mut sorted = frames.clone();
            sorted.sort_by(f32::total_cmp);
            let total: f32 = sorted.iter().sum();
            let over_50 = sorted.iter().filter(|ms| **ms > 50.0).count();
            let v = serde_json::json!({
                "frames": sorted.len(),
                "fps": if total > 0.0 { sorted.len() as f32 * 1000.0 / total } else { 0.0 },
                "median_ms": sorted.get(sorted.len() / 2),
                "max_ms": sorted.last(),
                "over_50_ms": over_50,
            });
            (name.clone(), v)
        })
        .collect();
    let mut hz = log.guidance_hz.clone();
    hz.sort_by(f32::total_cmp);
    let json = serde_json::json!({
        "first_interactive_ms": log.first_interactive.map(|d| d.as_secs_f64() * 1000.0),
        "phases": phases,
        "guidance_hz_median": hz.get(hz.len() / 2),
        "peak_rss_kb": peak_rss_kb(),
    });
    if let Err(e) = std::fs::write(&log.path, serde_json::to_string_pretty(&json).unwrap_or_default()) {
        error!("cannot write the bench log {}: {e}", log.path.display());
    }
}
