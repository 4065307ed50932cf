//! Users: enrolling another user with their own PIN, removing one, changing a PIN.

use crate::keyslots::{KeySlots, Role};
use crate::{KdfParams, Vault, VaultError, crypto, pin};

impl Vault {
    /// Enrols another user with their own PIN. Only a supervisor may do this.
    pub fn add_user(&mut self, user: &str, role: Role, pin: &str, kdf: KdfParams, now: i64) -> Result<(), VaultError> {
        pin::check_pin(pin)?;
        crate::open::check_user_id(user)?;
        if self.role != Role::Supervisor && !self.is_only_user()? {
            return Err(VaultError::NotAllowed("only a supervisor enrols users".into()));
        }
        let (mut slots, anchors) = self.slots_for_change()?;
        if slots.slots.iter().any(|s| s.user == user) {
            return Err(VaultError::NotAllowed(format!("{user} is already enrolled")));
        }
        let (slot, _) = KeySlots::make_slot(user, role, pin.as_bytes(), kdf, &self.data_key, crate::open::key_store())?;
        slots.slots.push(slot);
        self.store_users(slots, anchors)?;
        self.record(now, "user-added", user)
    }

    fn is_only_user(&self) -> Result<bool, VaultError> {
        Ok(KeySlots::load(&self.dir)?.slots.len() == 1)
    }

    /// Removes a user's slot. The last slot cannot be removed (the data would be lost).
    pub fn remove_user(&mut self, user: &str, now: i64) -> Result<(), VaultError> {
        if self.role != Role::Supervisor {
            return Err(VaultError::NotAllowed("only a supervisor removes users".into()));
        }
        let (mut slots, anchors) = self.slots_for_change()?;
        if !slots.slots.iter().any(|s| s.user == user) {
            return Err(VaultError::UnknownUser(user.into()));
        }
        if slots.slots.len() == 1 {
            return Err(VaultError::NotAllowed("the last user cannot be removed".into()));
        }
        slots.slots.retain(|s| s.user != user);
        self.store_users(slots, anchors)?;
        self.forget_decisions_of(user)?;
        // What the officer was typing in the feedback box is offered to no one else.
        self.drop_feedback_in_hand_of(user)?;
        self.record(now, "user-removed", user)
    }

    /// Changes the unlocked user's PIN (same signing key, new wrapping).
    pub fn change_pin(&mut self, new_pin: &str, kdf: KdfParams, now: i64) -> Result<(), VaultError> {
        pin::check_pin(new_pin)?;
        let store = crate::open::key_store();
        let (mut slots, anchors) = self.slots_for_change()?;
        let (mut slot, _) = KeySlots::make_slot(&self.user, self.role, new_pin.as_bytes(), kdf, &self.data_key, store)?;
        // Keep the user's signing key: re-wrap the existing seed under the new PIN.
        let salt = hex::decode(&slot.salt).map_err(|_| VaultError::Corrupt("salt".into()))?;
        let kek = kdf.derive(new_pin.as_bytes(), &salt).map_err(|e| VaultError::Kdf(e.to_string()))?;
        let kek = store.harden(&self.user, kek)?;
        slot.wrapped_signing_seed = hex::encode(crypto::seal(
            &kek,
            format!("doorstep-slot-v1\0{}\0signing-seed", self.user).as_bytes(),
            self.user_key.to_bytes().as_ref(),
        ));
        slot.public_key = hex::encode(self.user_key.verifying_key().to_bytes());
        for s in slots.slots.iter_mut().filter(|s| s.user == self.user) {
            *s = slot.clone();
        }
        self.store_users(slots, anchors)?;
        let user = self.user.clone();
        self.record(now, "pin-changed", &user)
    }
}
