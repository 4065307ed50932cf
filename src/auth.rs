//! Officer authentication at the unlock screen.
//!
//! The unit unlocks with [`VaultAuth`]: the PIN unwraps the officer's key slot in the vault
//! (Argon2id), whose wrong-PIN counter destroys the slots after too many failures. On a demo
//! vault (device id `demo-…`), the demo PIN is shown on the unlock screen. The PIN rule is the
//! vault's own ([`doorstep_vault::pin`]), so the screen and the vault cannot disagree.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bevy::prelude::*;
use doorstep_vault::pin::check_pin;
use doorstep_vault::{PinError, Role, Vault, VaultConfig, VaultError};

/// Who unlocked the unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Officer {
    pub id: String,
    pub display_name: String,
    /// An officer lands on the home screen; a supervisor on the shift.
    pub role: Role,
}

/// A user the unlock screen offers: an officer or a supervisor of this unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("wrong PIN, {attempts_left} attempts left")]
    WrongPin { attempts_left: u32 },
    #[error("too many attempts; wait {0:?}")]
    LockedOut(Duration),
    #[error("{0}")]
    Pin(PinError),
    #[error("too many wrong PINs: the keys were destroyed")]
    Destroyed,
    /// Another process has the vault (its pid, when known).
    #[error("the vault is in use by another process")]
    Busy { pid: Option<u32> },
    /// A trust anchor (or the hub bundle) was changed without the PIN: refused.
    #[error("the {0} was changed without the PIN")]
    Tampered(doorstep_vault::Anchor),
    #[error("{0}")]
    Failed(String),
}

/// What a right PIN opens: the officer, and their vault (none for an in-memory officer).
pub struct Unlocked {
    pub officer: Officer,
    pub vault: Option<Vault>,
}

/// Checks a user's PIN. `elapsed` is the unit's running time, for lockouts. It is called on a
/// task (Argon2id takes half a second), hence `&self` and `Sync`.
pub trait OfficerAuth: Send + Sync + 'static {
    fn verify(&self, user: &str, pin: &str, elapsed: Duration) -> Result<Unlocked, AuthError>;
    /// The users the unlock screen offers, the unit's own officer first.
    fn users(&self) -> Vec<User>;
    /// A hint shown on the unlock screen for this user (a demo user's PIN), if any.
    fn demo_pin(&self, user: &str) -> Option<&str>;
    /// A demo unit (the screens say so).
    fn is_demo(&self) -> bool;
}

/// The authenticator in use, shared with the unlock task.
#[derive(Resource, Clone)]
pub struct Auth(pub Arc<dyn OfficerAuth>);

/// Unlocks a user's key slot in the vault.
pub struct VaultAuth {
    dir: PathBuf,
    config: VaultConfig,
    /// A demo vault's users and their PINs, shown on the unlock screen.
    demo_pins: Vec<(String, String)>,
    /// The users offered, read from the key slots once, when the unit starts (the unlock
    /// screen's frames never read a file).
    users: Vec<User>,
}

impl VaultAuth {
    pub fn new(dir: PathBuf, officer: String, config: VaultConfig, demo_pins: Vec<(String, String)>) -> VaultAuth {
        // The unit's own officer (the configuration's) is offered first.
        let users = offered(&dir, &officer);
        VaultAuth { dir, config, demo_pins, users }
    }
}

/// The vault's users, the unit's own officer first.
fn offered(dir: &std::path::Path, officer: &str) -> Vec<User> {
    let mut users: Vec<User> = match doorstep_vault::users(dir) {
        Ok(u) => u.into_iter().map(|(id, role)| User { id, role }).collect(),
        Err(e) => {
            warn!("the vault's users cannot be listed: {e}");
            Vec::new()
        }
    };
    // The unit's own officer first; a configured officer missing from the vault is still
    // offered, and its unlock says why it fails.
    match users.iter().position(|u| u.id == officer) {
        Some(i) => users[..=i].rotate_right(1),
        None => users.insert(0, User { id: officer.to_string(), role: Role::Officer }),
    }
    users
}

/// How long an unlock waits for this unit's own work (a sync, a release) to let the vault go.
const OWN_WORK_WAIT: Duration = Duration::from_secs(30);

impl OfficerAuth for VaultAuth {
    fn users(&self) -> Vec<User> {
        self.users.clone()
    }

    fn verify(&self, user: &str, pin: &str, _elapsed: Duration) -> Result<Unlocked, AuthError> {
        check_pin(pin).map_err(AuthError::Pin)?;
        let now = crate::settings::now().unix_timestamp();
        // The vault held by this unit itself (a sync or a release begun before the lock, still
        // finishing): waited for a while, as the person unlocking would, rather than refused.
        let deadline = std::time::Instant::now() + OWN_WORK_WAIT;
        let opened = loop {
            match Vault::unlock(&self.dir, user, pin, now, self.config.clone()) {
                Err(VaultError::Busy { pid: Some(pid) })
                    if pid == std::process::id() && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(200));
                }
                other => break other,
            }
        };
        match opened {
            Ok(vault) => {
                let r = vault.recovery();
                if r.quarantined.is_some()
                    || r.reindexed > 0
                    || r.dropped_values > 0
                    || r.interrupted_seals > 0
                    || !r.damaged_files.is_empty()
                    || !r.unreadable_files.is_empty()
                    || r.audit_cut.is_some()
                {
                    warn!("the vault recovered on unlock: {r:?}");
                }
                let (id, role) = vault.user();
                let officer = Officer { id: id.to_string(), display_name: id.to_string(), role };
                Ok(Unlocked { officer, vault: Some(vault) })
            }
            Err(e) => Err(auth_error(e)),
        }
    }

    fn demo_pin(&self, user: &str) -> Option<&str> {
        self.demo_pins.iter().find(|(u, _)| u == user).map(|(_, pin)| pin.as_str())
    }

    fn is_demo(&self) -> bool {
        !self.demo_pins.is_empty()
    }
}

/// What the unlock screen says of a vault that did not open: each refusal the officer can
/// act on by name, the rest as a failure (logged without personal data).
fn auth_error(e: VaultError) -> AuthError {
    match e {
        VaultError::WrongPin { attempts_left } => AuthError::WrongPin { attempts_left },
        VaultError::Destroyed => AuthError::Destroyed,
        VaultError::Busy { pid } => AuthError::Busy { pid },
        VaultError::AnchorChanged(anchor) => AuthError::Tampered(anchor),
        e => AuthError::Failed(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use doorstep_vault::Anchor;

    #[test]
    fn each_refusal_the_officer_can_act_on_is_its_own_error() {
        let cases = [
            (VaultError::WrongPin { attempts_left: 3 }, AuthError::WrongPin { attempts_left: 3 }),
            (VaultError::Destroyed, AuthError::Destroyed),
            (VaultError::Busy { pid: Some(42) }, AuthError::Busy { pid: Some(42) }),
            (VaultError::Busy { pid: None }, AuthError::Busy { pid: None }),
            (VaultError::AnchorChanged(Anchor::BureauKey), AuthError::Tampered(Anchor::BureauKey)),
            (VaultError::AnchorChanged(Anchor::SealedCopy), AuthError::Tampered(Anchor::SealedCopy)),
        ];
        for (vault, auth) in cases {
            assert_eq!(auth_error(vault), auth);
        }
        assert!(matches!(auth_error(VaultError::Index("x".into())), AuthError::Failed(m) if m.contains("index")));
    }

    /// The vault still held by this unit's own work when the next person unlocks (a sync run
    /// begun before the lock): the unlock waits for it, rather than refusing.
    #[test]
    fn an_unlock_waits_for_this_units_own_work_to_let_the_vault_go() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("vault");
        let now = crate::settings::now().unix_timestamp();
        crate::demo::create_vault(&dir, "officer-test", now).unwrap();
        let config = VaultConfig { reserve_bytes: 0 };
        let held = Vault::unlock(&dir, "officer-test", crate::demo::DEMO_PIN, now, config.clone()).unwrap();
        let work = std::thread::spawn(move || {
            // Longer than the vault's own wait for its lock (2 s).
            std::thread::sleep(Duration::from_secs(5));
            drop(held);
        });
        let auth = VaultAuth::new(dir, "officer-test".into(), config, Vec::new());
        let opened = auth.verify("officer-test", crate::demo::DEMO_PIN, Duration::ZERO).map(|u| u.officer.id);
        work.join().unwrap();
        assert_eq!(opened, Ok("officer-test".to_string()));
    }
}
