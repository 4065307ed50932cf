//! The process's own protection (SECURITY.md R11): its memory holds the vault's keys and the
//! applicant being taken, so a crash writes no core dump of it, and another process of the
//! same user cannot attach to it or read its memory.

/// Sets the core-file limit to zero (soft and hard) and marks the process not dumpable (no
/// core dump, no ptrace by the same user, `/proc/self/mem` closed to others). Called first
/// thing by every command. What fails is returned for the log; the unit still runs.
pub fn no_core_dumps() -> Result<(), std::io::Error> {
    use rustix::process::{DumpableBehavior, Resource, Rlimit, set_dumpable_behavior, setrlimit};
    setrlimit(Resource::Core, Rlimit { current: Some(0), maximum: Some(0) })?;
    set_dumpable_behavior(DumpableBehavior::NotDumpable)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_crash_writes_no_core_dump_and_nothing_attaches() {
        use rustix::process::{DumpableBehavior, Resource, dumpable_behavior, getrlimit};
        super::no_core_dumps().unwrap();
        let core = getrlimit(Resource::Core);
        assert_eq!((core.current, core.maximum), (Some(0), Some(0)));
        assert_eq!(dumpable_behavior().unwrap(), DumpableBehavior::NotDumpable);
    }
}
