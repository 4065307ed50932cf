//! Officer authentication at the unlock screen.
//!
//! The unit unlocks with [`VaultAuth`]: the PIN unwraps the officer's key slot in the vault
//! (Argon2id), whose wrong-PIN counter destroys the slots after too many failures. On a demo
//! vault (device id `demo-…`), the demo PIN is shown on the unlock screen. [`DemoAuth`] keeps
//! nothing on disk and serves the headless tests of the shell.

use std::path::PathBuf;
use std::time::Duration;

use bevy::prelude::*;
use doorstep_vault::{Vault, VaultConfig, VaultError};

/// Who unlocked the unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Officer {
    pub id: String,
    pub display_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("wrong PIN, {attempts_left} attempts left")]
    WrongPin { attempts_left: u32 },
    #[error("too many attempts; wait {0:?}")]
    LockedOut(Duration),
    #[error("the PIN has 6 digits")]
    TooShort,
    #[error("too many wrong PINs: the keys were destroyed")]
    Destroyed,
    #[error("{0}")]
    Failed(String),
}

/// Checks a PIN. `elapsed` is the unit's running time, for lockouts.
pub trait OfficerAuth: Send + Sync + 'static {
    fn verify(&mut self, pin: &str, elapsed: Duration) -> Result<Officer, AuthError>;
    /// A hint shown on the unlock screen (the demo PIN), if any.
    fn demo_pin(&self) -> Option<&str>;
    /// Forgets the unlocked keys (the unit locked).
    fn lock(&mut self) {}
}

/// The authenticator in use.
#[derive(Resource)]
pub struct Auth(pub Box<dyn OfficerAuth>);

pub const PIN_LEN: usize = 6;

/// Unlocks the officer's key slot in the vault.
pub struct VaultAuth {
    dir: PathBuf,
    officer: String,
    config: VaultConfig,
    demo_pin: Option<String>,
    vault: Option<Vault>,
}

impl VaultAuth {
    pub fn new(dir: PathBuf, officer: String, config: VaultConfig, demo_pin: Option<String>) -> VaultAuth {
        VaultAuth { dir, officer, config, demo_pin, vault: None }
    }

    /// The unlocked vault, while a session is open.
    pub fn vault(&self) -> Option<&Vault> {
        self.vault.as_ref()
    }
}

impl OfficerAuth for VaultAuth {
    fn verify(&mut self, pin: &str, _elapsed: Duration) -> Result<Officer, AuthError> {
        if pin.len() != PIN_LEN {
            return Err(AuthError::TooShort);
        }
        let now = crate::settings::now().unix_timestamp();
        match Vault::unlock(&self.dir, &self.officer, pin, now, self.config.clone()) {
            Ok(vault) => {
                let r = vault.recovery();
                if r.quarantined.is_some()
                    || r.reindexed > 0
                    || r.dropped_values > 0
                    || r.interrupted_seals > 0
                    || !r.damaged_files.is_empty()
                {
                    warn!("the vault recovered on unlock: {r:?}");
                }
                self.vault = Some(vault);
                Ok(Officer { id: self.officer.clone(), display_name: self.officer.clone() })
            }
            Err(VaultError::WrongPin { attempts_left }) => Err(AuthError::WrongPin { attempts_left }),
            Err(VaultError::Destroyed) => Err(AuthError::Destroyed),
            Err(e) => Err(AuthError::Failed(e.to_string())),
        }
    }

    fn demo_pin(&self) -> Option<&str> {
        self.demo_pin.as_deref()
    }

    fn lock(&mut self) {
        self.vault = None;
    }
}

/// An in-memory officer for the shell's headless tests: PIN 123456, five tries, then a
/// 30-second wait. Nothing is stored.
#[derive(Debug, Clone)]
pub struct DemoAuth {
    failures: u32,
    locked_until: Option<Duration>,
}

impl DemoAuth {
    pub const PIN: &'static str = "123456";
    pub const MAX_FAILURES: u32 = 5;
    pub const LOCKOUT: Duration = Duration::from_secs(30);

    pub fn new() -> DemoAuth {
        DemoAuth { failures: 0, locked_until: None }
    }
}

impl Default for DemoAuth {
    fn default() -> Self {
        DemoAuth::new()
    }
}

impl OfficerAuth for DemoAuth {
    fn verify(&mut self, pin: &str, elapsed: Duration) -> Result<Officer, AuthError> {
        if let Some(until) = self.locked_until {
            if elapsed < until {
                return Err(AuthError::LockedOut(until - elapsed));
            }
            self.locked_until = None;
            self.failures = 0;
        }
        if pin.len() != PIN_LEN {
            return Err(AuthError::TooShort);
        }
        if pin != Self::PIN {
            self.failures += 1;
            if self.failures >= Self::MAX_FAILURES {
                self.locked_until = Some(elapsed + Self::LOCKOUT);
                return Err(AuthError::LockedOut(Self::LOCKOUT));
            }
            return Err(AuthError::WrongPin { attempts_left: Self::MAX_FAILURES - self.failures });
        }
        self.failures = 0;
        Ok(Officer { id: "demo-officer".into(), display_name: "测试警员".into() })
    }

    fn demo_pin(&self) -> Option<&str> {
        Some(Self::PIN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_pins_count_down_then_lock_out() {
        let mut a = DemoAuth::new();
        let t = Duration::from_secs(1);
        assert_eq!(a.verify("12345", t), Err(AuthError::TooShort));
        for left in (1..DemoAuth::MAX_FAILURES).rev() {
            assert_eq!(a.verify("000000", t), Err(AuthError::WrongPin { attempts_left: left }));
        }
        assert_eq!(a.verify("000000", t), Err(AuthError::LockedOut(DemoAuth::LOCKOUT)));
        assert!(matches!(a.verify(DemoAuth::PIN, t + Duration::from_secs(10)), Err(AuthError::LockedOut(_))));
        assert!(a.verify(DemoAuth::PIN, t + DemoAuth::LOCKOUT).is_ok());
    }
}
