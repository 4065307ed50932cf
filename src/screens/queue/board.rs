//! The call board (叫号大屏): a second window, for the screen the waiting room sees (a TV on
//! the tablet's HDMI output), with the number called to the counter in large type and the next
//! numbers to be called. It shows numbers only, never a name, so it stays up when the unit
//! locks (the idle lock comes every few minutes at a quiet desk); its button closes it.

use bevy::camera::RenderTarget;
use bevy::prelude::*;
use bevy::window::{
    Monitor, MonitorSelection, OnMonitor, PrimaryWindow, WindowFocused, WindowMode, WindowPosition, WindowRef,
    WindowResolution,
};

use super::{Counter, QueueDesk};
use crate::screens::PolicyInUse;
use crate::ui::i18n::Tr;
use crate::ui::theme;
use crate::ui::widgets::label;

/// Opens the board, or closes it when it is open.
#[derive(Message, Debug, Clone, Copy)]
pub struct Toggle;

/// The board's root node (its content is rebuilt when the queue changes).
#[derive(Component, Debug)]
pub struct CallBoard;

/// The board's window, and the screen it fills (none: a window of its own).
#[derive(Component, Debug, Default)]
pub(super) struct BoardWindow(Option<Entity>);

#[derive(Component, Debug)]
pub(super) struct BoardCamera;

/// The board's type: the called number, and the rest, at the board's own scale (its window
/// undoes the officer's screen's scale as it stands when the board opens; the larger text
/// turned on or off after that scales it by 1.25 or 0.8, and it still fits 1280×720).
const CALLED_SIZE: f32 = 160.0;
const NEXT_SIZE: f32 = 52.0;

/// Opens or closes the window, and draws the board when the queue changes.
#[allow(clippy::too_many_arguments)]
pub(super) fn show(
    mut commands: Commands,
    mut toggles: MessageReader<Toggle>,
    windows: Query<Entity, With<BoardWindow>>,
    cameras: Query<Entity, With<BoardCamera>>,
    boards: Query<Entity, With<CallBoard>>,
    desk: Res<QueueDesk>,
    policy: Res<PolicyInUse>,
    counter: Res<Counter>,
    monitors: Query<(Entity, &Monitor)>,
    unit_on: Query<&OnMonitor, With<PrimaryWindow>>,
    ui_scale: Res<UiScale>,
    time: Res<Time<Real>>,
    mut hand_over: ResMut<crate::screens::BoardHandOver>,
) {
    let toggled = toggles.read().count() % 2 == 1;
    if toggled {
        // Focus moves, and the board covers or uncovers the officer's screen: not the unit hidden.
        hand_over.0 = Some(time.elapsed());
    }
    // (A board closed by hand, or with its screen, is cleared by `close_when_gone`, run first.)
    if toggled && !windows.is_empty() {
        despawn_all(&mut commands, &windows, &cameras, &boards);
        return;
    }
    let board = if toggled {
        let screens: Vec<Entity> = monitors.iter().map(|(e, _)| e).collect();
        let tv = waiting_room_screen(&screens, unit_on.single().ok().map(|m| m.0));
        let height = tv.and_then(|tv| monitors.get(tv).ok()).map_or(BOARD_SIZE.1, |(_, m)| m.physical_height);
        let window = commands.spawn((BoardWindow(tv), board_window(tv, height, ui_scale.0))).id();
        let camera = commands
            .spawn((
                BoardCamera,
                Camera2d,
                RenderTarget::Window(WindowRef::Entity(window)),
                bevy::render::view::Msaa::Off,
            ))
            .id();
        commands
            .spawn((
                CallBoard,
                UiTargetCamera(camera),
                Node {
                    width: Val::Percent(100.0),
                    height: Val::Percent(100.0),
                    flex_direction: FlexDirection::Column,
                    align_items: AlignItems::Center,
                    justify_content: JustifyContent::Center,
                    row_gap: Val::Px(16.0),
                    ..default()
                },
                BackgroundColor(theme::BACKGROUND),
            ))
            .id()
    } else {
        match boards.single() {
            Ok(b) if desk.is_changed() => b,
            _ => return,
        }
    };
    commands.entity(board).despawn_children();
    commands.entity(board).with_children(|b| {
        match desk.at_counter() {
            Some(t) => {
                b.spawn(label(Tr::new("queue.board.number").with("number", &t.number), CALLED_SIZE, theme::PRIMARY));
                b.spawn(label(Tr::new("queue.board.counter").with("counter", &counter.0), NEXT_SIZE, theme::PRIMARY));
                // Called again: said on the board too, for one who did not look up the first time.
                if let doorstep_core::queue::TicketState::Called { calls, .. } = t.state
                    && calls > 1
                {
                    b.spawn(label(Tr::new("queue.board.again").with("n", calls), NEXT_SIZE, theme::ERROR));
                }
            }
            None => {
                b.spawn(label(Tr::new("queue.board.wait"), NEXT_SIZE, theme::TEXT));
            }
        }
        let now = crate::settings::now();
        let next: Vec<String> =
            desk.queue.call_order(&policy.0.priority, now).iter().take(5).map(|t| t.number.clone()).collect();
        if !next.is_empty() {
            b.spawn(label(Tr::new("queue.board.next").with("numbers", next.join("  ")), NEXT_SIZE, theme::MUTED));
        }
    });
}

fn despawn_all(
    commands: &mut Commands,
    windows: &Query<Entity, With<BoardWindow>>,
    cameras: &Query<Entity, With<BoardCamera>>,
    boards: &Query<Entity, With<CallBoard>>,
) {
    for e in boards.iter().chain(cameras.iter()).chain(windows.iter()) {
        commands.entity(e).despawn();
    }
}

/// Closes a board whose screen has gone (the TV unplugged): borderless, with no close button,
/// it would otherwise be moved onto the officer's screen and cover it. And clears what a board
/// closed by hand leaves (its camera, its content), whichever screen the unit is on.
pub(super) fn close_when_gone(
    mut commands: Commands,
    (windows, placed): (Query<Entity, With<BoardWindow>>, Query<&BoardWindow>),
    monitors: Query<(), With<Monitor>>,
    (cameras, boards): (Query<Entity, With<BoardCamera>>, Query<Entity, With<CallBoard>>),
    (time, mut hand_over): (Res<Time<Real>>, ResMut<crate::screens::BoardHandOver>),
) {
    let screen_gone = placed.iter().any(|w| w.0.is_some_and(|screen| !monitors.contains(screen)));
    let closed_by_hand = windows.is_empty() && !cameras.is_empty();
    if screen_gone || closed_by_hand {
        hand_over.0 = Some(time.elapsed());
        despawn_all(&mut commands, &windows, &cameras, &boards);
    }
}

/// The board is for the waiting room to read, not to work on: when it takes focus (a window
/// manager gives a new window focus), focus goes back to the officer's screen, so that the lock
/// on being hidden (R12) judges by the screen the officer works on.
pub(super) fn give_focus_back(
    mut focus: MessageReader<WindowFocused>,
    boards: Query<(), With<BoardWindow>>,
    mut unit: Query<&mut Window, (With<PrimaryWindow>, Without<BoardWindow>)>,
) {
    if focus.read().any(|f| f.focused && boards.contains(f.window))
        && let Ok(mut window) = unit.single_mut()
    {
        window.focused = true;
    }
}

/// The screen the waiting room sees: one that the officer's screen is not on (the TV on the
/// tablet's HDMI output), when there is one and the officer's is known.
fn waiting_room_screen(screens: &[Entity], unit_on: Option<Entity>) -> Option<Entity> {
    let unit_on = unit_on?;
    screens.iter().copied().find(|&s| s != unit_on)
}

/// The board's size as laid out, in pixels.
const BOARD_SIZE: (u32, u32) = (1280, 720);

/// The board's window: the whole of the waiting room's screen, or, with none, a window of its
/// own (1280×720) that the officer moves where it is seen. Its scale undoes the officer's
/// screen's fit (the interface's scale is one for every window) and fits the board's layout to
/// the screen's `height` in pixels, so the called number is as large on the TV, or in the
/// window, whatever the tablet's own screen.
fn board_window(tv: Option<Entity>, height: u32, ui_scale: f32) -> Window {
    // A screen that reports no height is taken as the layout's; the scale kept sane.
    let height = if height == 0 { BOARD_SIZE.1 } else { height };
    let scale = (height as f32 / BOARD_SIZE.1 as f32 / ui_scale.max(0.1)).clamp(0.25, 8.0);
    let window = Window {
        title: "叫号 · Calling".into(),
        resolution: WindowResolution::new(BOARD_SIZE.0, BOARD_SIZE.1).with_scale_factor_override(scale),
        ..default()
    };
    match tv {
        Some(tv) => Window {
            mode: WindowMode::BorderlessFullscreen(MonitorSelection::Entity(tv)),
            position: WindowPosition::Centered(MonitorSelection::Entity(tv)),
            ..window
        },
        None => window,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_board_goes_to_the_screen_the_officer_is_not_on() {
        let mut world = World::new();
        let (tablet, tv) = (world.spawn_empty().id(), world.spawn_empty().id());
        for (screens, unit_on, board) in [
            (vec![tablet, tv], Some(tablet), Some(tv)),
            (vec![tv, tablet], Some(tablet), Some(tv)),
            (vec![tablet, tv], Some(tv), Some(tablet)),
            (vec![tablet], Some(tablet), None),
            (vec![tablet, tv], None, None),
            (vec![], None, None),
        ] {
            assert_eq!(waiting_room_screen(&screens, unit_on), board, "{screens:?} {unit_on:?}");
        }
        let full = board_window(Some(tv), 1080, 0.6);
        assert_eq!(full.mode, WindowMode::BorderlessFullscreen(MonitorSelection::Entity(tv)));
        // The officer's screen's 0.6 undone, and 1080 lines for 720 laid out: 2.5.
        assert!((full.resolution.scale_factor() - 2.5).abs() < 1e-4, "{}", full.resolution.scale_factor());
        assert_eq!(board_window(Some(tv), 0, 1.0).resolution.scale_factor(), 1.0, "a screen with no height");
        assert_eq!(board_window(Some(tv), 100_000, 0.1).resolution.scale_factor(), 8.0, "kept sane");
        let own = board_window(None, 720, 0.5);
        assert_eq!(own.mode, WindowMode::Windowed);
        assert!((own.resolution.scale_factor() - 2.0).abs() < 1e-4);
    }

    #[test]
    fn a_board_whose_screen_goes_is_closed() {
        let mut app = App::new();
        app.add_plugins(MinimalPlugins);
        app.init_resource::<crate::screens::BoardHandOver>();
        app.add_systems(Update, close_when_gone);
        let tv = app
            .world_mut()
            .spawn(Monitor {
                name: None,
                physical_height: 1080,
                physical_width: 1920,
                physical_position: IVec2::ZERO,
                refresh_rate_millihertz: None,
                scale_factor: 1.0,
                video_modes: Vec::new(),
            })
            .id();
        let on_tv = app.world_mut().spawn((BoardWindow(Some(tv)), Window::default())).id();
        let camera = app.world_mut().spawn(BoardCamera).id();
        app.update();
        assert!(app.world().get_entity(on_tv).is_ok(), "its screen is there");
        app.world_mut().despawn(tv);
        app.update();
        assert!(app.world().get_entity(on_tv).is_err(), "closed with its screen");
        assert!(app.world().get_entity(camera).is_err(), "and its camera");
        assert!(app.world().resource::<crate::screens::BoardHandOver>().0.is_some(), "a hand-over for the lock");
        // A board in a window of its own stays.
        let windowed = app.world_mut().spawn((BoardWindow(None), Window::default())).id();
        let camera = app.world_mut().spawn(BoardCamera).id();
        app.update();
        assert!(app.world().get_entity(windowed).is_ok());
        assert!(app.world().get_entity(camera).is_ok());
        // Closed by hand (the window gone): its camera goes too.
        app.world_mut().despawn(windowed);
        app.update();
        assert!(app.world().get_entity(camera).is_err(), "nothing left of a board closed by hand");
    }

    #[test]
    fn focus_taken_by_the_board_goes_back_to_the_officers_screen() {
        let mut app = App::new();
        app.add_message::<WindowFocused>();
        app.add_systems(Update, give_focus_back);
        let unit = app.world_mut().spawn((PrimaryWindow, Window { focused: false, ..default() })).id();
        let board = app.world_mut().spawn((BoardWindow::default(), Window { focused: false, ..default() })).id();
        let focused = |app: &App| app.world().get::<Window>(unit).unwrap().focused;
        // Another window (not the board) taking focus is left alone.
        let other = app.world_mut().spawn(Window::default()).id();
        app.world_mut().write_message(WindowFocused { window: other, focused: true });
        app.update();
        assert!(!focused(&app));
        app.world_mut().write_message(WindowFocused { window: board, focused: false });
        app.update();
        assert!(!focused(&app), "the board losing focus is not it taking it");
        app.world_mut().write_message(WindowFocused { window: board, focused: true });
        app.update();
        assert!(focused(&app), "handed back");
    }
}
