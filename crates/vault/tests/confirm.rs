//! The PIN asked again of the unlocked user before a release (SECURITY.md R12): counted as
//! an unlock attempt is.

mod common;

use common::*;
use doorstep_vault::*;

#[test]
fn a_pin_asked_again_is_counted_as_an_unlock_and_the_last_wrong_one_erases() {
    let d = tmp();
    init(d.path());
    let mut v = unlock(d.path());
    v.confirm_pin(PIN, NOW).unwrap();
    for left in [9, 8] {
        match v.confirm_pin("000000", NOW) {
            Err(VaultError::WrongPin { attempts_left }) => assert_eq!(attempts_left, left),
            other => panic!("expected a wrong PIN, got {other:?}"),
        }
    }
    // What cannot be a PIN costs nothing; the right one clears the count, and the two wrong
    // ones before it are in the audit log, with the right one.
    assert!(matches!(v.confirm_pin("12", NOW), Err(VaultError::Pin(_))));
    let failed_before = v.audit_summary().unwrap().by_action.get("failed-pin").copied().unwrap_or(0);
    v.confirm_pin(PIN, NOW).unwrap();
    let summary = v.audit_summary().unwrap();
    assert_eq!(summary.by_action.get("failed-pin").copied().unwrap_or(0), failed_before + 2);
    assert_eq!(summary.by_action.get("pin-confirmed"), Some(&2));
    match v.confirm_pin("000000", NOW) {
        Err(VaultError::WrongPin { attempts_left }) => assert_eq!(attempts_left, 9, "counted afresh"),
        other => panic!("{other:?}"),
    }
    // The count is the unlock's: kept on disk, and the tenth wrong PIN erases the slots.
    for _ in 0..8 {
        assert!(matches!(v.confirm_pin("000000", NOW), Err(VaultError::WrongPin { .. })));
    }
    assert!(matches!(v.confirm_pin("000000", NOW), Err(VaultError::Destroyed)));
    drop(v);
    assert!(matches!(Vault::unlock(d.path(), OFFICER, PIN, NOW, VaultConfig::default()), Err(VaultError::Destroyed)));
}
