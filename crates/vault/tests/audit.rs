//! The vault's report for the unit's diagnostics: the audit log in brief.

mod common;

use common::*;
use doorstep_vault::*;

/// The diagnostics' audit summary counts entries by action (never their subjects), and says
/// when the chain no longer holds.
#[test]
fn the_audit_summary_counts_actions_and_notices_a_broken_chain() {
    let d = tmp();
    init(d.path());
    let mut v = unlock(d.path());
    let r = record(1, 1000);
    v.save_draft("visit-1", "form", b"{}").unwrap();
    v.seal("visit-1", &r, &review(&r), NOW).unwrap();
    let summary = v.audit_summary().unwrap();
    assert!(summary.chain_ok);
    assert_eq!(summary.by_action.get("seal"), Some(&1), "{:?}", summary.by_action);
    assert!(summary.by_action.get("unlock").is_some_and(|n| *n >= 1), "{:?}", summary.by_action);
    assert_eq!(summary.last_at_unix, Some(NOW));
    let text = format!("{summary:?}");
    assert!(!text.contains(&r.application_id.to_string()), "no subjects in the summary");
    drop(v);
    // One byte changed in the middle of the log: the unlock sets the log aside and begins a
    // new chain, and the summary says the chain did not hold.
    let path = d.path().join("audit.log");
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let v = Vault::unlock(d.path(), OFFICER, PIN, NOW, VaultConfig { reserve_bytes: 0 }).unwrap();
    assert!(!v.audit_summary().unwrap().chain_ok);
}
