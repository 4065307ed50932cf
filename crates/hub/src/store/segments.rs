//! Envelopes (and manifests) in append-only segment files, `envelopes/seg-NNNNNNNN.log`, each
//! a header, `DSHSEG02`, then frames (`frame`), written with group fsync.
//!
//! Why segments and not a file per envelope: creating, fsyncing and naming a file durably
//! per envelope cost a quarter of the hub's CPU in the benchmark (ext4 inode allocation and
//! two fsyncs each); fifty tablets' envelopes appended to one file share one fsync.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

use super::StoreError;

/// Group commit: writers that finished before a flush began share it, so fifty tablets
/// uploading at once cost a few fsyncs, not fifty, and none is told "durable" early.
#[derive(Default)]
pub(super) struct GroupFlush {
    /// Tickets handed out: one per writer, taken after its write.
    issued: AtomicU64,
    /// (every ticket up to this one is durable, a flush is running).
    state: Mutex<(u64, bool)>,
    done: Condvar,
}

impl GroupFlush {
    /// Returns once `sync` has run, in this thread or another, after the caller's write. A
    /// failed `sync` poisons the store: every writer it covered, and every later one, gets the
    /// error (a retried fsync could succeed without the lost pages).
    pub(super) fn flush(
        &self,
        poison: &OnceLock<String>,
        sync: impl Fn() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let poisoned = || poison.get().map(|e| StoreError::Poisoned(e.clone()));
        let ticket = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(e) = poisoned() {
                return Err(e);
            }
            if st.0 >= ticket {
                return Ok(());
            }
            if !st.1 {
                // Every ticket issued so far was taken after its write: this flush covers it.
                st.1 = true;
                let target = self.issued.load(Ordering::SeqCst);
                drop(st);
                let result = sync();
                st = self.state.lock().unwrap_or_else(|e| e.into_inner());
                st.1 = false;
                match result {
                    Ok(()) => st.0 = st.0.max(target),
                    Err(e) => {
                        let _ = poison.set(e.to_string());
                    }
                }
                self.done.notify_all();
                continue;
            }
            st = self.done.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// One segment file. Writers reserve a range under a lock, write it in parallel, and share
/// fsyncs (group commit).
struct Segment {
    number: u32,
    file: std::fs::File,
    /// Bytes reserved so far.
    len: AtomicU64,
    group: GroupFlush,
}

/// A new segment is started past this size (and at each start of the hub).
const SEGMENT_LIMIT: u64 = 256 * 1024 * 1024;

/// The first bytes of a segment: this layout's (framed records).
pub(super) const SEGMENT_HEADER: &[u8; 8] = b"DSHSEG02";
/// The first bytes of an earlier hub's segment, which held bare envelopes.
const EARLIER: &[u8; 8] = b"DSENV\x00\x01\n";

/// Where bytes are in the segments: segment number (u32 BE), offset (u64 BE), length (u64 BE).
pub(super) type Location = [u8; 20];

pub(super) fn location(number: u32, offset: u64, len: u64) -> Location {
    let mut k = [0u8; 20];
    k[..4].copy_from_slice(&number.to_be_bytes());
    k[4..12].copy_from_slice(&offset.to_be_bytes());
    k[12..].copy_from_slice(&len.to_be_bytes());
    k
}

fn segment_name(number: u32) -> String {
    format!("seg-{number:08}.log")
}

fn segment_number(name: &str) -> Option<u32> {
    name.strip_prefix("seg-")?.strip_suffix(".log")?.parse().ok()
}

pub(super) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// The segment files of a store. Bytes no location names (a write the hub did not finish)
/// are dead space, never read.
pub(super) struct Segments {
    dir: PathBuf,
    /// The segment new envelopes go to; started at the first envelope after opening.
    current: Mutex<Option<Arc<Segment>>>,
    next: AtomicU32,
}

impl Segments {
    /// The segments in `dir` (made if missing); new envelopes go to a new segment. Segments
    /// of an earlier hub (bare envelopes, not frames) are refused by name.
    pub(super) fn open(dir: PathBuf) -> Result<Segments, StoreError> {
        super::private_dir(&dir)?;
        let segments = Segments { dir, current: Mutex::new(None), next: AtomicU32::new(1) };
        let numbers = segments.numbers()?;
        for &n in &numbers {
            let mut first = [0u8; 8];
            let path = segments.dir.join(segment_name(n));
            let read = std::io::Read::read(&mut std::fs::File::open(&path)?, &mut first)?;
            if read == 8 && &first == EARLIER {
                return Err(StoreError::Damaged(format!(
                    "{} is a segment of an earlier doorstep-hub (bare envelopes, no frames to rebuild its \
                     index from): export its store with that version first",
                    path.display()
                )));
            }
        }
        segments.next.store(numbers.last().map_or(1, |n| n + 1), Ordering::Relaxed);
        Ok(segments)
    }

    /// The numbers of the segments there are, in order.
    pub(super) fn numbers(&self) -> Result<Vec<u32>, StoreError> {
        let mut numbers = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            if let Some(n) = entry?.file_name().to_str().and_then(segment_number) {
                numbers.push(n);
            }
        }
        numbers.sort_unstable();
        Ok(numbers)
    }

    /// A segment's file.
    pub(super) fn path(&self, number: u32) -> PathBuf {
        self.dir.join(segment_name(number))
    }

    /// A segment's bytes, whole (for a rebuild of the index).
    pub(super) fn read_whole(&self, number: u32) -> Result<Vec<u8>, StoreError> {
        Ok(std::fs::read(self.dir.join(segment_name(number)))?)
    }

    /// Appends a frame (given in parts, written back to back) to the current segment and
    /// returns the segment's number and the frame's offset in it, durable.
    pub(super) fn append(&self, parts: &[&[u8]], poison: &OnceLock<String>) -> Result<(u32, u64), StoreError> {
        use std::os::unix::fs::{FileExt, OpenOptionsExt};
        let size: u64 = parts.iter().map(|p| p.len() as u64).sum();
        let (segment, offset) = {
            let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
            let segment = match current.as_ref() {
                Some(s) if s.len.load(Ordering::Relaxed) + size <= SEGMENT_LIMIT => s.clone(),
                _ => {
                    let number = self.next.fetch_add(1, Ordering::Relaxed);
                    let file = std::fs::OpenOptions::new()
                        .read(true)
                        .write(true)
                        .create_new(true)
                        .mode(0o600)
                        .open(self.dir.join(segment_name(number)))?;
                    // The header goes with the first frame's fsync; the segment's name is made
                    // durable before the index points into it.
                    file.write_all_at(SEGMENT_HEADER, 0)?;
                    sync_dir(&self.dir)?;
                    let len = AtomicU64::new(SEGMENT_HEADER.len() as u64);
                    let s = Arc::new(Segment { number, file, len, group: GroupFlush::default() });
                    *current = Some(s.clone());
                    s
                }
            };
            let offset = segment.len.fetch_add(size, Ordering::Relaxed);
            (segment, offset)
        };
        let mut at = offset;
        for part in parts {
            segment.file.write_all_at(part, at)?;
            at += part.len() as u64;
        }
        segment.group.flush(poison, || Ok(segment.file.sync_data()?))?;
        Ok((segment.number, offset))
    }

    /// The bytes at a location (`what` names them in errors).
    pub(super) fn read(&self, at: &[u8], what: &str) -> Result<Vec<u8>, StoreError> {
        use std::os::unix::fs::FileExt;
        let bad = || StoreError::Damaged(format!("the location of {what}"));
        let at: Location = at.try_into().map_err(|_| bad())?;
        let number = u32::from_be_bytes(at[..4].try_into().map_err(|_| bad())?);
        let offset = u64::from_be_bytes(at[4..12].try_into().map_err(|_| bad())?);
        let len = u64::from_be_bytes(at[12..].try_into().map_err(|_| bad())?);
        if len > doorstep_sync::wire::MAX_ENVELOPE {
            return Err(bad());
        }
        let path = self.dir.join(segment_name(number));
        let file = std::fs::File::open(&path).map_err(|e| {
            StoreError::Io(std::io::Error::new(e.kind(), format!("{} (holds {what}): {e}", path.display())))
        })?;
        let mut bytes = vec![0u8; len as usize];
        file.read_exact_at(&mut bytes, offset)?;
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_fsync_fails_every_writer_it_covered_and_every_later_one() {
        let group = Arc::new(GroupFlush::default());
        let poison = Arc::new(OnceLock::new());
        let syncs = Arc::new(AtomicU32::new(0));
        // Eight writers at once; the first fsync fails slowly, so the others wait on it.
        let writers: Vec<_> = (0..8)
            .map(|_| {
                let (group, poison, syncs) = (group.clone(), poison.clone(), syncs.clone());
                std::thread::spawn(move || {
                    group.flush(&poison, || {
                        std::thread::sleep(std::time::Duration::from_millis(50));
                        match syncs.fetch_add(1, Ordering::SeqCst) {
                            0 => Err(StoreError::Io(std::io::Error::other("EIO"))),
                            _ => Ok(()),
                        }
                    })
                })
            })
            .collect();
        for w in writers {
            assert!(matches!(w.join().unwrap(), Err(StoreError::Poisoned(_))), "no writer hears 'durable'");
        }
        assert_eq!(syncs.load(Ordering::SeqCst), 1, "the failed fsync is not retried");
        // A later writer, whose fsync would succeed, is refused too.
        assert!(matches!(group.flush(&poison, || Ok(())), Err(StoreError::Poisoned(_))));
    }
}
