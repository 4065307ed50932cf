//! Sealing: the container a sealed application is kept in, the pool of empty envelope files,
//! and the device counter, which never goes backwards.

use std::fs;
use std::path::{Path, PathBuf};

use doorstep_envelope::{ApplicationId, ApplicationRecord, DeviceId, SealContext, SealedEnvelope};
use serde::{Deserialize, Serialize};

use crate::keyslots::Role;
use crate::outbox::OutboxState;
use crate::{ENVELOPES, OutboxEntry, RECEIPTS, ReviewSummary, Vault, VaultError, audit, crypto, fsutil};

pub(crate) const CONTAINER_MAGIC: &[u8; 8] = b"DSVAULT2";
/// Empty envelope files kept ready.
const POOL_TARGET: usize = 8;
/// An empty (or being written) envelope file. Renamed to `.env` once written and fsynced, so
/// a file named `.env` is always whole unless the disk damaged it.
pub(crate) const SLOT_EXT: &str = "slot";

/// What the vault keeps beside a sealed envelope, under the data key.
#[derive(Serialize, Deserialize)]
pub(crate) struct Sidecar {
    pub visit_id: String,
    pub review: Option<ReviewSummary>,
}

/// Counters reserved at a time: one durable write per block, not per seal.
const COUNTER_BLOCK: u64 = 64;
pub(crate) const COUNTER_FILE: &str = "counter.sealed";

/// The device counter. The highest counter that may have been used is kept durably outside
/// the index, sealed: `reserved` is written before any counter up to it is used, so after any
/// stop, and after the index is rebuilt, the next counter is above every one the hub has seen.
pub(crate) struct Counter {
    next: u64,
    reserved: u64,
    /// The reservation was read (false: the file was missing or damaged).
    pub read: bool,
}

#[derive(Serialize, Deserialize)]
struct CounterFile {
    reserved: u64,
}

fn counter_aad(device: &DeviceId) -> Vec<u8> {
    format!("doorstep-vault-counter-v1\0{}", device.0).into_bytes()
}

impl Counter {
    /// Reads the reservation. `None` when the file is missing or damaged (then the counter is
    /// recovered from what the vault still holds).
    pub fn load(dir: &Path, key: &crypto::Key, device: &DeviceId) -> Result<Counter, VaultError> {
        let reserved = match fs::read(dir.join(COUNTER_FILE)) {
            Ok(b) => crypto::open(key, &counter_aad(device), &b)
                .and_then(|p| serde_json::from_slice::<CounterFile>(&p).ok())
                .map(|c| c.reserved),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e.into()),
        };
        Ok(match reserved {
            // The rest of the last block may have been used: start after it.
            Some(r) => Counter { next: r + 1, reserved: r, read: true },
            None => Counter { next: 1, reserved: 0, read: false },
        })
    }

    /// Never below `used + 1`.
    pub fn at_least_above(&mut self, used: u64) {
        self.next = self.next.max(used + 1);
    }

    pub fn write(dir: &Path, key: &crypto::Key, device: &DeviceId, reserved: u64) -> Result<(), VaultError> {
        let json = serde_json::to_vec(&CounterFile { reserved }).map_err(|e| VaultError::Corrupt(e.to_string()))?;
        fsutil::write_atomic(&dir.join(COUNTER_FILE), &crypto::seal(key, &counter_aad(device), &json))?;
        Ok(())
    }

    /// The next counter, reserving a block durably first when the reservation is used up.
    fn take(&mut self, dir: &Path, key: &crypto::Key, device: &DeviceId) -> Result<u64, VaultError> {
        if self.next > self.reserved {
            let reserved = self.next + COUNTER_BLOCK - 1;
            Counter::write(dir, key, device, reserved)?;
            self.reserved = reserved;
        }
        let n = self.next;
        self.next += 1;
        Ok(n)
    }
}

impl Vault {
    /// Whether application `id`'s sealed file is in its place (not kept aside as damaged, nor
    /// missing).
    pub fn envelope_on_disk(&self, id: &str) -> bool {
        ApplicationId::parse(id).is_some_and(|app| self.envelope_path(&app).is_file())
    }

    /// The file holding a sealed application, as the index says.
    pub(crate) fn envelope_path(&self, id: &ApplicationId) -> PathBuf {
        let name = self
            .entry(&id.to_string())
            .ok()
            .map(|e| e.file)
            .filter(|f| !f.is_empty())
            .unwrap_or_else(|| format!("{id}.env"));
        self.dir.join(ENVELOPES).join(name)
    }

    pub(crate) fn pool(&self) -> std::sync::MutexGuard<'_, Vec<PathBuf>> {
        self.pool.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Tops the pool of empty envelope files up, with one directory fsync for all of them.
    pub(crate) fn replenish(&self) -> Result<(), VaultError> {
        let mut pool = self.pool();
        if pool.len() >= POOL_TARGET {
            return Ok(());
        }
        let dir = self.dir.join(ENVELOPES);
        while pool.len() < POOL_TARGET {
            let mut name = [0u8; 8];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut name);
            let path = dir.join(format!("s-{}.{SLOT_EXT}", hex::encode(name)));
            fsutil::sync_file(&fsutil::create_new(&path)?)?;
            pool.push(path);
        }
        fsutil::sync_dir(&dir)?;
        Ok(())
    }

    /// An empty envelope file to write a seal into: from the pool, or a new one (then its
    /// directory entry is made durable too).
    fn take_slot(&self) -> Result<PathBuf, VaultError> {
        if let Some(p) = self.pool().pop() {
            return Ok(p);
        }
        self.replenish()?;
        self.pool().pop().ok_or_else(|| VaultError::Corrupt("no envelope file could be made".into()))
    }

    pub(crate) fn receipt_path(&self, id: &ApplicationId) -> PathBuf {
        self.dir.join(RECEIPTS).join(format!("{id}.receipt"))
    }

    /// Seals a finished application. It is reported sealed once its file is durable: the
    /// envelope, with a sidecar sealed under the data key that names the visit and holds the
    /// supervisor's review summary, written into an empty file whose directory entry is
    /// already durable, and fsynced. The index entry and the erasure of the draft follow
    /// without waiting for the disk: after a crash they are rebuilt from the file. One fsync
    /// in all, and one more for every 64th counter, reserved durably before it is used.
    pub fn seal(
        &mut self,
        visit: &str,
        record: &ApplicationRecord,
        review: &ReviewSummary,
        now: i64,
    ) -> Result<OutboxEntry, VaultError> {
        if self.role != Role::Officer {
            return Err(VaultError::NotAllowed("only an officer seals applications".into()));
        }
        let counter = self.counter.take(&self.dir, &self.data_key, &self.device_id)?;
        let ctx = SealContext {
            bureau: &self.bureau,
            device_id: &self.device_id,
            device_key: &self.device_key,
            officer_id: &self.user,
            officer_key: &self.user_key,
            device_counter: counter,
            sealed_at_unix: now,
        };
        let envelope =
            doorstep_envelope::seal(record, &ctx, &mut rand::rng()).map_err(|e| VaultError::Seal(e.to_string()))?;
        let id = envelope.application_id();
        let bytes = envelope.to_bytes();
        if bytes.len() > doorstep_envelope::MAX_ENVELOPE {
            // Nothing unsendable is sealed: the draft stays, to be made smaller.
            return Err(VaultError::TooLarge { size: bytes.len(), max: doorstep_envelope::MAX_ENVELOPE });
        }
        let sidecar = Sidecar { visit_id: visit.to_string(), review: Some(review.clone()) };
        let file = self.container(&id, &sidecar, &bytes)?;
        let slot = self.take_slot()?;
        // No directory fsync: if a crash loses the rename, recovery finds the whole file still
        // under its slot name and indexes it from there.
        let sealed_path = slot.with_extension("env");
        if let Err(e) = fsutil::write_into(&slot, &file).and_then(|()| fsutil::rename(&slot, &sealed_path)) {
            // Not sealed (the draft is still there, to seal again): whatever of this seal the
            // slot holds is emptied, and the slot goes back to the pool, so that nothing takes
            // it for a seal later (a second copy of the application, or part of one kept aside
            // as damaged). Where even that fails, recovery judges the slot at the next opening.
            if fsutil::write_into(&slot, &[]).is_ok() {
                self.pool().push(slot);
            }
            return Err(e.into());
        }
        let entry = OutboxEntry {
            application_id: id.to_string(),
            visit_id: visit.to_string(),
            digest: hex::encode(envelope.digest()),
            device_counter: counter,
            state: OutboxState::Sealed,
            size: file.len() as u64,
            sealed_at_unix: now,
            updated_at_unix: now,
            file: sealed_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            attempts: 0,
            hub_status: None,
            settled: false,
        };
        self.put_entry(&entry)?;
        self.drop_draft(visit, false)?;
        let subject = format!("{id} #{counter}");
        self.audit.append(&self.data_key, &self.device_key, now, "seal", &subject, audit::Durability::Later)?;
        Ok(entry)
    }

    fn sidecar_aad(id: &ApplicationId) -> Vec<u8> {
        let mut aad = b"doorstep-vault-sidecar-v1\0".to_vec();
        aad.extend_from_slice(&id.0);
        aad
    }

    /// The file kept for a sealed application: magic (8) | application id (16) | sidecar
    /// length (u32 LE) | sidecar sealed under the data key | the envelope as uploaded. The
    /// sidecar comes first so that a write cut short still names its visit.
    pub(crate) fn container(
        &self,
        id: &ApplicationId,
        sidecar: &Sidecar,
        envelope: &[u8],
    ) -> Result<Vec<u8>, VaultError> {
        let json = serde_json::to_vec(sidecar).map_err(|e| VaultError::Corrupt(e.to_string()))?;
        let sealed = crypto::seal(&self.data_key, &Self::sidecar_aad(id), &json);
        let mut out = Vec::with_capacity(28 + sealed.len() + envelope.len());
        out.extend_from_slice(CONTAINER_MAGIC);
        out.extend_from_slice(&id.0);
        out.extend_from_slice(&(sealed.len() as u32).to_le_bytes());
        out.extend_from_slice(&sealed);
        out.extend_from_slice(envelope);
        Ok(out)
    }

    /// The sidecar alone, when the head of a container is whole (the envelope may not be).
    pub(crate) fn open_sidecar(&self, bytes: &[u8]) -> Option<Sidecar> {
        let (id, sealed, _) = split_container(bytes).ok()?;
        let plain = crypto::open(&self.data_key, &Self::sidecar_aad(&id), sealed)?;
        serde_json::from_slice(&plain).ok()
    }

    /// Splits a sealed application's file into its sidecar and envelope.
    pub(crate) fn open_container(&self, bytes: &[u8]) -> Result<(Sidecar, SealedEnvelope), VaultError> {
        let bad = |what: &str| VaultError::Corrupt(format!("sealed application file: {what}"));
        let (id, _, envelope) = split_container(bytes)?;
        let envelope = SealedEnvelope::from_bytes(envelope).map_err(|e| bad(&e.to_string()))?;
        if envelope.application_id() != id {
            return Err(bad("the file's id is not its envelope's"));
        }
        let sidecar = self.open_sidecar(bytes).ok_or_else(|| bad("the sidecar does not decrypt"))?;
        Ok((sidecar, envelope))
    }

    pub(crate) fn read_container(&self, id: &ApplicationId) -> Result<(Sidecar, SealedEnvelope), VaultError> {
        crate::faults::check(crate::faults::Point::Read)?;
        self.open_container(&fs::read(self.envelope_path(id))?)
    }
}

/// The id, the sealed sidecar and the envelope bytes of a container, or what is wrong. Pure:
/// no key needed, any bytes accepted (a fuzz target drives it).
pub fn split_container(bytes: &[u8]) -> Result<(ApplicationId, &[u8], &[u8]), VaultError> {
    let bad = |what: &str| VaultError::Corrupt(format!("sealed application file: {what}"));
    let rest = bytes.strip_prefix(CONTAINER_MAGIC.as_slice()).ok_or_else(|| bad("not a vault file"))?;
    let (id, rest) = rest.split_first_chunk::<16>().ok_or_else(|| bad("cut short"))?;
    let (len, rest) = rest.split_first_chunk::<4>().ok_or_else(|| bad("cut short"))?;
    let len = u32::from_le_bytes(*len) as usize;
    let sealed = rest.get(..len).ok_or_else(|| bad("cut short"))?;
    Ok((ApplicationId(*id), sealed, &rest[len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_bytes_split_or_are_refused_without_panic() {
        let mut good = CONTAINER_MAGIC.to_vec();
        good.extend_from_slice(&[7u8; 16]);
        good.extend_from_slice(&3u32.to_le_bytes());
        good.extend_from_slice(b"abcENV");
        let (id, sidecar, env) = split_container(&good).unwrap();
        assert_eq!((id.0, sidecar, env), ([7u8; 16], &b"abc"[..], &b"ENV"[..]));
        for cut in 0..good.len() - 3 {
            assert!(matches!(split_container(&good[..cut]), Err(VaultError::Corrupt(_))), "{cut}");
        }
        let mut huge = good.clone();
        huge[24..28].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(split_container(&huge), Err(VaultError::Corrupt(_))));
    }
}
