//! A power cut, for the vault's own tests (SECURITY.md R3: the store survives losing writes
//! that were not fsynced, a torn last write and a garbage tail). Only with the `failpoints`
//! feature, as [`crate::faults`]; without it every hook here is an empty inline function.
//!
//! A test arms a cut at the n-th storage call from now (the calls [`crate::faults`] counts, on
//! the thread that armed it) over one vault folder. From the arming on, every fsync the vault
//! makes is followed: a file's fsync makes its bytes as they are then durable (by inode), a
//! folder's makes its entries durable (name to inode). When the n-th call comes, before it
//! runs, the disk a power cut would leave is written to two folders, and that call and every
//! later one fail as a dead disk does (`EIO`):
//! - `durable`: only what was fsynced. A file whose name was never made durable is gone
//!   (whatever was written to it); a rename not followed by its folder's fsync is undone; a
//!   file's bytes are those of its last fsync (none if it was never synced). The index
//!   (sled, which writes its own files) is as it was at the vault's last flush of it.
//! - `torn`: the same names, but a file written since its last fsync keeps part of the
//!   unsynced bytes and then a garbage tail (a torn last write); the index is gone.
//! - `ahead`: as `durable`, but the index as it is at the cut (sled's own flusher wrote it
//!   after the vault's last flush): an index ahead of the files.
//!
//! The model is POSIX's, stricter than a journalling file system: a folder made is not
//! durable until its parent is synced.

/// Counts a storage call; `true` once the power is cut (the call must fail).
#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub(crate) fn call() -> bool {
    false
}

/// A file or folder was fsynced.
#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub(crate) fn synced(_f: &std::fs::File) {}

/// The index (sled, in `dir`) was flushed.
#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub(crate) fn index_flushed(_dir: &std::path::Path) {}

#[cfg(feature = "failpoints")]
pub use cut::PowerCut;
#[cfg(feature = "failpoints")]
pub(crate) use cut::{call, index_flushed, synced};

#[cfg(feature = "failpoints")]
mod cut {
    use std::collections::{BTreeMap, HashMap};
    use std::ffi::OsString;
    use std::fs;
    use std::os::unix::fs::MetadataExt;
    use std::path::{Path, PathBuf};
    use std::sync::{Mutex, MutexGuard, PoisonError};

    /// The index's folder in the vault (sled's own files).
    const INDEX: &str = crate::INDEX_DIR;

    /// A file, told apart from a later one given the same inode number once it is freed (a
    /// draft replaced by a rename frees its inode, which the next file made may take): the
    /// inode and its birth time.
    type Id = (u64, u128);

    fn id(meta: &fs::Metadata) -> Id {
        let born = meta.created().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
        (meta.ino(), born.map_or(0, |d| d.as_nanos()))
    }

    #[derive(Clone, Debug)]
    enum Entry {
        File(Id),
        Dir,
    }

    struct State {
        on: std::thread::ThreadId,
        root: PathBuf,
        out: PathBuf,
        /// Calls before the cut (it comes before the call counted `at`).
        at: u32,
        calls: u32,
        cut: bool,
        /// Durable entries of each folder (relative to the root; the root is "").
        dirs: BTreeMap<PathBuf, BTreeMap<OsString, Entry>>,
        /// Durable bytes of each file.
        files: HashMap<Id, Vec<u8>>,
        /// The index's files as at its last flush (relative path, bytes).
        index: Vec<(PathBuf, Vec<u8>)>,
        /// A small generator for the torn tails (xorshift: the test names its seed).
        rng: u64,
    }

    static STATE: Mutex<Option<State>> = Mutex::new(None);

    fn state() -> MutexGuard<'static, Option<State>> {
        STATE.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A power cut armed over one vault folder; dropped, all off.
    pub struct PowerCut {
        _private: (),
    }

    impl PowerCut {
        /// Arms a cut before the `at`-th storage call from now (0: the next) of this thread,
        /// over the vault in `root`; what the disk holds after it is written to
        /// `out/durable`, `out/torn` and `out/ahead`. Everything in `root` now counts as
        /// durable. One cut at a time; the file system must give birth times (files are told
        /// apart by them).
        pub fn arm(root: &Path, out: &Path, at: u32, seed: u64) -> std::io::Result<PowerCut> {
            let root = root.canonicalize()?;
            fs::metadata(&root)?.created()?;
            if state().is_some() {
                return Err(std::io::Error::other("a power cut is armed already"));
            }
            let mut s = State {
                on: std::thread::current().id(),
                root: root.clone(),
                out: out.to_path_buf(),
                at,
                calls: 0,
                cut: false,
                dirs: BTreeMap::new(),
                files: HashMap::new(),
                index: Vec::new(),
                rng: seed | 1,
            };
            s.take_tree(&root)?;
            s.index = read_tree(&root.join(INDEX))?;
            *state() = Some(s);
            Ok(PowerCut { _private: () })
        }

        /// Whether the power was cut (the `at`-th call came).
        pub fn happened(&self) -> bool {
            state().as_ref().is_some_and(|s| s.cut)
        }

        /// The storage calls counted so far.
        pub fn calls(&self) -> u32 {
            state().as_ref().map_or(0, |s| s.calls)
        }
    }

    impl Drop for PowerCut {
        fn drop(&mut self) {
            *state() = None;
        }
    }

    pub(crate) fn call() -> bool {
        let mut guard = state();
        let Some(s) = guard.as_mut().filter(|s| s.on == std::thread::current().id()) else { return false };
        if s.cut {
            return true;
        }
        let this = s.calls;
        s.calls += 1;
        if this < s.at {
            return false;
        }
        s.cut = true;
        if let Err(e) = s.write_out() {
            // The test reads the folders: it fails there, saying what is missing.
            eprintln!("power cut: the disk after it could not be written: {e}");
        }
        true
    }

    pub(crate) fn synced(f: &fs::File) {
        let mut guard = state();
        let Some(s) = guard.as_mut().filter(|s| s.on == std::thread::current().id() && !s.cut) else { return };
        let Ok(meta) = f.metadata() else { return };
        let fd = std::os::fd::AsRawFd::as_raw_fd(f);
        let Ok(path) = fs::read_link(format!("/proc/self/fd/{fd}")) else { return };
        let Ok(rel) = path.strip_prefix(&s.root).map(Path::to_path_buf) else { return };
        if rel.starts_with(INDEX) {
            return;
        }
        if meta.is_dir() {
            let _ = s.take_dir(&rel);
        } else if let Ok(bytes) = fs::read(format!("/proc/self/fd/{fd}")) {
            s.files.insert(id(&meta), bytes);
        }
    }

    pub(crate) fn index_flushed(dir: &Path) {
        let mut guard = state();
        let Some(s) = guard.as_mut().filter(|s| s.on == std::thread::current().id() && !s.cut) else { return };
        if let Ok(index) = read_tree(dir) {
            s.index = index;
        }
    }

    /// Every file under `dir`, by relative path, with its bytes (none if `dir` is not there).
    fn read_tree(dir: &Path) -> std::io::Result<Vec<(PathBuf, Vec<u8>)>> {
        let mut out = Vec::new();
        let mut stack = vec![PathBuf::new()];
        while let Some(rel) = stack.pop() {
            let entries = match fs::read_dir(dir.join(&rel)) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            for e in entries {
                let e = e?;
                let kind = e.file_type()?;
                let name = rel.join(e.file_name());
                if kind.is_dir() {
                    stack.push(name);
                } else if kind.is_file() {
                    // A file sled removed meanwhile is not part of it.
                    match fs::read(dir.join(&name)) {
                        Ok(bytes) => out.push((name, bytes)),
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Ok(out)
    }

    impl State {
        /// The folder `rel` and everything below it, as they are now, made durable (at arming).
        fn take_tree(&mut self, root: &Path) -> std::io::Result<()> {
            let mut stack = vec![PathBuf::new()];
            while let Some(rel) = stack.pop() {
                if rel.starts_with(INDEX) {
                    continue;
                }
                self.take_dir(&rel)?;
                for e in fs::read_dir(root.join(&rel))? {
                    let e = e?;
                    let kind = e.file_type()?;
                    if kind.is_dir() {
                        stack.push(rel.join(e.file_name()));
                    } else if kind.is_file() {
                        self.files.insert(id(&e.metadata()?), fs::read(e.path())?);
                    }
                }
            }
            Ok(())
        }

        /// A folder's entries as they are now made durable (its fsync).
        fn take_dir(&mut self, rel: &Path) -> std::io::Result<()> {
            let mut entries = BTreeMap::new();
            for e in fs::read_dir(self.root.join(rel))? {
                let e = e?;
                let kind = e.file_type()?;
                if kind.is_dir() {
                    entries.insert(e.file_name(), Entry::Dir);
                } else if kind.is_file() {
                    entries.insert(e.file_name(), Entry::File(id(&e.metadata()?)));
                }
            }
            self.dirs.insert(rel.to_path_buf(), entries);
            Ok(())
        }

        fn next(&mut self) -> u64 {
            self.rng ^= self.rng << 13;
            self.rng ^= self.rng >> 7;
            self.rng ^= self.rng << 17;
            self.rng
        }

        /// The files in the vault now, with their bytes (for the torn disk).
        fn now_by_id(&self) -> HashMap<Id, Vec<u8>> {
            let mut out = HashMap::new();
            let mut stack = vec![self.root.clone()];
            while let Some(dir) = stack.pop() {
                for e in fs::read_dir(&dir).into_iter().flatten().flatten() {
                    let Ok(kind) = e.file_type() else { continue };
                    if kind.is_dir() {
                        stack.push(e.path());
                    } else if let (true, Ok(meta), Ok(bytes)) = (kind.is_file(), e.metadata(), fs::read(e.path())) {
                        out.insert(id(&meta), bytes);
                    }
                }
            }
            out
        }

        fn write_out(&mut self) -> std::io::Result<()> {
            let now = self.now_by_id();
            let index_now = read_tree(&self.root.join(INDEX))?;
            for (variant, torn) in [("durable", false), ("torn", true), ("ahead", false)] {
                let base = self.out.join(variant);
                // From the root down, through durable entries only: a folder whose own entry
                // was never made durable is gone with everything in it.
                let mut stack = vec![PathBuf::new()];
                while let Some(rel) = stack.pop() {
                    fs::create_dir_all(base.join(&rel))?;
                    let entries = self.dirs.get(&rel).cloned().unwrap_or_default();
                    for (name, entry) in entries {
                        let path = rel.join(&name);
                        match entry {
                            Entry::Dir if path.as_path() == Path::new(INDEX) => {}
                            Entry::Dir => stack.push(path),
                            Entry::File(file) => {
                                let mut bytes = self.files.get(&file).cloned().unwrap_or_default();
                                let written = now.get(&file).filter(|b| **b != bytes);
                                if let (true, Some(written)) = (torn, written) {
                                    // Part of what was written since the last fsync, when it
                                    // went on from there, then garbage.
                                    if written.starts_with(&bytes) && written.len() > bytes.len() {
                                        let more = written.len() - bytes.len();
                                        let keep = (self.next() % (more as u64 + 1)) as usize;
                                        bytes.extend_from_slice(&written[bytes.len()..bytes.len() + keep]);
                                    }
                                    let tail = 1 + (self.next() % 64) as usize;
                                    bytes.extend((0..tail).map(|_| self.next() as u8));
                                }
                                fs::write(base.join(&path), bytes)?;
                            }
                        }
                    }
                }
                let index = match variant {
                    "durable" => &self.index,
                    "ahead" => &index_now,
                    _ => continue,
                };
                if self.dirs.get(Path::new("")).is_some_and(|d| d.contains_key(&OsString::from(INDEX))) {
                    for (rel, bytes) in index {
                        let path = base.join(INDEX).join(rel);
                        if let Some(parent) = path.parent() {
                            fs::create_dir_all(parent)?;
                        }
                        fs::write(path, bytes)?;
                    }
                }
            }
            Ok(())
        }
    }
}
