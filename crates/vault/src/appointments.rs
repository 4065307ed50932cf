//! The appointments this unit downloaded from its hub, and the notices, not yet sent, that
//! one was served: each sealed under the data key in a file of its own in `appointments/`,
//! so that a copy of the folder without a PIN shows no name or ID number, and an index
//! rebuilt after damage loses none of them.
//!
//! ```text
//! appointments/list.sealed           the list as the hub last sent it (served ones noted here)
//! appointments/served-HEX.sealed     a served notice to send, HEX the appointment id's bytes
//! ```
//!
//! A notice is kept until the hub has answered it (`Vault::served_sent`): one made offline is
//! sent at the next sync, and sending it again is harmless (the hub answers the same visit the
//! same), so the hub learns it exactly once in effect. What an appointment is, and whether it
//! may be served, is doorstep-core's.

use std::fs;
use std::path::PathBuf;

use doorstep_core::appointment::{Appointment, AppointmentStatus};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{APPOINTMENTS, Vault, VaultError, crypto, fsutil};

const LIST: &str = "list.sealed";
const SERVED_PREFIX: &str = "served-";
const SEALED: &str = ".sealed";

/// A served notice waiting for the hub: which appointment, the visit that served it, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServedNotice {
    pub appointment_id: String,
    pub visit_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

impl Vault {
    fn appointments_dir(&self) -> Result<PathBuf, VaultError> {
        let dir = self.dir.join(APPOINTMENTS);
        fsutil::create_dir(&dir)?;
        Ok(dir)
    }

    fn seal_file(&self, name: &str, plain: &[u8]) -> Result<(), VaultError> {
        let sealed = crypto::seal(&self.data_key, &Self::aad("appointments", name.as_bytes(), &self.device_id), plain);
        fsutil::write_atomic(&self.appointments_dir()?.join(name), &sealed)?;
        Ok(())
    }

    fn open_file(&self, name: &str) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>, VaultError> {
        let sealed = match fs::read(self.dir.join(APPOINTMENTS).join(name)) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        crypto::open(&self.data_key, &Self::aad("appointments", name.as_bytes(), &self.device_id), &sealed)
            .map(Some)
            .ok_or_else(|| VaultError::Corrupt(format!("appointments/{name} does not decrypt")))
    }

    /// Keeps `list` (this unit's appointments as the hub sent them) in place of the last, each
    /// with a served notice still waiting here shown served. Durable before it returns.
    pub fn store_appointments(&mut self, list: &[Appointment], now: i64) -> Result<(), VaultError> {
        let mut list = list.to_vec();
        for n in self.served_notices()? {
            if let Some(a) = list.iter_mut().find(|a| a.id == n.appointment_id)
                && a.status == AppointmentStatus::Booked
            {
                // Booked: the served() rule cannot refuse it.
                let _ = a.served(&n.visit_id, n.at);
            }
        }
        // Unchanged (the sync runs every minute): nothing written, nothing audited.
        if self.appointments()? == list {
            return Ok(());
        }
        let json = serde_json::to_vec(&list).map_err(|e| VaultError::Corrupt(e.to_string()))?;
        self.seal_file(LIST, &json)?;
        let ids: Vec<&str> = list.iter().map(|a| a.id.as_str()).collect();
        self.record(now, "appointments", &ids.join(","))
    }

    /// The appointments kept, as [`Vault::store_appointments`] last kept them (none before the
    /// first download).
    pub fn appointments(&self) -> Result<Vec<Appointment>, VaultError> {
        match self.open_file(LIST)? {
            None => Ok(Vec::new()),
            Some(json) => serde_json::from_slice(&json).map_err(|e| VaultError::Corrupt(format!("appointments: {e}"))),
        }
    }

    /// Notes that `visit_id` served appointment `appointment_id` at `at` (after the visit's
    /// seal): the kept appointment is served, by core's rule, and a notice waits for the hub.
    /// The same visit again changes nothing (and queues nothing); another visit, or an
    /// appointment not booked, is refused. Durable before it returns.
    pub fn note_served(&mut self, appointment_id: &str, visit_id: &str, at: OffsetDateTime) -> Result<(), VaultError> {
        let mut list = self.appointments()?;
        let a = list
            .iter_mut()
            .find(|a| a.id == appointment_id)
            .ok_or_else(|| VaultError::NoSuchAppointment(appointment_id.to_string()))?;
        if matches!(&a.status, AppointmentStatus::Served { visit, .. } if visit == visit_id) {
            // Noted already: its notice was queued before the list said so (and may be sent).
            return Ok(());
        }
        a.served(visit_id, at).map_err(|_| VaultError::AppointmentNotBooked(appointment_id.to_string()))?;
        let notice = ServedNotice { appointment_id: appointment_id.into(), visit_id: visit_id.into(), at };
        let json = serde_json::to_vec(&notice).map_err(|e| VaultError::Corrupt(e.to_string()))?;
        // The notice first: a stop between the two leaves it to send, and the next download
        // shows the appointment served again.
        self.seal_file(&served_name(appointment_id), &json)?;
        let list_json = serde_json::to_vec(&list).map_err(|e| VaultError::Corrupt(e.to_string()))?;
        self.seal_file(LIST, &list_json)?;
        self.record(at.unix_timestamp(), "appointment-served", &format!("{appointment_id} {visit_id}"))
    }

    /// The served notices waiting for the hub, oldest first.
    pub fn served_notices(&self) -> Result<Vec<ServedNotice>, VaultError> {
        let entries = match fs::read_dir(self.dir.join(APPOINTMENTS)) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut out = Vec::new();
        for entry in entries {
            let name = entry?.file_name().to_string_lossy().into_owned();
            let is_notice = name.strip_prefix(SERVED_PREFIX).and_then(|n| n.strip_suffix(SEALED)).is_some();
            if !is_notice {
                continue;
            }
            if let Some(json) = self.open_file(&name)? {
                let n: ServedNotice =
                    serde_json::from_slice(&json).map_err(|e| VaultError::Corrupt(format!("{name}: {e}")))?;
                out.push(n);
            }
        }
        out.sort_by(|a, b| (a.at, &a.appointment_id).cmp(&(b.at, &b.appointment_id)));
        Ok(out)
    }

    /// The hub has answered the served notice of `appointment_id`: it is dropped, durably.
    /// Repeatable.
    pub fn served_sent(&mut self, appointment_id: &str, now: i64) -> Result<(), VaultError> {
        fsutil::remove_durably(&self.dir.join(APPOINTMENTS).join(served_name(appointment_id)))?;
        self.record(now, "appointment-served-sent", appointment_id)
    }
}

fn served_name(appointment_id: &str) -> String {
    format!("{SERVED_PREFIX}{}{SEALED}", hex::encode(appointment_id))
}
