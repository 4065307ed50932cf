//! The document the applicant already holds, on the applicant step: a valid 往来港澳通行证,
//! 往来台湾通行证 or passport, recorded with its number and expiry, so that an endorsement can be
//! applied for on it without a new permit (core checks the endorsement against it). Typed, or
//! filled by scanning its machine-readable zone with the camera.

use bevy::prelude::*;
use doorstep_core::applicant::HeldDocument;
use doorstep_core::text::Message;
use doorstep_core::{DocumentKind, DocumentNumber, Localize};

use super::{Act, View, line};
use crate::tasks::Waker;
use crate::ui::form::{Form, choice_button, text_field};
use crate::ui::i18n::Tr;
use crate::ui::theme;
use crate::visit_flow::VisitFlow;

/// The OCR-B font the machine-readable zone is printed in (ICAO 9303), public domain, from
/// Debian's fonts-ocr-b (licence in assets/fonts/).
const OCR_B: &[u8] = include_bytes!("../../../assets/fonts/OCRB.otf");
/// How long a scan looks for a zone it can read, frame after frame.
const SCAN_FOR: std::time::Duration = std::time::Duration::from_secs(8);

/// The camera documents are shown to: the unit's camera, or on a demo unit the replay of
/// `assets/demo/documents/` (a made-up permit).
#[derive(Resource, Debug, Clone)]
pub struct DocumentCamera(pub super::CameraChoice);

/// The applicant holds a document to record (on or off).
pub const ON: &str = "held.on";
/// Which: "hk-macao-permit", "taiwan-permit" or "passport".
pub const KIND: &str = "held.kind";
pub const NUMBER: &str = "held.number";
/// Its expiry, YYYYMMDD.
pub const EXPIRY: &str = "held.expiry";
/// Next was refused for what is written here: the screen says why under the fields.
pub const CHECKED: &str = "held.checked";
/// The holder's birth date as the scanned zone gives it (YYMMDD): checked against the
/// applicant's ID number at Next, whenever that was typed.
const BIRTH: &str = "held.birth";

/// The kinds offered, by form value.
const KINDS: [(&str, DocumentKind); 3] = [
    ("hk-macao-permit", DocumentKind::HkMacaoPermit),
    ("taiwan-permit", DocumentKind::TaiwanPermit),
    ("passport", DocumentKind::Passport),
];

/// The form value of a kind (for a scan that found one), if it is offered here.
pub fn form_value(kind: DocumentKind) -> Option<&'static str> {
    KINDS.iter().find(|(_, k)| *k == kind).map(|(v, _)| *v)
}

/// The document the form describes: none when not switched on, else all three of kind,
/// number (checked by core's rules for that kind) and expiry (a real day), or why not.
pub fn held(form: &Form) -> Result<Option<HeldDocument>, Message> {
    if !form.is_on(ON) {
        return Ok(None);
    }
    let kind = KINDS
        .iter()
        .find(|(v, _)| form.get(KIND) == *v)
        .map(|(_, k)| *k)
        .ok_or_else(|| Message::new("visit.held.no_kind"))?;
    let number = DocumentNumber::parse(kind, form.get(NUMBER)).map_err(|e| e.message())?;
    let expiry = doorstep_core::date::parse_yyyymmdd(form.get(EXPIRY).trim())
        .ok_or_else(|| Message::new("visit.held.bad_expiry"))?;
    if !theirs(form, form.get(BIRTH)) {
        return Err(Message::new("visit.held.scan_not_theirs"));
    }
    Ok(Some(HeldDocument { kind, number: Some(number), expiry: Some(expiry) }))
}

/// Whether a zone's birth date (YYMMDD, as written in it, so a holder of a hundred is not taken
/// for a child) agrees with the applicant's ID number on the form; true when either is unknown.
fn theirs(form: &Form, birth: &str) -> bool {
    let today = crate::settings::now().date();
    let id = doorstep_core::CitizenId::parse(form.get(super::forms::key::ID_NUMBER).trim(), today).ok();
    let Some(id) = id.filter(|_| birth.len() == 6) else { return true };
    yymmdd(id.birth_date()) == birth
}

/// A date as an MRZ writes it.
fn yymmdd(date: time::Date) -> String {
    let (y, m, d) = date.to_calendar_date();
    format!("{:02}{:02}{d:02}", y.rem_euclid(100), m as u8)
}

/// The switch, and when on, the kind, number, expiry and the scan; what is wrong once Next was
/// refused for it.
pub fn view(v: &View, ui: &mut ChildSpawnerCommands) {
    let on = v.form.is_on(ON);
    ui.spawn(choice_button(Act::Toggle(ON), Tr::new("visit.held.on"), on));
    if !on {
        return;
    }
    ui.spawn(Node { column_gap: Val::Px(12.0), flex_wrap: FlexWrap::Wrap, ..default() }).with_children(|row| {
        for (value, kind) in KINDS {
            row.spawn(choice_button(Act::Pick(KIND, value), Tr::new(kind.key()), v.form.get(KIND) == value));
        }
    });
    line(ui, v.work.scan_line());
    ui.spawn(Node::default()).with_child(crate::ui::form::action_button(
        Act::ScanMrz,
        Tr::new("visit.held.scan"),
        false,
    ));
    ui.spawn(text_field(NUMBER, Tr::new("visit.held.number"), 12));
    ui.spawn(text_field(EXPIRY, Tr::new("visit.held.expiry"), 8));
    if v.form.pressed(CHECKED) > 0
        && let Err(why) = held(v.form)
    {
        ui.spawn(crate::ui::widgets::label(Tr::message(why), theme::BODY_SIZE, theme::ERROR));
    }
}

/// Starts a scan when asked, and takes what it read: a document of a kind offered here whose
/// holder was born on the applicant's birth day fills the fields; anything else says why.
#[allow(clippy::too_many_arguments)]
pub fn scan(
    mut acts: MessageReader<Act>,
    flow: Res<VisitFlow>,
    mut form: ResMut<Form>,
    mut work: ResMut<super::Work>,
    camera: Option<Res<DocumentCamera>>,
    waker: Res<Waker>,
) {
    let Some(visit) = &flow.visit else {
        acts.clear();
        return;
    };
    for act in acts.read() {
        if *act != Act::ScanMrz || work.scan.is_some() || visit.step() != doorstep_core::Step::Applicant {
            continue;
        }
        let Some(camera) = camera.as_deref().map(|c| c.0.clone()) else {
            work.scan_note = Some(Tr::new("visit.photo.no_camera"));
            work.touch();
            continue;
        };
        work.scan = Some(crate::tasks::spawn("mrz", &waker, move || read_zone(&camera)));
        work.scan_note = None;
        work.touch();
    }
    let Some(task) = &work.scan else { return };
    let Some(result) = task.finished(|| Err(Tr::new("visit.task_failed"))) else { return };
    work.scan = None;
    work.touch();
    // Read after the applicant step was left: too late to fill it.
    if visit.step() != doorstep_core::Step::Applicant {
        return;
    }
    let record = match result {
        Ok(r) => r,
        Err(why) => {
            work.scan_note = Some(why);
            return;
        }
    };
    let kind = match record.document_code.as_str() {
        "CS" | "CD" => DocumentKind::HkMacaoPermit,
        code if code.starts_with('P') && record.issuing_state == "CHN" => DocumentKind::Passport,
        _ => {
            work.scan_note = Some(Tr::new("visit.held.scan_other"));
            return;
        }
    };
    // Someone else's document is not the applicant's: the birth days must agree (now, and at
    // Next against an ID number typed after the scan).
    let today = crate::settings::now().date();
    let birth = yymmdd(record.birth_date);
    if !theirs(&form, &birth) {
        work.scan_note = Some(Tr::new("visit.held.scan_not_theirs"));
        return;
    }
    form.set(BIRTH, birth);
    let Some(value) = form_value(kind) else { return };
    if !form.is_on(ON) {
        form.toggle(ON);
    }
    form.choose(KIND, value);
    form.set(NUMBER, record.document_number.clone());
    let (y, m, d) = record.expiry_date.to_calendar_date();
    form.set(EXPIRY, format!("{y:04}{:02}{d:02}", m as u8));
    let read = Tr::new("visit.held.scanned").with_key("kind", kind.key()).with("number", &record.document_number);
    work.scan_note = Some(if record.is_expired(today) {
        Tr::new("visit.held.scanned_expired").with_key("kind", kind.key())
    } else {
        read
    });
}

/// Reads frames until two in a row show the same machine-readable zone and core's parser takes
/// it (lengths and check digits), for [`SCAN_FOR`] at most (a replayed folder twice round).
fn read_zone(camera: &super::CameraChoice) -> Result<doorstep_core::mrz::MrzRecord, Tr> {
    let reader = doorstep_mrz_ocr::MrzReader::new(OCR_B).map_err(|e| {
        error!("the OCR-B font: {e}");
        Tr::new("visit.task_failed")
    })?;
    let mut frames = camera.open()?;
    let started = std::time::Instant::now();
    let today = crate::settings::now().date();
    let parse = |zone: &[String]| {
        let lines: Vec<&str> = zone.iter().map(String::as_str).collect();
        doorstep_core::mrz::parse(&lines, today)
    };
    let limit = frames.replayed().map_or(usize::MAX, |n| 2 * n.max(1));
    let mut agreement = doorstep_mrz_ocr::Agreement::default();
    for _ in 0..limit {
        if started.elapsed() > SCAN_FOR {
            break;
        }
        let frame = image::DynamicImage::ImageRgb8(frames.next()?);
        // A camera at its highest resolution (4K): read at 1920 wide at most, which is time
        // enough for an MRZ's 44 characters and keeps a frame's reading short.
        let frame = if frame.width() > 1920 {
            frame.resize(1920, 1920 * frame.height() / frame.width(), image::imageops::FilterType::Triangle)
        } else {
            frame
        };
        let grey = frame.to_luma8();
        let zones = doorstep_mrz_ocr::zones(&reader.read(&grey));
        if let Some(zone) = agreement.feed(zones, |z| parse(z).is_ok())
            && let Ok(record) = parse(&zone)
        {
            return Ok(record);
        }
    }
    Err(Tr::new("visit.held.scan_failed"))
}
