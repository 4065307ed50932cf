//! rustls configurations for both ends: TLS 1.3 only, ring as the provider, trust in the
//! hub's private CA alone (no web roots, no platform verifier: SECURITY R13, R14).

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{what}: not a PEM certificate")]
    Certificate { what: &'static str },
    #[error("the hub's revocation list: not a PEM CRL")]
    Crl,
    #[error("the hub's revocation list: {0}")]
    Verifier(String),
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

/// Every revocation list in a PEM text (none in an empty one).
pub fn crls(pem: &str) -> Result<Vec<CertificateRevocationListDer<'static>>, TlsError> {
    CertificateRevocationListDer::pem_slice_iter(pem.as_bytes()).collect::<Result<_, _>>().map_err(|_| TlsError::Crl)
}

/// The tablet's side: trusts only `ca_pem`, refuses a hub certificate that `crl_pem` (the CA's
/// revocation list, possibly empty) lists, presents its own certificate.
pub fn client_config(ca_pem: &str, crl_pem: &str, cert_pem: &str, key_pem: &str) -> Result<ClientConfig, TlsError> {
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots(ca_pem)?), provider())
        .with_crls(crls(crl_pem)?)
        .build()
        .map_err(|e| TlsError::Verifier(e.to_string()))?;
    let config = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_webpki_verifier(verifier)
        .with_client_auth_cert(certificates(cert_pem, "client certificate")?, private_key(key_pem, "client key")?)?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revocation_list_is_read_or_refused() {
        assert_eq!(crls("").unwrap().len(), 0, "none: nothing revoked");
        let damaged = "-----BEGIN X509 CRL-----\n!!\n-----END X509 CRL-----\n";
        assert!(matches!(crls(damaged), Err(TlsError::Crl)));
        // A list that is not a CRL (the verifier cannot use it) makes no configuration.
        let not_a_crl = "-----BEGIN X509 CRL-----\nAAEC\n-----END X509 CRL-----\n";
        let key = rcgen::KeyPair::generate().unwrap();
        let ca = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap().self_signed(&key).unwrap();
        let e = client_config(&ca.pem(), not_a_crl, &ca.pem(), &key.serialize_pem()).unwrap_err();
        assert!(matches!(e, TlsError::Verifier(_)), "{e}");
    }
}
