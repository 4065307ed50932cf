//! The store `hub.toml` names: the embedded one in the hub's folder (the default), or a
//! PostgreSQL database (`store = "postgres://…"`).

use std::path::Path;

use super::{
    Appointments, Booked, FeedbackBox, HeldFeedback, PgStore, Received, Records, SledStore, Status, Store, StoreError,
    Upload,
};

/// Either store, behind the same traits.
pub enum AnyStore {
    Sled(SledStore),
    Pg(PgStore),
}

/// Where a hub keeps its data, from `hub.toml`'s `store`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location<'a> {
    /// `HUB/store`, with sled and segment files.
    Embedded,
    /// A PostgreSQL database.
    Postgres(&'a str),
}

impl<'a> Location<'a> {
    /// `None`, `"embedded"` or a `postgres://` / `postgresql://` address; anything else is
    /// refused with what is accepted.
    pub fn parse(store: Option<&'a str>) -> Result<Location<'a>, StoreError> {
        match store.map(str::trim) {
            None | Some("") | Some("embedded") => Ok(Location::Embedded),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(Location::Postgres(url))
            }
            Some(_) => Err(StoreError::Refused(
                "hub.toml: store is \"embedded\" or a PostgreSQL address (postgres://USER@HOST:PORT/DATABASE)".into(),
            )),
        }
    }
}

impl AnyStore {
    /// Opens the store `hub.toml` names for the hub in `hub_dir` (`store`, and
    /// `require_synchronous_standby` for PostgreSQL); with it, what to tell the operator (an
    /// index rebuilt, a schema migrated, whether receipts wait for a standby).
    pub fn open(hub_dir: &Path, config: &crate::pki::HubConfig) -> Result<(AnyStore, Vec<String>), StoreError> {
        Ok(match Location::parse(config.store.as_deref())? {
            Location::Embedded => {
                let s = SledStore::open(&hub_dir.join("store"))?;
                let lines = s.recovery().report();
                (AnyStore::Sled(s), lines)
            }
            Location::Postgres(url) => {
                // A hub that kept its data in its folder is not moved to a database by a
                // line in hub.toml: the database would start without its receipts, verdicts,
                // counters and device keys (and take replays of old counters).
                if hub_dir.join("store").exists() {
                    return Err(StoreError::Refused(format!(
                        "{}: this hub keeps its data in its folder; a hub on PostgreSQL is made with init --store (moving a hub's data there is not supported yet)",
                        hub_dir.join("store").display()
                    )));
                }
                let ca =
                    match &config.store_ca {
                        Some(path) => Some(std::fs::read_to_string(hub_dir.join(path)).map_err(|e| {
                            StoreError::Refused(format!("store_ca {}: {e}", hub_dir.join(path).display()))
                        })?),
                        None => None,
                    };
                let s = PgStore::open_tls(url, config.require_synchronous_standby, ca.as_deref())?;
                let lines = s.report();
                (AnyStore::Pg(s), lines)
            }
        })
    }
}

macro_rules! each {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            AnyStore::Sled($s) => $e,
            AnyStore::Pg($s) => $e,
        }
    };
}

impl Records for AnyStore {
    fn received(&self, id: &str) -> Result<Option<Received>, StoreError> {
        each!(self, s => s.received(id))
    }
    fn all_received(&self) -> Result<Vec<(String, Received)>, StoreError> {
        each!(self, s => s.all_received())
    }
    fn envelope(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        each!(self, s => s.envelope(id))
    }
    fn status(&self, id: &str) -> Result<Option<Status>, StoreError> {
        each!(self, s => s.status(id))
    }
    fn decide(&self, id: &str, verdict: &Status) -> Result<(), StoreError> {
        each!(self, s => s.decide(id, verdict))
    }
}

impl Appointments for AnyStore {
    fn add_appointments(&self, new: &[Booked]) -> Result<Vec<String>, StoreError> {
        each!(self, s => s.add_appointments(new))
    }
    fn appointment(&self, id: &str) -> Result<Option<Booked>, StoreError> {
        each!(self, s => s.appointment(id))
    }
    fn appointments(&self, device: Option<&str>) -> Result<Vec<Booked>, StoreError> {
        each!(self, s => s.appointments(device))
    }
    fn replace_appointment(&self, old: &Booked, new: &Booked) -> Result<bool, StoreError> {
        each!(self, s => s.replace_appointment(old, new))
    }
}

impl FeedbackBox for AnyStore {
    fn receive_feedback(&self, held: &HeldFeedback, sealed: &[u8]) -> Result<Option<HeldFeedback>, StoreError> {
        each!(self, s => s.receive_feedback(held, sealed))
    }
    fn held_feedback(&self, id: &str) -> Result<Option<HeldFeedback>, StoreError> {
        each!(self, s => s.held_feedback(id))
    }
    fn feedback_list(&self, device: Option<&str>) -> Result<Vec<HeldFeedback>, StoreError> {
        each!(self, s => s.feedback_list(device))
    }
    fn sealed_feedback(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        each!(self, s => s.sealed_feedback(id))
    }
    fn replace_feedback(&self, old: &HeldFeedback, new: &HeldFeedback) -> Result<bool, StoreError> {
        each!(self, s => s.replace_feedback(old, new))
    }
}

impl Store for AnyStore {
    fn upload(&self, id: &str) -> Result<Option<Upload>, StoreError> {
        each!(self, s => s.upload(id))
    }
    fn uploads(&self) -> Result<Vec<(String, Upload)>, StoreError> {
        each!(self, s => s.uploads())
    }
    fn append(&self, id: &str, upload: &Upload, chunk: &[u8]) -> Result<u64, StoreError> {
        each!(self, s => s.append(id, upload, chunk))
    }
    fn upload_bytes(&self, id: &str) -> Result<Vec<u8>, StoreError> {
        each!(self, s => s.upload_bytes(id))
    }
    fn drop_upload(&self, id: &str) -> Result<(), StoreError> {
        each!(self, s => s.drop_upload(id))
    }
    fn receipt(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        each!(self, s => s.receipt(id))
    }
    fn commit(&self, id: &str, envelope: &[u8], received: &Received, receipt: &[u8]) -> Result<Vec<u8>, StoreError> {
        each!(self, s => s.commit(id, envelope, received, receipt))
    }
    fn expire_upload(&self, id: &str, touched_before: i64) -> Result<bool, StoreError> {
        each!(self, s => s.expire_upload(id, touched_before))
    }
    fn claim_counter(&self, device_id: &str, counter: u64, id: &str) -> Result<Option<String>, StoreError> {
        each!(self, s => s.claim_counter(device_id, counter, id))
    }
    fn bind_device_key(&self, device: &str, key: [u8; 32]) -> Result<Option<[u8; 32]>, StoreError> {
        each!(self, s => s.bind_device_key(device, key))
    }
    fn manifest(&self, device: &str, batch: &str) -> Result<Option<Vec<u8>>, StoreError> {
        each!(self, s => s.manifest(device, batch))
    }
    fn put_manifest(
        &self,
        device: &str,
        batch: &str,
        bytes: &[u8],
        decisions: &[(String, Status)],
    ) -> Result<super::ManifestTaken, StoreError> {
        each!(self, s => s.put_manifest(device, batch, bytes, decisions))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_toml_names_the_embedded_store_or_a_postgres_address() {
        let table: &[(Option<&str>, Option<Location<'_>>)] = &[
            (None, Some(Location::Embedded)),
            (Some("embedded"), Some(Location::Embedded)),
            (Some(""), Some(Location::Embedded)),
            (Some("postgres://hub@db/doorstep"), Some(Location::Postgres("postgres://hub@db/doorstep"))),
            (Some("postgresql://hub@db/doorstep"), Some(Location::Postgres("postgresql://hub@db/doorstep"))),
            (Some("mysql://hub@db/doorstep"), None),
            (Some("/var/lib/hub"), None),
        ];
        for (given, expected) in table {
            match (Location::parse(*given), expected) {
                (Ok(l), Some(e)) => assert_eq!(&l, e, "{given:?}"),
                (Err(StoreError::Refused(m)), None) => assert!(m.contains("postgres://"), "{m}"),
                (other, _) => panic!("{given:?}: {:?}", other.map_err(|e| e.to_string())),
            }
        }
    }
}
