//! Keys: the bureau's HPKE key pair and the Ed25519 signing keys.

use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem, Serializable};
use zeroize::Zeroizing;

pub use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::error::EnvelopeError;
use crate::rand_core::{CryptoRng, RngCore};

pub(crate) type KemT = X25519HkdfSha256;

/// The bureau's public key: what tablets seal to.
#[derive(Clone, PartialEq, Eq)]
pub struct BureauPublicKey(pub(crate) <KemT as Kem>::PublicKey);

/// The bureau's private key: held by the back office, never by a tablet or the hub.
#[derive(Clone)]
pub struct BureauSecretKey(pub(crate) <KemT as Kem>::PrivateKey);

impl std::fmt::Debug for BureauSecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BureauSecretKey(<secret>)")
    }
}

impl std::fmt::Debug for BureauPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BureauPublicKey({})", hex::encode(self.to_bytes()))
    }
}

pub struct BureauKeyPair {
    pub secret: BureauSecretKey,
    pub public: BureauPublicKey,
}

impl BureauKeyPair {
    pub fn generate<R: CryptoRng + RngCore>(rng: &mut R) -> BureauKeyPair {
        let (sk, pk) = KemT::gen_keypair(rng);
        BureauKeyPair { secret: BureauSecretKey(sk), public: BureauPublicKey(pk) }
    }
}

impl BureauPublicKey {
    pub fn to_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(&self.0.to_bytes());
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<BureauPublicKey, EnvelopeError> {
        <KemT as Kem>::PublicKey::from_bytes(bytes).map(BureauPublicKey).map_err(|_| EnvelopeError::InvalidKey)
    }
}

impl BureauSecretKey {
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&self.0.to_bytes());
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<BureauSecretKey, EnvelopeError> {
        <KemT as Kem>::PrivateKey::from_bytes(bytes).map(BureauSecretKey).map_err(|_| EnvelopeError::InvalidKey)
    }

    pub fn public_key(&self) -> BureauPublicKey {
        BureauPublicKey(<KemT as Kem>::sk_to_pk(&self.0))
    }
}

/// An Ed25519 signing key from 32 secret bytes (from the caller's RNG or a key store).
pub fn signing_key_from_seed(seed: &[u8; 32]) -> SigningKey {
    SigningKey::from_bytes(seed)
}
