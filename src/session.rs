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
    /// Of the visits in progress, drafts kept aside as damaged (until a supervisor hands them
    /// over): (visits whose draft is lost, so they cannot be resumed; captured parts of other
    /// visits lost: a photo, a print, a signature, which the seal asks to take again). The
    /// officer is told on the home screen.
    pub drafts_set_aside: (usize, usize),
    /// Held while this session is open: a task given [`Session::token`] asks it whether to go
    /// on (a sync stops between two envelopes once the unit locks, so the keys it holds do not
    /// outlive the lock by a whole run).
    alive: Arc<()>,
}

impl Session {
    pub fn open(&mut self, officer: Officer, vault: Option<Vault>) {
        self.officer = Some(officer);
        self.drafts_set_aside = vault.as_ref().map_or((0, 0), |v| {
            let aside = v.set_aside().unwrap_or_default();
            drafts_set_aside(aside.iter().filter(|a| a.kind == doorstep_vault::SetAsideKind::Draft).map(|a| &a.name))
        });
        self.vault = vault.map(|v| Arc::new(Mutex::new(v)));
        self.alive = Arc::new(());
    }

    /// A token that says whether this session is still open (`strong_count() > 0`).
    pub fn token(&self) -> std::sync::Weak<()> {
        Arc::downgrade(&self.alive)
    }

    /// Forgets the officer and the vault (the unit locked). A task still holding the vault
    /// finishes its write, then the last handle closes it.
    pub fn end(&mut self) {
        self.officer = None;
        self.vault = None;
        self.drafts_set_aside = (0, 0);
        self.alive = Arc::new(());
    }
}

/// Of the drafts' files kept aside (`HEX(visit).HEX(part).draft.damaged`): (visits lost,
/// parts lost of visits not lost).
fn drafts_set_aside<'a>(names: impl Iterator<Item = &'a String>) -> (usize, usize) {
    let hex_part = hex::encode(crate::visit_flow::VISIT_PART);
    let mut lost = std::collections::BTreeSet::new();
    let mut parts = Vec::new();
    for name in names {
        let Some((visit, part)) = name.strip_suffix(".draft.damaged").and_then(|s| s.split_once('.')) else {
            continue;
        };
        if part == hex_part {
            lost.insert(visit.to_string());
        } else {
            parts.push(visit.to_string());
        }
    }
    let parts = parts.iter().filter(|v| !lost.contains(*v)).count();
    (lost.len(), parts)
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
        let aside = |visit: &str, part: &str| format!("{}.{}.draft.damaged", hex::encode(visit), hex::encode(part));
        for (names, want) in [
            (vec![], (0, 0)),
            (vec![aside("visit-1", "visit")], (1, 0)),
            (vec![aside("visit-1", "photo.jpg")], (0, 1)),
            // A part of a visit lost with it is not counted again.
            (vec![aside("visit-1", "visit"), aside("visit-1", "finger-3.raw"), aside("visit-2", "visit")], (2, 0)),
            (vec![aside("visit-1", "visit"), aside("visit-3", "signature.png")], (1, 1)),
            // Not a draft's name.
            (vec!["s-00.env.damaged".to_string()], (0, 0)),
        ] {
            assert_eq!(drafts_set_aside(names.iter()), want, "{names:?}");
        }
    }

    /// A task's token says the session it was given in is over once the unit locks, and stays
    /// over when the next session opens (it is that session's, not the next one's).
    #[test]
    fn a_token_outlives_its_session_only_as_over() {
        let mut session = Session::default();
        let officer = Officer {
            id: "officer-test".into(),
            display_name: "officer-test".into(),
            role: doorstep_vault::Role::Officer,
        };
        session.open(officer.clone(), None);
        let token = session.token();
        assert_eq!(token.strong_count(), 1);
        session.end();
        assert_eq!(token.strong_count(), 0);
        session.open(officer, None);
        assert_eq!(token.strong_count(), 0);
        assert_eq!(session.token().strong_count(), 1);
    }
}
