//! The hub's server certificate replaced and the one it replaces revoked (SECURITY.md R13: a
//! revoked certificate fails closed). The CA signs a certificate revocation list,
//! `HUB/crl.pem`, of every server certificate replaced so far (kept in
//! `HUB/revoked-servers.toml`); every bundle enrolled from then on carries it, tablets enrolled
//! before learn it at their next sync (`GET /v1/crl`, once `serve` presents the new
//! certificate), and the tablet's TLS refuses a hub that presents a certificate on it (a copy
//! of the old key, in someone else's hands).

use std::fs;

use rcgen::{CertificateRevocationListParams, KeyIdMethod, RevokedCertParams, SerialNumber};
use serde::{Deserialize, Serialize};

use super::{Hub, PkiError, Validity, cert, io, server_certificate, write_replacing};

/// A server certificate revoked: its serial number (hex) and when.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RevokedServer {
    pub serial: String,
    pub revoked_at_unix: i64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct RevokedServers {
    #[serde(default)]
    revoked: Vec<RevokedServer>,
}

/// The serial number of a DER certificate, as its bytes (the INTEGER's content): the second
/// element of the to-be-signed part, after an optional explicit version. `None` for what is
/// not a certificate's shape.
pub fn serial_of(der: &[u8]) -> Option<&[u8]> {
    let (tag, certificate, _) = tlv(der)?;
    let (tag_tbs, tbs, _) = tlv(certificate).filter(|_| tag == 0x30)?;
    let (tag_first, first, rest) = tlv(tbs).filter(|_| tag_tbs == 0x30)?;
    let (tag_serial, serial) = if tag_first == 0xA0 { tlv(rest).map(|(t, s, _)| (t, s))? } else { (tag_first, first) };
    (tag_serial == 0x02 && !serial.is_empty()).then_some(serial)
}

/// One DER tag-length-value: its tag, its content and what follows it.
fn tlv(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = bytes.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7F);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |l, &b| (l << 8) | usize::from(b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// What replacing the server certificate did.
#[derive(Debug)]
pub struct Replaced {
    /// The old certificate's serial (hex), now on the list.
    pub revoked: String,
    /// How many server certificates the list holds.
    pub listed: usize,
}

impl Hub {
    /// Issues a new server certificate for `hosts` (written in place of `server.pem` and
    /// `server-key.pem`; the hub serves it from its next start) and revokes the one it
    /// replaces: the CRL is signed again with it listed.
    pub fn replace_server_certificate(&self, hosts: &[String]) -> Result<Replaced, PkiError> {
        // The names as `init` takes them, the one the tablets use among them.
        super::check_addresses(hosts, &self.config.listen, &self.config.url).map_err(PkiError::Address)?;
        let path = self.dir.join("server.pem");
        let pem = fs::read_to_string(&path).map_err(io(&path))?;
        let old = doorstep_sync::tls::certificates(&pem, "the hub's server certificate")?;
        let serial = serial_of(&old[0]).ok_or_else(|| PkiError::Format {
            path: path.display().to_string(),
            message: "the certificate's serial number cannot be read".into(),
        })?;
        let serial = hex::encode(serial);
        let (new_pem, new_key) = server_certificate(&self.issuer()?, hosts, Validity::days(825))?;
        let mut list = self.revoked_servers()?;
        if !list.revoked.iter().any(|r| r.serial == serial) {
            list.revoked.push(RevokedServer { serial: serial.clone(), revoked_at_unix: super::now() });
        }
        // The list and the CRL first: a failure after them leaves the old certificate revoked
        // and still served (the tablets refuse it; replacing again mends it), never a
        // compromised one served unrevoked.
        // Signed before anything is written: an entry that does not read stops it here.
        let crl = self.sign_crl(&list.revoked)?;
        let list_path = self.dir.join("revoked-servers.toml");
        let text = toml::to_string_pretty(&list)
            .map_err(|e| PkiError::Format { path: list_path.display().to_string(), message: e.to_string() })?;
        write_replacing(&list_path, &text)?;
        write_replacing(&self.dir.join("crl.pem"), &crl)?;
        write_replacing(&self.dir.join("server-key.pem"), &new_key)?;
        write_replacing(&path, &new_pem)?;
        Ok(Replaced { revoked: serial, listed: list.revoked.len() })
    }

    /// The CA's revocation list as the bundles carry it (PEM), or nothing before any
    /// certificate was revoked.
    pub fn crl_pem(&self) -> Result<String, PkiError> {
        let path = self.dir.join("crl.pem");
        match fs::read_to_string(&path) {
            Ok(text) => Ok(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
            Err(e) => Err(io(&path)(e)),
        }
    }

    fn revoked_servers(&self) -> Result<RevokedServers, PkiError> {
        let path = self.dir.join("revoked-servers.toml");
        match fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text)
                .map_err(|e| PkiError::Format { path: path.display().to_string(), message: e.to_string() }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(RevokedServers::default()),
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// The CRL of `revoked`, signed by the CA. Numbered by the count of entries (a list only
    /// grows), valid ten years: a tablet offline for months still refuses what it lists.
    fn sign_crl(&self, revoked: &[RevokedServer]) -> Result<String, PkiError> {
        let now = time::OffsetDateTime::now_utc();
        // An entry that does not read is named, never left out (it would be unrevoked).
        let bad = |r: &RevokedServer| PkiError::Format {
            path: self.dir.join("revoked-servers.toml").display().to_string(),
            message: format!("the entry {:?} at {} does not read", r.serial, r.revoked_at_unix),
        };
        let revoked_certs = revoked
            .iter()
            .map(|r| {
                let serial = hex::decode(&r.serial).ok().filter(|s| !s.is_empty()).ok_or_else(|| bad(r))?;
                let at = time::OffsetDateTime::from_unix_timestamp(r.revoked_at_unix).map_err(|_| bad(r))?;
                Ok(RevokedCertParams {
                    serial_number: SerialNumber::from_slice(&serial),
                    revocation_time: at,
                    // Replaced because its key may be in other hands.
                    reason_code: Some(rcgen::RevocationReason::KeyCompromise),
                    invalidity_date: None,
                })
            })
            .collect::<Result<Vec<_>, PkiError>>()?;
        let params = CertificateRevocationListParams {
            this_update: now,
            next_update: now + time::Duration::days(3650),
            crl_number: SerialNumber::from(revoked.len() as u64),
            issuing_distribution_point: None,
            revoked_certs,
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let crl = params.signed_by(&self.issuer()?).map_err(cert("the revocation list"))?;
        crl.pem().map_err(cert("the revocation list"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_serial_is_read_from_a_certificate_and_nothing_from_what_is_not_one() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        p.serial_number = Some(SerialNumber::from_slice(&[0x01, 0x02, 0x03]));
        let der = p.self_signed(&key).unwrap().der().to_vec();
        assert_eq!(serial_of(&der), Some(&[0x01, 0x02, 0x03][..]));
        let cases: [&[u8]; 5] = [&[], &[0x30], &[0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF], &[0x02, 0x01, 0x05], &der[..20]];
        for bytes in cases {
            assert_eq!(serial_of(bytes), None, "{bytes:02x?}");
        }
    }
}
