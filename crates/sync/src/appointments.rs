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
    // The tablet carries no one's details longer than it needs them: each goes a week after its
    // window (the hub sends no older one; a hub of an earlier version may).
    let kept: Vec<Appointment> = list.appointments.into_iter().filter(|a| a.still_needed(now)).collect();
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
