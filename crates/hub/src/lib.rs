//! doorstep-hub: the bureau's receiving hub.
//!
//! Serves the HTTPS API over rustls (TLS 1.3, mutual TLS with the hub's private CA), checks
//! certificates, identities, signatures, counters and sizes, stores envelopes, and signs
//! receipts. [`export`] is the back office's way out. [`pki`] keeps the hub's folder, CA,
//! enrolled devices and officers, and settings; [`store`] the storage (framed segment files
//! and a journal under a rebuildable sled index, behind two traits); [`service`] the API's
//! logic apart from HTTP, with its pure router; [`server`] the TLS and HTTP, with the
//! deadlines and caps that keep it up under abuse; [`admin`] the local socket through which
//! `status`, `decide` and `export` reach a hub that is serving; [`report`] the numbers for
//! a range of days (tables, CSV, JSON and a PNG chart); [`appointments`] the back office's
//! appointments, each for one enrolled device; [`feedback`] the units' sealed feedback, answered
//! by the back office. Errors are each module's own
//! enums; files and folders are their owner's only.
//!
//! Architecture invariant: the hub never holds the bureau's private key while serving; it
//! cannot open what it stores.

#![forbid(unsafe_code)]

pub mod admin;
pub mod appointments;
pub mod export;
pub mod feedback;
mod files;
pub mod metrics;
pub mod pki;
pub mod report;
pub mod server;
pub mod service;
pub mod store;
