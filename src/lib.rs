//! doorstep: the tablet app of the portable exit-entry service unit.
//!
//! A thin bevy shell over the crates in `crates/`: it shows state and forwards input. The
//! rules live in doorstep-core; this crate decides nothing a test would want to check
//! beyond which screen is showing.
//!
//! Architecture invariant: only this crate depends on bevy, and nothing depends on it.

#![forbid(unsafe_code)]

pub mod app;
pub mod auth;
pub mod batches;
pub mod cli;
pub mod config;
pub mod demo;
pub mod dev;
pub mod files;
pub mod hub_refusal;
pub mod outreach;
pub mod peripherals;
pub mod policy_files;
pub mod power;
pub mod process;
pub mod screens;
pub mod session;
pub mod settings;
pub mod shift;
pub mod shift_report;
pub mod tasks;
pub mod ui;
pub mod unit_sync;
pub mod visit_flow;
