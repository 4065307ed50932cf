//! The sealed-feedback format: praise, an opinion, a complaint or "could not get it done"
//! (办不成事), sealed to the bureau's key like an application, in a sibling envelope of its
//! own.
//!
//! Why a sibling and not an application envelope with another record: an application's
//! envelope carries a device counter the hub claims once per device (a feedback would spend
//! counters the supervisor's batch never lists), the back office's `open` returns an
//! application record, and its header names the officer. Feedback is small, is never in a
//! batch, and is idempotent by its id and digest alone. The crypto is the same: HPKE base
//! mode (X25519, HKDF-SHA256, ChaCha20-Poly1305) to the bureau's key, the whole header as the
//! AEAD's associated data, the id, kind and device in the HPKE `info` (under its own label, so
//! no feedback opens as an application or the other way round), and Ed25519 signatures by the
//! device key and the officer's key over (domain, role, id, digest).
//!
//! The clear header holds only what the hub routes and shows by: the id, the device, the box
//! (kind) and category, when it was made, and the two public keys. The text, the contact, the
//! visit and the officer's id are in the sealed content, which this crate treats as bytes (the
//! vault puts doorstep-core's `Feedback` there, as JSON).

use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::{Deserializable, Kem, OpModeR, OpModeS, Serializable};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::error::{EnvelopeError, Signer};
use crate::ids::{ApplicationId, DeviceId};
use crate::keys::{BureauPublicKey, BureauSecretKey, KemT, SigningKey, VerifyingKey};
use crate::rand_core::{CryptoRng, RngCore};
use crate::seal::Digest;

const MAGIC: &[u8; 8] = b"DSFBK\x00\x01\n";
const MAX_HEADER: usize = 1024;
/// The largest sealed feedback: core keeps at most 500 characters of text, with a contact,
/// well under it. The hub refuses a larger body before reading it.
pub const MAX_FEEDBACK: usize = 16 * 1024;
/// The version of the feedback header and layout this crate writes and reads.
pub const FEEDBACK_VERSION: u16 = 1;
/// The longest kind or category id in a header.
const MAX_LABEL: usize = 64;

/// The clear part of a sealed feedback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackHeader {
    pub version: u16,
    /// A UUIDv7, as an application's id.
    pub feedback_id: ApplicationId,
    pub device_id: DeviceId,
    /// The box: `praise`, `suggestion`, `complaint` or `could-not-get-done` (core's
    /// `FeedbackKind` in its serde form).
    pub kind: String,
    /// The category's id in the policy's list for that box.
    pub category: String,
    pub created_at_unix: i64,
    pub device_key: [u8; 32],
    pub officer_key: [u8; 32],
    /// The HPKE encapsulated key.
    pub enc: [u8; 32],
}

/// A sealed feedback. The tablet can verify it but cannot open it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedFeedback {
    header: FeedbackHeader,
    header_bytes: Vec<u8>,
    ciphertext: Vec<u8>,
    device_sig: [u8; 64],
    officer_sig: [u8; 64],
    digest: Digest,
}

/// What sealing a feedback needs besides its content.
pub struct FeedbackContext<'a> {
    pub bureau: &'a BureauPublicKey,
    pub device_id: &'a DeviceId,
    pub device_key: &'a SigningKey,
    pub officer_key: &'a SigningKey,
    pub feedback_id: ApplicationId,
    pub kind: &'a str,
    pub category: &'a str,
    pub created_at_unix: i64,
}

fn info(id: &ApplicationId, kind: &str, device: &DeviceId) -> Vec<u8> {
    let mut info = b"doorstep-feedback-v1\0".to_vec();
    info.extend_from_slice(&FEEDBACK_VERSION.to_be_bytes());
    info.extend_from_slice(&id.0);
    info.extend_from_slice(kind.as_bytes());
    info.push(0);
    info.extend_from_slice(device.0.as_bytes());
    info
}

fn signed_message(role: Signer, id: &ApplicationId, digest: &Digest) -> Vec<u8> {
    let mut m = b"doorstep-feedback-sig-v1\0".to_vec();
    m.push(if role == Signer::Device { b'D' } else { b'O' });
    m.extend_from_slice(&id.0);
    m.extend_from_slice(digest);
    m
}

fn digest_of(header_bytes: &[u8], ciphertext: &[u8]) -> Digest {
    let mut h = Sha256::new();
    h.update(b"doorstep-feedback-digest-v1\0");
    h.update((header_bytes.len() as u64).to_be_bytes());
    h.update(header_bytes);
    h.update(ciphertext);
    h.finalize().into()
}

fn label_ok(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_LABEL && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Seals `content` (the feedback's text, contact and the rest, as the caller encodes them) to
/// the bureau's key, and signs it with the device and officer keys.
pub fn seal_feedback<R: CryptoRng + RngCore>(
    content: &[u8],
    ctx: &FeedbackContext<'_>,
    rng: &mut R,
) -> Result<SealedFeedback, EnvelopeError> {
    if !label_ok(ctx.kind) || !label_ok(ctx.category) {
        return Err(EnvelopeError::Encoding("a feedback's kind and category are short ids".into()));
    }
    let info = info(&ctx.feedback_id, ctx.kind, ctx.device_id);
    let (enc, mut sender) =
        hpke::setup_sender::<ChaCha20Poly1305, HkdfSha256, KemT, R>(&OpModeS::Base, &ctx.bureau.0, &info, rng)
            .map_err(|e| EnvelopeError::Encoding(e.to_string()))?;
    let mut enc_bytes = [0u8; 32];
    enc_bytes.copy_from_slice(&enc.to_bytes());
    let header = FeedbackHeader {
        version: FEEDBACK_VERSION,
        feedback_id: ctx.feedback_id,
        device_id: ctx.device_id.clone(),
        kind: ctx.kind.to_string(),
        category: ctx.category.to_string(),
        created_at_unix: ctx.created_at_unix,
        device_key: ctx.device_key.verifying_key().to_bytes(),
        officer_key: ctx.officer_key.verifying_key().to_bytes(),
        enc: enc_bytes,
    };
    let header_bytes = postcard::to_allocvec(&header).map_err(|e| EnvelopeError::Encoding(e.to_string()))?;
    if header_bytes.len() > MAX_HEADER {
        return Err(EnvelopeError::Encoding("the header is too large".into()));
    }
    let ciphertext = sender.seal(content, &header_bytes).map_err(|e| EnvelopeError::Encoding(e.to_string()))?;
    let digest = digest_of(&header_bytes, &ciphertext);
    use ed25519_dalek::Signer as _;
    let device_sig = ctx.device_key.sign(&signed_message(Signer::Device, &header.feedback_id, &digest));
    let officer_sig = ctx.officer_key.sign(&signed_message(Signer::Officer, &header.feedback_id, &digest));
    let sealed = SealedFeedback {
        header,
        header_bytes,
        ciphertext,
        device_sig: device_sig.to_bytes(),
        officer_sig: officer_sig.to_bytes(),
        digest,
    };
    if sealed.len() > MAX_FEEDBACK {
        return Err(EnvelopeError::Encoding(format!("a sealed feedback is at most {MAX_FEEDBACK} bytes")));
    }
    Ok(sealed)
}

impl SealedFeedback {
    pub fn header(&self) -> &FeedbackHeader {
        &self.header
    }

    pub fn feedback_id(&self) -> ApplicationId {
        self.header.feedback_id
    }

    pub fn digest(&self) -> Digest {
        self.digest
    }

    fn len(&self) -> usize {
        8 + 4 + self.header_bytes.len() + 4 + self.ciphertext.len() + 128
    }

    /// The sealed feedback as stored and sent: magic (8) | header length (u32 LE) | header |
    /// ciphertext length (u32 LE) | ciphertext | device signature (64) | officer signature (64).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(self.header_bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.header_bytes);
        out.extend_from_slice(&(self.ciphertext.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.ciphertext);
        out.extend_from_slice(&self.device_sig);
        out.extend_from_slice(&self.officer_sig);
        out
    }

    /// Parses a sealed feedback, whatever the bytes (never panics). Checks the layout only;
    /// call [`SealedFeedback::verify_self_signed`] before trusting it.
    pub fn from_bytes(bytes: &[u8]) -> Result<SealedFeedback, EnvelopeError> {
        if bytes.len() > MAX_FEEDBACK {
            return Err(EnvelopeError::Malformed("too large"));
        }
        let rest = bytes.strip_prefix(MAGIC.as_slice()).ok_or(EnvelopeError::BadMagic)?;
        let (header_bytes, rest) = take_sized(rest, MAX_HEADER)?;
        let (ciphertext, rest) = take_sized(rest, MAX_FEEDBACK)?;
        let (device_sig, rest) = rest.split_first_chunk::<64>().ok_or(EnvelopeError::Malformed("truncated"))?;
        let (officer_sig, rest) = rest.split_first_chunk::<64>().ok_or(EnvelopeError::Malformed("truncated"))?;
        if !rest.is_empty() {
            return Err(EnvelopeError::Malformed("trailing bytes"));
        }
        let (header, tail): (FeedbackHeader, &[u8]) =
            postcard::take_from_bytes(header_bytes).map_err(|_| EnvelopeError::Malformed("header"))?;
        if !tail.is_empty() {
            return Err(EnvelopeError::Malformed("header has trailing bytes"));
        }
        if header.version != FEEDBACK_VERSION {
            return Err(EnvelopeError::UnsupportedVersion(header.version));
        }
        if !label_ok(&header.kind) || !label_ok(&header.category) {
            return Err(EnvelopeError::Malformed("kind or category"));
        }
        Ok(SealedFeedback {
            digest: digest_of(header_bytes, ciphertext),
            header,
            header_bytes: header_bytes.to_vec(),
            ciphertext: ciphertext.to_vec(),
            device_sig: *device_sig,
            officer_sig: *officer_sig,
        })
    }

    /// Verifies both signatures against the keys named in the header. Whether those keys are
    /// trusted is the verifier's business.
    pub fn verify_self_signed(&self) -> Result<(), EnvelopeError> {
        let h = &self.header;
        for (role, key, sig) in
            [(Signer::Device, &h.device_key, &self.device_sig), (Signer::Officer, &h.officer_key, &self.officer_sig)]
        {
            let key = VerifyingKey::from_bytes(key).map_err(|_| EnvelopeError::BadSignature(role))?;
            let sig = ed25519_dalek::Signature::from_bytes(sig);
            key.verify_strict(&signed_message(role, &h.feedback_id, &self.digest), &sig)
                .map_err(|_| EnvelopeError::BadSignature(role))?;
        }
        Ok(())
    }
}

fn take_sized(bytes: &[u8], max: usize) -> Result<(&[u8], &[u8]), EnvelopeError> {
    let (len, rest) = bytes.split_first_chunk::<4>().ok_or(EnvelopeError::Malformed("truncated"))?;
    let len = u32::from_le_bytes(*len) as usize;
    if len > max {
        return Err(EnvelopeError::Malformed("length"));
    }
    let body = rest.get(..len).ok_or(EnvelopeError::Malformed("truncated"))?;
    Ok((body, &rest[len..]))
}

/// Opens a sealed feedback with the bureau's private key (back office only) and returns its
/// content as sealed.
pub fn open_feedback(sealed: &SealedFeedback, bureau: &BureauSecretKey) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
    let h = &sealed.header;
    let enc = <KemT as Kem>::EncappedKey::from_bytes(&h.enc).map_err(|_| EnvelopeError::Decryption)?;
    let info = info(&h.feedback_id, &h.kind, &h.device_id);
    let mut receiver =
        hpke::setup_receiver::<ChaCha20Poly1305, HkdfSha256, KemT>(&OpModeR::Base, &bureau.0, &enc, &info)
            .map_err(|_| EnvelopeError::Decryption)?;
    Ok(Zeroizing::new(receiver.open(&sealed.ciphertext, &sealed.header_bytes).map_err(|_| EnvelopeError::Decryption)?))
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::keys::{BureauKeyPair, signing_key_from_seed};

    fn sealed(rng: &mut rand::rngs::StdRng, bureau: &BureauPublicKey, content: &[u8]) -> SealedFeedback {
        let (device, officer) = (signing_key_from_seed(&[1; 32]), signing_key_from_seed(&[2; 32]));
        let ctx = FeedbackContext {
            bureau,
            device_id: &DeviceId("tablet-test-01".into()),
            device_key: &device,
            officer_key: &officer,
            feedback_id: ApplicationId([9; 16]),
            kind: "complaint",
            category: "attitude",
            created_at_unix: 1_790_000_000,
        };
        seal_feedback(content, &ctx, rng).unwrap()
    }

    #[test]
    fn feedback_round_trips_and_only_the_bureau_opens_it() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let bureau = BureauKeyPair::generate(&mut rng);
        let other = BureauKeyPair::generate(&mut rng);
        let content = "测试意见 13800138000".as_bytes();
        let s = sealed(&mut rng, &bureau.public, content);
        let bytes = s.to_bytes();
        assert!(!bytes.windows(content.len()).any(|w| w == content), "the content is not in clear");
        let parsed = SealedFeedback::from_bytes(&bytes).unwrap();
        assert_eq!(parsed, s);
        parsed.verify_self_signed().unwrap();
        assert_eq!(open_feedback(&parsed, &bureau.secret).unwrap().as_slice(), content);
        assert_eq!(open_feedback(&parsed, &other.secret), Err(EnvelopeError::Decryption));
        // Any byte changed fails the signature or the layout.
        for i in [10, bytes.len() / 2, bytes.len() - 1] {
            let mut bad = bytes.clone();
            bad[i] ^= 1;
            let result = SealedFeedback::from_bytes(&bad).and_then(|f| f.verify_self_signed());
            assert!(result.is_err(), "byte {i}");
        }
        // An application envelope is not a feedback, and the other way round.
        assert_eq!(SealedFeedback::from_bytes(b"DSENV\x00\x01\nxx"), Err(EnvelopeError::BadMagic));
        assert_eq!(crate::SealedEnvelope::from_bytes(&bytes), Err(EnvelopeError::BadMagic));
        for cut in 0..bytes.len() {
            assert!(SealedFeedback::from_bytes(&bytes[..cut]).is_err(), "{cut}");
        }
    }
}
