//! Handing over the files kept aside as damaged: a supervisor copies them out of the vault's
//! folder (to the bureau, which can judge what is left in them), and only then does the unit
//! stop naming them. A sealed application handed over this way is written off the unit: it
//! can never be uploaded from here, and its entry would otherwise hold the officer's sync line
//! and the supervisor's shift in red for ever.
//!
//! Each file is copied and made durable first, then recorded in the audit log (`handed-over`,
//! and `written-off` with the application's id), and only then removed from the vault; a stop
//! in between leaves it kept aside, to be handed over again.

use std::fs;
use std::path::Path;

use crate::keyslots::Role;
use crate::outbox::OutboxState;
use crate::report::{SetAside, SetAsideKind};
use crate::{DRAFTS, ENVELOPES, FEEDBACK, Vault, VaultError, fsutil};

/// Copies `from` (a file, or a folder such as an index kept aside) to `to`, durably.
fn copy_durably(from: &Path, to: &Path) -> Result<(), VaultError> {
    if fs::metadata(from)?.is_dir() {
        fsutil::create_dir(to)?;
        for entry in fs::read_dir(from)? {
            let entry = entry?;
            copy_durably(&entry.path(), &to.join(entry.file_name()))?;
        }
        fsutil::sync_dir(to)?;
    } else {
        fsutil::write_atomic(to, &fs::read(from)?)?;
    }
    Ok(())
}

/// Removes a file, or a folder and everything in it.
fn remove(path: &Path) -> Result<(), VaultError> {
    if fs::metadata(path)?.is_dir() {
        fs::remove_dir_all(path)?;
        if let Some(parent) = path.parent() {
            fsutil::sync_dir(parent)?;
        }
    } else {
        fsutil::remove_durably(path)?;
    }
    Ok(())
}

impl Vault {
    /// Hands every file kept aside over to the folder `to` (made if need be; it must not be
    /// inside the vault's folder): copied there, recorded, then removed from the vault, and a
    /// sealed application among them written off. Supervisors only. Returns what was handed
    /// over.
    pub fn hand_over_set_aside(&mut self, to: &Path, now: i64) -> Result<Vec<SetAside>, VaultError> {
        if self.role != Role::Supervisor {
            return Err(VaultError::NotAllowed("only a supervisor hands over the files kept aside".into()));
        }
        fsutil::create_dir(to)?;
        if fs::canonicalize(to)?.starts_with(fs::canonicalize(&self.dir)?) {
            return Err(VaultError::NotAllowed("the files are handed over to a folder outside the vault".into()));
        }
        let aside = self.set_aside()?;
        for a in &aside {
            let folder = match a.kind {
                SetAsideKind::Application => self.dir.join(ENVELOPES),
                SetAsideKind::Draft => self.dir.join(DRAFTS),
                SetAsideKind::Feedback => self.dir.join(FEEDBACK),
                SetAsideKind::Index | SetAsideKind::AuditLog => self.dir.clone(),
            };
            let from = folder.join(&a.name);
            copy_durably(&from, &to.join(&a.name))?;
            fsutil::sync_dir(to)?;
            self.record(now, "handed-over", &a.name)?;
            if a.kind == SetAsideKind::Application {
                self.write_off(&a.name, now)?;
            }
            remove(&from)?;
        }
        Ok(aside)
    }

    /// The application whose envelope file was kept aside as `name` (`FILE.damaged`), still
    /// sealed on the unit: its entry is removed, so that nothing waits for it any more.
    fn write_off(&mut self, name: &str, now: i64) -> Result<(), VaultError> {
        let Some(file) = name.strip_suffix(".damaged") else { return Ok(()) };
        for e in self.outbox()? {
            // Its file's name as the vault finds it (an earlier version's entries name none).
            let named = doorstep_envelope::ApplicationId::parse(&e.application_id)
                .and_then(|app| self.envelope_path(&app).file_name().map(|n| n.to_string_lossy() == file))
                .unwrap_or(false);
            if named && matches!(e.state, OutboxState::Sealed | OutboxState::Uploading) {
                self.index.remove(e.application_id.as_bytes())?;
                self.flush()?;
                self.record(now, "written-off", &e.application_id)?;
            }
        }
        Ok(())
    }
}
