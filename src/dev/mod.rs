//! Tooling to drive the unit: the scenario runner (`--scenario`).

pub mod scenario;
