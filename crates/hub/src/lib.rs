//! doorstep-hub: the bureau's receiving hub.
//!
//! Serves the HTTPS API over rustls (TLS 1.3, mutual TLS with the device CA), checks
//! certificates, signatures, counters and manifests, stores envelopes, and lets the back
//! office export approved applications with the bureau's private key. The binary
//! `doorstep-hub` arrives with the sync issue; the crate starts empty.
//!
//! Architecture invariant: the hub never holds the bureau's private key while serving; it
//! cannot open what it stores.

#![forbid(unsafe_code)]
