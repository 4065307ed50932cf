//! The supervisor's signed batch manifest for a shift.

use std::collections::HashSet;

use ed25519_dalek::Signer as _;
use serde::{Deserialize, Serialize};

use crate::error::{EnvelopeError, Signer};
use crate::ids::ApplicationId;
use crate::keys::{SigningKey, VerifyingKey};
use crate::seal::Digest;

/// Between a return's reason and the supervisor's note of what exactly to put right, when
/// there is one: "the reason — the note". Reports count returns by what comes before it.
pub const RETURN_NOTE_SEPARATOR: &str = " — ";

/// The supervisor's decision on one application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    Approved,
    /// Returned to the officer: the applicant will be visited again.
    Returned {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub application_id: ApplicationId,
    pub digest: Digest,
    pub decision: Decision,
}

/// A shift's applications, the supervisor's decisions, and the head of the device's audit
/// chain at sign-off (so the hub can tell whether actions are missing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchManifest {
    pub batch_id: String,
    pub device_id: String,
    pub supervisor_id: String,
    pub created_at_unix: i64,
    pub entries: Vec<ManifestEntry>,
    pub audit_head: [u8; 32],
    pub audit_length: u64,
}

impl BatchManifest {
    pub fn validate(&self) -> Result<(), EnvelopeError> {
        let mut ids = HashSet::new();
        for e in &self.entries {
            if !ids.insert(e.application_id) {
                return Err(EnvelopeError::InvalidManifest(format!("{} is listed twice", e.application_id)));
            }
            if let Decision::Returned { reason } = &e.decision
                && reason.trim().is_empty()
            {
                return Err(EnvelopeError::InvalidManifest(format!(
                    "{} is returned without a reason",
                    e.application_id
                )));
            }
        }
        if self.batch_id.trim().is_empty() || self.supervisor_id.trim().is_empty() {
            return Err(EnvelopeError::InvalidManifest("batch and supervisor ids are required".into()));
        }
        Ok(())
    }

    /// Signs the manifest with the supervisor's key.
    pub fn sign(self, supervisor: &SigningKey) -> Result<SignedManifest, EnvelopeError> {
        self.validate()?;
        let bytes = postcard::to_allocvec(&self).map_err(|e| EnvelopeError::Encoding(e.to_string()))?;
        let signature = supervisor.sign(&message(&bytes)).to_bytes();
        Ok(SignedManifest {
            manifest: self,
            manifest_bytes: bytes,
            supervisor_key: supervisor.verifying_key().to_bytes(),
            signature,
        })
    }
}

fn message(manifest_bytes: &[u8]) -> Vec<u8> {
    let mut m = b"doorstep-manifest-v1\0".to_vec();
    m.extend_from_slice(manifest_bytes);
    m
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedManifest {
    manifest: BatchManifest,
    manifest_bytes: Vec<u8>,
    supervisor_key: [u8; 32],
    signature: [u8; 64],
}

const MAGIC: &[u8; 8] = b"DSMAN\x00\x01\n";

impl SignedManifest {
    pub fn manifest(&self) -> &BatchManifest {
        &self.manifest
    }

    /// magic (8) | length (u32 LE) | manifest | supervisor key (32) | signature (64).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&(self.manifest_bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.manifest_bytes);
        out.extend_from_slice(&self.supervisor_key);
        out.extend_from_slice(&self.signature);
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<SignedManifest, EnvelopeError> {
        let rest = bytes.strip_prefix(MAGIC.as_slice()).ok_or(EnvelopeError::BadMagic)?;
        if rest.len() < 4 {
            return Err(EnvelopeError::Malformed("truncated"));
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let rest = &rest[4..];
        if rest.len() != len + 32 + 64 {
            return Err(EnvelopeError::Malformed("manifest length"));
        }
        let manifest_bytes = rest[..len].to_vec();
        let mut supervisor_key = [0u8; 32];
        supervisor_key.copy_from_slice(&rest[len..len + 32]);
        let mut signature = [0u8; 64];
        signature.copy_from_slice(&rest[len + 32..]);
        let manifest: BatchManifest =
            postcard::from_bytes(&manifest_bytes).map_err(|_| EnvelopeError::Malformed("manifest"))?;
        Ok(SignedManifest { manifest, manifest_bytes, supervisor_key, signature })
    }

    /// Verifies the signature and that the signer is one of the trusted supervisors.
    pub fn verify(&self, supervisors: &[VerifyingKey]) -> Result<&BatchManifest, EnvelopeError> {
        let key = VerifyingKey::from_bytes(&self.supervisor_key)
            .map_err(|_| EnvelopeError::BadSignature(Signer::Supervisor))?;
        let sig = ed25519_dalek::Signature::from_bytes(&self.signature);
        key.verify_strict(&message(&self.manifest_bytes), &sig)
            .map_err(|_| EnvelopeError::BadSignature(Signer::Supervisor))?;
        if !supervisors.iter().any(|k| k.to_bytes() == self.supervisor_key) {
            return Err(EnvelopeError::UntrustedKey(Signer::Supervisor));
        }
        self.manifest.validate()?;
        Ok(&self.manifest)
    }
}
