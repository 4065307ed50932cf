//! The hub's storage behind four traits, [`Records`] (what the back office reads and decides),
//! [`Appointments`] (the back office's appointments, each for one device), [`FeedbackBox`]
//! (feedback sealed on the units, answered by the back office) and [`Store`] (what
//! the API needs besides), with sled and segment files as the default ([`SledStore`]) and PostgreSQL for a hub that
//! outgrows one machine ([`PgStore`], in `pg`); [`AnyStore`] is the one `hub.toml` names.
//! Nothing above this module knows about sled, files or SQL.
//!
//! Everything a reply promises (an offset, a receipt) is on the disk before the reply is sent,
//! and while an upload is being committed nothing is said of it (see `Service::handle`).
//!
//! - `frame`: the one record format of the store's files, checksummed and resynchronising;
//! - `segments`: the append-only segment files that hold envelopes and manifests, with group
//!   fsync;
//! - `journal`: what only the index would know otherwise (device keys, verdicts,
//!   appointments);
//! - `index`: the sled index over them, and the store's operations;
//! - `appointments`: the appointments' part of the index, journalled;
//! - `feedback`: the feedback's part of the index, journalled with its sealed bytes;
//! - `open`: opening, and rebuilding the index from the files when it is lost or damaged.
//!
//! Files and folders are their owner's only (0600, 0700) from their creation; sled's own
//! files are made with the process's umask, inside a 0700 folder, and tightened at open.

mod any;
mod appointments;
mod feedback;
mod frame;
mod index;
mod journal;
mod open;
pub mod pg;
mod segments;

use std::path::PathBuf;

use doorstep_core::appointment::Appointment;
use doorstep_core::feedback::Escalation;
use doorstep_core::policy::FeedbackKind;
use serde::{Deserialize, Serialize};

pub use any::{AnyStore, Location};
pub use doorstep_sync::wire::Status;
pub use index::SledStore;
pub use pg::PgStore;

pub(crate) use crate::files::private_dir;

/// What opening a store found and did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// The index would not open or could not be read through (or was asked to be rebuilt),
    /// and was moved here.
    pub quarantined: Option<PathBuf>,
    /// The index was rebuilt from the segments and the journal: it was missing, damaged, or
    /// asked to be.
    pub rebuilt: Option<Rebuilt>,
    /// Bytes cut from the journal's end (a write the hub did not finish).
    pub journal_torn_tail: u64,
    /// Stretches of the store's files that are not whole, checked records, skipped: the file,
    /// the offset, the length.
    pub damaged: Vec<(PathBuf, u64, u64)>,
}

/// What a rebuild of the index took in.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Rebuilt {
    pub envelopes: usize,
    pub manifests: usize,
    pub device_keys: usize,
    /// Statuses from the journal (verdicts, repairs).
    pub statuses: usize,
    /// Appointments from the journal.
    pub appointments: usize,
    /// Feedback from the journal.
    pub feedback: usize,
}

impl Recovery {
    /// What to tell the hub's operator, one line each (nothing when the store opened as it was).
    pub fn report(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if let Some(q) = &self.quarantined {
            lines.push(format!("the store's index would not open or read; it was moved aside to {}", q.display()));
        }
        if let Some(r) = &self.rebuilt {
            lines.push(format!(
                "the index was rebuilt from the segments and the journal: {} envelopes, {} manifests, {} device keys, {} verdicts, {} appointments, {} feedback",
                r.envelopes, r.manifests, r.device_keys, r.statuses, r.appointments, r.feedback
            ));
        }
        if self.journal_torn_tail > 0 {
            lines.push(format!(
                "the journal's last {} bytes were an unfinished write and were cut",
                self.journal_torn_tail
            ));
        }
        for (file, at, len) in &self.damaged {
            lines.push(format!("{}: {len} damaged bytes at {at} were skipped", file.display()));
        }
        lines
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("hub store: {0}")]
    Sled(#[from] sled::Error),
    #[error("hub store: damaged record: {0}")]
    Damaged(String),
    /// A request the store will not carry out (the message says why).
    #[error("{0}")]
    Refused(String),
    #[error("hub store: {0}")]
    Io(#[from] std::io::Error),
    /// The PostgreSQL store's database refused or failed a request, or could not be reached:
    /// what the server said (`pg::describe`).
    #[error("hub store (PostgreSQL): {0}")]
    Postgres(String),
    /// The store cannot take the request now (the message says why); asking again may work.
    #[error("hub store: {0}")]
    Unavailable(String),
    /// An upload holds another number of bytes than the caller thought (another hub appended
    /// or dropped it meanwhile): resume from this offset.
    #[error("hub store: the upload holds {0} bytes")]
    Offset(u64),
    /// The id is another envelope's or another upload's (another hub took it meanwhile).
    #[error("hub store: {0}")]
    Conflict(String),
    /// An fsync failed: what was written may not be on the disk, and a second fsync can
    /// succeed without having written it (Linux drops the failed pages). The store refuses
    /// everything from then on; the hub must be restarted, and reads only what is durable.
    #[error(
        "hub store: the disk failed to make writes durable ({0}); nothing more is taken or answered: check the disk and restart the hub"
    )]
    Poisoned(String),
}

/// A partial upload: what the tablet declared, and how many bytes the hub holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    pub digest: String,
    pub length: u64,
    pub device: String,
    /// Bytes held so far (not stored: the length of the upload's file).
    #[serde(skip)]
    pub offset: u64,
    /// When its first chunk came.
    #[serde(default)]
    pub started_at_unix: i64,
    /// When it last grew (not stored: the time its file was last written, or its start).
    #[serde(skip)]
    pub touched_at_unix: i64,
}

/// A received envelope's facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    pub digest: String,
    /// The enrolled device (its certificate's name) that uploaded it.
    pub device: String,
    /// The device id in the envelope's header, under which its counter is kept.
    pub device_id: String,
    pub size: u64,
    pub device_counter: u64,
    pub received_at_unix: i64,
}

/// What the back office reads and decides: through the store itself, or through a serving
/// hub's admin socket (`crate::admin`), since sled lets only one process open the store.
pub trait Records: Send + Sync {
    fn received(&self, id: &str) -> Result<Option<Received>, StoreError>;
    fn all_received(&self) -> Result<Vec<(String, Received)>, StoreError>;
    fn envelope(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError>;
    fn status(&self, id: &str) -> Result<Option<Status>, StoreError>;
    /// The back office's verdict (accepted or rejected) on an application its supervisor
    /// approved. Atomic: an application is decided once, and a verdict stands (its tablet
    /// stops asking once it has heard one).
    fn decide(&self, id: &str, verdict: &Status) -> Result<(), StoreError>;
}

/// Why a verdict cannot be taken; said to the back office as is.
pub fn undecidable(id: &str, now: Option<&Status>) -> Option<String> {
    match now {
        None => Some(format!("the hub holds no application {id}")),
        Some(Status::Approved { .. }) => None,
        Some(Status::Accepted | Status::Rejected { .. }) => {
            Some(format!("{id} is already decided; its tablet has been told, and a verdict stands"))
        }
        Some(Status::Received) => {
            Some(format!("{id} is not released yet: its supervisor's batch manifest has not come"))
        }
        Some(Status::Returned { reason, .. }) => {
            Some(format!("{id} was returned by its supervisor ({reason}): it is a revisit, not a decision"))
        }
    }
}

/// An appointment and the enrolled device that serves it. `Debug` hides the person (as
/// [`Appointment`]'s does).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booked {
    /// The enrolled device's name (its certificate's).
    pub device: String,
    pub appointment: Appointment,
    /// When the back office added it.
    pub added_at_unix: i64,
}

/// The back office's appointments. Each is one device's; what may change in one is core's
/// rule (`doorstep_core::appointment`), applied by `crate::appointments` through
/// [`Appointments::replace_appointment`], so that an implementation only keeps and swaps.
/// Implementations make each write durable before returning.
pub trait Appointments: Send + Sync {
    /// Adds appointments, all or none: when any id is taken already (or twice in `new`),
    /// nothing is added and those ids are returned.
    fn add_appointments(&self, new: &[Booked]) -> Result<Vec<String>, StoreError>;
    fn appointment(&self, id: &str) -> Result<Option<Booked>, StoreError>;
    /// Every appointment, or one device's, by the start of its window, then its id.
    fn appointments(&self, device: Option<&str>) -> Result<Vec<Booked>, StoreError>;
    /// Replaces an appointment with `new` (same id) atomically if it is still `old`: `false`,
    /// with nothing changed, when it is not (someone changed it meanwhile; read it again).
    fn replace_appointment(&self, old: &Booked, new: &Booked) -> Result<bool, StoreError>;
}

/// A feedback as the hub holds it, in clear: where it is from, its box and category, when it
/// was made and received, its digest, and its state with the back office's answer or note.
/// Never its text or contact: those are in the sealed bytes, for the bureau's key only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldFeedback {
    pub id: String,
    /// The enrolled device that sent it (its certificate's name).
    pub device: String,
    pub kind: FeedbackKind,
    pub category: String,
    pub created_at_unix: i64,
    pub received_at_unix: i64,
    /// SHA-256 of the sealed feedback's header and ciphertext, hex.
    pub digest: String,
    pub state: Escalation,
}

/// The feedback the units send and the back office answers. What may change in one is core's
/// rule (`doorstep_core::feedback`), applied by `crate::feedback` through
/// [`FeedbackBox::replace_feedback`], so that an implementation only keeps and swaps.
/// Implementations make each write durable before returning.
pub trait FeedbackBox: Send + Sync {
    /// Keeps a received feedback and its sealed bytes, unless its id is held already: then
    /// nothing changes and the one held is returned.
    fn receive_feedback(&self, held: &HeldFeedback, sealed: &[u8]) -> Result<Option<HeldFeedback>, StoreError>;
    fn held_feedback(&self, id: &str) -> Result<Option<HeldFeedback>, StoreError>;
    /// Every feedback, or one device's, by when it was made, then its id.
    fn feedback_list(&self, device: Option<&str>) -> Result<Vec<HeldFeedback>, StoreError>;
    /// The sealed bytes as received (for the back office to open with the bureau's key).
    fn sealed_feedback(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Replaces a feedback with `new` (same id) atomically if it is still `old`: `false`, with
    /// nothing changed, when it is not.
    fn replace_feedback(&self, old: &HeldFeedback, new: &HeldFeedback) -> Result<bool, StoreError>;
}

/// Everything the back office reaches: through the store itself or a serving hub's admin
/// socket.
pub trait BackOffice: Records + Appointments + FeedbackBox {}

impl<T: Records + Appointments + FeedbackBox + ?Sized> BackOffice for T {}

/// Sorts appointments by the start of their window, then their id.
pub(crate) fn in_order(list: &mut [Booked]) {
    list.sort_by(|a, b| (a.appointment.from, &a.appointment.id).cmp(&(b.appointment.from, &b.appointment.id)));
}

/// What the hub keeps. Implementations make each write durable before returning.
pub trait Store: Records + Appointments + FeedbackBox {
    /// A partial upload, with the bytes held so far in `offset`.
    fn upload(&self, id: &str) -> Result<Option<Upload>, StoreError>;
    /// Every partial upload, as [`Store::upload`] gives each.
    fn uploads(&self) -> Result<Vec<(String, Upload)>, StoreError>;
    /// Appends a chunk that passed its checksum at `upload.offset` (starting the upload when
    /// it is 0) and returns the new offset, durable.
    fn append(&self, id: &str, upload: &Upload, chunk: &[u8]) -> Result<u64, StoreError>;
    /// The bytes of a partial upload so far.
    fn upload_bytes(&self, id: &str) -> Result<Vec<u8>, StoreError>;
    /// Forgets a partial upload (its bytes failed the envelope's checks).
    fn drop_upload(&self, id: &str) -> Result<(), StoreError>;
    /// Forgets a partial upload only if it has not grown since `touched_before` (unix
    /// seconds); `true` when it was dropped. (A store shared by several hubs makes the test and
    /// the drop one, so that one hub's sweep never drops what another is appending to.)
    fn expire_upload(&self, id: &str, touched_before: i64) -> Result<bool, StoreError> {
        match self.upload(id)? {
            Some(u) if u.touched_at_unix <= touched_before => {
                self.drop_upload(id)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
    fn receipt(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Stores a whole envelope, its facts and its receipt, and drops the partial upload, as
    /// one: the envelope is durable before anything says it was received. Returns the receipt
    /// that stands: `receipt`, or the one stored with the same envelope by another hub that
    /// committed it first; another envelope under the id is [`StoreError::Conflict`].
    fn commit(&self, id: &str, envelope: &[u8], received: &Received, receipt: &[u8]) -> Result<Vec<u8>, StoreError>;
    /// Takes a device counter for application `id`, atomically: `Some(other)` when another
    /// application already has it (a replay), `None` when it is now (or was already) `id`'s.
    fn claim_counter(&self, device_id: &str, counter: u64, id: &str) -> Result<Option<String>, StoreError>;
    /// Binds an enrolled device to the signing key it first uses, atomically: `Some(key)`
    /// when it is bound to another key already, `None` when it is (now) bound to `key`.
    fn bind_device_key(&self, device: &str, key: [u8; 32]) -> Result<Option<[u8; 32]>, StoreError>;
    /// A supervisor's manifest, by the device that sent it and its batch id.
    fn manifest(&self, device: &str, batch: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Stores a manifest and each application's decision, as one; an application that already
    /// has a status (from an earlier batch) keeps it. Nothing is stored where the device's batch
    /// id holds other bytes, or an application it lists was decided otherwise before
    /// ([`same_decision`]). The comparisons and the writing are one, so two manifests racing
    /// (the same batch, or one application decided two ways) are never both taken.
    fn put_manifest(
        &self,
        device: &str,
        batch: &str,
        bytes: &[u8],
        decisions: &[(String, Status)],
    ) -> Result<ManifestTaken, StoreError>;
}

/// What became of a manifest given to [`Store::put_manifest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestTaken {
    /// Stored, or stored already (the same bytes under the same batch id).
    Taken,
    /// The device's batch id holds other bytes: nothing stored.
    OtherContents,
    /// These applications (ids) were decided otherwise before: nothing stored.
    DecidedBefore(Vec<String>),
}

/// Whether a manifest's decision (`new`) is the one the hub holds (`standing`): none yet, the
/// same approval (whatever the back office said of it since), or the same return.
pub fn same_decision(standing: &Status, new: &Status) -> bool {
    match (standing, new) {
        (Status::Received, _) => true,
        (Status::Approved { .. } | Status::Accepted | Status::Rejected { .. }, Status::Approved { .. }) => true,
        (Status::Returned { reason: held, .. }, Status::Returned { reason, .. }) => held == reason,
        _ => false,
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
#[path = "../../tests/pg/mod.rs"]
mod pg_cluster;

/// The store a unit test of the crate runs on: the embedded one in `dir`, or a new database
/// of a cluster the test binary starts when `DOORSTEP_HUB_TEST_STORE=postgres` (as
/// `scripts/test` runs the hub's tests a second time).
#[cfg(test)]
pub(crate) fn test_store(dir: &std::path::Path) -> AnyStore {
    match std::env::var("DOORSTEP_HUB_TEST_STORE").as_deref() {
        Ok("postgres") => AnyStore::Pg(PgStore::open(&pg_cluster::shared().new_database(), false).unwrap()),
        Ok("embedded") | Err(_) => AnyStore::Sled(SledStore::open(dir).unwrap()),
        Ok(other) => panic!("DOORSTEP_HUB_TEST_STORE is \"postgres\" or \"embedded\", not {other:?}"),
    }
}
