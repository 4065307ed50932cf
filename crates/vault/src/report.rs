//! What `vault status` and `vault verify` report.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use doorstep_envelope::{ApplicationId, Receipt};
use serde::Serialize;

use crate::audit;
use crate::keyslots::KeySlots;
use crate::outbox::OutboxState;
use crate::{AUDIT, DRAFTS, ENVELOPES, FEEDBACK, INDEX_DIR, Vault, VaultError, fsutil};

/// What a file kept aside as damaged held (`Vault::set_aside`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SetAsideKind {
    /// A sealed application: it cannot be uploaded from this unit.
    Application,
    /// A part of a visit not yet sealed.
    Draft,
    /// A feedback sealed to the bureau, or what the unit heard back of it.
    Feedback,
    /// The index, rebuilt from the files.
    Index,
    /// The audit log, a new chain started.
    AuditLog,
}

/// A file the vault kept aside as damaged: never deleted, never sent, named by its file name
/// in the vault's folder (an id's hex or a counter: nothing personal).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SetAside {
    pub kind: SetAsideKind,
    pub name: String,
}

/// The kind of a vault file kept aside by its name, where it is one (in `dir`, the vault's
/// folder or one of its own).
fn set_aside_kind(dir: &str, name: &str) -> Option<SetAsideKind> {
    match dir {
        ENVELOPES if name.ends_with(".env.damaged") => Some(SetAsideKind::Application),
        DRAFTS if name.ends_with(".draft.damaged") => Some(SetAsideKind::Draft),
        FEEDBACK if name.ends_with(".sealed.damaged") => Some(SetAsideKind::Feedback),
        "" if name.starts_with(&format!("{INDEX_DIR}.damaged-")) => Some(SetAsideKind::Index),
        "" if name.starts_with(&format!("{AUDIT}.damaged-")) => Some(SetAsideKind::AuditLog),
        _ => None,
    }
}

/// Counts for `vault status`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Status {
    pub drafts: usize,
    pub by_state: BTreeMap<String, usize>,
    pub envelope_bytes: u64,
    pub index_bytes: u64,
    pub free_bytes: u64,
    pub reserve_bytes: u64,
    pub audit_entries: u64,
    pub users: Vec<String>,
    pub device_id: String,
    /// Which key store protects the PIN-derived keys: "software" without a TPM.
    pub key_store: String,
    /// The files kept aside as damaged (`Vault::set_aside`).
    pub set_aside: Vec<SetAside>,
}

/// What `vault verify` found; empty `problems` means all is well.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    pub drafts_checked: usize,
    pub envelopes_checked: usize,
    pub audit_entries: usize,
    pub problems: Vec<String>,
}

/// Files and folders below `dir` (sled's own index files aside, inside its 0700 folder) that
/// others could read.
fn loose_permissions(dir: &Path) -> Result<Vec<String>, VaultError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if fs::metadata(&d)?.permissions().mode() & 0o077 != 0 {
            out.push(d.display().to_string());
        }
        for entry in fs::read_dir(&d)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                if path.file_name().is_some_and(|n| n.to_string_lossy().starts_with(INDEX_DIR)) {
                    if fs::metadata(&path)?.permissions().mode() & 0o077 != 0 {
                        out.push(path.display().to_string());
                    }
                    continue;
                }
                stack.push(path);
            } else if entry.metadata()?.permissions().mode() & 0o077 != 0 {
                out.push(path.display().to_string());
            }
        }
    }
    Ok(out)
}

/// The audit log in brief, for the unit's diagnostics: how many entries of each action, when the
/// last was written, and whether the chain holds. Actions only (`seal`, `erase`, `unlock`…),
/// never their subjects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuditSummary {
    pub by_action: BTreeMap<String, usize>,
    pub last_at_unix: Option<i64>,
    /// The chain of hashes and signatures verifies from the first entry to the last, was not
    /// started again at this unlock (a log damaged in the middle is moved aside and a new chain
    /// begun; a torn last record, after a power loss, is only cut), and was never found cut
    /// (an `audit-cut` record in it, from any unlock).
    pub chain_ok: bool,
}

impl Vault {
    /// Reads the whole audit log (on a task: it is a file read and a signature per entry).
    pub fn audit_summary(&self) -> Result<AuditSummary, VaultError> {
        let (scan, _) = audit::AuditLog::scan(&self.dir.join(AUDIT), &self.data_key)?;
        let mut by_action = BTreeMap::new();
        for e in &scan.entries {
            *by_action.entry(e.action.clone()).or_default() += 1;
        }
        // A torn last record (the power lost mid-write) is cut at unlock and the chain holds; a
        // log damaged in the middle was set aside and a new chain begun; a log found shorter
        // than it was made lost its earlier records (recorded in it: said at every unlock after).
        // A log found cut (or emptied, or replaced) holds a whole chain, but not all of it.
        let restarted = self.recovery().audit_damaged.is_some()
            || self.recovery().audit_cut.is_some()
            || scan.entries.iter().any(|e| e.action == audit::CUT);
        let chain_ok = !restarted
            && scan.torn_tail == 0
            && scan.damaged_at.is_none()
            && audit::verify_chain(&scan.entries, &self.device_public_key()).is_ok();
        Ok(AuditSummary { by_action, last_at_unix: scan.entries.last().map(|e| e.at_unix), chain_ok })
    }

    /// The audit log's records, oldest first (on a task: the whole log is read).
    pub fn audit_entries(&self) -> Result<Vec<crate::AuditEntry>, VaultError> {
        Ok(audit::AuditLog::scan(&self.dir.join(AUDIT), &self.data_key)?.0.entries)
    }

    pub fn status(&self) -> Result<Status, VaultError> {
        let mut status = Status {
            drafts: self.draft_visits()?.len(),
            free_bytes: fsutil::available_space(&self.dir)?,
            reserve_bytes: self.config.reserve_bytes,
            audit_entries: self.audit.head().1,
            device_id: self.device_id.0.clone(),
            users: KeySlots::load(&self.dir)?.slots.iter().map(|s| format!("{} ({:?})", s.user, s.role)).collect(),
            key_store: self.key_store.to_string(),
            ..Status::default()
        };
        for e in self.outbox()? {
            *status.by_state.entry(format!("{:?}", e.state).to_lowercase()).or_default() += 1;
            if e.state != OutboxState::Erased {
                status.envelope_bytes += e.size;
            }
        }
        status.index_bytes = self.db.size_on_disk().unwrap_or(0);
        status.set_aside = self.set_aside()?;
        Ok(status)
    }

    /// Every file kept aside as damaged, whenever it was (this unlock's are also in
    /// [`Vault::recovery`]): what it held and its name, in order of kind and name. They stay
    /// until someone who can read them (`vault verify`, the bureau) decides.
    pub fn set_aside(&self) -> Result<Vec<SetAside>, VaultError> {
        let mut out = Vec::new();
        for dir in ["", ENVELOPES, DRAFTS, FEEDBACK] {
            let entries = match fs::read_dir(self.dir.join(dir)) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            };
            for entry in entries {
                let name = entry?.file_name().to_string_lossy().into_owned();
                if let Some(kind) = set_aside_kind(dir, &name) {
                    out.push(SetAside { kind, name });
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Checks that every draft and index value decrypts, every envelope verifies and matches
    /// the index, every receipt matches, and the audit chain is intact.
    pub fn verify(&self) -> Result<VerifyReport, VaultError> {
        let mut report = VerifyReport::default();
        for (visit, part, name) in self.draft_files()? {
            match self.load_draft(&visit, &part) {
                Ok(_) => report.drafts_checked += 1,
                Err(e) => report.problems.push(format!("draft file {name}: {e}")),
            }
        }
        for name in loose_permissions(&self.dir)? {
            report.problems.push(format!("{name}: readable by other users (the vault's files are 0600, folders 0700)"));
        }
        let device = self.device_key.verifying_key();
        let mut indexed = std::collections::HashSet::new();
        for entry in self.outbox()? {
            indexed.insert(entry.application_id.clone());
            let Some(app) = ApplicationId::parse(&entry.application_id) else {
                report.problems.push(format!("index entry {} is not an application id", entry.application_id));
                continue;
            };
            let path = self.envelope_path(&app);
            if entry.state == OutboxState::Erased {
                if path.exists() {
                    report.problems.push(format!("{}: erased but its file is still there", entry.application_id));
                }
                continue;
            }
            match fs::read(&path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    report.problems.push(format!("{}: the envelope file is missing", entry.application_id))
                }
                Err(e) => report.problems.push(format!(
                    "{}: the storage did not read its envelope file ({e}); the file is left as it is",
                    entry.application_id
                )),
                Ok(bytes) => match self.open_container(&bytes).map(|(_, env)| env) {
                    Err(e) => report.problems.push(format!("{}: {e}", entry.application_id)),
                    Ok(env) => {
                        if env.header().device_key != device.to_bytes() {
                            report.problems.push(format!("{}: not sealed by this device", entry.application_id));
                        } else if let Err(e) = env.verify_self_signed() {
                            report.problems.push(format!("{}: {e}", entry.application_id));
                        } else if hex::encode(env.digest()) != entry.digest {
                            report
                                .problems
                                .push(format!("{}: the digest differs from the index", entry.application_id));
                        } else {
                            report.envelopes_checked += 1;
                        }
                    }
                },
            }
            if entry.state == OutboxState::Acknowledged {
                let ok = fs::read(self.receipt_path(&app))
                    .ok()
                    .and_then(|r| Receipt::from_bytes(&r).ok())
                    .is_some_and(|r| hex::encode(r.digest) == entry.digest);
                if !ok {
                    report.problems.push(format!("{}: acknowledged without a matching receipt", entry.application_id));
                }
            }
        }
        for file in fs::read_dir(self.dir.join(ENVELOPES))? {
            let path = file?.path();
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if name.ends_with(".env") && fs::metadata(&path).map(|m| m.len() > 0).unwrap_or(false) {
                match fs::read(&path).map_err(VaultError::from).and_then(|b| self.open_container(&b)) {
                    Ok((_, env)) if !indexed.contains(&env.application_id().to_string()) => {
                        report
                            .problems
                            .push(format!("{}: envelope file {name} not in the index", env.application_id()));
                    }
                    Ok(_) => {}
                    Err(e) => report.problems.push(format!("{name}: {e}")),
                }
            }
            if name.ends_with(".env.damaged") {
                report.problems.push(format!("{name}: a sealed application's file is damaged (kept aside)"));
            }
        }
        let (scan, _) = audit::AuditLog::scan(&self.dir.join(AUDIT), &self.data_key)?;
        report.audit_entries = scan.entries.len();
        if scan.torn_tail > 0 {
            report.problems.push(format!("the audit log has {} bytes that are not whole records", scan.torn_tail));
        }
        if let Some(at) = scan.damaged_at {
            report.problems.push(format!("the audit log is damaged at byte {at}"));
        }
        if let Err(e) = audit::verify_chain(&scan.entries, &device) {
            report.problems.push(format!("audit chain: {e}"));
        }
        for cut in scan.entries.iter().filter(|e| e.action == audit::CUT) {
            let at = time::OffsetDateTime::from_unix_timestamp(cut.at_unix)
                .ok()
                .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
                .unwrap_or_else(|| cut.at_unix.to_string());
            report.problems.push(format!(
                "the audit log was found cut, emptied or replaced when the vault opened at {at} (UTC): {} were there",
                cut.subject
            ));
        }
        for a in self.set_aside()? {
            match a.kind {
                SetAsideKind::AuditLog if a.name.contains(".damaged-tail-") => report.problems.push(format!(
                    "bytes after the audit log's last whole record (what a power cut leaves, or damage to \
                     its last records) were cut off and kept aside as {}",
                    a.name
                )),
                SetAsideKind::AuditLog => {
                    report.problems.push(format!("the audit log was damaged and kept aside as {}", a.name));
                }
                SetAsideKind::Draft => {
                    report.problems.push(format!("{}: a draft's file is damaged (kept aside)", a.name))
                }
                SetAsideKind::Feedback => {
                    report.problems.push(format!("{}: a feedback's file is damaged (kept aside)", a.name));
                }
                // An application's is reported with the envelopes above; an index kept aside
                // is named by the status and the screens (it was rebuilt from the files).
                SetAsideKind::Application | SetAsideKind::Index => {}
            }
        }
        Ok(report)
    }
}
