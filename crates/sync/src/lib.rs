//! doorstep-sync: the hub API's wire protocol and the tablet's upload client.
//!
//! [`wire`] is the protocol both sides speak (paths, headers, status codes, the chunk
//! checksum, limits): tus-style resumable uploads of sealed envelopes, idempotent by
//! application id plus digest. [`tls`] builds the rustls configurations: TLS 1.3 only, ring,
//! trusting only the hub's private CA, with a client certificate per tablet. `client` is a
//! small blocking HTTP/1.1 client over a rustls stream that uploads an envelope, resuming from
//! the offset the hub reports, and returns the hub's signed receipt. [`bundle`] is what a tablet
//! is provisioned with.
//!
//! `escrow` runs the tablet's side over the vault; `appointments` fetches the unit's
//! appointments into the vault and sends its served notices; `feedback` sends the unit's
//! sealed feedback and brings back the back office's answers.
//!
//! The tablet's side is behind cargo features: `client` (the upload client) and `escrow`
//! (over the vault). The hub builds without them: it takes only [`wire`], [`tls`] and
//! [`bundle`], and never links the tablet's vault.
//!
//! Architecture invariant: sync never erases anything itself; it hands each receipt to the
//! vault, which stores it durably and only then allows the erasure.

#![forbid(unsafe_code)]

#[cfg(feature = "escrow")]
pub mod appointments;
pub mod bundle;
#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "escrow")]
pub mod escrow;
#[cfg(feature = "escrow")]
pub mod feedback;
pub mod tls;
pub mod wire;
