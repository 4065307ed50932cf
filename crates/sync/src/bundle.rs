//! The provisioning bundle: what a tablet needs to reach its hub, written by
//! `doorstep-hub enroll-device`, installed by `doorstep provision`. As the hub writes it, it
//! holds the tablet's TLS private key (so it is readable by its owner only); installed, the key
//! is moved into the vault, sealed under the data key, and the bundle kept without it.

use doorstep_envelope::{BureauPublicKey, VerifyingKey};
use rustls::ClientConfig;
use serde::{Deserialize, Serialize};

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    pub device: String,
    pub hub_url: String,
    pub hub_id: String,
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
    /// The key the hub signs receipts with (hex).
    pub hub_receipt_key: String,
    /// The bureau's public key (hex): envelopes are sealed to it.
    pub bureau_public_key: String,
    /// Supervisors' Ed25519 public keys (hex).
    #[serde(default)]
    pub supervisors: Vec<String>,
    /// The hub CA's revocation list (PEM), empty before the hub revoked anything: a hub that
    /// presents a certificate on it is refused (SECURITY.md R13).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub crl_pem: String,
}

/// `Debug` shows who and where, never the TLS key.
impl std::fmt::Debug for Bundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bundle")
            .field("device", &self.device)
            .field("hub_url", &self.hub_url)
            .field("hub_id", &self.hub_id)
            .field("key_pem", &if self.key_pem.is_empty() { "<none>" } else { "<redacted>" })
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("not a provisioning bundle: {0}")]
    Format(String),
    #[error("the bundle's {0} is not a valid key")]
    Key(&'static str),
    #[error("the bundle's certificates: {0}")]
    Tls(#[from] crate::tls::TlsError),
}

fn key32(hex_text: &str, what: &'static str) -> Result<[u8; 32], BundleError> {
    hex::decode(hex_text.trim()).ok().and_then(|b| b.try_into().ok()).ok_or(BundleError::Key(what))
}

impl Bundle {
    /// Parses and checks a bundle: every key and certificate must load.
    pub fn parse(text: &str) -> Result<Bundle, BundleError> {
        let b: Bundle = toml::from_str(text).map_err(|e| BundleError::Format(e.to_string()))?;
        if b.key_pem.is_empty() {
            // Installed: the key is in the vault. The certificates must still load.
            crate::tls::roots(&b.ca_pem)?;
            crate::tls::crls(&b.crl_pem)?;
            crate::tls::certificates(&b.cert_pem, "client certificate")?;
        } else {
            b.client_config()?;
        }
        b.hub_receipt_key()?;
        b.bureau_key()?;
        for s in &b.supervisors {
            VerifyingKey::from_bytes(&key32(s, "supervisor key")?).map_err(|_| BundleError::Key("supervisor key"))?;
        }
        if !b.hub_url.starts_with("https://") {
            return Err(BundleError::Format(format!("the hub URL {:?} is not https://", b.hub_url)));
        }
        Ok(b)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    pub fn client_config(&self) -> Result<ClientConfig, BundleError> {
        self.client_config_with(&self.key_pem)
    }

    /// The client configuration with the TLS key kept elsewhere (the vault).
    pub fn client_config_with(&self, key_pem: &str) -> Result<ClientConfig, BundleError> {
        Ok(crate::tls::client_config(&self.ca_pem, &self.crl_pem, &self.cert_pem, key_pem)?)
    }

    /// What the vault binds the bundle by (its trust anchor): the SHA-256 of the CA, the hub's
    /// URL, name and receipt key and this unit's certificate, each length-prefixed, and the
    /// revocation list when there is one (a bundle from before the lists reads as it did). A
    /// bundle edited without the PIN differs (a list taken out, too). The TLS key is not in
    /// it: it is sealed in the vault.
    pub fn anchor_digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for part in [&self.ca_pem, &self.hub_url, &self.hub_id, &self.hub_receipt_key, &self.cert_pem] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        if !self.crl_pem.is_empty() {
            h.update(b"crl");
            h.update((self.crl_pem.len() as u64).to_be_bytes());
            h.update(self.crl_pem.as_bytes());
        }
        hex::encode(h.finalize())
    }

    /// The bundle as a unit keeps it: everything but the TLS key.
    pub fn without_key(&self) -> Bundle {
        Bundle { key_pem: String::new(), ..self.clone() }
    }

    pub fn hub_receipt_key(&self) -> Result<VerifyingKey, BundleError> {
        VerifyingKey::from_bytes(&key32(&self.hub_receipt_key, "hub receipt key")?)
            .map_err(|_| BundleError::Key("hub receipt key"))
    }

    pub fn bureau_key(&self) -> Result<BureauPublicKey, BundleError> {
        BureauPublicKey::from_bytes(&key32(&self.bureau_public_key, "bureau key")?)
            .map_err(|_| BundleError::Key("bureau key"))
    }
}

/// The hub's address as a tablet reads it, `https://HOST:PORT` (a `/` after it is allowed):
/// its host, port, and the name its certificate must carry. The one reading, for the tablet's
/// client and for the hub's `init`, which refuses an address its tablets could not use.
pub fn hub_address(url: &str) -> Option<(String, u16, rustls_pki_types::ServerName<'static>)> {
    let rest = url.strip_prefix("https://")?.trim_end_matches('/');
    let (host, port) = rest.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    let name = rustls_pki_types::ServerName::try_from(host.to_string()).ok()?;
    Some((host.to_string(), port, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle() -> Bundle {
        Bundle {
            device: "tablet-test".into(),
            hub_url: "https://hub.test:8443".into(),
            hub_id: "hub-test".into(),
            ca_pem: "CA".into(),
            cert_pem: "CERT".into(),
            key_pem: "-----BEGIN PRIVATE KEY----- secret".into(),
            hub_receipt_key: "ab".into(),
            bureau_public_key: "cd".into(),
            supervisors: vec![],
            crl_pem: String::new(),
        }
    }

    /// SECURITY.md R10: no secrets through `Debug`.
    #[test]
    fn debug_never_shows_the_tls_key() {
        let s = format!("{:?}", bundle());
        assert!(!s.contains("secret") && !s.contains("PRIVATE"), "{s}");
        assert!(s.contains("<redacted>"));
    }

    #[test]
    fn the_anchor_digest_covers_ca_url_name_receipt_key_and_certificate_not_the_key() {
        let b = bundle();
        let d = b.anchor_digest();
        assert_eq!(d, b.without_key().anchor_digest(), "the TLS key is not part of it");
        for edited in [
            Bundle { ca_pem: "CA2".into(), ..bundle() },
            Bundle { hub_url: "https://evil.test:8443".into(), ..bundle() },
            Bundle { hub_receipt_key: "ac".into(), ..bundle() },
            Bundle { hub_id: "hub-evil".into(), ..bundle() },
            Bundle { cert_pem: "CERT2".into(), ..bundle() },
            // Length-prefixed: moving a byte from one field to the next changes it.
            Bundle { ca_pem: "C".into(), hub_url: "Ahttps://hub.test:8443".into(), ..bundle() },
        ] {
            assert_ne!(edited.anchor_digest(), d);
        }
    }
}
