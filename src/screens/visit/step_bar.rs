//! The steps across the top of a visit (the way back to a step done) and the lock.

use bevy::prelude::*;
use doorstep_core::visit::{Step, Visit};

use super::Act;
use crate::screens::LockNow;
use crate::ui::i18n::{Capitalised, Tr};
use crate::ui::theme;
use crate::ui::widgets::{ButtonColors, label};
use crate::visit_flow::VisitCmd;

/// The steps across the top: done ones (before signing) are buttons back to them. A visit
/// stopped shows where it stopped, in red, and nothing after it as done.
pub(super) fn view(ui: &mut ChildSpawnerCommands, visit: &Visit, lockable: bool) {
    let (at, stopped) = match &visit.state {
        doorstep_core::visit::VisitState::Abandoned(a) => (a.at_step, true),
        _ => (visit.step(), false),
    };
    ui.spawn(Node { flex_wrap: FlexWrap::Wrap, column_gap: Val::Px(6.0), row_gap: Val::Px(6.0), ..default() })
        .with_children(|bar| {
            for step in Step::FLOW.into_iter().filter(|s| *s != Step::Done) {
                let colour = match step.cmp(&at) {
                    std::cmp::Ordering::Less => theme::OK,
                    std::cmp::Ordering::Equal if stopped => theme::ERROR,
                    std::cmp::Ordering::Equal => theme::PRIMARY,
                    std::cmp::Ordering::Greater => theme::MUTED,
                };
                // Large enough to read and tap: they are the way back to a step.
                let text = label(Tr::new(step.key()), theme::BODY_SIZE * 0.85, colour);
                let node = Node {
                    padding: UiRect::axes(Val::Px(10.0), Val::Px(6.0)),
                    min_height: Val::Px(44.0),
                    align_items: AlignItems::Center,
                    border: UiRect::bottom(Val::Px(if step == at { 4.0 } else { 0.0 })),
                    ..default()
                };
                if step < at && at <= Step::Sign && !stopped {
                    bar.spawn((Button, Act::BackTo(step), node, BorderColor::all(colour), children![text]));
                } else {
                    bar.spawn((node, BorderColor::all(colour), children![text]));
                }
            }
            // Locking is one tap from every step, as from the home screen: an officer who
            // steps away leaves no applicant's details open until the idle lock comes.
            // As small as a step, at the end of the bar's last line where it fits: a line of
            // its own would push what the officer must answer below the fold on a small screen.
            if lockable {
                let node = Node {
                    padding: UiRect::axes(Val::Px(14.0), Val::Px(6.0)),
                    min_height: Val::Px(44.0),
                    margin: UiRect::left(Val::Auto),
                    align_items: AlignItems::Center,
                    border: UiRect::all(Val::Px(2.0)),
                    border_radius: BorderRadius::all(Val::Px(8.0)),
                    ..default()
                };
                let words = (Capitalised, label(Tr::new("home.lock"), theme::BODY_SIZE * 0.85, theme::TEXT));
                let colours = ButtonColors { normal: theme::KEY, pressed: theme::KEY_PRESSED };
                let look = (BackgroundColor(theme::KEY), BorderColor::all(theme::KEY_BORDER), colours);
                bar.spawn((Button, Act::Lock, node, look, children![words]));
            }
        });
}

/// The step bar's buttons: back to a step done, and the lock.
pub(super) fn act(mut acts: MessageReader<Act>, mut cmds: MessageWriter<VisitCmd>, mut lock: MessageWriter<LockNow>) {
    for act in acts.read() {
        match act {
            Act::BackTo(step) => {
                cmds.write(VisitCmd::apply(doorstep_core::visit::VisitEvent::BackTo(*step)));
            }
            Act::Lock => {
                lock.write(LockNow);
            }
            _ => {}
        }
    }
}
