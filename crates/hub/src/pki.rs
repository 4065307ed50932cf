//! The hub's folder, its private CA, and the tablets enrolled with it.
//!
//! ```text
//! HUB/hub.toml                 hub id, URL, listen address, size limit
//! HUB/ca.pem, HUB/ca-key.pem   the private CA: signs the hub's certificate and each tablet's
//! HUB/server.pem, server-key.pem
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

use anyhow::{Context, bail};
use doorstep_envelope::{BureauKeyPair, SigningKey, signing_key_from_seed};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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

fn write_secret(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("{} (already there?)", path.display()))?;
    std::io::Write::write_all(&mut f, contents.as_bytes())?;
    f.sync_all()?;
    Ok(())
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
pub fn init(dir: &Path, hosts: &[String], listen: &str, url: &str) -> anyhow::Result<Hub> {
    if dir.join("hub.toml").exists() {
        bail!("{} already holds a hub", dir.display());
    }
    fs::create_dir_all(dir.join("bundles"))?;
    {
        // The folder holds the CA's key, tablets' bundles and the admin socket: its owner only.
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    let mut id = [0u8; 4];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut id);
    let hub_id = format!("hub-{}", hex::encode(id));
    let ca_key = KeyPair::generate()?;
    let mut ca = ca_params(&hub_id);
    let v = Validity::days(3650);
    (ca.not_before, ca.not_after) = (v.not_before, v.not_after);
    let ca_cert = ca.self_signed(&ca_key)?;
    write_secret(&dir.join("ca-key.pem"), &ca_key.serialize_pem())?;
    fs::write(dir.join("ca.pem"), ca_cert.pem())?;
    let issuer = Issuer::new(ca_params(&hub_id), ca_key);
    let (server_pem, server_key) = server_certificate(&issuer, hosts, Validity::days(825))?;
    fs::write(dir.join("server.pem"), server_pem)?;
    write_secret(&dir.join("server-key.pem"), &server_key)?;
    let mut seed = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut seed);
    write_secret(&dir.join("receipt-key"), &hex::encode(seed))?;
    let bureau = BureauKeyPair::generate(&mut rand::rng());
    fs::write(dir.join("bureau.pub"), hex::encode(bureau.public.to_bytes()))?;
    let bdir = bureau_dir(dir);
    fs::create_dir_all(&bdir)?;
    write_secret(&bdir.join("bureau.key"), &hex::encode(bureau.secret.to_bytes().as_slice()))?;
    let config = HubConfig {
        hub_id,
        url: url.to_string(),
        listen: listen.to_string(),
        max_envelope: doorstep_sync::wire::MAX_ENVELOPE,
        supervisors: Vec::new(),
    };
    fs::write(dir.join("hub.toml"), toml::to_string_pretty(&config)?)?;
    fs::write(dir.join("devices.toml"), "")?;
    Ok(Hub { dir: dir.to_path_buf(), config })
}

/// A server certificate for `hosts` (DNS names or IP addresses) signed by the CA.
pub fn server_certificate(
    issuer: &Issuer<'_, KeyPair>,
    hosts: &[String],
    v: Validity,
) -> anyhow::Result<(String, String)> {
    let key = KeyPair::generate()?;
    let mut p = CertificateParams::new(hosts.to_vec())?;
    p.distinguished_name.push(DnType::CommonName, hosts.first().cloned().unwrap_or_default());
    (p.not_before, p.not_after) = (v.not_before, v.not_after);
    p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let cert = p.signed_by(&key, issuer)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// A tablet's client certificate, named `name`, signed by the CA.
pub fn client_certificate(issuer: &Issuer<'_, KeyPair>, name: &str, v: &Validity) -> anyhow::Result<(String, String)> {
    let key = KeyPair::generate()?;
    let mut p = CertificateParams::default();
    p.distinguished_name.push(DnType::CommonName, name);
    (p.not_before, p.not_after) = (v.not_before, v.not_after);
    p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let cert = p.signed_by(&key, issuer)?;
    Ok((cert.pem(), key.serialize_pem()))
}

impl Hub {
    pub fn open(dir: &Path) -> anyhow::Result<Hub> {
        let text = fs::read_to_string(dir.join("hub.toml"))
            .with_context(|| format!("{}: no hub here (run `doorstep-hub init {}`)", dir.display(), dir.display()))?;
        let config = toml::from_str(&text).with_context(|| format!("{}/hub.toml", dir.display()))?;
        Ok(Hub { dir: dir.to_path_buf(), config })
    }

    pub fn issuer(&self) -> anyhow::Result<Issuer<'static, KeyPair>> {
        let key = KeyPair::from_pem(&fs::read_to_string(self.dir.join("ca-key.pem")).context("the CA key")?)?;
        Ok(Issuer::new(ca_params(&self.config.hub_id), key))
    }

    pub fn receipt_key(&self) -> anyhow::Result<SigningKey> {
        let text = fs::read_to_string(self.dir.join("receipt-key")).context("the receipt key")?;
        let seed: [u8; 32] = hex::decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .context("the receipt key is not 32 bytes of hex")?;
        Ok(signing_key_from_seed(&seed))
    }

    /// The supervisors whose manifests the hub takes.
    pub fn supervisors(&self) -> anyhow::Result<Vec<doorstep_envelope::VerifyingKey>> {
        self.config
            .supervisors
            .iter()
            .map(|h| {
                let bytes: [u8; 32] = hex::decode(h.trim())
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .with_context(|| format!("hub.toml: supervisor key {h:?} is not 32 bytes of hex"))?;
                doorstep_envelope::VerifyingKey::from_bytes(&bytes)
                    .map_err(|_| anyhow::anyhow!("hub.toml: supervisor key {h:?} is not an Ed25519 key"))
            })
            .collect()
    }

    /// Adds a supervisor's public key (hex) to those the hub trusts; bundles written from now
    /// on carry it.
    pub fn add_supervisor(&mut self, key_hex: &str) -> anyhow::Result<()> {
        let key = key_hex.trim().to_ascii_lowercase();
        self.config.supervisors.push(key);
        self.supervisors()?;
        self.config.supervisors.dedup();
        fs::write(self.dir.join("hub.toml"), toml::to_string_pretty(&self.config)?)?;
        Ok(())
    }

    pub fn devices(&self) -> anyhow::Result<Devices> {
        load_devices(&self.dir)
    }

    fn save_devices(&self, d: &Devices) -> anyhow::Result<()> {
        let tmp = self.dir.join(".devices.toml.tmp");
        fs::write(&tmp, toml::to_string_pretty(d)?)?;
        fs::File::open(&tmp)?.sync_all()?;
        fs::rename(&tmp, self.dir.join("devices.toml"))?;
        Ok(())
    }

    /// Enrolls a tablet with a certificate valid for `v`; writes and returns its bundle's path.
    pub fn enroll(&self, name: &str, v: Validity) -> anyhow::Result<PathBuf> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            bail!("a device name is letters, digits, '-' and '_' only: {name:?}");
        }
        let mut devices = self.devices()?;
        if devices.devices.iter().any(|d| d.name == name) {
            bail!("{name} is already enrolled (revoke it and enroll under a new name)");
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
        let bundle = Bundle {
            device: name.to_string(),
            hub_url: self.config.url.clone(),
            hub_id: self.config.hub_id.clone(),
            ca_pem: fs::read_to_string(self.dir.join("ca.pem"))?,
            cert_pem,
            key_pem,
            hub_receipt_key: hex::encode(self.receipt_key()?.verifying_key().to_bytes()),
            bureau_public_key: fs::read_to_string(self.dir.join("bureau.pub"))?.trim().to_string(),
            supervisors: self.config.supervisors.clone(),
        };
        let path = self.dir.join("bundles").join(format!("{name}.toml"));
        write_secret(&path, &toml::to_string_pretty(&bundle)?)?;
        self.save_devices(&devices)?;
        Ok(path)
    }

    pub fn revoke(&self, name: &str) -> anyhow::Result<()> {
        let mut devices = self.devices()?;
        let d = devices.devices.iter_mut().find(|d| d.name == name).with_context(|| format!("no device {name}"))?;
        if d.revoked_at_unix.is_none() {
            d.revoked_at_unix = Some(now());
        }
        self.save_devices(&devices)
    }
}

pub fn load_devices(dir: &Path) -> anyhow::Result<Devices> {
    let text = fs::read_to_string(dir.join("devices.toml")).context("devices.toml")?;
    toml::from_str(&text).context("devices.toml")
}
