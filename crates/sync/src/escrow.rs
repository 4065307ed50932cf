//! Escrow: every sealed application in the vault goes to the hub, and comes back as a signed
//! receipt that the vault stores before it erases anything. The vault decides; it refuses to
//! erase an envelope without a stored receipt.

use doorstep_envelope::{ApplicationId, VerifyingKey};
use doorstep_vault::Vault;
use doorstep_vault::outbox::OutboxState;

use crate::client::{HubClient, SyncError};
use crate::wire;

#[derive(Debug, Default)]
pub struct Report {
    /// Uploaded, receipt stored, erased.
    pub uploaded: Vec<String>,
    /// Erased now after a receipt stored before the last stop.
    pub erased_earlier: usize,
    /// Not uploaded this time, and why; each is still sealed in the vault.
    pub failed: Vec<(String, SyncError)>,
    /// The connection failed, so the rest was left for the next time.
    pub stopped: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum EscrowError {
    #[error("vault: {0}")]
    Vault(#[from] doorstep_vault::VaultError),
    #[error("the vault's outbox names a bad id or digest: {0}")]
    Outbox(String),
}

/// What the hub says of each application this unit has handed over: approved, returned by
/// the supervisor, accepted or rejected by the back office (a returned or rejected one means a
/// revisit). Connection failures end the round early.
pub fn statuses(vault: &Vault, client: &mut HubClient) -> Result<Vec<(String, String, wire::Status)>, EscrowError> {
    let mut out = Vec::new();
    for e in vault.outbox()? {
        if e.state != OutboxState::Erased {
            continue;
        }
        match client.status(&e.application_id) {
            Ok(s) => out.push((e.application_id, e.visit_id, s)),
            Err(SyncError::Connection(_)) => break,
            Err(_) => {}
        }
    }
    Ok(out)
}

/// Uploads what is sealed. `progress` hears (application id, bytes the hub holds, total).
pub fn run(
    vault: &mut Vault,
    client: &mut HubClient,
    hub_key: &VerifyingKey,
    chunk: u64,
    now: &dyn Fn() -> i64,
    progress: &mut dyn FnMut(&str, u64, u64),
) -> Result<Report, EscrowError> {
    let mut report = Report::default();
    for e in vault.outbox()? {
        match e.state {
            OutboxState::Acknowledged => {
                vault.erase(&e.application_id, now())?;
                report.erased_earlier += 1;
                continue;
            }
            OutboxState::Sealed => {}
            _ => continue,
        }
        let id =
            ApplicationId::parse(&e.application_id).ok_or_else(|| EscrowError::Outbox(e.application_id.clone()))?;
        let digest: [u8; 32] = hex::decode(&e.digest)
            .ok()
            .and_then(|d| d.try_into().ok())
            .ok_or_else(|| EscrowError::Outbox(e.digest.clone()))?;
        let bytes = vault.envelope_bytes(&e.application_id)?;
        vault.begin_upload(&e.application_id, now())?;
        let name = e.application_id.clone();
        match client.upload(id, &digest, &bytes, chunk, Some(hub_key), &mut |o, l| progress(&name, o, l)) {
            Ok(receipt) => {
                vault.acknowledge(&e.application_id, &receipt.to_bytes(), Some(hub_key), now())?;
                vault.erase(&e.application_id, now())?;
                report.uploaded.push(e.application_id);
            }
            Err(err) => {
                vault.upload_failed(&e.application_id, now())?;
                let stop = matches!(err, SyncError::Connection(_));
                report.failed.push((e.application_id, err));
                if stop {
                    report.stopped = true;
                    break;
                }
            }
        }
    }
    Ok(report)
}
