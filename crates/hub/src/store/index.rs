//! The default store: a sled index over segment files and partial-upload files.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::segments::{GroupFlush, Segments, sync_dir};
use super::{Received, Records, Status, Store, StoreError, Upload, undecidable};

/// sled for the index (upload heads, facts, receipts, where each envelope is, counters,
/// manifests, statuses), and the envelopes themselves in append-only segment files:
///
/// ```text
/// DIR/index/                        sled
/// DIR/envelopes/seg-NNNNNNNN.log    received envelopes, back to back
/// DIR/uploads/ID.part               a partial upload's bytes (when it came in several chunks)
/// ```
///
/// An envelope's bytes are fsynced before the index says it was received, so the index never
/// names bytes that are not on disk. Bytes the index does not name (a write the hub did not
/// finish) are dead space, never read. A partial upload's file only ever grows by chunks that
/// passed their checksum, so its length is always an offset the tablet can resume from.
pub struct SledStore {
    db: sled::Db,
    group: GroupFlush,
    /// Set when an fsync failed (see [`StoreError::Poisoned`]).
    poison: std::sync::OnceLock<String>,
    segments: Segments,
    upload_dir: PathBuf,
    /// Per application, keyed by a kind byte and the id: its facts, receipt, location, partial
    /// upload, and the device counters used.
    records: sled::Tree,
    device_keys: sled::Tree,
    manifests: sled::Tree,
    statuses: sled::Tree,
}

/// Opens the index, waiting up to two seconds for its lock: a hub that was just stopped (or a
/// child process forked while it held the lock, until its exec closes the descriptor) lets
/// go a moment later. After that the error says who holds it.
fn open_index(path: &Path) -> Result<sled::Db, StoreError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        match sled::open(path) {
            Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
                if std::time::Instant::now() >= deadline {
                    return Err(StoreError::Io(std::io::Error::new(
                        e.kind(),
                        format!("{e} (is another doorstep-hub using this folder?)"),
                    )));
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return Ok(other?),
        }
    }
}

/// Writes `bytes` to a new file at `path` and fsyncs it.
fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(bytes)?;
    f.sync_data()
}

/// A store file's name for an application id: ids are checked by the API (`wire::route`), but
/// the store does not trust that: anything but a plain name is refused.
fn file_name(id: &str, ext: &str) -> Result<String, StoreError> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(StoreError::Damaged(format!("not an application id: {id:?}")));
    }
    Ok(format!("{id}.{ext}"))
}

impl SledStore {
    pub fn open(dir: &Path) -> Result<SledStore, StoreError> {
        if !dir.join("index").exists() && (dir.join("db").exists() || dir.join("conf").exists()) {
            return Err(StoreError::Damaged(format!(
                "{} is a store of an earlier doorstep-hub (sled at its top, envelopes inside it); \
                 this version keeps an index and segment files: export it with the earlier version first",
                dir.display()
            )));
        }
        let db = open_index(&dir.join("index"))?;
        let segments = Segments::open(dir.join("envelopes"))?;
        let upload_dir = dir.join("uploads");
        std::fs::create_dir_all(&upload_dir)?;
        let records = db.open_tree("records")?;
        // A partial upload's file without its record: the envelope was committed (or the
        // upload dropped) and the hub stopped before the file went. Its bytes are elsewhere.
        for entry in std::fs::read_dir(&upload_dir)? {
            let entry = entry?;
            let name = entry.file_name();
            if let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".part"))
                && !records.contains_key(key(UPLOAD, id))?
            {
                std::fs::remove_file(entry.path())?;
            }
        }
        Ok(SledStore {
            segments,
            records,
            device_keys: db.open_tree("device-keys")?,
            manifests: db.open_tree("manifests")?,
            statuses: db.open_tree("statuses")?,
            group: GroupFlush::default(),
            poison: std::sync::OnceLock::new(),
            upload_dir,
            db,
        })
    }

    fn json<T: for<'de> Deserialize<'de>>(v: Option<sled::IVec>) -> Result<Option<T>, StoreError> {
        v.map(|v| serde_json::from_slice(&v).map_err(|e| StoreError::Damaged(e.to_string()))).transpose()
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.group.flush(&self.poison, || {
            self.db.flush()?;
            Ok(())
        })
    }

    /// Refuses everything once the store is poisoned.
    fn alive(&self) -> Result<(), StoreError> {
        match self.poison.get() {
            Some(e) => Err(StoreError::Poisoned(e.clone())),
            None => Ok(()),
        }
    }

    fn part(&self, id: &str) -> Result<PathBuf, StoreError> {
        Ok(self.upload_dir.join(file_name(id, "part")?))
    }

    /// An upload's head with what its file says: the bytes held, and when it last grew.
    fn with_part(&self, id: &str, mut u: Upload) -> Result<Upload, StoreError> {
        (u.offset, u.touched_at_unix) = match std::fs::metadata(self.part(id)?) {
            Ok(m) => {
                let at = m.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
                (m.len(), at.map_or(u.started_at_unix, |d| (d.as_secs() as i64).max(u.started_at_unix)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (0, u.started_at_unix),
            Err(e) => return Err(e.into()),
        };
        Ok(u)
    }
}

fn tx_error(e: sled::transaction::TransactionError<()>) -> StoreError {
    match e {
        sled::transaction::TransactionError::Storage(s) => StoreError::Sled(s),
        sled::transaction::TransactionError::Abort(()) => StoreError::Damaged("transaction aborted".into()),
    }
}

/// The kinds of record in the `records` tree, each key's first byte.
const RECEIVED: u8 = b'r';
const RECEIPT: u8 = b'c';
const LOCATION: u8 = b'l';
const UPLOAD: u8 = b'u';
const COUNTER: u8 = b'n';

fn key(kind: u8, id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + id.len());
    k.push(kind);
    k.extend_from_slice(id.as_bytes());
    k
}

/// Batches are kept by device: one device's batch id says nothing of another's.
fn manifest_key(device: &str, batch: &str) -> Vec<u8> {
    let mut k = device.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(batch.as_bytes());
    k
}

fn counter_key(device_id: &str, counter: u64) -> Vec<u8> {
    let mut k = key(COUNTER, device_id);
    k.push(0);
    k.extend_from_slice(&counter.to_be_bytes());
    k
}

impl Records for SledStore {
    fn received(&self, id: &str) -> Result<Option<Received>, StoreError> {
        self.alive()?;
        Self::json(self.records.get(key(RECEIVED, id))?)
    }

    fn all_received(&self) -> Result<Vec<(String, Received)>, StoreError> {
        self.alive()?;
        let mut out = Vec::new();
        for item in self.records.scan_prefix([RECEIVED]) {
            let (k, v) = item?;
            let r: Received = serde_json::from_slice(&v).map_err(|e| StoreError::Damaged(e.to_string()))?;
            out.push((String::from_utf8_lossy(&k[1..]).into_owned(), r));
        }
        Ok(out)
    }

    fn envelope(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.alive()?;
        let Some(at) = self.records.get(key(LOCATION, id))? else { return Ok(None) };
        Ok(Some(self.segments.read(&at, &format!("envelope {id}"))?))
    }

    fn status(&self, id: &str) -> Result<Option<Status>, StoreError> {
        self.alive()?;
        if let Some(s) = Self::json(self.statuses.get(id)?)? {
            return Ok(Some(s));
        }
        Ok(self.records.contains_key(key(RECEIVED, id))?.then_some(Status::Received))
    }

    fn decide(&self, id: &str, verdict: &Status) -> Result<(), StoreError> {
        self.alive()?;
        if !matches!(verdict, Status::Accepted | Status::Rejected { .. }) {
            return Err(StoreError::Refused("a verdict is accepted or rejected".into()));
        }
        let new = serde_json::to_vec(verdict).map_err(|e| StoreError::Damaged(e.to_string()))?;
        loop {
            let old = self.statuses.get(id)?;
            let now = match &old {
                Some(v) => Some(serde_json::from_slice(v).map_err(|e| StoreError::Damaged(e.to_string()))?),
                None => self.records.contains_key(key(RECEIVED, id))?.then_some(Status::Received),
            };
            if let Some(why) = undecidable(id, now.as_ref()) {
                return Err(StoreError::Refused(why));
            }
            // Taken only if nobody decided in between.
            if self.statuses.compare_and_swap(id, old, Some(new.as_slice()))?.is_ok() {
                return self.flush();
            }
        }
    }
}

impl SledStore {
    /// Sets a status without the back office's checks: for tests and repairs only.
    pub fn set_status(&self, id: &str, status: &Status) -> Result<(), StoreError> {
        self.alive()?;
        let v = serde_json::to_vec(status).map_err(|e| StoreError::Damaged(e.to_string()))?;
        self.statuses.insert(id, v)?;
        self.flush()
    }
}

impl Store for SledStore {
    fn upload(&self, id: &str) -> Result<Option<Upload>, StoreError> {
        self.alive()?;
        let Some(u) = Self::json::<Upload>(self.records.get(key(UPLOAD, id))?)? else { return Ok(None) };
        Ok(Some(self.with_part(id, u)?))
    }

    fn uploads(&self) -> Result<Vec<(String, Upload)>, StoreError> {
        self.alive()?;
        let mut out = Vec::new();
        for item in self.records.scan_prefix([UPLOAD]) {
            let (k, v) = item?;
            let id = String::from_utf8_lossy(&k[1..]).into_owned();
            let u: Upload = serde_json::from_slice(&v).map_err(|e| StoreError::Damaged(e.to_string()))?;
            let u = self.with_part(&id, u)?;
            out.push((id, u));
        }
        Ok(out)
    }

    fn append(&self, id: &str, upload: &Upload, chunk: &[u8]) -> Result<u64, StoreError> {
        self.alive()?;
        let path = self.part(id)?;
        if upload.offset == 0 {
            // The head first: a file without one is never read.
            let head = serde_json::to_vec(upload).map_err(|e| StoreError::Damaged(e.to_string()))?;
            self.records.insert(key(UPLOAD, id), head)?;
            self.flush()?;
            write_synced(&path, chunk)?;
            sync_dir(&self.upload_dir)?;
            return Ok(chunk.len() as u64);
        }
        let mut f = std::fs::OpenOptions::new().append(true).open(&path)?;
        let held = f.metadata()?.len();
        if held != upload.offset {
            return Err(StoreError::Damaged(format!("upload {id} holds {held} bytes, not {}", upload.offset)));
        }
        f.write_all(chunk)?;
        f.sync_data()?;
        Ok(held + chunk.len() as u64)
    }

    fn upload_bytes(&self, id: &str) -> Result<Vec<u8>, StoreError> {
        self.alive()?;
        match std::fs::read(self.part(id)?) {
            Ok(b) => Ok(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    }

    fn drop_upload(&self, id: &str) -> Result<(), StoreError> {
        self.alive()?;
        self.records.remove(key(UPLOAD, id))?;
        self.flush()?;
        match std::fs::remove_file(self.part(id)?) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    fn receipt(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.alive()?;
        Ok(self.records.get(key(RECEIPT, id))?.map(|v| v.to_vec()))
    }

    fn commit(&self, id: &str, envelope: &[u8], received: &Received, receipt: &[u8]) -> Result<(), StoreError> {
        self.alive()?;
        // The bytes durable first: once the index names them, they are there.
        let at = self.segments.append(envelope, &self.poison)?;
        let facts = serde_json::to_vec(received).map_err(|e| StoreError::Damaged(e.to_string()))?;
        // One atomic batch in one tree: a multi-tree transaction cost more CPU than the
        // envelope's fsync (benchmark).
        let mut batch = sled::Batch::default();
        batch.insert(key(LOCATION, id), &at[..]);
        batch.insert(key(RECEIVED, id), facts);
        batch.insert(key(RECEIPT, id), receipt);
        batch.remove(key(UPLOAD, id));
        batch.insert(counter_key(&received.device_id, received.device_counter), id.as_bytes());
        self.records.apply_batch(batch)?;
        self.flush()?;
        // A partial upload's bytes are now in the envelope's own file.
        match std::fs::remove_file(self.part(id)?) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    fn claim_counter(&self, device_id: &str, counter: u64, id: &str) -> Result<Option<String>, StoreError> {
        self.alive()?;
        match self.records.compare_and_swap(
            counter_key(device_id, counter),
            None as Option<&[u8]>,
            Some(id.as_bytes()),
        )? {
            Ok(()) => Ok(None),
            Err(e) => {
                let other = e.current.map(|v| String::from_utf8_lossy(&v).into_owned()).unwrap_or_default();
                Ok((other != id).then_some(other))
            }
        }
    }

    fn bind_device_key(&self, device: &str, key: [u8; 32]) -> Result<Option<[u8; 32]>, StoreError> {
        self.alive()?;
        match self.device_keys.compare_and_swap(device, None as Option<&[u8]>, Some(&key[..]))? {
            Ok(()) => {
                self.flush()?;
                Ok(None)
            }
            Err(e) => {
                let bound = e.current.and_then(|v| <[u8; 32]>::try_from(v.as_ref()).ok()).unwrap_or_default();
                Ok((bound != key).then_some(bound))
            }
        }
    }

    fn manifest(&self, device: &str, batch: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.alive()?;
        Ok(self.manifests.get(manifest_key(device, batch))?.map(|v| v.to_vec()))
    }

    fn put_manifest(
        &self,
        device: &str,
        batch: &str,
        bytes: &[u8],
        decisions: &[(String, Status)],
    ) -> Result<(), StoreError> {
        self.alive()?;
        use sled::Transactional;
        let encoded: Vec<(String, Vec<u8>)> = decisions
            .iter()
            .map(|(id, s)| serde_json::to_vec(s).map(|v| (id.clone(), v)))
            .collect::<Result<_, _>>()
            .map_err(|e| StoreError::Damaged(e.to_string()))?;
        (&self.manifests, &self.statuses)
            .transaction(|(m, st)| {
                m.insert(manifest_key(device, batch), bytes)?;
                for (id, v) in &encoded {
                    // An application already in a batch keeps its first status (and any
                    // verdict on it): a status its tablet settled on never changes.
                    if st.get(id.as_bytes())?.is_none() {
                        st.insert(id.as_bytes(), v.as_slice())?;
                    }
                }
                Ok(())
            })
            .map_err(tx_error)?;
        self.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poisoned_store_answers_nothing() {
        let d = tempfile::tempdir().unwrap();
        let store = SledStore::open(d.path()).unwrap();
        assert_eq!(store.received("x").unwrap(), None);
        let _ = store.poison.set("EIO on fsync".into());
        let e = store.received("x").unwrap_err();
        assert!(matches!(e, StoreError::Poisoned(_)), "{e}");
        assert!(e.to_string().contains("restart the hub"), "{e}");
        assert!(store.all_received().is_err() && store.receipt("x").is_err());
    }

    #[test]
    fn opening_sweeps_partial_files_without_an_upload_and_refuses_an_old_layout() {
        let d = tempfile::tempdir().unwrap();
        drop(SledStore::open(d.path()).unwrap());
        let orphan = d.path().join("uploads").join("0190f0c48a2b70008000000000000001.part");
        std::fs::write(&orphan, b"left by a stop between commit and removal").unwrap();
        drop(SledStore::open(d.path()).unwrap());
        assert!(!orphan.exists(), "a .part file nobody is uploading is removed");

        let old = tempfile::tempdir().unwrap();
        std::fs::write(old.path().join("db"), b"an earlier hub's sled").unwrap();
        let e = SledStore::open(old.path()).err().expect("refused");
        assert!(e.to_string().contains("earlier doorstep-hub"), "{e}");
    }
}
