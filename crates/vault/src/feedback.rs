//! Feedback (praise, an opinion, a complaint, "could not get it done") the unit sealed to the
//! bureau, and what it heard back: each in a file of its own in `feedback/`, sealed under the
//! data key, so that a copy of the folder without a PIN shows no text, contact, category or
//! answer, and no index is needed to find them again.
//!
//! ```text
//! feedback/HEX.sealed    HEX the feedback id's bytes: what the unit knows of it (box, category,
//!                        state, the answer) and, until the hub has answered the upload, the
//!                        sealed feedback (`doorstep_envelope::SealedFeedback`)
//!
//! feedback/in-hand-HEX.draft  what officer HEX (the user id's bytes) is typing in the
//!                        feedback box (the unit's own bytes), until sealed or cleared
//! ```
//!
//! The sealed feedback is kept until the hub has answered its upload (`Vault::feedback_received`):
//! one sealed offline goes at the next sync, and sending it again is harmless (the hub answers
//! the same bytes the same). The tablet cannot read what it sealed: the text and contact are
//! sealed to the bureau's key, and the vault keeps no other copy. What a valid feedback is, and
//! how its state may move, is doorstep-core's.

use std::fs;
use std::path::PathBuf;

use doorstep_core::feedback::{Escalation, Feedback, FeedbackInput};
use doorstep_core::policy::{FeedbackKind, FeedbackPolicy};
use doorstep_envelope::{ApplicationId, FeedbackContext};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::keyslots::Role;
use crate::{FEEDBACK, Vault, VaultError, crypto, fsutil};

const SEALED: &str = ".sealed";

/// What the unlocked officer is typing in the feedback box (not a `.sealed` file: never
/// listed or sent): each officer's own, never offered to another.
fn in_hand_name(user: &str) -> String {
    format!("in-hand-{}.draft", hex::encode(user))
}

/// What the unit keeps of a feedback it sealed, for its screens: never the text or contact.
/// `Debug` hides the answer (as core's `Escalation` does).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackEntry {
    pub id: String,
    pub kind: FeedbackKind,
    pub category: String,
    /// The visit it is about, if any.
    pub visit: Option<String>,
    pub created_at_unix: i64,
    /// The hub has it (it answered the upload): the sealed copy here is gone.
    pub received: bool,
    /// As the unit last heard it: `Open` until the back office moves it; the answer or the
    /// closing note is in it.
    pub state: Escalation,
    pub updated_at_unix: i64,
}

#[derive(Serialize, Deserialize)]
struct Kept {
    entry: FeedbackEntry,
    /// The sealed feedback, hex, until the hub has it.
    sealed: Option<String>,
}

fn file_name(id: &str) -> String {
    format!("{}{SEALED}", hex::encode(id))
}

impl Vault {
    /// A new feedback id (a UUIDv7, as an application's) for `Feedback::new` or
    /// `Feedback::from_poor_rating`.
    pub fn new_feedback_id(now: OffsetDateTime) -> String {
        let mut random = [0u8; 10];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut random);
        let ms = (now.unix_timestamp_nanos() / 1_000_000).max(0) as u64;
        ApplicationId::new_v7(ms, random).to_string()
    }

    fn feedback_dir(&self) -> Result<PathBuf, VaultError> {
        let dir = self.dir.join(FEEDBACK);
        fsutil::create_dir(&dir)?;
        Ok(dir)
    }

    fn write_kept(&self, kept: &Kept) -> Result<(), VaultError> {
        let name = file_name(&kept.entry.id);
        let json = Zeroizing::new(serde_json::to_vec(kept).map_err(|e| VaultError::Corrupt(e.to_string()))?);
        let sealed = crypto::seal(&self.data_key, &Self::aad("feedback", name.as_bytes(), &self.device_id), &json);
        fsutil::write_atomic(&self.feedback_dir()?.join(name), &sealed)?;
        Ok(())
    }

    fn read_kept(&self, name: &str) -> Result<Option<Kept>, VaultError> {
        let bytes = match fs::read(self.dir.join(FEEDBACK).join(name)) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let plain = crypto::open(&self.data_key, &Self::aad("feedback", name.as_bytes(), &self.device_id), &bytes)
            .ok_or_else(|| VaultError::Corrupt(format!("feedback/{name} does not decrypt")))?;
        serde_json::from_slice(&plain).map(Some).map_err(|e| VaultError::Corrupt(format!("feedback/{name}: {e}")))
    }

    /// Every feedback kept, oldest first, and the names of the files that do not decrypt or
    /// read: one damaged file is left where it is (nothing is deleted) and named, and does not
    /// stop the others from being listed and sent.
    fn all_kept(&self) -> Result<(Vec<Kept>, Vec<String>), VaultError> {
        let entries = match fs::read_dir(self.dir.join(FEEDBACK)) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
            Err(e) => return Err(e.into()),
        };
        let (mut out, mut unreadable) = (Vec::new(), Vec::new());
        for entry in entries {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if !name.ends_with(SEALED) {
                continue;
            }
            match self.read_kept(&name) {
                // Its sealed copy must be bytes to send.
                Ok(Some(k)) if k.sealed.as_ref().is_some_and(|h| hex::decode(h).is_err()) => unreadable.push(name),
                Ok(Some(k)) => out.push(k),
                Ok(None) => {}
                // Damaged, or a read that failed (EIO): passed over and named, the others sent.
                Err(_) => unreadable.push(name),
            }
        }
        out.sort_by(|a, b| (a.entry.created_at_unix, &a.entry.id).cmp(&(b.entry.created_at_unix, &b.entry.id)));
        unreadable.sort();
        Ok((out, unreadable))
    }

    /// The feedback files on this unit that do not decrypt or read now (damaged, or written by
    /// something else, since the vault was opened; or a read that failed): left in place,
    /// listed by name, never sent. At the next opening a damaged one is kept aside
    /// ([`Vault::set_aside`]).
    pub fn feedback_unreadable(&self) -> Result<Vec<String>, VaultError> {
        Ok(self.all_kept()?.1)
    }

    /// On opening: each feedback file that does not decrypt is renamed `NAME.sealed.damaged`
    /// (kept, never deleted or sent) and reported in the recovery, as a damaged application or
    /// draft is. One that decrypts but does not parse (written by a newer version, then rolled
    /// back) and one whose read fails (EIO) are left in place, named at each sync.
    pub(crate) fn reconcile_feedback(&mut self, now: i64) -> Result<(), VaultError> {
        let (_, unreadable) = self.all_kept()?;
        let dir = self.dir.join(FEEDBACK);
        for name in unreadable {
            let damaged = match fs::read(dir.join(&name)) {
                Ok(bytes) => {
                    let aad = Self::aad("feedback", name.as_bytes(), &self.device_id);
                    match crypto::open(&self.data_key, &aad, &bytes) {
                        None => true,
                        // Whole, but its sealed copy is not bytes to send: nothing can mend it.
                        Some(plain) => serde_json::from_slice::<Kept>(&plain)
                            .is_ok_and(|k| k.sealed.as_ref().is_some_and(|h| hex::decode(h).is_err())),
                    }
                }
                Err(_) => false,
            };
            if damaged {
                self.keep_aside(&dir.join(&name), dir.join(format!("{name}.damaged")), now)?;
            }
        }
        Ok(())
    }

    /// Checks what the officer took down by core's rules (`Feedback::new`, as the unlocked
    /// officer, with a new id) and seals it ([`Vault::seal_feedback`]).
    pub fn seal_feedback_input(
        &mut self,
        input: FeedbackInput,
        policy: &FeedbackPolicy,
        now: OffsetDateTime,
    ) -> Result<FeedbackEntry, VaultError> {
        self.seal_feedback_input_as(&Self::new_feedback_id(now), input, policy, now)
    }

    /// [`Vault::seal_feedback_input`] under an id the caller took beforehand (from
    /// [`Vault::new_feedback_id`]): sealed again under the same id, nothing more is sealed.
    pub fn seal_feedback_input_as(
        &mut self,
        id: &str,
        input: FeedbackInput,
        policy: &FeedbackPolicy,
        now: OffsetDateTime,
    ) -> Result<FeedbackEntry, VaultError> {
        let feedback =
            Feedback::new(id.to_string(), self.user.clone(), input, policy, now).map_err(VaultError::Feedback)?;
        self.seal_feedback(&feedback, now.unix_timestamp())
    }

    /// Seals a feedback (made by core's `Feedback::new` or `Feedback::from_poor_rating`, its
    /// id from [`Vault::new_feedback_id`]) to the bureau's key, signed by the device and the
    /// unlocked officer, and keeps it to send. Reported once durable. The same id again
    /// returns what is kept and seals nothing.
    pub fn seal_feedback(&mut self, feedback: &Feedback, now: i64) -> Result<FeedbackEntry, VaultError> {
        if self.role != Role::Officer {
            return Err(VaultError::NotAllowed("only an officer seals feedback".into()));
        }
        let id = ApplicationId::parse(&feedback.id).filter(|i| i.to_string() == feedback.id).ok_or_else(|| {
            VaultError::Seal(format!("{:?} is not a feedback id (Vault::new_feedback_id)", feedback.id))
        })?;
        if let Some(kept) = self.read_kept(&file_name(&feedback.id))? {
            return Ok(kept.entry);
        }
        let kind = serde_json::to_value(feedback.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .ok_or_else(|| VaultError::Seal("the feedback's box".into()))?;
        let content = Zeroizing::new(serde_json::to_vec(feedback).map_err(|e| VaultError::Seal(e.to_string()))?);
        let created_at_unix = feedback.created_at.unix_timestamp();
        let ctx = FeedbackContext {
            bureau: &self.bureau,
            device_id: &self.device_id,
            device_key: &self.device_key,
            officer_key: &self.user_key,
            feedback_id: id,
            kind: &kind,
            category: &feedback.category,
            created_at_unix,
        };
        let sealed = doorstep_envelope::seal_feedback(&content, &ctx, &mut rand::rng())
            .map_err(|e| VaultError::Seal(e.to_string()))?;
        let entry = FeedbackEntry {
            id: feedback.id.clone(),
            kind: feedback.kind,
            category: feedback.category.clone(),
            visit: feedback.visit.clone(),
            created_at_unix,
            received: false,
            state: feedback.state.clone(),
            updated_at_unix: now,
        };
        self.write_kept(&Kept { entry: entry.clone(), sealed: Some(hex::encode(sealed.to_bytes())) })?;
        self.record(now, "feedback-seal", &feedback.id)?;
        Ok(entry)
    }

    /// Keeps what the officer is typing in the feedback box (the unit's bytes, sealed under
    /// the data key), in place of what was kept before; returns once durable. A lock, a
    /// restart or a flat battery in the middle of a complaint then loses none of it.
    pub fn keep_feedback_in_hand(&self, bytes: &[u8]) -> Result<(), VaultError> {
        let name = in_hand_name(&self.user);
        let sealed = crypto::seal(&self.data_key, &Self::aad("feedback", name.as_bytes(), &self.device_id), bytes);
        fsutil::write_atomic(&self.feedback_dir()?.join(name), &sealed)?;
        Ok(())
    }

    /// What [`Vault::keep_feedback_in_hand`] kept for the unlocked officer, if anything.
    pub fn feedback_in_hand(&self) -> Result<Option<Zeroizing<Vec<u8>>>, VaultError> {
        let name = in_hand_name(&self.user);
        let bytes = match fs::read(self.dir.join(FEEDBACK).join(&name)) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        crypto::open(&self.data_key, &Self::aad("feedback", name.as_bytes(), &self.device_id), &bytes)
            .map(Some)
            .ok_or_else(|| VaultError::Corrupt(format!("feedback/{name} does not decrypt")))
    }

    /// Forgets what the unlocked officer was typing in the feedback box (sealed, or
    /// cleared), durably.
    pub fn drop_feedback_in_hand(&self) -> Result<(), VaultError> {
        self.drop_feedback_in_hand_of(&self.user)
    }

    /// Forgets what `user` was typing in the feedback box (the user removed), durably.
    pub(crate) fn drop_feedback_in_hand_of(&self, user: &str) -> Result<(), VaultError> {
        fsutil::remove_durably(&self.dir.join(FEEDBACK).join(in_hand_name(user)))?;
        Ok(())
    }

    /// Whether feedback `id` is sealed on this unit (words kept while typed under an id that
    /// is are sealed already: never to be sealed again).
    pub fn feedback_sealed(&self, id: &str) -> Result<bool, VaultError> {
        Ok(self.read_kept(&file_name(id))?.is_some())
    }

    /// Every feedback the unit sealed, with what it last heard of each, oldest first.
    pub fn feedback(&self) -> Result<Vec<FeedbackEntry>, VaultError> {
        Ok(self.all_kept()?.0.into_iter().map(|k| k.entry).collect())
    }

    /// The sealed feedback the hub has not answered yet, oldest first: (id, bytes).
    pub fn feedback_to_send(&self) -> Result<Vec<(String, Vec<u8>)>, VaultError> {
        let mut out = Vec::new();
        for k in self.all_kept()?.0 {
            if let Some(h) = k.sealed {
                let bytes = hex::decode(&h).map_err(|_| VaultError::Corrupt(format!("feedback {}", k.entry.id)))?;
                out.push((k.entry.id, bytes));
            }
        }
        Ok(out)
    }

    /// The hub has answered the upload of feedback `id` with its state: the sealed copy is
    /// dropped, durably. Repeatable.
    pub fn feedback_received(&mut self, id: &str, state: &Escalation, now: i64) -> Result<(), VaultError> {
        let Some(mut kept) = self.read_kept(&file_name(id))? else {
            return Err(VaultError::NotAllowed(format!("no feedback {id} is kept on this unit")));
        };
        kept.sealed = None;
        kept.entry.received = true;
        kept.entry.state = state.clone();
        kept.entry.updated_at_unix = now;
        self.write_kept(&kept)?;
        self.record(now, "feedback-sent", id)
    }

    /// Keeps the states the hub sent (id, state) for the feedback kept here; an id not kept
    /// here is passed over. Returns the ids whose state changed.
    pub fn store_feedback_states(
        &mut self,
        states: &[(String, Escalation)],
        now: i64,
    ) -> Result<Vec<String>, VaultError> {
        let mut changed = Vec::new();
        for (id, state) in states {
            // A file that does not read is passed over as the list passes it over
            // (`feedback_unreadable` names it); the others' answers are still kept.
            let Ok(Some(mut kept)) = self.read_kept(&file_name(id)) else { continue };
            if kept.entry.state == *state && kept.entry.received {
                continue;
            }
            kept.entry.state = state.clone();
            kept.entry.received = true;
            kept.entry.updated_at_unix = now;
            // The hub holds it: a copy still here (its answer to the upload was lost) has
            // done its work.
            kept.sealed = None;
            self.write_kept(&kept)?;
            changed.push(id.clone());
        }
        if !changed.is_empty() {
            self.record(now, "feedback-heard", &changed.join(","))?;
        }
        Ok(changed)
    }
}
