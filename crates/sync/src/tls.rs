//! rustls configurations for both ends: TLS 1.3 only, ring as the provider, trust in the
//! hub's private CA alone (no web roots, no platform verifier: SECURITY R13, R14).

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{what}: not a PEM certificate")]
    Certificate { what: &'static str },
    #[error("{what}: not a PEM private key")]
    Key { what: &'static str },
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Every certificate in a PEM text, in order.
pub fn certificates(pem: &str, what: &'static str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|_| TlsError::Certificate { what })?;
    if certs.is_empty() {
        return Err(TlsError::Certificate { what });
    }
    Ok(certs)
}

pub fn private_key(pem: &str, what: &'static str) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|_| TlsError::Key { what })
}

/// A store holding only the given CA certificates.
pub fn roots(ca_pem: &str) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for c in certificates(ca_pem, "CA certificate")? {
        roots.add(c)?;
    }
    Ok(roots)
}

/// The tablet's side: trusts only `ca_pem`, presents its own certificate.
pub fn client_config(ca_pem: &str, cert_pem: &str, key_pem: &str) -> Result<ClientConfig, TlsError> {
    let config = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_root_certificates(roots(ca_pem)?)
        .with_client_auth_cert(certificates(cert_pem, "client certificate")?, private_key(key_pem, "client key")?)?;
    Ok(config)
}
