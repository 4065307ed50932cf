//! The audit log: an append-only file of encrypted, hash-chained entries, each signed by the
//! device key. A torn last record (power lost mid-append) is cut off when the log is opened.
//!
//! Record layout: length (u32 LE) | XChaCha20-Poly1305 sealed JSON of [`AuditEntry`].

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use doorstep_envelope::{SigningKey, VerifyingKey};
use ed25519_dalek::Signer as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::VaultError;
use crate::crypto;

/// One action, chained to the one before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub at_unix: i64,
    /// unlock, failed-pin, draft, seal, upload, receipt, erase, approve, user-added…
    pub action: String,
    /// An application id, visit id or user id; never personal data.
    pub subject: String,
    pub prev: String,
    pub hash: String,
    pub signature: String,
}

fn hash_of(seq: u64, at: i64, action: &str, subject: &str, prev: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"doorstep-audit-v1\0");
    h.update(prev.as_bytes());
    h.update(seq.to_be_bytes());
    h.update(at.to_be_bytes());
    h.update((action.len() as u32).to_be_bytes());
    h.update(action.as_bytes());
    h.update(subject.as_bytes());
    h.finalize().into()
}

/// Whether an append waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    Fsync,
    Later,
}

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const AAD: &[u8] = b"doorstep-audit-record-v1";
/// Longer than any record the log writes (an entry is a few hundred bytes): a length beyond it
/// is damage, not a record cut short by a write that did not finish.
const MAX_RECORD: usize = 64 * 1024;

pub struct AuditLog {
    path: PathBuf,
    head: String,
    len: u64,
}

/// What reading the log found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AuditScan {
    pub entries: Vec<AuditEntry>,
    /// Bytes at the end that did not form a whole record: a write cut short.
    pub torn_tail: u64,
    /// A record that does not read, with a whole record after it: damage or tampering, at
    /// this offset.
    pub damaged_at: Option<u64>,
    /// The torn tail is more than one record cut short (garbage after it: what a power cut
    /// leaves, or damage to the last records): its bytes, kept aside before it is cut.
    pub tail_to_keep: Option<Vec<u8>>,
    /// Where they were kept (`audit.log.damaged-tail-N`, listed with the logs kept aside).
    pub tail_kept: Option<PathBuf>,
}

/// How many bytes [`record_after`] may decrypt looking for a whole record after a bad one;
/// past it the log is taken as damaged (kept aside whole), never cut.
const SEARCH_BUDGET: usize = 16 * 1024 * 1024;

/// Whether a whole record that decrypts may start anywhere after `pos` in the log: `true` when
/// one does, or when the search ran out of its budget before the end.
fn record_after(bytes: &[u8], pos: usize, key: &[u8; 32]) -> bool {
    let mut budget = SEARCH_BUDGET;
    (pos + 1..bytes.len().saturating_sub(4)).any(|at| {
        let len = u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize;
        // Most offsets of garbage or ciphertext read as a length no record has: passed at once.
        if !(MIN_RECORD..=MAX_RECORD).contains(&len) || at + 4 + len > bytes.len() {
            return false;
        }
        let Some(left) = budget.checked_sub(len) else { return true };
        budget = left;
        crypto::open(key, AAD, &bytes[at + 4..at + 4 + len]).is_some()
    })
}

/// The first name beside the log's `path` with extension `EXT-N` not taken, from N = 0.
fn free_name(path: &Path, ext: &str) -> PathBuf {
    (0..).map(|n| path.with_extension(format!("{ext}-{n}"))).find(|p| !p.exists()).unwrap_or_else(|| path.into())
}

/// The shortest record: a nonce, a tag and an entry.
const MIN_RECORD: usize = 24 + 16 + 2;

impl AuditLog {
    /// Reads every whole record; stops at the first record that is cut short or does not
    /// decrypt, which is reported as the torn tail.
    pub fn scan(path: &Path, key: &[u8; 32]) -> Result<(AuditScan, u64), VaultError> {
        let mut bytes = Vec::new();
        match File::open(path) {
            Ok(mut f) => {
                f.read_to_end(&mut bytes)?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        let mut scan = AuditScan::default();
        let mut pos = 0usize;
        while pos + 4 <= bytes.len() {
            let len = u32::from_le_bytes([bytes[pos], bytes[pos + 1], bytes[pos + 2], bytes[pos + 3]]) as usize;
            let end = pos.saturating_add(4).saturating_add(len);
            let entry = bytes
                .get(pos + 4..end)
                .and_then(|record| crypto::open(key, AAD, record))
                .and_then(|p| serde_json::from_slice::<AuditEntry>(&p).ok());
            let Some(entry) = entry else {
                // Damage, kept aside whole, wherever a whole record follows the bad one (a
                // length damaged in the middle: cutting would lose every record after it).
                if record_after(&bytes, pos, key) {
                    scan.damaged_at = Some(pos as u64);
                    break;
                }
                // One record cut short at the end: a torn tail, cut off.
                let cut_short = if end > bytes.len() { len <= MAX_RECORD } else { end == bytes.len() };
                // Zeros (blocks the file grew by and never got) hold nothing to keep.
                let zeros = bytes[pos..].iter().all(|b| *b == 0);
                // More than that (the garbage a power cut leaves after the last record: zeros,
                // stale blocks), also a torn tail, cut off, bytes other than zeros kept aside
                // first. A log with no whole record at all that is not zeros (another vault's,
                // replaced): damage, kept aside whole.
                if !cut_short && pos == 0 && !zeros {
                    scan.damaged_at = Some(pos as u64);
                }
                if !cut_short && !zeros {
                    scan.tail_to_keep = Some(bytes[pos..].to_vec());
                }
                break;
            };
            scan.entries.push(entry);
            pos = end;
        }
        if scan.damaged_at.is_none() {
            scan.torn_tail = (bytes.len() - pos) as u64;
        }
        Ok((scan, pos as u64))
    }

    /// Opens the log for appending, cutting off a torn tail. A damaged log is moved aside
    /// (kept as evidence; its path is returned) and a new chain is started.
    pub fn open(path: &Path, key: &[u8; 32]) -> Result<(AuditLog, AuditScan, Option<PathBuf>), VaultError> {
        let (mut scan, good_len) = AuditLog::scan(path, key)?;
        let mut moved = None;
        if scan.damaged_at.is_some() {
            let aside = free_name(path, "log.damaged");
            crate::fsutil::rename(path, &aside)?;
            if let Some(dir) = path.parent() {
                crate::fsutil::sync_dir(dir)?;
            }
            moved = Some(aside);
            scan.entries.clear();
        } else if scan.torn_tail > 0 {
            if let Some(tail) = &scan.tail_to_keep {
                let aside = free_name(path, "log.damaged-tail");
                crate::fsutil::write_atomic(&aside, tail)?;
                scan.tail_kept = Some(aside);
            }
            let f = OpenOptions::new().write(true).open(path)?;
            f.set_len(good_len)?;
            f.sync_all()?;
            crate::powercut::synced(&f);
        }
        let head = scan.entries.last().map_or(GENESIS.to_string(), |e| e.hash.clone());
        let len = scan.entries.len() as u64;
        Ok((AuditLog { path: path.to_path_buf(), head, len }, scan, moved))
    }

    /// Appends an entry and returns it. With [`Durability::Fsync`] it is on disk when this
    /// returns; [`Durability::Later`] leaves that to the next fsync (or the OS), for actions
    /// whose own result is already durable and is re-recorded on recovery.
    pub fn append(
        &mut self,
        key: &[u8; 32],
        device: &SigningKey,
        at_unix: i64,
        action: &str,
        subject: &str,
        durability: Durability,
    ) -> Result<AuditEntry, VaultError> {
        let hash = hash_of(self.len, at_unix, action, subject, &self.head);
        let entry = AuditEntry {
            seq: self.len,
            at_unix,
            action: action.to_string(),
            subject: subject.to_string(),
            prev: self.head.clone(),
            hash: hex::encode(hash),
            signature: hex::encode(device.sign(&hash).to_bytes()),
        };
        let plain = serde_json::to_vec(&entry).map_err(|e| VaultError::Corrupt(e.to_string()))?;
        let sealed = crypto::seal(key, AAD, &plain);
        let mut f = OpenOptions::new().create(true).append(true).mode(crate::fsutil::FILE_MODE).open(&self.path)?;
        let mut record = (sealed.len() as u32).to_le_bytes().to_vec();
        record.extend_from_slice(&sealed);
        let end = f.metadata()?.len();
        let written = crate::faults::write(crate::faults::Point::Append, &record, |b| f.write_all(b))
            .and_then(|()| if durability == Durability::Fsync { crate::fsutil::sync_file(&f) } else { Ok(()) });
        if let Err(e) = written {
            // Not recorded: the log is cut back to its last whole record, so that the next
            // record follows it (part of this one, or this one whole but not chained, in the
            // middle would read as a log damaged there).
            let _ = f.set_len(end).and_then(|()| f.sync_all()).map(|()| crate::powercut::synced(&f));
            return Err(e.into());
        }
        self.head = entry.hash.clone();
        self.len += 1;
        Ok(entry)
    }

    /// The head hash and the number of entries, for the batch manifest.
    pub fn head(&self) -> ([u8; 32], u64) {
        let h = hex::decode(&self.head).ok().and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok()).unwrap_or_default();
        (h, self.len)
    }
}

/// Why an audit chain does not verify, at which entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("entry {index} has sequence number {seq}")]
    Sequence { index: usize, seq: u64 },
    #[error("entry {0} does not link to the one before")]
    Link(usize),
    #[error("entry {0} was altered")]
    Altered(usize),
    #[error("entry {0} has no signature")]
    NoSignature(usize),
    #[error("entry {0} is not signed by this device")]
    NotSigned(usize),
}

/// Checks the chain: sequence numbers, links, hashes and device signatures.
pub fn verify_chain(entries: &[AuditEntry], device: &VerifyingKey) -> Result<(), ChainError> {
    let mut prev = GENESIS.to_string();
    for (i, e) in entries.iter().enumerate() {
        if e.seq != i as u64 {
            return Err(ChainError::Sequence { index: i, seq: e.seq });
        }
        if e.prev != prev {
            return Err(ChainError::Link(i));
        }
        let hash = hash_of(e.seq, e.at_unix, &e.action, &e.subject, &e.prev);
        if hex::encode(hash) != e.hash {
            return Err(ChainError::Altered(i));
        }
        let sig: [u8; 64] =
            hex::decode(&e.signature).ok().and_then(|b| b.try_into().ok()).ok_or(ChainError::NoSignature(i))?;
        device
            .verify_strict(&hash, &ed25519_dalek::Signature::from_bytes(&sig))
            .map_err(|_| ChainError::NotSigned(i))?;
        prev = e.hash.clone();
    }
    Ok(())
}

/// The action of a visit stopped before its seal (the officer's "stop this visit").
pub const ABANDON: &str = "abandon";

/// The action of a capture kept in a visit's draft (a photo, a print, a signature).
pub const CAPTURE: &str = "capture";

/// The action recorded when the log is found shorter than it was made ([`anchored`]).
pub(crate) const CUT: &str = "audit-cut";

/// The key in the index (its default tree) of the log's length as last made durable.
const ANCHOR: &[u8] = b"audit-anchor";
const ANCHOR_AAD: &[u8] = b"doorstep-audit-anchor-v1";

/// Keeps `len`, the number of records of the log just made durable (fsynced), in the index
/// under the data key. A log is never made shorter but for a torn last record, which an fsync
/// never counted: so a log found shorter than this at the next opening was cut, emptied or
/// replaced. Not made durable here: the index's next flush does it, so the kept length is
/// never ahead of the log.
pub(crate) fn anchor(db: &sled::Db, key: &[u8; 32], len: u64) -> Result<(), VaultError> {
    db.insert(ANCHOR, crypto::seal(key, ANCHOR_AAD, &len.to_le_bytes()))?;
    Ok(())
}

/// The length [`anchor`] kept; none in a vault that never kept one, or whose index was
/// rebuilt.
pub(crate) fn anchored(db: &sled::Db, key: &[u8; 32]) -> Option<u64> {
    let sealed = db.get(ANCHOR).ok()??;
    let plain = crypto::open(key, ANCHOR_AAD, &sealed)?;
    Some(u64::from_le_bytes(plain.as_slice().try_into().ok()?))
}
