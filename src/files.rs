//! Files the unit keeps beside its vault (receipts no printer took, the day's queue, the
//! end-of-shift reports): each written whole or not at all, readable by the unit's user only.

use std::path::Path;

/// Writes `bytes` to `path` in `dir` (made owner-only, 0700; the file 0600): into a `.part`
/// file first, on disk before it takes its name, then the folder synced, so a battery that dies
/// mid-write leaves no half file under the name. A failed write leaves no `.part` behind.
pub fn write_private(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    let part = path.with_extension("part");
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&part)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&part, path))
        .and_then(|()| std::fs::File::open(dir)?.sync_all());
    if written.is_err() {
        let _ = std::fs::remove_file(&part);
    }
    written
}
