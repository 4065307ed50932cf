//! The supervisor's signed batch manifest for a shift.

use doorstep_envelope::{Decision, SignedManifest};
use doorstep_sync::wire::{self, ManifestAccepted, ManifestProblems, Status};

use super::{Reply, Service};
use crate::store::{ManifestTaken, Store, StoreError};

impl<S: Store> Service<S> {
    /// A supervisor's signed manifest for a shift: taken only when every envelope it lists
    /// is here, from this device, with the digest it names; otherwise the reply lists what is
    /// missing. Batches are the device's own: another device's batch id is another batch.
    pub(super) fn manifest(&self, device: &str, body: &[u8]) -> Result<Reply, StoreError> {
        let signed = match SignedManifest::from_bytes(body) {
            Ok(m) => m,
            Err(e) => return Ok(Reply::error(422, "manifest", format!("not a signed manifest: {e}"))),
        };
        // Read whenever hub.toml changes, so `add-supervisor` counts without a restart.
        let trusted = match self.trusted.get() {
            Ok(t) => t,
            Err(e) => {
                return Ok(Reply::error(500, "hub-config", format!("the hub cannot read its supervisors: {e}")));
            }
        };
        let manifest = match signed.verify(&trusted.supervisors) {
            Ok(m) => m.clone(),
            Err(e) => return Ok(Reply::error(422, "manifest-signature", e.to_string())),
        };
        if manifest.device_id != device {
            return Ok(Reply::error(
                422,
                "manifest-device",
                format!("the manifest is for another device than {device}, whose certificate sends it"),
            ));
        }
        if let Some(previous) = self.store.manifest(device, &manifest.batch_id)? {
            return Ok(if previous == body {
                Reply::json(200, &self.accepted(&manifest, body))
            } else {
                other_contents(&manifest.batch_id)
            });
        }
        let (mut missing, mut mismatched) = (Vec::new(), Vec::new());
        for e in &manifest.entries {
            let id = e.application_id.to_string();
            match self.store.received(&id)? {
                Some(r) if r.device == device && r.digest == hex::encode(e.digest) => {}
                Some(r) if r.device == device => mismatched.push(id),
                // Another device's application is not this device's to release.
                _ => missing.push(id),
            }
        }
        if !missing.is_empty() || !mismatched.is_empty() {
            let problems = ManifestProblems {
                error: "manifest-incomplete".into(),
                message: format!(
                    "{} not at the hub, {} another digest: upload them, then send the manifest again",
                    doorstep_core::text::counted(
                        missing.len() as u64,
                        "listed application is",
                        "listed applications are"
                    ),
                    doorstep_core::text::counted(mismatched.len() as u64, "has", "have")
                ),
                missing,
                mismatched,
            };
            return Ok(Reply::json(422, &problems).with(wire::ERROR, "manifest-incomplete"));
        }
        let decisions: Vec<(String, Status)> = manifest
            .entries
            .iter()
            .map(|e| {
                let status = match &e.decision {
                    Decision::Approved => Status::Approved { batch: manifest.batch_id.clone() },
                    Decision::Returned { reason } => {
                        Status::Returned { batch: manifest.batch_id.clone(), reason: reason.clone() }
                    }
                };
                (e.application_id.to_string(), status)
            })
            .collect();
        // An application decided in an earlier batch keeps that decision, and any verdict on it
        // (the store never changes it): a manifest that decides it otherwise is refused, naming
        // it, rather than taken with a receipt for decisions the hub does not hold. The same
        // decision again (a unit that lost the mark of its release) changes nothing. The store
        // compares as it writes: two manifests racing are never both taken.
        Ok(match self.store.put_manifest(device, &manifest.batch_id, body, &decisions)? {
            ManifestTaken::Taken => Reply::json(200, &self.accepted(&manifest, body)),
            // Another manifest under this batch id, stored since the look above.
            ManifestTaken::OtherContents => other_contents(&manifest.batch_id),
            ManifestTaken::DecidedBefore(decided) => {
                let refusal = wire::DecidedBefore {
                    error: wire::ALREADY_DECIDED.into(),
                    message: format!(
                        "{} decided otherwise in an earlier batch, and that decision stands: {}",
                        doorstep_core::text::counted(decided.len() as u64, "application was", "applications were"),
                        decided.join(", ")
                    ),
                    decided,
                };
                Reply::json(422, &refusal).with(wire::ERROR, wire::ALREADY_DECIDED)
            }
        })
    }

    /// The answer to a manifest taken, with the hub's signed receipt for its bytes.
    fn accepted(&self, m: &doorstep_envelope::BatchManifest, body: &[u8]) -> ManifestAccepted {
        let approved = m.entries.iter().filter(|e| e.decision == Decision::Approved).count();
        let receipt = doorstep_envelope::BatchReceipt::sign(
            body,
            &m.batch_id,
            m.entries.len() as u32,
            &self.hub_id,
            (self.now)(),
            &self.receipt_key,
        );
        ManifestAccepted {
            batch_id: m.batch_id.clone(),
            approved,
            returned: m.entries.len() - approved,
            receipt: hex::encode(receipt.to_bytes()),
        }
    }
}

/// The refusal of a manifest whose batch id this device sent before with other contents.
fn other_contents(batch: &str) -> Reply {
    Reply::error(422, "conflict", format!("batch {batch} was already sent with other contents"))
}
