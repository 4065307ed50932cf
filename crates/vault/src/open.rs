//! Making a vault and opening it: the writer lock, the key slots and their anchors, the index
//! (a lock held elsewhere is "busy", never damage), and recovery.

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::{Duration, Instant};

use doorstep_envelope::{BureauPublicKey, DeviceId, VerifyingKey, signing_key_from_seed};

use crate::anchors::{self, Anchors, KeyStore, SoftwareKeyStore};
use crate::keyslots::{self, KeySlots};
use crate::lock::{self, WriterLock};
use crate::sending::{SECRET_PREFIX, SECRET_SUFFIX};
use crate::{
    APPOINTMENTS, AUDIT, DRAFTS, ENVELOPES, FEEDBACK, INDEX_DIR, InitOptions, RECEIPTS, Recovery, Vault, VaultConfig,
    VaultError, audit, crypto, fsutil, pin, seal,
};

/// Refuses a user id that could not be enrolled at the hub as it is
/// (`doorstep_envelope::is_user_id`).
pub(crate) fn check_user_id(user: &str) -> Result<(), VaultError> {
    if doorstep_envelope::is_user_id(user) {
        return Ok(());
    }
    Err(VaultError::NotAllowed(format!(
        "{user:?} is not a user id: 1 to {} letters, digits, '-', '_', '.' or '@', not beginning with '-'",
        doorstep_envelope::MAX_USER_ID
    )))
}

/// The key store in use. A TPM-backed one would be chosen here when the tablet has one.
pub(crate) fn key_store() -> &'static dyn KeyStore {
    &SoftwareKeyStore
}

const DEVICE_KEY_AAD: &[u8] = b"doorstep-device-key-v1";

impl Vault {
    /// Creates a vault in `dir` with a first user, a new data key and a new device key, its
    /// trust anchors bound under the data key.
    /// Returns the first user's public key, which the hub must enrol (`doorstep-hub
    /// add-officer` or `add-supervisor`) before it takes what they seal or sign.
    pub fn init(dir: &Path, opts: &InitOptions<'_>) -> Result<VerifyingKey, VaultError> {
        pin::check_pin(opts.pin)?;
        check_user_id(opts.user)?;
        opts.kdf.check_floor()?;
        Self::check_new(dir)?;
        fsutil::create_dir(dir)?;
        let lock = WriterLock::acquire(dir, lock::WAIT)?;
        Self::check_new(dir)?;
        for sub in [ENVELOPES, RECEIPTS, DRAFTS] {
            fsutil::create_dir(&dir.join(sub))?;
        }
        let data_key = crypto::random_key();
        let device_seed = crypto::random_key();
        let device_public = signing_key_from_seed(&device_seed).verifying_key();
        let (slot, _) =
            KeySlots::make_slot(opts.user, opts.role, opts.pin.as_bytes(), opts.kdf, &data_key, key_store())?;
        let mut slots = KeySlots {
            version: anchors::VERSION,
            device_id: opts.device_id.to_string(),
            bureau_public_key: hex::encode(opts.bureau.to_bytes()),
            device_key: hex::encode(crypto::seal(&data_key, DEVICE_KEY_AAD, device_seed.as_ref())),
            device_public_key: hex::encode(device_public.to_bytes()),
            failures: Vec::new(),
            max_failures: opts.max_failures.max(1),
            destroyed: false,
            slots: vec![slot],
            anchors: String::new(),
        };
        slots.anchors = Anchors::of(&slots, None).seal(&data_key);
        seal::Counter::write(dir, &data_key, &DeviceId(opts.device_id.to_string()), 0)?;
        slots.store(dir)?;
        fsutil::sync_dir(dir)?;
        drop(lock);
        let mut v = Vault::unlock(dir, opts.user, opts.pin, opts.now_unix, VaultConfig::default())?;
        v.record(opts.now_unix, "init", opts.device_id)?;
        Ok(v.user_public_key())
    }

    /// Whether `init` may make a vault in `dir`: a new or empty folder, or one holding only
    /// what an init that a stop cut short leaves before its key slots are stored (the lock,
    /// the counter, empty folders, temporaries), which is started over. A folder with a vault
    /// in it, or with what a vault holds once it was used (an audit log, an index, anything
    /// in its folders) but no key slots, is refused: a new data key would make every sealed
    /// application in it unreadable. Anything else is not the vault's to take.
    pub fn check_new(dir: &Path) -> Result<(), VaultError> {
        if dir.join(keyslots::FILE).exists() {
            return Err(VaultError::AlreadyInitialised);
        }
        let entries = match fs::read_dir(dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e.into()),
            Ok(entries) => entries,
        };
        let empty_dir = |path: &Path| fs::read_dir(path).map(|mut d| d.next().is_none()).unwrap_or(false);
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { return Err(VaultError::NotEmpty) };
            let left_by_init = match name {
                n if n == lock::FILE || n == seal::COUNTER_FILE || is_own_temporary(n) => true,
                ENVELOPES | RECEIPTS | DRAFTS | INDEX_DIR => empty_dir(&entry.path()),
                _ => false,
            };
            if !left_by_init {
                return Err(if is_own(name) { VaultError::KeySlotsMissing } else { VaultError::NotEmpty });
            }
        }
        Ok(())
    }

    /// Unlocks the vault with a user's PIN, recovering from whatever the last stop left.
    ///
    /// A failed attempt is recorded durably before the PIN is tried, so killing the app
    /// during the attempt still counts it. After `max_failures` the slots are destroyed.
    /// Another process holding the vault makes this wait briefly, then fail as busy.
    pub fn unlock(dir: &Path, user: &str, pin: &str, now_unix: i64, config: VaultConfig) -> Result<Vault, VaultError> {
        // No folder at all: no vault here (a mistyped --vault); any other error of the storage
        // is said as it is (a failing card is not told to make a new vault).
        match std::fs::metadata(dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(VaultError::NotInitialised),
            Err(e) => return Err(e.into()),
            Ok(m) if !m.is_dir() => return Err(VaultError::NotInitialised),
            Ok(_) => {}
        }
        let lock = WriterLock::acquire(dir, lock::WAIT)?;
        let (slots, data_key, seed) = Self::unwrap_slots(dir, user, pin, now_unix)?;
        let anchors = Anchors::open(&slots, &data_key)?;
        if let Some(changed) = anchors.changed_in(&slots) {
            return Err(VaultError::AnchorChanged(changed));
        }
        Self::open_unlocked(dir, lock, slots, user, data_key, seed, now_unix, config)
    }

    /// The unlocked user's PIN asked again before an action that cannot be taken back (the
    /// release of a shift's batch: SECURITY.md R12). Counted as an unlock attempt is: a wrong
    /// PIN brings the erasure of the slots nearer, and the last one erases them
    /// ([`VaultError::Destroyed`]: the unit must lock); a right one clears the count.
    pub fn confirm_pin(&mut self, pin: &str, now_unix: i64) -> Result<(), VaultError> {
        let (mut slots, data_key, _seed) = Self::unwrap_slots(&self.dir, &self.user, pin, now_unix)?;
        if data_key.as_ref() != self.data_key.as_ref() {
            return Err(VaultError::Corrupt("the key slot opens another data key".into()));
        }
        // The wrong PINs before this one are kept in the audit log, as at an unlock: recorded
        // first, then taken off the count (a failure between the two records one twice, never
        // loses one).
        let user = self.user.clone();
        let failed = std::mem::take(&mut slots.failures);
        for at in &failed {
            self.record(*at, "failed-pin", &user)?;
        }
        if !failed.is_empty() {
            slots.store(&self.dir)?;
        }
        self.record(now_unix, "pin-confirmed", &user)
    }

    /// Counts the attempt, then unwraps the user's slot: the slots, the data key and the
    /// user's signing seed.
    fn unwrap_slots(
        dir: &Path,
        user: &str,
        pin: &str,
        now: i64,
    ) -> Result<(KeySlots, crypto::Key, crypto::Key), VaultError> {
        let mut slots = KeySlots::load(dir)?;
        if slots.destroyed {
            return Err(VaultError::Destroyed);
        }
        // What cannot be a PIN (empty, letters, too short or long: a script with no input) is
        // refused before the attempt is counted: only a real guess brings the erasure nearer.
        crate::pin::check_pin(pin)?;
        let slot =
            slots.slots.iter().find(|s| s.user == user).cloned().ok_or_else(|| VaultError::UnknownUser(user.into()))?;
        slots.failures.push(now);
        slots.store(dir)?;
        let Some((data_key, seed)) = KeySlots::unwrap(&slot, pin.as_bytes(), key_store())? else {
            if slots.failures.len() as u32 >= slots.max_failures {
                slots.slots.clear();
                slots.device_key.clear();
                slots.destroyed = true;
                slots.store(dir)?;
                return Err(VaultError::Destroyed);
            }
            return Err(VaultError::WrongPin { attempts_left: slots.max_failures - slots.failures.len() as u32 });
        };
        // This attempt succeeded: it is taken off the count at once, so that a right PIN on a
        // vault refused for another reason (a changed anchor) costs nothing.
        // The earlier ones are failures for the audit log.
        slots.failures.pop();
        slots.store(dir)?;
        Ok((slots, data_key, seed))
    }

    #[allow(clippy::too_many_arguments)]
    fn open_unlocked(
        dir: &Path,
        lock: WriterLock,
        mut slots: KeySlots,
        user: &str,
        data_key: crypto::Key,
        seed: crypto::Key,
        now_unix: i64,
        config: VaultConfig,
    ) -> Result<Vault, VaultError> {
        // `unwrap_slots` stored the slots as they are now, but for earlier failures: those are
        // cleared (and written) only when there were any.
        let failed = std::mem::take(&mut slots.failures);
        if !failed.is_empty() {
            slots.store(dir)?;
        }
        let role = slots.slots.iter().find(|s| s.user == user).map(|s| s.role).ok_or(VaultError::Destroyed)?;
        let device_seed = hex::decode(&slots.device_key)
            .ok()
            .and_then(|b| crypto::open(&data_key, DEVICE_KEY_AAD, &b))
            .and_then(|v| <[u8; 32]>::try_from(v.as_slice()).ok().map(zeroize::Zeroizing::new))
            .ok_or_else(|| VaultError::Corrupt("the device key does not unwrap".into()))?;
        let device_key = signing_key_from_seed(&device_seed);
        let bureau = hex::decode(&slots.bureau_public_key)
            .ok()
            .and_then(|b| BureauPublicKey::from_bytes(&b).ok())
            .ok_or_else(|| VaultError::Corrupt("bureau key".into()))?;
        for sub in [ENVELOPES, RECEIPTS, DRAFTS] {
            fsutil::create_dir(&dir.join(sub))?;
        }
        // The vault's own folders are in its entries for good, even one an earlier run made
        // and stopped before it could say so (a power cut).
        fsutil::sync_dir(dir)?;

        let mut recovery = Recovery::default();
        let (audit, scan, moved) = audit::AuditLog::open(&dir.join(AUDIT), &data_key)?;
        recovery.audit_torn_tail = scan.torn_tail;
        recovery.audit_tail_kept = scan.tail_kept.clone();
        let damaged_audit = moved.is_some();
        recovery.audit_damaged = moved;
        let db = open_index(dir, &mut recovery)?;
        // The log's length as last made durable, read before anything here records more.
        let kept = audit::anchored(&db, &data_key);
        // After sled has made its files (it makes them 0644): the vault's own entries only.
        tighten(dir)?;
        let counter = seal::Counter::load(dir, &data_key, &DeviceId(slots.device_id.clone()))?;
        let mut vault = Vault {
            dir: dir.to_path_buf(),
            config,
            draft_index: db.open_tree("draft-files")?,
            index: db.open_tree("index")?,
            reviews: db.open_tree("reviews")?,
            decisions: db.open_tree(crate::decisions::TREE)?,
            db,
            data_key,
            device_key,
            device_id: DeviceId(slots.device_id.clone()),
            bureau,
            user: user.to_string(),
            role,
            user_key: signing_key_from_seed(&seed),
            audit,
            recovery,
            counter,
            pool: std::sync::Mutex::new(Vec::new()),
            key_store: key_store().name(),
            _lock: lock,
        };
        // A log found shorter than it was made is recorded first, before anything here records
        // more (and moves the kept length on), so that a stop in between cannot lose it.
        if !damaged_audit
            && let Some(kept) = kept
            && (scan.entries.len() as u64) < kept
        {
            let found = scan.entries.len() as u64;
            vault.recovery.audit_cut = Some((found, kept));
            vault.record(now_unix, audit::CUT, &format!("{found} of {kept} records"))?;
        }
        vault.reconcile(now_unix, &scan.entries)?;
        // Files were recorded as they were kept aside; an index, before the log was open.
        if let Some(aside) = vault.recovery.quarantined.clone() {
            let name = aside.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            vault.record(now_unix, "set-aside", &name)?;
        }
        if damaged_audit {
            vault.record(now_unix, "audit-restarted", "damaged log kept aside")?;
        }
        if let Some(tail) = vault.recovery.audit_tail_kept.clone() {
            let name = tail.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            vault.record(now_unix, "set-aside", &name)?;
        }
        for at in failed {
            vault.record(at, "failed-pin", user)?;
        }
        vault.record(now_unix, "unlock", user)?;
        Ok(vault)
    }

    /// Binds the hub bundle this unit was provisioned with (the digest of its CA, URL and
    /// receipt key) under the data key.
    pub fn bind_hub(&mut self, digest: &str, now: i64) -> Result<(), VaultError> {
        let mut slots = KeySlots::load(&self.dir)?;
        let mut anchors = Anchors::open(&slots, &self.data_key)?;
        anchors.hub = Some(digest.to_string());
        slots.anchors = anchors.seal(&self.data_key);
        slots.store(&self.dir)?;
        self.record(now, "hub-bound", &digest[..16.min(digest.len())])
    }

    /// The hub's revocation list learnt at a sync (R13), if any, with the SHA-256 of the CA it
    /// is for: kept in the sealed anchors (provisioning again keeps it; the caller uses it
    /// only for the same CA).
    pub fn hub_crl(&self) -> Result<Option<(String, String)>, VaultError> {
        Ok(Anchors::open(&KeySlots::load(&self.dir)?, &self.data_key)?.hub_crl)
    }

    /// Keeps `pem` as the hub's revocation list (the caller checked it), in one write with the
    /// anchors, after checking that nothing bound changed on disk since this unlock.
    pub fn keep_hub_crl(&mut self, ca: &str, pem: &str, now: i64) -> Result<(), VaultError> {
        let (mut slots, mut anchors) = self.slots_for_change()?;
        anchors.hub_crl = Some((ca.to_string(), pem.to_string()));
        slots.anchors = anchors.seal(&self.data_key);
        slots.store(&self.dir)?;
        let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(pem.as_bytes()));
        self.record(now, "hub-crl-kept", &digest[..16])
    }

    /// Loads the key slots for a change of users, after checking that nothing bound was
    /// changed on disk since this unlock; `store_users` then seals the anchors anew.
    pub(crate) fn slots_for_change(&self) -> Result<(KeySlots, Anchors), VaultError> {
        let slots = KeySlots::load(&self.dir)?;
        let anchors = Anchors::open(&slots, &self.data_key)?;
        if let Some(changed) = anchors.changed_in(&slots) {
            return Err(VaultError::AnchorChanged(changed));
        }
        Ok((slots, anchors))
    }

    /// Stores `slots` whose users changed, their anchors sealed anew: every other anchor is
    /// taken from the sealed copy, never from the file.
    pub(crate) fn store_users(&self, mut slots: KeySlots, anchors: Anchors) -> Result<(), VaultError> {
        let users = Anchors::of(&slots, None).users;
        slots.anchors = Anchors { users, ..anchors }.seal(&self.data_key);
        slots.store(&self.dir)
    }

    /// Checks a hub bundle against the one bound at provisioning. None bound is refused too:
    /// a bundle is bound only by `provision`, under the PIN, never on first use (a copy of the
    /// key slots from before provisioning must not let another hub be bound silently).
    pub fn check_hub(&self, digest: &str) -> Result<(), VaultError> {
        let slots = KeySlots::load(&self.dir)?;
        match Anchors::open(&slots, &self.data_key)?.hub.as_deref() {
            Some(bound) if bound == digest => Ok(()),
            Some(_) => Err(VaultError::HubBundleChanged),
            None => Err(VaultError::HubNotBound),
        }
    }
}

/// The vault's own top-level entries: files and folders the vault makes, and what recovery
/// sets aside. Anything else in the folder (a bundle the CLI keeps, something a person put
/// there) is not the vault's to change.
fn is_own(name: &str) -> bool {
    const NAMES: [&str; 10] = [
        keyslots::FILE,
        lock::FILE,
        seal::COUNTER_FILE,
        AUDIT,
        ENVELOPES,
        RECEIPTS,
        DRAFTS,
        INDEX_DIR,
        APPOINTMENTS,
        FEEDBACK,
    ];
    let set_aside = |own: &str| name.strip_prefix(own).is_some_and(|rest| rest.starts_with(".damaged-"));
    NAMES.contains(&name)
        || set_aside(INDEX_DIR)
        || set_aside(AUDIT)
        || is_own_temporary(name)
        || (name.starts_with(SECRET_PREFIX) && name.ends_with(SECRET_SUFFIX))
}

/// A temporary file of an atomic write of one of the vault's own top-level files:
/// `.NAME.RANDOM.tmp`.
pub(crate) fn is_own_temporary(name: &str) -> bool {
    let temporary = |own: &str| {
        name.strip_prefix('.').and_then(|n| n.strip_prefix(own)).is_some_and(|rest| rest.starts_with('.'))
            && name.ends_with(".tmp")
    };
    [keyslots::FILE, seal::COUNTER_FILE].into_iter().any(temporary)
        || name.strip_prefix('.').is_some_and(|n| {
            n.starts_with(SECRET_PREFIX) && n.contains(&format!("{SECRET_SUFFIX}.")) && n.ends_with(".tmp")
        })
}

/// Tightens what an earlier version or sled left readable: the folder to 0700 and the vault's
/// own entries below it (all of each own folder) to 0600 files and 0700 folders.
pub(crate) fn tighten(dir: &Path) -> std::io::Result<()> {
    fsutil::set_dir_mode(dir)?;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_str().is_some_and(is_own) {
            fsutil::tighten(&entry.path())?;
        }
    }
    Ok(())
}

/// How sled says its lock is held elsewhere (its error carries no kind of its own).
fn is_lock_error(e: &sled::Error) -> bool {
    matches!(e, sled::Error::Io(io) if io.kind() == std::io::ErrorKind::WouldBlock
        || io.to_string().contains("could not acquire lock"))
}

/// Opens sled. A lock held elsewhere (sled lets go of it from a background thread a moment
/// after the last handle of another opener drops) is waited for briefly and then reported as
/// busy; an I/O error is reported as such. Only an index that will not open for damage (or
/// panics), or cannot be read through, is moved aside (`index.damaged-N`) and started afresh;
/// `reconcile` refills it from the files.
pub(crate) fn open_index(dir: &Path, recovery: &mut Recovery) -> Result<sled::Db, VaultError> {
    let path = dir.join(INDEX_DIR);
    fsutil::create_dir(&path)?;
    let attempt = |p: &Path| -> Result<Result<sled::Db, sled::Error>, ()> {
        catch_unwind(AssertUnwindSafe(|| sled::Config::new().path(p).open())).map_err(|_| ())
    };
    let start = Instant::now();
    let damaged = loop {
        match attempt(&path) {
            Ok(Ok(db)) if index_is_readable(&db) => return Ok(db),
            Ok(Ok(_)) | Err(()) => break true,
            Ok(Err(e)) if is_lock_error(&e) => {
                if start.elapsed() >= lock::WAIT {
                    return Err(VaultError::Busy { pid: None });
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Ok(Err(sled::Error::Io(e))) => return Err(VaultError::Io(e)),
            Ok(Err(_)) => break true,
        }
    };
    debug_assert!(damaged);
    let mut n = 0;
    let quarantine = loop {
        let candidate = dir.join(format!("{INDEX_DIR}.damaged-{n}"));
        if !candidate.exists() {
            break candidate;
        }
        n += 1;
    };
    fsutil::rename(&path, &quarantine)?;
    fsutil::sync_dir(dir)?;
    recovery.quarantined = Some(quarantine);
    fsutil::create_dir(&path)?;
    match attempt(&path) {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(e)) => Err(e.into()),
        Err(()) => Err(VaultError::Index("a fresh index cannot be created".into())),
    }
}

/// Reads every entry of every tree; false on any read error (or a panic inside sled).
fn index_is_readable(db: &sled::Db) -> bool {
    catch_unwind(AssertUnwindSafe(|| {
        db.tree_names().iter().all(|name| db.open_tree(name).is_ok_and(|tree| tree.iter().all(|item| item.is_ok())))
    }))
    .unwrap_or(false)
}
