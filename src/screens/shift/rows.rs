//! The shift screen's parts, built from the view: the status lines, one row per application,
//! and the released batches.

use std::collections::BTreeMap;

use bevy::prelude::*;
use doorstep_core::Policy;
use doorstep_core::policy::PaymentMethod;
use doorstep_core::text::{Arg, Localize, Message};

use super::{ShiftButton, ShiftTasks, ShiftView};
use crate::shift::{BatchView, Decision, Filter, HubRefusal, ItemSync, Order, Refusal, ReleaseOutcome, ShiftItem};
use crate::ui::form::{action_button, text_field};
use crate::ui::i18n::Tr;
use crate::ui::theme;
use crate::ui::widgets::label;

/// What of the shift is in no batch: visits begun on this unit and not sealed (an officer's
/// visit cut off, or left to finish), each by whom, whose and where it stopped; and the visits
/// stopped today. The supervisor at the end of the shift must not take the list for all.
fn unfinished(b: &mut ChildSpawnerCommands, view: &ShiftView, drafts: &[crate::visit_flow::Resumable]) {
    let unsealed: Vec<_> = drafts.iter().filter(|d| d.unsealed()).collect();
    if !unsealed.is_empty() {
        b.spawn(label(Tr::new("shift.unsealed").with("n", unsealed.len()), theme::BODY_SIZE, theme::WARN));
        for d in unsealed {
            let line = match &d.who {
                Some(who) => Tr::new("shift.unsealed_one").with("who", who),
                None => Tr::new("shift.unsealed_unread"),
            };
            let line = line.with("officer", &d.officer).with("started", &d.started).with_key("step", d.step.key());
            b.spawn(label(line, theme::BODY_SIZE, theme::TEXT));
            // A fee taken and not yet sealed is in no batch's takings: the cash in hand is more.
            if let Some((method, amount)) = d.paid.filter(crate::shift_report::fee_taken) {
                let key =
                    if method == PaymentMethod::Cash { "shift.unsealed_paid_cash" } else { "shift.unsealed_paid" };
                let paid = Tr::new(key).with_key("how", method.key()).with("amount", amount.to_string());
                b.spawn(label(paid, theme::BODY_SIZE, theme::WARN));
            }
        }
    }
    let stops = view.stops;
    if stops.count > 0 {
        b.spawn(label(
            Tr::new("shift.stopped_today").with("n", stops.count).with("paid", stops.paid),
            theme::BODY_SIZE,
            theme::TEXT,
        ));
    }
    let elsewhere = view.elsewhere;
    if elsewhere.feedback_unsent > 0 {
        let tr = Tr::new("shift.feedback_unsent").with("n", elsewhere.feedback_unsent);
        b.spawn(label(tr, theme::BODY_SIZE, theme::WARN));
    }
    if elsewhere.open_tickets > 0 {
        let tr = Tr::new("shift.open_tickets").with("n", elsewhere.open_tickets);
        b.spawn(label(tr, theme::BODY_SIZE, theme::WARN));
    }
}

pub fn status(
    b: &mut ChildSpawnerCommands,
    view: &ShiftView,
    tasks: &ShiftTasks,
    policy: &Policy,
    drafts: &[crate::visit_flow::Resumable],
) {
    if !view.loaded {
        b.spawn(label(Tr::new("shift.loading"), theme::BODY_SIZE, theme::MUTED));
        return;
    }
    if view.unreadable {
        b.spawn(label(Tr::new("shift.unreadable"), theme::BODY_SIZE, theme::ERROR));
        return;
    }
    // What waits for the release; one whose file is damaged is counted in the red line below.
    let waiting: Vec<&ShiftItem> = view.items.iter().filter(|i| !i.damaged).collect();
    let on_unit = waiting.iter().filter(|i| i.sync == ItemSync::OnUnit).count();
    let flagged = waiting.iter().filter(|i| i.flagged()).count();
    b.spawn(label(
        Tr::new("shift.counts")
            .with("n", waiting.len())
            .with("undecided", view.undecided())
            .with("flagged", flagged)
            .with("on_unit", on_unit),
        theme::BODY_SIZE,
        theme::TEXT,
    ));
    unfinished(b, view, drafts);
    if view.restored_count > 0 {
        b.spawn(label(
            Tr::new("shift.decisions_restored").with("n", view.restored_count),
            theme::BODY_SIZE,
            theme::TEXT,
        ));
    }
    if view.not_kept {
        b.spawn(label(Tr::new("shift.decisions_not_kept"), theme::BODY_SIZE, theme::ERROR));
    }
    // Files kept aside, or an application whose file went bad since the unlock (kept aside at
    // the next); apart, those the storage did not read just now (nothing known damaged).
    let damaged = view.items.iter().filter(|i| i.damaged && !i.not_read).count();
    let n = view.set_aside.len().max(damaged);
    if n > 0 {
        b.spawn(label(Tr::new("shift.set_aside").with("n", n), theme::BODY_SIZE, theme::ERROR));
    }
    let not_read = view.items.iter().filter(|i| i.not_read).count();
    if not_read > 0 {
        b.spawn(label(Tr::new("shift.not_read_count").with("n", not_read), theme::BODY_SIZE, theme::ERROR));
    }
    if tasks.releasing() {
        b.spawn(label(Tr::new("shift.releasing"), theme::BODY_SIZE, theme::PRIMARY));
    }
    match &view.outcome {
        None => {}
        Some(ReleaseOutcome::Released { batch, approved, returned, held, report, kept }) => {
            b.spawn(label(
                Tr::new("shift.released").with("approved", approved).with("returned", returned),
                theme::HEADING_SIZE,
                theme::OK,
            ));
            if *held > 0 {
                b.spawn(label(Tr::new("shift.released_held").with("n", held), theme::BODY_SIZE, theme::TEXT));
            }
            batch_line(b, batch);
            if let Some(r) = report {
                report_lines(b, r, policy);
            }
            match kept {
                Some(path) => b.spawn(label(
                    Tr::new("shift.report_kept").with("path", path.display()),
                    theme::BODY_SIZE,
                    theme::MUTED,
                )),
                None => b.spawn(label(Tr::new("shift.report_not_kept"), theme::BODY_SIZE, theme::ERROR)),
            };
        }
        Some(ReleaseOutcome::Refused(r)) => {
            let tr = match r {
                Refusal::NotProvisioned => Tr::new("shift.refused.not_provisioned"),
                Refusal::NoCoverage => Tr::new("shift.refused.no_coverage"),
                Refusal::NotUploaded { n, refused, .. } if refused.is_empty() => {
                    Tr::new("shift.refused.not_uploaded").with("n", n)
                }
                Refusal::NotUploaded { n, refused, .. } => {
                    Tr::new("shift.refused.hub_refused").with("n", n).with("refused", refused.len())
                }
                Refusal::NotTrusted { key } => Tr::new("shift.refused.not_trusted").with("key", key),
                Refusal::Stale => Tr::new("shift.refused.stale"),
                Refusal::AlreadyDecided { ids } => {
                    // By the numbers the rows show (an id the list no longer holds, by its id).
                    let named: Vec<String> = ids
                        .iter()
                        .map(|id| match view.items.iter().find(|i| i.id == *id) {
                            Some(item) if !item.numbers.is_empty() => item.numbers.join(" "),
                            _ => id.clone(),
                        })
                        .collect();
                    Tr::new("shift.refused.already_decided").with("n", ids.len()).with("numbers", named.join(", "))
                }
                Refusal::Nothing => Tr::new("shift.refused.nothing"),
                Refusal::Failed => Tr::new("shift.refused.failed"),
            };
            b.spawn(label(tr, theme::BODY_SIZE, theme::ERROR));
        }
    }
    if view.items.is_empty() && !matches!(view.outcome, Some(ReleaseOutcome::Released { .. })) {
        b.spawn(label(Tr::new("shift.empty"), theme::BODY_SIZE, theme::MUTED));
    }
}

/// The end-of-shift figures, one line per key.
fn report_lines(b: &mut ChildSpawnerCommands, r: &crate::shift_report::ShiftReport, policy: &Policy) {
    let item = |what: Tr, n: &usize| what.with("n", n);
    let services: Vec<Tr> = r
        .by_service
        .iter()
        .map(|(code, n)| item(Tr::new("report.item").with_key("what", crate::shift_report::service_key(code)), n))
        .collect();
    let officers: Vec<Tr> = r.by_officer.iter().map(|(o, n)| item(Tr::new("report.item").with("what", o), n)).collect();
    let payments: Vec<Tr> = r
        .by_payment
        .iter()
        .map(|(method, (n, total))| {
            Tr::new("report.payment").with_key("how", method).with("n", n).with("amount", total)
        })
        .collect();
    let cash: Vec<Tr> = r
        .cash_by_officer
        .iter()
        .map(|(o, (n, total))| Tr::new("report.officer_paid").with("who", o).with("n", n).with("amount", total))
        .collect();
    let flags: Vec<Tr> =
        r.flags.iter().map(|(k, n)| item(Tr::new("report.item").with_key("what", k.key()), n)).collect();
    let reasons: Vec<Tr> = r
        .reasons
        .iter()
        .map(|(id, n)| {
            let (zh, en) = policy.rules.shift.reason(id).map_or((id.as_str(), id.as_str()), |x| (&x.zh, &x.en));
            item(Tr::new("report.item").with_texts("what", zh, en), n)
        })
        .collect();
    for (heading, items) in [
        ("report.by_service", services),
        ("report.by_officer", officers),
        ("report.by_payment", payments),
        ("report.cash_by_officer", cash),
        ("report.flags", flags),
        ("report.reasons", reasons),
    ] {
        if items.is_empty() {
            continue;
        }
        b.spawn(Node { column_gap: Val::Px(16.0), flex_wrap: FlexWrap::Wrap, ..default() }).with_children(|row| {
            row.spawn(label(Tr::new(heading), theme::BODY_SIZE, theme::TEXT));
            for tr in items {
                row.spawn(label(tr, theme::BODY_SIZE, theme::TEXT));
            }
        });
    }
}

fn batch_line(b: &mut ChildSpawnerCommands, batch: &BatchView) {
    b.spawn(label(
        Tr::new("shift.batch")
            .with("id", &batch.batch_id)
            .with("n", batch.applications)
            .with("hub", &batch.hub_id)
            .with("at", crate::shift::local_time(batch.received_at_unix))
            .with("digest", &batch.manifest),
        theme::BODY_SIZE,
        theme::TEXT,
    ));
}

/// The filter and order buttons, the ones in force in the primary colour.
/// What the list shows, and in what order: two groups, each named (the same buttons side by
/// side, one lit in each, read as one choice of six).
pub fn chips(b: &mut ChildSpawnerCommands, view: &ShiftView) {
    let group = || Node {
        column_gap: Val::Px(12.0),
        row_gap: Val::Px(8.0),
        flex_wrap: FlexWrap::Wrap,
        align_items: AlignItems::Center,
        ..default()
    };
    b.spawn(group()).with_children(|g| {
        g.spawn(label(Tr::new("shift.filter.caption"), theme::BODY_SIZE, theme::MUTED));
        for (f, key) in [
            (Filter::All, "shift.filter.all"),
            (Filter::Flagged, "shift.filter.flagged"),
            (Filter::OnUnit, "shift.filter.on_unit"),
            (Filter::Undecided, "shift.filter.undecided"),
        ] {
            g.spawn(action_button(ShiftButton::Filter(f), Tr::new(key), view.filter == f));
        }
    });
    b.spawn(group()).with_children(|g| {
        g.spawn(label(Tr::new("shift.order.caption"), theme::BODY_SIZE, theme::MUTED));
        for (o, key) in [(Order::Sealed, "shift.order.sealed"), (Order::FlagsFirst, "shift.order.flags_first")] {
            g.spawn(action_button(ShiftButton::Order(o), Tr::new(key), view.order == o));
        }
    });
}

pub fn batches(b: &mut ChildSpawnerCommands, batches: &[BatchView]) {
    if batches.is_empty() {
        return;
    }
    b.spawn(label(Tr::new("shift.batches"), theme::HEADING_SIZE, theme::TEXT));
    // The last ten: older ones stay in the vault and at the hub.
    for batch in batches.iter().take(10) {
        batch_line(b, batch);
    }
}

pub fn list(b: &mut ChildSpawnerCommands, view: &ShiftView, progress: &BTreeMap<String, u8>, policy: &Policy) {
    for item in crate::shift::shown(&view.items, view.filter, view.order, &view.decisions) {
        b.spawn((
            Node {
                column_gap: Val::Px(16.0),
                padding: UiRect::all(Val::Px(12.0)),
                border: UiRect::all(Val::Px(2.0)),
                border_radius: BorderRadius::all(Val::Px(12.0)),
                align_items: AlignItems::FlexStart,
                ..default()
            },
            BorderColor::all(if item.flagged() { theme::ERROR } else { theme::KEY_BORDER }),
            BackgroundColor(theme::KEY),
        ))
        .with_children(|row| {
            thumb(row, view, item);
            row.spawn(Node {
                flex_direction: FlexDirection::Column,
                row_gap: Val::Px(4.0),
                flex_grow: 1.0,
                // May shrink below its longest word: the decisions keep their column.
                min_width: Val::Px(0.0),
                ..default()
            })
            .with_children(|c| summary(c, item, progress.get(&item.id).copied(), view.refused(&item.id)));
            row.spawn(Node {
                flex_direction: FlexDirection::Column,
                row_gap: Val::Px(8.0),
                width: Val::Px(360.0),
                flex_shrink: 0.0,
                ..default()
            })
            .with_children(|c| decision(c, view, item, policy));
        });
    }
}

/// The photo, small; tapped, at half the digital photo's size (a flag may ask the supervisor to
/// look at it: a cap, or hair?), and tapped again, small.
fn thumb(row: &mut ChildSpawnerCommands, view: &ShiftView, item: &ShiftItem) {
    let large = view.enlarged.as_ref() == Some(&item.id);
    let (w, h) = if large { crate::shift::PHOTO_SHOWN } else { crate::shift::THUMB };
    let size = Node {
        width: Val::Px(w as f32),
        height: Val::Px(h as f32),
        flex_shrink: 0.0,
        justify_content: JustifyContent::Center,
        align_items: AlignItems::Center,
        ..default()
    };
    match view.thumbs.get(&item.id) {
        Some(image) => {
            let words = if large { "shift.photo.smaller" } else { "shift.photo.larger" };
            row.spawn((
                Button,
                ShiftButton::Photo(item.id.clone()),
                Node {
                    flex_direction: FlexDirection::Column,
                    align_items: AlignItems::Center,
                    row_gap: Val::Px(4.0),
                    flex_shrink: 0.0,
                    ..default()
                },
            ))
            .with_children(|b| {
                b.spawn((ImageNode::new(image.clone()), size));
                b.spawn(label(Tr::new(words), theme::BODY_SIZE, theme::PRIMARY));
            });
        }
        None => {
            let words = if item.summary.photo_reused { "shift.photo_reused" } else { "shift.no_photo" };
            row.spawn((size, BackgroundColor(theme::PENDING))).with_child(label(Tr::new(words), 18.0, theme::TEXT));
        }
    }
}

/// A row known only by its application's id (in `words`, broken between characters where a
/// word does not fit) and when it was sealed.
fn id_and_sealed(c: &mut ChildSpawnerCommands, item: &ShiftItem, words: &'static str, colour: Color) {
    c.spawn((
        label(Tr::new(words).with("id", &item.id), theme::BODY_SIZE, colour),
        TextLayout { linebreak: LineBreak::WordOrCharacter, ..default() },
    ));
    c.spawn(label(
        Tr::new("shift.damaged_sealed").with("at", crate::shift::local_time(item.sealed_at_unix)),
        theme::BODY_SIZE,
        theme::MUTED,
    ));
}

fn summary(c: &mut ChildSpawnerCommands, item: &ShiftItem, uploading: Option<u8>, refused: Option<&HubRefusal>) {
    if item.damaged {
        // Only its id and when it was sealed are known: the rest is in the file that did not
        // read (damaged, or not read by the storage just now).
        id_and_sealed(c, item, if item.not_read { "shift.not_read" } else { "shift.damaged" }, theme::ERROR);
        return;
    }
    if item.unreadable {
        // No applicant, service or officer to show: its id is what the bureau checks it by.
        id_and_sealed(c, item, "shift.application", theme::TEXT);
        c.spawn(label(Tr::new("shift.summary_unreadable"), theme::BODY_SIZE, theme::ERROR));
    } else {
        let s = &item.summary;
        c.spawn(label(
            Tr::new("shift.who").with("name", &s.name).with("numbers", item.numbers.join(" ")),
            theme::BODY_SIZE,
            theme::TEXT,
        ));
        let services = Arg::List(s.services.iter().map(|x| Arg::from(x.describe())).collect());
        c.spawn(label(
            Tr::message(Message::new("shift.services").with("list", services)),
            theme::BODY_SIZE,
            theme::TEXT,
        ));
        c.spawn(label(
            Tr::new("shift.by").with("officer", &s.officer).with("at", crate::shift::local_time(item.sealed_at_unix)),
            theme::BODY_SIZE,
            theme::MUTED,
        ));
        for f in &s.flags {
            c.spawn(label(Tr::message(f.message()), theme::BODY_SIZE, theme::ERROR));
        }
        // What was recorded, beside its flag: the supervisor decides on the reasons, not on
        // "recorded".
        if let Some(reason) = &s.unable_to_sign {
            c.spawn(label(Tr::new("shift.unable_to_sign").with("reason", reason), theme::BODY_SIZE, theme::TEXT));
        }
        if !s.finger_exceptions.is_empty() {
            let list = doorstep_core::fingerprint::exceptions_list(s.finger_exceptions.iter().map(|(f, n)| (*f, n)));
            c.spawn(label(Tr::message(list), theme::BODY_SIZE, theme::TEXT));
        }
    }
    let sync = match (item.sync, uploading) {
        (ItemSync::AtHub, _) => Tr::new("shift.sync.at_hub"),
        (ItemSync::OnUnit, Some(pct)) => Tr::new("shift.sync.uploading").with("pct", pct),
        (ItemSync::OnUnit, None) => Tr::new("shift.sync.on_unit"),
    };
    c.spawn(label(sync, theme::BODY_SIZE, if item.sync == ItemSync::AtHub { theme::OK } else { theme::MUTED }));
    if let Some(r) = refused.filter(|_| item.sync == ItemSync::OnUnit) {
        // It may carry a 64-digit key: broken between characters where a word does not fit,
        // rather than pushing the decisions out of the row.
        c.spawn((
            label(Tr::message(r.message()), theme::BODY_SIZE, theme::ERROR),
            TextLayout { linebreak: LineBreak::WordOrCharacter, ..default() },
        ));
    }
}

fn decision(c: &mut ChildSpawnerCommands, view: &ShiftView, item: &ShiftItem, policy: &Policy) {
    let id = &item.id;
    if item.damaged {
        // Nothing to decide on: what it was is in the damaged file.
        return;
    }
    match view.decisions.get(id) {
        Some(Decision::Approve) => {
            c.spawn(label(Tr::new("shift.approved"), theme::BODY_SIZE, theme::OK));
            c.spawn(action_button(ShiftButton::Undecide(id.clone()), Tr::new("shift.undo"), false));
        }
        Some(Decision::Return { reason, note }) => {
            let (zh, en) =
                policy.rules.shift.reason(reason).map_or((reason.as_str(), reason.as_str()), |r| (&r.zh, &r.en));
            let words = match note.as_str() {
                "" => Tr::new("shift.returned").with_texts("reason", zh, en),
                note => Tr::new("shift.returned_note").with_texts("reason", zh, en).with("note", note),
            };
            c.spawn((
                label(words, theme::BODY_SIZE, theme::ERROR),
                TextLayout { linebreak: LineBreak::WordOrCharacter, ..default() },
            ));
            c.spawn(action_button(ShiftButton::Undecide(id.clone()), Tr::new("shift.undo"), false));
        }
        Some(Decision::Hold) => {
            c.spawn(label(Tr::new("shift.held"), theme::BODY_SIZE, theme::TEXT));
            c.spawn(action_button(ShiftButton::Undecide(id.clone()), Tr::new("shift.undo"), false));
        }
        None if view.asking.as_ref() == Some(id) => {
            c.spawn(text_field(super::RETURN_NOTE, Tr::new("shift.return_note"), crate::shift::MAX_RETURN_NOTE));
            c.spawn(label(Tr::new("shift.return_why"), theme::BODY_SIZE, theme::TEXT));
            for r in &policy.rules.shift.return_reasons {
                c.spawn(action_button(
                    ShiftButton::Return(id.clone(), r.id.clone()),
                    Tr::new("shift.reason").with_texts("reason", &r.zh, &r.en),
                    false,
                ));
            }
            c.spawn(action_button(ShiftButton::CancelReturn, Tr::new("shift.cancel"), false));
        }
        None => {
            c.spawn(Node { column_gap: Val::Px(12.0), ..default() }).with_children(|r| {
                r.spawn(action_button(ShiftButton::Approve(id.clone()), Tr::new("shift.approve"), true));
                r.spawn(action_button(ShiftButton::AskReturn(id.clone()), Tr::new("shift.return"), false));
            });
            // Not at the hub, refused by it, or one to decide later (the applicant to be called
            // first): the rest of the shift need not wait for it.
            c.spawn(action_button(ShiftButton::Hold(id.clone()), Tr::new("shift.hold"), false));
        }
    }
}
