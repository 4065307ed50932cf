//! Files and folders of the hub are their owner's only from their creation: folders 0700,
//! files 0600 (keys, bundles, the store, exports, and the rest, so that nothing needs sorting).

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Makes a folder (and those above it that are missing) only its owner can open, from its
/// creation; tightens one that is there already.
pub(crate) fn private_dir(path: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(path)?;
    let mode = std::fs::metadata(path)?.permissions().mode();
    if mode & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o700))?;
    }
    Ok(())
}

/// Writes a file only its owner can read, made so (0600) from its creation; `new` refuses
/// one that is there already. Flushed to the disk before it returns.
pub(crate) fn write_private(path: &Path, bytes: &[u8], new: bool) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).mode(0o600);
    if new {
        options.create_new(true);
    } else {
        options.create(true).truncate(true);
    }
    let mut f = options.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}
