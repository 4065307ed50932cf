//! The counter's half of the outreach screen: the ticket called, what the officer does with
//! it, who waits in what order, and the tickets marked absent that can be put back.

use bevy::prelude::*;
use doorstep_core::queue::{Ticket, TicketState};

use super::{QueueButton, QueueDesk};
use crate::ui::form::action_button;
use crate::ui::i18n::Tr;
use crate::ui::theme;
use crate::ui::widgets::label;

pub(super) fn panel(
    b: &mut ChildSpawnerCommands,
    desk: &QueueDesk,
    policy: &doorstep_core::Policy,
    counter: &str,
    now: time::OffsetDateTime,
    new_call: bool,
) {
    b.spawn(label(Tr::new("queue.counter_title").with("counter", counter), theme::HEADING_SIZE, theme::TEXT));
    // Above the ticket called, where it stays: under it, it moved up into the place of the
    // ticket's buttons as they went, and the next tap there called the next person.
    b.spawn(Node { width: Val::Px(360.0), ..default() })
        .with_child(crate::ui::widgets::primary_button(QueueButton::CallNext, Tr::new("queue.call_next")));
    match desk.at_counter() {
        Some(t) => {
            b.spawn(label(Tr::new("queue.calling").with("number", &t.number), theme::TITLE_SIZE, theme::PRIMARY));
            if let TicketState::Called { calls, .. } = t.state {
                b.spawn(label(Tr::new("queue.calls").with("n", calls), theme::BODY_SIZE, theme::MUTED));
            }
            let mut row = b.spawn(Node {
                column_gap: Val::Px(12.0),
                flex_wrap: FlexWrap::Wrap,
                row_gap: Val::Px(8.0),
                ..default()
            });
            if new_call {
                row.insert(crate::ui::widgets::BringIntoView);
            }
            row.with_children(|row| {
                // The application of the person called, taken here: then served.
                let take = Tr::new("queue.take_application").with("number", &t.number);
                row.spawn(action_button(QueueButton::TakeApplication, take, true));
                row.spawn(action_button(QueueButton::Served, Tr::new("queue.served"), false));
                row.spawn(action_button(QueueButton::Recall, Tr::new("queue.recall"), false));
                row.spawn(action_button(QueueButton::NoShow, Tr::new("queue.no_show"), false));
            });
        }
        None => {
            b.spawn(label(Tr::new("queue.counter_free"), theme::BODY_SIZE, theme::MUTED));
        }
    }
    let order = desk.queue.call_order(&policy.priority, now);
    let count = |f: fn(&TicketState) -> bool| desk.queue.tickets().iter().filter(|t| f(&t.state)).count();
    b.spawn(label(
        Tr::new("queue.counts")
            .with("waiting", order.len())
            .with("served", count(|s| matches!(s, TicketState::Served { .. })))
            .with("absent", count(|s| matches!(s, TicketState::NoShow { .. }))),
        theme::BODY_SIZE,
        theme::TEXT,
    ));
    for t in order.iter().take(8) {
        b.spawn(label(waiting_line(t, policy), theme::BODY_SIZE, theme::TEXT));
    }
    // Those marked absent, the latest first: one who comes back with the ticket waits again
    // (behind those already waiting of their rank), without a new number.
    let absent = desk.queue.absent();
    if !absent.is_empty() {
        b.spawn(label(Tr::new("queue.absent_title"), theme::BODY_SIZE, theme::MUTED));
        b.spawn(Node { column_gap: Val::Px(12.0), flex_wrap: FlexWrap::Wrap, row_gap: Val::Px(8.0), ..default() })
            .with_children(|row| {
                for t in absent.iter().take(ABSENT_SHOWN) {
                    let tr = Tr::new("queue.put_back").with("number", &t.number);
                    row.spawn(action_button(QueueButton::Returned(t.number.clone()), tr, false));
                }
            });
    }
}

/// How many of the tickets marked absent the counter offers to put back (the latest: one
/// who left long ago takes a new ticket).
const ABSENT_SHOWN: usize = 4;

/// A waiting ticket as the lists show it: its number and why it comes early.
pub fn waiting_line(t: &Ticket, policy: &doorstep_core::Policy) -> Tr {
    if t.urgent {
        return Tr::new("queue.line.green").with("number", &t.number);
    }
    let names: Vec<&doorstep_core::policy::PriorityCategory> =
        t.categories.iter().filter_map(|id| policy.priority.category(id)).collect();
    match names.first() {
        Some(c) => Tr::new("queue.line.priority").with("number", &t.number).with_texts("why", &c.label_zh, &c.label_en),
        None => Tr::new("queue.line").with("number", &t.number),
    }
}
