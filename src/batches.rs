//! The batches a supervisor released on this unit, as the hub's signed receipts name them.

use doorstep_vault::{Vault, VaultError};

/// A released batch, as the hub's signed receipt names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchView {
    pub batch_id: String,
    pub applications: u32,
    pub hub_id: String,
    pub received_at_unix: i64,
    /// The first 16 hex digits of the signed manifest's SHA-256, to read out to the hub.
    pub manifest: String,
}

impl BatchView {
    pub(crate) fn of(r: &doorstep_envelope::BatchReceipt) -> BatchView {
        BatchView {
            batch_id: r.batch_id.clone(),
            applications: r.applications,
            hub_id: r.hub_id.clone(),
            received_at_unix: r.received_at_unix,
            manifest: hex::encode(&r.manifest_digest[..8]),
        }
    }
}

/// The batches released on this unit, newest first (a receipt that no longer parses is left
/// out and logged by the caller's count).
pub fn batches(vault: &Vault) -> Result<Vec<BatchView>, VaultError> {
    let mut out: Vec<BatchView> = vault
        .batch_receipts()?
        .iter()
        .filter_map(|b| doorstep_envelope::BatchReceipt::from_bytes(b).ok())
        .map(|r| BatchView::of(&r))
        .collect();
    // Newest first; two in one second by their ids (which end in the unit's batch number).
    out.sort_by(|a, b| b.received_at_unix.cmp(&a.received_at_unix).then_with(|| b.batch_id.cmp(&a.batch_id)));
    Ok(out)
}
