//! rustls configurations for both ends: TLS 1.3 only, ring as the provider, trust in the
//! hub's private CA alone (no web roots, no platform verifier: SECURITY R13, R14).

use std::collections::BTreeSet;
use std::sync::Arc;

use rustls::client::danger::ServerCertVerifier;
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer, ServerName, UnixTime};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{what}: not a PEM certificate")]
    Certificate { what: &'static str },
    #[error("the hub's revocation list: not a PEM CRL")]
    Crl,
    #[error("the hub's revocation list: {0}")]
    Verifier(String),
    #[error("the hub's revocation list leaves out a certificate the list kept on this unit revokes")]
    ListShrank,
    #[error("the hub's revocation list holds {0} lists, not one")]
    NotOneList(usize),
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

/// The serial numbers a PEM text's revocation lists name.
fn serials(pem: &str) -> Result<BTreeSet<Vec<u8>>, TlsError> {
    serials_of(&crls(pem)?)
}

/// The serial numbers the revocation lists `lists` name.
fn serials_of(lists: &[CertificateRevocationListDer<'_>]) -> Result<BTreeSet<Vec<u8>>, TlsError> {
    let mut all = BTreeSet::new();
    for der in lists {
        let list = webpki::BorrowedCertRevocationList::from_der(der).map_err(|_| TlsError::Crl)?;
        for revoked in &list {
            all.insert(revoked.map_err(|_| TlsError::Crl)?.serial_number.to_vec());
        }
    }
    Ok(all)
}

/// Whether the lists in `pem` name every certificate those in `other` name (false when either
/// does not read).
pub fn names_all(pem: &str, other: &str) -> bool {
    matches!((serials(pem), serials(other)), (Ok(a), Ok(b)) if a.is_superset(&b))
}

/// The hub's certificate verifier: only `ca_pem` trusted, a certificate on `lists` refused,
/// one whose status no list gives refused too (rustls's default).
fn verifier(
    ca_pem: &str,
    lists: Vec<CertificateRevocationListDer<'static>>,
) -> Result<Arc<rustls::client::WebPkiServerVerifier>, TlsError> {
    rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots(ca_pem)?), provider())
        .with_crls(lists)
        .build()
        .map_err(|e| TlsError::Verifier(e.to_string()))
}

/// Whether `new_pem`, a revocation list the hub sent, may take the place of `old_pem`, the one
/// the tablet holds: it is one list, the CA's (with it, `server`, the certificate the hub
/// presented on this very connection for `name`, verifies: a list is used only when it is
/// the issuer's, its signature checked; and that hub is not on it), and it still names every
/// certificate the old one names (a list only grows: an old list sent again, or another one,
/// never takes a revocation back).
pub fn newer_list(
    ca_pem: &str,
    old_pem: &str,
    new_pem: &str,
    server: &CertificateDer<'_>,
    name: &ServerName<'_>,
) -> Result<(), TlsError> {
    // One list: the verifier checks the signature of the first list that speaks for the
    // hub's issuer only, so a second one (its serials read below) would go unchecked.
    let lists = crls(new_pem)?;
    if lists.len() != 1 {
        return Err(TlsError::NotOneList(lists.len()));
    }
    if !serials_of(&lists)?.is_superset(&serials(old_pem)?) {
        return Err(TlsError::ListShrank);
    }
    verifier(ca_pem, lists)?
        .verify_server_cert(server, &[], name, &[], UnixTime::now())
        .map_err(|e| TlsError::Verifier(e.to_string()))?;
    Ok(())
}

/// The tablet's side: trusts only `ca_pem`, refuses a hub certificate that `crl_pem` (the CA's
/// revocation list, possibly empty) lists, presents its own certificate.
pub fn client_config(ca_pem: &str, crl_pem: &str, cert_pem: &str, key_pem: &str) -> Result<ClientConfig, TlsError> {
    let config = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_webpki_verifier(verifier(ca_pem, crls(crl_pem)?)?)
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

    /// A CA (its issuer) and a server certificate for localhost with serial `serial`.
    fn ca_and_server(serial: u8) -> (String, rcgen::Issuer<'static, rcgen::KeyPair>, CertificateDer<'static>) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p = rcgen::CertificateParams::new(Vec::new()).unwrap();
        p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        p.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
        p.distinguished_name.push(rcgen::DnType::CommonName, "test CA");
        let ca = p.self_signed(&key).unwrap().pem();
        let issuer = rcgen::Issuer::new(p, key);
        let mut s = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        s.serial_number = Some(rcgen::SerialNumber::from_slice(&[serial]));
        let server = s.signed_by(&rcgen::KeyPair::generate().unwrap(), &issuer).unwrap().der().clone();
        (ca, issuer, server)
    }

    /// A list by `issuer` revoking `serials`.
    fn list(issuer: &rcgen::Issuer<'_, rcgen::KeyPair>, serials: &[u8]) -> String {
        let now = time::OffsetDateTime::now_utc();
        let revoked_certs = serials
            .iter()
            .map(|s| rcgen::RevokedCertParams {
                serial_number: rcgen::SerialNumber::from_slice(&[*s]),
                revocation_time: now,
                reason_code: None,
                invalidity_date: None,
            })
            .collect();
        let params = rcgen::CertificateRevocationListParams {
            this_update: now,
            next_update: now + time::Duration::days(30),
            crl_number: rcgen::SerialNumber::from(serials.len() as u64),
            issuing_distribution_point: None,
            revoked_certs,
            key_identifier_method: rcgen::KeyIdMethod::Sha256,
        };
        params.signed_by(issuer).unwrap().pem().unwrap()
    }

    #[test]
    fn a_list_from_the_hub_is_taken_only_if_it_is_the_cas_grows_and_spares_the_hub() {
        let (ca, issuer, server) = ca_and_server(7);
        let (_, stranger, _) = ca_and_server(7);
        let name = ServerName::try_from("localhost").unwrap();
        let check = |old: &str, new: &str| newer_list(&ca, old, new, &server, &name);
        let (one, two) = (list(&issuer, &[3]), list(&issuer, &[3, 4]));
        assert!(check("", &one).is_ok(), "the first list");
        assert!(check(&one, &two).is_ok(), "a longer one");
        assert!(matches!(check(&two, &one), Err(TlsError::ListShrank)), "an older one");
        assert!(matches!(check(&one, &list(&issuer, &[3, 7])), Err(TlsError::Verifier(m)) if m.contains("Revoked")));
        let forged = list(&stranger, &[3, 4]);
        assert!(matches!(check(&one, &forged), Err(TlsError::Verifier(_))), "another CA's");
        // A genuine list with another behind it: the verifier would check only the first.
        let two_lists = format!("{one}{forged}");
        assert!(matches!(check("", &two_lists), Err(TlsError::NotOneList(2))));
        assert!(matches!(check("", ""), Err(TlsError::NotOneList(0))));
        assert!(names_all(&two, &one) && !names_all(&one, &two) && names_all(&one, ""));
        assert!(!names_all("-----BEGIN X509 CRL-----\n!!\n-----END X509 CRL-----\n", ""));
    }
}
