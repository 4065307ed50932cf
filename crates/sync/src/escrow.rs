//! Escrow: every sealed application in the vault goes to the hub, and comes back as a signed
//! receipt that the vault stores before it erases anything. The vault decides; it refuses to
//! erase an envelope without a stored receipt.

use doorstep_envelope::{ApplicationId, VerifyingKey};
use doorstep_vault::outbox::OutboxState;
use doorstep_vault::{ReviewSummary, Vault};

use crate::bundle::{Bundle, BundleError};
use crate::client::{HubClient, Start, SyncError};
use crate::wire;

/// The vault secret that holds the unit's TLS key for its hub.
pub const TLS_KEY: &str = "hub-tls-key";

/// The hub this unit was provisioned for, reached only through [`Hub::connect`], which checks
/// the installed bundle against the one bound under the PIN (SECURITY R26) before a byte is
/// sent: every upload, status round and batch release goes through one.
pub struct Hub {
    /// The connection (its timeout and chunk size may be set).
    pub client: HubClient,
    receipt_key: VerifyingKey,
    /// The CA, and the revocation list the client refuses by (the bundle's, or a longer one
    /// learnt since).
    ca_pem: String,
    crl_pem: String,
}

impl Hub {
    /// Checks `bundle` against the vault's bound anchor, then builds the client with the TLS
    /// key sealed in the vault. The vault's key is never replaced from a bundle file: only
    /// when the vault has none (a bundle installed with its key by an earlier version) is the
    /// bundle's key moved into the vault; the caller then rewrites the bundle file without it
    /// (`Bundle::without_key`).
    pub fn connect(vault: &mut Vault, bundle: &Bundle, now: i64) -> Result<Hub, EscrowError> {
        vault.check_hub(&bundle.anchor_digest())?;
        // The list learnt at a sync (kept in the vault's sealed anchors with its CA's digest):
        // this CA's, and naming everything the bundle's names (a bundle from before it names
        // less; one from a hub that revoked more since names more).
        let ca = ca_digest(&bundle.ca_pem);
        let learnt = vault.hub_crl()?.filter(|(of, l)| *of == ca && crate::tls::names_all(l, &bundle.crl_pem));
        let learnt = learnt.map(|(_, l)| l);
        let bundle = &Bundle { crl_pem: learnt.unwrap_or_else(|| bundle.crl_pem.clone()), ..bundle.clone() };
        let config = match vault.secret(TLS_KEY)? {
            Some(key) => {
                let key = std::str::from_utf8(&key).map_err(|_| EscrowError::NoTlsKey)?;
                bundle.client_config_with(key)?
            }
            None if bundle.key_pem.is_empty() => return Err(EscrowError::NoTlsKey),
            None => {
                let config = bundle.client_config()?;
                vault.store_secret(TLS_KEY, bundle.key_pem.as_bytes(), now)?;
                config
            }
        };
        Ok(Hub {
            client: HubClient::new(&bundle.hub_url, config)?,
            receipt_key: bundle.hub_receipt_key()?,
            ca_pem: bundle.ca_pem.clone(),
            crl_pem: bundle.crl_pem.clone(),
        })
    }

    /// Asks the hub for its CA's revocation list and keeps it in the vault when it is newer
    /// than the one in use (checked by [`crate::tls::newer_list`] against the certificate this
    /// hub presented): the next connection refuses what it names. `true` when one was kept. A
    /// hub from before the lists (404) has none to give.
    pub fn learn_revocations(&mut self, vault: &mut Vault, now: i64) -> Result<bool, EscrowError> {
        let list = match self.client.crl() {
            Ok(Some(list)) => list,
            Ok(None) | Err(SyncError::Refused { status: 404, .. }) => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        if list == self.crl_pem {
            return Ok(false);
        }
        let (cert, name) = self.client.peer().ok_or_else(|| SyncError::Connection("no connection".into()))?;
        crate::tls::newer_list(&self.ca_pem, &self.crl_pem, &list, &cert, &name)?;
        vault.keep_hub_crl(&ca_digest(&self.ca_pem), &list, now)?;
        self.crl_pem = list;
        Ok(true)
    }
}

/// What a learnt revocation list is kept with: the SHA-256 of the CA it is for.
fn ca_digest(ca_pem: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(ca_pem.trim().as_bytes()))
}

#[derive(Debug, Default)]
pub struct Report {
    /// Uploaded, receipt stored, erased.
    pub uploaded: Vec<String>,
    /// Erased now after a receipt stored before the last stop.
    pub erased_earlier: usize,
    /// Not uploaded this time, and why; each is still sealed in the vault.
    pub failed: Vec<(String, SyncError)>,
    /// The connection failed, so the rest was left for the next time.
    pub stopped: bool,
    /// Asked to stop between two envelopes (the unit locked: its keys are not kept in memory for
    /// a sync): the rest was left for the next time.
    pub cut_short: bool,
    /// Sealed on this unit, but its file is damaged (kept aside when the vault was opened,
    /// missing, or gone bad since), and why: not sent, still sealed; the others went on.
    pub unreadable: Vec<(String, String)>,
    /// Sealed on this unit, its file in place, but the storage did not read it (an I/O error:
    /// [`doorstep_vault::VaultError::is_storage_fault`]), and why: not known to be damaged;
    /// not sent, still sealed, tried again at the next sync; the others went on.
    pub not_read: Vec<(String, String)>,
    /// At the hub, its receipt stored, but its file could not be erased now (a read or write
    /// that failed), and why: it stays until the next sync erases it; the others went on.
    pub not_erased: Vec<(String, String)>,
    /// After the uploads, the hub's revocation list: a newer one kept (`Ok(true)`), none newer,
    /// or why it was not taken (never a reason to stop a run; with nothing to upload, a
    /// certificate TLS refuses shows here first). `None`: not asked (the run stopped first).
    pub revocations: Option<Result<bool, EscrowError>>,
}

/// Erases application `id`'s file once the hub has it; a failure of the storage is noted in
/// `report` and left for the next sync (the file and its receipt stay), anything else ends the run.
fn erase(vault: &mut Vault, id: &str, now: i64, report: &mut Report) -> Result<bool, EscrowError> {
    match vault.erase(id, now) {
        Ok(_) => Ok(true),
        Err(doorstep_vault::VaultError::Io(err)) => {
            report.not_erased.push((id.to_string(), err.to_string()));
            Ok(false)
        }
        Err(err) => Err(err.into()),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EscrowError {
    #[error("vault: {0}")]
    Vault(#[from] doorstep_vault::VaultError),
    #[error("the vault's outbox names a bad id or digest: {0}")]
    Outbox(String),
    #[error("hub bundle: {0}")]
    Bundle(#[from] BundleError),
    #[error(transparent)]
    Hub(#[from] SyncError),
    #[error("this unit's TLS key for the hub is missing from the vault: provision the unit again")]
    NoTlsKey,
    #[error(transparent)]
    Revocations(#[from] crate::tls::TlsError),
}

/// What the hub newly says of applications this unit has handed over: approved, returned by
/// the supervisor, accepted or rejected by the back office (a returned or rejected one means a
/// revisit). Each answer is kept in the vault; an application whose answer is settled
/// (returned, accepted, rejected) is not asked about again, and one is reported only when its
/// answer changed, so each revisit is told once and a year of tombstones costs no requests.
/// Connection failures end the round early.
pub fn statuses(vault: &mut Vault, hub: &mut Hub) -> Result<Vec<(String, String, wire::Status)>, EscrowError> {
    let client = &mut hub.client;
    let mut out = Vec::new();
    for e in vault.outbox()? {
        if e.state != OutboxState::Erased || e.settled {
            continue;
        }
        let status = match client.status(&e.application_id) {
            Ok(s) => s,
            Err(SyncError::Connection(_)) => break,
            Err(_) => continue,
        };
        let json = serde_json::to_string(&status).map_err(|err| EscrowError::Outbox(err.to_string()))?;
        if e.hub_status.as_deref() == Some(json.as_str()) {
            continue;
        }
        let settled =
            matches!(status, wire::Status::Returned { .. } | wire::Status::Accepted | wire::Status::Rejected { .. });
        vault.note_hub_status(&e.application_id, &json, settled)?;
        out.push((e.application_id, e.visit_id, status));
    }
    Ok(out)
}

/// Uploads what is sealed, while `go_on` says so (asked before each envelope). `progress`
/// hears (application id, bytes the hub holds, total).
pub fn run(
    vault: &mut Vault,
    hub: &mut Hub,
    chunk: u64,
    now: &dyn Fn() -> i64,
    go_on: &dyn Fn() -> bool,
    progress: &mut dyn FnMut(&str, u64, u64),
) -> Result<Report, EscrowError> {
    let mut report = Report::default();
    let hub_key = &hub.receipt_key;
    let client = &mut hub.client;
    client.chunk = chunk;
    for e in vault.outbox()? {
        if !go_on() {
            report.cut_short = true;
            break;
        }
        match e.state {
            OutboxState::Acknowledged => {
                if erase(vault, &e.application_id, now(), &mut report)? {
                    report.erased_earlier += 1;
                }
                continue;
            }
            OutboxState::Sealed => {}
            _ => continue,
        }
        let id =
            ApplicationId::parse(&e.application_id).ok_or_else(|| EscrowError::Outbox(e.application_id.clone()))?;
        let digest = e.digest_bytes().ok_or_else(|| EscrowError::Outbox(e.digest.clone()))?;
        let bytes = match vault.envelope_bytes(&e.application_id) {
            Ok(bytes) => bytes,
            Err(err) if err.is_storage_fault() => {
                report.not_read.push((e.application_id, err.to_string()));
                continue;
            }
            Err(err) => {
                report.unreadable.push((e.application_id, err.to_string()));
                continue;
            }
        };
        vault.begin_upload(&e.application_id, now())?;
        let name = e.application_id.clone();
        let start = if e.attempts == 0 { Start::New } else { Start::Ask };
        match client.upload(id, &digest, &bytes, start, Some(hub_key), &mut |o, l| progress(&name, o, l)) {
            Ok(receipt) => {
                vault.acknowledge(&e.application_id, &receipt.to_bytes(), Some(hub_key), now())?;
                erase(vault, &e.application_id, now(), &mut report)?;
                report.uploaded.push(e.application_id);
            }
            Err(err) => {
                vault.upload_failed(&e.application_id, now())?;
                let stop = matches!(err, SyncError::Connection(_));
                report.failed.push((e.application_id, err));
                if stop {
                    report.stopped = true;
                    break;
                }
            }
        }
    }
    // The hub's revocation list, once the uploads are done on a connection that works.
    if !report.stopped && !report.cut_short && go_on() {
        report.revocations = Some(hub.learn_revocations(vault, now()));
    }
    Ok(report)
}

/// A shift's batch as the supervisor released it.
#[derive(Debug)]
pub struct Released {
    pub accepted: wire::ManifestAccepted,
    /// The hub's signed receipt for the manifest, verified and stored in the vault.
    pub receipt: doorstep_envelope::BatchReceipt,
    /// (application id, application numbers, returned with this reason or approved).
    pub decisions: Vec<(String, Vec<String>, Option<String>)>,
    /// The applications left for the next batch, as the supervisor named them: still on the
    /// unit, sealed and undecided.
    pub held: Vec<String>,
    /// Left for the next batch without being named: their file did not read when the release
    /// began and read at its upload, so they are at the hub, undecided, never approved unseen.
    pub unseen: Vec<String>,
    /// The escrow run that went first.
    pub escrow: Report,
}

#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error(transparent)]
    Escrow(#[from] EscrowError),
    #[error("only a supervisor releases a batch")]
    NotSupervisor,
    #[error("nothing to decide: every application on this unit is already in a released batch, or held for the next")]
    Nothing,
    #[error(
        "nothing was released: the only undecided application(s), {}, could be read only now, at their upload; they are at the hub, undecided: look at them and release again",
        .0.join(", ")
    )]
    OnlyUnseen(Vec<String>),
    #[error("{0} is not an undecided application on this unit")]
    UnknownReturn(String),
    #[error("{0} is both held for the next batch and returned: choose one")]
    HeldAndReturned(String),
    #[error("a returned application needs a reason the officer can act on: {0}")]
    NoReason(String),
    #[error("the batch cannot be released yet, {0} application(s) are not at the hub; nothing was released")]
    NotUploaded(usize, Box<Report>),
    #[error("manifest: {0}")]
    Manifest(doorstep_envelope::EnvelopeError),
    #[error(transparent)]
    Hub(#[from] SyncError),
}

/// Whether the application of outbox entry `e` waits for the supervisor's decision, and its
/// review summary where it reads. `Some(Some(summary))`: it waits (on the unit, or at the hub).
/// `Some(None)`: it waits at the hub, but its summary does not read here (its file or index
/// value gone bad): it is listed to check, and the manifest needs only its id and digest.
/// `None`: already decided, or on the unit with a file that does not read (kept aside as
/// damaged, missing, gone bad since the unlock): it can be neither sent nor decided.
///
/// The one rule for the supervisor's list, for what the release expects decided, and for the
/// manifest, so that they always agree.
pub fn awaiting_decision(vault: &Vault, e: &doorstep_vault::OutboxEntry) -> Option<Option<ReviewSummary>> {
    let at_hub = matches!(e.state, OutboxState::Acknowledged | OutboxState::Erased);
    match vault.review(&e.application_id) {
        Ok(Some(review)) => Some(Some(review)),
        Err(_) if at_hub => Some(None),
        Ok(None) | Err(_) => None,
    }
}

/// Two spellings of one application id (with or without its dashes, any case).
fn same_application(a: &str, b: &str) -> bool {
    ApplicationId::parse(a).is_some_and(|a| ApplicationId::parse(b) == Some(a))
}

/// The supervisor's release of a shift: uploads what is still sealed, then signs a manifest
/// over every undecided application on this unit (approved, or returned with a reason), sends
/// it, and once the hub has taken it erases the review summaries. `progress` hears the uploads
/// as [`run`]'s does.
///
/// `held` names applications the supervisor leaves for the next batch (one the hub refused, or
/// one not decided yet): they are not in the manifest, need not be at the hub, and stay on the
/// unit, sealed and undecided, as they were. Every other application must be at the hub.
pub fn release_batch(
    vault: &mut Vault,
    hub: &mut Hub,
    returns: &[(String, String)],
    held: &[String],
    now: &dyn Fn() -> i64,
    progress: &mut dyn FnMut(&str, u64, u64),
) -> Result<Released, ReleaseError> {
    use doorstep_envelope::{BatchManifest, Decision, ManifestEntry};
    let (supervisor, role) = vault.user();
    if role != doorstep_vault::Role::Supervisor {
        return Err(ReleaseError::NotSupervisor);
    }
    let supervisor = supervisor.to_string();
    let is_held = |id: &str| held.iter().any(|h| same_application(h, id));
    if let Some((r, _)) = returns.iter().find(|(r, _)| is_held(r)) {
        return Err(ReleaseError::HeldAndReturned(r.clone()));
    }
    let outbox = vault.outbox().map_err(EscrowError::from)?;
    for h in held {
        // As the supervisor's list has it: one at the hub whose summary was lost may wait too.
        let undecided = match outbox.iter().find(|e| same_application(&e.application_id, h)) {
            Some(e) => awaiting_decision(vault, e).is_some(),
            None => false,
        };
        if !undecided {
            return Err(ReleaseError::UnknownReturn(h.clone()));
        }
    }
    // What waits for a decision as the release begins: only these are decided. One whose file
    // did not read until the upload below (a card failing now and then) goes to the hub, but
    // is not approved unseen: it waits for the next batch, on the supervisor's list.
    let listed: std::collections::HashSet<String> =
        outbox.iter().filter(|e| awaiting_decision(vault, e).is_some()).map(|e| e.application_id.clone()).collect();
    // A release goes on through a lock: it was asked for with the PIN, and is all or nothing.
    let escrow = run(vault, hub, 64 * 1024, now, &|| true, progress)?;
    let (client, hub_key) = (&mut hub.client, &hub.receipt_key);
    let mut entries = Vec::new();
    let mut decisions = Vec::new();
    let mut unseen = Vec::new();
    for e in vault.outbox().map_err(EscrowError::from)? {
        if matches!(e.state, OutboxState::Sealed | OutboxState::Uploading) || is_held(&e.application_id) {
            continue;
        }
        if !listed.contains(&e.application_id) {
            if awaiting_decision(vault, &e).is_some() {
                unseen.push(e.application_id.clone());
            }
            continue;
        }
        // At the hub: its summary's numbers, or none where the summary does not read.
        let Some(review) = awaiting_decision(vault, &e) else { continue };
        let numbers = review.map(|r| r.application_numbers).unwrap_or_default();
        let id =
            ApplicationId::parse(&e.application_id).ok_or_else(|| EscrowError::Outbox(e.application_id.clone()))?;
        let digest = e.digest_bytes().ok_or_else(|| EscrowError::Outbox(e.digest.clone()))?;
        let reason = returns.iter().find(|(r, _)| same_application(r, &e.application_id)).map(|(_, why)| why.clone());
        let decision = match &reason {
            Some(why) if why.trim().is_empty() => return Err(ReleaseError::NoReason(e.application_id)),
            Some(why) => Decision::Returned { reason: why.clone() },
            None => Decision::Approved,
        };
        entries.push(ManifestEntry { application_id: id, digest, decision });
        decisions.push((e.application_id.clone(), numbers, reason));
    }
    // One whose file on this unit does not read (kept aside as damaged, or the storage failed)
    // can be neither sent nor decided: it stays sealed, named in `escrow.unreadable` or
    // `escrow.not_read`, and holds nothing up.
    let unreadable = |id: &str| escrow.unreadable.iter().chain(&escrow.not_read).any(|(u, _)| u == id);
    let still_sealed = vault
        .outbox()
        .map_err(EscrowError::from)?
        .iter()
        .filter(|e| matches!(e.state, OutboxState::Sealed | OutboxState::Uploading))
        .filter(|e| listed.contains(&e.application_id))
        .filter(|e| !is_held(&e.application_id) && !unreadable(&e.application_id))
        .count();
    if still_sealed > 0 {
        // Only what holds the release up: the failure of one held, or of one not listed when
        // the release began, is not among it.
        let mut escrow = escrow;
        escrow.failed.retain(|(id, _)| !is_held(id) && listed.contains(id));
        return Err(ReleaseError::NotUploaded(still_sealed, Box::new(escrow)));
    }
    for (r, _) in returns {
        if !entries.iter().any(|e| Some(e.application_id) == ApplicationId::parse(r)) {
            return Err(ReleaseError::UnknownReturn(r.clone()));
        }
    }
    if entries.is_empty() {
        // What came to the hub only now is for the supervisor to look at, not "nothing".
        if !unseen.is_empty() {
            return Err(ReleaseError::OnlyUnseen(unseen));
        }
        return Err(ReleaseError::Nothing);
    }
    let (audit_head, audit_length) = vault.audit_head();
    let created = now();
    // Numbered as well as timed: a release in the same second as the last (a batch released,
    // then one held back released) is another batch, not the same one sent again.
    let number = vault.batch_receipts().map_err(EscrowError::from)?.len() + 1;
    let manifest = BatchManifest {
        batch_id: format!("{}-{created}-{number}", vault.device_id()),
        device_id: vault.device_id().to_string(),
        supervisor_id: supervisor,
        created_at_unix: created,
        entries,
        audit_head,
        audit_length,
    }
    .sign(vault.user_signing_key())
    .map_err(ReleaseError::Manifest)?;
    let (accepted, receipt) = client.submit_manifest(&manifest.to_bytes(), Some(hub_key))?;
    vault.store_batch_receipt(&accepted.batch_id, &receipt.to_bytes(), now()).map_err(EscrowError::from)?;
    let ids: Vec<String> = decisions.iter().map(|d| d.0.clone()).collect();
    vault.batch_decided(&ids, now()).map_err(EscrowError::from)?;
    let mut named: Vec<String> = Vec::new();
    for h in held {
        if !named.iter().any(|n| same_application(n, h)) {
            named.push(h.clone());
        }
    }
    Ok(Released { accepted, receipt, decisions, held: named, unseen, escrow })
}
