//! The draft writer: one thread per session saves each visit's draft parts in the order they
//! were asked for, so the frame never waits on the disk and a later step's draft is never
//! overwritten by an earlier one that was slow to write.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Sender, channel};

use bevy::prelude::*;
use zeroize::Zeroizing;

use super::{SEALED_SUFFIX, VISIT_PART, part};
use crate::session::SharedVault;
use crate::tasks::{Pending, Waker};

/// Saves drafts in order on a thread that holds the session's vault.
#[derive(Resource, Clone)]
pub struct Drafts {
    tx: Option<Sender<DraftOp>>,
    pub status: Arc<DraftStatus>,
}

/// How the draft writer is doing, for the screens.
#[derive(Debug, Default)]
pub struct DraftStatus {
    pub queued: AtomicUsize,
    /// A save failed (the disk is full or failing) and that part was not saved since: the
    /// visit screen says so (it does not stop the visit; the seal checks every part it takes).
    pub failed: AtomicBool,
    /// The last keep of the feedback box's words failed: the feedback screen says so.
    pub feedback_failed: AtomicBool,
}

/// Whether a draft part is a capture (a photo taken, the photo kept for the application, a
/// finger's print, a signature), which the audit log records as it is kept: each content once
/// per visit.
fn is_capture(part: &str) -> bool {
    part == part::PHOTO
        || part == part::PHOTO_IN_HAND
        || part == part::SIGNATURE
        || (part.starts_with("finger-") && part.ends_with(".raw"))
        || (part.starts_with("signature-") && part.ends_with(".png"))
}

enum DraftOp {
    Visit(VisitOp),
    /// What is typed in the feedback box: kept, dropped, or read (after every save before it).
    Feedback(FeedbackOp),
}

enum VisitOp {
    Save { visit: String, part: String, bytes: Vec<u8> },
    Erase { visit: String },
}

enum FeedbackOp {
    Keep(Zeroizing<Vec<u8>>),
    Drop,
    /// Reads the words kept; `id_of` reads their feedback id: words whose feedback is sealed
    /// already (the power went between its seal and their drop) are dropped, not answered.
    Read {
        answer: Sender<FeedbackRead>,
        id_of: fn(&[u8]) -> Option<String>,
    },
}

/// What is kept of the words in hand in the feedback box (`Vault::feedback_in_hand`).
pub type FeedbackRead = Result<Option<Zeroizing<Vec<u8>>>, doorstep_vault::VaultError>;

impl Drafts {
    pub(super) fn none() -> Drafts {
        Drafts { tx: None, status: Arc::default() }
    }

    pub(super) fn start(vault: SharedVault, waker: Waker) -> Drafts {
        let (tx, rx) = channel::<DraftOp>();
        let status: Arc<DraftStatus> = Arc::default();
        let st = status.clone();
        let spawned = std::thread::Builder::new().name("drafts".into()).spawn(move || {
            // The saves that failed and were not saved since: a small save that works (a
            // form, at each key) does not hide a photo that did not.
            let mut failing = std::collections::BTreeSet::<(String, String)>::new();
            // The captures recorded in the audit log, by visit, part and content: one kept again
            // (the photo in hand kept as the step's photo, a Next tapped twice) is not a second;
            // two fingers with the same image are two.
            let mut recorded = std::collections::HashSet::<(String, String, [u8; 32])>::new();
            for op in rx {
                let op = match op {
                    DraftOp::Visit(op) => op,
                    DraftOp::Feedback(op) => {
                        if let Some(kept) = feedback_op(&vault, op) {
                            st.feedback_failed.store(!kept, Ordering::SeqCst);
                        }
                        st.queued.fetch_sub(1, Ordering::SeqCst);
                        waker.wake();
                        continue;
                    }
                };
                let result = {
                    let mut v = crate::session::lock(&vault);
                    match &op {
                        VisitOp::Save { visit, part, bytes } => {
                            // A capture kept is an action of the audit log (DESIGN: unlock,
                            // capture, seal, upload, erase); a form typed, or a capture blanked
                            // (an empty part), is not. Each content once per visit: not one
                            // kept again in this run (the photo in hand kept as the step's
                            // photo, a Next tapped twice), nor one kept before the unit
                            // restarted (the same bytes stored under this part, or as the
                            // photo in hand for the step's photo). Recorded before it is
                            // kept, so that a stop between the two leaves no capture kept
                            // unrecorded; a record that fails is logged, the draft saved.
                            use sha2::{Digest, Sha256};
                            // The photo in hand kept as the step's photo is one capture.
                            let as_part = if part == super::part::PHOTO_IN_HAND { super::part::PHOTO } else { part };
                            let content = (visit.clone(), as_part.to_string(), <[u8; 32]>::from(Sha256::digest(bytes)));
                            let stored = |name: &str| {
                                v.load_draft(visit, name).ok().flatten().is_some_and(|old| old[..] == bytes[..])
                            };
                            if is_capture(part)
                                && !bytes.is_empty()
                                && !recorded.contains(&content)
                                && !stored(part)
                                && (part != super::part::PHOTO || !stored(super::part::PHOTO_IN_HAND))
                            {
                                match v.record_capture(crate::settings::now().unix_timestamp(), visit, part) {
                                    Ok(()) => {
                                        recorded.insert(content);
                                    }
                                    Err(e) => error!("a capture could not be recorded in the audit log: {e}"),
                                }
                            }
                            v.save_draft(visit, part, bytes)
                        }
                        VisitOp::Erase { visit } => v.erase_draft(visit),
                    }
                };
                if let Err(e) = &result {
                    // The error names the store's problem, never the draft's content.
                    error!("a draft could not be saved: {e}");
                }
                let (visit, part) = match &op {
                    VisitOp::Save { visit, part, .. } => (visit.clone(), part.clone()),
                    VisitOp::Erase { visit } => (visit.clone(), String::new()),
                };
                match (&op, result.is_ok()) {
                    // A draft erased has nothing left to save. An erase that failed loses
                    // nothing: the draft is offered again, to be erased then.
                    (VisitOp::Erase { .. }, true) => failing.retain(|(v, _)| *v != visit),
                    (VisitOp::Erase { .. }, false) => {}
                    (_, true) => {
                        // The visit itself saved: the form typed on a step it has left is of no
                        // more use. Its sealed draft saved: the seal erased the draft before it.
                        if part == VISIT_PART {
                            failing.retain(|(v, p)| !(*v == visit && p == part::FORM_IN_HAND));
                            if let Some(before) = visit.strip_suffix(SEALED_SUFFIX) {
                                failing.retain(|(v, _)| v != before);
                            }
                        }
                        failing.remove(&(visit, part));
                    }
                    (_, false) => {
                        failing.insert((visit, part));
                    }
                }
                st.failed.store(!failing.is_empty(), Ordering::SeqCst);
                st.queued.fetch_sub(1, Ordering::SeqCst);
                waker.wake();
            }
        });
        if let Err(e) = spawned {
            error!("cannot start the draft writer: {e}");
            status.failed.store(true, Ordering::SeqCst);
        }
        Drafts { tx: Some(tx), status }
    }

    /// Queues a save of `bytes` as `part` of `visit`. Without a vault (the in-memory test
    /// officer) nothing is kept.
    pub fn save(&self, visit: &str, part: &str, bytes: Vec<u8>) {
        self.send(DraftOp::Visit(VisitOp::Save { visit: visit.into(), part: part.into(), bytes }));
    }

    pub fn erase(&self, visit: &str) {
        self.send(DraftOp::Visit(VisitOp::Erase { visit: visit.into() }));
    }

    /// Queues a keep of what is typed in the feedback box, in place of what was kept.
    pub fn keep_feedback(&self, bytes: Zeroizing<Vec<u8>>) {
        self.send(DraftOp::Feedback(FeedbackOp::Keep(bytes)));
    }

    /// Queues the feedback box's words to be forgotten (sealed, or cleared).
    pub fn drop_feedback(&self) {
        self.send(DraftOp::Feedback(FeedbackOp::Drop));
    }

    /// Reads what is kept of the feedback box's words once every keep queued before is
    /// done; `id_of` reads their feedback id (words of a feedback sealed already are dropped).
    /// `None` without a vault.
    pub fn read_feedback(&self, id_of: fn(&[u8]) -> Option<String>) -> Option<Pending<FeedbackRead>> {
        self.tx.as_ref()?;
        let (answer, pending) = crate::tasks::channel();
        self.send(DraftOp::Feedback(FeedbackOp::Read { answer, id_of }));
        Some(pending)
    }

    /// Whether a vault is behind it (none for the in-memory test officer: nothing is kept).
    pub fn keeps(&self) -> bool {
        self.tx.is_some()
    }

    fn send(&self, op: DraftOp) {
        let Some(tx) = &self.tx else { return };
        self.status.queued.fetch_add(1, Ordering::SeqCst);
        if tx.send(op).is_err() {
            self.status.queued.fetch_sub(1, Ordering::SeqCst);
            self.status.failed.store(true, Ordering::SeqCst);
        }
    }
}

/// Does one thing with the feedback box's words: whether a keep or a drop was done (`None`
/// for a read, which answers its caller and is not a save).
fn feedback_op(vault: &SharedVault, op: FeedbackOp) -> Option<bool> {
    let v = crate::session::lock(vault);
    let done = match op {
        FeedbackOp::Keep(bytes) => v.keep_feedback_in_hand(&bytes),
        FeedbackOp::Drop => v.drop_feedback_in_hand(),
        FeedbackOp::Read { answer, id_of } => {
            let read = v.feedback_in_hand().and_then(|kept| match kept {
                Some(bytes) if id_of(&bytes).is_some_and(|id| v.feedback_sealed(&id).unwrap_or(false)) => {
                    v.drop_feedback_in_hand().map(|()| None)
                }
                kept => Ok(kept),
            });
            // The screen may have gone (the unit locked): nobody to answer.
            let _ = answer.send(read);
            return None;
        }
    };
    // The error names the store's problem, never the words.
    Some(done.inspect_err(|e| error!("the feedback being typed could not be kept: {e}")).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_captures_are_the_photo_the_prints_and_the_signatures() {
        let captures = [part::PHOTO.to_string(), part::PHOTO_IN_HAND.into(), part::SIGNATURE.into()]
            .into_iter()
            .chain((1..=10).map(part::finger))
            .chain(["1", "2", "companion"].map(part::signature_of));
        for p in captures {
            assert!(is_capture(&p), "{p}");
        }
        for p in [VISIT_PART, part::FORM_IN_HAND, part::PRINTS_IN_HAND, part::PHOTO_IN_HAND_OF] {
            assert!(!is_capture(p), "{p}");
        }
    }
}
