//! The journal, `journal.log`: what the index knows that no segment holds (a device bound to
//! its signing key, a verdict, an appointment as added or changed), appended in frames (`frame`) and fsynced before the index
//! says it, and replayed when the index is rebuilt. A torn last frame is cut at open.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use super::StoreError;
use super::frame::{self, Kind};
use super::segments::GroupFlush;

/// The first bytes of the journal file.
const HEADER: &[u8; 8] = b"DSHJRNL1";

pub(super) struct Journal {
    path: PathBuf,
    file: std::fs::File,
    /// One writer at a time (an entry may take several writes); fsyncs shared.
    writing: Mutex<()>,
    group: GroupFlush,
}

/// A journal entry, as replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Entry {
    DeviceKey {
        device: String,
        key: [u8; 32],
    },
    Status {
        id: String,
        status: Vec<u8>,
    },
    /// An appointment's booking (JSON) as it now is: the last for an id stands.
    Appointment {
        id: String,
        booked: Vec<u8>,
    },
    /// A feedback as the hub holds it (JSON; the last for an id stands), and its sealed bytes
    /// in the entry that received it (empty in a change of state).
    Feedback {
        id: String,
        held: Vec<u8>,
        sealed: Vec<u8>,
    },
}

/// What opening the journal found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct JournalScan {
    /// Bytes cut from the end (a write the hub did not finish).
    pub torn_tail: u64,
    /// Damaged stretches in the middle, skipped: (offset, length).
    pub damaged: Vec<(u64, u64)>,
}

impl Journal {
    /// Opens (or creates) the journal, cuts a torn tail, and returns it with its entries.
    pub(super) fn open(dir: &Path) -> Result<(Journal, Vec<Entry>, JournalScan), StoreError> {
        let path = dir.join("journal.log");
        let mut file = std::fs::OpenOptions::new().read(true).append(true).create(true).mode(0o600).open(&path)?;
        let bytes = std::fs::read(&path)?;
        let mut scan = JournalScan::default();
        if bytes.is_empty() {
            file.write_all(HEADER)?;
            file.sync_all()?;
            super::segments::sync_dir(dir)?;
            return Ok((Journal::new(path, file), Vec::new(), scan));
        }
        if bytes.len() < HEADER.len() || &bytes[..HEADER.len()] != HEADER {
            return Err(StoreError::Damaged(format!(
                "{} is not a doorstep-hub journal: move it aside to start a new one",
                path.display()
            )));
        }
        let mut entries = Vec::new();
        let found = frame::scan(&bytes[HEADER.len()..], HEADER.len() as u64);
        let last = found.len().saturating_sub(1);
        for (n, f) in found.into_iter().enumerate() {
            match f {
                frame::Found::Frame(f) => entries.extend(entry(&f)),
                frame::Found::Damaged { at, len } if n == last => {
                    // The last write, cut short: never acknowledged (the fsync follows it).
                    file.set_len(at)?;
                    file.sync_all()?;
                    scan.torn_tail = len;
                }
                frame::Found::Damaged { at, len } => scan.damaged.push((at, len)),
            }
        }
        Ok((Journal::new(path, file), entries, scan))
    }

    fn new(path: PathBuf, file: std::fs::File) -> Journal {
        Journal { path, file, writing: Mutex::new(()), group: GroupFlush::default() }
    }

    /// Appends an entry and makes it durable. A failed fsync poisons the store.
    pub(super) fn append(&self, entry: &Entry, poison: &OnceLock<String>) -> Result<(), StoreError> {
        self.append_all(std::slice::from_ref(entry), poison)
    }

    /// Appends entries and makes them durable with one fsync (an import of many appointments).
    /// A failed fsync poisons the store.
    pub(super) fn append_all(&self, entries: &[Entry], poison: &OnceLock<String>) -> Result<(), StoreError> {
        let mut bytes = Vec::new();
        for entry in entries {
            let (kind, key, meta, body): (Kind, &[u8], &[u8], &[u8]) = match entry {
                Entry::DeviceKey { device, key } => (Kind::DeviceKey, device.as_bytes(), b"", key),
                Entry::Status { id, status } => (Kind::Status, id.as_bytes(), status, b""),
                Entry::Appointment { id, booked } => (Kind::Appointment, id.as_bytes(), booked, b""),
                Entry::Feedback { id, held, sealed } => (Kind::Feedback, id.as_bytes(), held, sealed),
            };
            bytes.extend_from_slice(&frame::encode(kind, key, meta, body).0);
        }
        {
            let _one = self.writing.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(e) = poison.get() {
                return Err(StoreError::Poisoned(e.clone()));
            }
            (&self.file).write_all(&bytes)?;
        }
        // Entries written meanwhile share the fsync (the first uploads of fifty tablets bind
        // fifty keys at once).
        self.group.flush(poison, || {
            self.file
                .sync_data()
                .map_err(|e| StoreError::Io(std::io::Error::new(e.kind(), format!("{}: {e}", self.path.display()))))
        })
    }
}

fn entry(f: &frame::Frame<'_>) -> Option<Entry> {
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).ok();
    Some(match f.kind {
        Kind::DeviceKey => Entry::DeviceKey { device: text(f.key)?, key: f.body.try_into().ok()? },
        Kind::Status => Entry::Status { id: text(f.key)?, status: f.meta.to_vec() },
        Kind::Appointment => Entry::Appointment { id: text(f.key)?, booked: f.meta.to_vec() },
        Kind::Feedback => Entry::Feedback { id: text(f.key)?, held: f.meta.to_vec(), sealed: f.body.to_vec() },
        Kind::Envelope | Kind::Manifest => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_last_entry_is_cut_and_the_rest_replayed() {
        let d = tempfile::tempdir().unwrap();
        let poison = OnceLock::new();
        let (j, entries, _) = Journal::open(d.path()).unwrap();
        assert_eq!(entries, vec![]);
        let a = Entry::DeviceKey { device: "tablet-01".into(), key: [7; 32] };
        let b = Entry::Status {
            id: "0190f0c4-8a2b-7000-8000-000000000001".into(),
            status: br#"{"state":"accepted"}"#.to_vec(),
        };
        j.append(&a, &poison).unwrap();
        j.append(&b, &poison).unwrap();
        drop(j);
        let path = d.path().join("journal.log");
        let whole = std::fs::read(&path).unwrap();
        // A third entry cut short by a stop.
        let (third, _) = frame::encode(Kind::DeviceKey, b"tablet-02", b"", &[9; 32]);
        std::fs::write(&path, [whole.as_slice(), &third[..30]].concat()).unwrap();
        let (j, entries, scan) = Journal::open(d.path()).unwrap();
        assert_eq!(entries, vec![a.clone(), b.clone()]);
        assert_eq!(scan, JournalScan { torn_tail: 30, damaged: vec![] });
        assert_eq!(std::fs::read(&path).unwrap(), whole, "the torn tail is cut");
        let c = Entry::DeviceKey { device: "tablet-02".into(), key: [9; 32] };
        j.append(&c, &poison).unwrap();
        drop(j);
        assert_eq!(Journal::open(d.path()).unwrap().1, vec![a, b, c]);
        std::fs::write(&path, b"something else").unwrap();
        assert!(
            matches!(Journal::open(d.path()), Err(StoreError::Damaged(m)) if m.contains("not a doorstep-hub journal"))
        );
    }
}
