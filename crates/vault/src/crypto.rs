//! The vault's symmetric cryptography: XChaCha20-Poly1305 values under the data key, and
//! Argon2id from a PIN to a key-encryption key.

use std::time::{Duration, Instant};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// A 256-bit key, zeroised when dropped.
pub type Key = Zeroizing<[u8; 32]>;

pub fn random_key() -> Key {
    let mut k = Zeroizing::new([0u8; 32]);
    rand::rng().fill_bytes(k.as_mut());
    k
}

/// Encrypts `plaintext`: a random 24-byte nonce followed by the ciphertext and tag.
pub fn seal(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(key.into());
    let mut nonce = [0u8; 24];
    rand::rng().fill_bytes(&mut nonce);
    // Encryption only fails for plaintexts beyond 256 GiB.
    let ct = cipher.encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad }).unwrap_or_default();
    let mut out = Vec::with_capacity(24 + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    out
}

/// Decrypts what [`seal`] made; `None` if the key, the associated data or the bytes differ.
pub fn open(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if sealed.len() < 24 + 16 {
        return None;
    }
    let cipher = XChaCha20Poly1305::new(key.into());
    let (nonce, ct) = sealed.split_at(24);
    cipher.decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad }).ok().map(Zeroizing::new)
}

/// Argon2id parameters, stored with each key slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl KdfParams {
    /// The floor: OWASP's minimum for Argon2id (19 MiB, 2 passes).
    pub const FLOOR: KdfParams = KdfParams { m_kib: 19 * 1024, t: 2, p: 1 };
    /// RFC 9106's second recommended option (64 MiB, 3 passes), with one lane because the
    /// implementation is single-threaded.
    pub const RECOMMENDED: KdfParams = KdfParams { m_kib: 64 * 1024, t: 3, p: 1 };
    /// Fast parameters for tests only. A release build refuses them (see
    /// [`KdfParams::check_floor`]); only debug builds, in which the tests run, accept them.
    pub const INSECURE_TEST: KdfParams = KdfParams { m_kib: 256, t: 1, p: 1 };
    /// The ceiling: no slot this unit makes comes near it (calibration keeps 64 MiB and at
    /// most 32 passes), and beyond it a damaged or edited slot file would ask for memory the
    /// tablet does not have (an abort) or an unlock that never ends.
    pub const CEILING: KdfParams = KdfParams { m_kib: 1024 * 1024, t: 64, p: 8 };

    /// Whether these parameters reach the floor (OWASP: 19 MiB, 2 passes).
    pub fn meets_floor(&self) -> bool {
        self.m_kib >= Self::FLOOR.m_kib && self.t >= Self::FLOOR.t && self.p >= 1
    }

    /// Refuses parameters below the floor, except in a debug build (tests), where
    /// [`KdfParams::INSECURE_TEST`] keeps the suite fast; and above the ceiling, always (the
    /// slot's file is then damaged).
    pub fn check_floor(&self) -> Result<(), crate::VaultError> {
        check_floor(self, cfg!(debug_assertions))
    }

    /// Derives a key-encryption key from a PIN and a salt.
    pub fn derive(&self, pin: &[u8], salt: &[u8]) -> Result<Key, argon2::Error> {
        let params = argon2::Params::new(self.m_kib, self.t, self.p, Some(32))?;
        let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = Zeroizing::new([0u8; 32]);
        argon.hash_password_into(pin, salt, out.as_mut())?;
        Ok(out)
    }

    /// Chooses parameters that take about `target` (within 0.3–1 s) on this machine: 64 MiB
    /// memory and as many passes as fit, measured and corrected a few times, never below the
    /// floor. Returns them with the last measured time.
    pub fn calibrate(target: Duration) -> Result<(KdfParams, Duration), crate::VaultError> {
        let kdf_error = |e: argon2::Error| crate::VaultError::Kdf(e.to_string());
        let time = |p: &KdfParams| -> Result<Duration, crate::VaultError> {
            let start = Instant::now();
            p.derive(b"calibration", b"calibration-salt").map_err(kdf_error)?;
            Ok(start.elapsed().max(Duration::from_micros(1)))
        };
        let mut chosen = KdfParams { m_kib: 64 * 1024, t: 2, p: 1 };
        let mut took = time(&chosen)?;
        for _ in 0..4 {
            let low = target.mul_f64(0.6);
            let high = target.mul_f64(2.0);
            if took >= low && took <= high {
                break;
            }
            let scale = target.as_secs_f64() / took.as_secs_f64();
            let t = ((f64::from(chosen.t) * scale).round() as u32).clamp(2, 32);
            if t == chosen.t {
                break;
            }
            chosen.t = t;
            took = time(&chosen)?;
        }
        if took > Duration::from_secs(2) {
            // A very slow machine: fall back to the floor rather than a long unlock.
            chosen = KdfParams::FLOOR;
            took = time(&chosen)?;
        }
        Ok((chosen, took))
    }
}

fn check_floor(p: &KdfParams, tests_allowed: bool) -> Result<(), crate::VaultError> {
    let c = KdfParams::CEILING;
    if p.m_kib > c.m_kib || p.t > c.t || p.p > c.p {
        return Err(crate::VaultError::Corrupt("the key slot's key-derivation parameters are out of range".into()));
    }
    if p.meets_floor() || tests_allowed { Ok(()) } else { Err(crate::VaultError::WeakKdf) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_release_build_refuses_parameters_below_the_floor() {
        assert!(matches!(check_floor(&KdfParams::INSECURE_TEST, false), Err(crate::VaultError::WeakKdf)));
        assert!(matches!(
            check_floor(&KdfParams { m_kib: 19 * 1024, t: 1, p: 1 }, false),
            Err(crate::VaultError::WeakKdf)
        ));
        assert!(check_floor(&KdfParams::FLOOR, false).is_ok());
        assert!(check_floor(&KdfParams::RECOMMENDED, false).is_ok());
        assert!(check_floor(&KdfParams::INSECURE_TEST, true).is_ok(), "tests may use fast parameters");
        // Beyond the ceiling (4 TiB, a million passes, many lanes): refused before any
        // derivation, in tests too.
        for too_much in [
            KdfParams { m_kib: 4_000_000_000, ..KdfParams::RECOMMENDED },
            KdfParams { t: 1_000_000, ..KdfParams::RECOMMENDED },
            KdfParams { p: 1000, ..KdfParams::RECOMMENDED },
        ] {
            for tests_allowed in [false, true] {
                assert!(
                    matches!(check_floor(&too_much, tests_allowed), Err(crate::VaultError::Corrupt(_))),
                    "{too_much:?}"
                );
            }
        }
        assert!(check_floor(&KdfParams::CEILING, false).is_ok());
    }

    #[test]
    fn values_round_trip_and_bind_their_context() {
        let k = random_key();
        let sealed = seal(&k, b"drafts/visit-1", b"secret");
        assert_eq!(open(&k, b"drafts/visit-1", &sealed).unwrap().as_slice(), b"secret");
        assert!(open(&k, b"drafts/visit-2", &sealed).is_none(), "moved to another key");
        assert!(open(&random_key(), b"drafts/visit-1", &sealed).is_none());
        let mut bad = sealed.clone();
        bad[30] ^= 1;
        assert!(open(&k, b"drafts/visit-1", &bad).is_none());
        assert!(open(&k, b"x", &sealed[..10]).is_none());
    }

    #[test]
    fn the_kdf_is_deterministic_and_salted() {
        let p = KdfParams::INSECURE_TEST;
        let a = p.derive(b"123456", b"salt-0123456789ab").unwrap();
        assert_eq!(*a, *p.derive(b"123456", b"salt-0123456789ab").unwrap());
        assert_ne!(*a, *p.derive(b"123457", b"salt-0123456789ab").unwrap());
        assert_ne!(*a, *p.derive(b"123456", b"salt-0123456789ac").unwrap());
        let json = serde_json::to_string(&KdfParams::RECOMMENDED).unwrap();
        assert_eq!(serde_json::from_str::<KdfParams>(&json).unwrap(), KdfParams::RECOMMENDED);
    }

    #[test]
    fn calibration_never_goes_below_the_floor() {
        let (p, took) = KdfParams::calibrate(Duration::from_millis(300)).unwrap();
        assert!(p.m_kib >= KdfParams::FLOOR.m_kib && p.t >= KdfParams::FLOOR.t, "{p:?}");
        assert!(took > Duration::ZERO);
        // What calibration chose must be usable as stored.
        let again: KdfParams = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(
            *again.derive(b"123456", b"0123456789abcdef").unwrap(),
            *p.derive(b"123456", b"0123456789abcdef").unwrap()
        );
    }
}
