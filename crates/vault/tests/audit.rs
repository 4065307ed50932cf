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

/// The byte offsets where the log's whole records end (each record is its length, four bytes,
/// then that many bytes).
fn record_ends(log: &[u8]) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut pos = 0;
    while pos + 4 <= log.len() {
        pos += 4 + u32::from_le_bytes(log[pos..pos + 4].try_into().unwrap()) as usize;
        ends.push(pos);
    }
    ends
}

/// A log cut at a record's end, emptied or deleted still reads as a whole chain; what tells
/// is the length kept when its records were made durable. The next opening finds it shorter,
/// says so, and records it in the log, where `verify` reports it from then on. A torn last
/// record (a write cut short, never counted) and a plain reopening raise nothing.
#[test]
fn a_cut_or_deleted_audit_log_is_noticed_and_recorded() {
    type Cut = fn(&std::path::Path);
    let cases: [(&str, Cut, Option<u64>); 5] = [
        ("left alone", |_| {}, None),
        (
            "a torn last record",
            |p| {
                let mut b = std::fs::read(p).unwrap();
                b.extend_from_slice(&[200, 0, 0, 0, 1, 2, 3]);
                std::fs::write(p, b).unwrap();
            },
            None,
        ),
        (
            "cut after its third record",
            |p| {
                let b = std::fs::read(p).unwrap();
                std::fs::write(p, &b[..record_ends(&b)[2]]).unwrap();
            },
            Some(3),
        ),
        ("emptied", |p| std::fs::write(p, b"").unwrap(), Some(0)),
        ("deleted", |p| std::fs::remove_file(p).unwrap(), Some(0)),
    ];
    for (what, cut, found) in cases {
        let d = tmp();
        init(d.path());
        seal_some(d.path(), 2);
        let v = unlock(d.path());
        let kept = v.verify().unwrap().audit_entries as u64;
        drop(v);
        cut(&d.path().join("audit.log"));
        let v = unlock(d.path());
        assert_eq!(v.recovery().audit_cut, found.map(|f| (f, kept)), "{what}");
        let problems = v.verify().unwrap().problems;
        let said = problems.iter().any(|p| p.contains("the audit log was found cut, emptied or replaced"));
        assert_eq!(said, found.is_some(), "{what}: {problems:?}");
        if let Some(f) = found {
            assert!(
                problems.iter().any(|p| p.ends_with(&format!("{f} of {kept} records were there"))),
                "{what}: {problems:?}"
            );
        }
        let summary = v.audit_summary().unwrap();
        assert_eq!(summary.by_action.get("audit-cut").copied(), found.map(|_| 1), "{what}");
        assert_eq!(summary.chain_ok, found.is_none(), "{what}: the chain is not whole");
        drop(v);
        // Said once: the next opening finds the log as long as it was left; the chain check
        // still says it is not whole, as the log records.
        let v = unlock(d.path());
        assert_eq!(v.recovery().audit_cut, None, "{what}: once");
        assert_eq!(v.audit_summary().unwrap().chain_ok, found.is_none(), "{what}: at the next unlock");
    }
}

/// What a power cut leaves after the last whole record (SECURITY.md R3): zeros where the
/// file grew and its blocks were never written, stale bytes, part of a record and then
/// garbage. It is a torn tail: cut off, every record kept, the log not set aside; bytes that
/// are not zeros are kept aside first (`audit.log.damaged-tail-N`: they could be the last
/// records damaged), and `verify` names them.
#[test]
fn a_garbage_tail_after_a_power_cut_is_cut_off() {
    type Tail<'a> = Box<dyn Fn(&[u8]) -> Vec<u8> + 'a>;
    let garbage: Vec<u8> = (0..300u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 | 1).collect();
    // (what, the tail, whether its bytes are kept aside)
    let cases: [(&str, Tail, bool); 4] = [
        ("zeros", Box::new(|_| vec![0; 4096]), false),
        ("stale bytes", Box::new(|_| garbage.clone()), true),
        ("a length of 1 and garbage", Box::new(|_| [&[1, 0, 0, 0][..], &garbage].concat()), true),
        (
            "half the last record again, then zeros",
            Box::new(|b: &[u8]| {
                let ends = record_ends(b);
                let last = &b[ends[ends.len() - 2]..];
                [&last[..last.len() / 2], &[0; 100][..]].concat()
            }),
            // Shorter than the record its length names: one record cut short.
            false,
        ),
    ];
    for (what, tail, kept_aside) in cases {
        let d = tmp();
        init(d.path());
        seal_some(d.path(), 2);
        let v = unlock(d.path());
        let kept = v.verify().unwrap().audit_entries;
        drop(v);
        let path = d.path().join("audit.log");
        let mut bytes = std::fs::read(&path).unwrap();
        let tail = tail(&bytes);
        bytes.extend_from_slice(&tail);
        std::fs::write(&path, &bytes).unwrap();
        let v = unlock(d.path());
        assert_eq!(v.recovery().audit_damaged, None, "{what}: not kept aside as damage");
        assert_eq!(v.recovery().audit_torn_tail, tail.len() as u64, "{what}");
        let aside = v.recovery().audit_tail_kept.clone();
        assert_eq!(aside.is_some(), kept_aside, "{what}");
        if let Some(aside) = aside {
            assert_eq!(std::fs::read(aside).unwrap(), tail, "{what}: the bytes cut, as they were");
        }
        let report = v.verify().unwrap();
        // The opening's own records follow the ones kept (and its note of the tail kept aside).
        assert_eq!(report.audit_entries, kept + 1 + usize::from(kept_aside), "{what}");
        let problems: Vec<&String> = report.problems.iter().filter(|p| !p.starts_with("bytes after")).collect();
        assert!(problems.is_empty(), "{what}: {problems:?}");
        assert_eq!(report.problems.len(), usize::from(kept_aside), "{what}: {:?}", report.problems);
        assert!(v.audit_summary().unwrap().chain_ok, "{what}");
    }
}

/// A log that reads as no record at all (another vault's, or replaced) is damage, kept aside
/// whole: never cut away as a torn tail.
#[test]
fn a_log_with_no_whole_record_is_kept_aside_not_cut() {
    let d = tmp();
    init(d.path());
    seal_some(d.path(), 1);
    let other = tmp();
    init(other.path());
    seal_some(other.path(), 3);
    let foreign = std::fs::read(other.path().join("audit.log")).unwrap();
    std::fs::write(d.path().join("audit.log"), &foreign).unwrap();
    let v = unlock(d.path());
    let kept = v.recovery().audit_damaged.clone().expect("kept aside");
    assert_eq!(std::fs::read(kept).unwrap(), foreign, "whole");
    assert_eq!(v.recovery().audit_torn_tail, 0);
}

/// A log of zeros only (its first record's blocks never written): nothing to keep, nothing
/// damaged: cut, and a chain begun.
#[test]
fn a_log_of_zeros_is_cut_not_kept_aside() {
    let d = tmp();
    init(d.path());
    std::fs::write(d.path().join("audit.log"), vec![0u8; 4096]).unwrap();
    let v = unlock(d.path());
    assert_eq!(v.recovery().audit_damaged, None);
    assert_eq!(v.recovery().audit_tail_kept, None);
    assert_eq!(v.recovery().audit_torn_tail, 4096);
}

/// A record's length damaged so that it points past the end of the log, whether by far more
/// than a record can be (in the middle) or by less (near the end): whole records follow it, so
/// it is damage, not a torn tail: the log is kept aside whole, none of it cut, and a new chain
/// starts.
#[test]
fn a_damaged_length_keeps_the_log_whole_aside() {
    // (where, the byte of a record's length set to 0x7f, from the record ends)
    type Byte = fn(&[usize]) -> usize;
    let cases: [(&str, Byte); 2] = [
        ("the second record's top byte: far more than a record", |ends| ends[0] + 3),
        ("the second to last record's second byte: some 32 KB", |ends| ends[ends.len() - 3] + 1),
    ];
    for (what, at) in cases {
        let d = tmp();
        init(d.path());
        seal_some(d.path(), 2);
        let path = d.path().join("audit.log");
        let mut bytes = std::fs::read(&path).unwrap();
        let ends = record_ends(&bytes);
        assert!(ends.len() >= 4, "{what}: {ends:?}");
        bytes[at(&ends)] = 0x7f;
        std::fs::write(&path, &bytes).unwrap();
        let v = unlock(d.path());
        let kept = v.recovery().audit_damaged.clone().unwrap_or_else(|| panic!("{what}: kept aside"));
        assert_eq!(std::fs::read(&kept).unwrap(), bytes, "{what}: every record kept, none cut");
        assert_eq!(v.recovery().audit_torn_tail, 0, "{what}");
        assert!(!v.audit_summary().unwrap().chain_ok, "{what}");
    }
}
