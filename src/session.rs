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
    /// Found damaged at this unlock and kept aside, of the visits in progress: (visits whose
    /// draft is lost, so they cannot be resumed; captured parts lost: a photo, a print, a
    /// signature, which the seal asks to take again). The officer is told on the home screen.
    pub drafts_set_aside: (usize, usize),
}

impl Session {
    pub fn open(&mut self, officer: Officer, vault: Option<Vault>) {
        self.officer = Some(officer);
        self.drafts_set_aside = vault.as_ref().map_or((0, 0), |v| drafts_set_aside(&v.recovery().damaged_files));
        self.vault = vault.map(|v| Arc::new(Mutex::new(v)));
    }

    /// Forgets the officer and the vault (the unit locked). A task still holding the vault
    /// finishes its write, then the last handle closes it.
    pub fn end(&mut self) {
        self.officer = None;
        self.vault = None;
        self.drafts_set_aside = (0, 0);
    }
}

/// Of the files kept aside, the drafts': (visits lost, captured parts lost). A draft's file is
/// `HEX(visit).HEX(part).draft`, kept aside with `.damaged` after it.
fn drafts_set_aside(files: &[std::path::PathBuf]) -> (usize, usize) {
    let hex_part = hex::encode(crate::visit_flow::VISIT_PART);
    let mut out = (0, 0);
    for f in files {
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let Some(stem) = name.strip_suffix(".draft.damaged") else { continue };
        if stem.rsplit('.').next() == Some(hex_part.as_str()) {
            out.0 += 1;
        } else {
            out.1 += 1;
        }
    }
    out
}

/// Locks a shared vault, taking it back from a task that panicked while holding it: every
/// vault write is all-or-nothing on disk, so what the panic left is consistent.
pub fn lock(vault: &SharedVault) -> MutexGuard<'_, Vault> {
    vault.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_kept_aside_is_a_visit_or_a_part_of_one() {
        let aside = |visit: &str, part: &str| {
            std::path::PathBuf::from(format!("/v/drafts/{}.{}.draft.damaged", hex::encode(visit), hex::encode(part)))
        };
        for (files, want) in [
            (vec![], (0, 0)),
            (vec![aside("visit-1", "visit")], (1, 0)),
            (vec![aside("visit-1", "photo.jpg")], (0, 1)),
            (vec![aside("visit-1", "visit"), aside("visit-1", "finger-3.raw"), aside("visit-2", "visit")], (2, 1)),
            // Other files kept aside are not drafts.
            (vec![std::path::PathBuf::from("/v/envelopes/s-00.env.damaged")], (0, 0)),
            (vec![std::path::PathBuf::from("/v/feedback/00.sealed.damaged")], (0, 0)),
        ] {
            assert_eq!(drafts_set_aside(&files), want, "{files:?}");
        }
    }
}
