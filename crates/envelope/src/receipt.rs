//! The hub's signed receipt for an envelope: the tablet may erase an envelope only once it
//! holds one.

use ed25519_dalek::Signer as _;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::error::{EnvelopeError, Signer};
use crate::ids::ApplicationId;
use crate::keys::{SigningKey, VerifyingKey};
use crate::seal::Digest;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub application_id: ApplicationId,
    pub digest: Digest,
    pub hub_id: String,
    pub received_at_unix: i64,
    pub hub_key: [u8; 32],
    pub signature: Vec<u8>,
}

fn message(id: &ApplicationId, digest: &Digest, hub_id: &str, at: i64) -> Vec<u8> {
    let mut m = b"doorstep-receipt-v1\0".to_vec();
    m.extend_from_slice(&id.0);
    m.extend_from_slice(digest);
    m.extend_from_slice(&at.to_be_bytes());
    m.extend_from_slice(hub_id.as_bytes());
    m
}

impl Receipt {
    pub fn sign(application_id: ApplicationId, digest: Digest, hub_id: &str, at: i64, key: &SigningKey) -> Receipt {
        let signature = key.sign(&message(&application_id, &digest, hub_id, at)).to_bytes().to_vec();
        Receipt {
            application_id,
            digest,
            hub_id: hub_id.to_string(),
            received_at_unix: at,
            hub_key: key.verifying_key().to_bytes(),
            signature,
        }
    }

    /// Checks the signature against the key in the receipt and that it is for this envelope.
    /// With `hub`, the key must also be the hub's.
    pub fn verify(&self, id: ApplicationId, digest: &Digest, hub: Option<&VerifyingKey>) -> Result<(), EnvelopeError> {
        if self.application_id != id {
            return Err(EnvelopeError::WrongApplicationId {
                expected: id.to_string(),
                found: self.application_id.to_string(),
            });
        }
        if &self.digest != digest {
            return Err(EnvelopeError::HeaderMismatch("the receipt names another digest"));
        }
        verify_hub(
            &self.hub_key,
            &self.signature,
            &message(&self.application_id, &self.digest, &self.hub_id, self.received_at_unix),
            hub,
        )
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        postcard::to_allocvec(self).unwrap_or_default()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Receipt, EnvelopeError> {
        postcard::from_bytes(bytes).map_err(|_| EnvelopeError::Malformed("receipt"))
    }
}
/// Checks a hub's signature over `message`, made with `hub_key`; with `trusted`, the key must
/// also be that one.
fn verify_hub(
    hub_key: &[u8; 32],
    signature: &[u8],
    message: &[u8],
    trusted: Option<&VerifyingKey>,
) -> Result<(), EnvelopeError> {
    let key = VerifyingKey::from_bytes(hub_key).map_err(|_| EnvelopeError::BadSignature(Signer::Hub))?;
    let sig: [u8; 64] = signature.try_into().map_err(|_| EnvelopeError::BadSignature(Signer::Hub))?;
    key.verify_strict(message, &ed25519_dalek::Signature::from_bytes(&sig))
        .map_err(|_| EnvelopeError::BadSignature(Signer::Hub))?;
    if let Some(hub) = trusted
        && hub.to_bytes() != *hub_key
    {
        return Err(EnvelopeError::UntrustedKey(Signer::Hub));
    }
    Ok(())
}

/// The hub's signed receipt for a supervisor's batch manifest: it holds every envelope the
/// manifest lists, and has taken the decisions. The supervisor's proof that nothing from the
/// shift is missing at the hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchReceipt {
    pub batch_id: String,
    /// SHA-256 of the signed manifest's bytes, as sent.
    pub manifest_digest: Digest,
    pub applications: u32,
    pub hub_id: String,
    pub received_at_unix: i64,
    pub hub_key: [u8; 32],
    pub signature: Vec<u8>,
}

fn batch_message(batch: &str, digest: &Digest, applications: u32, hub_id: &str, at: i64) -> Vec<u8> {
    let mut m = b"doorstep-batch-receipt-v1\0".to_vec();
    m.extend_from_slice(digest);
    m.extend_from_slice(&applications.to_be_bytes());
    m.extend_from_slice(&at.to_be_bytes());
    m.extend_from_slice(&(batch.len() as u32).to_be_bytes());
    m.extend_from_slice(batch.as_bytes());
    m.extend_from_slice(hub_id.as_bytes());
    m
}

impl BatchReceipt {
    pub fn sign(
        manifest: &[u8],
        batch_id: &str,
        applications: u32,
        hub_id: &str,
        at: i64,
        key: &SigningKey,
    ) -> BatchReceipt {
        let manifest_digest: Digest = sha2::Sha256::digest(manifest).into();
        let signature =
            key.sign(&batch_message(batch_id, &manifest_digest, applications, hub_id, at)).to_bytes().to_vec();
        BatchReceipt {
            batch_id: batch_id.to_string(),
            manifest_digest,
            applications,
            hub_id: hub_id.to_string(),
            received_at_unix: at,
            hub_key: key.verifying_key().to_bytes(),
            signature,
        }
    }

    /// Checks the signature, and that the receipt is for exactly these manifest bytes.
    pub fn verify(&self, manifest: &[u8], hub: Option<&VerifyingKey>) -> Result<(), EnvelopeError> {
        let digest: Digest = sha2::Sha256::digest(manifest).into();
        if digest != self.manifest_digest {
            return Err(EnvelopeError::HeaderMismatch("the receipt names another manifest"));
        }
        verify_hub(
            &self.hub_key,
            &self.signature,
            &batch_message(
                &self.batch_id,
                &self.manifest_digest,
                self.applications,
                &self.hub_id,
                self.received_at_unix,
            ),
            hub,
        )
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        postcard::to_allocvec(self).unwrap_or_default()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<BatchReceipt, EnvelopeError> {
        postcard::from_bytes(bytes).map_err(|_| EnvelopeError::Malformed("batch receipt"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipts_verify_and_bind_the_envelope() {
        let hub = SigningKey::from_bytes(&[1; 32]);
        let id = ApplicationId::new_v7(1, [2; 10]);
        let r = Receipt::sign(id, [3; 32], "hub-test", 100, &hub);
        let back = Receipt::from_bytes(&r.to_bytes()).unwrap();
        back.verify(id, &[3; 32], Some(&hub.verifying_key())).unwrap();
        assert!(back.verify(id, &[4; 32], None).is_err());
        assert!(back.verify(ApplicationId::new_v7(2, [2; 10]), &[3; 32], None).is_err());
        let other = SigningKey::from_bytes(&[9; 32]);
        assert_eq!(
            back.verify(id, &[3; 32], Some(&other.verifying_key())),
            Err(EnvelopeError::UntrustedKey(Signer::Hub))
        );
        let mut forged = back.clone();
        forged.received_at_unix += 1;
        assert_eq!(forged.verify(id, &[3; 32], None), Err(EnvelopeError::BadSignature(Signer::Hub)));
        assert!(Receipt::from_bytes(b"\xff\xff").is_err());
    }

    #[test]
    fn batch_receipts_bind_the_manifest_bytes() {
        let hub = SigningKey::from_bytes(&[1; 32]);
        let r = BatchReceipt::sign(b"manifest bytes", "shift-a", 3, "hub-test", 100, &hub);
        let back = BatchReceipt::from_bytes(&r.to_bytes()).unwrap();
        back.verify(b"manifest bytes", Some(&hub.verifying_key())).unwrap();
        assert!(back.verify(b"manifest bytez", None).is_err());
        let mut forged = back.clone();
        forged.applications = 2;
        assert_eq!(forged.verify(b"manifest bytes", None), Err(EnvelopeError::BadSignature(Signer::Hub)));
        let other = SigningKey::from_bytes(&[9; 32]);
        assert_eq!(
            back.verify(b"manifest bytes", Some(&other.verifying_key())),
            Err(EnvelopeError::UntrustedKey(Signer::Hub))
        );
    }
}
