//! Storage faults injected at the vault's storage calls (SECURITY.md R6: a full card, a
//! failing card, a write cut short), for the vault's own tests. Only with the `failpoints`
//! feature, which no build of the unit turns on: without it [`at`] is an empty inline function
//! that the compiler removes, and nothing here can be armed. (A workspace's test build has the
//! feature, unified from the vault's tests; only a held `Faults` arms anything.)
//!
//! A test arms one fault at one kind of call, on its n-th hit from then on (only the calls of
//! the thread that holds the faults count); the call then
//! fails as the storage would have failed it (the operating system's own error numbers), once.
//! Counting the hits of an operation first, then failing each hit in turn, puts a fault on
//! every storage call the operation makes.

/// How a storage call fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The medium is full: `ENOSPC`.
    NoSpace,
    /// The medium failed: `EIO`.
    Failed,
    /// A write stops half way (half the bytes are written), then fails as full. At a call
    /// that writes nothing it fails as [`Fault::Failed`].
    Short,
}

/// The kinds of storage call a fault can be put on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Point {
    /// Writing a file's bytes (a new file written whole, or an empty slot filled).
    Write,
    /// An fsync of a file or of a folder's entries.
    Sync,
    /// A rename of a file written whole over its name.
    Rename,
    /// A removal of a file.
    Remove,
    /// Appending a record to the audit log.
    Append,
    /// Making the index (sled) durable.
    Index,
    /// Reading a sealed application's file.
    Read,
}

impl Point {
    pub const ALL: [Point; 7] =
        [Point::Write, Point::Sync, Point::Rename, Point::Remove, Point::Append, Point::Index, Point::Read];
}

impl Fault {
    pub const ALL: [Fault; 3] = [Fault::NoSpace, Fault::Failed, Fault::Short];

    /// The error the storage gives for this fault.
    pub fn error(self) -> std::io::Error {
        match self {
            Fault::NoSpace | Fault::Short => rustix::io::Errno::NOSPC.into(),
            Fault::Failed => rustix::io::Errno::IO.into(),
        }
    }
}

/// Fails a call at `point` that writes nothing, when a fault is armed there and its turn has
/// come (a short write fails as the medium failing).
pub(crate) fn check(point: Point) -> std::io::Result<()> {
    match at(point) {
        Some(Fault::Short) => Err(Fault::Failed.error()),
        Some(fault) => Err(fault.error()),
        None => Ok(()),
    }
}

/// Writes `bytes` with `write`, as a call at `point`: an armed fault fails it, after half the
/// bytes for [`Fault::Short`].
pub(crate) fn write(
    point: Point,
    bytes: &[u8],
    write: impl FnOnce(&[u8]) -> std::io::Result<()>,
) -> std::io::Result<()> {
    match at(point) {
        Some(Fault::Short) => {
            write(&bytes[..bytes.len() / 2])?;
            Err(Fault::Short.error())
        }
        Some(fault) => Err(fault.error()),
        None => write(bytes),
    }
}

/// The fault armed at `point` for this call, if its turn has come.
#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub(crate) fn at(_point: Point) -> Option<Fault> {
    // Never cut either (an empty inline function too).
    crate::powercut::call().then_some(Fault::Failed)
}

#[cfg(feature = "failpoints")]
pub(crate) use armed::at;
#[cfg(feature = "failpoints")]
pub use armed::{Faults, hits};

#[cfg(feature = "failpoints")]
mod armed {
    use std::collections::BTreeMap;
    use std::sync::{Mutex, MutexGuard, PoisonError};

    use super::{Fault, Point};

    struct State {
        /// The thread that holds the [`Faults`]: only its calls are counted or failed, so that
        /// other tests running in the same process meanwhile are not (the vault makes its
        /// storage calls on its caller's thread).
        on: std::thread::ThreadId,
        hits: BTreeMap<Point, u32>,
        /// The fault, its point and the hit (counted from arming) that fails.
        armed: Option<(Point, u32, Fault)>,
    }

    static STATE: Mutex<Option<State>> = Mutex::new(None);
    /// One holder at a time: the faults are the whole process's.
    static HOLDER: Mutex<()> = Mutex::new(());

    fn state() -> MutexGuard<'static, Option<State>> {
        STATE.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Faults held for a test: counting from now, nothing armed; dropped, all off.
    pub struct Faults {
        _one: MutexGuard<'static, ()>,
    }

    impl Faults {
        pub fn hold() -> Faults {
            let one = HOLDER.lock().unwrap_or_else(PoisonError::into_inner);
            *state() = Some(State { on: std::thread::current().id(), hits: BTreeMap::new(), armed: None });
            Faults { _one: one }
        }

        /// Fails the `nth` call at `point` from now (0: the next) with `fault`, once; the
        /// counts start again from zero.
        pub fn arm(&self, point: Point, nth: u32, fault: Fault) {
            if let Some(s) = state().as_mut() {
                s.hits.clear();
                s.armed = Some((point, nth, fault));
            }
        }

        /// Nothing armed, and the counts from zero.
        pub fn reset(&self) {
            if let Some(s) = state().as_mut() {
                s.hits.clear();
                s.armed = None;
            }
        }

        /// Whether the armed fault has not failed a call yet.
        pub fn still_armed(&self) -> bool {
            state().as_ref().is_some_and(|s| s.armed.is_some())
        }
    }

    impl Drop for Faults {
        fn drop(&mut self) {
            *state() = None;
        }
    }

    /// How many calls at `point` there were since the faults were held, armed or reset.
    pub fn hits(point: Point) -> u32 {
        state().as_ref().and_then(|s| s.hits.get(&point).copied()).unwrap_or(0)
    }

    pub(crate) fn at(point: Point) -> Option<Fault> {
        // After a power cut nothing reaches the disk.
        if crate::powercut::call() {
            return Some(Fault::Failed);
        }
        let mut guard = state();
        let s = guard.as_mut().filter(|s| s.on == std::thread::current().id())?;
        let n = s.hits.entry(point).or_insert(0);
        let this = *n;
        *n += 1;
        match s.armed {
            Some((p, nth, fault)) if p == point && nth == this => {
                s.armed = None;
                Some(fault)
            }
            _ => None,
        }
    }
}
