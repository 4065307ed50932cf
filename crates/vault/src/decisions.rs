//! A supervisor's decisions on the shift not yet released: kept under the data key (a record
//! per supervisor, read only by that supervisor's session: the key is the unit's, shared by its
//! users, so this is the vault's rule, not a separate encryption), so that a lock (the idle lock during a phone call) or a restart in the middle
//! of a review loses none of them. The vault keeps bytes; what a decision is belongs to the app.

use zeroize::Zeroizing;

use crate::{Role, Vault, VaultError};

/// A supervisor's id and the decisions they kept (the app's bytes).
pub type KeptDecisions = (String, Zeroizing<Vec<u8>>);

/// The tree's name, bound into each value's associated data.
pub(crate) const TREE: &str = "decisions";

impl Vault {
    /// Keeps the decisions taken so far by the supervisor who unlocked the vault, in place of
    /// any kept before. Returns once durable.
    pub fn save_shift_decisions(&self, bytes: &[u8]) -> Result<(), VaultError> {
        self.supervisor_only()?;
        self.put(&self.decisions, TREE, self.user.as_bytes(), bytes)?;
        self.flush()
    }

    /// The decisions this supervisor kept, if any.
    pub fn shift_decisions(&self) -> Result<Option<Zeroizing<Vec<u8>>>, VaultError> {
        self.supervisor_only()?;
        self.get(&self.decisions, TREE, self.user.as_bytes())
    }

    /// Every supervisor's kept decisions, by supervisor (a release must not go over another
    /// supervisor's returns). Supervisors only.
    pub fn all_shift_decisions(&self) -> Result<Vec<KeptDecisions>, VaultError> {
        self.supervisor_only()?;
        let mut out = Vec::new();
        for item in self.decisions.iter() {
            let (k, _) = item?;
            if let Some(v) = self.get(&self.decisions, TREE, &k)? {
                out.push((String::from_utf8_lossy(&k).into_owned(), v));
            }
        }
        Ok(out)
    }

    /// Forgets this supervisor's kept decisions (the batch that carried them is released).
    pub fn clear_shift_decisions(&self) -> Result<(), VaultError> {
        self.supervisor_only()?;
        self.decisions.remove(self.user.as_bytes())?;
        self.flush()
    }

    /// Forgets every supervisor's kept decisions (a batch was released).
    pub(crate) fn forget_shift_decisions(&self) -> Result<(), VaultError> {
        self.decisions.clear()?;
        Ok(())
    }

    /// Forgets the kept decisions of a user removed from the unit.
    pub(crate) fn forget_decisions_of(&self, user: &str) -> Result<(), VaultError> {
        self.decisions.remove(user.as_bytes())?;
        Ok(())
    }

    fn supervisor_only(&self) -> Result<(), VaultError> {
        match self.role {
            Role::Supervisor => Ok(()),
            Role::Officer => Err(VaultError::NotAllowed("only a supervisor decides on the shift".into())),
        }
    }
}
