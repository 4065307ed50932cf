//! doorstep-envelope: the sealed-application format.
//!
//! It will hold the versioned application record (form, photo, fingerprints, signature,
//! consent, capture metadata), HPKE sealing to the bureau's public key (RFC 9180: X25519,
//! HKDF-SHA256, ChaCha20-Poly1305), the device/officer/supervisor Ed25519 signatures, and
//! the shift's batch manifest. Filled by the vault-and-envelope issue; it starts empty.
//!
//! Architecture invariant: pure. No IO, no clock, no randomness source of its own (the
//! caller passes an RNG and the time); it knows nothing of sled, files or the network.

#![forbid(unsafe_code)]
