//! doorstep-sync: the hub API's wire types and the tablet's upload client.
//!
//! The wire types are pure and shared with the hub; the client (rustls, mutual TLS, tus-style
//! resumable uploads, receipts) will sit behind a cargo feature so the hub takes only the
//! types. Filled by the sync issue; it starts empty.
//!
//! Architecture invariant: the client never erases anything itself; it hands receipts to the
//! vault, which decides.

#![forbid(unsafe_code)]
