//! Officer authentication at the unlock screen.
//!
//! The real check belongs to the vault (PIN → Argon2id → unwrap the officer's key slot,
//! with its wrong-PIN counter). Until the vault lands, the demo unit has one demo officer
//! whose PIN is shown on the unlock screen; nothing is stored, so there is nothing to guard.

use std::time::Duration;

use bevy::prelude::*;

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
}

/// Checks a PIN. `elapsed` is the unit's running time, for lockouts.
pub trait OfficerAuth: Send + Sync + 'static {
    fn verify(&mut self, pin: &str, elapsed: Duration) -> Result<Officer, AuthError>;
    /// A hint shown on the unlock screen (the demo PIN), if any.
    fn demo_pin(&self) -> Option<&str>;
}

/// The authenticator in use.
#[derive(Resource)]
pub struct Auth(pub Box<dyn OfficerAuth>);

pub const PIN_LEN: usize = 6;

/// The demo officer: PIN 123456, five tries, then a 30-second wait.
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
