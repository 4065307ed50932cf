//! One error enum for the envelope, with a variant per distinct failure.

/// Which key made a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signer {
    Device,
    Officer,
    Supervisor,
    Hub,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("not a doorstep envelope (bad magic)")]
    BadMagic,
    #[error("unsupported schema version {0}")]
    UnsupportedVersion(u16),
    #[error("the envelope is truncated or malformed: {0}")]
    Malformed(&'static str),
    #[error("the {0:?} signature does not verify: the envelope was altered or signed by another key")]
    BadSignature(Signer),
    #[error("the {0:?} key is not one the verifier trusts")]
    UntrustedKey(Signer),
    #[error("the envelope is for application {found}, not {expected}")]
    WrongApplicationId { expected: String, found: String },
    #[error("cannot decrypt: the bureau key does not match, or the ciphertext was altered")]
    Decryption,
    #[error("device counter {counter} was already used by another envelope (replay)")]
    ReplayedCounter { counter: u64 },
    #[error("the sealed record does not match its header ({0})")]
    HeaderMismatch(&'static str),
    #[error("encoding failed: {0}")]
    Encoding(String),
    #[error("invalid key bytes")]
    InvalidKey,
    #[error("the manifest is invalid: {0}")]
    InvalidManifest(String),
}
