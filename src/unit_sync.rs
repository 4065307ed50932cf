//! Sync from the unit: while an officer is unlocked and no visit is in hand, sealed
//! applications are escrowed to the hub in the background, every minute and at once after a
//! visit ends, with progress per application; with no coverage the home screen says so and
//! everything stays sealed on the unit. No CLI needed (`doorstep sync` does the same by hand).
//!
//! The sync task holds the vault for its run, so it does not run during a visit: a seal or a
//! draft save never waits behind an upload on a poor line.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bevy::prelude::*;
use doorstep_vault::outbox::OutboxState;

use crate::session::{Session, SharedVault};
use crate::tasks::{Pending, Poll, Waker};
use crate::visit_flow::VisitFlow;

/// How often the unit tries the hub while idle.
pub const EVERY: Duration = Duration::from_secs(60);

/// Where this unit's vault lives (for its hub bundle). Absent in headless tests.
#[derive(Resource, Debug, Clone)]
pub struct VaultDir(pub PathBuf);

/// What the home screen shows of sync.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncView {
    /// Sealed applications not yet receipted by the hub.
    pub pending: usize,
    /// The application uploading now (its id's first 8 characters) and the percent sent.
    pub uploading: Option<(String, u8)>,
    pub last: Option<Outcome>,
    /// What the freeze rules read, as of the last run (none before the first).
    pub facts: Option<doorstep_core::shift::ShiftFacts>,
    /// This unit's appointments as kept in the vault (read at each run, so they are there
    /// offline too), and how many served notices the hub refused at the last run.
    pub appointments: Arc<Vec<doorstep_core::appointment::Appointment>>,
    pub notices_refused: usize,
    /// The last runs (when, how they ended), newest last, for the diagnostics screen.
    pub log: Vec<(i64, Outcome)>,
    /// Runs finished since the unit started (screens that show what a sync brings watch it).
    pub runs: u64,
    /// Applications returned by the supervisor or rejected by the back office, sent from the
    /// unit in the last [`REVISIT_DAYS`] days, with the reason: each a revisit (application id,
    /// reason).
    pub revisits: Vec<(String, String)>,
    /// The feedback the hub refused for good at the last run that sent any (id, why): shown
    /// under each on the feedback screen until the hub takes it.
    pub feedback_refused: Vec<(String, crate::shift::HubRefusal)>,
}

/// How long a returned or rejected application is shown as a revisit on the home screen.
pub const REVISIT_DAYS: i64 = 30;

/// The revisits the vault knows of (what the hub last said of each application it took).
fn revisits(v: &doorstep_vault::Vault) -> Vec<(String, String)> {
    use doorstep_sync::wire::Status;
    let since = crate::settings::now().unix_timestamp() - REVISIT_DAYS * 86_400;
    v.outbox()
        .map(|o| {
            o.into_iter()
                // By when it left the unit (its last change here): the hub answers after that.
                .filter(|e| e.updated_at_unix >= since)
                .filter_map(|e| {
                    let status: Status = serde_json::from_str(e.hub_status.as_deref()?).ok()?;
                    match status {
                        Status::Returned { reason, .. } | Status::Rejected { reason } => {
                            Some((e.application_id, reason))
                        }
                        _ => None,
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// How many runs the sync log keeps.
pub const LOG_RUNS: usize = 10;

impl SyncView {
    /// Adds a run to the log, keeping the last [`LOG_RUNS`]. A run that ended as the last one
    /// did moves that line to its time, rather than filling the log with the same words.
    fn log_run(&mut self, at: i64, outcome: Outcome) {
        if let Some(last) = self.log.last_mut()
            && last.1 == outcome
        {
            last.0 = at;
            return;
        }
        self.log.push((at, outcome));
        let over = self.log.len().saturating_sub(LOG_RUNS);
        self.log.drain(..over);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The unit has no hub bundle yet.
    NotProvisioned,
    /// Uploaded this many; the hub has everything sealed so far.
    Done { uploaded: usize },
    /// No connection: the rest stays sealed for the next try.
    NoCoverage,
    /// What answered is not this unit's hub as far as TLS can tell (its certificate from
    /// another CA, revoked, for another name, expired): nothing sent; someone must look.
    Untrusted,
    /// Some were not taken (a reason is logged by id); the hub's refusal of the first that it
    /// refused, if it refused one (rather than failing on its side); of them, how many were
    /// not sent because their file on this unit is damaged (`damaged`), or because the
    /// storage did not read it just now (`not_read`: tried again at the next sync).
    Failed { failed: usize, why: Option<crate::shift::HubRefusal>, damaged: usize, not_read: usize },
}

impl Outcome {
    /// The words for how a run ended.
    pub fn key(&self) -> &'static str {
        match self {
            Outcome::NotProvisioned => "diag.sync.not_provisioned",
            Outcome::Done { .. } => "diag.sync.done",
            Outcome::NoCoverage => "diag.sync.no_coverage",
            Outcome::Untrusted => "diag.sync.untrusted",
            Outcome::Failed { .. } => "diag.sync.failed",
        }
    }
}

/// Whether a run met a hub certificate TLS refused: said as such, not as no coverage
/// (nothing went either way). Only where a handshake failed: an upload's, the run's own, or,
/// with nothing to upload, the revocation list's request. The list's own check (which refuses
/// the certificate of a hub whose new list names it, before its restart) is not one.
pub fn untrusted_hub(report: &Result<doorstep_sync::escrow::Report, doorstep_sync::escrow::EscrowError>) -> bool {
    use doorstep_sync::escrow::EscrowError;
    match report {
        Ok(r) => {
            r.failed.iter().any(|(_, e)| e.is_untrusted_hub())
                || matches!(&r.revocations, Some(Err(EscrowError::Hub(e))) if e.is_untrusted_hub())
        }
        Err(EscrowError::Hub(e)) => e.is_untrusted_hub(),
        Err(_) => false,
    }
}

/// The sync state shared with the task.
#[derive(Resource, Clone, Default)]
pub struct UnitSync {
    pub view: Arc<Mutex<SyncView>>,
    running: Arc<Mutex<Option<Pending<()>>>>,
    last_try: Option<Duration>,
}

impl UnitSync {
    pub fn view(&self) -> SyncView {
        self.view.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// How many runs have finished (without copying the rest of the view).
    pub fn runs(&self) -> u64 {
        self.view.lock().map(|v| v.runs).unwrap_or_default()
    }

    /// Applications just sealed: counted as waiting for the hub until the next run says
    /// otherwise (the line said "all sent" from a run before the seal).
    pub fn sealed(&self, n: usize) {
        self.set(|s| s.pending += n);
    }

    /// Forgets what names people (the appointments read from the vault): the unit locked,
    /// and the next unlock's run reads them again.
    pub fn forget_people(&self) {
        self.set(|s| s.appointments = Arc::default());
    }

    fn set(&self, f: impl FnOnce(&mut SyncView)) {
        if let Ok(mut v) = self.view.lock() {
            f(&mut v);
        }
    }
}

pub fn plugin(app: &mut App) {
    app.init_resource::<UnitSync>();
    app.add_systems(Update, start_sync);
}

fn start_sync(
    mut sync: ResMut<UnitSync>,
    session: Res<Session>,
    flow: Res<VisitFlow>,
    dir: Option<Res<VaultDir>>,
    time: Res<Time<Real>>,
    waker: Res<Waker>,
    screen: Option<Res<State<crate::screens::Screen>>>,
) {
    let (Some(vault), Some(dir)) = (&session.vault, dir) else { return };
    {
        let Ok(mut running) = sync.running.lock() else { return };
        match running.as_ref().map(Pending::poll) {
            Some(Poll::Running) => return,
            Some(_) => *running = None,
            None => {}
        }
    }
    let now = time.elapsed();
    // At once after a visit ends (the flow changed to no visit) and after each unlock, else
    // every minute.
    // Also on coming back to the home screen (from the feedback box or the desk: what was just
    // sealed goes at once; going into a screen never waits behind a sync).
    let back_home = screen.is_some_and(|s| s.is_changed() && *s.get() == crate::screens::Screen::Home);
    let due = sync.last_try.is_none_or(|t| now.saturating_sub(t) >= EVERY)
        || flow.is_changed()
        || session.is_changed()
        || back_home;
    if flow.visit.is_some() || !due {
        return;
    }
    sync.last_try = Some(now);
    let (vault, dir, shared, open) = (vault.clone(), dir.0.clone(), sync.clone(), session.token());
    let wake = waker.clone();
    let task = crate::tasks::spawn("sync", &waker, move || run(&vault, &dir, &shared, &wake, &open));
    if let Ok(mut r) = sync.running.lock() {
        *r = Some(task);
    }
}

/// One sync run on the task: escrow what is sealed, with progress for the screen.
fn run(vault: &SharedVault, dir: &std::path::Path, sync: &UnitSync, waker: &Waker, open: &std::sync::Weak<()>) {
    // The unit locked meanwhile: stop between two envelopes, and do nothing more, so that the
    // keys this run holds go soon after the lock.
    let go_on = || open.strong_count() > 0;
    let mut v = crate::session::lock(vault);
    // Those that can still go: one whose file was kept aside as damaged is named apart.
    let pending = |v: &doorstep_vault::Vault| {
        v.outbox().map_or(0, |o| {
            o.iter()
                .filter(|e| matches!(e.state, OutboxState::Sealed | OutboxState::Uploading))
                .filter(|e| v.envelope_on_disk(&e.application_id))
                .count()
        })
    };
    let facts = |v: &doorstep_vault::Vault| match crate::shift::facts(v) {
        Ok(f) => Some(f),
        Err(e) => {
            warn!("sync: the shift's figures cannot be read: {e}");
            None
        }
    };
    let before = facts(&v);
    let kept = |v: &doorstep_vault::Vault| match v.appointments() {
        Ok(list) => Some(Arc::new(list)),
        Err(e) => {
            warn!("sync: the appointments cannot be read: {e}");
            None
        }
    };
    let booked = kept(&v);
    let told = revisits(&v);
    sync.set(|s| {
        s.pending = pending(&v);
        s.facts = before;
        s.revisits = told;
        if let Some(list) = booked {
            s.appointments = list;
        }
    });
    waker.wake();
    if !dir.join(crate::cli::sync::BUNDLE_FILE).exists() {
        let at = crate::settings::now().unix_timestamp();
        sync.set(|s| {
            s.last = Some(Outcome::NotProvisioned);
            // One line for a unit that stays unprovisioned, not one a minute.
            if s.log.last().is_none_or(|(_, o)| *o != Outcome::NotProvisioned) {
                s.log_run(at, Outcome::NotProvisioned);
            }
        });
        return;
    }
    let mut hub = match crate::cli::sync::hub_client(dir, &mut v) {
        Ok(h) => h,
        Err(e) => {
            warn!("sync: the hub bundle cannot be used: {e:#}");
            sync.set(|s| s.last = Some(Outcome::Failed { failed: s.pending, why: None, damaged: 0, not_read: 0 }));
            return;
        }
    };
    let now = || crate::settings::now().unix_timestamp();
    let report = doorstep_sync::escrow::run(&mut v, &mut hub, 256 * 1024, &now, &go_on, &mut |id, offset, total| {
        let pct = doorstep_sync::wire::percent(offset, total);
        let shown = Some((id.chars().take(8).collect::<String>(), pct));
        if sync.view().uploading != shown {
            sync.set(|s| s.uploading = shown);
            waker.wake();
        }
    });
    match report.as_ref().ok().and_then(|r| r.revocations.as_ref()) {
        Some(Ok(true)) => {
            info!("sync: the hub's newer revocation list is kept: a hub presenting a certificate on it is refused")
        }
        Some(Err(e)) => warn!("sync: the hub's revocation list was not taken: {e}"),
        _ => {}
    }
    for (id, e) in report.iter().flat_map(|r| &r.not_erased) {
        warn!("sync: {id} is at the hub, but its file could not be erased now: {e}; the next sync erases it");
    }
    let outcome = match report {
        _ if untrusted_hub(&report) => {
            warn!("sync: the hub's certificate was refused (not this unit's hub, as far as TLS can tell)");
            Outcome::Untrusted
        }
        Ok(r) if r.stopped => Outcome::NoCoverage,
        Ok(r) if !r.failed.is_empty() || !r.unreadable.is_empty() || !r.not_read.is_empty() => {
            for (id, e) in &r.failed {
                warn!("sync: {id} not uploaded: {e}");
            }
            for (id, e) in &r.unreadable {
                warn!("sync: {id} not uploaded: its file on this unit is damaged: {e}");
            }
            for (id, e) in &r.not_read {
                warn!("sync: {id} not uploaded: the storage did not read its file: {e}");
            }
            let why = r.failed.iter().find_map(|(_, e)| crate::shift::HubRefusal::of(e));
            let (damaged, not_read) = (r.unreadable.len(), r.not_read.len());
            Outcome::Failed { failed: r.failed.len() + damaged + not_read, why, damaged, not_read }
        }
        Ok(r) => Outcome::Done { uploaded: r.uploaded.len() },
        Err(e) => {
            warn!("sync stopped: {e}");
            Outcome::NoCoverage
        }
    };
    // Then the appointments: served notices out, this unit's list in (none on no coverage).
    let mut refused = 0;
    let mut feedback_refused = None;
    if !matches!(outcome, Outcome::NoCoverage | Outcome::Untrusted) && go_on() {
        match doorstep_sync::appointments::sync(&mut v, &mut hub, now()) {
            Ok(r) => {
                for (id, e) in &r.served.refused {
                    warn!("sync: the hub refused the served notice of appointment {id}: {e}");
                }
                refused = r.served.refused.len();
            }
            Err(e) => warn!("sync: appointments not synced: {e}"),
        }
        // What the hub says of the applications it took: a return or a rejection is a revisit.
        if go_on()
            && let Err(e) = doorstep_sync::escrow::statuses(&mut v, &mut hub)
        {
            warn!("sync: the applications' statuses not asked: {e}");
        }
        // And the feedback sealed here: out, then what the back office answered, in.
        match go_on().then(|| doorstep_sync::feedback::sync(&mut v, &mut hub, now())).transpose() {
            Ok(None) => {}
            Ok(Some(r)) => {
                for (id, e) in &r.refused {
                    warn!("sync: the hub refused feedback {id}: {e}");
                }
                feedback_refused = Some(
                    r.refused
                        .iter()
                        .filter_map(|(id, e)| crate::shift::HubRefusal::of(e).map(|why| (id.clone(), why)))
                        .collect(),
                );
                for name in &r.unreadable {
                    warn!("sync: feedback file {name} does not decrypt or read: left in place, not sent");
                }
            }
            Err(e) => warn!("sync: feedback not synced: {e}"),
        }
    }
    // The unit locked meanwhile: nothing more is read from the vault (the appointments would
    // come back into memory with their names), only the run counted.
    if !go_on() {
        sync.set(|s| {
            s.uploading = None;
            s.runs += 1;
        });
        return;
    }
    let (left, after, booked, told) = (pending(&v), facts(&v), kept(&v), revisits(&v));
    let at = crate::settings::now().unix_timestamp();
    sync.set(|s| {
        s.revisits = told;
        s.uploading = None;
        s.pending = left;
        s.facts = after;
        s.notices_refused = refused;
        if let Some(f) = feedback_refused {
            s.feedback_refused = f;
        }
        s.runs += 1;
        s.log_run(at, outcome.clone());
        // Not if the unit locked since the check above (they are forgotten at the lock).
        if let Some(list) = booked
            && go_on()
        {
            s.appointments = list;
        }
        s.last = Some(outcome);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A refused certificate is the hub not trusted wherever the run met it; the list's own
    /// check, a plain lost connection or a refusal by the hub are not.
    #[test]
    fn a_refused_certificate_is_an_untrusted_hub_wherever_it_was_met() {
        use doorstep_sync::client::SyncError;
        use doorstep_sync::escrow::{EscrowError, Report};
        let refused = || SyncError::Connection("invalid peer certificate: Revoked".into());
        let lost = || SyncError::Connection("Connection reset by peer (os error 104)".into());
        let listed = |r: Result<bool, EscrowError>| Ok(Report { revocations: Some(r), ..Report::default() });
        let failed = |e: SyncError| Ok(Report { failed: vec![("id".into(), e)], stopped: true, ..Report::default() });
        let cases: Vec<(Result<Report, EscrowError>, bool)> = vec![
            (listed(Err(EscrowError::Hub(refused()))), true),
            (failed(refused()), true),
            (Err(EscrowError::Hub(refused())), true),
            (listed(Err(EscrowError::Revocations(doorstep_sync::tls::TlsError::ListShrank))), false),
            (listed(Err(EscrowError::Hub(lost()))), false),
            (failed(lost()), false),
            (listed(Ok(true)), false),
            (Ok(Report::default()), false),
        ];
        for (i, (report, want)) in cases.iter().enumerate() {
            assert_eq!(untrusted_hub(report), *want, "case {i}");
        }
    }

    #[test]
    fn the_log_keeps_one_line_for_runs_that_end_alike() {
        let mut v = SyncView::default();
        let failed = Outcome::Failed { failed: 1, why: None, damaged: 1, not_read: 0 };
        for (at, outcome) in [
            (10, Outcome::NoCoverage),
            (70, Outcome::NoCoverage),
            (130, failed.clone()),
            (190, failed.clone()),
            (250, Outcome::Done { uploaded: 0 }),
        ] {
            v.log_run(at, outcome);
        }
        assert_eq!(v.log, vec![(70, Outcome::NoCoverage), (190, failed), (250, Outcome::Done { uploaded: 0 })]);
        for at in 0..(LOG_RUNS as i64 * 2) {
            v.log_run(at, if at % 2 == 0 { Outcome::NoCoverage } else { Outcome::Done { uploaded: 1 } });
        }
        assert_eq!(v.log.len(), LOG_RUNS, "the last {LOG_RUNS} only");
    }
}
