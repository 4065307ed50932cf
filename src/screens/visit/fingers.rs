//! The fingerprint step's screen: both hands with the finger asked for lit, what each finger
//! gave, and the exceptions the rules allow for a finger that cannot give a print (missing,
//! injured with its evidence, or another reason written down).

use bevy::prelude::*;
use doorstep_core::fingerprint::{
    Attempt, Finger, FingerResult, HospitalCertificate, HospitalGrade, InjuryEvidence, NoPrint, Procedure, next_finger,
};
use doorstep_core::requirements::FingerprintRequirement;

use super::capture::{DECLINED, NO_VALID_PRINT};
use super::{Act, View, actions, heading, line};
use crate::ui::form::{Form, choice_button, text_field};
use crate::ui::i18n::Tr;
use crate::ui::theme;
use crate::visit_flow::{Drafts, part};

pub(super) fn procedure(v: &View) -> Procedure {
    Procedure { min_quality: v.policy.rules.fingerprints.min_quality }
}

pub(super) fn view(v: &View, ui: &mut ChildSpawnerCommands) {
    heading(ui, Tr::new("visit.fingers.title"));
    let needed = v.visit.state.services().map(|s| s.rules.fingerprints);
    let absent = super::capture::child_absent(v.visit);
    if needed == Some(FingerprintRequirement::NotTaken) || absent {
        line(ui, Tr::new(if absent { "visit.fingers.child_absent" } else { "visit.fingers.not_needed" }));
        actions(v, vec![(Act::Next, Tr::new("visit.next"), true)]);
        return;
    }
    let guardian_here = v.visit.state.identified().and_then(|w| w.guardians.as_ref()).is_some_and(|g| g.any_present());
    if needed == Some(FingerprintRequirement::GuardianDecides) && guardian_here {
        let declined = v.form.is_on(DECLINED);
        ui.spawn(crate::ui::form::choice_button(Act::Toggle(DECLINED), Tr::new("visit.fingers.declined"), declined));
        if declined {
            actions(v, vec![(Act::Next, Tr::new("visit.next"), true)]);
            return;
        }
    }
    hands(v, ui);
    for (n, a) in v.work.attempts.iter().enumerate() {
        let tr = match &a.result {
            FingerResult::Print { quality, .. } => Tr::new("visit.fingers.taken").with("q", quality),
            FingerResult::NoPrint(n) => Tr::new(n.key()),
        };
        let row = Node { column_gap: Val::Px(12.0), align_items: AlignItems::Center, ..default() };
        ui.spawn(row).with_children(|row| {
            let finger = crate::ui::widgets::label(Tr::new(a.finger.key()), theme::BODY_SIZE, theme::TEXT);
            row.spawn((crate::ui::i18n::Capitalised, finger));
            row.spawn(crate::ui::widgets::label(tr, theme::BODY_SIZE, theme::MUTED));
            // The last finger recorded can be taken back (a healthy thumb tapped "missing"),
            // on its own line.
            // Not while a scan runs, nor while the next finger is being tried again.
            if n + 1 == v.work.attempts.len() && v.work.finger.is_none() && !v.work.trying_again() {
                let undo = Tr::new("visit.fingers.undo").with_key("finger", a.finger.key());
                row.spawn(crate::ui::form::action_button(Act::UndoFinger, undo, false));
            }
        });
    }
    if let Some(note) = &v.work.finger_note {
        ui.spawn(crate::ui::widgets::label(note.clone(), theme::BODY_SIZE, theme::ERROR));
    }
    match next_finger(&v.work.attempts, &procedure(v)) {
        Some(finger) if v.work.finger.is_some() => {
            heading(ui, Tr::new("visit.fingers.place").with_key("finger", finger.key()));
        }
        Some(finger) => {
            heading(ui, Tr::new("visit.fingers.next").with_key("finger", finger.key()));
            // Once an exception's form is filled, recording it is what the officer is doing:
            // it is the main button, not the scan.
            let recording = exceptions(v, ui);
            let mut buttons = vec![
                (Act::ScanFinger, Tr::new("visit.fingers.scan"), !recording),
                (Act::NoPrint("missing"), Tr::new("visit.fingers.missing"), false),
            ];
            if recording {
                buttons.push((Act::NoPrint("record"), Tr::new("visit.fingers.record"), true));
            }
            actions(v, buttons);
        }
        None => {
            let p = procedure(v);
            let any_valid = v
                .work
                .attempts
                .iter()
                .any(|a| matches!(a.result, FingerResult::Print { quality, .. } if quality >= p.min_quality));
            if !any_valid {
                line(ui, Tr::new("visit.fingers.none_valid"));
                // Only a worn finger, tried, leaves an image (not one missing or injured).
                if v.work.attempts.iter().any(|a| matches!(a.result, FingerResult::NoPrint(NoPrint::Unreadable { .. })))
                {
                    line(ui, Tr::new("visit.fingers.best_kept"));
                }
                ui.spawn(crate::ui::form::choice_button(
                    Act::Toggle(NO_VALID_PRINT),
                    Tr::new("visit.fingers.confirm_none"),
                    v.form.is_on(NO_VALID_PRINT),
                ));
            }
            actions(v, vec![(Act::Next, Tr::new("visit.next"), true)]);
        }
    }
}

/// Both hands as the applicant faces the unit: each finger a box, the one asked for lit, the
/// ones done green (a print) or red (no print). Guards against the wrong hand.
fn hands(v: &View, ui: &mut ChildSpawnerCommands) {
    let next = next_finger(&v.work.attempts, &procedure(v));
    ui.spawn(Node { column_gap: Val::Px(32.0), ..default() }).with_children(|row| {
        for (hand, fingers) in
            [("visit.fingers.left_hand", [10u8, 9, 8, 7, 6]), ("visit.fingers.right_hand", [1, 2, 3, 4, 5])]
        {
            row.spawn(Node {
                flex_direction: FlexDirection::Column,
                row_gap: Val::Px(4.0),
                align_items: AlignItems::Center,
                ..default()
            })
            .with_children(|col| {
                col.spawn(crate::ui::widgets::label(Tr::new(hand), theme::BODY_SIZE, theme::TEXT));
                col.spawn(Node { column_gap: Val::Px(6.0), align_items: AlignItems::End, ..default() }).with_children(
                    |h| {
                        for n in fingers {
                            let done = v.work.attempts.iter().rev().find(|a| a.finger.number() == n);
                            let colour = match done.map(|a| &a.result) {
                                Some(FingerResult::Print { quality, .. }) if *quality >= procedure(v).min_quality => {
                                    theme::OK
                                }
                                Some(_) => theme::ERROR,
                                None if next.map(Finger::number) == Some(n) => theme::PRIMARY,
                                None => theme::PENDING,
                            };
                            // Thumbs are short and wide, the middle finger the tallest.
                            let tall = [0.0, 56.0, 80.0, 88.0, 80.0, 64.0][usize::from((n - 1) % 5 + 1)];
                            h.spawn((
                                Node {
                                    width: Val::Px(if n % 5 == 1 { 36.0 } else { 28.0 }),
                                    height: Val::Px(tall),
                                    border: UiRect::all(Val::Px(2.0)),
                                    border_radius: BorderRadius::all(Val::Px(12.0)),
                                    ..default()
                                },
                                BackgroundColor(colour),
                                BorderColor::all(theme::KEY_BORDER),
                            ));
                        }
                    },
                );
            });
        }
    });
}

/// The form's keys of a finger's exception.
const EXCEPTION: &str = "fingers.exception";
const EVIDENCE: &str = "fingers.injury_evidence";
const HOSPITAL: &str = "fingers.hospital";
const GRADE: &str = "fingers.hospital_grade";
const ISSUED: &str = "fingers.certificate_date";
const NOTE: &str = "fingers.other_note";

/// A finger that cannot give a print for another cause than being missing: injured (the
/// officer judged it, or a hospital of grade II or above certified it), or another reason,
/// written down. What is recorded is checked by core's own rule at once. Returns whether the
/// one chosen is filled enough to record.
fn exceptions(v: &View, ui: &mut ChildSpawnerCommands) -> bool {
    let kind = v.form.get(EXCEPTION);
    let row = || Node { column_gap: Val::Px(12.0), row_gap: Val::Px(12.0), flex_wrap: FlexWrap::Wrap, ..default() };
    ui.spawn(row()).with_children(|r| {
        r.spawn(choice_button(Act::Pick(EXCEPTION, "injured"), Tr::new("visit.fingers.injured"), kind == "injured"));
        r.spawn(choice_button(Act::Pick(EXCEPTION, "other"), Tr::new("visit.fingers.other"), kind == "other"));
    });
    match kind {
        "injured" => {
            let evidence = v.form.get(EVIDENCE);
            ui.spawn(row()).with_children(|r| {
                let officer = Act::Pick(EVIDENCE, "officer");
                r.spawn(choice_button(officer, Tr::new("visit.fingers.injury_officer"), evidence == "officer"));
                let certificate = Act::Pick(EVIDENCE, "certificate");
                let tr = Tr::new("visit.fingers.injury_certificate");
                r.spawn(choice_button(certificate, tr, evidence == "certificate"));
            });
            if evidence == "certificate" {
                line(ui, Tr::new("visit.fingers.certificate_rule"));
                ui.spawn(text_field(HOSPITAL, Tr::new("visit.fingers.hospital"), 40));
                let grade = v.form.get(GRADE);
                ui.spawn(row()).with_children(|r| {
                    r.spawn(choice_button(Act::Pick(GRADE, "2"), Tr::new("visit.fingers.grade2"), grade == "2"));
                    r.spawn(choice_button(Act::Pick(GRADE, "3"), Tr::new("visit.fingers.grade3"), grade == "3"));
                });
                ui.spawn(text_field(ISSUED, Tr::new("visit.fingers.certificate_date"), 8));
            }
            !evidence.is_empty()
        }
        "other" => {
            ui.spawn(text_field(NOTE, Tr::new("visit.fingers.other_note"), 80));
            true
        }
        _ => false,
    }
}

/// The exception `kind` ("missing", or "record": what the form says) for `finger`, checked as
/// core checks it, or what is wrong with it.
pub(super) fn exception(
    form: &Form,
    kind: &str,
    finger: Finger,
    p: &Procedure,
    today: time::Date,
) -> Result<Attempt, Tr> {
    let result = match (kind, form.get(EXCEPTION), form.get(EVIDENCE)) {
        ("missing", ..) => NoPrint::Missing,
        (_, "injured", "officer") => NoPrint::Injured { evidence: InjuryEvidence::Officer },
        (_, "injured", "certificate") => {
            let grade = match form.get(GRADE) {
                "2" => HospitalGrade::Two,
                "3" => HospitalGrade::Three,
                _ => return Err(Tr::new("visit.fingers.grade_missing")),
            };
            let issued_on = doorstep_core::date::parse_yyyymmdd(form.get(ISSUED).trim())
                .ok_or_else(|| Tr::new("visit.fingers.date_invalid"))?;
            let hospital = form.get(HOSPITAL).trim().to_string();
            NoPrint::Injured {
                evidence: InjuryEvidence::Certificate(HospitalCertificate { hospital, grade, issued_on }),
            }
        }
        (_, "other", _) => NoPrint::Other { note: form.get(NOTE).trim().to_string() },
        _ => return Err(Tr::new("visit.fingers.exception_missing")),
    };
    let attempt = Attempt { finger, result: FingerResult::NoPrint(result) };
    doorstep_core::fingerprint::check_attempt(&attempt, p, today)
        .map_err(|e| Tr::message(doorstep_core::Localize::message(&e)))?;
    Ok(attempt)
}

/// Empties the exception chosen, its evidence and its note, for the next finger: the officer
/// says again, for each finger, whether a certificate names it. The certificate's hospital,
/// grade and date stay filled: one certificate names every finger it covers, and both hands in
/// casts is ten fingers, not ten certificates typed again.
pub(super) fn clear(form: &mut Form) {
    for key in [EXCEPTION, EVIDENCE, NOTE] {
        form.set(key, "");
    }
    if form.focus.is_some_and(|f| [HOSPITAL, ISSUED, NOTE].contains(&f)) {
        form.focus = None;
    }
}

/// Blanks the images of `prints` in the visit's draft, and keeps no finger done.
pub(super) fn forget_prints(drafts: &Drafts, visit: &str, prints: &[Attempt]) {
    for a in prints {
        drafts.save(visit, &part::finger(a.finger.number()), Vec::new());
    }
    drafts.save(visit, part::PRINTS_IN_HAND, Vec::new());
}

/// Keeps the fingers done at the fingerprint step in the visit's draft, with their templates
/// and whose they are.
pub(super) fn keep_prints(
    drafts: &Drafts,
    visit: &doorstep_core::Visit,
    attempts: &[Attempt],
    templates: &[(Finger, Vec<u8>)],
) {
    let Some(applicant) = crate::visit_flow::applicant_tag(visit) else { return };
    let kept =
        crate::visit_flow::PrintsInHand { attempts: attempts.to_vec(), templates: templates.to_vec(), applicant };
    match serde_json::to_vec(&kept) {
        Ok(bytes) => drafts.save(&visit.id, part::PRINTS_IN_HAND, bytes),
        Err(e) => error!("the fingers done cannot be kept: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use doorstep_core::fingerprint::Finger;

    /// Each exception as the form gives it: recorded, or refused with the reason's key (the
    /// screen's own, or core's rule).
    #[test]
    fn a_fingers_exception_is_checked_as_it_is_entered() {
        let today = time::macros::date!(2026 - 12 - 04);
        let p = Procedure { min_quality: 40 };
        let certificate = [(EXCEPTION, "injured"), (EVIDENCE, "certificate"), (HOSPITAL, "测试医院")];
        let with = |extra: &[(&'static str, &'static str)]| [&certificate[..], extra].concat();
        type Fields = Vec<(&'static str, &'static str)>;
        let cases: Vec<(&str, Fields, Result<&str, &str>)> = vec![
            ("missing", vec![], Ok("no-print.missing")),
            ("record", vec![], Err("visit.fingers.exception_missing")),
            ("record", vec![(EXCEPTION, "injured")], Err("visit.fingers.exception_missing")),
            ("record", vec![(EXCEPTION, "injured"), (EVIDENCE, "officer")], Ok("no-print.injured")),
            ("record", with(&[]), Err("visit.fingers.grade_missing")),
            ("record", with(&[(GRADE, "3"), (ISSUED, "2026-03-01")]), Err("visit.fingers.date_invalid")),
            ("record", with(&[(GRADE, "3"), (ISSUED, "20260231")]), Err("visit.fingers.date_invalid")),
            ("record", with(&[(GRADE, "2"), (ISSUED, "20261204")]), Ok("no-print.injured-certified")),
            ("record", with(&[(GRADE, "2"), (ISSUED, "20261205")]), Err("error.fingerprint.certificate-in-future")),
            (
                "record",
                vec![
                    (EXCEPTION, "injured"),
                    (EVIDENCE, "certificate"),
                    (HOSPITAL, "  "),
                    (GRADE, "3"),
                    (ISSUED, "20260301"),
                ],
                Err("error.fingerprint.certificate-incomplete"),
            ),
            ("record", vec![(EXCEPTION, "other"), (NOTE, "  ")], Err("error.fingerprint.description-missing")),
            ("record", vec![(EXCEPTION, "other"), (NOTE, "石膏固定")], Ok("no-print.other")),
        ];
        for (kind, fields, want) in cases {
            let mut form = Form::default();
            for (k, v) in &fields {
                form.set(k, *v);
            }
            let got = match exception(&form, kind, Finger::RIGHT_THUMB, &p, today) {
                Ok(Attempt { finger, result: FingerResult::NoPrint(n) }) => {
                    assert_eq!(finger, Finger::RIGHT_THUMB);
                    Ok(n.key())
                }
                Ok(other) => panic!("{other:?}"),
                Err(tr) => Err(tr.message.as_ref().map_or(tr.key, |m| m.key)),
            };
            assert_eq!(got, want, "{kind} {fields:?}");
        }
        // Cleared for the next finger: the exception chosen, its evidence and its note; the
        // certificate's words stay for the next finger it covers, once the officer says so.
        let mut form = Form::default();
        for (k, v) in with(&[(GRADE, "2"), (ISSUED, "20261204"), (NOTE, "石膏固定")]) {
            form.set(k, v);
        }
        clear(&mut form);
        let kept = [EXCEPTION, NOTE, EVIDENCE, HOSPITAL, GRADE, ISSUED].map(|k| form.get(k));
        assert_eq!(kept, ["", "", "", "测试医院", "2", "20261204"]);
    }
}
