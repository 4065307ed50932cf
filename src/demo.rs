//! Demo mode's vault, made in one place: a demo bureau key pair whose private half is written
//! beside the vault (never inside it, and a real unit never holds one), and, for the unit's
//! first start on a machine with no configuration, a vault for the demo officer.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use doorstep_envelope::{BureauKeyPair, BureauPublicKey};
use doorstep_vault::{InitOptions, KdfParams, Role, Vault};

/// The demo officer's PIN, on a vault the app created for a demo.
pub const DEMO_PIN: &str = "123456";
/// The demo supervisor, who releases the demo unit's shift, and their PIN.
pub const DEMO_SUPERVISOR: &str = "demo-supervisor";
pub const DEMO_SUPERVISOR_PIN: &str = "246802";
/// The demo unit's device id; a device id starting `demo-` marks a demo vault
/// ([`doorstep_envelope::DEMO_DEVICE_PREFIX`]).
pub const DEMO_DEVICE: &str = "demo-tablet";

/// Where the demo bureau's private key is kept: beside the vault folder.
pub fn secret_path(vault: &Path) -> PathBuf {
    let name = vault.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "vault".into());
    vault.with_file_name(format!("{name}.demo-bureau-secret.hex"))
}

/// Makes a demo bureau key pair, writes its private key beside `vault` (owner-only), and
/// returns the public key to seal to.
pub fn make_bureau(vault: &Path) -> anyhow::Result<BureauPublicKey> {
    let pair = BureauKeyPair::generate(&mut rand::rng());
    let path = secret_path(vault);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(hex::encode(pair.secret.to_bytes().as_ref()).as_bytes())?;
    f.sync_all()?;
    Ok(pair.public)
}

/// Creates a demo vault in `dir` for `officer` with the demo PIN and a demo bureau, and the
/// demo supervisor.
pub fn create_vault(dir: &Path, officer: &str, now_unix: i64) -> anyhow::Result<()> {
    // Checked before the demo bureau's key (beside the vault) is made anew.
    Vault::check_new(dir)?;
    let bureau = make_bureau(dir)?;
    let (kdf, _) = KdfParams::calibrate(Duration::from_millis(500)).context("calibrating Argon2id")?;
    Vault::init(
        dir,
        &InitOptions {
            device_id: DEMO_DEVICE,
            bureau: &bureau,
            user: officer,
            role: Role::Officer,
            pin: DEMO_PIN,
            kdf,
            max_failures: 10,
            now_unix,
        },
    )?;
    add_supervisor(dir, officer, now_unix)
}

/// Gives the demo vault just made (with the demo PIN, by [`create_vault`]) the demo supervisor,
/// so the shift can be released on the demo unit. Only for a vault made here: a PIN is never
/// guessed, since every wrong one counts towards destroying the keys. (A demo vault made by
/// `doorstep vault init` gets one with `doorstep vault add-user`, as `scripts/demo-hub` does.)
fn add_supervisor(dir: &Path, officer: &str, now_unix: i64) -> anyhow::Result<()> {
    let mut vault = Vault::unlock(dir, officer, DEMO_PIN, now_unix, doorstep_vault::VaultConfig { reserve_bytes: 0 })
        .context("opening the demo vault just made to add the demo supervisor")?;
    let (kdf, _) = KdfParams::calibrate(Duration::from_millis(500)).context("calibrating Argon2id")?;
    vault.add_user(DEMO_SUPERVISOR, Role::Supervisor, DEMO_SUPERVISOR_PIN, kdf, now_unix)?;
    Ok(())
}

/// The demo users' PINs, for the unlock screen's hints.
pub fn pins(officer: &str) -> Vec<(String, String)> {
    vec![(officer.to_string(), DEMO_PIN.to_string()), (DEMO_SUPERVISOR.to_string(), DEMO_SUPERVISOR_PIN.to_string())]
}

/// Whether the vault in `dir` is a demo one.
pub fn is_demo(dir: &Path) -> anyhow::Result<bool> {
    Ok(is_demo_device(&doorstep_vault::device_id(dir)?))
}

/// Whether a device id is a demo unit's.
pub fn is_demo_device(device_id: &str) -> bool {
    doorstep_envelope::DeviceId::is_demo(device_id)
}
