//! Recovery after any stop: the index brought in line with the files (envelopes, drafts,
//! receipts), interrupted seals and uploads settled, and the counter kept above every one used.

use std::fs;
use std::path::{Path, PathBuf};

use crate::audit::{self, AuditEntry};
use crate::outbox::{self, OutboxEvent, OutboxState};
use crate::seal::SLOT_EXT;
use crate::{DRAFTS, ENVELOPES, FEEDBACK, OutboxEntry, RECEIPTS, Vault, VaultError, crypto, fsutil};

/// The highest counter the audit log's seal entries name ("ID #counter").
fn audit_counters(entries: &[AuditEntry]) -> u64 {
    entries
        .iter()
        .filter(|e| e.action == "seal")
        .filter_map(|e| e.subject.rsplit_once('#').and_then(|(_, n)| n.parse::<u64>().ok()))
        .max()
        .unwrap_or(0)
}

impl Vault {
    /// The counter an earlier version kept in the index's `meta` tree, if any.
    fn legacy_counter(&self) -> Result<u64, VaultError> {
        let meta = self.db.open_tree("meta")?;
        let value = meta
            .get(b"counter")?
            .and_then(|v| crypto::open(&self.data_key, &Self::aad("meta", b"counter", &self.device_id), &v));
        Ok(value.and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok()).map_or(0, u64::from_be_bytes))
    }

    /// Brings the index in line with the files after any stop.
    pub(crate) fn reconcile(&mut self, now: i64, audit: &[AuditEntry]) -> Result<(), VaultError> {
        // The temporary files of atomic writes a stop cut short (`.NAME.RANDOM.tmp`): what
        // they held was never reported written. The writer lock is ours, so none is in use.
        // In the vault's folder only those of its own files; its own folders are all its own.
        for (dir, own_only) in [
            (self.dir.clone(), true),
            (self.dir.join(DRAFTS), false),
            (self.dir.join(RECEIPTS), false),
            (self.dir.join(FEEDBACK), false),
        ] {
            let entries = match fs::read_dir(&dir) {
                Ok(entries) => entries,
                // Made on first use (the feedback folder).
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            };
            for entry in entries {
                let entry = entry?;
                let name = entry.file_name();
                let name = name.to_string_lossy();
                let temporary = if own_only {
                    crate::open::is_own_temporary(&name)
                } else {
                    name.starts_with('.') && name.ends_with(".tmp")
                };
                if temporary && entry.file_type()?.is_file() {
                    fsutil::remove_durably(&entry.path())?;
                }
            }
        }
        for (tree, name) in [
            (&self.draft_index, "draft-files"),
            (&self.index, "index"),
            (&self.reviews, "reviews"),
            (&self.decisions, crate::decisions::TREE),
        ] {
            let mut bad = Vec::new();
            for item in tree.iter() {
                let (k, v) = item?;
                if crypto::open(&self.data_key, &Self::aad(name, &k, &self.device_id), &v).is_none() {
                    bad.push(k);
                }
            }
            for k in bad {
                tree.remove(k)?;
                self.recovery.dropped_values += 1;
            }
        }
        let mut max_counter = 0;
        let envelopes = self.dir.join(ENVELOPES);
        for file in fs::read_dir(&envelopes)? {
            let mut path = file?.path();
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_string();
            if ext == SLOT_EXT {
                match self.settle_slot(&path, now)? {
                    Some(sealed) => path = sealed,
                    None => continue,
                }
            } else if ext != "env" {
                // A temporary file left by a crash mid-write; the envelope was never reported sealed.
                if path.file_name().is_some_and(|n| n.to_string_lossy().ends_with(".tmp")) {
                    fsutil::remove_durably(&path)?;
                }
                continue;
            }
            let bytes = match fs::read(&path) {
                Ok(bytes) => bytes,
                // An I/O error: not damage that can be judged, so not kept aside; left as it is.
                Err(_) => {
                    self.recovery.unreadable_files.push(path);
                    continue;
                }
            };
            // An envelope about to be indexed again is checked in full first.
            let parsed = self.open_container(&bytes).and_then(|(sc, env)| {
                let indexed = self.index.get(env.application_id().to_string().as_bytes())?.is_some();
                if !indexed {
                    env.verify_self_signed().map_err(|e| VaultError::Corrupt(e.to_string()))?;
                }
                Ok((sc, env))
            });
            let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let Ok((sidecar, env)) = parsed else {
                // Kept, never deleted: renamed so it is not mistaken for a good one, and reported.
                self.keep_aside(&path, path.with_extension("env.damaged"), now)?;
                continue;
            };
            let id = env.application_id();
            max_counter = max_counter.max(env.header().device_counter);
            if self.index.get(id.to_string().as_bytes())?.is_none() {
                let state =
                    if self.receipt_path(&id).exists() { OutboxState::Acknowledged } else { OutboxState::Sealed };
                self.put_entry(&OutboxEntry {
                    application_id: id.to_string(),
                    visit_id: sidecar.visit_id.clone(),
                    digest: hex::encode(env.digest()),
                    device_counter: env.header().device_counter,
                    state,
                    size: bytes.len() as u64,
                    sealed_at_unix: env.header().sealed_at_unix,
                    updated_at_unix: now,
                    file: file_name.clone(),
                    // Rebuilt from the file: whether it was ever sent is not known, so ask.
                    attempts: 1,
                    hub_status: None,
                    settled: false,
                })?;
                self.recovery.reindexed += 1;
                self.audit.append(
                    &self.data_key,
                    &self.device_key,
                    now,
                    "seal-recovered",
                    &id.to_string(),
                    audit::Durability::Fsync,
                )?;
            } else if let Ok(mut e) = self.entry(&id.to_string())
                && e.file != file_name
            {
                e.file = file_name;
                self.put_entry(&e)?;
            }
        }
        // A decision the audit log records and the review index does not (an index rebuilt,
        // or an earlier version's, which kept no mark) is marked again, so that the file
        // (or an erase finished below), whatever it holds or however it reads, never brings the application back undecided.
        // From here on the index's mark alone says what was decided.
        for e in audit.iter().filter(|e| e.action == "batch-decided") {
            // Under the outbox's spelling of its id, whatever spelling the record has.
            let Some(id) = doorstep_envelope::ApplicationId::parse(&e.subject).map(|a| a.to_string()) else { continue };
            if !self.review_held(&id)? {
                self.mark_decided(&id)?;
            }
        }
        let mut sealed_visits = Vec::new();
        for entry in self.outbox()? {
            max_counter = max_counter.max(entry.device_counter);
            // The hub took it (its receipt is stored) and the file is surely gone, not kept
            // aside as damaged: an erase the stop (a power cut) cut short between removing the
            // file and marking it. Finished; if that fails, the next sync's erase tries again.
            if let Some(app) = doorstep_envelope::ApplicationId::parse(&entry.application_id)
                && entry.state == OutboxState::Acknowledged
                && self.envelope_surely_gone(&app)
                && self.receipt_path(&app).try_exists().ok() == Some(true)
                && self.erase(&entry.application_id, now).is_ok()
            {
                self.recovery.erases_finished += 1;
            }
            if entry.state == OutboxState::Uploading {
                let mut e = entry.clone();
                e.state = outbox::next(e.state, OutboxEvent::UploadFailed)?;
                self.put_entry(&e)?;
                self.recovery.uploads_reset += 1;
            }
            if !entry.visit_id.is_empty() {
                sealed_visits.push(entry.visit_id.clone());
            }
        }
        self.tombstones_from_receipts(now, audit)?;
        self.reconcile_drafts(now)?;
        self.reconcile_feedback(now)?;
        for visit in self.draft_visits()? {
            if sealed_visits.contains(&visit) {
                self.erase_draft(&visit)?;
                self.recovery.stale_drafts += 1;
            }
        }
        // The counter: never below any counter the vault still knows of, from the envelope
        // files, the index, the audit log's seals and an earlier version's index meta.
        max_counter = max_counter.max(audit_counters(audit)).max(self.legacy_counter()?);
        if !self.counter.read && max_counter > 0 {
            self.recovery.counter_recovered = true;
        }
        self.counter.at_least_above(max_counter);
        self.replenish()?;
        self.flush()
    }

    /// Whether application `app`'s file is surely not on the unit: neither its envelope nor a
    /// damaged copy kept aside is there (a file that cannot be looked at now may be).
    fn envelope_surely_gone(&self, app: &doorstep_envelope::ApplicationId) -> bool {
        let path = self.envelope_path(app);
        [path.clone(), path.with_extension("env.damaged")].iter().all(|p| p.try_exists().ok() == Some(false))
    }

    /// An application the hub took and whose file was erased is known to the unit only by its
    /// index entry and the hub's receipt. An index rebuilt (lost, quarantined, or cut off by
    /// a power cut) gets it back from the receipt, as erased: the shift still counts it, and
    /// if no decision on it is recorded its summary is marked lost, so that the supervisor
    /// still finds it to decide (as an erase that could not read the file marks it).
    fn tombstones_from_receipts(&mut self, now: i64, audit: &[AuditEntry]) -> Result<(), VaultError> {
        let files = match fs::read_dir(self.dir.join(RECEIPTS)) {
            Ok(files) => files,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        // What the log still says of each: its seal ("ID #counter") and its erase.
        let mut seals = std::collections::HashMap::new();
        let mut erased = std::collections::HashMap::new();
        for e in audit {
            match e.action.as_str() {
                "seal" => {
                    if let Some((id, n)) = e.subject.rsplit_once(" #") {
                        seals.insert(id, (e.at_unix, n.parse::<u64>().ok()));
                    }
                }
                "erase" => {
                    erased.insert(e.subject.as_str(), e.at_unix);
                }
                _ => {}
            }
        }
        for file in files {
            let path = file?.path();
            // A receipt that does not read, or whose signature does not hold under the key it
            // names, is left as it is (an integrity check: the hub's key was checked when the
            // receipt was stored, and the files are the vault's own).
            let Some(receipt) = fs::read(&path)
                .ok()
                .and_then(|b| doorstep_envelope::Receipt::from_bytes(&b).ok())
                .filter(|r| r.verify(r.application_id, &r.digest, None).is_ok())
            else {
                continue;
            };
            let app = receipt.application_id;
            let id = app.to_string();
            // Under another name, already indexed, or its file still here (or not readable
            // now): not one whose file was erased.
            if path != self.receipt_path(&app)
                || self.index.get(id.as_bytes())?.is_some()
                || !self.envelope_surely_gone(&app)
            {
                continue;
            }
            let (sealed_at, counter) = seals.get(id.as_str()).copied().unwrap_or((receipt.received_at_unix, None));
            self.put_entry(&OutboxEntry {
                application_id: id.clone(),
                visit_id: String::new(),
                digest: hex::encode(receipt.digest),
                device_counter: counter.unwrap_or(0),
                state: OutboxState::Erased,
                size: 0,
                sealed_at_unix: sealed_at,
                // When it left the unit (not now: a return the hub says of it long ago is not
                // a revisit to make today).
                updated_at_unix: erased.get(id.as_str()).copied().unwrap_or(receipt.received_at_unix),
                file: String::new(),
                attempts: 1,
                hub_status: None,
                settled: false,
            })?;
            if !self.review_held(&id)? {
                self.put(&self.reviews, "reviews", id.as_bytes(), crate::sending::SUMMARY_LOST)?;
            }
            self.recovery.reindexed += 1;
            self.audit.append(
                &self.data_key,
                &self.device_key,
                now,
                "erased-recovered",
                &id,
                // Made durable with the opening's own record, which follows: one fsync for all.
                audit::Durability::Later,
            )?;
        }
        Ok(())
    }

    /// Decides what an envelope slot left by the last stop is, returning the `.env` path when
    /// it holds a sealed application:
    /// - empty: back to the pool;
    /// - a whole, verifying application: sealed, and the crash lost only its rename;
    /// - anything else: a write the stop cut short. A seal is reported only after its file is
    ///   fsynced, and fsynced bytes come back whole, so this one was never reported and its
    ///   draft was never erased. The slot is emptied and reused, unless its sidecar can be
    ///   read and names a visit with no draft left: then nothing else holds those bytes, so
    ///   the file is kept aside as damaged and reported.
    fn settle_slot(&mut self, path: &Path, now: i64) -> Result<Option<PathBuf>, VaultError> {
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            // Left as it is (not reused) and named.
            Err(_) => {
                self.recovery.unreadable_files.push(path.to_path_buf());
                return Ok(None);
            }
        };
        if bytes.is_empty() {
            self.pool().push(path.to_path_buf());
            return Ok(None);
        }
        let whole = self.open_container(&bytes).is_ok_and(|(_, env)| env.verify_self_signed().is_ok());
        let dir = self.dir.join(ENVELOPES);
        if whole {
            let sealed = path.with_extension("env");
            fsutil::rename(path, &sealed)?;
            fsutil::sync_dir(&dir)?;
            return Ok(Some(sealed));
        }
        let orphan = match self.open_sidecar(&bytes) {
            Some(sidecar) => !self.draft_visits()?.contains(&sidecar.visit_id),
            None => false,
        };
        if orphan {
            self.keep_aside(path, path.with_extension("env.damaged"), now)?;
            return Ok(None);
        }
        fsutil::write_into(path, &[])?;
        self.pool().push(path.to_path_buf());
        self.recovery.interrupted_seals += 1;
        Ok(None)
    }

    /// Keeps the damaged file at `path` aside as `aside`: renamed, never deleted, so it is not
    /// mistaken for a good one, and reported. Recorded in the audit log (`set-aside`) before
    /// the rename, so a stop right after it cannot lose the record; a stop before it leaves the
    /// file to be found, and recorded again, at the next opening.
    pub(crate) fn keep_aside(&mut self, path: &Path, aside: PathBuf, now: i64) -> Result<(), VaultError> {
        let name = aside.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        self.record(now, "set-aside", &name)?;
        fsutil::rename(path, &aside)?;
        if let Some(dir) = aside.parent() {
            fsutil::sync_dir(dir)?;
        }
        self.recovery.damaged_files.push(aside);
        Ok(())
    }
}
