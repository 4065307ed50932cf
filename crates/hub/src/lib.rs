//! doorstep-hub: the bureau's receiving hub.
//!
//! Serves the HTTPS API over rustls (TLS 1.3, mutual TLS with the hub's private CA), checks
//! certificates, signatures, counters and sizes, stores envelopes, and signs receipts.
//! [`export`] is the back office's way out. [`pki`] keeps the hub's folder, CA and enrolled
//! devices; [`store`] the storage (sled and segment files behind a small trait); [`service`]
//! the API's logic apart from HTTP; [`server`] the TLS and HTTP; [`admin`] the local socket
//! through which `status`, `decide` and `export` reach a hub that is serving.
//!
//! Architecture invariant: the hub never holds the bureau's private key while serving; it
//! cannot open what it stores.

#![forbid(unsafe_code)]

pub mod admin;
pub mod export;
mod files;
pub mod pki;
pub mod server;
pub mod service;
pub mod store;
