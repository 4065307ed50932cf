//! The unit's feedback over the vault: [`send`] uploads each sealed feedback the vault keeps
//! and lets the vault drop its copy only once the hub has answered; [`download`] brings back
//! the state and answer of this unit's feedback; [`sync`] does both, uploads first.
//!
//! The unit's screens call the vault for the rest: `Vault::seal_feedback_input` (or
//! `Vault::seal_feedback` with core's `Feedback::from_poor_rating`) to seal one, and
//! `Vault::feedback` for the list with states and answers.

use doorstep_vault::{FeedbackEntry, Vault};

use crate::client::SyncError;
use crate::escrow::{EscrowError, Hub};

/// What a feedback sync did.
#[derive(Debug, Default)]
pub struct FeedbackReport {
    /// The hub has these now (or had them): the vault's sealed copies were dropped.
    pub sent: Vec<String>,
    /// The hub refused these; each is still sealed in the vault (nothing is dropped on a
    /// refusal: a device re-enrolled, an officer key enrolled, or a hub updated can take it).
    pub refused: Vec<(String, SyncError)>,
    /// Not answered this time (no coverage, the hub failed): still sealed, sent next time.
    pub kept: Vec<(String, SyncError)>,
    /// The connection failed, so the rest was left for the next time.
    pub stopped: bool,
    /// Ids whose state or answer changed in the vault with this sync.
    pub heard: Vec<String>,
    /// Every feedback the vault keeps, after the sync (`None` when the download did not
    /// happen).
    pub feedback: Option<Vec<FeedbackEntry>>,
    /// Feedback files on the unit that do not decrypt or read: left in place, not sent; the
    /// others went as usual.
    pub unreadable: Vec<String>,
}

/// Uploads every sealed feedback the vault keeps, oldest first; each is dropped from the
/// vault only once the hub has answered it. A connection failure ends the round.
pub fn send(vault: &mut Vault, hub: &mut Hub, now: i64, report: &mut FeedbackReport) -> Result<(), EscrowError> {
    for (id, bytes) in vault.feedback_to_send()? {
        match hub.client.put_feedback(&id, &bytes) {
            Ok(status) if status.id == id => {
                vault.feedback_received(&id, &status.state, now)?;
                report.sent.push(id);
            }
            Ok(status) => {
                let e = SyncError::Protocol(format!("the hub answered for feedback {}, not {id}", status.id));
                report.kept.push((id, e));
            }
            Err(e) if matches!(e, SyncError::Connection(_)) => {
                report.kept.push((id, e));
                report.stopped = true;
                break;
            }
            Err(e) if e.is_transient() => report.kept.push((id, e)),
            Err(e) => report.refused.push((id, e)),
        }
    }
    Ok(())
}

/// Fetches the states and answers of this unit's feedback and keeps them in the vault.
/// Returns the ids whose state changed.
pub fn download(vault: &mut Vault, hub: &mut Hub, now: i64) -> Result<Vec<String>, EscrowError> {
    let list = hub.client.feedback()?;
    if list.device != vault.device_id() {
        return Err(EscrowError::Hub(SyncError::Protocol(format!(
            "the hub sent the feedback of {}, not of this unit ({})",
            list.device,
            vault.device_id()
        ))));
    }
    let states: Vec<_> = list.feedback.into_iter().map(|f| (f.id, f.state)).collect();
    Ok(vault.store_feedback_states(&states, now)?)
}

/// Uploads what is sealed, then (when the connection held) downloads the states and answers.
pub fn sync(vault: &mut Vault, hub: &mut Hub, now: i64) -> Result<FeedbackReport, EscrowError> {
    let mut report = FeedbackReport { unreadable: vault.feedback_unreadable()?, ..FeedbackReport::default() };
    send(vault, hub, now, &mut report)?;
    if report.stopped {
        return Ok(report);
    }
    report.heard = download(vault, hub, now)?;
    report.feedback = Some(vault.feedback()?);
    Ok(report)
}
