//! SECURITY.md R6: a storage fault at every storage call. Each operation a visit and a sync
//! make (save a draft, seal, store the hub's receipt, erase) is run once to count its calls at
//! each kind of storage call (a file's bytes written, an fsync, a rename, a removal, an audit
//! record, the index made durable); then, on a vault holding sealed applications and a visit
//! in progress, each of those calls in turn fails as a full card (ENOSPC), a failing card
//! (EIO) or a write cut short half way. Every time the operation reports the storage's own
//! error (never a panic, never success), the vault opens again, and nothing acknowledged
//! before is lost or changed: the draft, the sealed applications, their receipts. The
//! operation's own data is either kept as it was or done whole (a seal: the draft, or the
//! sealed application; never neither, and once the vault opens again never both), and the same
//! operation retried (or, for a seal done whole, what is left of its draft erased, as the unit
//! does) then succeeds, leaving a vault that verifies.

mod common;

use std::path::Path;

use common::*;
use doorstep_envelope::ApplicationRecord;
use doorstep_vault::faults::{Fault, Faults, Point, hits};
use doorstep_vault::outbox::OutboxState;
use doorstep_vault::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    SaveDraft,
    Seal,
    StoreReceipt,
    Erase,
}

/// The vault before each operation: two applications sealed, the second at the hub with its
/// receipt; a visit in progress; a visit ready to seal.
struct Before {
    sealed: Vec<String>,
    digests: Vec<String>,
    envelopes: Vec<Vec<u8>>,
}

const IN_PROGRESS: (&str, &str, &[u8]) = ("visit-open", "form", b"in progress");
const TO_SEAL: (&str, &str, &[u8]) = ("visit-s", "form", b"ready to seal");
const NEW_PHOTO: (&str, &str, &[u8]) = ("visit-open", "photo", b"the photo just taken");

fn before(dir: &Path) -> Before {
    init(dir);
    let sealed = seal_some(dir, 2);
    let mut v = unlock(dir);
    v.save_draft(TO_SEAL.0, TO_SEAL.1, TO_SEAL.2).unwrap();
    let outbox = v.outbox().unwrap();
    let digests: Vec<String> =
        sealed.iter().map(|id| outbox.iter().find(|e| &e.application_id == id).unwrap().digest.clone()).collect();
    let envelopes = sealed.iter().map(|id| v.envelope_bytes(id).unwrap()).collect();
    v.begin_upload(&sealed[1], NOW).unwrap();
    v.acknowledge(&sealed[1], &hub_receipt(&sealed[1], &digests[1]), None, NOW).unwrap();
    Before { sealed, digests, envelopes }
}

/// The application a seal makes: a new id at each attempt, as the unit makes one.
fn to_seal(attempt: u64) -> ApplicationRecord {
    record(9 + attempt, 3000)
}

fn run(op: Op, v: &mut Vault, b: &Before, attempt: u64) -> Result<(), VaultError> {
    match op {
        Op::SaveDraft => v.save_draft(NEW_PHOTO.0, NEW_PHOTO.1, NEW_PHOTO.2),
        Op::Seal => {
            let r = to_seal(attempt);
            v.seal(TO_SEAL.0, &r, &review(&r), NOW + 10).map(drop)
        }
        Op::StoreReceipt => {
            let state = v.outbox()?.into_iter().find(|e| e.application_id == b.sealed[0]).map(|e| e.state);
            if state == Some(OutboxState::Sealed) {
                v.begin_upload(&b.sealed[0], NOW + 20)?;
            }
            v.acknowledge(&b.sealed[0], &hub_receipt(&b.sealed[0], &b.digests[0]), None, NOW + 20).map(drop)
        }
        Op::Erase => v.erase(&b.sealed[1], NOW + 30).map(drop),
    }
}

/// The applications sealed for the visit to seal (the unit looks for one before sealing
/// again).
fn sealed_for(v: &Vault) -> Vec<OutboxEntry> {
    v.outbox().unwrap().into_iter().filter(|e| e.visit_id == TO_SEAL.0).collect()
}

fn state(v: &Vault, id: &str) -> Option<OutboxState> {
    v.outbox().unwrap().into_iter().find(|e| e.application_id == id).map(|e| e.state)
}

/// What must hold of a vault opened again after `op` failed (`done`: after it was retried and
/// succeeded): what was acknowledged before is all there, and the operation's own data is
/// either as it was or done whole.
fn holds(v: &Vault, dir: &Path, op: Op, b: &Before, done: bool, case: &str) {
    assert_eq!(
        v.load_draft(IN_PROGRESS.0, IN_PROGRESS.1).unwrap().as_deref().map(|d| &d[..]),
        Some(IN_PROGRESS.2),
        "{case}"
    );
    // The first sealed application: its file whole and unchanged, unless erased (never here).
    let first = v.envelope_bytes(&b.sealed[0]).unwrap_or_else(|e| panic!("{case}: the first application: {e}"));
    assert_eq!(first, b.envelopes[0], "{case}: the first application");
    let first = state(v, &b.sealed[0]);
    match (op, done) {
        (Op::StoreReceipt, true) => assert_eq!(first, Some(OutboxState::Acknowledged), "{case}"),
        (Op::StoreReceipt, false) => assert!(first.is_some(), "{case}"),
        _ => assert_eq!(first, Some(OutboxState::Sealed), "{case}"),
    }
    // The second, at the hub: its receipt kept; its file there until erased.
    let second = state(v, &b.sealed[1]);
    match (op, done) {
        (Op::Erase, true) => assert_eq!(second, Some(OutboxState::Erased), "{case}"),
        (Op::Erase, false) if second == Some(OutboxState::Erased) => {}
        // Its file removed, the fault came before the index said so: the receipt is kept, and
        // the erase repeats harmlessly.
        (Op::Erase, false) => {
            assert_eq!(second, Some(OutboxState::Acknowledged), "{case}");
            match v.envelope_bytes(&b.sealed[1]) {
                Ok(bytes) => assert_eq!(bytes, b.envelopes[1], "{case}: the second application"),
                Err(VaultError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => panic!("{case}: the second application: {e}"),
            }
        }
        _ => {
            assert_eq!(second, Some(OutboxState::Acknowledged), "{case}");
            let bytes =
                v.envelope_bytes(&b.sealed[1]).unwrap_or_else(|e| panic!("{case}: the second application: {e}"));
            assert_eq!(bytes, b.envelopes[1], "{case}: the second application");
        }
    }
    // The visit to seal: its draft, or its sealed application and no draft.
    let draft = v.load_draft(TO_SEAL.0, TO_SEAL.1).unwrap();
    let sealed_now = sealed_for(v);
    match (op, done) {
        (Op::Seal, true) => {
            assert_eq!(sealed_now.len(), 1, "{case}: sealed once");
            assert!(draft.is_none(), "{case}: its draft erased");
        }
        (Op::Seal, false) => {
            assert!(sealed_now.len() <= 1, "{case}: sealed twice");
            assert_eq!(draft.is_some(), sealed_now.is_empty(), "{case}: the draft or the application, one of the two");
        }
        _ => assert_eq!((draft.as_deref().map(|d| &d[..]), sealed_now.len()), (Some(TO_SEAL.2), 0), "{case}"),
    }
    // The new draft part: there whole once saved; before, there whole or not at all.
    let photo = v.load_draft(NEW_PHOTO.0, NEW_PHOTO.1).unwrap();
    match (op, done) {
        (Op::SaveDraft, true) => assert_eq!(photo.as_deref().map(|d| &d[..]), Some(NEW_PHOTO.2), "{case}"),
        (Op::SaveDraft, false) => {
            assert!(photo.as_deref().is_none_or(|d| &d[..] == NEW_PHOTO.2), "{case}: a draft part half written")
        }
        _ => assert!(photo.is_none(), "{case}"),
    }
    if done {
        assert_eq!(v.verify().unwrap().problems, Vec::<String>::new(), "{case}: the vault verifies");
        // One file for each application still on the unit: no second copy, nothing stray.
        let files = std::fs::read_dir(dir.join("envelopes"))
            .unwrap()
            .map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.ends_with(".slot"))
            .collect::<Vec<_>>();
        let kept = v.outbox().unwrap().into_iter().filter(|e| e.state != OutboxState::Erased).count();
        assert_eq!(files.len(), kept, "{case}: {files:?}");
    }
}

#[test]
fn a_fault_at_any_storage_call_is_reported_and_loses_nothing() {
    let faults = Faults::hold();
    let mut cases = 0;
    for op in [Op::SaveDraft, Op::Seal, Op::StoreReceipt, Op::Erase] {
        // How many calls of each kind the operation makes, with nothing failing.
        let d = tmp();
        let b = before(d.path());
        let mut v = unlock(d.path());
        faults.reset();
        run(op, &mut v, &b, 0).unwrap();
        let calls: Vec<(Point, u32)> = Point::ALL.iter().map(|&p| (p, hits(p))).filter(|&(_, n)| n > 0).collect();
        assert!(calls.iter().any(|&(p, _)| p == Point::Write || p == Point::Append), "{op:?} writes: {calls:?}");
        drop(v);
        for &(point, n) in &calls {
            for nth in 0..n {
                for fault in Fault::ALL {
                    let writes = matches!(point, Point::Write | Point::Append);
                    if fault == Fault::Short && !writes {
                        continue;
                    }
                    for reopen in [true, false] {
                        let case = format!(
                            "{op:?}, {point:?} call {} of {n} fails: {fault:?}; retried {}",
                            nth + 1,
                            if reopen { "after the vault opens again" } else { "at once" }
                        );
                        one(&faults, op, (point, nth, fault), reopen, &case);
                        cases += 1;
                    }
                }
            }
        }
    }
    println!("{cases} storage faults injected");
    assert!(cases >= 20, "{cases} cases");
}

/// One fault: `op` fails at call `nth` of `point` with `fault`; then it is retried, after the
/// vault opens again (`reopen`: a stop, a crash, a restart) or at once in the same session (as
/// the officer taps again), and the vault opened after that holds everything.
fn one(faults: &Faults, op: Op, (point, nth, fault): (Point, u32, Fault), reopen: bool, case: &str) {
    let open = |d: &Path| {
        Vault::unlock(d, OFFICER, PIN, NOW, VaultConfig { reserve_bytes: 0 })
            .unwrap_or_else(|e| panic!("{case}: the vault does not open again: {e}"))
    };
    let d = tmp();
    let b = before(d.path());
    let mut v = unlock(d.path());
    faults.arm(point, nth, fault);
    let err = run(op, &mut v, &b, 0).map(|_| ()).expect_err(case);
    assert!(!faults.still_armed(), "{case}: the fault was not reached");
    let io = match &err {
        VaultError::Io(e) => e.raw_os_error(),
        _ => None,
    };
    assert_eq!(io, fault.error().raw_os_error(), "{case}: reported as {err}");
    faults.reset();
    if reopen {
        drop(v);
        v = open(d.path());
        holds(&v, d.path(), op, &b, false, case);
    }
    // Retried, it is done. (A seal whose file was made durable before the fault is a seal: the
    // unit finds the visit's application and seals nothing again.)
    // What is left of its draft (a removal the fault stopped) is erased, as the unit does.
    let sealed_before = op == Op::Seal && !sealed_for(&v).is_empty();
    if sealed_before {
        v.erase_draft(TO_SEAL.0).unwrap_or_else(|e| panic!("{case}: its draft erased: {e}"));
    } else {
        run(op, &mut v, &b, 1).unwrap_or_else(|e| panic!("{case}: retried: {e}"));
    }
    holds(&v, d.path(), op, &b, true, case);
    drop(v);
    let v = open(d.path());
    holds(&v, d.path(), op, &b, true, case);
    let r = v.recovery();
    assert_eq!((r.audit_damaged.as_ref(), r.damaged_files.len()), (None, 0), "{case}: nothing kept aside: {r:?}");
}
