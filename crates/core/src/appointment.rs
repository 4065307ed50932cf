//! Appointments made in advance (预约): who, for what, when and where. A visit can start from
//! one, with the applicant and services filled in, and the appointment then records that it
//! was served.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::applicant::ApplicantInput;
use crate::id_number::{CitizenId, IdNumberError};
use crate::name::{ChineseName, NameError};
use crate::phone::{PhoneError, PhoneNumber};
use crate::service::Service;
use crate::text::{Localize, Message};
use crate::visit::{Identification, ServicesInput, Visit, VisitError, VisitMode, VisitStart};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum AppointmentStatus {
    Booked,
    Served {
        visit: String,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    Cancelled {
        reason: String,
    },
    NoShow,
}

/// An appointment as entered by the back office.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentInput {
    pub id: String,
    pub name: String,
    pub id_number: String,
    pub phone: String,
    pub services: Vec<Service>,
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
    /// Where the visit happens (home address, outreach point or hall).
    pub mode: Option<VisitMode>,
    pub address: String,
    pub note: String,
}

impl fmt::Debug for AppointmentInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AppointmentInput({:?}, <redacted>)", self.id)
    }
}

/// A checked appointment. `Debug` hides the person.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    pub id: String,
    pub name: ChineseName,
    pub id_number: CitizenId,
    pub phone: PhoneNumber,
    pub services: Vec<Service>,
    #[serde(with = "time::serde::rfc3339")]
    pub from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub to: OffsetDateTime,
    pub mode: VisitMode,
    pub address: String,
    pub note: String,
    pub status: AppointmentStatus,
}

impl fmt::Debug for Appointment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Appointment({:?}, {:?}, <redacted>)", self.id, self.status)
    }
}

/// The longest window an appointment may have (a home visit "some day this month").
pub const MAX_WINDOW_DAYS: i64 = 31;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppointmentError {
    IdMissing,
    Name(NameError),
    IdNumber(IdNumberError),
    Phone(PhoneError),
    NoServices,
    /// The window is missing, or ends before it starts.
    Window,
    /// The window is not within a year of today, or is longer than [`MAX_WINDOW_DAYS`]: a
    /// slip of the year ("9999" for open-ended), which no visit can keep.
    WindowFar,
    ModeMissing,
    /// A home visit needs the address.
    AddressMissing,
    /// Only a booked appointment can be served, cancelled or missed.
    NotBooked,
    CancelReasonMissing,
    Visit(VisitError),
}

impl Localize for AppointmentError {
    fn message(&self) -> Message {
        match self {
            AppointmentError::IdMissing => Message::new("error.appointment.id-missing"),
            AppointmentError::Name(e) => Message::new("error.appointment.name").with("error", e.message()),
            AppointmentError::IdNumber(e) => Message::new("error.appointment.id-number").with("error", e.message()),
            AppointmentError::Phone(e) => Message::new("error.appointment.phone").with("error", e.message()),
            AppointmentError::NoServices => Message::new("error.appointment.no-services"),
            AppointmentError::Window => Message::new("error.appointment.window"),
            AppointmentError::WindowFar => Message::new("error.appointment.window-far").with("days", MAX_WINDOW_DAYS),
            AppointmentError::ModeMissing => Message::new("error.appointment.mode-missing"),
            AppointmentError::AddressMissing => Message::new("error.appointment.address-missing"),
            AppointmentError::NotBooked => Message::new("error.appointment.not-booked"),
            AppointmentError::CancelReasonMissing => Message::new("error.appointment.cancel-reason-missing"),
            AppointmentError::Visit(e) => e.message(),
        }
    }
}

crate::localized_error!(AppointmentError);

/// How long after its window an appointment is still sent to and kept on its tablet, in days.
pub const KEPT_AFTER_DAYS: i64 = 7;

impl AppointmentInput {
    pub fn validate(&self, today: Date) -> Result<Appointment, AppointmentError> {
        let id = self.id.trim().to_string();
        if id.is_empty() {
            return Err(AppointmentError::IdMissing);
        }
        let name = ChineseName::parse(&self.name).map_err(AppointmentError::Name)?;
        let id_number = CitizenId::parse(&self.id_number, today).map_err(AppointmentError::IdNumber)?;
        let phone = PhoneNumber::parse(&self.phone).map_err(AppointmentError::Phone)?;
        if self.services.is_empty() {
            return Err(AppointmentError::NoServices);
        }
        let (Some(from), Some(to)) = (self.from, self.to) else {
            return Err(AppointmentError::Window);
        };
        if to <= from {
            return Err(AppointmentError::Window);
        }
        let year = time::Duration::days(366);
        let day_start = today.midnight().assume_offset(from.offset());
        if (to - from) > time::Duration::days(MAX_WINDOW_DAYS) || from < day_start - year || to > day_start + year {
            return Err(AppointmentError::WindowFar);
        }
        let mode = self.mode.clone().ok_or(AppointmentError::ModeMissing)?;
        let address = self.address.trim().to_string();
        if matches!(mode, VisitMode::Home { .. }) && address.is_empty() {
            return Err(AppointmentError::AddressMissing);
        }
        Ok(Appointment {
            id,
            name,
            id_number,
            phone,
            services: self.services.clone(),
            from,
            to,
            mode,
            address,
            note: self.note.trim().to_string(),
            status: AppointmentStatus::Booked,
        })
    }
}

/// What a visit started from an appointment begins with, for the screens to show and the
/// officer to confirm (the card reader or the documents still establish the identity).
#[derive(Clone, PartialEq, Eq)]
pub struct Prefill {
    pub identification: Identification,
    pub services: ServicesInput,
    pub phone: String,
    pub address: String,
}

impl fmt::Debug for Prefill {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Prefill(<redacted>)")
    }
}

impl Appointment {
    /// Starts a visit for this appointment, in its mode, with its data to prefill.
    pub fn start_visit(
        &self,
        visit_id: impl Into<String>,
        officer: impl Into<String>,
        now: OffsetDateTime,
    ) -> Result<(Visit, Prefill), AppointmentError> {
        if self.status != AppointmentStatus::Booked {
            return Err(AppointmentError::NotBooked);
        }
        let start = VisitStart {
            id: visit_id.into(),
            officer: officer.into(),
            mode: self.mode.clone(),
            appointment: Some(self.id.clone()),
        };
        let visit = Visit::start(start, now).map_err(AppointmentError::Visit)?;
        let prefill = Prefill {
            identification: Identification {
                applicant: ApplicantInput {
                    name: self.name.as_str().to_string(),
                    id_number: self.id_number.as_str().to_string(),
                    ..Default::default()
                },
                ..Default::default()
            },
            services: ServicesInput { services: self.services.clone(), facts: Default::default() },
            phone: self.phone.e164(),
            address: self.address.clone(),
        };
        Ok((visit, prefill))
    }

    /// Whether a tablet still needs it at `now` (unix seconds): until [`KEPT_AFTER_DAYS`] after
    /// its window, whatever became of it (one still booked a week after its window was missed:
    /// the person's details go with it; the hub keeps it for the back office). The hub sends a
    /// tablet only these, and the tablet keeps only these.
    pub fn still_needed(&self, now: i64) -> bool {
        self.to.unix_timestamp() >= now - KEPT_AFTER_DAYS * 86_400
    }

    /// Is `now` inside the booked window?
    pub fn is_due(&self, now: OffsetDateTime) -> bool {
        self.from <= now && now <= self.to
    }

    fn settle(&mut self, status: AppointmentStatus) -> Result<(), AppointmentError> {
        if self.status != AppointmentStatus::Booked {
            return Err(AppointmentError::NotBooked);
        }
        self.status = status;
        Ok(())
    }

    pub fn served(&mut self, visit: &str, at: OffsetDateTime) -> Result<(), AppointmentError> {
        self.settle(AppointmentStatus::Served { visit: visit.to_string(), at })
    }

    pub fn cancel(&mut self, reason: &str) -> Result<(), AppointmentError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(AppointmentError::CancelReasonMissing);
        }
        self.settle(AppointmentStatus::Cancelled { reason: reason.to_string() })
    }

    pub fn no_show(&mut self) -> Result<(), AppointmentError> {
        self.settle(AppointmentStatus::NoShow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::visit::{HomeReason, Step};
    use time::macros::{date, datetime};

    fn input() -> AppointmentInput {
        AppointmentInput {
            id: "apt-1".into(),
            name: "测试".into(),
            id_number: "11010519491231002X".into(),
            phone: "010-65123456".into(),
            services: vec!["passport".parse().unwrap()],
            from: Some(datetime!(2026-12-05 09:00 +8)),
            to: Some(datetime!(2026-12-05 11:00 +8)),
            mode: Some(VisitMode::Home { reason: HomeReason::Bedbound }),
            address: "测试市测试路1号".into(),
            note: String::new(),
        }
    }

    #[test]
    fn appointments_are_checked() {
        let today = date!(2026 - 12 - 04);
        let cases = [
            (AppointmentInput { id: " ".into(), ..input() }, AppointmentError::IdMissing),
            (AppointmentInput { services: vec![], ..input() }, AppointmentError::NoServices),
            (AppointmentInput { to: Some(datetime!(2026-12-05 08:00 +8)), ..input() }, AppointmentError::Window),
            // Open-ended by a year at the calendar's edge, a year's slip, or a window of months.
            (AppointmentInput { to: Some(datetime!(9999-12-31 23:59:59 UTC)), ..input() }, AppointmentError::WindowFar),
            (
                AppointmentInput {
                    from: Some(datetime!(2062-12-05 09:00 +8)),
                    to: Some(datetime!(2062-12-05 10:00 +8)),
                    ..input()
                },
                AppointmentError::WindowFar,
            ),
            (AppointmentInput { to: Some(datetime!(2027-03-05 09:00 +8)), ..input() }, AppointmentError::WindowFar),
            (AppointmentInput { mode: None, ..input() }, AppointmentError::ModeMissing),
            (AppointmentInput { address: String::new(), ..input() }, AppointmentError::AddressMissing),
            (AppointmentInput { phone: "1".into(), ..input() }, AppointmentError::Phone(PhoneError::NotAPhoneNumber)),
        ];
        for (i, want) in cases {
            assert_eq!(i.validate(today), Err(want.clone()), "{want:?}");
        }
        // An outreach appointment needs no address.
        let outreach = AppointmentInput {
            mode: Some(VisitMode::Outreach { point: "测试商会".into() }),
            address: String::new(),
            ..input()
        };
        assert!(outreach.validate(today).is_ok());
    }

    #[test]
    fn a_tablet_needs_every_appointment_until_a_week_after_its_window() {
        let end = datetime!(2026-12-05 11:00 +8);
        let booked = || input().validate(date!(2026 - 12 - 04)).unwrap();
        let day = 86_400;
        let at = |days: i64| end.unix_timestamp() + days * day;
        let mut served = booked();
        served.served("visit-1", end).unwrap();
        let mut cancelled = booked();
        cancelled.cancel("申请人改期").unwrap();
        let cases = [
            (booked(), at(-1), true, "booked, tomorrow"),
            (booked(), at(0), true, "booked, in its window"),
            (booked(), at(KEPT_AFTER_DAYS), true, "booked, missed a week ago"),
            (booked(), at(30), false, "booked, missed a month ago: dropped"),
            (served.clone(), at(KEPT_AFTER_DAYS), true, "served, a week after"),
            (served, at(KEPT_AFTER_DAYS) + 1, false, "served, a second more"),
            (cancelled.clone(), at(1), true, "cancelled, the day after"),
            (cancelled, at(8), false, "cancelled, eight days after"),
        ];
        for (a, now, kept, what) in cases {
            assert_eq!(a.still_needed(now), kept, "{what}");
        }
    }

    #[test]
    fn a_visit_starts_from_an_appointment_and_serves_it_once() {
        let mut a = input().validate(date!(2026 - 12 - 04)).unwrap();
        let now = datetime!(2026-12-05 09:30 +8);
        assert!(a.is_due(now));
        let (visit, prefill) = a.start_visit("visit-9", "officer-1", now).unwrap();
        assert_eq!(visit.appointment.as_deref(), Some("apt-1"));
        assert_eq!(visit.step(), Step::Applicant);
        assert_eq!(visit.mode, VisitMode::Home { reason: HomeReason::Bedbound });
        assert_eq!(prefill.identification.applicant.id_number, "11010519491231002X");
        assert_eq!(prefill.services.services, a.services);
        a.served("visit-9", now).unwrap();
        assert_eq!(a.served("visit-9", now), Err(AppointmentError::NotBooked));
        assert!(matches!(a.start_visit("visit-10", "officer-1", now), Err(AppointmentError::NotBooked)));
        let mut b = input().validate(date!(2026 - 12 - 04)).unwrap();
        assert_eq!(b.cancel(" "), Err(AppointmentError::CancelReasonMissing));
        b.cancel("申请人住院").unwrap();
        assert_eq!(b.no_show(), Err(AppointmentError::NotBooked));
    }

    #[test]
    fn debug_hides_the_person() {
        let a = input().validate(date!(2026 - 12 - 04)).unwrap();
        let (_, prefill) = a.start_visit("v", "o", datetime!(2026-12-05 09:30 +8)).unwrap();
        let s = format!("{a:?} {:?} {prefill:?}", input());
        assert!(!s.contains("测试") && !s.contains("11010519491231002X") && !s.contains("12345678"), "{s}");
    }
}
