//! The hub's folder, its private CA, and the tablets enrolled with it.
//!
//! ```text
//! HUB/hub.toml                 hub id, URL, listen address, size limit
//! HUB/ca.pem, HUB/ca-key.pem   the private CA: signs the hub's certificate and each tablet's
//! HUB/server.pem, server-key.pem
//! HUB/crl.pem                 the CA's list of the server certificates replaced (revoked), if any
//! HUB/revoked-servers.toml     those certificates' serials, from which crl.pem is signed
//! HUB/receipt-key              Ed25519 seed (hex) the hub signs receipts with
//! HUB/bureau.pub               the bureau's public key (hex): tablets seal to it
//! HUB/devices.toml             enrolled tablets: name, certificate fingerprint, revoked or not
//! HUB/bundles/NAME.toml        a tablet's provisioning bundle (holds its private key)
//! HUB/store/                   index/ (sled), envelopes/seg-N.log, uploads/ID.part
//! HUB/admin.sock               the admin socket while `serve` runs (owner only)
//! HUB.bureau/bureau.key        the bureau's private key: for the back office, never the hub
//! ```

use std::fs;
use std::path::{Path, PathBuf};

use doorstep_envelope::{BureauKeyPair, SigningKey, signing_key_from_seed};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

mod address;
mod revoke;
mod trusted;

pub use address::{Address, check_addresses};
pub use revoke::{Replaced, RevokedServer, serial_of};
pub use trusted::Trusted;
use trusted::keys;

/// What can go wrong with the hub's folder, its CA and its enrolled devices.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("{0}: no hub here (run `doorstep-hub init {0}`)")]
    NoHub(String),
    #[error("{0} already holds a hub")]
    HubExists(String),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: {message}")]
    Format { path: String, message: String },
    #[error("{what}: {source}")]
    Certificate { what: &'static str, source: rcgen::Error },
    #[error(transparent)]
    Tls(#[from] doorstep_sync::tls::TlsError),
    #[error("{0}")]
    Key(String),
    #[error("a device name is letters, digits, '-' and '_' only: {0:?}")]
    DeviceName(String),
    #[error("{0} is already enrolled (revoke it and enroll under a new name)")]
    AlreadyEnrolled(String),
    #[error("no device {0}")]
    NoDevice(String),
    #[error(
        "{0} names a demo unit (its captures may be simulated): only a demo hub (`doorstep-hub init --demo`) enrolls one"
    )]
    DemoDevice(String),
    #[error(
        "{0} is not a demo unit's name (demo-…): a demo hub, whose bureau key is a demo's, enrolls demo units only"
    )]
    RealDeviceAtDemoHub(String),
    /// An address given to `init` that the hub or its tablets could not use.
    #[error("{0}")]
    Address(Address),
}

/// `Io` for a path, as a closure for `map_err`.
fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PkiError + '_ {
    move |source| PkiError::Io { path: path.display().to_string(), source }
}

fn cert(what: &'static str) -> impl FnOnce(rcgen::Error) -> PkiError {
    move |source| PkiError::Certificate { what, source }
}

fn toml_text<T: Serialize>(value: &T, path: &Path) -> Result<String, PkiError> {
    toml::to_string_pretty(value)
        .map_err(|e| PkiError::Format { path: path.display().to_string(), message: e.to_string() })
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HubConfig {
    pub hub_id: String,
    /// What tablets connect to: `https://HOST:PORT`; HOST is in the hub's certificate.
    pub url: String,
    pub listen: String,
    pub max_envelope: u64,
    /// Supervisors' Ed25519 public keys (hex), handed to each tablet in its bundle.
    #[serde(default)]
    pub supervisors: Vec<String>,
    /// Officers' Ed25519 public keys (hex): an envelope signed by any other officer key is
    /// refused (`doorstep-hub add-officer`; read at each envelope, no restart needed).
    #[serde(default)]
    pub officers: Vec<String>,
    /// Whose each officer key is (key hex → the officer's id on the units, as `doorstep vault
    /// add-user` names them): an envelope or feedback signed with the key must name that
    /// officer (SECURITY R24). `add-officer KEY --id OFFICER` writes both; a key enrolled by an
    /// earlier version, with no id here, signs for no one until enrolled again with its id.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub officer_ids: std::collections::BTreeMap<String, String>,
    /// How the hub protects itself from abuse (SECURITY R25); every field has a default.
    #[serde(default)]
    pub limits: Limits,
    /// A demo hub (`init --demo`), for a demo unit on the same machine: it enrolls demo units
    /// (device names starting `demo-`) and takes their envelopes, whose captures may be
    /// simulated, and no others (`422 real-unit`). Any other hub refuses demo units (`422
    /// demo-unit`).
    #[serde(default)]
    pub demo: bool,
    /// Where the hub keeps its data: absent (or `"embedded"`) for the store in the hub's
    /// folder, or a PostgreSQL address, `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`,
    /// for a database several hubs share (`init --store`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    /// With a PostgreSQL store: refuse to serve, and take no envelope, manifest or feedback,
    /// unless the database names a synchronous standby (`synchronous_standby_names`), so that
    /// no receipt is sent for an envelope on one machine's disk only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_synchronous_standby: bool,
    /// With a PostgreSQL store: the CA (PEM) that signed the database server's certificate.
    /// Given, the hub speaks TLS 1.3 to the database and verifies the server's certificate
    /// and name; absent, the connection is plain (a database on the hub's machine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_ca: Option<PathBuf>,
    /// Where `serve` publishes `/metrics` in the Prometheus text format (a local address,
    /// e.g. `127.0.0.1:9464`); absent: not published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<String>,
}

/// `[limits]` in `hub.toml`: timeouts and caps that keep the hub up under abuse (SECURITY
/// R25). Read when `serve` starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Seconds a new connection has to finish its TLS handshake.
    pub handshake_timeout_secs: f64,
    /// Seconds a connection has to send a request's headers, counted from the end of the
    /// handshake or of the previous reply (so an idle kept-alive connection is closed too).
    pub header_timeout_secs: f64,
    /// Seconds a request's body may go without a byte arriving.
    pub body_timeout_secs: f64,
    /// Connections open at once, in all. Never more than the process's open-file limit
    /// allows (less a reserve for the store): see the log at start. When all are taken, a
    /// new connection takes the place of one not proven an enrolled tablet's (one that has
    /// sent nothing yet if there is one, else the oldest of the address holding the most such
    /// places), which is closed (`evicted-unauthenticated` in the log); only a hub full of
    /// enrolled tablets' kept connections (see `protected_connections_per_device`) refuses
    /// one (`connection-limit`).
    pub max_connections: usize,
    /// Connections open at once from one IP address (IPv6: per /64, which one subscriber
    /// holds whole; an IPv4-mapped IPv6 address counts as its IPv4 one). Tablets behind one
    /// carrier NAT share one IPv4 address.
    pub max_connections_per_ip: usize,
    /// Connections of one enrolled device that are never closed for a newcomer; its others
    /// may be, like those not proven an enrolled tablet's (one device's certificate, stolen or
    /// an insider's, cannot hold every place). 0: none is.
    pub protected_connections_per_device: usize,
    /// Unfinished (partial) uploads one device may hold at the hub.
    pub uploads_per_device: usize,
    /// Hours after which a partial upload that has not grown is dropped.
    pub upload_expiry_hours: i64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            handshake_timeout_secs: 10.0,
            header_timeout_secs: 30.0,
            body_timeout_secs: 30.0,
            max_connections: 1024,
            max_connections_per_ip: 128,
            protected_connections_per_device: 4,
            uploads_per_device: 32,
            upload_expiry_hours: 7 * 24,
        }
    }
}

impl Limits {
    /// A setting in seconds as a duration: from 10 ms to a day.
    pub fn duration(secs: f64) -> std::time::Duration {
        std::time::Duration::from_secs_f64(if secs.is_finite() { secs.clamp(0.01, 86_400.0) } else { 86_400.0 })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Device {
    pub name: String,
    /// SHA-256 of the certificate's DER, hex.
    pub fingerprint: String,
    pub enrolled_at_unix: i64,
    pub not_after_unix: i64,
    #[serde(default)]
    pub revoked_at_unix: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Devices {
    #[serde(default, rename = "device")]
    pub devices: Vec<Device>,
}

pub use doorstep_sync::bundle::Bundle;

pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The CA's parameters: the same every time, so an issuer rebuilt from them and the CA key
/// signs certificates that chain to the CA certificate written at `init`.
fn ca_params(hub_id: &str) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name.push(DnType::CommonName, format!("doorstep hub CA {hub_id}"));
    p.distinguished_name.push(DnType::OrganizationName, "doorstep");
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    p
}

/// Writes a new file that holds a secret (a key, a bundle): 0600 from its creation.
fn write_secret(path: &Path, contents: &str) -> Result<(), PkiError> {
    crate::files::write_private(path, contents.as_bytes(), true).map_err(io(path))
}

pub struct Hub {
    pub dir: PathBuf,
    pub config: HubConfig,
}

/// Where `init` puts the bureau's private key: beside the hub's folder, not in it.
pub fn bureau_dir(hub: &Path) -> PathBuf {
    let name = hub.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "hub".into());
    hub.with_file_name(format!("{name}.bureau"))
}

/// Certificate lifetimes: the hub's and the CA's are long; a tablet's is a year.
pub struct Validity {
    pub not_before: time::OffsetDateTime,
    pub not_after: time::OffsetDateTime,
}

impl Validity {
    pub fn days(days: i64) -> Validity {
        let now = time::OffsetDateTime::now_utc();
        Validity { not_before: now - time::Duration::hours(1), not_after: now + time::Duration::days(days) }
    }
}

/// Creates a hub folder: CA, server certificate for `hosts`, receipt key, bureau key pair.
pub fn init(dir: &Path, hosts: &[String], listen: &str, url: &str) -> Result<Hub, PkiError> {
    if dir.join("hub.toml").exists() {
        return Err(PkiError::HubExists(dir.display().to_string()));
    }
    check_addresses(hosts, listen, url).map_err(PkiError::Address)?;
    // The folder holds the CA's key, tablets' bundles and the admin socket: its owner's
    // only, from its creation.
    crate::files::private_dir(&dir.join("bundles")).map_err(io(dir))?;
    crate::files::private_dir(dir).map_err(io(dir))?;
    let mut id = [0u8; 4];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut id);
    let hub_id = format!("hub-{}", hex::encode(id));
    let ca_key = KeyPair::generate().map_err(cert("the CA key"))?;
    let mut ca = ca_params(&hub_id);
    let v = Validity::days(3650);
    (ca.not_before, ca.not_after) = (v.not_before, v.not_after);
    let ca_cert = ca.self_signed(&ca_key).map_err(cert("the CA certificate"))?;
    write_secret(&dir.join("ca-key.pem"), &ca_key.serialize_pem())?;
    write_public(&dir.join("ca.pem"), &ca_cert.pem())?;
    let issuer = Issuer::new(ca_params(&hub_id), ca_key);
    let (server_pem, server_key) = server_certificate(&issuer, hosts, Validity::days(825))?;
    write_public(&dir.join("server.pem"), &server_pem)?;
    write_secret(&dir.join("server-key.pem"), &server_key)?;
    let mut seed = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut seed);
    write_secret(&dir.join("receipt-key"), &hex::encode(seed))?;
    let bureau = BureauKeyPair::generate(&mut rand::rng());
    write_public(&dir.join("bureau.pub"), &hex::encode(bureau.public.to_bytes()))?;
    let bdir = bureau_dir(dir);
    crate::files::private_dir(&bdir).map_err(io(&bdir))?;
    write_secret(&bdir.join("bureau.key"), &hex::encode(bureau.secret.to_bytes().as_slice()))?;
    let config = HubConfig {
        hub_id,
        url: url.to_string(),
        listen: listen.to_string(),
        max_envelope: doorstep_sync::wire::MAX_ENVELOPE,
        supervisors: Vec::new(),
        officers: Vec::new(),
        officer_ids: Default::default(),
        limits: Limits::default(),
        demo: false,
        store: None,
        require_synchronous_standby: false,
        store_ca: None,
        metrics: None,
    };
    let path = dir.join("hub.toml");
    write_public(&path, &toml_text(&config, &path)?)?;
    write_public(&dir.join("devices.toml"), "")?;
    Ok(Hub { dir: dir.to_path_buf(), config })
}

/// Writes a file that holds nothing secret (a certificate, a public key, the settings), its
/// owner's only all the same.
fn write_public(path: &Path, contents: &str) -> Result<(), PkiError> {
    crate::files::write_private(path, contents.as_bytes(), false).map_err(io(path))
}

/// A server certificate for `hosts` (DNS names or IP addresses) signed by the CA.
pub fn server_certificate(
    issuer: &Issuer<'_, KeyPair>,
    hosts: &[String],
    v: Validity,
) -> Result<(String, String), PkiError> {
    let key = KeyPair::generate().map_err(cert("the server key"))?;
    let mut p = CertificateParams::new(hosts.to_vec()).map_err(cert("the hub's host names"))?;
    p.distinguished_name.push(DnType::CommonName, hosts.first().cloned().unwrap_or_default());
    (p.not_before, p.not_after) = (v.not_before, v.not_after);
    p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let signed = p.signed_by(&key, issuer).map_err(cert("the server certificate"))?;
    Ok((signed.pem(), key.serialize_pem()))
}

/// A tablet's client certificate, named `name`, signed by the CA.
pub fn client_certificate(
    issuer: &Issuer<'_, KeyPair>,
    name: &str,
    v: &Validity,
) -> Result<(String, String), PkiError> {
    let key = KeyPair::generate().map_err(cert("the tablet's key"))?;
    let mut p = CertificateParams::default();
    p.distinguished_name.push(DnType::CommonName, name);
    (p.not_before, p.not_after) = (v.not_before, v.not_after);
    p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let signed = p.signed_by(&key, issuer).map_err(cert("the tablet's certificate"))?;
    Ok((signed.pem(), key.serialize_pem()))
}

impl Hub {
    pub fn open(dir: &Path) -> Result<Hub, PkiError> {
        Ok(Hub { dir: dir.to_path_buf(), config: load_config(dir)? })
    }

    pub fn issuer(&self) -> Result<Issuer<'static, KeyPair>, PkiError> {
        let path = self.dir.join("ca-key.pem");
        let key = KeyPair::from_pem(&fs::read_to_string(&path).map_err(io(&path))?).map_err(cert("the CA key"))?;
        Ok(Issuer::new(ca_params(&self.config.hub_id), key))
    }

    pub fn receipt_key(&self) -> Result<SigningKey, PkiError> {
        let path = self.dir.join("receipt-key");
        let text = fs::read_to_string(&path).map_err(io(&path))?;
        let seed: [u8; 32] = hex::decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| PkiError::Key("the receipt key is not 32 bytes of hex".into()))?;
        Ok(signing_key_from_seed(&seed))
    }

    /// The supervisors whose manifests the hub takes.
    pub fn supervisors(&self) -> Result<Vec<doorstep_envelope::VerifyingKey>, PkiError> {
        keys(&self.config.supervisors, "supervisor")
    }

    /// Adds a supervisor's public key (hex) to those the hub trusts; bundles written from now
    /// on carry it.
    pub fn add_supervisor(&mut self, key_hex: &str) -> Result<(), PkiError> {
        let key = key_hex.trim().to_ascii_lowercase();
        trusted::keys_from(std::slice::from_ref(&key), "supervisor", "the key given")?;
        if !self.config.supervisors.contains(&key) {
            self.config.supervisors.push(key);
        }
        self.save_config()
    }

    /// Enrolls officer `officer_id`'s public key (hex): envelopes and feedback it signs naming
    /// that officer are taken from the next one on, without a restart. A key already enrolled
    /// for another officer is refused (revoke nothing by mistake: edit `hub.toml` by hand).
    pub fn add_officer(&mut self, key_hex: &str, officer_id: &str) -> Result<(), PkiError> {
        let key = key_hex.trim().to_ascii_lowercase();
        trusted::keys_from(std::slice::from_ref(&key), "officer", "the key given")?;
        let id = officer_id;
        if !doorstep_envelope::is_user_id(id) {
            return Err(PkiError::Key(format!(
                "{officer_id:?} is not an officer's id (as `doorstep vault add-user` names them: 1 to {} letters, digits, '-', '_', '.' or '@')",
                doorstep_envelope::MAX_USER_ID
            )));
        }
        // Whatever case a hand-edited hub.toml spells the key in; then kept once, in lower case.
        let same = |k: &String| k.trim().eq_ignore_ascii_case(&key);
        let enrolled = self.config.officer_ids.iter().find(|(k, _)| same(k));
        if let Some((_, other)) = enrolled.filter(|(_, other)| *other != id) {
            return Err(PkiError::Key(format!("officer key {key} is already enrolled for officer {other:?}")));
        }
        self.config.officers.retain(|k| !same(k));
        self.config.officers.push(key.clone());
        self.config.officer_ids.retain(|k, _| !same(k));
        self.config.officer_ids.insert(key, id.to_string());
        self.save_config()
    }

    /// Keeps the hub's data at `store` (`init --store`): a PostgreSQL address, or
    /// `"embedded"`; with `require_standby`, takes nothing unless the database names a
    /// synchronous standby. The caller has checked that it opens.
    pub fn use_store(&mut self, store: &str, require_standby: bool) -> Result<(), PkiError> {
        self.config.store = Some(store.to_string());
        self.config.require_synchronous_standby = require_standby;
        self.save_config()
    }

    /// Speaks TLS to the database, trusting the CA in `ca` (`init --store-ca`).
    pub fn use_store_ca(&mut self, ca: &Path) -> Result<(), PkiError> {
        self.config.store_ca = Some(ca.to_path_buf());
        self.save_config()
    }

    /// Makes this a demo hub (`init --demo`): it enrolls demo units and takes their envelopes.
    pub fn make_demo(&mut self) -> Result<(), PkiError> {
        self.config.demo = true;
        self.save_config()
    }

    /// A demo hub's bureau becomes the demo unit's (`init --demo --bureau-secret FILE`): the key
    /// pair a demo vault made beside itself, so that the demo unit, which seals to it, may be
    /// provisioned here and the back office opens what it sealed. Only a demo hub takes one.
    pub fn use_demo_bureau(&self, secret_hex: &str) -> Result<(), PkiError> {
        if !self.config.demo {
            return Err(PkiError::Key("only a demo hub takes a demo unit's bureau key".into()));
        }
        let secret = hex::decode(secret_hex.trim())
            .ok()
            .and_then(|b| doorstep_envelope::BureauSecretKey::from_bytes(&b).ok())
            .ok_or_else(|| PkiError::Key("the bureau's private key is not 32 bytes of hex".into()))?;
        write_replacing(&bureau_dir(&self.dir).join("bureau.key"), &hex::encode(secret.to_bytes().as_slice()))?;
        write_replacing(&self.dir.join("bureau.pub"), &hex::encode(secret.public_key().to_bytes()))
    }

    fn save_config(&self) -> Result<(), PkiError> {
        let path = self.dir.join("hub.toml");
        write_replacing(&path, &toml_text(&self.config, &path)?)
    }

    pub fn devices(&self) -> Result<Devices, PkiError> {
        load_devices(&self.dir)
    }

    fn save_devices(&self, d: &Devices) -> Result<(), PkiError> {
        let path = self.dir.join("devices.toml");
        write_replacing(&path, &toml_text(d, &path)?)
    }

    /// Enrolls a tablet with a certificate valid for `v`; writes and returns its bundle's path.
    pub fn enroll(&self, name: &str, v: Validity) -> Result<PathBuf, PkiError> {
        if !doorstep_envelope::DeviceId::is_valid(name) {
            return Err(PkiError::DeviceName(name.to_string()));
        }
        // Demo and real never mix, either way.
        match (doorstep_envelope::DeviceId::is_demo(name), self.config.demo) {
            (true, false) => return Err(PkiError::DemoDevice(name.to_string())),
            (false, true) => return Err(PkiError::RealDeviceAtDemoHub(name.to_string())),
            _ => {}
        }
        let mut devices = self.devices()?;
        if devices.devices.iter().any(|d| d.name == name) {
            return Err(PkiError::AlreadyEnrolled(name.to_string()));
        }
        let (cert_pem, key_pem) = client_certificate(&self.issuer()?, name, &v)?;
        let der = doorstep_sync::tls::certificates(&cert_pem, "client certificate")?;
        devices.devices.push(Device {
            name: name.to_string(),
            fingerprint: fingerprint(&der[0]),
            enrolled_at_unix: now(),
            not_after_unix: v.not_after.unix_timestamp(),
            revoked_at_unix: None,
        });
        let read = |file: &str| {
            let path = self.dir.join(file);
            fs::read_to_string(&path).map_err(io(&path))
        };
        let bundle = Bundle {
            device: name.to_string(),
            hub_url: self.config.url.clone(),
            hub_id: self.config.hub_id.clone(),
            ca_pem: read("ca.pem")?,
            cert_pem,
            key_pem,
            hub_receipt_key: hex::encode(self.receipt_key()?.verifying_key().to_bytes()),
            bureau_public_key: read("bureau.pub")?.trim().to_string(),
            supervisors: self.config.supervisors.clone(),
            crl_pem: self.crl_pem()?,
        };
        let path = self.dir.join("bundles").join(format!("{name}.toml"));
        write_secret(&path, &toml_text(&bundle, &path)?)?;
        self.save_devices(&devices)?;
        Ok(path)
    }

    pub fn revoke(&self, name: &str) -> Result<(), PkiError> {
        let mut devices = self.devices()?;
        let d =
            devices.devices.iter_mut().find(|d| d.name == name).ok_or_else(|| PkiError::NoDevice(name.to_string()))?;
        if d.revoked_at_unix.is_none() {
            d.revoked_at_unix = Some(now());
        }
        self.save_devices(&devices)
    }
}

/// Replaces a file whole: written beside it, fsynced, renamed over it.
fn write_replacing(path: &Path, contents: &str) -> Result<(), PkiError> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    crate::files::write_private(&tmp, contents.as_bytes(), false).map_err(io(&tmp))?;
    fs::rename(&tmp, path).map_err(io(path))
}

/// `HUB/hub.toml`, read now (the service reads it again whenever it changes).
pub fn load_config(dir: &Path) -> Result<HubConfig, PkiError> {
    let path = dir.join("hub.toml");
    let text = fs::read_to_string(&path).map_err(|_| PkiError::NoHub(dir.display().to_string()))?;
    toml::from_str(&text).map_err(|e| PkiError::Format { path: path.display().to_string(), message: e.to_string() })
}

pub fn load_devices(dir: &Path) -> Result<Devices, PkiError> {
    let path = dir.join("devices.toml");
    let text = fs::read_to_string(&path).map_err(io(&path))?;
    toml::from_str(&text).map_err(|e| PkiError::Format { path: path.display().to_string(), message: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hubs_refusals_are_typed_values() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("hub");
        assert!(matches!(Hub::open(&dir), Err(PkiError::NoHub(_))));
        let hub = init(&dir, &["localhost".into()], "127.0.0.1:0", "https://localhost:1").unwrap();
        assert!(matches!(init(&dir, &[], "", ""), Err(PkiError::HubExists(_))));
        hub.enroll("tablet-01", Validity::days(1)).unwrap();
        assert!(
            matches!(hub.enroll("tablet-01", Validity::days(1)), Err(PkiError::AlreadyEnrolled(n)) if n == "tablet-01")
        );
        assert!(matches!(hub.enroll("../x", Validity::days(1)), Err(PkiError::DeviceName(_))));
        assert!(matches!(hub.revoke("tablet-02"), Err(PkiError::NoDevice(n)) if n == "tablet-02"));
        let mut hub = Hub::open(&dir).unwrap();
        // A key typed wrong is blamed on what was typed, not on hub.toml.
        assert!(
            matches!(hub.add_supervisor("not hex"), Err(PkiError::Key(m)) if m.starts_with("the key given: supervisor key"))
        );
        assert!(
            matches!(hub.add_officer("zz", "officer-1"), Err(PkiError::Key(m)) if m.starts_with("the key given: officer key"))
        );
    }
}
