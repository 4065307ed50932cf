//! Sealing, the envelope's bytes, signatures and opening.

use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::{Deserializable, Kem, OpModeR, OpModeS, Serializable};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::SCHEMA_VERSION;
use crate::error::{EnvelopeError, Signer};
use crate::ids::{ApplicationId, DeviceId};
use crate::keys::{BureauPublicKey, BureauSecretKey, KemT, SigningKey, VerifyingKey};
use crate::rand_core::{CryptoRng, RngCore};
use crate::record::ApplicationRecord;

const MAGIC: &[u8; 8] = b"DSENV\x00\x01\n";
const MAX_HEADER: usize = 4096;
/// Envelopes larger than this are refused on parsing (a hub sets its own, lower limit).
pub const MAX_CIPHERTEXT: usize = 256 * 1024 * 1024;
/// The largest envelope a tablet seals and a hub takes by default: a sealed application with
/// its photo and ten fingerprint images is 150–400 KB. Checked before sealing, so nothing
/// unsendable is ever sealed.
pub const MAX_ENVELOPE: usize = 8 * 1024 * 1024;

/// SHA-256 over the header and ciphertext: what is signed, and what the hub's idempotency
/// and the batch manifest name.
pub type Digest = [u8; 32];

/// The clear part of an envelope: who sealed it, for which application, with which counter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeHeader {
    pub schema_version: u16,
    pub application_id: ApplicationId,
    pub device_id: DeviceId,
    pub device_counter: u64,
    pub officer_id: String,
    pub device_key: [u8; 32],
    pub officer_key: [u8; 32],
    /// The HPKE encapsulated key.
    pub enc: [u8; 32],
    pub sealed_at_unix: i64,
}

/// A sealed application. The tablet can verify it but cannot open it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedEnvelope {
    header: EnvelopeHeader,
    header_bytes: Vec<u8>,
    ciphertext: Vec<u8>,
    device_sig: [u8; 64],
    officer_sig: [u8; 64],
    /// The digest of header and ciphertext, computed once.
    digest: Digest,
}

/// What sealing needs besides the record.
pub struct SealContext<'a> {
    pub bureau: &'a BureauPublicKey,
    pub device_id: &'a DeviceId,
    pub device_key: &'a SigningKey,
    pub officer_id: &'a str,
    pub officer_key: &'a SigningKey,
    /// Strictly increasing per device; the hub refuses a counter used twice.
    pub device_counter: u64,
    pub sealed_at_unix: i64,
}

fn info(schema_version: u16, id: &ApplicationId, device: &DeviceId) -> Vec<u8> {
    let mut info = b"doorstep-envelope-v1\0".to_vec();
    info.extend_from_slice(&schema_version.to_be_bytes());
    info.extend_from_slice(&id.0);
    info.extend_from_slice(device.0.as_bytes());
    info
}

fn signed_message(role: Signer, id: &ApplicationId, digest: &Digest, counter: u64) -> Vec<u8> {
    let mut m = b"doorstep-sig-v1\0".to_vec();
    m.push(match role {
        Signer::Device => b'D',
        Signer::Officer => b'O',
        Signer::Supervisor => b'S',
        Signer::Hub => b'H',
    });
    m.extend_from_slice(&id.0);
    m.extend_from_slice(digest);
    m.extend_from_slice(&counter.to_be_bytes());
    m
}

/// Seals `record` to the bureau's key and signs it with the device and officer keys.
pub fn seal<R: CryptoRng + RngCore>(
    record: &ApplicationRecord,
    ctx: &SealContext<'_>,
    rng: &mut R,
) -> Result<SealedEnvelope, EnvelopeError> {
    if record.schema_version != SCHEMA_VERSION {
        return Err(EnvelopeError::UnsupportedVersion(record.schema_version));
    }
    let plaintext = Zeroizing::new(postcard::to_allocvec(record).map_err(|e| EnvelopeError::Encoding(e.to_string()))?);
    seal_plaintext(SCHEMA_VERSION, record.application_id, &plaintext, ctx, rng)
}

/// Seals a record's encoding, of schema `version`.
fn seal_plaintext<R: CryptoRng + RngCore>(
    version: u16,
    id: ApplicationId,
    plaintext: &[u8],
    ctx: &SealContext<'_>,
    rng: &mut R,
) -> Result<SealedEnvelope, EnvelopeError> {
    let info = info(version, &id, ctx.device_id);
    let (enc, mut sender) =
        hpke::setup_sender::<ChaCha20Poly1305, HkdfSha256, KemT, R>(&OpModeS::Base, &ctx.bureau.0, &info, rng)
            .map_err(|e| EnvelopeError::Encoding(e.to_string()))?;
    let mut enc_bytes = [0u8; 32];
    enc_bytes.copy_from_slice(&enc.to_bytes());
    let header = EnvelopeHeader {
        schema_version: version,
        application_id: id,
        device_id: ctx.device_id.clone(),
        device_counter: ctx.device_counter,
        officer_id: ctx.officer_id.to_string(),
        device_key: ctx.device_key.verifying_key().to_bytes(),
        officer_key: ctx.officer_key.verifying_key().to_bytes(),
        enc: enc_bytes,
        sealed_at_unix: ctx.sealed_at_unix,
    };
    let header_bytes = postcard::to_allocvec(&header).map_err(|e| EnvelopeError::Encoding(e.to_string()))?;
    if header_bytes.len() > MAX_HEADER {
        return Err(EnvelopeError::Encoding("the header is too large".into()));
    }
    let ciphertext = sender.seal(plaintext, &header_bytes).map_err(|e| EnvelopeError::Encoding(e.to_string()))?;
    let digest = digest_of(&header_bytes, &ciphertext);
    use ed25519_dalek::Signer as _;
    let device_sig =
        ctx.device_key.sign(&signed_message(Signer::Device, &header.application_id, &digest, header.device_counter));
    let officer_sig =
        ctx.officer_key.sign(&signed_message(Signer::Officer, &header.application_id, &digest, header.device_counter));
    Ok(SealedEnvelope {
        header,
        header_bytes,
        ciphertext,
        device_sig: device_sig.to_bytes(),
        officer_sig: officer_sig.to_bytes(),
        digest,
    })
}

fn digest_of(header_bytes: &[u8], ciphertext: &[u8]) -> Digest {
    let mut h = Sha256::new();
    h.update(b"doorstep-envelope-digest-v1\0");
    h.update((header_bytes.len() as u64).to_be_bytes());
    h.update(header_bytes);
    h.update(ciphertext);
    h.finalize().into()
}

impl SealedEnvelope {
    pub fn header(&self) -> &EnvelopeHeader {
        &self.header
    }

    pub fn application_id(&self) -> ApplicationId {
        self.header.application_id
    }

    pub fn digest(&self) -> Digest {
        self.digest
    }

    /// The envelope as stored and sent:
    /// magic (8) | header length (u32 LE) | header | ciphertext length (u64 LE) | ciphertext |
    /// device signature (64) | officer signature (64).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + 4 + self.header_bytes.len() + 8 + self.ciphertext.len() + 128);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(self.header_bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.header_bytes);
        out.extend_from_slice(&(self.ciphertext.len() as u64).to_le_bytes());
        out.extend_from_slice(&self.ciphertext);
        out.extend_from_slice(&self.device_sig);
        out.extend_from_slice(&self.officer_sig);
        out
    }

    /// Parses an envelope. Checks the layout only; call [`SealedEnvelope::verify`] before
    /// trusting it.
    pub fn from_bytes(bytes: &[u8]) -> Result<SealedEnvelope, EnvelopeError> {
        let mut r = Reader(bytes);
        if r.take(8)? != MAGIC {
            return Err(EnvelopeError::BadMagic);
        }
        let header_len = u32::from_le_bytes(r.array()?) as usize;
        if header_len > MAX_HEADER {
            return Err(EnvelopeError::Malformed("header length"));
        }
        let header_bytes = r.take(header_len)?.to_vec();
        let ct_len = u64::from_le_bytes(r.array()?);
        if ct_len > MAX_CIPHERTEXT as u64 {
            return Err(EnvelopeError::Malformed("ciphertext length"));
        }
        let ciphertext = r.take(ct_len as usize)?.to_vec();
        let device_sig: [u8; 64] = r.array()?;
        let officer_sig: [u8; 64] = r.array()?;
        if !r.0.is_empty() {
            return Err(EnvelopeError::Malformed("trailing bytes"));
        }
        let (header, rest): (EnvelopeHeader, &[u8]) =
            postcard::take_from_bytes(&header_bytes).map_err(|_| EnvelopeError::Malformed("header"))?;
        if !rest.is_empty() {
            return Err(EnvelopeError::Malformed("header has trailing bytes"));
        }
        if !(crate::OLDEST_SCHEMA_VERSION..=SCHEMA_VERSION).contains(&header.schema_version) {
            return Err(EnvelopeError::UnsupportedVersion(header.schema_version));
        }
        let digest = digest_of(&header_bytes, &ciphertext);
        Ok(SealedEnvelope { header, header_bytes, ciphertext, device_sig, officer_sig, digest })
    }

    /// Verifies both signatures against the keys named in the header. Whether those keys are
    /// trusted is the verifier's business: see [`SealedEnvelope::verify`].
    pub fn verify_self_signed(&self) -> Result<(), EnvelopeError> {
        let digest = self.digest();
        let h = &self.header;
        for (role, key, sig) in
            [(Signer::Device, &h.device_key, &self.device_sig), (Signer::Officer, &h.officer_key, &self.officer_sig)]
        {
            let key = VerifyingKey::from_bytes(key).map_err(|_| EnvelopeError::BadSignature(role))?;
            let sig = ed25519_dalek::Signature::from_bytes(sig);
            key.verify_strict(&signed_message(role, &h.application_id, &digest, h.device_counter), &sig)
                .map_err(|_| EnvelopeError::BadSignature(role))?;
        }
        Ok(())
    }

    /// Verifies the signatures and that they were made by the given device and an officer key
    /// the verifier trusts.
    pub fn verify(&self, device: &VerifyingKey, officers: &[VerifyingKey]) -> Result<(), EnvelopeError> {
        self.verify_self_signed()?;
        if self.header.device_key != device.to_bytes() {
            return Err(EnvelopeError::UntrustedKey(Signer::Device));
        }
        if !officers.iter().any(|k| k.to_bytes() == self.header.officer_key) {
            return Err(EnvelopeError::UntrustedKey(Signer::Officer));
        }
        Ok(())
    }
}

/// Opens an envelope with the bureau's private key (back office only). With `expected`, the
/// envelope must be for that application.
pub fn open(
    envelope: &SealedEnvelope,
    bureau: &BureauSecretKey,
    expected: Option<ApplicationId>,
) -> Result<ApplicationRecord, EnvelopeError> {
    let h = &envelope.header;
    if let Some(expected) = expected
        && expected != h.application_id
    {
        return Err(EnvelopeError::WrongApplicationId {
            expected: expected.to_string(),
            found: h.application_id.to_string(),
        });
    }
    let enc = <KemT as Kem>::EncappedKey::from_bytes(&h.enc).map_err(|_| EnvelopeError::Decryption)?;
    let info = info(h.schema_version, &h.application_id, &h.device_id);
    let mut receiver =
        hpke::setup_receiver::<ChaCha20Poly1305, HkdfSha256, KemT>(&OpModeR::Base, &bureau.0, &enc, &info)
            .map_err(|_| EnvelopeError::Decryption)?;
    let plaintext = Zeroizing::new(
        receiver.open(&envelope.ciphertext, &envelope.header_bytes).map_err(|_| EnvelopeError::Decryption)?,
    );
    let undecodable = |_| EnvelopeError::HeaderMismatch("record does not decode");
    let record: ApplicationRecord = match h.schema_version {
        1 => postcard::from_bytes::<crate::record::RecordV1>(&plaintext).map_err(undecodable)?.into(),
        _ => postcard::from_bytes(&plaintext).map_err(undecodable)?,
    };
    if record.application_id != h.application_id {
        return Err(EnvelopeError::HeaderMismatch("application id"));
    }
    if record.schema_version != h.schema_version {
        return Err(EnvelopeError::HeaderMismatch("schema version"));
    }
    Ok(record)
}

/// A cursor over untrusted bytes that never panics.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], EnvelopeError> {
        if self.0.len() < n {
            return Err(EnvelopeError::Malformed("truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], EnvelopeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::keys::{BureauKeyPair, signing_key_from_seed};

    /// A record as schema 1 wrote it, field for field.
    #[derive(Serialize)]
    struct V1<'a> {
        schema_version: u16,
        application_id: ApplicationId,
        application_numbers: Vec<String>,
        form_json: &'a str,
        #[serde(with = "serde_bytes")]
        photo_jpeg: Vec<u8>,
        fingerprints: Vec<crate::FingerprintCapture>,
        #[serde(with = "serde_bytes")]
        signature_png: Vec<u8>,
        consent_json: &'a str,
        capture: crate::CaptureMetadata,
    }

    /// An envelope sealed before schema 2 still opens, with no other signatures.
    #[test]
    fn a_schema_1_envelope_still_opens() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let bureau = BureauKeyPair::generate(&mut rng);
        let (device, officer) = (signing_key_from_seed(&[1; 32]), signing_key_from_seed(&[2; 32]));
        let device_id = DeviceId("tablet-test-01".into());
        let ctx = SealContext {
            bureau: &bureau.public,
            device_id: &device_id,
            device_key: &device,
            officer_id: "officer-test",
            officer_key: &officer,
            device_counter: 1,
            sealed_at_unix: 1_790_000_950,
        };
        let id = ApplicationId([7; 16]);
        let old = V1 {
            schema_version: 1,
            application_id: id,
            application_numbers: vec!["TEST-0001".into()],
            form_json: "{}",
            photo_jpeg: vec![0xFF, 0xD8],
            fingerprints: vec![],
            signature_png: vec![0x89, b'P'],
            consent_json: "{}",
            capture: crate::CaptureMetadata {
                device_id: "tablet-test-01".into(),
                officer_id: "officer-test".into(),
                gnss: None,
                started_at_unix: 1,
                completed_at_unix: 2,
                quality: vec![],
            },
        };
        let plaintext = postcard::to_allocvec(&old).unwrap();
        let sealed = seal_plaintext(1, id, &plaintext, &ctx, &mut rng).unwrap();
        let parsed = SealedEnvelope::from_bytes(&sealed.to_bytes()).unwrap();
        let record = open(&parsed, &bureau.secret, Some(id)).unwrap();
        assert_eq!((record.schema_version, record.signature_png.as_slice()), (1, &[0x89, b'P'][..]));
        assert!(record.other_signatures.is_empty());
        // A schema this crate does not know is refused.
        let future = seal_plaintext(SCHEMA_VERSION + 1, id, &plaintext, &ctx, &mut rng).unwrap();
        assert!(matches!(
            SealedEnvelope::from_bytes(&future.to_bytes()),
            Err(EnvelopeError::UnsupportedVersion(v)) if v == SCHEMA_VERSION + 1
        ));
    }
}
