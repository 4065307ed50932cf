//! A device's appointments: the list of its own, and its notice that one was served.

use doorstep_sync::wire::{self, AppointmentList, ServedNotice};

use super::{Reply, Service};
use crate::appointments::{ServedRefusal, served, status_name};
use crate::store::{Appointments, Store, StoreError};

impl<S: Store> Service<S> {
    /// `GET /v1/appointments`: this device's appointments, whatever their state, until a week
    /// after each one's window (`Appointment::still_needed`: the hub keeps them all for the
    /// back office; a tablet carries no one's details longer than it needs them); never
    /// another device's.
    pub(super) fn appointments(&self, device: &str) -> Result<Reply, StoreError> {
        let list = Appointments::appointments(self.store.as_ref(), Some(device))?;
        let now = (self.now)();
        let reply = AppointmentList {
            version: wire::APPOINTMENTS_VERSION,
            device: device.to_string(),
            appointments: list.into_iter().map(|b| b.appointment).filter(|a| a.still_needed(now)).collect(),
        };
        Ok(Reply::json(200, &reply))
    }

    /// `POST /v1/appointments/{id}/served`: marks this device's booked appointment served by
    /// the visit named, once; the same visit again gets the same answer.
    pub(super) fn served(&self, device: &str, id: &str, body: &[u8]) -> Result<Reply, StoreError> {
        if body.len() as u64 > wire::MAX_SERVED_NOTICE {
            return Ok(Reply::error(
                413,
                "too-large",
                format!("a served notice is at most {} bytes", wire::MAX_SERVED_NOTICE),
            ));
        }
        let notice: ServedNotice = match serde_json::from_slice(body) {
            Ok(n) => n,
            Err(e) => return Ok(Reply::error(400, "served-notice", format!("not a served notice: {e}"))),
        };
        if notice.version != wire::APPOINTMENTS_VERSION {
            return Ok(Reply::error(
                400,
                "version",
                format!("served notice version {} (this hub reads {})", notice.version, wire::APPOINTMENTS_VERSION),
            ));
        }
        Ok(match served(self.store.as_ref(), device, id, &notice.visit, notice.at)? {
            Ok(booked) => Reply::json(200, &booked.appointment),
            Err(ServedRefusal::BadVisit) => {
                Reply::error(400, "served-notice", "the notice's visit id is empty or over 128 characters")
            }
            Err(ServedRefusal::NoSuchAppointment) => {
                Reply::error(404, "unknown-appointment", format!("the hub has no appointment {id}"))
            }
            // As for an unknown id: a tablet learns nothing of other tablets' appointments.
            Err(ServedRefusal::OtherDevice) => {
                Reply::error(404, "unknown-appointment", format!("the hub has no appointment {id}"))
            }
            Err(ServedRefusal::NotBooked(status)) => Reply::error(
                409,
                "not-booked",
                format!("appointment {id} is {}: it cannot be served (again)", status_name(&status)),
            ),
        })
    }
}
