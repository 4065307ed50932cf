//! A supervisor's decisions before the release, kept in the vault: through a lock and a
//! restart, per supervisor, never for an officer.

mod common;

use common::*;
use doorstep_vault::*;

const SUPERVISOR: &str = "supervisor-test";
const OTHER: &str = "supervisor-other";
const SUPERVISOR_PIN: &str = "654321";

fn as_user(dir: &std::path::Path, user: &str) -> Vault {
    let pin = if user == OFFICER { PIN } else { SUPERVISOR_PIN };
    Vault::unlock(dir, user, pin, NOW, VaultConfig { reserve_bytes: 0 }).unwrap()
}

#[test]
fn a_supervisors_decisions_outlive_the_lock_and_are_theirs_alone() {
    let d = tmp();
    init(d.path());
    {
        let mut v = unlock(d.path());
        v.add_user(SUPERVISOR, Role::Supervisor, SUPERVISOR_PIN, KdfParams::INSECURE_TEST, NOW).unwrap();
        // An officer neither keeps nor reads them.
        assert!(matches!(v.save_shift_decisions(b"{}"), Err(VaultError::NotAllowed(_))));
        assert!(matches!(v.shift_decisions(), Err(VaultError::NotAllowed(_))));
    }
    {
        let mut v = as_user(d.path(), SUPERVISOR);
        v.add_user(OTHER, Role::Supervisor, SUPERVISOR_PIN, KdfParams::INSECURE_TEST, NOW).unwrap();
        assert_eq!(v.shift_decisions().unwrap(), None);
        v.save_shift_decisions(b"first").unwrap();
        v.save_shift_decisions(b"second").unwrap();
    }
    // The vault closed (a lock, a restart): the last kept is read back, and only by its author.
    {
        let v = as_user(d.path(), SUPERVISOR);
        assert_eq!(v.shift_decisions().unwrap().as_deref().map(Vec::as_slice), Some(&b"second"[..]));
    }
    {
        let v = as_user(d.path(), OTHER);
        assert_eq!(v.shift_decisions().unwrap(), None);
    }
    // Nothing of them is in clear on disk.
    for entry in walk(d.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(!bytes.windows(6).any(|w| w == b"second"), "{} holds the decisions in clear", entry.display());
    }
    {
        let v = as_user(d.path(), SUPERVISOR);
        v.clear_shift_decisions().unwrap();
    }
    assert_eq!(as_user(d.path(), SUPERVISOR).shift_decisions().unwrap(), None);
}

/// A batch decided (whoever released it, on the screen or at the command line) takes every
/// supervisor's kept decisions with it; a supervisor removed from the unit takes theirs.
#[test]
fn a_released_batch_or_a_removed_supervisor_takes_the_kept_decisions() {
    let d = tmp();
    init(d.path());
    unlock(d.path()).add_user(SUPERVISOR, Role::Supervisor, SUPERVISOR_PIN, KdfParams::INSECURE_TEST, NOW).unwrap();
    {
        let mut v = as_user(d.path(), SUPERVISOR);
        v.add_user(OTHER, Role::Supervisor, SUPERVISOR_PIN, KdfParams::INSECURE_TEST, NOW).unwrap();
        v.save_shift_decisions(b"mine").unwrap();
    }
    as_user(d.path(), OTHER).save_shift_decisions(b"theirs").unwrap();
    {
        let mut v = as_user(d.path(), OTHER);
        v.batch_decided(&["app-1".to_string()], NOW).unwrap();
        assert_eq!(v.shift_decisions().unwrap(), None);
    }
    assert_eq!(as_user(d.path(), SUPERVISOR).shift_decisions().unwrap(), None, "another's release takes them");
    as_user(d.path(), OTHER).save_shift_decisions(b"again").unwrap();
    as_user(d.path(), SUPERVISOR).remove_user(OTHER, NOW).unwrap();
    {
        let mut v = as_user(d.path(), SUPERVISOR);
        v.add_user(OTHER, Role::Supervisor, SUPERVISOR_PIN, KdfParams::INSECURE_TEST, NOW).unwrap();
    }
    assert_eq!(as_user(d.path(), OTHER).shift_decisions().unwrap(), None, "a new user of the same name has none");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
    }
    out
}
