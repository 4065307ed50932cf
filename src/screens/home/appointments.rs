//! The appointments booked for this unit on the home screen: each with where to go and the
//! back office's note, and the button that starts its visit.

use bevy::prelude::*;

use super::{StartsVisit, VisitButton};
use crate::ui::form::action_button;
use crate::ui::i18n::Tr;
use crate::ui::theme;
use crate::ui::widgets::label;
use crate::visit_flow::VisitFlow;

/// The appointments booked for this unit, rebuilt when they change.
#[derive(Component, Debug)]
pub struct AppointmentList;

/// The booked appointments still to come (or under way), soonest first.
pub fn booked(
    list: &[doorstep_core::appointment::Appointment],
    now: time::OffsetDateTime,
) -> Vec<&doorstep_core::appointment::Appointment> {
    use doorstep_core::appointment::AppointmentStatus;
    let mut out: Vec<_> = list.iter().filter(|a| a.status == AppointmentStatus::Booked && a.to >= now).collect();
    out.sort_by_key(|a| (a.from, a.id.clone()));
    out
}

pub(super) fn show_appointments(
    mut commands: Commands,
    sync: Option<Res<crate::unit_sync::UnitSync>>,
    list: Query<Entity, With<AppointmentList>>,
    added: Query<(), Added<AppointmentList>>,
    flow: Res<VisitFlow>,
    mut shown: Local<Option<std::sync::Arc<Vec<doorstep_core::appointment::Appointment>>>>,
) {
    let Some(sync) = sync else { return };
    let now_list = sync.view().appointments;
    if shown.as_ref().is_some_and(|s| std::sync::Arc::ptr_eq(s, &now_list)) && added.is_empty() && !flow.is_changed() {
        return;
    }
    // One begun (a draft to resume) is resumed, not started again.
    let begun = flow.appointments_begun();
    let now = crate::settings::now();
    for e in &list {
        commands.entity(e).despawn_children();
        commands.entity(e).with_children(|l| {
            let due: Vec<_> = booked(&now_list, now).into_iter().filter(|a| !begun.contains(&a.id)).collect();
            if due.is_empty() {
                return;
            }
            l.spawn(label(Tr::new("home.appointments"), theme::HEADING_SIZE, theme::TEXT));
            for a in due {
                l.spawn(Node { column_gap: Val::Px(16.0), align_items: AlignItems::Center, ..default() })
                    .with_children(|row| {
                        let services = doorstep_core::text::Arg::List(
                            a.services.iter().map(|s| doorstep_core::text::Arg::from(s.describe())).collect(),
                        );
                        // From the hub: a time with no local one (the year 9999's last hours)
                        // is a dash.
                        let to = a.to.checked_to_offset(now.offset());
                        let line = doorstep_core::Message::new("home.appointment")
                            .with("from", crate::shift::local_time(a.from.unix_timestamp()))
                            .with("to", to.map_or_else(|| "—".into(), |t| format!("{:02}:{:02}", t.hour(), t.minute())))
                            .with("name", a.name.as_str())
                            .with("services", services)
                            .with_key("mode", a.mode.key());
                        // Where to go, and what the back office asked the officer to know.
                        let place = match &a.mode {
                            doorstep_core::visit::VisitMode::Outreach { point } => {
                                Some(Tr::new("home.appointment_point").with("point", point))
                            }
                            _ if !a.address.is_empty() => {
                                Some(Tr::new("home.appointment_address").with("address", &a.address))
                            }
                            _ => None,
                        };
                        let note = (!a.note.is_empty()).then(|| Tr::new("home.appointment_note").with("note", &a.note));
                        let column = Node {
                            flex_grow: 1.0,
                            flex_shrink: 1.0,
                            flex_direction: FlexDirection::Column,
                            row_gap: Val::Px(4.0),
                            ..default()
                        };
                        row.spawn(column).with_children(|c| {
                            c.spawn(label(Tr::message(line), theme::BODY_SIZE, theme::TEXT));
                            for more in place.into_iter().chain(note) {
                                c.spawn(label(more, theme::BODY_SIZE, theme::MUTED));
                            }
                        });
                        row.spawn((
                            action_button(
                                VisitButton::Appointment(a.id.clone()),
                                Tr::new("home.appointment_start"),
                                true,
                            ),
                            StartsVisit,
                        ));
                    });
            }
        });
    }
    *shown = Some(now_list);
}
