//! doorstep-vault: the encrypted store on the tablet.
//!
//! Guarantees, before mechanism:
//! - **Nothing acknowledged is lost.** A draft or a seal is reported saved only after it is
//!   durable (sled `flush`, or write + fsync + rename + fsync of the directory).
//! - **Sealed applications survive a damaged index.** Each envelope is its own file; sled is
//!   only an index, rebuilt from the files when it will not open or does not decrypt.
//! - **Nothing is erased without a receipt.** The outbox goes sealed → uploading →
//!   acknowledged (the hub's signed receipt stored as a file) → erased.
//! - **Only ciphertext at rest.** Every sled value and the audit log are sealed with
//!   XChaCha20-Poly1305 under the data key; the data key exists on disk only wrapped per user
//!   under Argon2id of the PIN. Envelopes are sealed to the bureau, not to the tablet.
//! - **Every action is in the audit chain**, signed by the device key.
//!
//! Architecture invariant: the vault stores and recovers bytes. What a valid application is
//! belongs to doorstep-core; the sealed format to doorstep-envelope.

#![forbid(unsafe_code)]

mod audit;
mod crypto;
mod fsutil;
mod keyslots;
pub mod outbox;

use std::collections::BTreeMap;
use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use doorstep_envelope::{
    ApplicationId, ApplicationRecord, BureauPublicKey, DeviceId, Receipt, SealContext, SealedEnvelope, SigningKey,
    VerifyingKey, signing_key_from_seed,
};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

pub use audit::{AuditEntry, verify_chain};
pub use crypto::KdfParams;
pub use keyslots::Role;
pub use outbox::{OutboxError, OutboxEvent, OutboxState};

use crate::crypto::Key;
use crate::keyslots::KeySlots;

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
    #[error("the PIN must be 6 to 12 digits")]
    WeakPin,
    #[error("only {free} MB free, below the {reserve} MB reserve: upload and erase sent applications first")]
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
    /// Uploads interrupted by the last stop, put back to "sealed".
    pub uploads_reset: usize,
    /// Drafts of visits already sealed, erased.
    pub stale_drafts: usize,
    /// Bytes cut from the end of the audit log (a torn last write).
    pub audit_torn_tail: u64,
    /// The audit log was damaged in the middle; it was moved here and a new chain started.
    pub audit_damaged: Option<PathBuf>,
    /// Index or draft values that did not decrypt and were dropped (index entries are then
    /// rebuilt from the envelope files).
    pub dropped_values: usize,
    /// Sealed-application files that no longer parse or decrypt, renamed `*.env.damaged`.
    pub damaged_files: Vec<PathBuf>,
    /// Seals cut short by the stop while their file was being written: never reported sealed,
    /// their drafts still hold everything, and their files went back to the pool.
    pub interrupted_seals: usize,
}

/// Counts for `vault status`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Status {
    pub drafts: usize,
    pub by_state: BTreeMap<String, usize>,
    pub envelope_bytes: u64,
    pub index_bytes: u64,
    pub free_bytes: u64,
    pub reserve_bytes: u64,
    pub audit_entries: u64,
    pub users: Vec<String>,
    pub device_id: String,
}

/// What `vault verify` found; empty `problems` means all is well.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    pub drafts_checked: usize,
    pub envelopes_checked: usize,
    pub audit_entries: usize,
    pub problems: Vec<String>,
}

const INDEX_DIR: &str = "index";
const ENVELOPES: &str = "envelopes";
const RECEIPTS: &str = "receipts";
const AUDIT: &str = "audit.log";
const SCHEMA: u16 = doorstep_envelope::SCHEMA_VERSION;
const CONTAINER_MAGIC: &[u8; 8] = b"DSVAULT2";

/// What the vault keeps beside a sealed envelope, under the data key.
#[derive(Serialize, Deserialize)]
struct Sidecar {
    visit_id: String,
    review: Option<ReviewSummary>,
}

/// An unlocked vault.
pub struct Vault {
    dir: PathBuf,
    config: VaultConfig,
    db: sled::Db,
    drafts: sled::Tree,
    index: sled::Tree,
    reviews: sled::Tree,
    meta: sled::Tree,
    data_key: Key,
    device_key: SigningKey,
    device_id: DeviceId,
    bureau: BureauPublicKey,
    user: String,
    role: Role,
    user_key: SigningKey,
    audit: audit::AuditLog,
    recovery: Recovery,
    /// Empty envelope files, created (and their directory entries made durable) ahead of
    /// time, so a seal needs one fsync for its data and none for the directory.
    pool: std::sync::Mutex<Vec<PathBuf>>,
}

/// Empty envelope files kept ready.
const POOL_TARGET: usize = 8;
/// An empty (or being written) envelope file. Renamed to `.env` once written and fsynced, so
/// a file named `.env` is always whole unless the disk damaged it.
const SLOT_EXT: &str = "slot";

/// Whether `dir` holds a vault.
pub fn is_initialised(dir: &Path) -> bool {
    dir.join(keyslots::FILE).exists()
}

/// The device id of the vault in `dir`, readable without a PIN.
pub fn device_id(dir: &Path) -> Result<String, VaultError> {
    Ok(KeySlots::load(dir)?.device_id)
}

/// The bureau key (hex) the vault in `dir` seals to, readable without a PIN.
pub fn bureau_key_hex(dir: &Path) -> Result<String, VaultError> {
    Ok(KeySlots::load(dir)?.bureau_public_key)
}

fn check_pin(pin: &str) -> Result<(), VaultError> {
    if (6..=12).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(VaultError::WeakPin)
    }
}

fn key_from_seed(seed: &[u8; 32]) -> SigningKey {
    signing_key_from_seed(seed)
}

impl Vault {
    /// Creates a vault in `dir` with a first user, a new data key and a new device key.
    pub fn init(dir: &Path, opts: &InitOptions<'_>) -> Result<(), VaultError> {
        check_pin(opts.pin)?;
        if dir.join(keyslots::FILE).exists() {
            return Err(VaultError::AlreadyInitialised);
        }
        fs::create_dir_all(dir.join(ENVELOPES))?;
        fs::create_dir_all(dir.join(RECEIPTS))?;
        let data_key = crypto::random_key();
        let device_seed = crypto::random_key();
        let device_public = key_from_seed(&device_seed).verifying_key();
        let (slot, _) = KeySlots::make_slot(opts.user, opts.role, opts.pin.as_bytes(), opts.kdf, &data_key)?;
        let slots = KeySlots {
            version: 1,
            device_id: opts.device_id.to_string(),
            bureau_public_key: hex::encode(opts.bureau.to_bytes()),
            device_key: hex::encode(crypto::seal(&data_key, b"doorstep-device-key-v1", device_seed.as_ref())),
            device_public_key: hex::encode(device_public.to_bytes()),
            failures: Vec::new(),
            max_failures: opts.max_failures.max(1),
            destroyed: false,
            slots: vec![slot],
        };
        slots.store(dir)?;
        fsutil::sync_dir(dir)?;
        let mut v = Vault::unlock(dir, opts.user, opts.pin, opts.now_unix, VaultConfig::default())?;
        v.record(opts.now_unix, "init", opts.device_id)?;
        Ok(())
    }

    /// Unlocks the vault with a user's PIN, recovering from whatever the last stop left.
    ///
    /// A failed attempt is recorded durably before the PIN is tried, so killing the app
    /// during the attempt still counts it. After `max_failures` the slots are destroyed.
    pub fn unlock(dir: &Path, user: &str, pin: &str, now_unix: i64, config: VaultConfig) -> Result<Vault, VaultError> {
        let mut slots = KeySlots::load(dir)?;
        if slots.destroyed {
            return Err(VaultError::Destroyed);
        }
        let slot =
            slots.slots.iter().find(|s| s.user == user).cloned().ok_or_else(|| VaultError::UnknownUser(user.into()))?;
        slots.failures.push(now_unix);
        slots.store(dir)?;
        let Some((data_key, seed)) = KeySlots::unwrap(&slot, pin.as_bytes())? else {
            if slots.failures.len() as u32 >= slots.max_failures {
                slots.slots.clear();
                slots.device_key.clear();
                slots.destroyed = true;
                slots.store(dir)?;
                return Err(VaultError::Destroyed);
            }
            return Err(VaultError::WrongPin { attempts_left: slots.max_failures - slots.failures.len() as u32 });
        };
        // This attempt succeeded: the earlier ones are failures for the audit log.
        slots.failures.pop();
        let failed = std::mem::take(&mut slots.failures);
        slots.store(dir)?;

        let device_seed = hex::decode(&slots.device_key)
            .ok()
            .and_then(|b| crypto::open(&data_key, b"doorstep-device-key-v1", &b))
            .and_then(|v| <[u8; 32]>::try_from(v.as_slice()).ok())
            .ok_or_else(|| VaultError::Corrupt("the device key does not unwrap".into()))?;
        let device_key = key_from_seed(&device_seed);
        let bureau = hex::decode(&slots.bureau_public_key)
            .ok()
            .and_then(|b| BureauPublicKey::from_bytes(&b).ok())
            .ok_or_else(|| VaultError::Corrupt("bureau key".into()))?;
        fs::create_dir_all(dir.join(ENVELOPES))?;
        fs::create_dir_all(dir.join(RECEIPTS))?;

        let mut recovery = Recovery::default();
        let (audit, scan, moved) = audit::AuditLog::open(&dir.join(AUDIT), &data_key)?;
        recovery.audit_torn_tail = scan.torn_tail;
        let damaged_audit = moved.is_some();
        recovery.audit_damaged = moved;
        let db = open_index(dir, &mut recovery)?;
        let mut vault = Vault {
            dir: dir.to_path_buf(),
            config,
            drafts: db.open_tree("drafts")?,
            index: db.open_tree("index")?,
            reviews: db.open_tree("reviews")?,
            meta: db.open_tree("meta")?,
            db,
            data_key,
            device_key,
            device_id: DeviceId(slots.device_id.clone()),
            bureau,
            user: user.to_string(),
            role: slot.role,
            user_key: key_from_seed(&seed),
            audit,
            recovery,
            pool: std::sync::Mutex::new(Vec::new()),
        };
        vault.reconcile(now_unix)?;
        if damaged_audit {
            vault.record(now_unix, "audit-restarted", "damaged log kept aside")?;
        }
        for at in failed {
            vault.record(at, "failed-pin", user)?;
        }
        vault.record(now_unix, "unlock", user)?;
        Ok(vault)
    }

    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    pub fn user(&self) -> (&str, Role) {
        (&self.user, self.role)
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
        self.db.flush()?;
        Ok(())
    }

    fn record(&mut self, at: i64, action: &str, subject: &str) -> Result<(), VaultError> {
        self.audit.append(&self.data_key, &self.device_key, at, action, subject, audit::Durability::Fsync)?;
        Ok(())
    }

    // ----- Users -----

    /// Enrols another user with their own PIN. Only a supervisor may do this.
    pub fn add_user(&mut self, user: &str, role: Role, pin: &str, kdf: KdfParams, now: i64) -> Result<(), VaultError> {
        check_pin(pin)?;
        if self.role != Role::Supervisor && !self.is_only_user()? {
            return Err(VaultError::NotAllowed("only a supervisor enrols users".into()));
        }
        let mut slots = KeySlots::load(&self.dir)?;
        if slots.slots.iter().any(|s| s.user == user) {
            return Err(VaultError::NotAllowed(format!("{user} is already enrolled")));
        }
        let (slot, _) = KeySlots::make_slot(user, role, pin.as_bytes(), kdf, &self.data_key)?;
        slots.slots.push(slot);
        slots.store(&self.dir)?;
        self.record(now, "user-added", user)
    }

    fn is_only_user(&self) -> Result<bool, VaultError> {
        Ok(KeySlots::load(&self.dir)?.slots.len() == 1)
    }

    /// Removes a user's slot. The last slot cannot be removed (the data would be lost).
    pub fn remove_user(&mut self, user: &str, now: i64) -> Result<(), VaultError> {
        if self.role != Role::Supervisor {
            return Err(VaultError::NotAllowed("only a supervisor removes users".into()));
        }
        let mut slots = KeySlots::load(&self.dir)?;
        if !slots.slots.iter().any(|s| s.user == user) {
            return Err(VaultError::UnknownUser(user.into()));
        }
        if slots.slots.len() == 1 {
            return Err(VaultError::NotAllowed("the last user cannot be removed".into()));
        }
        slots.slots.retain(|s| s.user != user);
        slots.store(&self.dir)?;
        self.record(now, "user-removed", user)
    }

    /// Changes the unlocked user's PIN (same signing key, new wrapping).
    pub fn change_pin(&mut self, new_pin: &str, kdf: KdfParams, now: i64) -> Result<(), VaultError> {
        check_pin(new_pin)?;
        let mut slots = KeySlots::load(&self.dir)?;
        let (mut slot, _) = KeySlots::make_slot(&self.user, self.role, new_pin.as_bytes(), kdf, &self.data_key)?;
        // Keep the user's signing key: re-wrap the existing seed under the new PIN.
        let salt = hex::decode(&slot.salt).map_err(|_| VaultError::Corrupt("salt".into()))?;
        let kek = kdf.derive(new_pin.as_bytes(), &salt).map_err(|e| VaultError::Kdf(e.to_string()))?;
        slot.wrapped_signing_seed = hex::encode(crypto::seal(
            &kek,
            format!("doorstep-slot-v1\0{}\0signing-seed", self.user).as_bytes(),
            self.user_key.to_bytes().as_ref(),
        ));
        slot.public_key = hex::encode(self.user_key.verifying_key().to_bytes());
        for s in slots.slots.iter_mut().filter(|s| s.user == self.user) {
            *s = slot.clone();
        }
        slots.store(&self.dir)?;
        let user = self.user.clone();
        self.record(now, "pin-changed", &user)
    }

    // ----- Drafts -----

    /// Refuses to start a capture when free space is below the reserve.
    pub fn check_capture_space(&self) -> Result<(), VaultError> {
        let free = fsutil::available_space(&self.dir)?;
        if free < self.config.reserve_bytes {
            return Err(VaultError::LowSpace {
                free: free / 1_000_000,
                reserve: self.config.reserve_bytes / 1_000_000,
            });
        }
        Ok(())
    }

    fn draft_key(visit: &str, part: &str) -> Vec<u8> {
        format!("{visit}\0{part}").into_bytes()
    }

    /// Saves one part of a visit's draft (a step's data, a photo…). Returns once durable.
    pub fn save_draft(&self, visit: &str, part: &str, bytes: &[u8]) -> Result<(), VaultError> {
        self.put(&self.drafts, "drafts", &Self::draft_key(visit, part), bytes)?;
        self.flush()?;
        // A visit is on its way to a seal: have empty envelope files ready.
        if self.pool().len() < 2 {
            self.replenish()?;
        }
        Ok(())
    }

    pub fn load_draft(&self, visit: &str, part: &str) -> Result<Option<Zeroizing<Vec<u8>>>, VaultError> {
        self.get(&self.drafts, "drafts", &Self::draft_key(visit, part))
    }

    /// The visits with a draft, to resume after a restart.
    pub fn draft_visits(&self) -> Result<Vec<String>, VaultError> {
        let mut visits: Vec<String> = Vec::new();
        for item in self.drafts.iter() {
            let (k, _) = item?;
            let visit = String::from_utf8_lossy(k.split(|b| *b == 0).next().unwrap_or_default()).into_owned();
            if visits.last() != Some(&visit) {
                visits.push(visit);
            }
        }
        Ok(visits)
    }

    /// Erases every part of a visit's draft, durably.
    pub fn erase_draft(&self, visit: &str) -> Result<(), VaultError> {
        let prefix = format!("{visit}\0").into_bytes();
        for item in self.drafts.scan_prefix(&prefix) {
            let (k, _) = item?;
            self.drafts.remove(k)?;
        }
        self.flush()
    }

    // ----- Sealing and the outbox -----

    /// The file holding a sealed application, as the index says.
    fn envelope_path(&self, id: &ApplicationId) -> PathBuf {
        let name = self
            .entry(&id.to_string())
            .ok()
            .map(|e| e.file)
            .filter(|f| !f.is_empty())
            .unwrap_or_else(|| format!("{id}.env"));
        self.dir.join(ENVELOPES).join(name)
    }

    fn pool(&self) -> std::sync::MutexGuard<'_, Vec<PathBuf>> {
        self.pool.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Tops the pool of empty envelope files up, with one directory fsync for all of them.
    fn replenish(&self) -> Result<(), VaultError> {
        let mut pool = self.pool();
        if pool.len() >= POOL_TARGET {
            return Ok(());
        }
        let dir = self.dir.join(ENVELOPES);
        while pool.len() < POOL_TARGET {
            let mut name = [0u8; 8];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut name);
            let path = dir.join(format!("s-{}.{SLOT_EXT}", hex::encode(name)));
            fs::OpenOptions::new().write(true).create_new(true).open(&path)?.sync_all()?;
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

    fn receipt_path(&self, id: &ApplicationId) -> PathBuf {
        self.dir.join(RECEIPTS).join(format!("{id}.receipt"))
    }

    fn next_counter(&self) -> Result<u64, VaultError> {
        let current = self.get(&self.meta, "meta", b"counter")?.and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok());
        let next = current.map_or(1, |c| u64::from_be_bytes(c) + 1);
        // Not flushed: a counter is used only once an envelope file carries it, and recovery
        // never lets the counter fall below the highest one among the files.
        self.put(&self.meta, "meta", b"counter", &next.to_be_bytes())?;
        Ok(next)
    }

    /// Seals a finished application. It is reported sealed once its file is durable: the
    /// envelope, with a sidecar sealed under the data key that names the visit and holds the
    /// supervisor's review summary, written into an empty file whose directory entry is
    /// already durable, and fsynced. The index entry, the counter and the erasure of the draft
    /// follow without waiting for the disk: after a crash they are all rebuilt from the file.
    /// One fsync in all.
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
        let counter = self.next_counter()?;
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
        fsutil::write_into(&slot, &file)?;
        // No directory fsync: if a crash loses the rename, recovery finds the whole file still
        // under its slot name and indexes it from there.
        let sealed_path = slot.with_extension("env");
        fs::rename(&slot, &sealed_path)?;
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
        let prefix = format!("{visit}\0").into_bytes();
        for item in self.drafts.scan_prefix(&prefix) {
            let (k, _) = item?;
            self.drafts.remove(k)?;
        }
        self.audit.append(&self.data_key, &self.device_key, now, "seal", &id.to_string(), audit::Durability::Later)?;
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
    fn container(&self, id: &ApplicationId, sidecar: &Sidecar, envelope: &[u8]) -> Result<Vec<u8>, VaultError> {
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

    /// The id, the sealed sidecar and the envelope bytes of a container, or what is wrong.
    fn split_container(bytes: &[u8]) -> Result<(ApplicationId, &[u8], &[u8]), VaultError> {
        let bad = |what: &str| VaultError::Corrupt(format!("sealed application file: {what}"));
        let rest = bytes.strip_prefix(CONTAINER_MAGIC.as_slice()).ok_or_else(|| bad("not a vault file"))?;
        let (id, rest) = rest.split_first_chunk::<16>().ok_or_else(|| bad("cut short"))?;
        let (len, rest) = rest.split_first_chunk::<4>().ok_or_else(|| bad("cut short"))?;
        let len = u32::from_le_bytes(*len) as usize;
        let sealed = rest.get(..len).ok_or_else(|| bad("cut short"))?;
        Ok((ApplicationId(*id), sealed, &rest[len..]))
    }

    /// The sidecar alone, when the head of a container is whole (the envelope may not be).
    fn open_sidecar(&self, bytes: &[u8]) -> Option<Sidecar> {
        let (id, sealed, _) = Self::split_container(bytes).ok()?;
        let plain = crypto::open(&self.data_key, &Self::sidecar_aad(&id), sealed)?;
        serde_json::from_slice(&plain).ok()
    }

    /// Splits a sealed application's file into its sidecar and envelope.
    fn open_container(&self, bytes: &[u8]) -> Result<(Sidecar, SealedEnvelope), VaultError> {
        let bad = |what: &str| VaultError::Corrupt(format!("sealed application file: {what}"));
        let (id, _, envelope) = Self::split_container(bytes)?;
        let envelope = SealedEnvelope::from_bytes(envelope).map_err(|e| bad(&e.to_string()))?;
        if envelope.application_id() != id {
            return Err(bad("the file's id is not its envelope's"));
        }
        let sidecar = self.open_sidecar(bytes).ok_or_else(|| bad("the sidecar does not decrypt"))?;
        Ok((sidecar, envelope))
    }

    fn read_container(&self, id: &ApplicationId) -> Result<(Sidecar, SealedEnvelope), VaultError> {
        self.open_container(&fs::read(self.envelope_path(id))?)
    }

    fn put_entry(&self, entry: &OutboxEntry) -> Result<(), VaultError> {
        let json = serde_json::to_vec(entry).map_err(|e| VaultError::Corrupt(e.to_string()))?;
        self.put(&self.index, "index", entry.application_id.as_bytes(), &json)
    }

    fn entry(&self, id: &str) -> Result<OutboxEntry, VaultError> {
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
        // The supervisor may not have decided yet: keep the review summary.
        if let Ok((Sidecar { review: Some(review), .. }, _)) = self.read_container(&app) {
            let json = serde_json::to_vec(&review).map_err(|e| VaultError::Corrupt(e.to_string()))?;
            self.put(&self.reviews, "reviews", id.as_bytes(), &json)?;
            self.flush()?;
        }
        fsutil::remove_durably(&self.envelope_path(&app))?;
        let e = self.transition(id, OutboxEvent::Erase, now)?;
        self.record(now, "erase", id)?;
        Ok(e)
    }

    // ----- Supervisor review -----

    pub fn review(&self, id: &str) -> Result<Option<ReviewSummary>, VaultError> {
        if let Some(app) = ApplicationId::parse(id)
            && self.envelope_path(&app).exists()
        {
            return Ok(self.read_container(&app)?.0.review);
        }
        match self.get(&self.reviews, "reviews", id.as_bytes())? {
            None => Ok(None),
            Some(raw) => serde_json::from_slice(&raw).map(Some).map_err(|e| VaultError::Corrupt(e.to_string())),
        }
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
        Ok(self.dir.join(format!("secret-{name}.sealed")))
    }

    /// Keeps the hub's signed receipt for a released batch (durably), beside the envelopes'.
    pub fn store_batch_receipt(&mut self, batch_id: &str, receipt: &[u8], now: i64) -> Result<(), VaultError> {
        let path = self.dir.join(RECEIPTS).join(format!("batch-{}.receipt", hex::encode(batch_id)));
        fsutil::write_atomic(&path, receipt)?;
        self.record(now, "batch-receipt", batch_id)
    }

    /// After the supervisor has decided on a batch, erases its review summaries.
    pub fn batch_decided(&mut self, ids: &[String], now: i64) -> Result<(), VaultError> {
        if self.role != Role::Supervisor {
            return Err(VaultError::NotAllowed("only a supervisor decides on a batch".into()));
        }
        for id in ids {
            self.reviews.remove(id.as_bytes())?;
            if let Some(app) = ApplicationId::parse(id)
                && self.envelope_path(&app).exists()
            {
                let (mut sidecar, envelope) = self.read_container(&app)?;
                if sidecar.review.take().is_some() {
                    let file = self.container(&app, &sidecar, &envelope.to_bytes())?;
                    fsutil::write_atomic(&self.envelope_path(&app), &file)?;
                }
            }
        }
        self.flush()?;
        for id in ids {
            self.record(now, "batch-decided", id)?;
        }
        Ok(())
    }

    // ----- Recovery, status, verification -----

    /// Brings the index in line with the files after any stop.
    fn reconcile(&mut self, now: i64) -> Result<(), VaultError> {
        for (tree, name) in
            [(&self.drafts, "drafts"), (&self.index, "index"), (&self.reviews, "reviews"), (&self.meta, "meta")]
        {
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
                match self.settle_slot(&path)? {
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
            let bytes = fs::read(&path)?;
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
                let aside = path.with_extension("env.damaged");
                fs::rename(&path, &aside)?;
                fsutil::sync_dir(&envelopes)?;
                self.recovery.damaged_files.push(aside);
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
        let mut sealed_visits = Vec::new();
        for entry in self.outbox()? {
            max_counter = max_counter.max(entry.device_counter);
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
        for visit in self.draft_visits()? {
            if sealed_visits.contains(&visit) {
                self.erase_draft(&visit)?;
                self.recovery.stale_drafts += 1;
            }
        }
        let stored = self.get(&self.meta, "meta", b"counter")?.and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok());
        if stored.map_or(0, u64::from_be_bytes) < max_counter {
            self.put(&self.meta, "meta", b"counter", &max_counter.to_be_bytes())?;
        }
        self.replenish()?;
        self.flush()
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
    fn settle_slot(&mut self, path: &Path) -> Result<Option<PathBuf>, VaultError> {
        let bytes = fs::read(path)?;
        if bytes.is_empty() {
            self.pool().push(path.to_path_buf());
            return Ok(None);
        }
        let whole = self.open_container(&bytes).is_ok_and(|(_, env)| env.verify_self_signed().is_ok());
        let dir = self.dir.join(ENVELOPES);
        if whole {
            let sealed = path.with_extension("env");
            fs::rename(path, &sealed)?;
            fsutil::sync_dir(&dir)?;
            return Ok(Some(sealed));
        }
        let orphan = match self.open_sidecar(&bytes) {
            Some(sidecar) => !self.draft_visits()?.contains(&sidecar.visit_id),
            None => false,
        };
        if orphan {
            let aside = path.with_extension("env.damaged");
            fs::rename(path, &aside)?;
            fsutil::sync_dir(&dir)?;
            self.recovery.damaged_files.push(aside);
            return Ok(None);
        }
        fsutil::write_into(path, &[])?;
        self.pool().push(path.to_path_buf());
        self.recovery.interrupted_seals += 1;
        Ok(None)
    }

    pub fn status(&self) -> Result<Status, VaultError> {
        let mut status = Status {
            drafts: self.draft_visits()?.len(),
            free_bytes: fsutil::available_space(&self.dir)?,
            reserve_bytes: self.config.reserve_bytes,
            audit_entries: self.audit.head().1,
            device_id: self.device_id.0.clone(),
            users: KeySlots::load(&self.dir)?.slots.iter().map(|s| format!("{} ({:?})", s.user, s.role)).collect(),
            ..Status::default()
        };
        for e in self.outbox()? {
            *status.by_state.entry(format!("{:?}", e.state).to_lowercase()).or_default() += 1;
            if e.state != OutboxState::Erased {
                status.envelope_bytes += e.size;
            }
        }
        status.index_bytes = self.db.size_on_disk().unwrap_or(0);
        Ok(status)
    }

    /// Checks that every draft and index value decrypts, every envelope verifies and matches
    /// the index, every receipt matches, and the audit chain is intact.
    pub fn verify(&self) -> Result<VerifyReport, VaultError> {
        let mut report = VerifyReport::default();
        for item in self.drafts.iter() {
            let (k, _) = item?;
            match self.get(&self.drafts, "drafts", &k) {
                Ok(_) => report.drafts_checked += 1,
                Err(e) => {
                    report.problems.push(format!("draft {}: {e}", String::from_utf8_lossy(&k).replace('\0', "/")))
                }
            }
        }
        let device = self.device_key.verifying_key();
        let mut indexed = std::collections::HashSet::new();
        for entry in self.outbox()? {
            indexed.insert(entry.application_id.clone());
            let Some(app) = ApplicationId::parse(&entry.application_id) else {
                report.problems.push(format!("index entry {} is not an application id", entry.application_id));
                continue;
            };
            let path = self.envelope_path(&app);
            if entry.state == OutboxState::Erased {
                if path.exists() {
                    report.problems.push(format!("{}: erased but its file is still there", entry.application_id));
                }
                continue;
            }
            match fs::read(&path) {
                Err(_) => report.problems.push(format!("{}: the envelope file is missing", entry.application_id)),
                Ok(bytes) => match self.open_container(&bytes).map(|(_, env)| env) {
                    Err(e) => report.problems.push(format!("{}: {e}", entry.application_id)),
                    Ok(env) => {
                        if env.header().device_key != device.to_bytes() {
                            report.problems.push(format!("{}: not sealed by this device", entry.application_id));
                        } else if let Err(e) = env.verify_self_signed() {
                            report.problems.push(format!("{}: {e}", entry.application_id));
                        } else if hex::encode(env.digest()) != entry.digest {
                            report
                                .problems
                                .push(format!("{}: the digest differs from the index", entry.application_id));
                        } else {
                            report.envelopes_checked += 1;
                        }
                    }
                },
            }
            if entry.state == OutboxState::Acknowledged {
                let ok = fs::read(self.receipt_path(&app))
                    .ok()
                    .and_then(|r| Receipt::from_bytes(&r).ok())
                    .is_some_and(|r| hex::encode(r.digest) == entry.digest);
                if !ok {
                    report.problems.push(format!("{}: acknowledged without a matching receipt", entry.application_id));
                }
            }
        }
        for file in fs::read_dir(self.dir.join(ENVELOPES))? {
            let path = file?.path();
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if name.ends_with(".env") && fs::metadata(&path).map(|m| m.len() > 0).unwrap_or(false) {
                match fs::read(&path).map_err(VaultError::from).and_then(|b| self.open_container(&b)) {
                    Ok((_, env)) if !indexed.contains(&env.application_id().to_string()) => {
                        report
                            .problems
                            .push(format!("{}: envelope file {name} not in the index", env.application_id()));
                    }
                    Ok(_) => {}
                    Err(e) => report.problems.push(format!("{name}: {e}")),
                }
            }
            if name.ends_with(".env.damaged") {
                report.problems.push(format!("{name}: a sealed application's file is damaged (kept aside)"));
            }
        }
        let (scan, _) = audit::AuditLog::scan(&self.dir.join(AUDIT), &self.data_key)?;
        report.audit_entries = scan.entries.len();
        if scan.torn_tail > 0 {
            report.problems.push(format!("the audit log has {} bytes that are not whole records", scan.torn_tail));
        }
        if let Some(at) = scan.damaged_at {
            report.problems.push(format!("the audit log is damaged at byte {at}"));
        }
        if let Err(e) = verify_chain(&scan.entries, &device) {
            report.problems.push(format!("audit chain: {e}"));
        }
        for file in fs::read_dir(&self.dir)? {
            let name = file?.file_name().to_string_lossy().into_owned();
            if name.starts_with("audit.log.damaged") {
                report.problems.push(format!("the audit log was damaged and kept aside as {name}"));
            }
        }
        Ok(report)
    }

    /// The bureau key this vault seals to.
    pub fn bureau_key(&self) -> &BureauPublicKey {
        &self.bureau
    }
}

/// Opens sled, or, when it will not open (or panics on a damaged file) or cannot be read
/// through, moves it aside and starts a fresh index, which `reconcile` refills from the files.
fn open_index(dir: &Path, recovery: &mut Recovery) -> Result<sled::Db, VaultError> {
    let path = dir.join(INDEX_DIR);
    let attempt = |p: &Path| -> Option<sled::Db> {
        catch_unwind(AssertUnwindSafe(|| sled::Config::new().path(p).open().ok())).ok().flatten()
    };
    if let Some(db) = attempt(&path) {
        if index_is_readable(&db) {
            return Ok(db);
        }
        drop(db);
    }
    let mut n = 0;
    let quarantine = loop {
        let candidate = dir.join(format!("{INDEX_DIR}.damaged-{n}"));
        if !candidate.exists() {
            break candidate;
        }
        n += 1;
    };
    if path.exists() {
        fs::rename(&path, &quarantine)?;
        fsutil::sync_dir(dir)?;
        recovery.quarantined = Some(quarantine);
    }
    attempt(&path).ok_or_else(|| VaultError::Index("a fresh index cannot be created".into()))
}

/// Reads every entry of every tree; false on any read error (or a panic inside sled).
fn index_is_readable(db: &sled::Db) -> bool {
    catch_unwind(AssertUnwindSafe(|| {
        db.tree_names().iter().all(|name| db.open_tree(name).is_ok_and(|tree| tree.iter().all(|item| item.is_ok())))
    }))
    .unwrap_or(false)
}
