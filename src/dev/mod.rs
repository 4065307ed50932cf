//! Tooling to drive and measure the unit: the scenario runner (`--scenario`) and the
//! benchmark's figures (`--bench-log`).

pub mod bench;
pub mod scenario;
