//! The hub's signed receipt for an envelope: the tablet may erase an envelope only once it
//! holds one.

use ed25519_dalek::Signer as _;
use serde::{Deserialize, Serialize};

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
        let key = VerifyingKey::from_bytes(&self.hub_key).map_err(|_| EnvelopeError::BadSignature(Signer::Hub))?;
        let sig: [u8; 64] =
            self.signature.as_slice().try_into().map_err(|_| EnvelopeError::BadSignature(Signer::Hub))?;
        key.verify_strict(
            &message(&self.application_id, &self.digest, &self.hub_id, self.received_at_unix),
            &ed25519_dalek::Signature::from_bytes(&sig),
        )
        .map_err(|_| EnvelopeError::BadSignature(Signer::Hub))?;
        if let Some(hub) = hub
            && hub.to_bytes() != self.hub_key
        {
            return Err(EnvelopeError::UntrustedKey(Signer::Hub));
        }
        Ok(())
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        postcard::to_allocvec(self).unwrap_or_default()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Receipt, EnvelopeError> {
        postcard::from_bytes(bytes).map_err(|_| EnvelopeError::Malformed("receipt"))
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
}
