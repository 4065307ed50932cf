//! Builds and runs the unit's bevy app.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use bevy::diagnostic::FrameCount;
use bevy::log::LogPlugin;
use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured, save_to_disk};
use bevy::window::{PresentMode, WindowResolution};
use bevy::winit::WinitSettings;
use doorstep_core::Policy;

use doorstep_vault::VaultConfig;

use crate::auth::{Auth, OfficerAuth, VaultAuth};
use crate::config::Config;
use crate::demo::DEMO_PIN;
use crate::screens::unlock::{Checking, GlyphProbe, PinKey, PrivacyNote, Title, UnlockFeedback};
use crate::screens::{PolicyInUse, Screen};
use crate::settings::UiArgs;
use crate::ui::theme;

/// Everything of the unit except windowing and rendering: screens, session, text. The
/// headless tests build this on `MinimalPlugins`.
pub fn shell(app: &mut App, policy: Policy, auth: Arc<dyn OfficerAuth>) {
    app.insert_resource(PolicyInUse(policy));
    app.insert_resource(Auth(auth));
    app.add_plugins((
        crate::tasks::plugin,
        crate::ui::plugin,
        crate::visit_flow::plugin,
        crate::unit_sync::plugin,
        crate::screens::plugin,
        crate::power::plugin,
    ));
}

/// Opens the vault for the unlock screen, creating a demo vault (demo officer, demo bureau
/// key beside it) when there is none yet.
/// Returns it with whether the vault is a demo one.
fn vault_auth(dir: PathBuf, config: &Config, demo: bool) -> anyhow::Result<(VaultAuth, bool)> {
    let officer = config.officer();
    if !doorstep_vault::is_initialised(&dir) {
        // A configured unit with no vault is misconfigured: a demo vault there would seal
        // applications to a key the bureau does not have.
        if !demo && let Some(source) = &config.source {
            anyhow::bail!(
                "no vault in {} (configured in {}): provision this unit with `doorstep vault init`, or run with --demo",
                dir.display(),
                source.display()
            );
        }
        crate::demo::create_vault(&dir, &officer, crate::settings::now().unix_timestamp())?;
        eprintln!(
            "doorstep: created a demo vault in {} (demo officer PIN {DEMO_PIN}, demo supervisor PIN {})",
            dir.display(),
            crate::demo::DEMO_SUPERVISOR_PIN
        );
    }
    let demo = crate::demo::is_demo(&dir)?;
    let config = VaultConfig { reserve_bytes: config.reserve_bytes() };
    let pins = if demo { crate::demo::pins(&officer) } else { Vec::new() };
    Ok((VaultAuth::new(dir, officer, config, pins), demo))
}

/// Runs the unit with a window. Returns when the window is closed.
pub fn run(ui: UiArgs, policy_dir: Option<PathBuf>, vault: Option<PathBuf>, config: Config) -> ExitCode {
    let policy = match crate::policy_files::load(policy_dir.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("doorstep: {}", crate::cli::error_text(&e));
            return ExitCode::FAILURE;
        }
    };
    // A scenario that cannot run is said before anything is made (a demo vault among them).
    let scenario = match &ui.scenario {
        Some(path) => match crate::dev::scenario::load(path) {
            Ok(steps) => Some(crate::dev::scenario::Scenario::new(steps, ui.screenshots.clone())),
            Err(e) => {
                eprintln!("doorstep: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => None,
    };
    let vault_dir = vault.unwrap_or_else(|| config.vault_dir());
    let (auth, demo) = match vault_auth(vault_dir.clone(), &config, ui.demo) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("doorstep: {}", crate::cli::error_text(&e));
            return ExitCode::FAILURE;
        }
    };
    // Scenarios and the benchmark draw signatures and take screenshots, and a screenshot past
    // the PIN shows the home screen (appointments name people): demo units only, and no real
    // officer's PIN on a command line.
    if (ui.scenario.is_some() || ui.bench_pin.is_some() || ui.screenshot_pin.is_some()) && !demo {
        eprintln!(
            "doorstep: --scenario, --bench-pin and --screenshot-pin run on a demo unit only (this vault is not a demo vault)"
        );
        return ExitCode::FAILURE;
    }
    if let Some(dir) = &ui.screenshots
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        eprintln!("doorstep: cannot create {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    let mut app = App::new();
    app.add_plugins(
        DefaultPlugins
            .set(WindowPlugin {
                primary_window: Some(Window {
                    title: "doorstep 出入境上门受理终端".into(),
                    resolution: WindowResolution::new(ui.window.0, ui.window.1).with_scale_factor_override(1.0),
                    present_mode: PresentMode::AutoVsync,
                    ..default()
                }),
                // The call board's window does not keep the unit running when its own is closed.
                exit_condition: bevy::window::ExitCondition::OnPrimaryClosed,
                ..default()
            })
            .set(LogPlugin { filter: "wgpu=error,naga=warn,bevy_render=warn,bevy_text=error".into(), ..default() }),
    );
    crate::ui::fonts::plugin(&mut app);
    app.insert_resource(ClearColor(theme::BACKGROUND));
    app.insert_resource(ui.lang);
    // Reactive: no frames while nothing happens (battery). A screenshot run needs frames.
    app.insert_resource(if ui.screenshot.is_some() || scenario.is_some() {
        WinitSettings::continuous()
    } else {
        WinitSettings::desktop_app()
    });
    if ui.probe_missing_glyphs {
        app.insert_resource(GlyphProbe);
    }
    shell(&mut app, policy, Arc::new(auth));
    // The bridge named in the environment; else the simulator on a demo unit, or the serial
    // ports on a provisioned one (never the simulator).
    app.insert_resource(crate::unit_sync::VaultDir(vault_dir.clone()));
    // The pickup office: configured, or the demo's test office on a demo unit.
    let office = config.pickup_office.clone().or_else(|| demo.then(|| "测试出入境接待大厅".to_string()));
    app.insert_resource(crate::screens::visit::PickupOffice(office.unwrap_or_default()));
    // The counter the outreach point calls tickets to.
    app.insert_resource(crate::screens::queue::Counter(config.counter.clone().unwrap_or_else(|| "1".into())));
    // The outreach point's name: configured, or the demo's test point on a demo unit.
    let point = config.outreach_point.clone().or_else(|| demo.then(|| "测试外展服务点".to_string()));
    app.insert_resource(crate::screens::queue::OutreachPoint(point.unwrap_or_default()));
    // A demo unit replays the demo frames; a provisioned one only ever uses its camera.
    // DOORSTEP_REPLAY names another folder of frames (the benchmark's, a trainer's).
    let replay = std::env::var_os("DOORSTEP_REPLAY").map(PathBuf::from);
    app.insert_resource(if demo {
        crate::screens::visit::CameraChoice::Replay(replay.unwrap_or_else(crate::cli::devices::default_replay_dir))
    } else {
        crate::screens::visit::CameraChoice::Native(0)
    });
    // Documents shown to the camera (a held permit's machine-readable zone): a demo unit
    // replays a made-up permit.
    app.insert_resource(crate::screens::visit::DocumentCamera(if demo {
        crate::screens::visit::CameraChoice::Replay(
            crate::cli::devices::default_replay_dir().with_file_name("documents"),
        )
    } else {
        crate::screens::visit::CameraChoice::Native(0)
    }));
    // The simulated printer's receipts (bytes and a PNG of each) go beside the demo vault.
    let receipts = demo.then(|| vault_dir.with_extension("receipts"));
    app.insert_resource(crate::peripherals::Peripherals::start(std::env::var("DOORSTEP_BRIDGE").ok(), demo, receipts));
    // The tablet's battery, read on a thread once the event loop can be woken.
    app.add_systems(Startup, |waker: Res<crate::tasks::Waker>, mut commands: Commands| {
        commands.insert_resource(crate::power::Power::start(crate::power::root(), waker.clone()));
    });
    app.add_systems(Startup, spawn_camera);
    if let Some(path) = ui.bench_log {
        app.insert_resource(crate::dev::bench::BenchLog::new(path));
        crate::dev::bench::plugin(&mut app);
    }
    if let Some(pin) = ui.bench_pin {
        let keys = pin_keys(&pin);
        app.add_systems(Startup, move |mut out: MessageWriter<PinKey>| {
            out.write_batch(keys.clone());
        });
    }
    if let Some(s) = scenario {
        app.insert_resource(s);
        crate::dev::scenario::plugin(&mut app);
    }
    if let Some(path) = ui.frame_log {
        app.insert_resource(FrameLog(path));
        app.add_systems(Last, log_frames);
    }
    if let Some(path) = ui.screenshot {
        app.insert_resource(ScreenshotPlan { path, frames_on_screen: 0 });
        match ui.screenshot_pin {
            Some(pin) => {
                let keys = pin_keys(&pin);
                app.add_systems(Startup, move |mut out: MessageWriter<PinKey>| {
                    out.write_batch(keys.clone());
                });
                // The home screen, or the unlock screen once it has answered a refused PIN
                // (a wrong or tampered vault, to see its words).
                // Not while the PIN is still being checked ("checking…" is feedback too): on a
                // slow machine Argon2id outlasts the settling frames (a CI failure).
                let refused = |feedback: Res<UnlockFeedback>, checking: Res<Checking>| {
                    feedback.0.is_some() && !checking.is_running()
                };
                app.add_systems(Update, take_screenshot.run_if(in_state(Screen::Home).or_else(refused)));
            }
            None => {
                app.add_systems(Update, take_screenshot.run_if(in_state(Screen::Unlock)));
            }
        }
    }
    match app.run() {
        AppExit::Success => ExitCode::SUCCESS,
        AppExit::Error(code) => ExitCode::from(code.get()),
    }
}

/// The keys that type `pin` and submit it.
fn pin_keys(pin: &str) -> Vec<PinKey> {
    pin.bytes().filter(u8::is_ascii_digit).map(|b| PinKey::Digit(b - b'0')).chain([PinKey::Submit]).collect()
}

/// The one camera: flat UI needs no multisampling (bevy's UI smooths its own edges and text),
/// and under software rendering 4× MSAA costs a good part of every frame.
fn spawn_camera(mut commands: Commands) {
    // The screens' camera: the call board's window has its own, so the screens say which is
    // theirs.
    commands.spawn((Camera2d, bevy::render::view::Msaa::Off, IsDefaultUiCamera));
}

/// Where to record the number of frames drawn so far (to show that an idle unit does not
/// redraw).
#[derive(Resource, Debug)]
struct FrameLog(PathBuf);

fn log_frames(log: Res<FrameLog>, frames: Res<FrameCount>) {
    if let Err(e) = std::fs::write(&log.0, frames.0.to_string()) {
        error!("cannot write the frame log {}: {e}", log.0.display());
    }
}

/// A node's rectangle in physical pixels: left, top, width, height.
fn rect_of(node: &ComputedNode, transform: &UiGlobalTransform) -> [f32; 4] {
    let centre = transform.translation;
    let size = node.size;
    [centre.x - size.x / 2.0, centre.y - size.y / 2.0, size.x, size.y]
}

/// Where the screenshot goes, and how long the screen has been shown.
#[derive(Resource, Debug)]
struct ScreenshotPlan {
    path: PathBuf,
    frames_on_screen: u32,
}

/// Frames to wait so fonts are rasterised and the layout has settled.
const SETTLE_FRAMES: u32 = 30;

fn take_screenshot(mut commands: Commands, mut plan: ResMut<ScreenshotPlan>, frames: Res<FrameCount>) {
    plan.frames_on_screen += 1;
    if plan.frames_on_screen != SETTLE_FRAMES {
        return;
    }
    info!("taking a screenshot at frame {}", frames.0);
    let path = plan.path.clone();
    let sidecar = path.with_extension("json");
    commands.spawn(Screenshot::primary_window()).observe(save_to_disk(path)).observe(
        move |_: On<ScreenshotCaptured>,
              title: Query<(&ComputedNode, &UiGlobalTransform), With<Title>>,
              note: Query<(&ComputedNode, &UiGlobalTransform), With<PrivacyNote>>,
              window: Query<&Window>,
              mut exit: MessageWriter<AppExit>| {
            let window = window.single().ok().map(|w| [w.physical_width(), w.physical_height()]);
            let json = serde_json::json!({
                "window": window,
                "title": title.single().ok().map(|(n, t)| rect_of(n, t)),
                "privacy_note": note.single().ok().map(|(n, t)| rect_of(n, t)),
            });
            match std::fs::write(&sidecar, json.to_string()) {
                Ok(()) => {
                    exit.write(AppExit::Success);
                }
                Err(e) => {
                    error!("cannot write {}: {e}", sidecar.display());
                    exit.write(AppExit::error());
                }
            }
        },
    );
}
