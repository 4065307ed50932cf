//! The hub's storage behind a small trait, with sled (and segment files) as the default.
//! Everything a reply promises (an offset, a receipt) is on the disk before the reply is sent,
//! and while an upload is being committed nothing is said of it (see `Service::handle`).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

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

/// What the hub keeps. Implementations make each write durable before returning.
pub trait Store: Records {
    /// A partial upload, with the bytes held so far in `offset`.
    fn upload(&self, id: &str) -> Result<Option<Upload>, StoreError>;
    /// Appends a chunk that passed its checksum at `upload.offset` (starting the upload when
    /// it is 0) and returns the new offset, durable.
    fn append(&self, id: &str, upload: &Upload, chunk: &[u8]) -> Result<u64, StoreError>;
    /// The bytes of a partial upload so far.
    fn upload_bytes(&self, id: &str) -> Result<Vec<u8>, StoreError>;
    /// Forgets a partial upload (its bytes failed the envelope's checks).
    fn drop_upload(&self, id: &str) -> Result<(), StoreError>;
    fn receipt(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Stores a whole envelope, its facts and its receipt, and drops the partial upload, as
    /// one: the envelope is durable before anything says it was received.
    fn commit(&self, id: &str, envelope: &[u8], received: &Received, receipt: &[u8]) -> Result<(), StoreError>;
    /// Takes a device counter for application `id`, atomically: `Some(other)` when another
    /// application already has it (a replay), `None` when it is now (or was already) `id`'s.
    fn claim_counter(&self, device_id: &str, counter: u64, id: &str) -> Result<Option<String>, StoreError>;
    /// Binds an enrolled device to the signing key it first uses, atomically: `Some(key)`
    /// when it is bound to another key already, `None` when it is (now) bound to `key`.
    fn bind_device_key(&self, device: &str, key: [u8; 32]) -> Result<Option<[u8; 32]>, StoreError>;
    /// A supervisor's manifest, by batch id.
    fn manifest(&self, batch: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Stores a manifest and each application's decision, as one; an application that already
    /// has a status (from an earlier batch) keeps it.
    fn put_manifest(&self, batch: &str, bytes: &[u8], decisions: &[(String, Status)]) -> Result<(), StoreError>;
}

pub use doorstep_sync::wire::Status;

/// Group commit: writers that finished before a flush began share it, so fifty tablets
/// uploading at once cost a few fsyncs, not fifty, and none is told "durable" early.
#[derive(Default)]
struct GroupFlush {
    /// Tickets handed out: one per writer, taken after its write.
    issued: std::sync::atomic::AtomicU64,
    /// (every ticket up to this one is durable, a flush is running).
    state: std::sync::Mutex<(u64, bool)>,
    done: std::sync::Condvar,
}

impl GroupFlush {
    /// Returns once `sync` has run, in this thread or another, after the caller's write. A
    /// failed `sync` poisons the store: every writer it covered, and every later one, gets the
    /// error (a retried fsync could succeed without the lost pages).
    fn flush(
        &self,
        poison: &std::sync::OnceLock<String>,
        sync: impl Fn() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering;
        let poisoned = || poison.get().map(|e| StoreError::Poisoned(e.clone()));
        let ticket = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(e) = poisoned() {
                return Err(e);
            }
            if st.0 >= ticket {
                return Ok(());
            }
            if !st.1 {
                // Every ticket issued so far was taken after its write: this flush covers it.
                st.1 = true;
                let target = self.issued.load(Ordering::SeqCst);
                drop(st);
                let result = sync();
                st = self.state.lock().unwrap_or_else(|e| e.into_inner());
                st.1 = false;
                match result {
                    Ok(()) => st.0 = st.0.max(target),
                    Err(e) => {
                        let _ = poison.set(e.to_string());
                    }
                }
                self.done.notify_all();
                continue;
            }
            st = self.done.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// An append-only file of whole envelopes, `envelopes/seg-NNNNNNNN.log`. Writers reserve a
/// range under a lock, write it in parallel, and share fsyncs (group commit).
struct Segment {
    number: u32,
    file: std::fs::File,
    /// Bytes reserved so far.
    len: std::sync::atomic::AtomicU64,
    group: GroupFlush,
}

/// A new segment is started past this size (and at each start of the hub).
const SEGMENT_LIMIT: u64 = 256 * 1024 * 1024;

/// Where an envelope is: segment number (u32 BE), offset (u64 BE), length (u64 BE).
fn location(number: u32, offset: u64, len: u64) -> [u8; 20] {
    let mut k = [0u8; 20];
    k[..4].copy_from_slice(&number.to_be_bytes());
    k[4..12].copy_from_slice(&offset.to_be_bytes());
    k[12..].copy_from_slice(&len.to_be_bytes());
    k
}

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
///
/// Why segments and not a file per envelope: creating, fsyncing and naming a file durably
/// per envelope cost a quarter of the hub's CPU in the benchmark (ext4 inode allocation and
/// two fsyncs each); fifty tablets' envelopes appended to one file share one fsync.
pub struct SledStore {
    db: sled::Db,
    group: GroupFlush,
    /// Set when an fsync failed (see [`StoreError::Poisoned`]).
    poison: std::sync::OnceLock<String>,
    envelope_dir: PathBuf,
    upload_dir: PathBuf,
    /// The segment new envelopes go to; started at the first envelope after opening.
    current: std::sync::Mutex<Option<std::sync::Arc<Segment>>>,
    next_segment: std::sync::atomic::AtomicU32,
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

fn segment_name(number: u32) -> String {
    format!("seg-{number:08}.log")
}

fn segment_number(name: &str) -> Option<u32> {
    name.strip_prefix("seg-")?.strip_suffix(".log")?.parse().ok()
}

/// Writes `bytes` to a new file at `path` and fsyncs it.
fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(bytes)?;
    f.sync_data()
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
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
        let envelope_dir = dir.join("envelopes");
        let upload_dir = dir.join("uploads");
        std::fs::create_dir_all(&envelope_dir)?;
        std::fs::create_dir_all(&upload_dir)?;
        let mut last = 0;
        for entry in std::fs::read_dir(&envelope_dir)? {
            let name = entry?.file_name();
            if let Some(n) = name.to_str().and_then(segment_number) {
                last = last.max(n);
            }
        }
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
            current: std::sync::Mutex::new(None),
            next_segment: std::sync::atomic::AtomicU32::new(last + 1),
            records,
            device_keys: db.open_tree("device-keys")?,
            manifests: db.open_tree("manifests")?,
            statuses: db.open_tree("statuses")?,
            group: GroupFlush::default(),
            poison: std::sync::OnceLock::new(),
            envelope_dir,
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

    /// Appends an envelope to the current segment and returns where it is, durable.
    fn append_envelope(&self, bytes: &[u8]) -> Result<[u8; 20], StoreError> {
        use std::os::unix::fs::{FileExt, OpenOptionsExt};
        use std::sync::atomic::Ordering;
        let size = bytes.len() as u64;
        let (segment, offset) = {
            let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
            let segment = match current.as_ref() {
                Some(s) if s.len.load(Ordering::Relaxed) + size <= SEGMENT_LIMIT => s.clone(),
                _ => {
                    let number = self.next_segment.fetch_add(1, Ordering::Relaxed);
                    let file = std::fs::OpenOptions::new()
                        .read(true)
                        .write(true)
                        .create_new(true)
                        .mode(0o600)
                        .open(self.envelope_dir.join(segment_name(number)))?;
                    // The segment's name durable before the index points into it.
                    sync_dir(&self.envelope_dir)?;
                    let s = std::sync::Arc::new(Segment {
                        number,
                        file,
                        len: std::sync::atomic::AtomicU64::new(0),
                        group: GroupFlush::default(),
                    });
                    *current = Some(s.clone());
                    s
                }
            };
            let offset = segment.len.fetch_add(size, Ordering::Relaxed);
            (segment, offset)
        };
        segment.file.write_all_at(bytes, offset)?;
        segment.group.flush(&self.poison, || Ok(segment.file.sync_data()?))?;
        Ok(location(segment.number, offset, size))
    }

    fn part(&self, id: &str) -> Result<PathBuf, StoreError> {
        Ok(self.upload_dir.join(file_name(id, "part")?))
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
        use std::os::unix::fs::FileExt;
        let Some(at) = self.records.get(key(LOCATION, id))? else { return Ok(None) };
        let bad = || StoreError::Damaged(format!("the location of envelope {id}"));
        let at: [u8; 20] = at.as_ref().try_into().map_err(|_| bad())?;
        let number = u32::from_be_bytes(at[..4].try_into().map_err(|_| bad())?);
        let offset = u64::from_be_bytes(at[4..12].try_into().map_err(|_| bad())?);
        let len = u64::from_be_bytes(at[12..].try_into().map_err(|_| bad())?);
        if len > doorstep_sync::wire::MAX_ENVELOPE {
            return Err(bad());
        }
        let path = self.envelope_dir.join(segment_name(number));
        let file = std::fs::File::open(&path).map_err(|e| {
            StoreError::Io(std::io::Error::new(e.kind(), format!("{} (holds envelope {id}): {e}", path.display())))
        })?;
        let mut bytes = vec![0u8; len as usize];
        file.read_exact_at(&mut bytes, offset)?;
        Ok(Some(bytes))
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
        let Some(mut u) = Self::json::<Upload>(self.records.get(key(UPLOAD, id))?)? else { return Ok(None) };
        u.offset = match std::fs::metadata(self.part(id)?) {
            Ok(m) => m.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => return Err(e.into()),
        };
        Ok(Some(u))
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
        let at = self.append_envelope(envelope)?;
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

    fn manifest(&self, batch: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.alive()?;
        Ok(self.manifests.get(batch)?.map(|v| v.to_vec()))
    }

    fn put_manifest(&self, batch: &str, bytes: &[u8], decisions: &[(String, Status)]) -> Result<(), StoreError> {
        self.alive()?;
        use sled::Transactional;
        let encoded: Vec<(String, Vec<u8>)> = decisions
            .iter()
            .map(|(id, s)| serde_json::to_vec(s).map(|v| (id.clone(), v)))
            .collect::<Result<_, _>>()
            .map_err(|e| StoreError::Damaged(e.to_string()))?;
        (&self.manifests, &self.statuses)
            .transaction(|(m, st)| {
                m.insert(batch, bytes)?;
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
    fn a_failed_fsync_fails_every_writer_it_covered_and_every_later_one() {
        let group = std::sync::Arc::new(GroupFlush::default());
        let poison = std::sync::Arc::new(std::sync::OnceLock::new());
        let syncs = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        // Eight writers at once; the first fsync fails slowly, so the others wait on it.
        let writers: Vec<_> = (0..8)
            .map(|_| {
                let (group, poison, syncs) = (group.clone(), poison.clone(), syncs.clone());
                std::thread::spawn(move || {
                    group.flush(&poison, || {
                        std::thread::sleep(std::time::Duration::from_millis(50));
                        match syncs.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
                            0 => Err(StoreError::Io(std::io::Error::other("EIO"))),
                            _ => Ok(()),
                        }
                    })
                })
            })
            .collect();
        for w in writers {
            assert!(matches!(w.join().unwrap(), Err(StoreError::Poisoned(_))), "no writer hears 'durable'");
        }
        assert_eq!(syncs.load(std::sync::atomic::Ordering::SeqCst), 1, "the failed fsync is not retried");
        // A later writer, whose fsync would succeed, is refused too.
        assert!(matches!(group.flush(&poison, || Ok(())), Err(StoreError::Poisoned(_))));
    }

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
