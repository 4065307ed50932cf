//! Appointments made in advance (预约), at the hub: the back office adds them (one at a time
//! or from a CSV file), lists and cancels them; each is for one enrolled, unrevoked device,
//! which fetches its own over the API and says when one was served.
//!
//! What an appointment is, and how its status may change, is doorstep-core's
//! (`doorstep_core::appointment`): this module checks the device, spells the command line's
//! and the CSV file's fields into core's input, and applies core's changes to the store
//! through [`Appointments::replace_appointment`], so that two changes at once cannot both
//! win. Nothing here prints or logs a person's data; errors name ids, lines and fields.
//!
//! - [`csv`]: the import file, read line by line with each bad line named;
//! - [`cli`]: `doorstep-hub appointment …`.

pub mod cli;
pub mod csv;

use std::str::FromStr;

use doorstep_core::appointment::{Appointment, AppointmentError, AppointmentInput, AppointmentStatus};
use doorstep_core::service::{Service, ServiceParseError};
use doorstep_core::visit::{HomeReason, VisitMode};
use doorstep_sync::wire;
use time::{Date, OffsetDateTime};

use crate::pki::{Devices, PkiError};
use crate::store::{Appointments, Booked, StoreError};

/// Why the back office's request about appointments was refused. Each names the field, id or
/// device at fault, never a person's data.
#[derive(Debug, thiserror::Error)]
pub enum BookError {
    #[error("no device {0:?} is enrolled at this hub (doorstep-hub status lists them)")]
    UnknownDevice(String),
    #[error("device {0} was revoked: it can serve no appointment")]
    RevokedDevice(String),
    #[error("{0:?} is not an appointment id: 1 to 64 letters, digits, '-' and '_'")]
    BadId(String),
    #[error("{field}: {value:?} is not an RFC 3339 time such as 2026-12-05T09:00:00+08:00")]
    Time { field: &'static str, value: String },
    #[error(
        "{0:?} is not a visit mode: home:age, home:disability, home:bedbound, home:other:TEXT, outreach[:POINT] or hall"
    )]
    Mode(String),
    #[error("an outreach appointment needs its point: outreach:POINT, or the point as its address")]
    OutreachPoint,
    #[error("service {spelling:?}: {error}")]
    Service { spelling: String, error: ServiceParseError },
    #[error(transparent)]
    Invalid(#[from] AppointmentError),
    #[error("appointment id(s) already at the hub or given twice: {}; nothing was added", .0.join(", "))]
    Taken(Vec<String>),
    #[error("no appointment {0}")]
    NoSuchAppointment(String),
    #[error("appointment {id} is {status}, no longer booked")]
    NotBooked { id: String, status: &'static str },
    #[error("{found} fields where the header names {expected}")]
    Columns { found: usize, expected: usize },
    #[error("id {id} is on line {first} already")]
    Repeated { id: String, first: usize },
    #[error("{}", lines_message(.0))]
    Lines(Vec<(usize, BookError)>),
    /// The file's own fault, said within this error's words (not again as its cause).
    #[error("the import file: {0}")]
    File(csv::CsvError),
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl From<csv::CsvError> for BookError {
    fn from(e: csv::CsvError) -> Self {
        BookError::File(e)
    }
}

fn lines_message(lines: &[(usize, BookError)]) -> String {
    let mut out =
        format!("{} refused; nothing was imported:", doorstep_core::text::counted(lines.len() as u64, "line", "lines"));
    for (n, e) in lines {
        out.push_str(&format!("\n  line {n}: {e}"));
    }
    out
}

/// A status's name, as the list and the errors say it.
pub fn status_name(s: &AppointmentStatus) -> &'static str {
    match s {
        AppointmentStatus::Booked => "booked",
        AppointmentStatus::Served { .. } => "served",
        AppointmentStatus::Cancelled { .. } => "cancelled",
        AppointmentStatus::NoShow => "no-show",
    }
}

/// An appointment as written on the command line or in a CSV line, before it is checked.
#[derive(Clone, Default)]
pub struct Written {
    /// Empty: the hub makes one.
    pub id: String,
    pub device: String,
    pub name: String,
    pub id_number: String,
    pub phone: String,
    /// Each as `Service::from_str` reads it (`passport`, `hk-macao-endorsement:g:1x:3m`, …).
    pub services: Vec<String>,
    pub from: String,
    pub to: String,
    pub mode: String,
    pub address: String,
    pub note: String,
}

impl std::fmt::Debug for Written {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Written({:?}, {:?}, <redacted>)", self.id, self.device)
    }
}

/// Reads a visit mode: `home:age`, `home:disability`, `home:bedbound`, `home:other:TEXT`,
/// `outreach:POINT` (or `outreach`, the point then being the address) and `hall`.
pub fn parse_mode(spelling: &str, address: &str) -> Result<VisitMode, BookError> {
    let s = spelling.trim();
    let home = |reason| Ok(VisitMode::Home { reason });
    match s {
        "home:age" => home(HomeReason::Age),
        "home:disability" => home(HomeReason::Disability),
        "home:bedbound" => home(HomeReason::Bedbound),
        "hall" => Ok(VisitMode::Hall),
        "outreach" if !address.trim().is_empty() => Ok(VisitMode::Outreach { point: address.trim().to_string() }),
        "outreach" => Err(BookError::OutreachPoint),
        _ => {
            if let Some(text) = s.strip_prefix("home:other:").map(str::trim).filter(|t| !t.is_empty()) {
                return home(HomeReason::Other { text: text.to_string() });
            }
            if let Some(point) = s.strip_prefix("outreach:").map(str::trim).filter(|p| !p.is_empty()) {
                return Ok(VisitMode::Outreach { point: point.to_string() });
            }
            Err(BookError::Mode(s.to_string()))
        }
    }
}

/// The mode as [`parse_mode`] reads it back.
pub fn mode_spelling(mode: &VisitMode) -> String {
    match mode {
        VisitMode::Home { reason: HomeReason::Age } => "home:age".into(),
        VisitMode::Home { reason: HomeReason::Disability } => "home:disability".into(),
        VisitMode::Home { reason: HomeReason::Bedbound } => "home:bedbound".into(),
        VisitMode::Home { reason: HomeReason::Other { text } } => format!("home:other:{text}"),
        VisitMode::Outreach { point } => format!("outreach:{point}"),
        VisitMode::Hall => "hall".into(),
    }
}

fn time_field(field: &'static str, value: &str) -> Result<Option<OffsetDateTime>, BookError> {
    let v = value.trim();
    if v.is_empty() {
        // core says the window is missing.
        return Ok(None);
    }
    OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
        .map(Some)
        .map_err(|_| BookError::Time { field, value: v.to_string() })
}

/// A new appointment id: `apt-` and 16 random hex digits.
pub fn new_id() -> String {
    let mut tag = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut tag);
    format!("apt-{}", hex::encode(tag))
}

/// Checks that `device` is enrolled and not revoked.
pub fn check_device(devices: &Devices, device: &str) -> Result<(), BookError> {
    match devices.devices.iter().find(|d| d.name == device) {
        None => Err(BookError::UnknownDevice(device.to_string())),
        Some(d) if d.revoked_at_unix.is_some() => Err(BookError::RevokedDevice(device.to_string())),
        Some(_) => Ok(()),
    }
}

/// Checks one written appointment: its device, its id, its fields as core reads them.
pub fn check(written: &Written, devices: &Devices, today: Date, now_unix: i64) -> Result<Booked, BookError> {
    let device = written.device.trim();
    check_device(devices, device)?;
    let id = match written.id.trim() {
        "" => new_id(),
        id if wire::appointment_id_ok(id) => id.to_string(),
        id => return Err(BookError::BadId(id.to_string())),
    };
    let services = written
        .services
        .iter()
        .map(|s| Service::from_str(s.trim()).map_err(|error| BookError::Service { spelling: s.trim().into(), error }))
        .collect::<Result<Vec<_>, _>>()?;
    let input = AppointmentInput {
        id,
        name: written.name.clone(),
        id_number: written.id_number.clone(),
        phone: written.phone.clone(),
        services,
        from: time_field("from", &written.from)?,
        to: time_field("to", &written.to)?,
        mode: match written.mode.trim() {
            "" => None,
            m => Some(parse_mode(m, &written.address)?),
        },
        address: written.address.clone(),
        note: written.note.clone(),
    };
    let appointment = input.validate(today)?;
    Ok(Booked { device: device.to_string(), appointment, added_at_unix: now_unix })
}

/// Adds checked appointments, all or none.
pub fn add(book: &dyn Appointments, new: &[Booked]) -> Result<(), BookError> {
    let taken = book.add_appointments(new)?;
    if taken.is_empty() { Ok(()) } else { Err(BookError::Taken(taken)) }
}

/// Applies core's change `change` to appointment `id`, again if someone changed it meanwhile.
fn change(
    book: &dyn Appointments,
    id: &str,
    change: &dyn Fn(&Booked) -> Result<Option<Appointment>, BookError>,
) -> Result<Booked, BookError> {
    loop {
        let old = book.appointment(id)?.ok_or_else(|| BookError::NoSuchAppointment(id.to_string()))?;
        let Some(appointment) = change(&old)? else { return Ok(old) };
        let new = Booked { appointment, ..old.clone() };
        if book.replace_appointment(&old, &new)? {
            return Ok(new);
        }
    }
}

fn not_booked(b: &Booked) -> BookError {
    BookError::NotBooked { id: b.appointment.id.clone(), status: status_name(&b.appointment.status) }
}

/// The back office cancels a booked appointment, with the reason its device shows.
pub fn cancel(book: &dyn Appointments, id: &str, reason: &str) -> Result<Booked, BookError> {
    change(book, id, &|old| {
        let mut a = old.appointment.clone();
        match a.cancel(reason) {
            Ok(()) => Ok(Some(a)),
            Err(AppointmentError::NotBooked) => Err(not_booked(old)),
            Err(e) => Err(e.into()),
        }
    })
}

/// Why a device's served notice was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServedRefusal {
    /// No appointment has this id (or the visit id is empty).
    NoSuchAppointment,
    /// The appointment is another device's.
    OtherDevice,
    /// It is not booked: served by another visit, cancelled, or missed.
    NotBooked(AppointmentStatus),
    BadVisit,
}

/// A device says it served appointment `id` with `visit` at `at`: marked served by core's
/// rule. The same visit again is answered as the first time (the reply may have been lost);
/// another device's appointment, or one not booked, is refused.
pub fn served(
    book: &dyn Appointments,
    device: &str,
    id: &str,
    visit: &str,
    at: OffsetDateTime,
) -> Result<Result<Booked, ServedRefusal>, StoreError> {
    let visit = visit.trim();
    if visit.is_empty() || visit.len() > 128 {
        return Ok(Err(ServedRefusal::BadVisit));
    }
    loop {
        let Some(old) = book.appointment(id)? else { return Ok(Err(ServedRefusal::NoSuchAppointment)) };
        if old.device != device {
            return Ok(Err(ServedRefusal::OtherDevice));
        }
        if matches!(&old.appointment.status, AppointmentStatus::Served { visit: v, .. } if v == visit) {
            return Ok(Ok(old));
        }
        let mut a = old.appointment.clone();
        if a.served(visit, at).is_err() {
            return Ok(Err(ServedRefusal::NotBooked(old.appointment.status)));
        }
        let new = Booked { appointment: a, ..old.clone() };
        if book.replace_appointment(&old, &new)? {
            return Ok(Ok(new));
        }
    }
}

#[cfg(test)]
mod tests;
