//! Opening the store: the layout checked, the journal's torn tail cut, the index opened (or,
//! when it is missing, will not open, cannot be read through, or is asked to be, moved aside as
//! `index.damaged-N` and rebuilt from the segments and the journal), orphan partial files
//! swept. What was found and done is the store's [`Recovery`].
//!
//! Reading the whole index through costs about 5 ms per thousand envelopes; it is done when
//! the last hub did not close the index cleanly (killed, a power cut), like a file system's
//! check after an unclean stop. `doorstep-hub rebuild-index` rebuilds it whenever asked.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use doorstep_envelope::SealedEnvelope;

use super::frame::{self, Found, Kind};
use super::index::{
    EnvelopeMeta, LOCATION, ManifestMeta, RECEIPT, RECEIVED, SledStore, UPLOAD, counter_key, damaged, key,
};
use super::journal::{Entry, Journal};
use super::segments::{SEGMENT_HEADER, Segments, location, sync_dir};
use super::{Rebuilt, Recovery, Status, StoreError, private_dir};

/// The index's mark of this layout (framed segments, a journal), in its default tree.
const LAYOUT_KEY: &[u8] = b"layout";
const LAYOUT: &[u8] = b"doorstep-hub-index-2";

/// Why the index could not be used as it is.
enum Unusable {
    /// Another process holds it: not damage, an error.
    Locked(StoreError),
    Damaged,
}

/// Opens sled at `path`, waiting up to two seconds for its lock: a hub that was just stopped
/// (or a child process forked while it held the lock, until its exec closes the descriptor)
/// lets go a moment later. A sled that fails to open for another reason, or panics, is damaged.
fn open_sled(path: &Path) -> Result<sled::Db, Unusable> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        match catch_unwind(AssertUnwindSafe(|| sled::Config::new().path(path).open())) {
            Ok(Ok(db)) => return Ok(db),
            Ok(Err(sled::Error::Io(e))) if e.to_string().contains("could not acquire lock") => {
                if std::time::Instant::now() >= deadline {
                    return Err(Unusable::Locked(StoreError::Io(std::io::Error::new(
                        e.kind(),
                        format!("{e} (is another doorstep-hub using this folder?)"),
                    ))));
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Ok(Err(_)) | Err(_) => return Err(Unusable::Damaged),
        }
    }
}

/// The index's mark that the hub closed it cleanly, in its default tree (see `Drop`).
pub(super) const CLEAN_KEY: &[u8] = b"closed-cleanly";

/// Whether the hub that last had the index closed it cleanly (it flushed everything and
/// marked it so). The mark is taken away, durably, before the index is used: a hub that
/// stops without closing leaves none, and the next open reads the index through.
fn closed_cleanly(db: &sled::Db) -> bool {
    catch_unwind(AssertUnwindSafe(|| db.remove(CLEAN_KEY).is_ok_and(|v| v.is_some()) && db.flush().is_ok()))
        .unwrap_or(false)
}

/// Reads every entry of every tree; false on any read error (or a panic inside sled).
fn readable(db: &sled::Db) -> bool {
    catch_unwind(AssertUnwindSafe(|| {
        db.tree_names().iter().all(|name| db.open_tree(name).is_ok_and(|tree| tree.iter().all(|item| item.is_ok())))
    }))
    .unwrap_or(false)
}

/// Whether the index holds nothing at all.
fn empty(db: &sled::Db) -> bool {
    db.tree_names().iter().all(|name| db.open_tree(name).is_ok_and(|t| t.is_empty()))
}

/// Moves the index aside as `index.damaged-N`; returns where.
fn quarantine(dir: &Path) -> Result<std::path::PathBuf, StoreError> {
    let mut n = 0;
    let aside = loop {
        let candidate = dir.join(format!("index.damaged-{n}"));
        if !candidate.exists() {
            break candidate;
        }
        n += 1;
    };
    std::fs::rename(dir.join("index"), &aside)?;
    sync_dir(dir)?;
    Ok(aside)
}

/// A fresh index at `dir/index` (0700).
fn fresh_index(dir: &Path) -> Result<sled::Db, StoreError> {
    private_dir(&dir.join("index"))?;
    open_sled(&dir.join("index")).map_err(|u| match u {
        Unusable::Locked(e) => e,
        Unusable::Damaged => StoreError::Damaged("a fresh index cannot be created".into()),
    })
}

/// The index's own files, 0600 (sled makes them with the process's umask; they are in a
/// folder only the hub's user can open, from its creation).
fn tighten(index: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut dirs = vec![index.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let mode = if entry.path().is_dir() { 0o700 } else { 0o600 };
            let _ = std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(mode));
            if mode == 0o700 {
                dirs.push(entry.path());
            }
        }
    }
}

impl SledStore {
    /// Opens the store in `dir` (made if missing), rebuilding its index if it is missing or
    /// damaged.
    pub fn open(dir: &Path) -> Result<SledStore, StoreError> {
        Self::open_with(dir, false)
    }

    /// Opens the store with its index moved aside and rebuilt from the segments and the
    /// journal (`doorstep-hub rebuild-index`).
    pub fn rebuild_index(dir: &Path) -> Result<SledStore, StoreError> {
        Self::open_with(dir, true)
    }

    fn open_with(dir: &Path, force: bool) -> Result<SledStore, StoreError> {
        if !dir.join("index").exists() && (dir.join("db").exists() || dir.join("conf").exists()) {
            return Err(StoreError::Damaged(format!(
                "{} is a store of an earlier doorstep-hub (sled at its top, envelopes inside it); \
                 this version keeps an index and segment files: export it with the earlier version first",
                dir.display()
            )));
        }
        private_dir(dir)?;
        let segments = Segments::open(dir.join("envelopes"))?;
        let (journal, entries, scan) = Journal::open(dir)?;
        let upload_dir = dir.join("uploads");
        private_dir(&upload_dir)?;
        let journal_path = dir.join("journal.log");
        let mut recovery = Recovery {
            journal_torn_tail: scan.torn_tail,
            damaged: scan.damaged.iter().map(|&(at, len)| (journal_path.clone(), at, len)).collect(),
            ..Recovery::default()
        };
        let index = dir.join("index");
        let had_index = index.exists();
        let db = if force && had_index {
            recovery.quarantined = Some(quarantine(dir)?);
            fresh_index(dir)?
        } else if !had_index {
            fresh_index(dir)?
        } else {
            match open_sled(&index) {
                Ok(db) if closed_cleanly(&db) || readable(&db) => db,
                Ok(db) => {
                    drop(db);
                    recovery.quarantined = Some(quarantine(dir)?);
                    fresh_index(dir)?
                }
                Err(Unusable::Locked(e)) => return Err(e),
                Err(Unusable::Damaged) => {
                    recovery.quarantined = Some(quarantine(dir)?);
                    fresh_index(dir)?
                }
            }
        };
        tighten(&index);
        let marked = db.get(LAYOUT_KEY)?.is_some_and(|v| v == LAYOUT);
        if !marked && !empty(&db) {
            return Err(StoreError::Damaged(format!(
                "{} has no mark of this layout: it is the index of an earlier doorstep-hub (export the store \
                 with that version first), or it is damaged (doorstep-hub rebuild-index moves it aside and \
                 rebuilds it from the segments and the journal)",
                index.display()
            )));
        }
        let files_hold_records = !entries.is_empty() || segments_hold_frames(&segments)?;
        let mut store = SledStore::assemble(db, segments, journal, upload_dir.clone(), recovery)?;
        if !marked {
            if force || store.recovery.quarantined.is_some() || files_hold_records {
                store.rebuild(entries)?;
            }
            store.db.insert(LAYOUT_KEY, LAYOUT)?;
            store.flush()?;
        }
        // A partial upload's file without its record: the envelope was committed (or the
        // upload dropped, or the index rebuilt) and the hub stopped before the file went.
        for entry in std::fs::read_dir(&upload_dir)? {
            let entry = entry?;
            let name = entry.file_name();
            if let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".part"))
                && !store.records.contains_key(key(UPLOAD, id))?
            {
                std::fs::remove_file(entry.path())?;
            }
        }
        Ok(store)
    }

    /// Fills a fresh index from the segments and the journal.
    fn rebuild(&mut self, entries: Vec<Entry>) -> Result<(), StoreError> {
        let mut rebuilt = Rebuilt::default();
        // Keys bound in the journal first: the binding a device made is the one it keeps.
        for entry in &entries {
            if let Entry::DeviceKey { device, key } = entry
                && self.device_keys.insert(device.as_bytes(), &key[..])?.is_none()
            {
                rebuilt.device_keys += 1;
            }
        }
        for number in self.segments.numbers()? {
            let bytes = self.segments.read_whole(number)?;
            let path = self.segments.path(number);
            let start = SEGMENT_HEADER.len().min(bytes.len());
            for found in frame::scan(&bytes[start..], start as u64) {
                let f = match found {
                    Found::Frame(f) => f,
                    Found::Damaged { at, len } => {
                        self.recovery.damaged.push((path.clone(), at, len));
                        continue;
                    }
                };
                let taken = match f.kind {
                    Kind::Envelope => self.take_envelope(number, &f, &mut rebuilt)?,
                    Kind::Manifest => self.take_manifest(&f, &mut rebuilt)?,
                    Kind::DeviceKey | Kind::Status | Kind::Appointment | Kind::Feedback => false,
                };
                if !taken {
                    self.recovery.damaged.push((path.clone(), f.at, f.end - f.at));
                }
            }
        }
        // Verdicts (and repairs) last: they stand over any manifest's status. Appointments in
        // the order they were written: the last of each id is how it stands.
        for entry in entries {
            match entry {
                Entry::Status { id, status } => {
                    serde_json::from_slice::<Status>(&status).map_err(damaged)?;
                    self.statuses.insert(id.as_bytes(), status)?;
                    rebuilt.statuses += 1;
                }
                Entry::Appointment { id, booked } => {
                    serde_json::from_slice::<super::Booked>(&booked).map_err(damaged)?;
                    if self.appointments.insert(id.as_bytes(), booked)?.is_none() {
                        rebuilt.appointments += 1;
                    }
                }
                Entry::Feedback { id, held, sealed } => {
                    serde_json::from_slice::<super::HeldFeedback>(&held).map_err(damaged)?;
                    if !sealed.is_empty() {
                        self.feedback_sealed.insert(id.as_bytes(), sealed)?;
                    }
                    if self.feedback.insert(id.as_bytes(), held)?.is_none() {
                        rebuilt.feedback += 1;
                    }
                }
                Entry::DeviceKey { .. } => {}
            }
        }
        self.recovery.rebuilt = Some(rebuilt);
        Ok(())
    }

    /// An envelope frame into the index; false when it does not hold what it says.
    fn take_envelope(&self, number: u32, f: &frame::Frame<'_>, rebuilt: &mut Rebuilt) -> Result<bool, StoreError> {
        let Ok(meta) = serde_json::from_slice::<EnvelopeMeta>(f.meta) else { return Ok(false) };
        let (Ok(id), Ok(receipt)) = (std::str::from_utf8(f.key), hex::decode(&meta.receipt)) else { return Ok(false) };
        let Ok(envelope) = SealedEnvelope::from_bytes(f.body) else { return Ok(false) };
        if hex::encode(envelope.digest()) != meta.received.digest || envelope.application_id().to_string() != id {
            return Ok(false);
        }
        let r = &meta.received;
        let facts = serde_json::to_vec(r).map_err(damaged)?;
        let mut batch = sled::Batch::default();
        batch.insert(key(LOCATION, id), &location(number, f.body_at, f.body.len() as u64)[..]);
        batch.insert(key(RECEIVED, id), facts);
        batch.insert(key(RECEIPT, id), receipt);
        batch.insert(counter_key(&r.device_id, r.device_counter), id.as_bytes());
        self.records.apply_batch(batch)?;
        // A device whose binding the journal lost keeps the key of its first envelope.
        let device_key = envelope.header().device_key;
        if self.device_keys.compare_and_swap(r.device.as_bytes(), None as Option<&[u8]>, Some(&device_key[..]))?.is_ok()
        {
            rebuilt.device_keys += 1;
        }
        rebuilt.envelopes += 1;
        Ok(true)
    }

    /// A manifest frame into the index: the first status an application had stays.
    fn take_manifest(&self, f: &frame::Frame<'_>, rebuilt: &mut Rebuilt) -> Result<bool, StoreError> {
        let Ok(meta) = serde_json::from_slice::<ManifestMeta>(f.meta) else { return Ok(false) };
        self.manifests.insert(f.key, f.body)?;
        for (id, status) in &meta.decisions {
            let v = serde_json::to_vec(status).map_err(damaged)?;
            let _ = self.statuses.compare_and_swap(id.as_bytes(), None as Option<&[u8]>, Some(v))?;
        }
        rebuilt.manifests += 1;
        Ok(true)
    }
}

/// Whether any segment holds more than its header.
fn segments_hold_frames(segments: &Segments) -> Result<bool, StoreError> {
    for n in segments.numbers()? {
        if std::fs::metadata(segments.path(n))?.len() > SEGMENT_HEADER.len() as u64 {
            return Ok(true);
        }
    }
    Ok(false)
}
