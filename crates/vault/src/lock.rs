//! The vault's own inter-process lock for writers. The unit and the command line may both run:
//! the second to open the vault waits briefly, then is told which process holds it. A vault in
//! use is never mistaken for a damaged one.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use rustix::fs::{FlockOperation, flock};

use crate::VaultError;

pub(crate) const FILE: &str = "lock";

/// How long a second writer waits for the first before it is told the vault is busy.
pub const WAIT: Duration = Duration::from_secs(2);

/// The lock, held until dropped (or the process ends, when the kernel lets go of it).
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
}

impl WriterLock {
    /// Takes the lock of the vault in `dir`, waiting up to `wait` for another holder.
    pub fn acquire(dir: &Path, wait: Duration) -> Result<WriterLock, VaultError> {
        let path = dir.join(FILE);
        let mut file =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).mode(0o600).open(&path)?;
        let start = Instant::now();
        loop {
            match flock(&file, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => break,
                Err(rustix::io::Errno::WOULDBLOCK | rustix::io::Errno::INTR) if start.elapsed() < wait => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(rustix::io::Errno::WOULDBLOCK) => {
                    let mut holder = String::new();
                    file.read_to_string(&mut holder).ok();
                    return Err(VaultError::Busy { pid: holder.trim().parse().ok() });
                }
                Err(e) => return Err(std::io::Error::from(e).into()),
            }
        }
        // Say who holds it, for the next one to be told.
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        writeln!(file, "{}", std::process::id())?;
        Ok(WriterLock { _file: file })
    }
}

impl Drop for WriterLock {
    /// The pid is cleared before the kernel lets go of the lock, so that a later holder's
    /// moment between taking the lock and writing its own pid never names this process.
    fn drop(&mut self) {
        self._file.set_len(0).ok();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_waits_then_is_told_who_holds_it() {
        let d = tempfile::tempdir().unwrap();
        let first = WriterLock::acquire(d.path(), WAIT).unwrap();
        let start = Instant::now();
        let second = WriterLock::acquire(d.path(), Duration::from_millis(200));
        assert!(start.elapsed() >= Duration::from_millis(200), "it waited");
        match second {
            Err(VaultError::Busy { pid }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("expected busy, got {other:?}"),
        }
        drop(first);
        WriterLock::acquire(d.path(), Duration::ZERO).unwrap();
    }
}
