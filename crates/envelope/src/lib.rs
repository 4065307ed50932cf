//! doorstep-envelope: the sealed-application format.
//!
//! An [`ApplicationRecord`] (the form, the photo, the fingerprints, the signature, consent
//! and capture metadata) is sealed with HPKE (RFC 9180 base mode: DHKEM(X25519, HKDF-SHA256),
//! HKDF-SHA256, ChaCha20-Poly1305) to the bureau's public key. The application id, schema
//! version and device id are bound into the HPKE `info`, and the whole envelope header into the
//! AEAD's associated data. The device key and the officer's key (Ed25519) sign
//! (application id, content digest, device counter). A shift's [`BatchManifest`] lists the
//! applications with the supervisor's decision on each and the head of the device's audit
//! chain, and is signed by the supervisor. [`open`] is for the back office only. Feedback (praise,
//! complaints, "could not get it done") is sealed the same way in a sibling format,
//! [`SealedFeedback`], opened by [`open_feedback`].
//!
//! Architecture invariant: pure. No IO, no clock and no randomness of its own: the caller
//! passes the time and a cryptographic RNG. It knows nothing of sled, files or the network,
//! and the tablet, which never holds the bureau's private key, cannot open what it sealed.

#![forbid(unsafe_code)]

mod error;
mod feedback;
mod ids;
mod keys;
mod manifest;
mod receipt;
mod record;
mod replay;
mod seal;

pub use error::{EnvelopeError, Signer};
pub use feedback::{
    FEEDBACK_VERSION, FeedbackContext, FeedbackHeader, MAX_FEEDBACK, SealedFeedback, open_feedback, seal_feedback,
};
pub use ids::{ApplicationId, DEMO_DEVICE_PREFIX, DeviceId, MAX_USER_ID, is_user_id};
pub use keys::{BureauKeyPair, BureauPublicKey, BureauSecretKey, SigningKey, VerifyingKey, signing_key_from_seed};
pub use manifest::{BatchManifest, Decision, ManifestEntry, RETURN_NOTE_SEPARATOR, SignedManifest};
pub use receipt::{BatchReceipt, Receipt};
pub use record::{ApplicationRecord, CaptureMetadata, FingerprintCapture, GnssFix, OtherSignature, QualityResult};
pub use replay::{Admission, SeenCounters};
pub use seal::{Digest, EnvelopeHeader, MAX_CIPHERTEXT, MAX_ENVELOPE, SealContext, SealedEnvelope, open, seal};

/// The version of the record schema and envelope layout written by this crate. Schema 2 adds
/// the other signatures (a guardian's) to the record.
pub const SCHEMA_VERSION: u16 = 2;

/// The oldest schema this crate still opens.
pub const OLDEST_SCHEMA_VERSION: u16 = 1;

/// The RNG the caller passes (hpke's `rand_core`).
pub use hpke::rand_core;
