//! doorstep-vault: the encrypted store on the tablet.
//!
//! sled holds ciphertext only: drafts of each visit step under a data key wrapped per user
//! (Argon2id from the PIN), sealed envelopes as fsynced files indexed by sled, the outbox
//! states, and the hash-chained audit log. Filled by the vault issue; it starts empty.
//!
//! Architecture invariant: it stores and recovers bytes; the rules of what a valid
//! application is live in doorstep-core, and the sealed format in doorstep-envelope.

#![forbid(unsafe_code)]
