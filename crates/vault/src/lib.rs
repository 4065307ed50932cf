//! doorstep-vault: the encrypted store on the tablet.
//!
//! Guarantees, before mechanism:
//! - **Nothing acknowledged is lost.** A draft or a seal is reported saved only after it is
//!   durable: each is its own file, written, fsynced and renamed (and the directory fsynced).
//! - **Drafts and sealed applications survive a damaged index.** sled is only an index of the
//!   files, rebuilt from them when it will not open or does not decrypt.
//! - **A vault in use is never mistaken for a damaged one.** Writers take the vault's own
//!   inter-process lock; a second one waits briefly, then is told which process holds it.
//! - **Nothing is erased without a receipt.** The outbox goes sealed → uploading →
//!   acknowledged (the hub's signed receipt stored as a file) → erased.
//! - **Only ciphertext at rest.** Every value, draft, sidecar and the audit log are sealed with
//!   XChaCha20-Poly1305 under the data key; the data key exists on disk only wrapped per user
//!   under Argon2id of the PIN. Envelopes are sealed to the bureau, not to the tablet. Files
//!   are 0600 and folders 0700.
//! - **Trust anchors are authenticated.** The bureau key, the device id and key, the failure
//!   policy and the hub bundle are bound under the data key: one edited without the PIN is
//!   refused by name at unlock (or at sync).
//! - **Device counters never go backwards**, even when the index is rebuilt.
//! - **Every action is in the audit chain**, signed by the device key.
//!
//! Architecture invariant: the vault stores and recovers bytes. What a valid application is
//! belongs to doorstep-core; the sealed format to doorstep-envelope.
//!
//! The code follows the life of the data: [`open`] (init, unlock, the index), [`users`],
//! [`drafts`], [`seal`] (containers, the counter), [`sending`] (the outbox's operations,
//! reviews, secrets), [`decisions`] (a supervisor's decisions before the release), [`appointments`] (downloaded appointments, served notices to send),
//! [`feedback`] (feedback sealed to the bureau until the hub has it, and what the unit heard),
//! [`reconcile`] (recovery after any stop), [`report`] (status, verify).

#![forbid(unsafe_code)]

mod anchors;
pub mod appointments;
mod audit;
mod crypto;
mod decisions;
mod drafts;
pub mod faults;
pub mod feedback;
mod fsutil;
mod handover;
mod keyslots;
mod lock;
mod open;
pub mod outbox;
pub mod pin;
pub mod powercut;
mod reconcile;
mod report;
mod seal;
mod sending;
mod users;

use std::path::{Path, PathBuf};

use doorstep_envelope::{BureauPublicKey, DeviceId, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

pub use anchors::{Anchor, KeyStore, SoftwareKeyStore};
pub use appointments::ServedNotice;
pub use audit::{ABANDON, AuditEntry, CAPTURE, ChainError, verify_chain};
pub use crypto::KdfParams;
pub use feedback::FeedbackEntry;
pub use handover::HandedOver;
pub use keyslots::Role;
pub use outbox::{OutboxError, OutboxEvent, OutboxState};
pub use pin::{PIN_DIGITS, PinError};
pub use report::{AuditSummary, SetAside, SetAsideKind, Status, VerifyReport};
pub use seal::split_container;

use crate::crypto::Key;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("no vault here: run `doorstep vault init` first")]
    NotInitialised,
    #[error("a vault already exists here")]
    AlreadyInitialised,
    #[error(
        "the sealed application would be {size} bytes, over the {max}-byte limit the hub takes: make the photo or the fingerprint images smaller"
    )]
    TooLarge { size: usize, max: usize },
    #[error("no user {0:?} is enrolled on this unit")]
    UnknownUser(String),
    #[error("wrong PIN: {attempts_left} attempts left before the unit erases its keys")]
    WrongPin { attempts_left: u32 },
    #[error("too many wrong PINs: the keys were destroyed; the unit must be re-provisioned")]
    Destroyed,
    #[error("{0}")]
    Pin(#[from] PinError),
    #[error(
        "the key derivation parameters are below the floor (19 MiB, 2 passes): this vault was made for tests and is refused"
    )]
    WeakKdf,
    /// In MiB, as the configuration's `reserve_mb` counts them.
    #[error("only {free} MiB free, below the {reserve} MiB reserve: upload and erase sent applications first")]
    LowSpace { free: u64, reserve: u64 },
    #[error("{0}")]
    Outbox(#[from] OutboxError),
    #[error("no application {0} in the vault")]
    NoSuchApplication(String),
    #[error("the receipt does not match: {0}")]
    BadReceipt(String),
    #[error("sealing failed: {0}")]
    Seal(String),
    #[error("the key derivation failed: {0}")]
    Kdf(String),
    #[error("damaged data: {0}")]
    Corrupt(String),
    #[error("storage error: {0}")]
    Io(#[from] std::io::Error),
    #[error("index error: {0}")]
    Index(String),
    #[error("{0}")]
    NotAllowed(String),
    /// Another process has the vault open (the unit, or another command).
    #[error("{}", busy_message(*.pid))]
    Busy { pid: Option<u32> },
    /// A trust anchor differs from what was bound under the PIN: edited without it.
    #[error(
        "the {0} in keyslots.json was changed without the PIN: this vault is refused; re-provision the unit from the bureau"
    )]
    AnchorChanged(Anchor),
    /// The hub bundle differs from the one bound at provisioning.
    #[error("the hub bundle was changed without the PIN: provision the unit again (`doorstep provision`)")]
    HubBundleChanged,
    /// No hub bundle was bound under the PIN: the unit must be provisioned (again).
    #[error("no hub bundle is bound to this vault: provision the unit (`doorstep provision BUNDLE`)")]
    HubNotBound,
    /// Core refused the feedback as given (its category, text or contact).
    #[error("{0}")]
    Feedback(doorstep_core::feedback::FeedbackError),
    #[error("no appointment {0} is kept on this unit: sync to download it")]
    NoSuchAppointment(String),
    #[error("appointment {0} is not booked here: it was served by another visit, cancelled or missed")]
    AppointmentNotBooked(String),
    /// `init` was given a folder that holds something else.
    #[error("the folder is not empty and holds no vault: give an empty or new folder")]
    NotEmpty,
    /// A used vault's files without its key slots: nothing is made over them.
    #[error(
        "the folder holds a vault's files but no keyslots.json: restore it from a backup (a new vault here would make every application in it unreadable); nothing was changed"
    )]
    KeySlotsMissing,
}

impl VaultError {
    /// The storage did not read or write what is there (an I/O error other than a file not
    /// found: a failing card, a removed medium, too many open files): nothing is known to be
    /// damaged, and the same read may succeed later. A file missing, or bytes that do not
    /// decrypt or parse, are not a fault of the storage but of what it holds.
    pub fn is_storage_fault(&self) -> bool {
        matches!(self, VaultError::Io(e) if e.kind() != std::io::ErrorKind::NotFound)
    }
}

fn busy_message(pid: Option<u32>) -> String {
    match pid {
        Some(pid) => format!(
            "the vault is in use by process {pid} (the unit, or another doorstep command): close or lock it, then try again"
        ),
        None => "the vault is in use by another process: close or lock it, then try again".to_string(),
    }
}

impl From<sled::Error> for VaultError {
    fn from(e: sled::Error) -> Self {
        VaultError::Index(e.to_string())
    }
}

/// Settings of a vault, chosen by the app's configuration.
#[derive(Debug, Clone)]
pub struct VaultConfig {
    /// Free space below which capture is refused (sized to the rest of a shift).
    pub reserve_bytes: u64,
}

impl Default for VaultConfig {
    fn default() -> Self {
        // 30 applications of up to 2 MB each, plus room for sled to compact.
        VaultConfig { reserve_bytes: 256 * 1024 * 1024 }
    }
}

/// What `init` needs.
pub struct InitOptions<'a> {
    pub device_id: &'a str,
    pub bureau: &'a BureauPublicKey,
    pub user: &'a str,
    pub role: Role,
    pub pin: &'a str,
    pub kdf: KdfParams,
    pub max_failures: u32,
    pub now_unix: i64,
}

/// An entry of the outbox, as indexed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub application_id: String,
    pub visit_id: String,
    pub digest: String,
    pub device_counter: u64,
    pub state: OutboxState,
    pub size: u64,
    pub sealed_at_unix: i64,
    pub updated_at_unix: i64,
    /// The file in `envelopes/` that holds it.
    #[serde(default)]
    pub file: String,
    /// Uploads begun. At 0 the hub has never been sent a byte of it, so the upload starts
    /// without asking the hub what it holds (one round trip less per envelope in poor coverage).
    #[serde(default)]
    pub attempts: u32,
    /// What the hub last said of it once it was erased here (its status as JSON), and whether
    /// that is settled (no later answer can change it), so that it is not asked again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub_status: Option<String>,
    #[serde(default)]
    pub settled: bool,
}

impl OutboxEntry {
    /// The envelope's digest as bytes (`None` if the stored hex is damaged).
    pub fn digest_bytes(&self) -> Option<[u8; 32]> {
        hex::decode(&self.digest).ok().and_then(|d| d.try_into().ok())
    }
}

/// What the supervisor sees before approving: no biometrics beyond a thumbnail.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewSummary {
    pub application_id: String,
    pub application_numbers: Vec<String>,
    pub summary_json: String,
    pub thumbnail_jpeg: Vec<u8>,
    pub quality_flags: Vec<String>,
}

impl std::fmt::Debug for ReviewSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReviewSummary({}, <redacted>)", self.application_id)
    }
}

/// What happened when the vault was opened.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// The index would not open or decrypt and was moved here, then rebuilt.
    pub quarantined: Option<PathBuf>,
    /// Envelope files that had no index entry and were indexed again.
    pub reindexed: usize,
    /// Draft files that had no index entry and were indexed again.
    pub drafts_reindexed: usize,
    /// Uploads interrupted by the last stop, put back to "sealed".
    pub uploads_reset: usize,
    /// Erases the last stop cut short after the file went (the hub's receipt stored): marked
    /// erased, as the erase would have.
    pub erases_finished: usize,
    /// Drafts of visits already sealed, erased.
    pub stale_drafts: usize,
    /// Bytes cut from the end of the audit log (a torn last write).
    pub audit_torn_tail: u64,
    /// The audit log was damaged in the middle; it was moved here and a new chain started.
    pub audit_damaged: Option<PathBuf>,
    /// More than a record cut short was cut from the end of the audit log (garbage after its
    /// last whole record, as a power cut leaves): the bytes cut were kept here first.
    pub audit_tail_kept: Option<PathBuf>,
    /// The audit log held fewer records than were made durable before (records found, records
    /// kept): it was cut, emptied or replaced. Recorded in the new log as `audit-cut`, which
    /// `verify` reports for as long as the log holds it.
    pub audit_cut: Option<(u64, u64)>,
    /// Index values that did not decrypt and were dropped (they are rebuilt from the files).
    pub dropped_values: usize,
    /// Files (sealed applications, drafts or feedback) that no longer parse or decrypt, kept
    /// aside (each also in the audit log, as `set-aside`, and in [`Vault::set_aside`]).
    pub damaged_files: Vec<PathBuf>,
    /// Seals cut short by the stop while their file was being written: never reported sealed,
    /// their drafts still hold everything, and their files went back to the pool.
    pub interrupted_seals: usize,
    /// Files that could not be read at all (an I/O error, a failing card): left in place, as
    /// they are, for a later opening or the administrator; the vault opens without them.
    pub unreadable_files: Vec<PathBuf>,
    /// The counter file was missing or damaged: the counter was recovered from the
    /// envelopes, the index and the audit log.
    pub counter_recovered: bool,
}

const INDEX_DIR: &str = "index";
const ENVELOPES: &str = "envelopes";
const RECEIPTS: &str = "receipts";
const DRAFTS: &str = "drafts";
const APPOINTMENTS: &str = "appointments";
const FEEDBACK: &str = "feedback";
const AUDIT: &str = "audit.log";
/// The vault's own layout, bound into every value's associated data: fixed, whatever the
/// record schema (a new record schema must not make a vault unreadable).
const SCHEMA: u16 = 1;

/// An unlocked vault. It holds the vault's writer lock until dropped.
pub struct Vault {
    dir: PathBuf,
    config: VaultConfig,
    db: sled::Db,
    /// Index of the draft files: visit and part → file name.
    draft_index: sled::Tree,
    index: sled::Tree,
    reviews: sled::Tree,
    /// A supervisor's decisions not yet released, by supervisor.
    decisions: sled::Tree,
    data_key: Key,
    device_key: SigningKey,
    device_id: DeviceId,
    bureau: BureauPublicKey,
    user: String,
    role: Role,
    user_key: SigningKey,
    audit: audit::AuditLog,
    recovery: Recovery,
    counter: seal::Counter,
    /// Empty envelope files, created (and their directory entries made durable) ahead of
    /// time, so a seal needs one fsync for its data and none for the directory.
    pool: std::sync::Mutex<Vec<PathBuf>>,
    key_store: &'static str,
    _lock: lock::WriterLock,
}

/// Whether `dir` holds a vault.
pub fn is_initialised(dir: &Path) -> bool {
    dir.join(keyslots::FILE).exists()
}

/// The device id of the vault in `dir`, readable without a PIN (not authenticated until
/// the vault is unlocked).
pub fn device_id(dir: &Path) -> Result<String, VaultError> {
    Ok(keyslots::KeySlots::load(dir)?.device_id)
}

/// The users enrolled in the vault in `dir` and their roles, in the order they were enrolled,
/// readable without a PIN (for the unlock screen's choice of user; not authenticated until
/// the vault is unlocked, when a changed list is refused as a changed anchor).
pub fn users(dir: &Path) -> Result<Vec<(String, Role)>, VaultError> {
    Ok(keyslots::KeySlots::load(dir)?.slots.into_iter().map(|s| (s.user, s.role)).collect())
}

/// The bureau key (hex) the vault in `dir` seals to, readable without a PIN (not
/// authenticated until the vault is unlocked).
pub fn bureau_key_hex(dir: &Path) -> Result<String, VaultError> {
    Ok(keyslots::KeySlots::load(dir)?.bureau_public_key)
}

impl Vault {
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    pub fn user(&self) -> (&str, Role) {
        (&self.user, self.role)
    }

    /// The vault's folder (the unit keeps some plain files beside it: the queue, receipts).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// This unit's device id (as enrolled at the hub).
    pub fn device_id(&self) -> &str {
        &self.device_id.0
    }

    pub fn device_public_key(&self) -> VerifyingKey {
        self.device_key.verifying_key()
    }

    pub fn user_public_key(&self) -> VerifyingKey {
        self.user_key.verifying_key()
    }

    /// The signing key of the unlocked user (an officer signs envelopes, a supervisor manifests).
    pub fn user_signing_key(&self) -> &SigningKey {
        &self.user_key
    }

    /// The head of the audit chain and its length.
    pub fn audit_head(&self) -> ([u8; 32], u64) {
        self.audit.head()
    }

    /// The bureau key this vault seals to.
    pub fn bureau_key(&self) -> &BureauPublicKey {
        &self.bureau
    }

    /// Which key store protects the key-encryption keys ("software" without a TPM).
    pub fn key_store(&self) -> &'static str {
        self.key_store
    }

    fn aad(tree: &str, key: &[u8], device: &DeviceId) -> Vec<u8> {
        let mut aad = format!("doorstep-vault-v1\0{tree}\0").into_bytes();
        aad.extend_from_slice(key);
        aad.extend_from_slice(&SCHEMA.to_be_bytes());
        aad.extend_from_slice(device.0.as_bytes());
        aad
    }

    fn put(&self, tree: &sled::Tree, name: &str, key: &[u8], value: &[u8]) -> Result<(), VaultError> {
        let sealed = crypto::seal(&self.data_key, &Self::aad(name, key, &self.device_id), value);
        tree.insert(key, sealed)?;
        Ok(())
    }

    fn get(&self, tree: &sled::Tree, name: &str, key: &[u8]) -> Result<Option<Zeroizing<Vec<u8>>>, VaultError> {
        match tree.get(key)? {
            None => Ok(None),
            Some(v) => crypto::open(&self.data_key, &Self::aad(name, key, &self.device_id), &v)
                .map(Some)
                .ok_or_else(|| VaultError::Corrupt(format!("{name} value does not decrypt"))),
        }
    }

    fn flush(&self) -> Result<(), VaultError> {
        faults::check(faults::Point::Index)?;
        self.db.flush()?;
        powercut::index_flushed(&self.dir.join(INDEX_DIR));
        Ok(())
    }

    /// Records in the audit log a visit stopped before its seal ([`ABANDON`]):
    /// `subject` says which, at which step, and any fee taken and refunded, never who.
    pub fn record_abandoned(&mut self, at: i64, subject: &str) -> Result<(), VaultError> {
        self.record(at, audit::ABANDON, subject)
    }

    /// Records in the audit log a capture kept in visit `visit`'s draft ([`CAPTURE`]): which
    /// visit and which part (`photo.jpg`, `finger-3.raw`, `signature.png`), never its content.
    pub fn record_capture(&mut self, at: i64, visit: &str, part: &str) -> Result<(), VaultError> {
        self.record(at, audit::CAPTURE, &format!("visit={visit} part={part}"))
    }

    fn record(&mut self, at: i64, action: &str, subject: &str) -> Result<(), VaultError> {
        self.audit.append(&self.data_key, &self.device_key, at, action, subject, audit::Durability::Fsync)?;
        // The record is durable: the length is kept (best effort: a length not kept only
        // weakens the check of a cut log at the next opening, and raises no alarm).
        let _ = audit::anchor(&self.db, &self.data_key, self.audit.head().1);
        Ok(())
    }

    /// Free space where the vault is, and the reserve below which capture is refused (bytes).
    pub fn space(&self) -> Result<(u64, u64), VaultError> {
        Ok((fsutil::available_space(&self.dir)?, self.config.reserve_bytes))
    }

    /// Refuses to start a capture when free space is below the reserve.
    pub fn check_capture_space(&self) -> Result<(), VaultError> {
        let free = fsutil::available_space(&self.dir)?;
        if free < self.config.reserve_bytes {
            return Err(VaultError::LowSpace {
                free: free / doorstep_core::shift::MIB,
                reserve: self.config.reserve_bytes / doorstep_core::shift::MIB,
            });
        }
        Ok(())
    }
}
