//! Appointments and feedback in PostgreSQL: [`Appointments`] and [`FeedbackBox`] for
//! [`PgStore`]. Each is kept as its JSON beside the columns it is looked up by; a change is
//! made under the row's lock, only if the row is still what the caller read.

use super::PgStore;
use super::records::{json, parse};
use crate::store::{Appointments, Booked, FeedbackBox, HeldFeedback, StoreError, in_order};

impl Appointments for PgStore {
    fn add_appointments(&self, new: &[Booked]) -> Result<Vec<String>, StoreError> {
        let encoded: Vec<(&str, &str, String)> = new
            .iter()
            .map(|b| Ok((b.appointment.id.as_str(), b.device.as_str(), json(b)?)))
            .collect::<Result<_, StoreError>>()?;
        self.transaction(|tx| {
            let insert = tx.prepare(
                "INSERT INTO appointments (id, device, booked) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
            )?;
            let mut taken = Vec::new();
            for (id, device, booked) in &encoded {
                // A conflict is an id held already, or one given twice in `new`.
                if tx.execute(&insert, &[id, device, booked])? == 0 {
                    taken.push(id.to_string());
                }
            }
            // All or none: any id taken rolls every insert back.
            let commit = taken.is_empty();
            Ok((taken, commit))
        })
    }

    fn appointment(&self, id: &str) -> Result<Option<Booked>, StoreError> {
        self.with(|c| {
            c.query_opt("SELECT booked FROM appointments WHERE id = $1", &[&id])?
                .map(|row| parse(row.get::<_, &str>(0)))
                .transpose()
        })
    }

    fn appointments(&self, device: Option<&str>) -> Result<Vec<Booked>, StoreError> {
        let mut out: Vec<Booked> = self.with(|c| {
            c.query("SELECT booked FROM appointments WHERE $1::text IS NULL OR device = $1", &[&device])?
                .iter()
                .map(|row| parse(row.get::<_, &str>(0)))
                .collect()
        })?;
        in_order(&mut out);
        Ok(out)
    }

    fn replace_appointment(&self, old: &Booked, new: &Booked) -> Result<bool, StoreError> {
        if old.appointment.id != new.appointment.id {
            return Err(StoreError::Refused("an appointment keeps its id".into()));
        }
        let text = json(new)?;
        self.transaction(|tx| {
            let id = &old.appointment.id;
            let Some(row) = tx.query_opt("SELECT booked FROM appointments WHERE id = $1 FOR UPDATE", &[id])? else {
                return Ok((false, false));
            };
            if parse::<Booked>(row.get::<_, &str>(0))? != *old {
                return Ok((false, false));
            }
            tx.execute("UPDATE appointments SET device = $2, booked = $3 WHERE id = $1", &[id, &new.device, &text])?;
            Ok((true, true))
        })
    }
}

impl FeedbackBox for PgStore {
    fn receive_feedback(&self, held: &HeldFeedback, sealed: &[u8]) -> Result<Option<HeldFeedback>, StoreError> {
        let text = json(held)?;
        self.transaction(|tx| {
            // The unit erases what the hub acknowledges.
            self.standby_required(tx)?;
            let kept = tx.execute(
                "INSERT INTO feedback (id, device, created_at_unix, held, sealed) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (id) DO NOTHING",
                &[&held.id, &held.device, &held.created_at_unix, &text, &sealed],
            )?;
            if kept == 1 {
                return Ok((None, true));
            }
            let now: String = tx.query_one("SELECT held FROM feedback WHERE id = $1", &[&held.id])?.get(0);
            Ok((Some(parse(&now)?), false))
        })
    }

    fn held_feedback(&self, id: &str) -> Result<Option<HeldFeedback>, StoreError> {
        self.with(|c| {
            c.query_opt("SELECT held FROM feedback WHERE id = $1", &[&id])?
                .map(|row| parse(row.get::<_, &str>(0)))
                .transpose()
        })
    }

    fn feedback_list(&self, device: Option<&str>) -> Result<Vec<HeldFeedback>, StoreError> {
        self.with(|c| {
            c.query(
                "SELECT held FROM feedback WHERE $1::text IS NULL OR device = $1 ORDER BY created_at_unix, id COLLATE \"C\"",
                &[&device],
            )?
            .iter()
            .map(|row| parse(row.get::<_, &str>(0)))
            .collect()
        })
    }

    fn sealed_feedback(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.with(|c| Ok(c.query_opt("SELECT sealed FROM feedback WHERE id = $1", &[&id])?.map(|row| row.get(0))))
    }

    fn replace_feedback(&self, old: &HeldFeedback, new: &HeldFeedback) -> Result<bool, StoreError> {
        if old.id != new.id {
            return Err(StoreError::Refused("a feedback keeps its id".into()));
        }
        let text = json(new)?;
        self.transaction(|tx| {
            let Some(row) = tx.query_opt("SELECT held FROM feedback WHERE id = $1 FOR UPDATE", &[&old.id])? else {
                return Ok((false, false));
            };
            if parse::<HeldFeedback>(row.get::<_, &str>(0))? != *old {
                return Ok((false, false));
            }
            tx.execute(
                "UPDATE feedback SET device = $2, created_at_unix = $3, held = $4 WHERE id = $1",
                &[&new.id, &new.device, &new.created_at_unix, &text],
            )?;
            Ok((true, true))
        })
    }
}
