//! Scenarios: the unit driven from a TOML file, by the labels a person sees, never by
//! coordinates. Officer training and the end-to-end tests use the same runner.
//!
//! ```toml
//! [[step]]
//! tap = "解锁"                  # a button, field or choice by its visible text (zh or en)
//! [[step]]
//! type = "010-65123456"         # into the field that has focus, as the input method commits it
//! [[step]]
//! wait = "受理回执"              # until a text containing this is shown (timeout in s, default 20)
//! timeout = 30
//! [[step]]
//! see = "照片符合标准"           # a text containing this is shown now, or the scenario fails
//! [[step]]
//! gone = "请再次输入"           # until no text containing this is shown
//! [[step]]
//! in_view = "已看过"             # as `see`, and wholly in the window: not below the fold
//! [[step]]
//! device = "no-finger 1"        # a command to the simulated peripherals
//! [[step]]
//! sign = true                   # draw a signature on the signature pad
//! [[step]]
//! pause = 5                     # let the unit run for 5 seconds
//! [[step]]
//! screenshot = "home"           # DIR/home.png with --screenshots DIR, and DIR/home.json
//!                               # listing any text that does not fit
//! ```
//!
//! A `tap` waits (up to its timeout) for its label to appear and for the screen to take taps
//! again after a step change. The run exits 0 when every step passed, and 1 naming the step
//! that failed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, save_to_disk};
use bevy::window::Ime;
use serde::Deserialize;

use super::layout_report::{clipped_texts, low_contrast_texts, node_box};
use crate::peripherals::Peripherals;
use crate::screens::TapGuard;
use crate::screens::visit::Work;
use crate::settings::Lang;
use crate::ui::contrast::HighContrast;
use crate::ui::i18n::{Strings, Tr};

/// A step as written in the file: exactly one action, and an optional timeout.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Written {
    tap: Option<String>,
    #[serde(rename = "type")]
    type_text: Option<String>,
    wait: Option<String>,
    see: Option<String>,
    gone: Option<String>,
    in_view: Option<String>,
    device: Option<String>,
    sign: Option<bool>,
    screenshot: Option<String>,
    scroll: Option<String>,
    pause: Option<f64>,
    timeout: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    step: Vec<Written>,
}

/// One step of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Tap(String),
    Type(String),
    Wait(String),
    See(String),
    /// Waits until no text with this label (or a part of it) is shown: a pad closed, a
    /// line that goes once the work behind it is done.
    Gone(String),
    /// As `See`, and the text, with the button it is on, lies wholly inside the window and
    /// inside any scrolling box it is in, as it is scrolled now: read and tapped without
    /// scrolling.
    InView(String),
    Device(String),
    Sign,
    Screenshot(String),
    /// Scroll the screen's body until the text with this label (or a part of it) is at its
    /// top, as a finger would (for a screenshot of what is below the fold).
    Scroll(String),
    /// Let the unit run for this long (a trainee watches; the benchmark measures).
    Pause(Duration),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioStep {
    pub action: Action,
    pub timeout: Duration,
}

/// Why a scenario file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("{0}: {1}")]
    Toml(PathBuf, toml::de::Error),
    #[error(
        "step {0} has {1} actions: give exactly one of tap, type, wait, see, gone, in_view, device, sign, screenshot, scroll, pause"
    )]
    Actions(usize, usize),
    #[error("step {0}: a timeout or a pause is between 0 and 600 seconds")]
    Timeout(usize),
    #[error(
        "step {0}: the screenshot name {1:?} is not a plain file name: use letters, digits, - and _ (it is written inside --screenshots)"
    )]
    ShotName(usize, String),
}

/// A screenshot's name is a plain file name inside the screenshots folder: nothing that
/// reaches outside it, or hides.
fn plain_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 100 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

const DEFAULT_TIMEOUT: f64 = 20.0;

/// Parses a scenario.
pub fn parse(text: &str, path: &Path) -> Result<Vec<ScenarioStep>, ScenarioError> {
    let file: File = toml::from_str(text).map_err(|e| ScenarioError::Toml(path.to_path_buf(), e))?;
    file.step
        .into_iter()
        .enumerate()
        .map(|(i, w)| {
            let n = i + 1;
            let mut actions = Vec::new();
            actions.extend(w.tap.map(Action::Tap));
            actions.extend(w.type_text.map(Action::Type));
            actions.extend(w.wait.map(Action::Wait));
            actions.extend(w.see.map(Action::See));
            actions.extend(w.gone.map(Action::Gone));
            actions.extend(w.in_view.map(Action::InView));
            actions.extend(w.device.map(Action::Device));
            actions.extend(w.sign.filter(|s| *s).map(|_| Action::Sign));
            if let Some(name) = w.screenshot {
                if !plain_name(&name) {
                    return Err(ScenarioError::ShotName(n, name));
                }
                actions.push(Action::Screenshot(name));
            }
            actions.extend(w.scroll.map(Action::Scroll));
            if let Some(p) = w.pause {
                if !(0.0..=600.0).contains(&p) {
                    return Err(ScenarioError::Timeout(n));
                }
                actions.push(Action::Pause(Duration::from_secs_f64(p)));
            }
            if actions.len() != 1 {
                return Err(ScenarioError::Actions(n, actions.len()));
            }
            let t = w.timeout.unwrap_or(DEFAULT_TIMEOUT);
            if !(0.0..=600.0).contains(&t) {
                return Err(ScenarioError::Timeout(n));
            }
            Ok(ScenarioStep { action: actions.remove(0), timeout: Duration::from_secs_f64(t) })
        })
        .collect()
}

pub fn load(path: &Path) -> Result<Vec<ScenarioStep>, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::Read(path.to_path_buf(), e))?;
    parse(&text, path)
}

/// A scenario being run.
#[derive(Resource, Debug)]
pub struct Scenario {
    steps: Vec<ScenarioStep>,
    at: usize,
    started: Option<Duration>,
    /// A button pressed, to release once every system has seen it pressed (two frames on).
    pressed: Option<(Entity, u8)>,
    shot_frames: u32,
    screenshots: Option<PathBuf>,
    /// How it ended: `Ok(steps)` or the failing step's number and why.
    pub outcome: Option<Result<usize, (usize, String)>>,
    /// Exit the app when it ends (off in tests, which read `outcome`).
    pub exit: bool,
}

impl Scenario {
    pub fn new(steps: Vec<ScenarioStep>, screenshots: Option<PathBuf>) -> Scenario {
        Scenario { steps, at: 0, started: None, pressed: None, shot_frames: 0, screenshots, outcome: None, exit: true }
    }
}

pub fn plugin(app: &mut App) {
    // After bevy's own pointer pass (which would take a press back on a frame with no cursor)
    // and before every system that reads presses, so each sees the tap in the same frame.
    app.add_systems(PreUpdate, run.after(bevy::ui::UiSystems::Focus));
}

/// The entities whose text reads `wanted` in either language: the whole text, or (`part`)
/// a part of it.
fn labelled(
    wanted: &str,
    part: bool,
    texts: &Query<(Entity, &Text, Option<&Tr>)>,
    strings: &Strings,
    shown: &dyn Fn(Entity) -> bool,
) -> Vec<Entity> {
    let wanted = wanted.trim();
    let matches = |s: &str| if part { s.contains(wanted) } else { s.trim() == wanted };
    texts
        .iter()
        // Hidden texts (the demo badge on a real unit) do not count.
        .filter(|(e, _, _)| shown(*e))
        .filter(|(_, text, tr)| {
            matches(&text.0)
                || tr.is_some_and(|tr| [Lang::Zh, Lang::En].iter().any(|l| matches(&tr.render(strings, *l))))
        })
        .map(|(e, _, _)| e)
        .collect()
}

/// What the texts look like: their colours and what they stand on, the window's own colour,
/// and whether high contrast is on.
type Looks<'w, 's> = (
    Query<'w, 's, (Option<&'static TextColor>, Option<&'static BackgroundColor>)>,
    Option<Res<'w, ClearColor>>,
    Option<Res<'w, HighContrast>>,
);

/// The text fields, the signature pads, what the texts look like, and the scrolling boxes.
type Parts<'w, 's> = (
    Query<'w, 's, (), With<crate::ui::form::TextField>>,
    Query<'w, 's, &'static crate::screens::visit::SignaturePad>,
    Looks<'w, 's>,
    Query<'w, 's, &'static mut ScrollPosition, With<crate::ui::widgets::Scrolls>>,
    // Roots drawn in another window (the call board), whose texts that window's size bounds.
    Query<'w, 's, (), With<UiTargetCamera>>,
);

#[allow(clippy::too_many_arguments)]
fn run(
    mut scenario: ResMut<Scenario>,
    time: Res<Time<Real>>,
    texts: Query<(Entity, &Text, Option<&Tr>)>,
    parents: Query<&ChildOf>,
    children: Query<&Children>,
    mut interactions: Query<&mut Interaction>,
    (fields, pads, looks, mut scrolled, elsewhere): Parts,
    strings: Res<Strings>,
    guard: Option<Res<TapGuard>>,
    mut work: Option<ResMut<Work>>,
    peripherals: Option<Res<Peripherals>>,
    windows: Query<(Entity, &Window, Has<bevy::window::PrimaryWindow>)>,
    laid_out: Query<(&ComputedNode, &UiGlobalTransform, Option<&InheritedVisibility>, Option<&Node>)>,
    mut ime: MessageWriter<Ime>,
    mut commands: Commands,
    mut exit: MessageWriter<AppExit>,
) {
    if scenario.outcome.is_some() {
        return;
    }
    if let Some((e, frames)) = scenario.pressed.take() {
        if frames > 1 {
            scenario.pressed = Some((e, frames - 1));
        } else if let Ok(mut i) = interactions.get_mut(e) {
            *i = Interaction::None;
        }
        return;
    }
    let now = time.elapsed();
    let Some(step) = scenario.steps.get(scenario.at).cloned() else {
        let n = scenario.steps.len();
        info!("scenario: all {n} steps passed");
        scenario.outcome = Some(Ok(n));
        if scenario.exit {
            exit.write(AppExit::Success);
        }
        return;
    };
    // Not shown: the node or a box around it is `Display::None` or hidden (visibility is only
    // worked out where the unit has its own window to draw in).
    let has_renderer = windows.iter().any(|w| w.2);
    let shown = |e: Entity| {
        std::iter::once(e).chain(parents.iter_ancestors(e)).all(|a| {
            laid_out.get(a).ok().is_none_or(|(_, _, v, n)| {
                n.is_none_or(|n| n.display != Display::None) && v.is_none_or(|v| v.get() || !has_renderer)
            })
        })
    };
    let started = *scenario.started.get_or_insert(now);
    let late = now.saturating_sub(started) > step.timeout;
    let n = scenario.at + 1;
    let result: Option<Result<(), String>> = match &step.action {
        Action::Tap(label) => {
            let accepting = guard.as_ref().is_none_or(|g| g.accepting(now));
            let target = labelled(label, false, &texts, &strings, &shown).into_iter().find_map(|e| {
                // The button the text is on, or the field the caption is for.
                let mut at = e;
                loop {
                    if interactions.contains(at) {
                        return Some(at);
                    }
                    let parent = parents.get(at).ok()?.parent();
                    if let Ok(kids) = children.get(parent)
                        && let Some(field) = kids.iter().find(|k| fields.contains(*k))
                    {
                        return Some(field);
                    }
                    at = parent;
                }
            });
            match target {
                Some(button) if accepting => {
                    if let Ok(mut i) = interactions.get_mut(button) {
                        *i = Interaction::Pressed;
                    }
                    scenario.pressed = Some((button, 2));
                    Some(Ok(()))
                }
                _ if late => Some(Err(format!("no button or field labelled {label:?} within {:?}", step.timeout))),
                _ => None,
            }
        }
        Action::Type(text) => {
            let window = windows.iter().find(|w| w.2).map_or(Entity::PLACEHOLDER, |(e, _, _)| e);
            ime.write(Ime::Commit { window, value: text.clone() });
            Some(Ok(()))
        }
        Action::Wait(label) | Action::See(label) => {
            if !labelled(label, true, &texts, &strings, &shown).is_empty() {
                Some(Ok(()))
            } else if late
                || matches!(step.action, Action::See(_)) && now.saturating_sub(started) > Duration::from_secs(1)
            {
                Some(Err(format!("{label:?} is not shown")))
            } else {
                None
            }
        }
        Action::Gone(label) => {
            if labelled(label, true, &texts, &strings, &shown).is_empty() {
                Some(Ok(()))
            } else if late {
                Some(Err(format!("{label:?} is still shown")))
            } else {
                None
            }
        }
        Action::InView(label) => {
            let rect = |e: Entity| node_box(&laid_out, e);
            let window = windows
                .iter()
                .find(|w| w.2)
                .map(|(_, w, _)| Vec2::new(w.physical_width() as f32, w.physical_height() as f32));
            let within = |(a, b): (Vec2, Vec2), (c, d): (Vec2, Vec2)| {
                a.x >= c.x - 0.5 && a.y >= c.y - 0.5 && b.x <= d.x + 0.5 && b.y <= d.y + 0.5
            };
            let found = labelled(label, true, &texts, &strings, &shown);
            // The text, and the button it is on (a touch target half under the foot is not in
            // view either).
            let in_view = found.iter().any(|&e| {
                let button = parents.iter_ancestors(e).find(|a| interactions.contains(*a));
                std::iter::once(e).chain(button).all(|part| {
                    let Some(r) = rect(part) else { return false };
                    window.is_some_and(|w| within(r, (Vec2::ZERO, w)))
                        && parents
                            .iter_ancestors(part)
                            .filter(|a| scrolled.contains(*a))
                            .all(|b| rect(b).is_some_and(|rb| within(r, rb)))
                })
            });
            // Waited for as long as the step's timeout (layout follows a tap by a frame or two).
            match (in_view, found.is_empty()) {
                // Where nothing is drawn, nothing is in view: said, not passed as `see` would be.
                _ if window.is_none() => Some(Err(format!("{label:?}: in_view needs the unit's own window"))),
                (true, _) => Some(Ok(())),
                (false, false) if late => {
                    Some(Err(format!("{label:?} is shown, out of view (below the fold or beside the window)")))
                }
                (false, true) if late => Some(Err(format!("{label:?} is not shown"))),
                _ => None,
            }
        }
        Action::Pause(d) => (now.saturating_sub(started) >= *d).then_some(Ok(())),
        Action::Scroll(label) => {
            // The first such text in a scrolling box: the box moves by how far the text's top
            // is below its own (layout is in physical pixels, the scroll in logical ones).
            let found = labelled(label, true, &texts, &strings, &shown).into_iter().find_map(|e| {
                let b = parents.iter_ancestors(e).find(|a| scrolled.contains(*a))?;
                let ((n, t, _, _), (bn, bt, _, _)) = (laid_out.get(e).ok()?, laid_out.get(b).ok()?);
                let below = (t.translation.y - n.size.y / 2.0) - (bt.translation.y - bn.size.y / 2.0);
                Some((b, below * bn.inverse_scale_factor))
            });
            match found {
                Some((b, by)) => {
                    if let Ok(mut p) = scrolled.get_mut(b) {
                        p.y = (p.y + by - 8.0).max(0.0);
                    }
                    Some(Ok(()))
                }
                None if late => Some(Err(format!("no text {label:?} in a scrolling box within {:?}", step.timeout))),
                None => None,
            }
        }
        Action::Device(line) => Some(match &peripherals {
            Some(p) => p.simulate(line),
            None => Err("no peripherals on this unit".into()),
        }),
        Action::Sign => Some(match work.as_mut().filter(|_| !pads.is_empty()) {
            Some(w) => {
                // Every pad shown is signed (the applicant's, and each guardian's), each with a
                // wave of its own, so no two signatures are the same.
                for pad in &pads {
                    let k = match pad {
                        crate::screens::visit::SignaturePad::Applicant => 0.6,
                        crate::screens::visit::SignaturePad::Guardian(n) => 0.6 + 0.15 * *n as f32,
                        crate::screens::visit::SignaturePad::Companion => 0.45,
                    };
                    w.add_stroke(
                        *pad,
                        (0..40)
                            .map(|i| Vec2::new(40.0 + i as f32 * 12.0, 110.0 + 40.0 * (i as f32 * k).sin()))
                            .collect(),
                    );
                }
                Ok(())
            }
            None => Err("no signature pad".into()),
        }),
        Action::Screenshot(name) => {
            scenario.shot_frames += 1;
            // Let the screen settle (fonts, layout), shoot, and give the capture frames to land.
            match scenario.shot_frames {
                10 => {
                    match (&scenario.screenshots, windows.iter().find(|w| w.2)) {
                        (Some(dir), Some((_, window, _))) => {
                            let path = dir.join(format!("{name}.png"));
                            // One left by an earlier run would pass for this one if its write failed.
                            let _ = std::fs::remove_file(&path);
                            commands.spawn(Screenshot::primary_window()).observe(save_to_disk(path.clone()));
                            // Any other window (the call board) beside it, as NAME-window-N.png.
                            for (i, (other, _, _)) in windows.iter().filter(|w| !w.2).enumerate() {
                                let path = dir.join(format!("{name}-window-{}.png", i + 1));
                                commands.spawn(Screenshot::window(other)).observe(save_to_disk(path));
                            }
                            let size = Vec2::new(window.physical_width() as f32, window.physical_height() as f32);
                            let elsewhere = |e: Entity| parents.iter_ancestors(e).any(|a| elsewhere.contains(a));
                            let clipped = clipped_texts(size, &laid_out, &parents, &texts, &elsewhere);
                            let (colours, clear, contrast) = &looks;
                            let ground = clear.as_ref().map_or(crate::ui::theme::BACKGROUND, |c| c.0);
                            // WCAG 2: 4.5:1 (AA) always, 7:1 (AAA) in high contrast.
                            let least = if contrast.as_ref().is_some_and(|c| c.0) { 7.0 } else { 4.5 };
                            let low = low_contrast_texts(least, ground, colours, &laid_out, &parents, &texts);
                            let report =
                                serde_json::json!({ "clipped": clipped, "low_contrast": low, "least_contrast": least });
                            match std::fs::write(path.with_extension("json"), report.to_string()) {
                                Ok(()) => None,
                                Err(e) => {
                                    scenario.shot_frames = 0;
                                    Some(Err(format!("cannot write the screenshot's report: {e}")))
                                }
                            }
                        }
                        _ => {
                            info!("scenario: screenshot {name} skipped (no window or no --screenshots)");
                            None
                        }
                    }
                }
                // Written once the capture lands (a frame or two); a shot that is not written
                // fails the step rather than passing unseen.
                n if n >= 20 => {
                    let written = scenario.screenshots.as_ref().map(|dir| dir.join(format!("{name}.png")));
                    let missing = written.filter(|p| windows.iter().any(|w| w.2) && !p.is_file());
                    match missing {
                        Some(_) if n < 200 => None,
                        Some(path) => {
                            scenario.shot_frames = 0;
                            Some(Err(format!("screenshot {name} was not written to {}", path.display())))
                        }
                        None => {
                            scenario.shot_frames = 0;
                            Some(Ok(()))
                        }
                    }
                }
                _ => None,
            }
        }
    };
    match result {
        None => {}
        Some(Ok(())) => {
            info!("scenario: step {n} passed");
            scenario.at += 1;
            scenario.started = None;
        }
        Some(Err(why)) => {
            // What the screen shows, by locale key only: field values may be personal.
            let mut keys: Vec<&str> = texts
                .iter()
                .filter_map(|(_, _, tr)| tr.map(|t| t.message.as_ref().map_or(t.key, |m| m.key)))
                .filter(|k| !k.is_empty())
                .collect();
            keys.sort_unstable();
            keys.dedup();
            let why = format!("{why}; on screen: {}", keys.join(", "));
            let what = format!("{:?}", step.action);
            error!("scenario: step {n} ({what}) failed: {why}");
            eprintln!("doorstep: scenario step {n} ({what}) failed: {why}");
            scenario.outcome = Some(Err((n, why)));
            if scenario.exit {
                exit.write(AppExit::from_code(1));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's example and the demo scenario are scenarios this runner takes.
    #[test]
    fn the_readme_example_and_the_demo_scenario_parse() {
        let readme = include_str!("../../README.md");
        let start = readme.find("```toml\n[[step]]").expect("the README's example") + "```toml\n".len();
        let end = start + readme[start..].find("```").expect("its end");
        let steps = parse(&readme[start..end], Path::new("README.md")).unwrap();
        assert!(steps.len() > 30 && steps.iter().any(|s| s.action == Action::Sign), "{} steps", steps.len());
        let demo = include_str!("../../scenarios/demo-visit.toml");
        assert!(parse(demo, Path::new("demo-visit.toml")).unwrap().len() > steps.len());
    }

    #[test]
    fn a_step_has_exactly_one_action() {
        let p = Path::new("t.toml");
        let ok = parse("[[step]]\ntap = \"解锁\"\n[[step]]\nwait = \"x\"\ntimeout = 3\n", p).unwrap();
        assert_eq!(ok[0].action, Action::Tap("解锁".into()));
        assert_eq!(ok[1].timeout, Duration::from_secs(3));
        let gone = parse("[[step]]\ngone = \"请再次输入\"\n", p).unwrap();
        assert_eq!(gone[0].action, Action::Gone("请再次输入".into()));
        assert!(matches!(parse("[[step]]\ngone = \"a\"\nwait = \"a\"\n", p), Err(ScenarioError::Actions(1, 2))));
        assert!(matches!(parse("[[step]]\ntap = \"a\"\nsee = \"b\"\n", p), Err(ScenarioError::Actions(1, 2))));
        assert!(matches!(parse("[[step]]\n", p), Err(ScenarioError::Actions(1, 0))));
        assert!(matches!(parse("[[step]]\ntap = \"a\"\ntimeout = -1\n", p), Err(ScenarioError::Timeout(1))));
        assert!(matches!(parse("[[step]]\nclick = \"a\"\n", p), Err(ScenarioError::Toml(..))));
    }

    /// A screenshot is named by a plain file name, written inside the screenshots folder.
    #[test]
    fn a_screenshot_name_stays_inside_its_folder() {
        let p = Path::new("t.toml");
        let shot = |name: &str| parse(&format!("[[step]]\nscreenshot = {name:?}\n"), p);
        assert_eq!(shot("01-home_zh").unwrap()[0].action, Action::Screenshot("01-home_zh".into()));
        for bad in ["../escaped", "../../etc/evil", "a/b", "/abs", ".hidden", "", "a b", "a\\b", "测试"] {
            assert!(matches!(shot(bad), Err(ScenarioError::ShotName(1, ref n)) if n == bad), "{bad:?}");
        }
    }
}
