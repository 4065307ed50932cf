//! Power cuts (SECURITY.md R3): a shift's storage work (drafts saved and saved again, seals,
//! the words typed in the feedback box, a feedback sealed, a draft erased, a hub receipt
//! stored and the envelope erased) is cut before each of its storage calls in turn, and the
//! vault is opened on what the disk would hold after it (`doorstep_vault::powercut`): only
//! what was fsynced, and the same with each file's unsynced writes torn and a garbage tail,
//! the index gone. Each time the vault opens and verifies, and everything the vault had
//! acknowledged is there as acknowledged; what was under way is there whole, as before it or
//! as after it, never half.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;
use doorstep_core::feedback::FeedbackInput;
use doorstep_core::policy::{FeedbackKind, Policy};
use doorstep_envelope::SealedEnvelope;
use doorstep_vault::powercut::PowerCut;
use doorstep_vault::{OutboxState, Vault, VaultError};

/// What the vault had said was done, before the cut, and what was under way.
#[derive(Default, Debug, Clone)]
struct Acked {
    /// Drafts: visit to its bytes (the last save acknowledged), or `None` once erased.
    drafts: BTreeMap<String, Option<Vec<u8>>>,
    /// A save under way when the power went: (visit, bytes).
    draft_under_way: Option<(String, Vec<u8>)>,
    /// A draft whose erasing was under way.
    erase_under_way: Option<String>,
    /// Sealed applications: id to digest; and their state as last acknowledged.
    sealed: BTreeMap<String, (String, OutboxState)>,
    /// The visit whose seal was under way (its draft may be gone, its envelope there).
    seal_under_way: Option<String>,
    feedback: Vec<String>,
    /// The feedback box's words kept: the last acknowledged (`None`: dropped or never), and
    /// one under way.
    in_hand: Option<Vec<u8>>,
    in_hand_under_way: Option<Option<Vec<u8>>>,
}

fn draft(n: u8, len: usize) -> Vec<u8> {
    let mut b = format!("测试 draft {n} ").into_bytes();
    b.resize(len, b'a' + n);
    b
}

fn complaint() -> FeedbackInput {
    FeedbackInput {
        kind: FeedbackKind::CouldNotGetDone,
        category: "materials".into(),
        text: "测试：等候时告知不清楚".into(),
        contact: None,
        visit: None,
    }
}

/// A shift's storage work, in order; stops at the first error (the power cut).
fn shift(v: &mut Vault, acked: &mut Acked) -> Result<(), VaultError> {
    let save = |v: &mut Vault, acked: &mut Acked, visit: &str, bytes: Vec<u8>| {
        acked.draft_under_way = Some((visit.to_string(), bytes.clone()));
        v.save_draft(visit, "form", &bytes)?;
        acked.draft_under_way = None;
        acked.drafts.insert(visit.to_string(), Some(bytes));
        Ok::<(), VaultError>(())
    };
    let seal = |v: &mut Vault, acked: &mut Acked, visit: &str, n: u64| {
        acked.seal_under_way = Some(visit.to_string());
        let r = record(n, 3000);
        let e = v.seal(visit, &r, &review(&r), NOW)?;
        acked.seal_under_way = None;
        acked.drafts.insert(visit.to_string(), None);
        acked.sealed.insert(e.application_id.clone(), (e.digest.clone(), OutboxState::Sealed));
        Ok::<String, VaultError>(e.application_id)
    };
    let keep = |v: &mut Vault, acked: &mut Acked, words: Option<&[u8]>| {
        acked.in_hand_under_way = Some(words.map(<[u8]>::to_vec));
        match words {
            Some(w) => v.keep_feedback_in_hand(w)?,
            None => v.drop_feedback_in_hand()?,
        }
        acked.in_hand_under_way = None;
        acked.in_hand = words.map(<[u8]>::to_vec);
        Ok::<(), VaultError>(())
    };
    save(v, acked, "v1", draft(1, 300))?;
    save(v, acked, "v2", draft(2, 900))?;
    save(v, acked, "v1", draft(3, 1200))?;
    let first = seal(v, acked, "v1", 1)?;
    keep(v, acked, Some("测试：窗口说材料不全".as_bytes()))?;
    let policy = Policy::builtin().unwrap().feedback;
    let f = v.seal_feedback_input(complaint(), &policy, time::OffsetDateTime::from_unix_timestamp(NOW).unwrap())?;
    acked.feedback.push(f.id);
    keep(v, acked, Some("测试：窗口说材料不全，来回跑了三趟".as_bytes()))?;
    acked.erase_under_way = Some("v2".into());
    v.erase_draft("v2")?;
    acked.erase_under_way = None;
    acked.drafts.insert("v2".into(), None);
    save(v, acked, "v3", draft(4, 500))?;
    seal(v, acked, "v3", 3)?;
    let digest = acked.sealed[&first].0.clone();
    v.acknowledge(&first, &hub_receipt(&first, &digest), None, NOW)?;
    acked.sealed.insert(first.clone(), (digest.clone(), OutboxState::Acknowledged));
    v.erase(&first, NOW)?;
    acked.sealed.insert(first, (digest, OutboxState::Erased));
    keep(v, acked, None)?;
    Ok(())
}

/// How far along its way an application is.
fn rank(s: OutboxState) -> u8 {
    match s {
        OutboxState::Sealed => 0,
        OutboxState::Uploading => 1,
        OutboxState::Acknowledged => 2,
        OutboxState::Erased => 3,
    }
}

/// Opens the vault the cut left in `dir` and checks it against what was acknowledged; then
/// opens it again, which must find nothing more to mend.
fn check(dir: &Path, acked: &Acked, what: &str) {
    let open = || {
        Vault::unlock(dir, OFFICER, PIN, NOW, doorstep_vault::VaultConfig { reserve_bytes: 0 })
            .unwrap_or_else(|e| panic!("{what}: the vault does not open: {e}"))
    };
    let v = open();
    let report = v.verify().unwrap_or_else(|e| panic!("{what}: verify: {e}"));
    // Garbage after the audit log's last record is cut and its bytes kept aside, which verify
    // names: on the torn disk only.
    let tail = |p: &String| p.starts_with("bytes after the audit log's last whole record");
    assert!(report.problems.iter().all(|p| what.ends_with("torn") && tail(p)), "{what}: {:?}", report.problems);
    check_open(&v, acked, what);
    drop(v);
    let v = open();
    assert_eq!(
        (v.recovery().reindexed, v.recovery().erases_finished, v.recovery().damaged_files.len()),
        (0, 0, 0),
        "{what}: mended again at the second opening: {:?}",
        v.recovery()
    );
    assert_eq!(v.recovery().audit_torn_tail, 0, "{what}: the second opening");
    check_open(&v, acked, &format!("{what}, opened again"));
}

fn check_open(v: &Vault, acked: &Acked, what: &str) {
    let outbox: BTreeMap<String, _> = v.outbox().unwrap().into_iter().map(|e| (e.application_id.clone(), e)).collect();
    for (id, (digest, state)) in &acked.sealed {
        let e = outbox.get(id).unwrap_or_else(|| panic!("{what}: sealed {id} lost"));
        assert_eq!(&e.digest, digest, "{what}: {id}");
        // The state acknowledged, or the next one under way.
        assert!(rank(e.state) >= rank(*state), "{what}: {id} went back from {state:?} to {:?}", e.state);
        if e.state != OutboxState::Erased {
            let env = SealedEnvelope::from_bytes(&v.envelope_bytes(id).unwrap()).unwrap();
            env.verify_self_signed().unwrap_or_else(|e| panic!("{what}: {id}: {e}"));
        }
    }
    // An application sealed whose seal was not acknowledged: whole, or not there.
    for (id, e) in &outbox {
        if !acked.sealed.contains_key(id) {
            assert_eq!(Some(&e.visit_id), acked.seal_under_way.as_ref(), "{what}: {id} came from nowhere");
            let env = SealedEnvelope::from_bytes(&v.envelope_bytes(id).unwrap()).unwrap();
            env.verify_self_signed().unwrap_or_else(|e| panic!("{what}: {id}: {e}"));
        }
    }

    let sealed_visits: Vec<String> = outbox.values().map(|e| e.visit_id.clone()).collect();
    for (visit, bytes) in &acked.drafts {
        let now = v.load_draft(visit, "form").unwrap_or_else(|e| panic!("{what}: draft {visit}: {e}"));
        let under_way = acked.draft_under_way.as_ref().filter(|(v, _)| v == visit).map(|(_, b)| b);
        match (bytes, now) {
            (Some(want), Some(got)) => assert!(
                got.as_slice() == want.as_slice() || under_way.is_some_and(|b| b == got.as_slice()),
                "{what}: draft {visit} changed"
            ),
            // Sealed (its seal under way): the draft became the envelope; or erased.
            (Some(_), None) => assert!(
                (acked.seal_under_way.as_deref() == Some(visit.as_str()) && sealed_visits.contains(visit))
                    || acked.erase_under_way.as_deref() == Some(visit.as_str()),
                "{what}: draft {visit} lost"
            ),
            (None, Some(_)) => panic!("{what}: draft {visit} came back after it was erased or sealed"),
            (None, None) => {}
        }
    }

    let feedback: Vec<String> = v.feedback().unwrap().into_iter().map(|f| f.id).collect();
    for id in &acked.feedback {
        assert!(feedback.contains(id), "{what}: feedback {id} lost");
    }
    let in_hand = v.feedback_in_hand().unwrap_or_else(|e| panic!("{what}: the words in hand: {e}"));
    let got = in_hand.as_ref().map(|b| b.to_vec());
    let len = |w: &Option<Vec<u8>>| w.as_ref().map(Vec::len);
    assert!(
        got == acked.in_hand || acked.in_hand_under_way.as_ref() == Some(&got),
        "{what}: the words in hand are {:?} bytes, not {:?}",
        len(&got),
        len(&acked.in_hand)
    );
}

#[test]
fn every_power_cut_in_a_shift_leaves_what_was_acknowledged() {
    // The shift's storage calls (the unlock's recovery among them), counted with a cut that
    // never comes.
    let d = tmp();
    init(d.path());
    let out = tmp();
    let total = {
        let cut = PowerCut::arm(d.path(), out.path(), u32::MAX, 1).unwrap();
        let mut v = unlock(d.path());
        shift(&mut v, &mut Acked::default()).expect("the shift without a cut");
        assert!(!cut.happened());
        cut.calls()
    };
    assert!(total > 40, "only {total} storage calls counted");

    let mut torn_files = 0;
    for at in 0..total {
        let d = tmp();
        init(d.path());
        let out = tmp();
        let mut acked = Acked::default();
        {
            let cut = PowerCut::arm(d.path(), out.path(), at, u64::from(at) + 7).unwrap();
            let r = Vault::unlock(d.path(), OFFICER, PIN, NOW, doorstep_vault::VaultConfig { reserve_bytes: 0 })
                .and_then(|mut v| shift(&mut v, &mut acked));
            assert!(cut.happened(), "cut {at} of {total} did not come");
            assert!(r.is_err(), "cut {at}: the shift went on after the power went");
        }
        let read = |variant: &str| std::fs::read(out.path().join(variant).join("audit.log")).ok();
        torn_files += usize::from(read("torn") != read("durable"));
        for variant in ["durable", "ahead", "torn"] {
            check(&out.path().join(variant), &acked, &format!("cut before call {at} of {total}, {variant}"));
        }
    }
    assert!(torn_files > 0, "no cut tore the audit log");
    println!(
        "power cut: {total} cuts, each on the durable disk, with the index ahead, and torn ({torn_files} with a torn audit log)"
    );
}

/// The index lost after uploads (the torn disk above; or quarantined as damaged): an
/// application the hub took and the unit erased is known only by the hub's receipt, and comes
/// back from it, as erased with its digest, so that the shift still counts it. One the
/// supervisor decided stays decided; one not yet decided is marked with its summary lost, so
/// that the supervisor still finds it to decide.
#[test]
fn erased_applications_come_back_from_their_receipts_when_the_index_is_lost() {
    let d = tmp();
    init(d.path());
    seal_some(d.path(), 3);
    let mut v = unlock(d.path());
    let before = v.outbox().unwrap();
    assert_eq!(before.len(), 3);
    for e in &before[..2] {
        v.acknowledge(&e.application_id, &hub_receipt(&e.application_id, &e.digest), None, NOW).unwrap();
        v.erase(&e.application_id, NOW).unwrap();
    }
    let (decided, undecided, kept) =
        (before[0].application_id.clone(), before[1].application_id.clone(), before[2].application_id.clone());
    v.add_user(
        "supervisor-test",
        doorstep_vault::Role::Supervisor,
        "654321",
        doorstep_vault::KdfParams::INSECURE_TEST,
        NOW,
    )
    .unwrap();
    assert!(v.review(&undecided).unwrap().is_some(), "the summary kept at the erase");
    drop(v);
    let mut s =
        Vault::unlock(d.path(), "supervisor-test", "654321", NOW, doorstep_vault::VaultConfig { reserve_bytes: 0 })
            .unwrap();
    s.batch_decided(std::slice::from_ref(&decided), NOW).unwrap();
    drop(s);

    std::fs::remove_dir_all(d.path().join("index")).unwrap();
    let v = unlock(d.path());
    let after: BTreeMap<String, _> = v.outbox().unwrap().into_iter().map(|e| (e.application_id.clone(), e)).collect();
    assert_eq!(after.len(), 3, "{:?}", after.keys());
    for e in &before[..2] {
        let got = &after[&e.application_id];
        assert_eq!((got.state, &got.digest), (OutboxState::Erased, &e.digest));
        assert_eq!(got.device_counter, e.device_counter, "from the audit log's seal record");
    }
    assert_eq!(after[&kept].state, OutboxState::Sealed, "its file is there");
    assert!(v.review(&decided).unwrap().is_none(), "decided stays decided");
    assert!(v.review(&undecided).is_err(), "undecided: its summary went with the index, and it says so");
    let report = v.verify().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    drop(v);
    // Once: the next opening finds them indexed.
    let v = unlock(d.path());
    assert_eq!(v.recovery().reindexed, 0);
    assert_eq!(v.outbox().unwrap().len(), 3);
}
