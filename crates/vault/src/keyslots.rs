//! Key slots: one data key, wrapped once per enrolled user under a key derived from that
//! user's PIN, like disk-encryption key slots. The file is small and is rewritten atomically.

use std::path::Path;

use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::VaultError;
use crate::anchors::KeyStore;
use crate::crypto::{self, KdfParams, Key};
use crate::fsutil::write_atomic;

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Officer,
    Supervisor,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Slot {
    pub user: String,
    pub role: Role,
    pub kdf: KdfParams,
    pub salt: String,
    /// The data key, sealed under the user's key-encryption key.
    pub wrapped_data_key: String,
    /// The user's Ed25519 signing seed, sealed under the same key.
    pub wrapped_signing_seed: String,
    /// The user's Ed25519 public key.
    pub public_key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeySlots {
    pub version: u32,
    pub device_id: String,
    /// The bureau's HPKE public key, hex.
    pub bureau_public_key: String,
    /// The device's Ed25519 signing seed, sealed under the data key.
    pub device_key: String,
    pub device_public_key: String,
    /// Failed PIN attempts since the last unlock (times, for the audit log).
    pub failures: Vec<i64>,
    pub max_failures: u32,
    /// Set when the slots were destroyed after too many failures.
    pub destroyed: bool,
    pub slots: Vec<Slot>,
    /// The trust anchors above, sealed under the data key (see `anchors`). Empty in a vault
    /// made by an earlier version.
    #[serde(default)]
    pub anchors: String,
}

pub const FILE: &str = "keyslots.json";

fn slot_aad(user: &str, what: &str) -> Vec<u8> {
    format!("doorstep-slot-v1\0{user}\0{what}").into_bytes()
}

impl KeySlots {
    pub fn load(dir: &Path) -> Result<KeySlots, VaultError> {
        let text = match std::fs::read(dir.join(FILE)) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(VaultError::NotInitialised),
            Err(e) => return Err(e.into()),
        };
        serde_json::from_slice(&text).map_err(|e| VaultError::Corrupt(format!("{FILE}: {e}")))
    }

    pub fn store(&self, dir: &Path) -> Result<(), VaultError> {
        let text = serde_json::to_vec_pretty(self).map_err(|e| VaultError::Corrupt(e.to_string()))?;
        write_atomic(&dir.join(FILE), &text)?;
        Ok(())
    }

    /// Makes a slot for `user` holding `data_key` and a new signing seed.
    pub fn make_slot(
        user: &str,
        role: Role,
        pin: &[u8],
        kdf: KdfParams,
        data_key: &Key,
        store: &dyn KeyStore,
    ) -> Result<(Slot, Zeroizing<[u8; 32]>), VaultError> {
        kdf.check_floor()?;
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let kek = kdf.derive(pin, &salt).map_err(|e| VaultError::Kdf(e.to_string()))?;
        let kek = store.harden(user, kek)?;
        let seed = crypto::random_key();
        let public = doorstep_envelope::signing_key_from_seed(&seed).verifying_key();
        let slot = Slot {
            user: user.to_string(),
            role,
            kdf,
            salt: hex::encode(salt),
            wrapped_data_key: hex::encode(crypto::seal(&kek, &slot_aad(user, "data-key"), data_key.as_ref())),
            wrapped_signing_seed: hex::encode(crypto::seal(&kek, &slot_aad(user, "signing-seed"), seed.as_ref())),
            public_key: hex::encode(public.to_bytes()),
        };
        Ok((slot, seed))
    }

    /// Unwraps the data key and signing seed of `slot` with `pin`; `None` if the PIN is wrong.
    pub fn unwrap(slot: &Slot, pin: &[u8], store: &dyn KeyStore) -> Result<Option<(Key, Key)>, VaultError> {
        slot.kdf.check_floor()?;
        let salt = hex::decode(&slot.salt).map_err(|_| VaultError::Corrupt("slot salt".into()))?;
        let kek = slot.kdf.derive(pin, &salt).map_err(|e| VaultError::Kdf(e.to_string()))?;
        let kek = store.harden(&slot.user, kek)?;
        let unwrap_one = |hexed: &str, what: &str| -> Result<Option<Key>, VaultError> {
            let bytes = hex::decode(hexed).map_err(|_| VaultError::Corrupt("slot".into()))?;
            Ok(crypto::open(&kek, &slot_aad(&slot.user, what), &bytes).and_then(|v| {
                let arr: [u8; 32] = v.as_slice().try_into().ok()?;
                Some(Zeroizing::new(arr))
            }))
        };
        let Some(data_key) = unwrap_one(&slot.wrapped_data_key, "data-key")? else {
            return Ok(None);
        };
        let seed = unwrap_one(&slot.wrapped_signing_seed, "signing-seed")?
            .ok_or_else(|| VaultError::Corrupt("the signing seed does not unwrap".into()))?;
        Ok(Some((data_key, seed)))
    }
}
