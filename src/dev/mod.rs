//! Tooling to drive and measure the unit: the scenario runner (`--scenario`) and the
//! benchmark's figures (`--bench-log`).

pub mod bench;
mod layout_report;
pub mod scenario;
