//! The default store: a sled index over framed segment files, a journal, and partial-upload
//! files. Opening it (and rebuilding its index from the files) is `open`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use serde::{Deserialize, Serialize};

use super::frame::{self, Kind};
use super::journal::{Entry, Journal};
use super::segments::{GroupFlush, Segments, location, sync_dir};
use super::{Received, Records, Recovery, Status, Store, StoreError, Upload, undecidable};

/// sled for the index (upload heads, facts, receipts, where each envelope is, counters,
/// manifests, statuses, device keys), and what the index says kept in files it can be
/// rebuilt from:
///
/// ```text
/// DIR/index/                        sled (the index; rebuilt from the rest when lost or damaged)
/// DIR/envelopes/seg-NNNNNNNN.log    frames: each envelope with its facts and receipt, each manifest
/// DIR/journal.log                   frames: device keys bound, verdicts, appointments, feedback
/// DIR/uploads/ID.part               a partial upload's bytes (when it came in several chunks)
/// ```
///
/// A frame is fsynced before the index says it, so the index never names bytes that are not
/// on disk. Frames the index does not name (a commit the hub did not finish) are not
/// acknowledged to anyone; a rebuild takes them in, which says no more than the tablet's next
/// question would. A partial upload's file only ever grows by chunks that passed their
/// checksum, so its length is always an offset the tablet can resume from; partial uploads
/// are not rebuilt (their tablets start them again).
pub struct SledStore {
    pub(super) db: sled::Db,
    group: GroupFlush,
    /// Set when an fsync failed (see [`StoreError::Poisoned`]).
    pub(super) poison: OnceLock<String>,
    pub(super) segments: Segments,
    pub(super) journal: Journal,
    upload_dir: PathBuf,
    /// Per application, keyed by a kind byte and the id: its facts, receipt, location, partial
    /// upload, and the device counters used.
    pub(super) records: sled::Tree,
    pub(super) device_keys: sled::Tree,
    pub(super) manifests: sled::Tree,
    pub(super) statuses: sled::Tree,
    /// Appointments by id: each a `Booked`, as JSON.
    pub(super) appointments: sled::Tree,
    /// Feedback by id: each a `HeldFeedback` (JSON), and its sealed bytes in `feedback_sealed`.
    pub(super) feedback: sled::Tree,
    pub(super) feedback_sealed: sled::Tree,
    /// Verdicts, manifests and appointments one at a time: each is journalled before the index
    /// has it (a manifest is compared with the decisions held, under it, first).
    pub(super) journalled: Mutex<()>,
    pub(super) recovery: Recovery,
}

impl Drop for SledStore {
    /// Marks the index as closed cleanly once everything is flushed, so that the next open
    /// need not read it through (see `open`). A poisoned store is not marked.
    fn drop(&mut self) {
        if self.poison.get().is_none() && self.db.flush().is_ok() {
            let _ = self.db.insert(super::open::CLEAN_KEY, &[1u8][..]).and_then(|_| self.db.flush());
        }
    }
}

/// An envelope frame's meta: its facts and the receipt the hub signed.
#[derive(Serialize, Deserialize)]
pub(super) struct EnvelopeMeta {
    pub received: Received,
    pub receipt: String,
}

/// A manifest frame's meta: the decisions it made.
#[derive(Serialize, Deserialize)]
pub(super) struct ManifestMeta {
    pub decisions: Vec<(String, Status)>,
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

pub(super) fn damaged(e: impl std::fmt::Display) -> StoreError {
    StoreError::Damaged(e.to_string())
}

impl SledStore {
    /// The parts of a store, its index open; `open` checks and rebuilds.
    pub(super) fn assemble(
        db: sled::Db,
        segments: Segments,
        journal: Journal,
        upload_dir: PathBuf,
        recovery: Recovery,
    ) -> Result<SledStore, StoreError> {
        Ok(SledStore {
            records: db.open_tree("records")?,
            device_keys: db.open_tree("device-keys")?,
            manifests: db.open_tree("manifests")?,
            statuses: db.open_tree("statuses")?,
            appointments: db.open_tree("appointments")?,
            feedback: db.open_tree("feedback")?,
            feedback_sealed: db.open_tree("feedback-sealed")?,
            segments,
            journal,
            group: GroupFlush::default(),
            poison: OnceLock::new(),
            upload_dir,
            journalled: Mutex::new(()),
            recovery,
            db,
        })
    }

    /// What opening the store found and did (an index rebuilt, a journal's torn tail cut).
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    pub(super) fn json<T: for<'de> Deserialize<'de>>(v: Option<sled::IVec>) -> Result<Option<T>, StoreError> {
        v.map(|v| serde_json::from_slice(&v).map_err(damaged)).transpose()
    }

    pub(super) fn flush(&self) -> Result<(), StoreError> {
        self.group.flush(&self.poison, || {
            self.db.flush()?;
            Ok(())
        })
    }

    /// Refuses everything once the store is poisoned.
    pub(super) fn alive(&self) -> Result<(), StoreError> {
        match self.poison.get() {
            Some(e) => Err(StoreError::Poisoned(e.clone())),
            None => Ok(()),
        }
    }

    pub(super) fn part(&self, id: &str) -> Result<PathBuf, StoreError> {
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

    /// Appends a frame to the segments; returns where its body is, durable.
    fn append_frame(&self, kind: Kind, key: &[u8], meta: &[u8], body: &[u8]) -> Result<[u8; 20], StoreError> {
        let head = frame::head(kind, key, meta, body);
        let (number, offset) = self.segments.append(&[&head, body], &self.poison)?;
        Ok(location(number, offset + head.len() as u64, body.len() as u64))
    }

    /// A status in the journal, then in the index: a verdict is never lost with the index.
    fn journal_status(&self, id: &str, status: &Status) -> Result<(), StoreError> {
        let v = serde_json::to_vec(status).map_err(damaged)?;
        self.journal.append(&Entry::Status { id: id.to_string(), status: v.clone() }, &self.poison)?;
        self.statuses.insert(id, v)?;
        self.flush()
    }

    /// Sets a status without the back office's checks: for tests and repairs only.
    pub fn set_status(&self, id: &str, status: &Status) -> Result<(), StoreError> {
        self.alive()?;
        let _one = self.journalled.lock().unwrap_or_else(|e| e.into_inner());
        self.journal_status(id, status)
    }
}

/// The kinds of record in the `records` tree, each key's first byte.
pub(super) const RECEIVED: u8 = b'r';
pub(super) const RECEIPT: u8 = b'c';
pub(super) const LOCATION: u8 = b'l';
pub(super) const UPLOAD: u8 = b'u';
const COUNTER: u8 = b'n';

pub(super) fn key(kind: u8, id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + id.len());
    k.push(kind);
    k.extend_from_slice(id.as_bytes());
    k
}

/// Batches are kept by device: one device's batch id says nothing of another's.
pub(super) fn manifest_key(device: &str, batch: &str) -> Vec<u8> {
    let mut k = device.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(batch.as_bytes());
    k
}

pub(super) fn counter_key(device_id: &str, counter: u64) -> Vec<u8> {
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
            let r: Received = serde_json::from_slice(&v).map_err(damaged)?;
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
        // One verdict at a time: read, journal, index. A manifest never changes a status
        // that is there, so nothing else can come between.
        let _one = self.journalled.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(why) = undecidable(id, self.status(id)?.as_ref()) {
            return Err(StoreError::Refused(why));
        }
        self.journal_status(id, verdict)
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
            let u: Upload = serde_json::from_slice(&v).map_err(damaged)?;
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
            let head = serde_json::to_vec(upload).map_err(damaged)?;
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

    fn commit(&self, id: &str, envelope: &[u8], received: &Received, receipt: &[u8]) -> Result<Vec<u8>, StoreError> {
        self.alive()?;
        // The frame durable first (the envelope with its facts and receipt, from which the
        // index can be rebuilt): once the index names it, it is there.
        let meta = EnvelopeMeta { received: received.clone(), receipt: hex::encode(receipt) };
        let meta = serde_json::to_vec(&meta).map_err(damaged)?;
        let at = self.append_frame(Kind::Envelope, id.as_bytes(), &meta, envelope)?;
        let facts = serde_json::to_vec(received).map_err(damaged)?;
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
        // A partial upload's bytes are now in the segment.
        match std::fs::remove_file(self.part(id)?) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            // One process holds the store, and the service commits an id once at a time.
            _ => Ok(receipt.to_vec()),
        }
    }

    fn claim_counter(&self, device_id: &str, counter: u64, id: &str) -> Result<Option<String>, StoreError> {
        self.alive()?;
        // Durable with the envelope's commit, whose frame names the counter: a counter claimed
        // by an envelope that never reached the segments was not used at the hub.
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
                // Journalled, then flushed, before anyone is told it is bound: the binding
                // outlives the index. (An envelope committed meanwhile by the same device names
                // the same key in its frame, from which a rebuild binds it too.)
                self.journal.append(&Entry::DeviceKey { device: device.to_string(), key }, &self.poison)?;
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
    ) -> Result<super::ManifestTaken, StoreError> {
        self.alive()?;
        use sled::Transactional;
        // One at a time with the other manifests and the verdicts: compared, journalled and
        // indexed with nothing between (a verdict keeps an approval an approval; see
        // `same_decision`).
        let _one = self.journalled.lock().unwrap_or_else(|e| e.into_inner());
        let k = manifest_key(device, batch);
        match self.manifests.get(&k)? {
            Some(held) if held == bytes => return Ok(super::ManifestTaken::Taken),
            Some(_) => return Ok(super::ManifestTaken::OtherContents),
            None => {}
        }
        let mut decided = Vec::new();
        for (id, status) in decisions {
            if let Some(standing) = self.status(id)?
                && !super::same_decision(&standing, status)
            {
                decided.push(id.clone());
            }
        }
        if !decided.is_empty() {
            return Ok(super::ManifestTaken::DecidedBefore(decided));
        }
        // The manifest and its decisions in a frame first, from which a rebuild takes them.
        let meta = serde_json::to_vec(&ManifestMeta { decisions: decisions.to_vec() }).map_err(damaged)?;
        self.append_frame(Kind::Manifest, &k, &meta, bytes)?;
        let encoded: Vec<(String, Vec<u8>)> = decisions
            .iter()
            .map(|(id, s)| serde_json::to_vec(s).map(|v| (id.clone(), v)))
            .collect::<Result<_, _>>()
            .map_err(damaged)?;
        (&self.manifests, &self.statuses)
            .transaction(|(m, st)| {
                m.insert(k.as_slice(), bytes)?;
                for (id, v) in &encoded {
                    // An application already in a batch keeps its first status (and any
                    // verdict on it): a status its tablet settled on never changes.
                    if st.get(id.as_bytes())?.is_none() {
                        st.insert(id.as_bytes(), v.as_slice())?;
                    }
                }
                Ok(())
            })
            .map_err(|e: sled::transaction::TransactionError<()>| match e {
                sled::transaction::TransactionError::Storage(s) => StoreError::Sled(s),
                sled::transaction::TransactionError::Abort(()) => damaged("transaction aborted"),
            })?;
        self.flush()?;
        Ok(super::ManifestTaken::Taken)
    }
}
