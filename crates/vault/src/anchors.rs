//! Trust anchors, authenticated (DESIGN.md rule 10, SECURITY.md R26).
//!
//! `keyslots.json` must be readable before the PIN is known (to find a user's slot and count
//! a wrong PIN), so it is plain JSON. What in it must not change without the PIN — the bureau
//! key applications are sealed to, the device id and key, the failure policy, and the hub
//! bundle bound at provisioning — is also kept sealed under the data key. At unlock the sealed
//! copy is opened and compared field by field: an anchor edited without the PIN is refused,
//! by name.
//!
//! The users (name, role, public key) are anchors too: someone without a PIN who edits a slot
//! to say "supervisor" is refused, by name.
//!
//! What the anchors do not stop: an enrolled user. Every user's PIN unwraps the one data key
//! the anchors are sealed under, so an officer who knows their own PIN and writes a program
//! can re-seal them with another role or another bureau key. The authority on roles is the
//! hub (it takes a batch only under a supervisor key it enrolled, SECURITY R24); a bureau key
//! swapped by an insider is caught only when the back office cannot open what was sealed
//! (a recipient key id in the envelope's signed header, checked by the hub, would catch it at
//! upload: not built).
//!
//! What this cannot do without hardware: the wrong-PIN counter and the `destroyed` flag are
//! written before the PIN is tried, so they cannot be authenticated; and nothing on the tablet
//! alone tells an older copy of the whole file from the newest. Someone who can write the
//! files can therefore put back an older `keyslots.json`: the counter reset, a destruction
//! undone, a removed user (with their old PIN), an earlier hub binding or a revocation list
//! learnt since (a hub certificate revoked since trusted again) back, each with the anchors
//! that were true then. They can also copy the vault away and guess PINs offline at
//! one Argon2id each. A TPM's monotonic counter and dictionary-attack lockout are what stop
//! that: [`KeyStore`] is the seam for it.

use serde::{Deserialize, Serialize};

use crate::VaultError;
use crate::crypto::{self, Key};
use crate::keyslots::{KeySlots, Role};

/// The anchors a vault binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    BureauKey,
    DeviceId,
    DeviceKey,
    FailurePolicy,
    /// A user's name, role or public key, or a user added or removed.
    Users,
    /// The sealed copy itself: removed, or not this vault's, from a vault that had one.
    SealedCopy,
}

impl std::fmt::Display for Anchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Anchor::BureauKey => "bureau key",
            Anchor::DeviceId => "device id",
            Anchor::DeviceKey => "device key",
            Anchor::FailurePolicy => "wrong-PIN limit",
            Anchor::Users => "list of users and their roles",
            Anchor::SealedCopy => "sealed copy of the anchors",
        })
    }
}

/// The sealed copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchors {
    pub device_id: String,
    pub bureau_public_key: String,
    pub device_key: String,
    pub device_public_key: String,
    pub max_failures: u32,
    /// The hub bundle's digest (its CA, URL and receipt key), once provisioned.
    #[serde(default)]
    pub hub: Option<String>,
    /// The hub CA's revocation list learnt at a sync: (the CA's SHA-256, the list in PEM),
    /// kept here so that it is bound as the bundle is (sealed under the data key; a key-slot
    /// file put back from before takes it back with every other anchor, as above).
    #[serde(default)]
    pub hub_crl: Option<(String, String)>,
    /// Every user: (name, role, public key), in the slots' order.
    pub users: Vec<(String, Role, String)>,
}

const AAD: &[u8] = b"doorstep-vault-anchors-v1";

/// The key-slot file version. Version 1 (before anchors; never released) is refused: binding
/// anchors "as they are now" would take whatever an attacker wrote as the truth.
pub const VERSION: u32 = 2;

fn changed() -> VaultError {
    VaultError::AnchorChanged(Anchor::SealedCopy)
}

impl Anchors {
    /// The anchors as `slots` holds them now.
    pub fn of(slots: &KeySlots, hub: Option<String>) -> Anchors {
        Anchors {
            device_id: slots.device_id.clone(),
            bureau_public_key: slots.bureau_public_key.clone(),
            device_key: slots.device_key.clone(),
            device_public_key: slots.device_public_key.clone(),
            max_failures: slots.max_failures,
            hub,
            hub_crl: None,
            users: slots.slots.iter().map(|s| (s.user.clone(), s.role, s.public_key.clone())).collect(),
        }
    }

    pub fn seal(&self, data_key: &Key) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(crypto::seal(data_key, AAD, &json))
    }

    /// Opens the sealed copy in `slots`. A file without it (removed, or of a version before
    /// anchors), or with one that does not open under this data key, was tampered with and is
    /// refused as such: there is no way to re-bind anchors "as they are now".
    pub fn open(slots: &KeySlots, data_key: &Key) -> Result<Anchors, VaultError> {
        if slots.anchors.is_empty() || slots.version != VERSION {
            return Err(changed());
        }
        let bytes = hex::decode(&slots.anchors).map_err(|_| changed())?;
        let plain = crypto::open(data_key, AAD, &bytes).ok_or_else(changed)?;
        serde_json::from_slice(&plain).map_err(|_| changed())
    }

    /// The first anchor of `slots` that differs from this sealed copy.
    pub fn changed_in(&self, slots: &KeySlots) -> Option<Anchor> {
        let now = Anchors::of(slots, self.hub.clone());
        if now.bureau_public_key != self.bureau_public_key {
            Some(Anchor::BureauKey)
        } else if now.device_id != self.device_id {
            Some(Anchor::DeviceId)
        } else if now.device_key != self.device_key || now.device_public_key != self.device_public_key {
            Some(Anchor::DeviceKey)
        } else if now.max_failures != self.max_failures {
            Some(Anchor::FailurePolicy)
        } else if now.users != self.users {
            Some(Anchor::Users)
        } else {
            None
        }
    }
}

/// Where the key-encryption key of a slot is hardened: a TPM 2.0 (or a platform keystore)
/// would mix in a secret that never leaves it, under its own dictionary-attack lockout, so
/// that a copied vault cannot be attacked offline. Without one the software store is used,
/// and `vault status` says so.
pub trait KeyStore: Send + Sync {
    /// A short name for status reports ("software", "tpm2").
    fn name(&self) -> &'static str;
    /// The key-encryption key for `slot` from the one derived from the PIN.
    fn harden(&self, slot: &str, kek: Key) -> Result<Key, VaultError>;
}

/// No hardware: the PIN-derived key is used as it is.
#[derive(Debug, Default, Clone, Copy)]
pub struct SoftwareKeyStore;

impl KeyStore for SoftwareKeyStore {
    fn name(&self) -> &'static str {
        "software"
    }

    fn harden(&self, _slot: &str, kek: Key) -> Result<Key, VaultError> {
        Ok(kek)
    }
}
