//! The unit's windows and the tablet around them, headless: the lock on being hidden (R12)
//! with the call board as the unit's own second window, and the low-battery line.

use bevy::prelude::*;
use bevy::window::{WindowFocused, WindowOccluded};
use doorstep::screens::{BoardHandOver, HAND_OVER, Screen};

use crate::headless::{DemoAuth, app, screen, type_pin};

#[test]
fn losing_focus_or_being_hidden_locks_the_unit() {
    let mut app = app();
    // Focus lost before it was ever had (no window manager) does not lock.
    type_pin(&mut app, DemoAuth::PIN);
    app.world_mut().write_message(WindowFocused { window: Entity::PLACEHOLDER, focused: false });
    app.update();
    app.update();
    assert_eq!(screen(&app), Screen::Home);
    app.world_mut().write_message(WindowFocused { window: Entity::PLACEHOLDER, focused: true });
    app.update();
    app.world_mut().write_message(WindowFocused { window: Entity::PLACEHOLDER, focused: false });
    app.update();
    app.update();
    assert_eq!(screen(&app), Screen::Unlock);
    type_pin(&mut app, DemoAuth::PIN);
    assert_eq!(screen(&app), Screen::Home);
    app.world_mut().write_message(WindowOccluded { window: Entity::PLACEHOLDER, occluded: true });
    app.update();
    app.update();
    assert_eq!(screen(&app), Screen::Unlock);
}

/// At an outreach point the call board is the unit's own second window. For a moment after the
/// unit opens or closes it, focus moving to it and back, and it covering the officer's screen,
/// do not lock; the unit is judged when that is over. Outside it, the usual rules: focus
/// leaving every window of the unit's, or a window covered, locks.
#[test]
fn the_call_board_is_the_units_own_window() {
    let mut app = app();
    let unit = app.world_mut().spawn(bevy::window::PrimaryWindow).id();
    let board = app.world_mut().spawn_empty().id();
    let focus = |app: &mut App, window, focused| app.world_mut().write_message(WindowFocused { window, focused });
    let cover = |app: &mut App, window, occluded| app.world_mut().write_message(WindowOccluded { window, occluded });
    let hand_over = |app: &mut App| {
        let now = app.world().resource::<Time<Real>>().elapsed();
        app.world_mut().resource_mut::<BoardHandOver>().0 = Some(now);
    };
    // Frames enough for the hand-over to end (each frame is 200 ms here).
    let settle = |app: &mut App| {
        for _ in 0..(HAND_OVER.as_millis() / 200 + 3) {
            app.update();
        }
    };
    type_pin(&mut app, DemoAuth::PIN);
    // No window manager (no focus reported): the board opens over the officer's screen.
    hand_over(&mut app);
    cover(&mut app, board, false);
    cover(&mut app, unit, true);
    app.update();
    let frames_asked = app.world().resource::<Messages<bevy::window::RequestRedraw>>().len();
    assert!(frames_asked > 0, "frames until the hand-over is judged (rendering is reactive)");
    settle(&mut app);
    assert_eq!(screen(&app), Screen::Home, "covered by the unit's own board");
    // With one: the board opens and takes focus, a frame apart, and gives it back.
    focus(&mut app, unit, true);
    app.update();
    hand_over(&mut app);
    focus(&mut app, unit, false);
    app.update();
    focus(&mut app, board, true);
    cover(&mut app, unit, true);
    app.update();
    focus(&mut app, board, false);
    focus(&mut app, unit, true);
    cover(&mut app, unit, false);
    settle(&mut app);
    assert_eq!(screen(&app), Screen::Home, "focus moved to the board and back, the screen raised");
    // The board, behind the officer's screen on one display, covered: not the unit hidden.
    cover(&mut app, board, true);
    app.update();
    app.update();
    assert_eq!(screen(&app), Screen::Home, "the board covered");
    // The lid closed as the board opens on the TV: judged when the hand-over ends.
    hand_over(&mut app);
    cover(&mut app, board, false);
    cover(&mut app, unit, true);
    app.update();
    assert_eq!(screen(&app), Screen::Home, "still handing over");
    settle(&mut app);
    assert_eq!(screen(&app), Screen::Unlock, "the officer's screen still covered after it");
    type_pin(&mut app, DemoAuth::PIN);
    cover(&mut app, unit, false);
    app.update();
    assert_eq!(screen(&app), Screen::Home);
    // The hand-over over: the officer's screen covered (the lid closed) locks, even while the
    // board has focus.
    focus(&mut app, unit, false);
    focus(&mut app, board, true);
    app.update();
    assert_eq!(screen(&app), Screen::Home, "focus within the unit's windows");
    cover(&mut app, unit, true);
    app.update();
    app.update();
    assert_eq!(screen(&app), Screen::Unlock, "covered after the hand-over");
    type_pin(&mut app, DemoAuth::PIN);
    assert_eq!(screen(&app), Screen::Home);
    // The board closed while focus goes to another app: judged when the hand-over ends.
    hand_over(&mut app);
    focus(&mut app, board, false);
    app.update();
    assert_eq!(screen(&app), Screen::Home, "still handing over");
    settle(&mut app);
    assert_eq!(screen(&app), Screen::Unlock, "no window of the unit's has focus after it");
    type_pin(&mut app, DemoAuth::PIN);
    // Another app in front, no hand-over: focus leaves the unit's last window.
    focus(&mut app, unit, true);
    app.update();
    focus(&mut app, unit, false);
    app.update();
    app.update();
    assert_eq!(screen(&app), Screen::Unlock, "focus left every window");
}

/// The tablet's battery low and not charging: every screen's header shows it, with the charge;
/// plugged in, or charged again, the line goes.
#[test]
fn a_low_battery_shows_under_the_header_until_it_charges() {
    use doorstep::power::{Battery, LowBattery, LowBatteryWords, Power};
    use doorstep::ui::i18n::{Arg, Tr};
    let mut app = app();
    let shown = |app: &mut App, battery: Option<Battery>| -> Vec<Option<String>> {
        *app.world().resource::<Power>().0.lock().unwrap() = battery;
        app.update();
        let words: Vec<Tr> =
            app.world_mut().query_filtered::<&Tr, With<LowBatteryWords>>().iter(app.world()).cloned().collect();
        let lines: Vec<Display> =
            app.world_mut().query_filtered::<&Node, With<LowBattery>>().iter(app.world()).map(|n| n.display).collect();
        assert_eq!(lines.len(), words.len(), "one line, one text");
        assert!(!lines.is_empty(), "the screen has a header");
        lines
            .iter()
            .zip(&words)
            .map(|(d, w)| {
                (*d == Display::Flex).then(|| {
                    assert_eq!(w.key, "power.low");
                    match w.args.iter().find(|a| a.0 == "percent").map(|a| &a.1) {
                        Some(Arg::Text(t)) => t.clone(),
                        other => panic!("{other:?}"),
                    }
                })
            })
            .collect()
    };
    assert_eq!(shown(&mut app, None), vec![None], "no battery reported");
    assert_eq!(shown(&mut app, Some(Battery { percent: 12, charging: false })), vec![Some("12".to_string())]);
    assert_eq!(shown(&mut app, Some(Battery { percent: 12, charging: true })), vec![None], "plugged in");
    assert_eq!(shown(&mut app, Some(Battery { percent: 21, charging: false })), vec![None], "above a fifth");
    // On another screen too.
    type_pin(&mut app, DemoAuth::PIN);
    assert_eq!(screen(&app), Screen::Home);
    assert_eq!(shown(&mut app, Some(Battery { percent: 5, charging: false })), vec![Some("5".to_string())]);
}
