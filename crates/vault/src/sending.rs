//! The outbox's operations as a sync runs them (upload begun, failed, receipt stored,
//! erased), the supervisor's review summaries, the hub's batch receipts, and the unit's own
//! secrets kept as sealed files.

use std::fs;
use std::path::PathBuf;

use doorstep_envelope::{ApplicationId, Receipt, VerifyingKey};
use zeroize::Zeroizing;

use crate::keyslots::Role;
use crate::outbox::{self, OutboxError, OutboxEvent, OutboxState};
use crate::seal::Sidecar;
use crate::{AUDIT, OutboxEntry, RECEIPTS, ReviewSummary, Vault, VaultError, audit, crypto, fsutil};

/// A sealed secret's file: `secret-NAME.sealed`.
pub(crate) const SECRET_PREFIX: &str = "secret-";
pub(crate) const SECRET_SUFFIX: &str = ".sealed";
/// What the review index holds for an application at the hub whose summary was lost with its
/// file before the supervisor decided (no summary's JSON reads as it).
pub(crate) const SUMMARY_LOST: &[u8] = b"summary-lost";
/// What the review index holds for an application once the supervisor decided on it: its
/// summary is gone (no summary's JSON reads as it).
const DECIDED: &[u8] = b"decided";

impl Vault {
    pub(crate) fn put_entry(&self, entry: &OutboxEntry) -> Result<(), VaultError> {
        let json = serde_json::to_vec(entry).map_err(|e| VaultError::Corrupt(e.to_string()))?;
        self.put(&self.index, "index", entry.application_id.as_bytes(), &json)
    }

    pub(crate) fn entry(&self, id: &str) -> Result<OutboxEntry, VaultError> {
        let raw =
            self.get(&self.index, "index", id.as_bytes())?.ok_or_else(|| VaultError::NoSuchApplication(id.into()))?;
        serde_json::from_slice(&raw).map_err(|e| VaultError::Corrupt(e.to_string()))
    }

    /// Every application in the outbox, erased ones included (as tombstones), oldest first.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>, VaultError> {
        let mut out = Vec::new();
        for item in self.index.iter() {
            let (k, _) = item?;
            out.push(self.entry(&String::from_utf8_lossy(&k))?);
        }
        out.sort_by_key(|e| (e.sealed_at_unix, e.device_counter));
        Ok(out)
    }

    fn transition(&mut self, id: &str, event: OutboxEvent, now: i64) -> Result<OutboxEntry, VaultError> {
        let mut entry = self.entry(id)?;
        entry.state = outbox::next(entry.state, event)?;
        entry.updated_at_unix = now;
        if event == OutboxEvent::BeginUpload {
            entry.attempts = entry.attempts.saturating_add(1);
        }
        self.put_entry(&entry)?;
        self.flush()?;
        Ok(entry)
    }

    /// The envelope's bytes, for upload.
    pub fn envelope_bytes(&self, id: &str) -> Result<Vec<u8>, VaultError> {
        let app = ApplicationId::parse(id).ok_or_else(|| VaultError::NoSuchApplication(id.into()))?;
        Ok(self.read_container(&app)?.1.to_bytes())
    }

    pub fn begin_upload(&mut self, id: &str, now: i64) -> Result<OutboxEntry, VaultError> {
        let e = self.transition(id, OutboxEvent::BeginUpload, now)?;
        self.record(now, "upload", id)?;
        Ok(e)
    }

    /// Keeps what the hub says of an erased application (opaque JSON to the vault); a settled
    /// status is never asked for again. Durable before it returns.
    pub fn note_hub_status(&mut self, id: &str, status: &str, settled: bool) -> Result<OutboxEntry, VaultError> {
        let mut entry = self.entry(id)?;
        entry.hub_status = Some(status.to_string());
        entry.settled = settled;
        self.put_entry(&entry)?;
        self.flush()?;
        Ok(entry)
    }

    pub fn upload_failed(&mut self, id: &str, now: i64) -> Result<OutboxEntry, VaultError> {
        self.transition(id, OutboxEvent::UploadFailed, now)
    }

    /// Stores the hub's receipt durably, then marks the envelope acknowledged.
    pub fn acknowledge(
        &mut self,
        id: &str,
        receipt: &[u8],
        hub: Option<&VerifyingKey>,
        now: i64,
    ) -> Result<OutboxEntry, VaultError> {
        let entry = self.entry(id)?;
        let app = ApplicationId::parse(id).ok_or_else(|| VaultError::NoSuchApplication(id.into()))?;
        let digest = entry.digest_bytes().ok_or_else(|| VaultError::Corrupt("digest".into()))?;
        let parsed = Receipt::from_bytes(receipt).map_err(|e| VaultError::BadReceipt(e.to_string()))?;
        parsed.verify(app, &digest, hub).map_err(|e| VaultError::BadReceipt(e.to_string()))?;
        fsutil::write_atomic(&self.receipt_path(&app), receipt)?;
        let e = self.transition(id, OutboxEvent::ReceiptStored, now)?;
        self.record(now, "receipt", id)?;
        Ok(e)
    }

    /// Erases an acknowledged envelope's file. Refused without a stored receipt; repeatable.
    pub fn erase(&mut self, id: &str, now: i64) -> Result<OutboxEntry, VaultError> {
        let entry = self.entry(id)?;
        outbox::next(entry.state, OutboxEvent::Erase)?;
        let app = ApplicationId::parse(id).ok_or_else(|| VaultError::NoSuchApplication(id.into()))?;
        if !self.receipt_path(&app).exists() {
            return Err(VaultError::Outbox(OutboxError::NoReceipt));
        }
        // The supervisor may not have decided yet: keep the review summary, unless the index
        // holds what to keep already (kept by an erase a stop cut short, or the decision).
        if self.get(&self.reviews, "reviews", id.as_bytes())?.is_none() {
            match self.read_container(&app) {
                Ok((Sidecar { review: Some(review), .. }, _)) => {
                    let json = serde_json::to_vec(&review).map_err(|e| VaultError::Corrupt(e.to_string()))?;
                    self.put(&self.reviews, "reviews", id.as_bytes(), &json)?;
                    self.flush()?;
                }
                Ok(_) => {}
                // A read that failed may pass: the file stays, and the next sync erases it.
                Err(VaultError::Io(e)) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                // The file went bad (or was kept aside) after the hub took it: the hub has the
                // application, but its summary is gone with the file. Not decided (a decision
                // leaves its mark in the index), so a mark says so, and the supervisor still
                // finds it to decide.
                Err(_) => {
                    self.put(&self.reviews, "reviews", id.as_bytes(), SUMMARY_LOST)?;
                    self.flush()?;
                    self.record(now, "summary-lost", id)?;
                }
            }
        }
        fsutil::remove_durably(&self.envelope_path(&app))?;
        let e = self.transition(id, OutboxEvent::Erase, now)?;
        self.record(now, "erase", id)?;
        Ok(e)
    }

    /// The review summary of application `id` while the supervisor has not decided on it;
    /// `None` once decided. An error where it was lost: its file does not read, or went bad or
    /// was kept aside after the hub took it and before the supervisor decided.
    pub fn review(&self, id: &str) -> Result<Option<ReviewSummary>, VaultError> {
        let lost = || VaultError::Corrupt(format!("the review summary of {id} was lost with its file"));
        let held = self.get(&self.reviews, "reviews", id.as_bytes())?;
        match held.as_ref().map(|v| v.as_slice()) {
            Some(DECIDED) => return Ok(None),
            Some(SUMMARY_LOST) => return Err(lost()),
            _ => {}
        }
        // Whether its file is there: a storage that cannot say is an error, not a file gone,
        // unless the index holds the summary (kept by the erase) to read instead.
        if let Some(app) = ApplicationId::parse(id) {
            match self.envelope_path(&app).try_exists() {
                Ok(true) => return Ok(self.read_container(&app)?.0.review),
                Ok(false) => {}
                Err(_) if held.is_some() => {}
                Err(e) => return Err(e.into()),
            }
        }
        match held {
            Some(raw) => serde_json::from_slice(&raw).map(Some).map_err(|e| VaultError::Corrupt(e.to_string())),
            // At the hub, not erased, not decided (no mark), and its file gone: kept aside (or
            // lost) before the erase could keep its summary.
            None if self.entry(id).is_ok_and(|e| e.state == OutboxState::Acknowledged) => Err(lost()),
            None => Ok(None),
        }
    }

    /// Whether the audit log records `action` for application `id`. It reads the whole log:
    /// only for what is rare (a hand-over).
    pub(crate) fn audit_records(&self, action: &str, id: &str) -> Result<bool, VaultError> {
        let Some(app) = ApplicationId::parse(id) else { return Ok(false) };
        let (scan, _) = audit::AuditLog::scan(&self.dir.join(AUDIT), &self.data_key)?;
        Ok(scan.entries.iter().any(|e| e.action == action && ApplicationId::parse(&e.subject) == Some(app)))
    }

    /// Keeps a secret of this unit's (such as its TLS key for the hub) sealed under the data
    /// key in `secret-NAME.sealed`: a copy of the folder without a PIN cannot use it. Kept as a
    /// file, not in sled, so that an index rebuilt after damage does not lose it.
    pub fn store_secret(&mut self, name: &str, secret: &[u8], now: i64) -> Result<(), VaultError> {
        let path = self.secret_path(name)?;
        let sealed = crypto::seal(&self.data_key, &Self::aad("secret", name.as_bytes(), &self.device_id), secret);
        fsutil::write_atomic(&path, &sealed)?;
        self.record(now, "store-secret", name)
    }

    /// A secret kept by [`Vault::store_secret`], or `None` if there is none.
    pub fn secret(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, VaultError> {
        let sealed = match fs::read(self.secret_path(name)?) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        crypto::open(&self.data_key, &Self::aad("secret", name.as_bytes(), &self.device_id), &sealed)
            .map(Some)
            .ok_or_else(|| VaultError::Corrupt(format!("the secret {name} does not decrypt")))
    }

    fn secret_path(&self, name: &str) -> Result<PathBuf, VaultError> {
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return Err(VaultError::NotAllowed(format!("{name:?} is not a secret's name")));
        }
        Ok(self.dir.join(format!("{SECRET_PREFIX}{name}{SECRET_SUFFIX}")))
    }

    /// Keeps the hub's signed receipt for a released batch (durably), beside the envelopes'.
    pub fn store_batch_receipt(&mut self, batch_id: &str, receipt: &[u8], now: i64) -> Result<(), VaultError> {
        let path = self.dir.join(RECEIPTS).join(format!("batch-{}.receipt", hex::encode(batch_id)));
        fsutil::write_atomic(&path, receipt)?;
        self.record(now, "batch-receipt", batch_id)
    }

    /// The hub's receipts for the batches released on this unit, as stored (bytes of
    /// `doorstep_envelope::BatchReceipt`), in no particular order.
    pub fn batch_receipts(&self) -> Result<Vec<Vec<u8>>, VaultError> {
        let dir = self.dir.join(RECEIPTS);
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut out = Vec::new();
        for entry in entries {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if name.starts_with("batch-") && name.ends_with(".receipt") {
                out.push(std::fs::read(&path)?);
            }
        }
        Ok(out)
    }

    /// After the supervisor has decided on a batch, erases its review summaries.
    pub fn batch_decided(&mut self, ids: &[String], now: i64) -> Result<(), VaultError> {
        if self.role != Role::Supervisor {
            return Err(VaultError::NotAllowed("only a supervisor decides on a batch".into()));
        }
        // The summaries go, and a mark says each was decided, so that a copy of one still in
        // its file (one that does not read now) never brings it back undecided. The hub has
        // taken the batch: the marks and the records are kept first, whatever the files do.
        for id in ids {
            self.mark_decided(id)?;
        }
        // The decisions kept on the screen went with the batch, whoever kept them and however
        // it was released (the screen or `doorstep batch`): none comes back at the next opening
        // (one held in the batch would come back as another supervisor had decided it).
        // Best effort: the hub holds the batch already, and its marks and records come first.
        let _ = self.forget_shift_decisions();
        self.flush()?;
        for id in ids {
            self.record(now, "batch-decided", id)?;
        }
        // Then, as far as it goes (a file that does not read, a full disk), the summary out of
        // each file still here: the mark already says it is decided, and the erase takes the
        // rest with the file.
        for id in ids {
            if let Some(app) = ApplicationId::parse(id)
                && self.envelope_path(&app).exists()
                && let Ok((mut sidecar, envelope)) = self.read_container(&app)
                && sidecar.review.take().is_some()
                && let Ok(file) = self.container(&app, &sidecar, &envelope.to_bytes())
            {
                let _ = fsutil::write_atomic(&self.envelope_path(&app), &file);
            }
        }
        Ok(())
    }

    /// Marks application `id` decided in the review index (its summary, if any, gone).
    pub(crate) fn mark_decided(&self, id: &str) -> Result<(), VaultError> {
        self.put(&self.reviews, "reviews", id.as_bytes(), DECIDED)
    }

    /// Whether the review index holds anything for application `id` (a summary or a mark).
    pub(crate) fn review_held(&self, id: &str) -> Result<bool, VaultError> {
        Ok(self.get(&self.reviews, "reviews", id.as_bytes())?.is_some())
    }
}
