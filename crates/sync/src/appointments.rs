//! The unit's appointments over the vault: [`download`] fetches this unit's appointments from
//! the hub into the vault (sealed there for offline use), [`send_served`] sends the served
//! notices the vault queued (made after a visit's seal, with or without coverage) and drops
//! each only once the hub has answered it. [`sync`] does both, notices first.
//!
//! The unit's screens call the vault for the rest: `Vault::appointments` for the list,
//! core's `Appointment::start_visit` to begin a visit from one, `Vault::note_served` after
//! its seal.

use doorstep_core::appointment::Appointment;
use doorstep_vault::Vault;

use crate::client::SyncError;
use crate::escrow::{EscrowError, Hub};

/// How long after its window an appointment no longer booked is kept on the unit, in days.
pub const KEPT_AFTER_DAYS: i64 = 7;

/// Whether the unit still keeps `a` at `now`: until [`KEPT_AFTER_DAYS`] after its window,
/// whatever became of it (one still booked a week after its window was missed: the person's
/// details go with it; the hub keeps it for the back office).
pub fn still_needed(a: &Appointment, now: i64) -> bool {
    a.to.unix_timestamp() >= now - KEPT_AFTER_DAYS * 86_400
}

/// What [`send_served`] did with each notice.
#[derive(Debug, Default)]
pub struct ServedReport {
    /// The hub marked these served (or had, by the same visit): dropped from the vault.
    pub sent: Vec<String>,
    /// The hub refused these for good (cancelled or served by another visit there, another
    /// device's, unknown): dropped from the vault, with the refusal, for the officer to hear.
    pub refused: Vec<(String, SyncError)>,
    /// Not answered this time (no coverage, the hub failed): still queued, sent next time.
    pub kept: Vec<(String, SyncError)>,
    /// The connection failed, so the rest was left for the next time.
    pub stopped: bool,
}

/// What a sync of appointments did.
#[derive(Debug, Default)]
pub struct AppointmentsReport {
    pub served: ServedReport,
    /// The appointments now kept in the vault (`None` when the download did not happen).
    pub kept: Option<Vec<Appointment>>,
}

/// A refusal of the notice itself, which sending again cannot change. (A refusal of the
/// device, `revoked-device` or `unknown-device`, or of the notice's version, is not: the notice
/// stays for when the unit is enrolled again or updated.)
fn is_final(e: &SyncError) -> bool {
    matches!(e, SyncError::Refused { code, .. } if ["not-booked", "other-device", "unknown-appointment"].contains(&code.as_str()))
        || matches!(e, SyncError::BadAppointmentId(_))
}

/// Fetches this unit's appointments and keeps them in the vault in place of the last (a
/// notice still queued shows its appointment served). Returns them as kept.
pub fn download(vault: &mut Vault, hub: &mut Hub, now: i64) -> Result<Vec<Appointment>, EscrowError> {
    let list = hub.client.appointments()?;
    if list.device != vault.device_id() {
        return Err(EscrowError::Hub(SyncError::Protocol(format!(
            "the hub sent the appointments of {}, not of this unit ({})",
            list.device,
            vault.device_id()
        ))));
    }
    // The tablet carries no one's details longer than it needs them: what is no longer booked
    // goes a week after its window.
    let kept: Vec<Appointment> = list.appointments.into_iter().filter(|a| still_needed(a, now)).collect();
    vault.store_appointments(&kept, now)?;
    Ok(vault.appointments()?)
}

/// Sends every queued served notice, oldest first; each is dropped from the vault only once
/// the hub has answered it. A connection failure ends the round: the rest wait.
pub fn send_served(vault: &mut Vault, hub: &mut Hub, now: i64) -> Result<ServedReport, EscrowError> {
    let mut report = ServedReport::default();
    for n in vault.served_notices()? {
        match hub.client.served(&n.appointment_id, &n.visit_id, n.at) {
            Ok(_) => {
                vault.served_sent(&n.appointment_id, now)?;
                report.sent.push(n.appointment_id);
            }
            Err(e) if is_final(&e) => {
                vault.served_sent(&n.appointment_id, now)?;
                report.refused.push((n.appointment_id, e));
            }
            Err(e) => {
                let stop = matches!(e, SyncError::Connection(_));
                report.kept.push((n.appointment_id, e));
                if stop {
                    report.stopped = true;
                    break;
                }
            }
        }
    }
    Ok(report)
}

/// Sends the queued served notices, then (when the connection held) fetches the
/// appointments.
pub fn sync(vault: &mut Vault, hub: &mut Hub, now: i64) -> Result<AppointmentsReport, EscrowError> {
    let served = send_served(vault, hub, now)?;
    if served.stopped {
        return Ok(AppointmentsReport { served, kept: None });
    }
    let kept = download(vault, hub, now)?;
    Ok(AppointmentsReport { served, kept: Some(kept) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use doorstep_core::appointment::{AppointmentInput, AppointmentStatus};
    use doorstep_core::visit::{HomeReason, VisitMode};
    use time::macros::{date, datetime};

    fn booked(to: time::OffsetDateTime) -> Appointment {
        AppointmentInput {
            id: "apt-test".into(),
            name: "测试".into(),
            id_number: "11010519491231002X".into(),
            phone: "13800138000".into(),
            services: vec!["passport".parse().unwrap()],
            from: Some(to - time::Duration::hours(2)),
            to: Some(to),
            mode: Some(VisitMode::Home { reason: HomeReason::Age }),
            address: "测试市测试路1号".into(),
            note: String::new(),
        }
        .validate(date!(2026 - 01 - 01))
        .unwrap()
    }

    #[test]
    fn the_unit_drops_every_appointment_a_week_after_its_window() {
        let end = datetime!(2026-12-05 11:00 +8);
        let day = 86_400;
        let at = |days: i64| end.unix_timestamp() + days * day;
        let mut served = booked(end);
        served.served("visit-1", end).unwrap();
        let mut cancelled = booked(end);
        cancelled.cancel("申请人改期").unwrap();
        assert_eq!(cancelled.status, AppointmentStatus::Cancelled { reason: "申请人改期".into() });
        let cases = [
            (booked(end), at(0), true, "booked, in its window"),
            (booked(end), at(KEPT_AFTER_DAYS), true, "booked, missed a week ago"),
            (booked(end), at(30), false, "booked, missed a month ago: dropped"),
            (served.clone(), at(KEPT_AFTER_DAYS), true, "served, a week after"),
            (served, at(KEPT_AFTER_DAYS) + 1, false, "served, a second more"),
            (cancelled.clone(), at(1), true, "cancelled the day after"),
            (cancelled, at(8), false, "cancelled, eight days after"),
        ];
        for (a, now, kept, what) in cases {
            assert_eq!(still_needed(&a, now), kept, "{what}");
        }
    }
}
