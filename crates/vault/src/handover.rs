//! Handing over the files kept aside as damaged: a supervisor copies them out of the vault's
//! folder for the bureau, and only then does the unit stop naming them. A sealed application
//! handed over this way is written off the unit: it can never be uploaded from here, and its
//! entry would otherwise hold the officer's sync line and the supervisor's shift in red for
//! ever. The copies are as the unit kept them: sealed under the unit's data key (and, inside
//! an application's file, the envelope sealed to the bureau), never in the clear.
//!
//! Each hand-over goes into a new folder of its own, `DEVICE-UNIXTIME`, inside the folder
//! named (which must exist, outside the vault): nothing already there is changed or replaced.
//! Each file is copied and made durable first, then recorded in the audit log (`handed-over`,
//! and `written-off` with the application's id before its entry goes), and only then removed
//! from the vault; a stop in between leaves it kept aside, to be handed over again.

use std::fs;
use std::io::Write;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::keyslots::Role;
use crate::outbox::OutboxState;
use crate::report::{SetAside, SetAsideKind};
use crate::{DRAFTS, ENVELOPES, FEEDBACK, Vault, VaultError, fsutil};

/// Copies `from` (a file, or a folder such as an index kept aside) to `to`, which must not
/// exist, durably. A link is not followed.
fn copy_durably(from: &Path, to: &Path) -> Result<(), VaultError> {
    let kind = fs::symlink_metadata(from)?.file_type();
    if kind.is_dir() {
        fs::DirBuilder::new().mode(fsutil::DIR_MODE).create(to)?;
        for entry in fs::read_dir(from)? {
            let entry = entry?;
            copy_durably(&entry.path(), &to.join(entry.file_name()))?;
        }
        fsutil::sync_dir(to)?;
    } else if kind.is_file() {
        let mut file = fsutil::create_new(to)?;
        file.write_all(&fs::read(from)?)?;
        fsutil::sync_file(&file)?;
    } else {
        return Err(VaultError::NotAllowed(format!("{} is not a file or a folder of the vault", from.display())));
    }
    Ok(())
}

/// Removes a file, or a folder and everything in it.
fn remove(path: &Path) -> Result<(), VaultError> {
    if fs::symlink_metadata(path)?.is_dir() {
        fs::remove_dir_all(path)?;
        if let Some(parent) = path.parent() {
            fsutil::sync_dir(parent)?;
        }
    } else {
        fsutil::remove_durably(path)?;
    }
    Ok(())
}

/// A file kept aside, handed over (or, in a plan, to be), and the sealed application its
/// hand-over writes off the unit, if any: one still sealed here whose file is this one. An
/// application the hub already has is not written off (the hub has it; it still waits for the
/// supervisor's decision, and the next sync erases it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HandedOver {
    #[serde(flatten)]
    pub file: SetAside,
    pub written_off: Option<String>,
    /// The application written off had been sent before (a stop cut the upload or its
    /// receipt short): the hub may hold it, undecided, for the bureau to find by its id.
    pub sent_before: bool,
}

impl Vault {
    /// What [`Vault::hand_over_set_aside`] into `to` would hand over now, and write off, or
    /// why it would be refused: nothing is changed. Supervisors only, as the hand-over.
    pub fn hand_over_plan(&self, to: &Path) -> Result<Vec<HandedOver>, VaultError> {
        if self.role != Role::Supervisor {
            return Err(VaultError::NotAllowed("only a supervisor hands over the files kept aside".into()));
        }
        // Checked before anything is made: an existing folder (a medium not mounted is not
        // written under its mount point), outside the vault.
        if !to.is_dir() {
            return Err(VaultError::NotAllowed(format!("{} is not an existing folder", to.display())));
        }
        if fs::canonicalize(to)?.starts_with(fs::canonicalize(&self.dir)?) {
            return Err(VaultError::NotAllowed("the files are handed over to a folder outside the vault".into()));
        }
        self.set_aside()?
            .into_iter()
            .map(|file| {
                let (written_off, sent_before) = self.written_off_by(&file)?;
                Ok(HandedOver { written_off, sent_before, file })
            })
            .collect()
    }

    /// Hands every file kept aside over into a new folder `DEVICE-UNIXTIME` inside `to` (an
    /// existing folder outside the vault's): copied there, recorded, then removed from the
    /// vault, and a sealed application among them written off. Supervisors only. Returns the
    /// folder made (none when nothing was kept aside) and what was handed over.
    pub fn hand_over_set_aside(
        &mut self,
        to: &Path,
        now: i64,
    ) -> Result<(Option<PathBuf>, Vec<HandedOver>), VaultError> {
        let plan = self.hand_over_plan(to)?;
        if plan.is_empty() {
            return Ok((None, plan));
        }
        let folder = to.join(format!("{}-{now}", self.device_id.0));
        fs::DirBuilder::new().mode(fsutil::DIR_MODE).create(&folder)?;
        // Durable before any original is removed: a power cut must not lose both.
        fsutil::sync_dir(to)?;
        let mut handed = Vec::new();
        for HandedOver { file: a, .. } in plan {
            let dir = match a.kind {
                SetAsideKind::Application => self.dir.join(ENVELOPES),
                SetAsideKind::Draft => self.dir.join(DRAFTS),
                SetAsideKind::Feedback => self.dir.join(FEEDBACK),
                SetAsideKind::Index | SetAsideKind::AuditLog => self.dir.clone(),
            };
            let from = dir.join(&a.name);
            copy_durably(&from, &folder.join(&a.name))?;
            fsutil::sync_dir(&folder)?;
            self.record(now, "handed-over", &a.name)?;
            // Judged again now, as the record and removal go together.
            let (written_off, sent_before) = self.written_off_by(&a)?;
            if let Some(id) = &written_off {
                self.record(now, "written-off", id)?;
                self.index.remove(id.as_bytes())?;
                self.flush()?;
            }
            remove(&from)?;
            handed.push(HandedOver { file: a, written_off, sent_before });
        }
        fsutil::sync_dir(to)?;
        Ok((Some(folder), handed))
    }

    /// The application whose envelope file was kept aside as `a` (`FILE.damaged`), still
    /// sealed on the unit and with no file in its place: its hand-over writes it off, so that
    /// nothing waits for it any more; and whether it had been sent before.
    fn written_off_by(&self, a: &SetAside) -> Result<(Option<String>, bool), VaultError> {
        if a.kind != SetAsideKind::Application {
            return Ok((None, false));
        }
        let Some(file) = a.name.strip_suffix(".damaged") else { return Ok((None, false)) };
        for e in self.outbox()? {
            let Some(app) = doorstep_envelope::ApplicationId::parse(&e.application_id) else { continue };
            // Its file's name as the vault finds it (an earlier version's entries name none).
            let path = self.envelope_path(&app);
            let named = path.file_name().is_some_and(|n| n.to_string_lossy() == file);
            let sealed = matches!(e.state, OutboxState::Sealed | OutboxState::Uploading);
            if named && sealed && !path.exists() {
                // Its attempts, or (an earlier version's entry, or an upload reset at a restart)
                // the audit log's `upload`.
                let sent = e.attempts > 0 || self.audit_records("upload", &e.application_id)?;
                return Ok((Some(e.application_id), sent));
            }
        }
        Ok((None, false))
    }
}
