//! The shift screen's frame (the title, the boxes the list is drawn in, the foot's buttons)
//! and what is drawn again when the view changes.

use bevy::prelude::*;

use super::{BatchesBox, ChipsBox, ListBox, ShiftBody, StatusBox};
use super::{ReleaseButton, ReleaseLabel, ShiftButton, ShiftTasks, ShiftView, rows};
use crate::auth::Auth;
use crate::screens::{PolicyInUse, Screen, Session, foot, header, root, scrolling_body, today_text};
use crate::shift::Decision;
use crate::ui::form::action_button;
use crate::ui::i18n::Tr;
use crate::ui::theme;
use crate::ui::widgets::{ButtonColors, label};

pub(super) fn spawn(mut commands: Commands, session: Res<Session>, auth: Res<Auth>) {
    let name = session.officer.as_ref().map(|o| o.display_name.clone()).unwrap_or_default();
    commands.spawn(root(Screen::Shift)).with_children(|root| {
        root.spawn(header(today_text(), auth.0.is_demo()));
        root.spawn((ShiftBody, scrolling_body(14.0))).with_children(|body| {
            body.spawn(label(Tr::new("shift.title").with("name", name), theme::TITLE_SIZE, theme::TEXT));
            body.spawn((StatusBox, Node { flex_direction: FlexDirection::Column, row_gap: Val::Px(6.0), ..default() }));
            body.spawn((
                ChipsBox,
                Node { column_gap: Val::Px(12.0), row_gap: Val::Px(8.0), flex_wrap: FlexWrap::Wrap, ..default() },
            ));
            body.spawn((ListBox, Node { flex_direction: FlexDirection::Column, row_gap: Val::Px(10.0), ..default() }));
            body.spawn((
                BatchesBox,
                Node { flex_direction: FlexDirection::Column, row_gap: Val::Px(6.0), ..default() },
            ));
            // Below the list, not in the foot: the foot keeps the decisions and the lock on one
            // line, in large text too (the list keeps its height).
            body.spawn(Node::default()).with_child(action_button(
                ShiftButton::Diagnostics,
                Tr::new("shift.diagnostics"),
                false,
            ));
        });
        root.spawn(foot()).with_children(|bar| {
            bar.spawn(action_button(ShiftButton::ApproveRest, Tr::new("shift.approve_rest"), false));
            bar.spawn(Node { flex_grow: 1.0, ..default() }).with_children(|c| {
                c.spawn((
                    Button,
                    ShiftButton::Release,
                    ReleaseButton,
                    BorderColor::all(theme::KEY_BORDER),
                    Node {
                        width: Val::Percent(100.0),
                        min_height: Val::Px(theme::MIN_TOUCH),
                        justify_content: JustifyContent::Center,
                        align_items: AlignItems::Center,
                        border_radius: BorderRadius::all(Val::Px(12.0)),
                        border: UiRect::all(Val::Px(2.0)),
                        ..default()
                    },
                    BackgroundColor(theme::KEY),
                    ButtonColors { normal: theme::KEY, pressed: theme::KEY },
                    children![(ReleaseLabel, label(Tr::new(""), theme::BODY_SIZE, theme::MUTED))],
                ));
            });
            bar.spawn(action_button(ShiftButton::Lock, Tr::new("home.lock"), false));
        });
    });
}

/// A release begun, and its outcome come (released, or refused, and why), are said at the top
/// of the status: the body scrolls up to them. The release is tapped in the foot with the list
/// scrolled down to the last row decided; its answer was drawn out of sight, and the screen
/// looked as it did before the tap.
pub(super) fn scroll_to_status(
    view: Res<ShiftView>,
    tasks: Res<ShiftTasks>,
    mut body: Query<&mut ScrollPosition, With<ShiftBody>>,
    mut seen: Local<(bool, u64)>,
) {
    if !view.is_changed() && !tasks.is_changed() {
        return;
    }
    let now = (tasks.releasing(), view.answers);
    // Begun, or answered (the same answer again is an answer too).
    let said = (now.0 && !seen.0) || now.1 != seen.1;
    *seen = now;
    if said {
        for mut at in &mut body {
            at.y = 0.0;
        }
    }
}

/// The three boxes the screen rebuilds, told apart by their markers.
type Boxes<'w, 's> = Query<
    'w,
    's,
    (Entity, Option<&'static StatusBox>, Option<&'static ListBox>, Option<&'static ChipsBox>),
    Or<(With<StatusBox>, With<ListBox>, With<BatchesBox>, With<ChipsBox>)>,
>;

/// Rebuilds what changed: the status, the list, the batches, the release button's words.
#[allow(clippy::too_many_arguments)]
pub(super) fn show(
    mut commands: Commands,
    view: Res<ShiftView>,
    tasks: Res<ShiftTasks>,
    policy: Res<PolicyInUse>,
    flow: Res<crate::visit_flow::VisitFlow>,
    boxes: Boxes,
    added: Query<(), Added<ListBox>>,
    mut release: Query<(&mut Tr, &mut TextColor), With<ReleaseLabel>>,
    mut release_button: Query<(&mut BackgroundColor, &mut ButtonColors), With<ReleaseButton>>,
    mut bulk: Query<(&ShiftButton, &Children, &mut BackgroundColor, &mut ButtonColors), Without<ReleaseButton>>,
    mut labels: Query<(&mut Tr, &mut TextColor), Without<ReleaseLabel>>,
    mut seen: Local<std::collections::BTreeMap<String, u8>>,
) {
    let progress = tasks.progress.lock().map(|p| p.clone()).unwrap_or_default();
    if !view.is_changed() && !tasks.is_changed() && !flow.is_changed() && added.is_empty() && *seen == progress {
        return;
    }
    *seen = progress.clone();
    for (entity, status, list, chips) in &boxes {
        commands.entity(entity).despawn_children();
        commands.entity(entity).with_children(|b| match (status, list, chips) {
            (Some(_), _, _) => rows::status(b, &view, &tasks, &policy.0, &flow.resumable),
            (_, Some(_), _) => rows::list(b, &view, &progress, &policy.0),
            (_, _, Some(_)) => rows::chips(b, &view),
            _ => rows::batches(b, &view.batches),
        });
    }
    let wanted = if tasks.releasing() {
        Tr::new("shift.releasing_button")
    } else if view.undecided() > 0 {
        Tr::new("shift.release_wait").with("n", view.undecided())
    } else if view.decisions.is_empty() {
        // Nothing on the list (all released, or none sealed): not "release 0 and 0".
        Tr::new("shift.release_nothing")
    } else {
        let approved = view.count(|d| *d == Decision::Approve);
        let returned = view.count(|d| matches!(d, Decision::Return { .. }));
        match view.count(|d| *d == Decision::Hold) {
            0 => Tr::new("shift.release"),
            held => Tr::new("shift.release_held").with("held", held),
        }
        .with("approved", approved)
        .with("returned", returned)
    };
    // Grey while it cannot be pressed: decisions missing, or a release under way.
    let ready = !tasks.releasing() && view.releasable();
    let (bg, pressed, fg) = if ready {
        (theme::PRIMARY, theme::PRIMARY_PRESSED, theme::ON_PRIMARY)
    } else {
        (theme::KEY, theme::KEY, theme::MUTED)
    };
    for (tr, colour) in &mut release {
        relabel(tr, colour, &wanted, fg);
    }
    for (background, colours) in &mut release_button {
        recolour(background, colours, bg, pressed);
    }
    // Approve-in-bulk says how many it would approve, and is greyed when it would approve
    // none (only flagged ones left, each decided on its own line): a tap that did nothing,
    // and said nothing, left the supervisor wondering.
    let n = crate::shift::approvable_in_bulk(&view.items, view.filter, view.order, &view.decisions).len();
    let (wanted, fg) = (Tr::new("shift.approve_rest").with("n", n), if n > 0 { theme::TEXT } else { theme::MUTED });
    for (button, children, background, colours) in &mut bulk {
        if *button != ShiftButton::ApproveRest {
            continue;
        }
        recolour(background, colours, theme::KEY, if n > 0 { theme::KEY_PRESSED } else { theme::KEY });
        for child in children {
            if let Ok((tr, colour)) = labels.get_mut(*child) {
                relabel(tr, colour, &wanted, fg);
            }
        }
    }
}

/// A button's words and their colour, each written only when it differs (a write marks the
/// text to be laid out again).
fn relabel(mut tr: Mut<Tr>, mut colour: Mut<TextColor>, wanted: &Tr, fg: Color) {
    if *tr != *wanted {
        *tr = wanted.clone();
    }
    if colour.0 != fg {
        colour.0 = fg;
    }
}

/// A button's colours, written only when they differ.
fn recolour(mut background: Mut<BackgroundColor>, mut colours: Mut<ButtonColors>, bg: Color, pressed: Color) {
    if colours.normal != bg || colours.pressed != pressed {
        background.0 = bg;
        *colours = ButtonColors { normal: bg, pressed };
    }
}
