//! The unlocked session: who unlocked the unit and the vault their PIN opened. Every screen
//! reaches the vault through this one resource; locking drops both, and with them the keys.

use std::sync::{Arc, Mutex, MutexGuard};

use bevy::prelude::*;
use doorstep_vault::Vault;

use crate::auth::Officer;

/// The open vault, shared with the tasks that seal, save drafts and sync.
pub type SharedVault = Arc<Mutex<Vault>>;

#[derive(Resource, Default)]
pub struct Session {
    pub officer: Option<Officer>,
    /// None in the headless tests' in-memory sessions, which keep nothing.
    pub vault: Option<SharedVault>,
}

impl Session {
    pub fn open(&mut self, officer: Officer, vault: Option<Vault>) {
        self.officer = Some(officer);
        self.vault = vault.map(|v| Arc::new(Mutex::new(v)));
    }

    /// Forgets the officer and the vault (the unit locked). A task still holding the vault
    /// finishes its write, then the last handle closes it.
    pub fn end(&mut self) {
        self.officer = None;
        self.vault = None;
    }
}

/// Locks a shared vault, taking it back from a task that panicked while holding it: every
/// vault write is all-or-nothing on disk, so what the panic left is consistent.
pub fn lock(vault: &SharedVault) -> MutexGuard<'_, Vault> {
    vault.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
