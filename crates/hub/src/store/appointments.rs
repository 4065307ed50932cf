//! The appointments' part of the default store: a sled tree by id, each change journalled
//! (and fsynced) before the tree has it, so that a rebuilt index has every appointment as it
//! last stood.

use super::index::{SledStore, damaged};
use super::journal::Entry;
use super::{Appointments, Booked, StoreError, in_order};

impl SledStore {
    fn entry(booked: &Booked) -> Result<(String, Vec<u8>), StoreError> {
        Ok((booked.appointment.id.clone(), serde_json::to_vec(booked).map_err(damaged)?))
    }
}

impl Appointments for SledStore {
    fn add_appointments(&self, new: &[Booked]) -> Result<Vec<String>, StoreError> {
        self.alive()?;
        let _one = self.journalled.lock().unwrap_or_else(|e| e.into_inner());
        let mut taken = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for b in new {
            let id = &b.appointment.id;
            if !seen.insert(id.as_str()) || self.appointments.contains_key(id.as_bytes())? {
                taken.push(id.clone());
            }
        }
        if !taken.is_empty() || new.is_empty() {
            return Ok(taken);
        }
        let encoded: Vec<(String, Vec<u8>)> = new.iter().map(Self::entry).collect::<Result<_, _>>()?;
        let entries: Vec<Entry> =
            encoded.iter().map(|(id, v)| Entry::Appointment { id: id.clone(), booked: v.clone() }).collect();
        self.journal.append_all(&entries, &self.poison)?;
        let mut batch = sled::Batch::default();
        for (id, v) in encoded {
            batch.insert(id.as_bytes(), v);
        }
        self.appointments.apply_batch(batch)?;
        self.flush()?;
        Ok(Vec::new())
    }

    fn appointment(&self, id: &str) -> Result<Option<Booked>, StoreError> {
        self.alive()?;
        Self::json(self.appointments.get(id.as_bytes())?)
    }

    fn appointments(&self, device: Option<&str>) -> Result<Vec<Booked>, StoreError> {
        self.alive()?;
        let mut out = Vec::new();
        for item in self.appointments.iter() {
            let (_, v) = item?;
            let b: Booked = serde_json::from_slice(&v).map_err(damaged)?;
            if device.is_none_or(|d| d == b.device) {
                out.push(b);
            }
        }
        in_order(&mut out);
        Ok(out)
    }

    fn replace_appointment(&self, old: &Booked, new: &Booked) -> Result<bool, StoreError> {
        self.alive()?;
        if old.appointment.id != new.appointment.id {
            return Err(StoreError::Refused("an appointment keeps its id".into()));
        }
        let _one = self.journalled.lock().unwrap_or_else(|e| e.into_inner());
        let now: Option<Booked> = Self::json(self.appointments.get(old.appointment.id.as_bytes())?)?;
        if now.as_ref() != Some(old) {
            return Ok(false);
        }
        let (id, v) = Self::entry(new)?;
        self.journal.append(&Entry::Appointment { id: id.clone(), booked: v.clone() }, &self.poison)?;
        self.appointments.insert(id.as_bytes(), v)?;
        self.flush()?;
        Ok(true)
    }
}
