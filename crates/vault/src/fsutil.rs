//! Durable file operations: write, fsync, rename, fsync the directory. Every file the vault
//! makes is 0600 and every folder 0700, from creation.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::faults::{self, Point};

/// Mode of the vault's files: the owner only.
pub const FILE_MODE: u32 = 0o600;
/// Mode of the vault's folders: the owner only.
pub const DIR_MODE: u32 = 0o700;

/// Creates `dir` and its missing parents, each 0700, durably: a folder made is in its
/// parent's entries only once the parent is synced, and a file made durable inside a folder
/// that is not would be lost with it at a power cut.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    let mut made = Vec::new();
    let mut at = Some(dir);
    while let Some(d) = at.filter(|d| !d.as_os_str().is_empty() && fs::symlink_metadata(d).is_err()) {
        made.push(d);
        at = d.parent();
    }
    fs::DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)?;
    for d in made.iter().rev() {
        match d.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(parent) => sync_dir(parent)?,
            None => sync_dir(Path::new("."))?,
        }
    }
    // A folder that existed already (an earlier version made it 0755) is tightened; a link to
    // a folder elsewhere is used, never changed.
    if fs::symlink_metadata(dir)?.file_type().is_symlink() {
        return Ok(());
    }
    set_dir_mode(dir)
}

/// Opens a new file for writing, 0600, failing if it exists.
pub fn create_new(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).mode(FILE_MODE).open(path)
}

/// A temporary name beside `path` that no other writer uses: `.NAME.RANDOM.tmp`.
pub fn temp_name(path: &Path) -> io::Result<std::path::PathBuf> {
    let dir = path.parent().ok_or_else(|| io::Error::other("no parent directory"))?;
    let name = path.file_name().ok_or_else(|| io::Error::other("no file name"))?;
    let mut tag = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut tag);
    Ok(dir.join(format!(".{}.{}.tmp", name.to_string_lossy(), hex::encode(tag))))
}

/// Writes `bytes` to `path` so that after a crash the file is either the old one or the new
/// one, never a mix: write a uniquely named temporary file, fsync it, rename it over, fsync
/// the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().ok_or_else(|| io::Error::other("no parent directory"))?;
    let tmp = temp_name(path)?;
    let written = (|| {
        let mut f = create_new(&tmp)?;
        faults::write(Point::Write, bytes, |b| f.write_all(b))?;
        sync_file(&f)?;
        faults::check(Point::Rename)?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        fs::remove_file(&tmp).ok();
        return Err(e);
    }
    sync_dir(dir)
}

/// Writes `bytes` into an existing, empty file whose directory entry is already durable, and
/// fsyncs it: one fsync, none for the directory.
pub fn write_into(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = OpenOptions::new().write(true).truncate(true).open(path)?;
    faults::write(Point::Write, bytes, |b| f.write_all(b))?;
    sync_file(&f)
}

/// Renames `from` over `to` (not durable until its folder is synced).
pub fn rename(from: &Path, to: &Path) -> io::Result<()> {
    faults::check(Point::Rename)?;
    fs::rename(from, to)
}

/// Makes a file's bytes durable.
pub fn sync_file(f: &File) -> io::Result<()> {
    faults::check(Point::Sync)?;
    f.sync_all()?;
    crate::powercut::synced(f);
    Ok(())
}

/// Makes a directory's entries (creations, renames, removals) durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    sync_file(&File::open(dir)?)
}

/// Removes a file and makes the removal durable. A file already gone is fine.
pub fn remove_durably(path: &Path) -> io::Result<()> {
    if remove(path)?
        && let Some(dir) = path.parent()
    {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Removes a file, not durably (its folder is not synced); whether it was there. A file
/// already gone is fine.
pub fn remove(path: &Path) -> io::Result<bool> {
    faults::check(Point::Remove)?;
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Bytes available to an unprivileged writer on the file system holding `dir`.
pub fn available_space(dir: &Path) -> io::Result<u64> {
    let s = rustix::fs::statvfs(dir).map_err(io::Error::from)?;
    Ok(s.f_bavail.saturating_mul(s.f_frsize))
}

/// Sets a folder's mode to 0700.
pub fn set_dir_mode(dir: &Path) -> io::Result<()> {
    fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE))
}

/// Tightens `path`: a file to 0600, a folder and everything below it to 0600 files and 0700
/// folders. Symbolic links are left alone (never followed).
pub fn tighten(path: &Path) -> io::Result<()> {
    let kind = fs::symlink_metadata(path)?.file_type();
    if kind.is_file() {
        if fs::metadata(path)?.permissions().mode() & 0o077 != 0 {
            fs::set_permissions(path, fs::Permissions::from_mode(FILE_MODE))?;
        }
        return Ok(());
    }
    if !kind.is_dir() {
        return Ok(());
    }
    set_dir_mode(path)?;
    for entry in fs::read_dir(path)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            tighten(&entry.path())?;
        } else if kind.is_file() && entry.metadata()?.permissions().mode() & 0o077 != 0 {
            fs::set_permissions(entry.path(), fs::Permissions::from_mode(FILE_MODE))?;
        }
    }
    Ok(())
}
