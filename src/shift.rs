//! The supervisor's shift on the unit, apart from its screen: what the seal keeps of each
//! application for the supervisor ([`Summary`]), the list the shift screen shows and its
//! filters, the supervisor's decisions, the release (on a task: it uploads and talks to the
//! hub), and the facts the freeze rules read.
//!
//! The review summary lives in the vault, sealed under the data key, until the batch is
//! released; then the vault erases it. Nothing of it is logged.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use doorstep_core::shift::{ReturnReason, ShiftFacts, ShiftRule};
use doorstep_vault::outbox::OutboxState;
use doorstep_vault::{Vault, VaultError};
use serde::{Deserialize, Serialize};

pub use crate::batches::{BatchView, batches};
pub use crate::hub_refusal::HubRefusal;
use crate::session::SharedVault;
pub use summary::Summary;

/// Seconds since 1970 as the unit's local date and time (month-day hour:minute).
pub fn local_time(unix: i64) -> String {
    let offset = crate::settings::now().offset();
    // A time at the edge of the calendar (a hub's "9999-12-31T23:59:59Z") has no local time
    // in the year 10000: a dash, not a panic.
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.checked_to_offset(offset))
        .map(|t| format!("{:02}-{:02} {:02}:{:02}", u8::from(t.month()), t.day(), t.hour(), t.minute()))
        .unwrap_or_else(|| "—".into())
}

/// Where an application is: still only on this unit, or receipted by the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemSync {
    OnUnit,
    AtHub,
}

/// A small photo for the list, as RGBA.
#[derive(Clone, PartialEq, Eq)]
pub struct Thumb {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

/// The thumbnail's box in the list.
pub const THUMB: (u32, u32) = (72, 96);

/// The photo's box when the supervisor enlarges it in the list (half the digital photo's
/// 354×472): what the thumbnail is decoded to, so enlarging it needs no work.
pub const PHOTO_SHOWN: (u32, u32) = (177, 236);

/// One application of the shift, as the supervisor's list shows it.
#[derive(Clone)]
pub struct ShiftItem {
    pub id: String,
    pub numbers: Vec<String>,
    pub summary: Summary,
    pub sync: ItemSync,
    pub sealed_at_unix: i64,
    pub thumb: Option<Thumb>,
    /// Its summary did not read: nothing of it can be shown but its numbers.
    pub unreadable: bool,
    /// Its sealed file on this unit was found damaged and kept aside (`Vault::set_aside`):
    /// it cannot be uploaded or decided from here, and does not hold up the release; nothing
    /// of it is known but its id and when it was sealed (its summary was in that file).
    pub damaged: bool,
    /// With `damaged`: its file is in its place, but the storage did not read it just now
    /// ([`doorstep_vault::VaultError::is_storage_fault`]), so it is not known to be damaged;
    /// it is neither sent nor decided until a read succeeds.
    pub not_read: bool,
}

impl std::fmt::Debug for ShiftItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ShiftItem({}, {:?}, <redacted>)", self.id, self.sync)
    }
}

impl ShiftItem {
    /// Something for the supervisor to look at: a flag, a summary that did not read, or a
    /// damaged file.
    pub fn flagged(&self) -> bool {
        !self.summary.flags.is_empty() || self.unreadable || self.damaged
    }
}

/// Every application on this unit not yet in a released batch, oldest first, with its
/// thumbnail decoded (on the task that calls this, never in a frame).
pub fn load(vault: &Vault) -> Result<Vec<ShiftItem>, VaultError> {
    let mut items = Vec::new();
    for e in vault.outbox()? {
        let sync = match e.state {
            OutboxState::Acknowledged | OutboxState::Erased => ItemSync::AtHub,
            _ => ItemSync::OnUnit,
        };
        // One on the unit whose file does not read leaves only its id and time, and cannot go;
        // one at the hub whose summary does not read still lists, marked to check at the bureau
        // (`awaiting_decision`).
        let review = match doorstep_sync::escrow::awaiting_decision(vault, &e) {
            Some(Some(review)) => review,
            Some(None) => {
                bevy::log::warn!("shift: the summary of {} does not read on this unit", e.application_id);
                doorstep_vault::ReviewSummary {
                    application_id: e.application_id.clone(),
                    application_numbers: Vec::new(),
                    summary_json: String::new(),
                    thumbnail_jpeg: Vec::new(),
                    quality_flags: Vec::new(),
                }
            }
            None if sync == ItemSync::OnUnit => {
                let not_read = vault.review(&e.application_id).is_err_and(|err| err.is_storage_fault());
                bevy::log::warn!("shift: {} does not read on this unit (storage fault: {not_read})", e.application_id);
                items.push(ShiftItem {
                    id: e.application_id.clone(),
                    numbers: Vec::new(),
                    summary: Summary::default(),
                    sync,
                    sealed_at_unix: e.sealed_at_unix,
                    thumb: None,
                    unreadable: false,
                    damaged: true,
                    not_read,
                });
                continue;
            }
            None => continue,
        };
        // A summary that does not read (an earlier version's) still lists, marked to check.
        let (summary, unreadable) = match serde_json::from_str(&review.summary_json) {
            Ok(s) => (s, false),
            Err(_) => (Summary::default(), true),
        };
        items.push(ShiftItem {
            id: e.application_id.clone(),
            numbers: review.application_numbers.clone(),
            summary,
            sync,
            sealed_at_unix: e.sealed_at_unix,
            thumb: thumbnail(&review.thumbnail_jpeg),
            unreadable,
            damaged: false,
            not_read: false,
        });
    }
    items.sort_by(|a, b| a.sealed_at_unix.cmp(&b.sealed_at_unix).then_with(|| a.id.cmp(&b.id)));
    Ok(items)
}

/// The ids of the applications not yet in a released batch: those with a review summary, and
/// those at the hub whose summary does not read (listed to check). One on the unit whose file
/// does not read can be neither sent nor decided.
pub(crate) fn undecided_ids(vault: &Vault) -> Result<Vec<String>, VaultError> {
    let mut ids = Vec::new();
    for e in vault.outbox()? {
        if doorstep_sync::escrow::awaiting_decision(vault, &e).is_some() {
            ids.push(e.application_id);
        }
    }
    Ok(ids)
}

/// The photo scaled into [`PHOTO_SHOWN`] (the list draws it smaller); none when there is no
/// photo (reused, supplied on paper) or it does not decode.
pub fn thumbnail(jpeg: &[u8]) -> Option<Thumb> {
    if jpeg.is_empty() {
        return None;
    }
    let img = image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg).ok()?;
    let small = img.thumbnail(PHOTO_SHOWN.0, PHOTO_SHOWN.1).to_rgba8();
    Some(Thumb { width: small.width(), height: small.height(), rgba: small.into_raw() })
}

/// What the freeze rules read, from the vault: the unapproved backlog, the oldest application
/// the hub has not receipted, free space against the reserve.
pub fn facts(vault: &Vault) -> Result<ShiftFacts, VaultError> {
    // An application whose file is gone (kept aside as damaged) or does not read can never go:
    // it is named on the shift and in the diagnostics instead of stopping new visits for ever.
    // The oldest whose file reads (usually the first looked at: one read).
    let mut unsynced: Vec<_> = vault
        .outbox()?
        .into_iter()
        .filter(|e| matches!(e.state, OutboxState::Sealed | OutboxState::Uploading))
        .collect();
    unsynced.sort_by_key(|e| e.sealed_at_unix);
    let oldest_unsynced_unix =
        unsynced.iter().find(|e| matches!(vault.review(&e.application_id), Ok(Some(_)))).map(|e| e.sealed_at_unix);
    let (free_bytes, reserve_bytes) = vault.space()?;
    Ok(ShiftFacts { unapproved: undecided_ids(vault)?.len(), oldest_unsynced_unix, free_bytes, reserve_bytes })
}

/// Which applications the list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Filter {
    #[default]
    All,
    /// With a flag to look at.
    Flagged,
    /// Not yet receipted by the hub.
    OnUnit,
    /// Not yet approved or returned.
    Undecided,
}

/// The supervisor's decision on one application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    Approve,
    /// Returned, for this reason (an id from `rules.toml`'s `[shift] return_reasons`), with
    /// the supervisor's words on what exactly to put right (may be empty).
    Return {
        reason: String,
        note: String,
    },
    /// Left for the next batch (one the hub refused, or one to decide later): it stays on the
    /// unit, sealed and undecided.
    Hold,
}

impl Decision {
    /// Returned for `reason` with nothing added.
    pub fn returned(reason: &str) -> Decision {
        Decision::Return { reason: reason.to_string(), note: String::new() }
    }
}

/// The most characters of a return's note: a line the officer reads before the revisit.
pub const MAX_RETURN_NOTE: usize = 60;

/// The decisions taken so far, by application id.
pub type Decisions = BTreeMap<String, Decision>;

impl Filter {
    pub fn keeps(self, item: &ShiftItem, decisions: &Decisions) -> bool {
        match self {
            Filter::All => true,
            Filter::Flagged => item.flagged(),
            Filter::OnUnit => item.sync == ItemSync::OnUnit,
            Filter::Undecided => !decisions.contains_key(&item.id) && !item.damaged,
        }
    }
}

/// What "approve the rest" approves: those on the list as filtered now (none is approved
/// unseen), not yet decided, not damaged, and **without a flag**: an application flagged for
/// the supervisor to look at (a finger not taken, an urgent ground, a photo kept despite a
/// check…) is decided on its own line, never in bulk.
pub fn approvable_in_bulk(items: &[ShiftItem], filter: Filter, order: Order, decisions: &Decisions) -> Vec<String> {
    shown(items, filter, order, decisions)
        .into_iter()
        .filter(|i| !decisions.contains_key(&i.id) && !i.damaged && !i.flagged())
        .map(|i| i.id.clone())
        .collect()
}

/// The visits stopped before their seal (中止受理) since a time, as the audit log records
/// them: how many, and how many had a fee taken (to be refunded). The supervisor sees them
/// beside the shift: they are in no batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stops {
    pub count: usize,
    pub paid: usize,
}

/// What else of the day the supervisor should hear of before the end of the shift: feedback
/// sealed and not yet at the hub, and the outreach queue's tickets not finished.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Elsewhere {
    pub feedback_unsent: usize,
    pub open_tickets: usize,
}

/// The stops recorded at or after `since` (unix seconds), from the audit log's `entries`.
pub fn stops_since(entries: &[doorstep_vault::AuditEntry], since: i64) -> Stops {
    let stops = entries.iter().filter(|e| e.action == doorstep_vault::ABANDON && e.at_unix >= since);
    stops.fold(Stops::default(), |s, e| Stops {
        count: s.count + 1,
        paid: s.paid + usize::from(crate::visit_flow::took_a_fee(&e.subject)),
    })
}

/// How the list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// As sealed, oldest first.
    #[default]
    Sealed,
    /// Those with flags first (most flags first, the urgent ones before), then as sealed.
    FlagsFirst,
}

/// The items the list shows, in its order.
pub fn shown<'a>(items: &'a [ShiftItem], filter: Filter, order: Order, decisions: &Decisions) -> Vec<&'a ShiftItem> {
    let mut out: Vec<&ShiftItem> = items.iter().filter(|i| filter.keeps(i, decisions)).collect();
    if order == Order::FlagsFirst {
        // Stable: equal items keep the sealed order.
        out.sort_by_key(|i| (!i.summary.urgent(), std::cmp::Reverse(i.summary.flags.len())));
    }
    out
}

/// The manifest's returns: each returned application with the words its officer reads (both
/// languages: the officer's unit may be in either), then the supervisor's note as written.
pub fn returns(decisions: &Decisions, rule: &ShiftRule) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (id, d) in decisions {
        if let Decision::Return { reason, note } = d {
            let r = rule.reason(reason).ok_or_else(|| reason.clone())?;
            // At most MAX_RETURN_NOTE characters, without control or direction-changing ones.
            let note: String = note
                .chars()
                .filter(|c| {
                    !c.is_control()
                        && !matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
                })
                .take(MAX_RETURN_NOTE)
                .collect();
            let words = match note.trim() {
                "" => format!("{}{LANGUAGES}{}", r.zh, r.en),
                note => format!("{}{LANGUAGES}{}{}{note}", r.zh, r.en, doorstep_envelope::RETURN_NOTE_SEPARATOR),
            };
            out.push((id.clone(), words));
        }
    }
    Ok(out)
}

/// Between a return reason's Chinese and English words, as [`returns`] writes them and
/// [`read_return`] reads them.
const LANGUAGES: &str = " / ";

/// The reason a return's words (as [`returns`] wrote them: "zh / en", then the note) give,
/// and the supervisor's note ("" where none): for the officer's screen, in its language. None
/// where the words are not one of `rule`'s reasons (the back office's own, or another policy's).
pub fn read_return<'a>(words: &'a str, rule: &'a ShiftRule) -> Option<(&'a ReturnReason, &'a str)> {
    rule.return_reasons.iter().find_map(|r| {
        let rest = words.strip_prefix(r.zh.as_str())?.strip_prefix(LANGUAGES)?.strip_prefix(r.en.as_str())?;
        match rest {
            "" => Some((r, "")),
            rest => Some((r, rest.strip_prefix(doorstep_envelope::RETURN_NOTE_SEPARATOR)?)),
        }
    })
}

/// Keeps the decisions taken so far in the vault, in place of those kept before (none kept
/// when there are none), so that a lock or a restart in the middle of the review loses none.
pub fn keep_decisions(vault: &Vault, decisions: &Decisions) -> Result<(), VaultError> {
    if decisions.is_empty() {
        return vault.clear_shift_decisions();
    }
    let json = serde_json::to_vec(decisions).map_err(|e| VaultError::Corrupt(format!("decisions: {e}")))?;
    vault.save_shift_decisions(&json)
}

/// Of the decisions kept, those to put back on the list read now: on applications still
/// waiting and decidable (not damaged; one not read just now is not decided on unseen).
pub fn restorable(kept: Decisions, items: &[ShiftItem]) -> Decisions {
    kept.into_iter().filter(|(id, _)| items.iter().any(|i| i.id == *id && !i.damaged && !i.not_read)).collect()
}

/// The decisions this supervisor kept. Those the unit cannot read (written by a newer version)
/// are left out, and said in the log by count only: the review starts again, nothing is
/// released unseen.
pub fn kept_decisions(vault: &Vault) -> Result<Decisions, VaultError> {
    let Some(bytes) = vault.shift_decisions()? else { return Ok(Decisions::new()) };
    Ok(read_decisions(&bytes))
}

/// The decisions as kept; an entry that does not read is dropped, not the others.
pub(crate) fn read_decisions(bytes: &[u8]) -> Decisions {
    let raw: BTreeMap<String, serde_json::Value> = match serde_json::from_slice(bytes) {
        Ok(raw) => raw,
        Err(_) => {
            bevy::log::warn!("the kept decisions could not be read; they are to be taken again");
            return Decisions::new();
        }
    };
    let total = raw.len();
    let read: Decisions =
        raw.into_iter().filter_map(|(id, d)| Some((id, serde_json::from_value::<Decision>(d).ok()?))).collect();
    if read.len() < total {
        bevy::log::warn!("{} kept decisions could not be read; they are to be taken again", total - read.len());
    }
    read
}

/// The applications held for the next batch.
pub fn held(decisions: &Decisions) -> Vec<String> {
    decisions.iter().filter(|(_, d)| **d == Decision::Hold).map(|(id, _)| id.clone()).collect()
}

/// How a release ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseOutcome {
    Released {
        batch: BatchView,
        approved: usize,
        returned: usize,
        /// Left for the next batch, still on the unit.
        held: usize,
        /// The end-of-shift report's figures, and where its files were kept (none if they
        /// could not be written: logged).
        report: Option<Box<crate::shift_report::ShiftReport>>,
        kept: Option<std::path::PathBuf>,
    },
    /// Nothing was released, for this reason; everything is still on the unit as it was.
    Refused(Refusal),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NotProvisioned,
    /// No connection to the hub.
    NoCoverage,
    /// These many could not be uploaded, so no manifest was sent; those the hub refused, with
    /// its reason (the others met a passing fault: trying again may do).
    NotUploaded {
        n: usize,
        refused: Vec<(String, HubRefusal)>,
    },
    /// The hub does not trust this supervisor's key (hex, for `doorstep-hub add-supervisor`).
    NotTrusted {
        key: String,
    },
    /// A decision names an application no longer undecided on the unit (released elsewhere).
    Stale,
    /// The hub holds another decision on these applications (ids), from an earlier batch,
    /// and it stands: they are to be held, and the rest released.
    AlreadyDecided {
        ids: Vec<String>,
    },
    Nothing,
    /// Anything else (logged without personal data).
    Failed,
}

/// Upload progress per application id, in percent, shared with the screen.
pub type Progress = Arc<Mutex<BTreeMap<String, u8>>>;

/// The release, on a task: uploads what is left, signs the manifest with the supervisor's key,
/// sends it, keeps the hub's receipt. `decided` names every application the supervisor
/// decided on: if the unit's undecided applications are not exactly those, nothing is sent
/// (none is ever approved unseen). `wake` is called when the progress changes.
pub fn release(
    vault: &SharedVault,
    dir: &Path,
    decided: &[String],
    (returns, held): (&[(String, String)], &[String]),
    progress: &Progress,
    wake: &dyn Fn(),
) -> ReleaseOutcome {
    use doorstep_sync::client::SyncError;
    use doorstep_sync::escrow::{EscrowError, ReleaseError};
    let mut v = crate::session::lock(vault);
    match undecided_ids(&v) {
        Ok(mut now) => {
            let mut seen = decided.to_vec();
            now.sort();
            seen.sort();
            if now != seen {
                return ReleaseOutcome::Refused(Refusal::Stale);
            }
        }
        Err(e) => {
            bevy::log::warn!("release: the shift cannot be read: {e}");
            return ReleaseOutcome::Refused(Refusal::Failed);
        }
    }
    if !dir.join(crate::cli::sync::BUNDLE_FILE).exists() {
        return ReleaseOutcome::Refused(Refusal::NotProvisioned);
    }
    let mut hub = match crate::cli::sync::hub_client(dir, &mut v) {
        Ok(h) => h,
        Err(e) => {
            bevy::log::warn!("release: the hub bundle cannot be used: {e:#}");
            return ReleaseOutcome::Refused(Refusal::Failed);
        }
    };
    let now = || crate::settings::now().unix_timestamp();
    let mut hear = |id: &str, offset: u64, total: u64| {
        let pct = doorstep_sync::wire::percent(offset, total);
        if let Ok(mut p) = progress.lock()
            && p.insert(id.to_string(), pct) != Some(pct)
        {
            wake();
        }
    };
    match doorstep_sync::escrow::release_batch(&mut v, &mut hub, returns, held, &now, &mut hear) {
        Ok(r) => ReleaseOutcome::Released {
            batch: BatchView::of(&r.receipt),
            approved: r.accepted.approved,
            returned: r.accepted.returned,
            // Named to hold, or read only at the upload: both wait for the next batch.
            held: r.held.len() + r.unseen.len(),
            report: None,
            kept: None,
        },
        Err(e) => {
            let refusal = match &e {
                ReleaseError::Hub(SyncError::Refused { code, .. }) if code == "manifest-signature" => {
                    Refusal::NotTrusted { key: hex::encode(v.user_public_key().to_bytes()) }
                }
                // Named (a hub that names none is not understood: the release failed).
                ReleaseError::Hub(SyncError::DecidedBefore(p)) if !p.ids().is_empty() => {
                    Refusal::AlreadyDecided { ids: p.ids() }
                }
                ReleaseError::Hub(SyncError::Connection(_))
                | ReleaseError::Escrow(EscrowError::Hub(SyncError::Connection(_))) => Refusal::NoCoverage,
                ReleaseError::NotUploaded(_, report) if report.stopped => Refusal::NoCoverage,
                ReleaseError::NotUploaded(n, report) => Refusal::NotUploaded {
                    n: *n,
                    refused: report
                        .failed
                        .iter()
                        .filter_map(|(id, e)| HubRefusal::of(e).map(|r| (id.clone(), r)))
                        .collect(),
                },
                // The list is not what it was: one read only at the upload is on it now.
                ReleaseError::UnknownReturn(_) | ReleaseError::HeldAndReturned(_) | ReleaseError::OnlyUnseen(_) => {
                    Refusal::Stale
                }
                ReleaseError::Nothing => Refusal::Nothing,
                _ => Refusal::Failed,
            };
            bevy::log::warn!("release refused: {e}");
            ReleaseOutcome::Refused(refusal)
        }
    }
}

mod summary;
#[cfg(test)]
mod tests;
